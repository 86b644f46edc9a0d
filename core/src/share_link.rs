//! Share links: a whole scenario, and what the page was showing, in a URL fragment.
//!
//! ```text
//!   #v1.<base64url>          no server: everything is in the fragment
//!    │   └─ base64url, no padding (RFC 4648 §5)
//!    │       └─ zlib (RFC 1950: DEFLATE, level 9, with an Adler-32 checksum)
//!    │           └─ {"scenario":{...},"view":{...}}   compact JSON; "view" optional
//!    └─ link format version
//! ```
//!
//! [`encode_link`] and [`decode_link`] are the two ends; the page and the CLI both use them, so a
//! link made by one opens in the other.
//!
//! # Two versions
//!
//! The *link format* version (`v1.`) says how the fragment is packed: the steps above and the
//! shape of the payload object. It changes only if packing changes, and a build refuses link
//! formats it does not know ([`LinkError::UnsupportedVersion`] says when the link is newer).
//!
//! The *scenario format* version (the scenario's own `"version"` field,
//! [`FORMAT_VERSION`]) says what the scenario means. A link keeps the scenario exactly as it
//! was written, so an old link carries an old scenario; [`decode_link`] brings it up to date
//! with [`migrate`], one step per version, so a link shared today still opens next year.
//!
//! # Adding scenario format version N + 1
//!
//! 1. Before changing anything, save a link made by the current build under `tests/links/`
//!    (a fixture, with its run digest in the manifest): it proves that old links still open.
//! 2. Write `fn vN_to_vN1(scenario: Value) -> Result<Value, LinkError>` that rewrites a
//!    version-N scenario as version N + 1 (its `"version"` field included), and append it to
//!    [`MIGRATIONS`]. A compile-time check ties the length of that list to [`FORMAT_VERSION`].
//!
//! # Determinism
//!
//! A link is a pure function of its scenario and view: byte-identical on every platform.
//! serde_json is built without `preserve_order`, so objects are `BTreeMap`s and keys come out
//! sorted (the link does not keep the key order of the text a scenario was written in; the
//! values are kept exactly, and floats parse correctly rounded thanks to `float_roundtrip`).
//! miniz_oxide is pinned and used at a fixed level; nothing is hashed. The payload object is
//! written by hand, in the order serde_json would sort it, to save a copy of the scenario.
//!
//! # Bounds
//!
//! Decoding never trusts the fragment: its length is checked before anything is decoded
//! ([`LINK_CHARS_MAX`]), inflating writes into one buffer of [`LINK_CONTENTS_BYTES_MAX`] and
//! stops when it is full (so a "zip bomb" allocates no more than that), and the scenario and view are held to
//! [`SCENARIO_BYTES_MAX`] and [`LINK_VIEW_BYTES_MAX`] at both ends. Every failure is a
//! [`LinkError`]; no input panics.

use crate::limits::{LINK_CHARS_MAX, LINK_CONTENTS_BYTES_MAX, LINK_VIEW_BYTES_MAX, SCENARIO_BYTES_MAX};
use crate::prelude::*;
use crate::scenario::{json_type, FORMAT_VERSION};
use core::fmt;
use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;
use serde_json::Value;

/// The link format this build writes and reads.
pub const LINK_VERSION: u32 = 1;

/// DEFLATE level: 9 is miniz's best ordinary compression. Changing it changes every link made
/// from now on (old links still open), so it is fixed here.
const COMPRESSION_LEVEL: u8 = 9;

/// A decoded share link.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedLink {
    /// The scenario, migrated to [`FORMAT_VERSION`]; otherwise exactly as it was shared.
    pub scenario: Value,
    /// The view state the link was shared with (an object), if any. Opaque to the core.
    pub view: Option<Value>,
    /// The scenario format version the link carried, before migration.
    pub scenario_version_in_link: u32,
}

/// Which part of a link an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPart {
    /// The whole inflated contents: `{"scenario": ..., "view": ...}`.
    Contents,
    /// The scenario.
    Scenario,
    /// The view state.
    View,
}

impl LinkPart {
    fn noun(self) -> &'static str {
        match self {
            LinkPart::Contents => "the link's contents",
            LinkPart::Scenario => "the scenario",
            LinkPart::View => "the view state",
        }
    }
}

/// Why a link cannot be made or opened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// There is nothing after the `#`.
    Empty,
    /// The fragment is longer than any link this build makes.
    TooLong { length_chars: usize, max_chars: usize },
    /// The fragment does not start with a link format version like `v1.`.
    NoVersion,
    /// A link format version this build does not read: newer, or one that never existed.
    UnsupportedVersion { version: String },
    /// A character that base64url does not use (only letters, digits, `-` and `_`).
    NotBase64 {
        /// Characters before it, counted from the start of the fragment (after any `#`).
        offset_chars: usize,
        character: char,
    },
    /// The data ends too early: the link was cut short when it was copied.
    Truncated,
    /// The compressed data is damaged: a character was changed, or it is not a Stormglass link.
    Corrupt,
    /// A part is over its size bound (for the contents: inflating stopped at the bound).
    TooLarge { part: LinkPart, max_bytes: usize },
    /// A part is not valid JSON (or, for the contents, not UTF-8 text).
    NotJson { part: LinkPart, message: String },
    /// JSON, but not the shape of a share link's payload.
    NotPayload { message: String },
    /// The scenario's own format version is missing, or not one this build can migrate from.
    ScenarioVersion { found: Option<u64> },
}

impl LinkError {
    /// A stable snake_case name for the variant, for programs (the page's error objects).
    pub fn code(&self) -> &'static str {
        match self {
            LinkError::Empty => "empty",
            LinkError::TooLong { .. } => "too_long",
            LinkError::NoVersion => "no_version",
            LinkError::UnsupportedVersion { .. } => "unsupported_version",
            LinkError::NotBase64 { .. } => "not_base64",
            LinkError::Truncated => "truncated",
            LinkError::Corrupt => "corrupt",
            LinkError::TooLarge { .. } => "too_large",
            LinkError::NotJson { .. } => "not_json",
            LinkError::NotPayload { .. } => "not_payload",
            LinkError::ScenarioVersion { .. } => "scenario_version",
        }
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Empty => {
                write!(f, "the link is empty: expected a scenario after the '#', like #v{LINK_VERSION}.…")
            }
            LinkError::TooLong { length_chars, max_chars } => write!(
                f,
                "the link is {length_chars} characters long, more than any Stormglass link ({max_chars} at most)"
            ),
            LinkError::NoVersion => {
                write!(f, "this is not a Stormglass link: expected it to start with \"v{LINK_VERSION}.\" after the '#'")
            }
            LinkError::UnsupportedVersion { version } => {
                let number = version.strip_prefix('v').and_then(|digits| digits.parse::<u64>().ok());
                match number {
                    Some(number) if number > u64::from(LINK_VERSION) => write!(
                        f,
                        "this link was made by a newer Stormglass (link format {version}); this version opens \
                         v{LINK_VERSION} links: open it on the current site"
                    ),
                    _ => write!(
                        f,
                        "unknown link format \"{version}\": expected a link starting with \"v{LINK_VERSION}.\""
                    ),
                }
            }
            LinkError::NotBase64 { offset_chars, character } => write!(
                f,
                "the link has {character:?} at character {}, which a link cannot contain: after \
                 \"v{LINK_VERSION}.\" it holds only letters, digits, '-' and '_' (was it edited, or cut by an email \
                 program?)",
                offset_chars + 1
            ),
            LinkError::Truncated => {
                f.write_str("the link is cut short: its data ends too early. Copy the whole link and try again")
            }
            LinkError::Corrupt => f.write_str(
                "the link is damaged: its compressed data is not valid, so a character was probably changed. \
                 Copy the link again from where it was shared",
            ),
            LinkError::TooLarge { part: LinkPart::Contents, max_bytes } => {
                write!(f, "the link unpacks to more than {max_bytes} bytes, more than a scenario and its view may hold")
            }
            LinkError::TooLarge { part, max_bytes } => {
                write!(f, "{} is too large for a link: expected at most {max_bytes} bytes of JSON", part.noun())
            }
            LinkError::NotJson { part: LinkPart::Contents, message } => write!(
                f,
                "the link's contents are not valid JSON ({message}): the link is damaged or was not made by Stormglass"
            ),
            LinkError::NotJson { part, message } => write!(f, "{} is not valid JSON: {message}", part.noun()),
            LinkError::NotPayload { message } => write!(
                f,
                "the link does not hold a Stormglass scenario: {message}; expected {{\"scenario\": {{...}}, \
                 \"view\": {{...}}}} with the view optional"
            ),
            LinkError::ScenarioVersion { found: None } => write!(
                f,
                "the scenario in the link has no format version: expected \"version\": {FORMAT_VERSION} (a whole \
                 number)"
            ),
            LinkError::ScenarioVersion { found: Some(version) } if *version > u64::from(FORMAT_VERSION) => write!(
                f,
                "the scenario in the link uses format version {version}, made by a newer Stormglass; this version \
                 reads format versions 1 to {FORMAT_VERSION}"
            ),
            LinkError::ScenarioVersion { found: Some(version) } => write!(
                f,
                "the scenario in the link has format version {version}, which does not exist: expected 1 to \
                 {FORMAT_VERSION}"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for LinkError {}

/// Makes the fragment of a share link (without the `#`): `v1.` and the packed payload.
///
/// `scenario` must be a JSON object whose `"version"` is a scenario format version this build
/// reads; nothing else about it is checked (a scenario being edited can be shared, and opens
/// with the same errors). `view` must be an object if given. Fails with
/// [`LinkError::TooLarge`] when either is over its bound as compact JSON.
pub fn encode_link(scenario: &Value, view: Option<&Value>) -> Result<String, LinkError> {
    if !scenario.is_object() {
        return Err(not_payload(format!("the scenario must be a JSON object, got {}", json_type(scenario))));
    }
    scenario_version(scenario)?;
    let scenario_text = compact(scenario, LinkPart::Scenario, SCENARIO_BYTES_MAX)?;
    let view_text = match view {
        None => None,
        Some(view) if view.is_object() => Some(compact(view, LinkPart::View, LINK_VIEW_BYTES_MAX)?),
        Some(other) => {
            return Err(not_payload(format!("the view must be a JSON object, got {}", json_type(other))));
        }
    };
    // Written by hand in the order serde_json would sort the keys ("scenario" < "view"), so
    // the scenario is not copied into a new object first.
    let mut payload = String::with_capacity(scenario_text.len() + view_text.as_ref().map_or(0, String::len) + 24);
    payload.push_str("{\"scenario\":");
    payload.push_str(&scenario_text);
    if let Some(view_text) = &view_text {
        payload.push_str(",\"view\":");
        payload.push_str(view_text);
    }
    payload.push('}');
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(payload.as_bytes(), COMPRESSION_LEVEL);
    let mut fragment = format!("v{LINK_VERSION}.");
    base64url_encode_into(&compressed, &mut fragment);
    // Cannot happen with the bounds above (see limits::LINK_CHARS_MAX); checked so that every
    // link this function makes is one decode_link accepts.
    if fragment.len() > LINK_CHARS_MAX {
        return Err(LinkError::TooLong { length_chars: fragment.len(), max_chars: LINK_CHARS_MAX });
    }
    Ok(fragment)
}

/// [`encode_link`] for JSON text, as an editor holds it.
pub fn encode_link_text(scenario_json: &str, view_json: Option<&str>) -> Result<String, LinkError> {
    let scenario = parse_part(scenario_json, LinkPart::Scenario, SCENARIO_BYTES_MAX)?;
    let view = view_json.map(|text| parse_part(text, LinkPart::View, LINK_VIEW_BYTES_MAX)).transpose()?;
    encode_link(&scenario, view.as_ref())
}

/// Opens a share link: the fragment with or without its `#`, or a whole address (what follows
/// its first `#` is taken), surrounding whitespace ignored. The scenario comes back migrated
/// to [`FORMAT_VERSION`].
pub fn decode_link(fragment: &str) -> Result<DecodedLink, LinkError> {
    let text = fragment.trim();
    let text = match text.split_once('#') {
        Some((_, after)) => after.trim(),
        None => text,
    };
    if text.is_empty() {
        return Err(LinkError::Empty);
    }
    if text.len() > LINK_CHARS_MAX {
        // Bytes first (cheap); counted in characters only for the message and for text that
        // is not ASCII (which fails as base64 anyway if it is short enough to get there).
        let length_chars = text.chars().count();
        if length_chars > LINK_CHARS_MAX {
            return Err(LinkError::TooLong { length_chars, max_chars: LINK_CHARS_MAX });
        }
    }
    let (version, body) = split_version(text)?;
    if version != LINK_VERSION {
        return Err(LinkError::UnsupportedVersion { version: format!("v{version}") });
    }
    let prefix_chars = text.len() - body.len();
    let compressed = base64url_decode(body).map_err(|Base64Error { offset, character }| LinkError::NotBase64 {
        offset_chars: prefix_chars + offset,
        character,
    })?;
    let contents = inflate_bounded(&compressed, LINK_CONTENTS_BYTES_MAX).map_err(|status| match status {
        TINFLStatus::HasMoreOutput => {
            LinkError::TooLarge { part: LinkPart::Contents, max_bytes: LINK_CONTENTS_BYTES_MAX }
        }
        TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => LinkError::Truncated,
        _ => LinkError::Corrupt,
    })?;
    drop(compressed);
    let contents = core::str::from_utf8(&contents).map_err(|error| LinkError::NotJson {
        part: LinkPart::Contents,
        message: format!("not UTF-8 text at byte {}", error.valid_up_to()),
    })?;
    let payload: Value = serde_json::from_str(contents)
        .map_err(|error| LinkError::NotJson { part: LinkPart::Contents, message: error.to_string() })?;
    let (scenario, view) = split_payload(payload)?;
    let version = scenario_version(&scenario)?;
    let scenario = migrate(scenario, version)?;
    Ok(DecodedLink { scenario, view, scenario_version_in_link: version })
}

/// Inflates a zlib stream into one buffer of exactly `max_bytes`, allocated up front: whatever
/// a link claims, decoding holds no more than that for its output, and never copies it to
/// grow. (miniz_oxide's `decompress_to_vec_with_limit` grows its `Vec` by amortised
/// doubling, which can reserve nearly twice the limit.) Bytes after the end of the stream are
/// ignored: the stream says where it ends.
fn inflate_bounded(input: &[u8], max_bytes: usize) -> Result<Vec<u8>, TINFLStatus> {
    let mut out = vec![0u8; max_bytes];
    let mut decompressor = Box::<DecompressorOxide>::default();
    // No TINFL_FLAG_HAS_MORE_INPUT: running out of input is an error, not a pause. The zlib
    // wrapper's Adler-32 checksum turns a changed character into an error instead of a
    // different scenario that happens to inflate.
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF
        | inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_COMPUTE_ADLER32;
    let (status, _, written) = decompress(&mut decompressor, input, &mut out, 0, flags);
    match status {
        TINFLStatus::Done => {
            out.truncate(written);
            Ok(out)
        }
        failure => Err(failure),
    }
}

/// One migration step: a scenario in format version N rewritten as version N + 1, its
/// `"version"` field included.
pub type MigrationStep = fn(Value) -> Result<Value, LinkError>;

/// `MIGRATIONS[i]` brings format version `i + 1` to `i + 2`. Format version 1 is the only one
/// so far, so the list is empty and migration is the identity.
pub const MIGRATIONS: &[MigrationStep] = &[];

// Raising FORMAT_VERSION without a migration step (or the reverse) does not compile.
const _: () = assert!(MIGRATIONS.len() + 1 == FORMAT_VERSION as usize);

/// Brings a scenario written in format version `from_version` up to [`FORMAT_VERSION`] by
/// applying every step from that version on. Versions newer than this build, and 0, are errors
/// that name the version.
pub fn migrate(scenario: Value, from_version: u32) -> Result<Value, LinkError> {
    if from_version == 0 || from_version > FORMAT_VERSION {
        return Err(LinkError::ScenarioVersion { found: Some(u64::from(from_version)) });
    }
    let first_step = (from_version - 1) as usize;
    MIGRATIONS.get(first_step..).unwrap_or_default().iter().try_fold(scenario, |scenario, step| step(scenario))
}

/// The scenario's `"version"`, if it is one [`migrate`] accepts.
fn scenario_version(scenario: &Value) -> Result<u32, LinkError> {
    let found = scenario.get("version").and_then(Value::as_u64);
    match found {
        Some(version) if (1..=u64::from(FORMAT_VERSION)).contains(&version) => {
            u32::try_from(version).map_err(|_| LinkError::ScenarioVersion { found })
        }
        _ => Err(LinkError::ScenarioVersion { found }),
    }
}

/// `vN.` at the start of the fragment: the version number and what follows the dot.
fn split_version(text: &str) -> Result<(u32, &str), LinkError> {
    let (head, body) = text.split_once('.').ok_or(LinkError::NoVersion)?;
    let digits = head.strip_prefix('v').ok_or(LinkError::NoVersion)?;
    // Nine digits at most: a version number, not a long run of text that happens to be digits.
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(LinkError::NoVersion);
    }
    let version: u32 = digits.parse().map_err(|_| LinkError::NoVersion)?;
    if format!("v{version}") != head {
        // Leading zeros ("v01") are not a spelling this or any build writes.
        return Err(LinkError::UnsupportedVersion { version: head.to_string() });
    }
    Ok((version, body))
}

/// The scenario and view of a payload object; anything else in it is an error, so a later
/// link format cannot be half-read by an older build.
fn split_payload(payload: Value) -> Result<(Value, Option<Value>), LinkError> {
    let Value::Object(mut object) = payload else {
        return Err(not_payload(format!("it holds {}", json_type(&payload))));
    };
    let scenario = object.remove("scenario").ok_or_else(|| not_payload("\"scenario\" is missing".to_string()))?;
    if !scenario.is_object() {
        return Err(not_payload(format!("\"scenario\" is {}, not an object", json_type(&scenario))));
    }
    let view = object.remove("view");
    if let Some(view) = &view {
        if !view.is_object() {
            return Err(not_payload(format!("\"view\" is {}, not an object", json_type(view))));
        }
    }
    if let Some(key) = object.keys().next() {
        // A crafted key can be a megabyte long; a message needs its start only.
        let shown: String = key.chars().take(40).collect();
        let ellipsis = if shown.len() < key.len() { "…" } else { "" };
        return Err(not_payload(format!("unexpected \"{shown}{ellipsis}\" next to the scenario")));
    }
    // The same bounds encode_link holds them to.
    compact(&scenario, LinkPart::Scenario, SCENARIO_BYTES_MAX)?;
    if let Some(view) = &view {
        compact(view, LinkPart::View, LINK_VIEW_BYTES_MAX)?;
    }
    Ok((scenario, view))
}

fn compact(value: &Value, part: LinkPart, max_bytes: usize) -> Result<String, LinkError> {
    // Serialising a Value cannot fail (its keys are strings); an error would be a bug.
    let text = serde_json::to_string(value).map_err(|error| LinkError::NotJson { part, message: error.to_string() })?;
    if text.len() > max_bytes {
        return Err(LinkError::TooLarge { part, max_bytes });
    }
    Ok(text)
}

fn parse_part(text: &str, part: LinkPart, max_bytes: usize) -> Result<Value, LinkError> {
    if text.len() > max_bytes {
        return Err(LinkError::TooLarge { part, max_bytes });
    }
    serde_json::from_str(text).map_err(|error| LinkError::NotJson { part, message: error.to_string() })
}

fn not_payload(message: String) -> LinkError {
    LinkError::NotPayload { message }
}

// Base64url without padding (RFC 4648 §5). Written out rather than taken from a crate: it is
// short, and decoding reports the offending character's position in characters, which is
// what a user looking at a link can use.

const BASE64URL_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Appends the base64url form of `bytes` to `out`, without padding.
fn base64url_encode_into(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |index: usize| u32::from(chunk.get(index).copied().unwrap_or(0));
        let group = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        // n bytes give n + 1 characters: 8n bits in 6-bit digits, rounded up.
        for digit in 0..=chunk.len() {
            let sextet = (group >> (18 - 6 * digit)) & 0x3F;
            out.push(char::from(BASE64URL_ALPHABET[sextet as usize]));
        }
    }
}

/// A character base64url does not use; `offset` counts the characters before it.
#[derive(Debug, PartialEq, Eq)]
struct Base64Error {
    offset: usize,
    character: char,
}

fn sextet(byte: u8) -> Option<u32> {
    let value = match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    };
    Some(u32::from(value))
}

/// Decodes base64url without padding. Bits after the last whole byte are ignored, as most
/// decoders do: a link cut at any character then decodes to a prefix of its bytes, and
/// inflating tells the user it was cut short rather than damaged.
fn base64url_decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    for (chunk_index, chunk) in bytes.chunks(4).enumerate() {
        let mut group = 0u32;
        for (digit, &byte) in chunk.iter().enumerate() {
            let offset = chunk_index * 4 + digit;
            let Some(value) = sextet(byte) else {
                // Every byte before this one is ASCII, so `offset` is both a byte and a
                // character offset, and a character boundary.
                let character = text.get(offset..).and_then(|rest| rest.chars().next()).unwrap_or('\u{FFFD}');
                return Err(Base64Error { offset, character });
            };
            group |= value << (18 - 6 * digit);
        }
        // n + 1 characters hold n whole bytes (a lone character holds none).
        for index in 0..chunk.len().saturating_sub(1) {
            out.push((group >> (16 - 8 * index)) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        base64url_encode_into(bytes, &mut out);
        out
    }

    /// RFC 4648 §10 test vectors, without padding (the alphabets agree on these).
    #[test]
    fn base64url_matches_the_rfc_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(base64url_decode(encoded).unwrap(), plain.as_bytes());
        }
    }

    /// The two characters where base64url differs from base64: '-' for '+', '_' for '/'.
    #[test]
    fn base64url_uses_the_url_safe_characters() {
        assert_eq!(encode(&[0xFB, 0xFF, 0xBF]), "-_-_");
        assert_eq!(base64url_decode("-_-_").unwrap(), [0xFB, 0xFF, 0xBF]);
        assert_eq!(base64url_decode("+/+/"), Err(Base64Error { offset: 0, character: '+' }));
    }

    #[test]
    fn base64url_round_trips_every_length_and_byte() {
        for length in 0..300usize {
            let bytes: Vec<u8> = (0..length).map(|i| (i * 131 + length * 7) as u8).collect();
            let text = encode(&bytes);
            assert_eq!(text.len(), (length * 4).div_ceil(3));
            assert_eq!(base64url_decode(&text).unwrap(), bytes);
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64url_decode(&encode(&all)).unwrap(), all);
    }

    #[test]
    fn base64url_decoding_names_the_first_bad_character_and_ignores_partial_bytes() {
        assert_eq!(base64url_decode("Zm8="), Err(Base64Error { offset: 3, character: '=' }));
        assert_eq!(base64url_decode("Zm 8"), Err(Base64Error { offset: 2, character: ' ' }));
        assert_eq!(base64url_decode("Zmé8"), Err(Base64Error { offset: 2, character: 'é' }));
        assert_eq!(base64url_decode("Zm9v\n"), Err(Base64Error { offset: 4, character: '\n' }));
        // A cut link decodes to a prefix of its bytes.
        assert_eq!(base64url_decode("Zm9vY").unwrap(), b"foo");
        assert_eq!(base64url_decode("Zh").unwrap(), b"f");
        assert_eq!(base64url_decode("Z").unwrap(), b"");
    }

    #[test]
    fn migration_is_the_identity_for_the_current_version_and_names_others() {
        let scenario = json!({ "version": 1, "nodes": [] });
        assert_eq!(migrate(scenario.clone(), 1), Ok(scenario.clone()));
        assert_eq!(migrate(scenario.clone(), 0), Err(LinkError::ScenarioVersion { found: Some(0) }));
        let newer = migrate(scenario, FORMAT_VERSION + 1).unwrap_err();
        assert_eq!(newer, LinkError::ScenarioVersion { found: Some(u64::from(FORMAT_VERSION) + 1) });
        assert!(newer.to_string().contains("newer Stormglass"), "{newer}");
    }

    #[test]
    fn version_prefixes() {
        assert_eq!(split_version("v1.abc"), Ok((1, "abc")));
        assert_eq!(split_version("v12."), Ok((12, "")));
        assert_eq!(split_version("abc"), Err(LinkError::NoVersion));
        assert_eq!(split_version("v.abc"), Err(LinkError::NoVersion));
        assert_eq!(split_version("x1.abc"), Err(LinkError::NoVersion));
        assert_eq!(split_version("v1x.abc"), Err(LinkError::NoVersion));
        assert_eq!(split_version("v1234567890.abc"), Err(LinkError::NoVersion));
        assert_eq!(split_version("v01.abc"), Err(LinkError::UnsupportedVersion { version: "v01".into() }));
    }

    /// Keys come out sorted (serde_json without `preserve_order`), whatever order they were
    /// written in. If this fails, serde_json's `preserve_order` was turned on somewhere in the
    /// build: links then follow the key order of the text they were made from, so the same
    /// scenario written two ways gives two links. Decide that on purpose.
    #[test]
    fn keys_are_sorted_in_the_payload() {
        let scenario: Value = serde_json::from_str(r#"{"version": 1, "b": 1, "a": 2}"#).unwrap();
        let link = encode_link(&scenario, None).unwrap();
        let compressed = base64url_decode(link.strip_prefix("v1.").unwrap()).unwrap();
        let contents = miniz_oxide::inflate::decompress_to_vec_zlib(&compressed).unwrap();
        assert_eq!(core::str::from_utf8(&contents).unwrap(), r#"{"scenario":{"a":2,"b":1,"version":1}}"#);
    }

    #[test]
    fn every_error_has_a_code_and_a_message() {
        let errors = [
            LinkError::Empty,
            LinkError::TooLong { length_chars: 5, max_chars: 4 },
            LinkError::NoVersion,
            LinkError::UnsupportedVersion { version: "v9".into() },
            LinkError::UnsupportedVersion { version: "v0".into() },
            LinkError::NotBase64 { offset_chars: 3, character: '%' },
            LinkError::Truncated,
            LinkError::Corrupt,
            LinkError::TooLarge { part: LinkPart::Contents, max_bytes: 1 },
            LinkError::TooLarge { part: LinkPart::View, max_bytes: 1 },
            LinkError::NotJson { part: LinkPart::Contents, message: "x".into() },
            LinkError::NotJson { part: LinkPart::Scenario, message: "x".into() },
            LinkError::NotPayload { message: "x".into() },
            LinkError::ScenarioVersion { found: None },
            LinkError::ScenarioVersion { found: Some(0) },
            LinkError::ScenarioVersion { found: Some(9) },
        ];
        for error in errors {
            assert!(!error.code().is_empty());
            assert!(error.to_string().len() > 30, "{error}");
        }
        assert!(LinkError::UnsupportedVersion { version: "v9".into() }.to_string().contains("newer Stormglass"));
        assert!(LinkError::NotBase64 { offset_chars: 3, character: '%' }.to_string().contains("'%' at character 4"));
    }
}
