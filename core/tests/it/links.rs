//! Share links: a scenario comes back from a link exactly and runs the same; links saved in
//! tests/links/ keep opening; no fragment, however hostile, panics or allocates past the
//! bounds, and each failure is the error that says what went wrong.

use crate::{golden_scenarios, peak_allocated_bytes};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;
use stormglass_core::limits::{LINK_CHARS_MAX, LINK_CONTENTS_BYTES_MAX, LINK_VIEW_BYTES_MAX, SCENARIO_BYTES_MAX};
use stormglass_core::presets::PRESETS;
use stormglass_core::scenario::{parse_scenario, parse_scenario_format, FORMAT_VERSION};
use stormglass_core::share_link::{decode_link, encode_link, encode_link_text, DecodedLink, LinkError, LinkPart};
use stormglass_core::Simulation;

const LINKS_DIRECTORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/links");

fn digest_of(scenario: &Value) -> String {
    let model = parse_scenario(&scenario.to_string()).unwrap_or_else(|errors| panic!("invalid scenario: {errors}"));
    let mut simulation = Simulation::new(&model);
    simulation.run_to_end();
    simulation.digest_hex()
}

fn preset(name: &str) -> Value {
    serde_json::from_str(stormglass_core::presets::find(name).expect("preset exists").json).unwrap()
}

/// The scenario as the format types read it, written out again: equal for equal scenarios,
/// whatever the key order or spacing of the text.
fn reserialized(scenario: &Value) -> String {
    let typed = parse_scenario_format(&scenario.to_string()).unwrap_or_else(|errors| panic!("{errors}"));
    serde_json::to_string(&typed).unwrap()
}

/// Encodes and decodes, checking everything a round trip promises.
fn round_trip(scenario: &Value, view: Option<&Value>) -> DecodedLink {
    let link = encode_link(scenario, view).unwrap_or_else(|error| panic!("cannot encode: {error}"));
    assert!(link.starts_with("v1.") && link.len() <= LINK_CHARS_MAX);
    let decoded = decode_link(&link).unwrap_or_else(|error| panic!("cannot decode: {error}"));
    assert_eq!(&decoded.scenario, scenario);
    assert_eq!(decoded.view.as_ref(), view);
    assert_eq!(decoded.scenario_version_in_link, FORMAT_VERSION);
    // As the page and the CLI see it: '#', whitespace, a whole address, JSON text.
    assert_eq!(decode_link(&format!("  #{link}\n")).as_ref(), Ok(&decoded));
    assert_eq!(decode_link(&format!("https://stormglass.example/play#{link}")).as_ref(), Ok(&decoded));
    let view_text = view.map(Value::to_string);
    assert_eq!(encode_link_text(&scenario.to_string(), view_text.as_deref()).as_ref(), Ok(&link));
    // Stable: the decoded scenario makes the same link again.
    assert_eq!(encode_link(&decoded.scenario, decoded.view.as_ref()).as_ref(), Ok(&link));
    decoded
}

/// A v1 link around arbitrary contents, made without encode_link (so without its checks):
/// how a damaged or hostile link looks. Uses its own base64url encoder.
fn pack(contents: &[u8]) -> String {
    format!("v1.{}", base64url(&miniz_oxide::deflate::compress_to_vec_zlib(contents, 6)))
}

/// Base64url without padding, written bit by bit (unlike the module's three-byte groups), so
/// the two check each other.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (mut bits, mut bit_count, mut out) = (0u32, 0u32, String::new());
    for &byte in bytes {
        bits = ((bits << 8) | u32::from(byte)) & 0xFFFF;
        bit_count += 8;
        while bit_count >= 6 {
            bit_count -= 6;
            out.push(char::from(ALPHABET[((bits >> bit_count) & 63) as usize]));
        }
    }
    if bit_count > 0 {
        out.push(char::from(ALPHABET[((bits << (6 - bit_count)) & 63) as usize]));
    }
    out
}

fn decode_error(fragment: &str) -> LinkError {
    let error = decode_link(fragment).expect_err("a bad link");
    assert!(error.to_string().len() > 30, "a message a user can act on: {error}");
    error
}

#[test]
fn links_are_the_independent_encoding_of_the_compressed_payload() {
    let scenario = preset("retry-storm");
    let view = json!({ "cursor_s": 120, "selected": ["api"] });
    let payload = json!({ "scenario": scenario, "view": view }).to_string();
    let expected = format!("v1.{}", base64url(&miniz_oxide::deflate::compress_to_vec_zlib(payload.as_bytes(), 9)));
    assert_eq!(encode_link(&scenario, Some(&view)), Ok(expected));
}

#[test]
fn every_preset_and_golden_scenario_comes_back_and_runs_to_the_same_digest() {
    for (name, text) in golden_scenarios() {
        let scenario: Value = serde_json::from_str(&text).unwrap();
        let decoded = round_trip(&scenario, None);
        assert_eq!(reserialized(&decoded.scenario), reserialized(&scenario), "{name}");
        assert_eq!(digest_of(&decoded.scenario), digest_of(&scenario), "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_scenarios_come_back_and_run_to_the_same_digest(
        scenario in crate::properties::scenario(),
        cursor_s in 0.0f64..300.0,
        charts in proptest::sample::subsequence(vec!["goodput", "attempts", "latency", "queue_depth"], 0..4),
    ) {
        let view = json!({ "cursor_s": cursor_s, "selected": ["s0", "c0"], "focus": "s0", "charts": charts });
        let decoded = round_trip(&scenario, Some(&view));
        prop_assert_eq!(reserialized(&decoded.scenario), reserialized(&scenario));
        prop_assert_eq!(digest_of(&decoded.scenario), digest_of(&scenario));
    }
}

/// Link length of every preset. Compression must be on: with it off, a link is 4/3 of the
/// JSON; with it on, well under the JSON.
#[test]
fn links_are_short() {
    for preset in PRESETS {
        let scenario: Value = serde_json::from_str(preset.json).unwrap();
        let json_bytes = scenario.to_string().len();
        let link = encode_link(&scenario, None).unwrap();
        eprintln!("{:<22} link {:>5} chars   compact JSON {:>5} bytes", preset.name, link.len(), json_bytes);
        assert!(link.len() < json_bytes, "{}: link {} chars, JSON {json_bytes} bytes", preset.name, link.len());
    }
    let storm = encode_link(&preset("retry-storm"), None).unwrap();
    assert!(storm.len() < 1_000, "the retry-storm link is {} characters", storm.len());
}

/// The largest scenario and view allowed, of text that hardly compresses, still make a link
/// that opens: the bounds at both ends agree.
#[test]
fn the_largest_link_allowed_opens() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut noise = |length: usize| -> String {
        (0..length)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Printable ASCII that JSON writes as is (no quote, no backslash).
                char::from(b'#' + (state % 57) as u8)
            })
            .collect()
    };
    let mut scenario = json!({ "version": 1, "name": "" });
    let room = SCENARIO_BYTES_MAX - scenario.to_string().len();
    scenario["name"] = json!(noise(room));
    assert_eq!(scenario.to_string().len(), SCENARIO_BYTES_MAX);
    let view = json!({ "note": noise(LINK_VIEW_BYTES_MAX - 11) });
    assert_eq!(view.to_string().len(), LINK_VIEW_BYTES_MAX);
    let link = encode_link(&scenario, Some(&view)).unwrap();
    eprintln!(
        "largest link: {} chars ({:.2} of the {LINK_CHARS_MAX} allowed)",
        link.len(),
        link.len() as f64 / LINK_CHARS_MAX as f64
    );
    let decoded = decode_link(&link).unwrap();
    assert_eq!(decoded.scenario, scenario);
    assert_eq!(decoded.view, Some(view.clone()));
    // One byte more of either is refused when making the link.
    scenario["name"] = json!(format!("{}x", scenario["name"].as_str().unwrap()));
    let too_large = encode_link(&scenario, Some(&view));
    assert_eq!(too_large, Err(LinkError::TooLarge { part: LinkPart::Scenario, max_bytes: SCENARIO_BYTES_MAX }));
    let view = json!({ "note": noise(LINK_VIEW_BYTES_MAX - 10) });
    let too_large = encode_link(&preset("retry-storm"), Some(&view));
    assert_eq!(too_large, Err(LinkError::TooLarge { part: LinkPart::View, max_bytes: LINK_VIEW_BYTES_MAX }));
}

// Saved links (tests/links/). They guard the format: a link made today must open, to the
// same scenario, in every later build. Never edit or delete one; add new ones.

fn manifest_path() -> String {
    format!("{LINKS_DIRECTORY}/manifest.json")
}

fn read_manifest() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(manifest_path()).expect("tests/links/manifest.json");
    serde_json::from_str(&text).expect("manifest JSON")
}

fn saved_links() -> Vec<(String, String)> {
    let mut links: Vec<(String, String)> = std::fs::read_dir(LINKS_DIRECTORY)
        .expect("tests/links exists")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_name()?.to_str()?.to_string();
            name.ends_with(".txt").then(|| (name, std::fs::read_to_string(&path).expect("readable")))
        })
        .collect();
    links.sort();
    links
}

/// Each saved link opens, with the scenario version and view the manifest records, and runs
/// to the manifest's digest. Digests follow the model: after an intended model change,
/// `UPDATE_GOLDEN=1` rewrites them (and only them), as for tests/golden/digests.json.
#[test]
fn saved_links_still_open_and_run_to_their_digests() {
    let mut manifest = read_manifest();
    let links = saved_links();
    let names: Vec<&String> = links.iter().map(|(name, _)| name).collect();
    assert_eq!(names, manifest.keys().collect::<Vec<_>>(), "every saved link has a manifest entry, and no more");
    assert!(links.len() >= 3);
    for (name, fragment) in &links {
        let entry = manifest.get_mut(name).unwrap();
        let decoded = decode_link(fragment).unwrap_or_else(|error| panic!("{name} no longer opens: {error}"));
        assert_eq!(u64::from(decoded.scenario_version_in_link), entry["scenario_version"].as_u64().unwrap(), "{name}");
        let expected_view = Some(&entry["view"]).filter(|view| !view.is_null());
        assert_eq!(decoded.view.as_ref(), expected_view, "{name}");
        let digest = digest_of(&decoded.scenario);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            entry["digest"] = json!(digest);
        } else {
            assert_eq!(
                digest,
                entry["digest"].as_str().unwrap(),
                "{name} runs differently. If the model change is intended, run UPDATE_GOLDEN=1 cargo test -p stormglass-core --test it links"
            );
        }
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&manifest).unwrap() + "\n";
        std::fs::write(manifest_path(), text).expect("write the manifest");
    }
}

/// Encoding is a pure function of scenario and view, the same on every platform and in every
/// build: the saved links are made again byte for byte. If a deliberate change of the
/// encoder (a miniz_oxide upgrade, another level) breaks this, old links still open (the test
/// above); add links made by the new encoder rather than editing these.
#[test]
fn saved_links_are_made_again_byte_for_byte() {
    for (name, fragment) in saved_links() {
        let decoded = decode_link(&fragment).unwrap();
        let again = encode_link(&decoded.scenario, decoded.view.as_ref()).unwrap();
        assert_eq!(format!("#{again}\n"), fragment, "{name}");
    }
}

// Hostile and damaged links.

#[test]
fn empty_and_wrongly_prefixed_links_say_so() {
    for empty in ["", "#", "  #  \n", "\t", "https://stormglass.example/play#"] {
        assert_eq!(decode_error(empty), LinkError::Empty, "{empty:?}");
    }
    for not_a_link in
        ["abc", "V1.abc", "1.abc", "v.abc", "vone.abc", "v1abc", "#hello world", "https://stormglass.example/"]
    {
        assert_eq!(decode_error(not_a_link), LinkError::NoVersion, "{not_a_link:?}");
    }
    let newer = decode_error("#v9.abc");
    assert_eq!(newer, LinkError::UnsupportedVersion { version: "v9".into() });
    assert!(newer.to_string().contains("made by a newer Stormglass"), "{newer}");
    assert_eq!(decode_error("v0.abc"), LinkError::UnsupportedVersion { version: "v0".into() });
    assert_eq!(decode_error("v01.abc"), LinkError::UnsupportedVersion { version: "v01".into() });
}

#[test]
fn a_character_outside_base64url_is_named_with_its_position() {
    let link = encode_link(&preset("retry-storm"), None).unwrap();
    let mut bad = link.clone();
    bad.insert_str(20, "%20");
    let error = decode_error(&format!("#{bad}"));
    assert_eq!(error, LinkError::NotBase64 { offset_chars: 20, character: '%' });
    assert!(error.to_string().contains("'%' at character 21"), "{error}");
    // Standard base64's '+' and '/', padding, a space or a letter from outside ASCII.
    for (bad, offset, character) in
        [("v1.ab+c", 5, '+'), ("v1.ab/c", 5, '/'), ("v1.abc=", 6, '='), ("v1.a c", 4, ' '), ("v1.aé", 4, 'é')]
    {
        assert_eq!(decode_error(bad), LinkError::NotBase64 { offset_chars: offset, character }, "{bad}");
    }
}

/// A link cut anywhere, as a chat program or a careless copy does, reads as cut short.
#[test]
fn a_truncated_link_says_it_was_cut() {
    let link = encode_link(&preset("retry-storm"), None).unwrap();
    assert_eq!(decode_error(&link[..link.len() / 2]), LinkError::Truncated);
    assert_eq!(decode_error("v1."), LinkError::Truncated);
    // Every cut but the last few characters (which may hold only the final block's padding).
    for length in 3..link.len() - 2 {
        assert_eq!(decode_error(&link[..length]), LinkError::Truncated, "cut at {length}");
    }
}

/// The checksum catches changed characters: every one-bit change of a real link is an error
/// (or, in the bits past the last whole byte, the same link), never another scenario.
#[test]
fn a_changed_character_is_an_error_never_another_scenario() {
    let link = encode_link(&preset("retry-storm"), None).unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let original = decode_link(&link).unwrap();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for position in 3..link.len() {
        for bit in 0..6 {
            let mut chars: Vec<char> = link.chars().collect();
            chars[position] = alphabet.as_bytes()[alphabet.find(chars[position]).unwrap() ^ (1 << bit)] as char;
            let changed: String = chars.into_iter().collect();
            let outcome = match decode_link(&changed) {
                Ok(decoded) => {
                    assert_eq!(decoded, original, "a change at character {position} opened another scenario");
                    "opens: same scenario".to_string()
                }
                Err(error) => format!("error: {}", error.code()),
            };
            *tally.entry(outcome).or_default() += 1;
        }
    }
    eprintln!("one-bit changes of the retry-storm link ({} chars): {tally:#?}", link.len());
    assert!(tally.keys().any(|outcome| outcome == "error: corrupt"), "{tally:?}");
}

/// 50 MB of spaces deflate to about 50 kB; inflating stops at the bound, and the whole
/// decode holds little more than the bound in memory.
#[test]
fn a_zip_bomb_stops_at_the_size_bound_without_allocating_past_it() {
    let spaces = vec![b' '; 50_000_000];
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&spaces, 6);
    drop(spaces);
    let bomb = format!("v1.{}", base64url(&compressed));
    let started = Instant::now();
    let (result, peak_bytes) = peak_allocated_bytes(|| decode_link(&bomb));
    let elapsed = started.elapsed();
    assert_eq!(result, Err(LinkError::TooLarge { part: LinkPart::Contents, max_bytes: LINK_CONTENTS_BYTES_MAX }));
    eprintln!(
        "zip bomb: {} chars, refused in {:.1} ms holding at most {peak_bytes} bytes",
        bomb.len(),
        elapsed.as_secs_f64() * 1e3
    );
    // The inflate buffer (the bound), the compressed bytes, and the inflater's own state.
    let allowance_bytes = LINK_CONTENTS_BYTES_MAX + compressed.len() + (64 << 10);
    assert!(peak_bytes <= allowance_bytes, "held {peak_bytes} bytes, allowed {allowance_bytes}");
}

#[test]
fn a_huge_fragment_is_refused_before_decoding() {
    let huge = format!("v1.{}", "A".repeat(LINK_CHARS_MAX));
    let (result, peak_bytes) = peak_allocated_bytes(|| decode_link(&huge));
    assert_eq!(result, Err(LinkError::TooLong { length_chars: LINK_CHARS_MAX + 3, max_chars: LINK_CHARS_MAX }));
    assert!(peak_bytes < 4096, "refused without decoding: held {peak_bytes} bytes");
    // Counted in characters: two-byte characters under the bound get as far as base64.
    let wide = format!("v1.{}", "é".repeat(LINK_CHARS_MAX / 2 + 1));
    assert_eq!(decode_error(&wide), LinkError::NotBase64 { offset_chars: 3, character: 'é' });
}

#[test]
fn contents_that_are_not_a_payload_say_what_was_expected() {
    let not_payload = |contents: &str| match decode_error(&pack(contents.as_bytes())) {
        LinkError::NotPayload { message } => message,
        other => panic!("{contents}: expected NotPayload, got {other:?}"),
    };
    assert!(not_payload("[1, 2]").contains("an array"));
    assert!(not_payload("{}").contains("\"scenario\" is missing"));
    assert!(not_payload(r#"{"scenario": [1]}"#).contains("\"scenario\" is an array"));
    assert!(not_payload(r#"{"scenario": {"version": 1}, "view": 3}"#).contains("\"view\" is a number"));
    assert!(not_payload(r#"{"scenario": {"version": 1}, "compare": {}}"#).contains("unexpected \"compare\""));
    let long_key = format!(r#"{{"scenario": {{"version": 1}}, "{}": 1}}"#, "k".repeat(100_000));
    assert!(not_payload(&long_key).len() < 200, "a message, not a copy of the link");

    assert!(matches!(decode_error(&pack(b"{not json")), LinkError::NotJson { part: LinkPart::Contents, .. }));
    assert!(matches!(decode_error(&pack(b"\xff\xfe{}")), LinkError::NotJson { part: LinkPart::Contents, .. }));
    assert!(matches!(decode_error(&pack(&[b' '; 1000])), LinkError::NotJson { part: LinkPart::Contents, .. }));

    let big_scenario = format!(r#"{{"scenario": {{"version": 1, "name": "{}"}}}}"#, "a".repeat(SCENARIO_BYTES_MAX));
    assert_eq!(
        decode_error(&pack(big_scenario.as_bytes())),
        LinkError::TooLarge { part: LinkPart::Scenario, max_bytes: SCENARIO_BYTES_MAX }
    );
    let big_view =
        format!(r#"{{"scenario": {{"version": 1}}, "view": {{"a": "{}"}}}}"#, "a".repeat(LINK_VIEW_BYTES_MAX));
    assert_eq!(
        decode_error(&pack(big_view.as_bytes())),
        LinkError::TooLarge { part: LinkPart::View, max_bytes: LINK_VIEW_BYTES_MAX }
    );
}

#[test]
fn the_scenario_version_is_checked_and_migrated() {
    let with_version =
        |version: Value| pack(json!({ "scenario": { "version": version, "nodes": [] } }).to_string().as_bytes());
    let decoded = decode_link(&with_version(json!(1))).unwrap();
    assert_eq!((decoded.scenario_version_in_link, decoded.scenario["version"].clone()), (1, json!(1)));
    let newer = decode_error(&with_version(json!(FORMAT_VERSION + 1)));
    assert_eq!(newer, LinkError::ScenarioVersion { found: Some(u64::from(FORMAT_VERSION) + 1) });
    assert!(newer.to_string().contains("newer Stormglass"), "{newer}");
    assert_eq!(decode_error(&with_version(json!(0))), LinkError::ScenarioVersion { found: Some(0) });
    assert_eq!(decode_error(&with_version(json!("1"))), LinkError::ScenarioVersion { found: None });
    assert_eq!(decode_error(&with_version(json!(1.5))), LinkError::ScenarioVersion { found: None });
    assert_eq!(decode_error(&pack(br#"{"scenario": {}}"#)), LinkError::ScenarioVersion { found: None });
}

/// encode_link refuses what decode_link would refuse, so every link it makes opens.
#[test]
fn encoding_refuses_what_decoding_would() {
    assert!(matches!(encode_link(&json!([]), None), Err(LinkError::NotPayload { .. })));
    assert!(matches!(encode_link(&json!({ "version": 1 }), Some(&json!([1]))), Err(LinkError::NotPayload { .. })));
    assert_eq!(encode_link(&json!({ "nodes": [] }), None), Err(LinkError::ScenarioVersion { found: None }));
    assert_eq!(encode_link(&json!({ "version": 2 }), None), Err(LinkError::ScenarioVersion { found: Some(2) }));
    assert!(matches!(encode_link_text("{", None), Err(LinkError::NotJson { part: LinkPart::Scenario, .. })));
    assert!(matches!(
        encode_link_text(r#"{"version": 1}"#, Some("nope")),
        Err(LinkError::NotJson { part: LinkPart::View, .. })
    ));
    // A scenario that does not validate can still be shared (it is being edited): it opens
    // as it was, and the page shows its errors.
    let unfinished = json!({ "version": 1, "nodes": [{ "kind": "service", "id": "api" }] });
    assert!(parse_scenario(&unfinished.to_string()).is_err());
    round_trip(&unfinished, None);
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{0,8}|version|scenario|view", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// No input panics: any text, any bytes behind a good prefix, anything deflated, any JSON.
    #[test]
    fn decoding_never_panics(
        text in any::<String>(),
        link_characters in "[A-Za-z0-9_-]{0,600}",
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        scenario in json_value(),
        view in json_value(),
    ) {
        let _ = decode_link(&text);
        let _ = decode_link(&format!("v1.{text}"));
        let _ = decode_link(&format!("v1.{link_characters}"));
        let _ = decode_link(&format!("v1.{}", base64url(&bytes)));
        let _ = decode_link(&pack(&bytes));
        let _ = decode_link(&pack(scenario.to_string().as_bytes()));
        let payload = json!({ "scenario": scenario, "view": view });
        let _ = decode_link(&pack(payload.to_string().as_bytes()));
        // Whatever encode_link accepts, decode_link gives back.
        if let Ok(link) = encode_link(&payload["scenario"], Some(&payload["view"])) {
            let decoded = decode_link(&link);
            prop_assert_eq!(decoded.map(|d| (d.scenario, d.view)), Ok((payload["scenario"].clone(), Some(payload["view"].clone()))));
        }
    }
}

/// Encode and decode time of the largest preset, and of the largest scenario allowed: figures,
/// not a check. `cargo test -p stormglass-core --test it link_timing -- --ignored --nocapture`
#[test]
#[ignore = "a measurement, not a check"]
fn link_timing() {
    let median_us = |mut samples: Vec<f64>| {
        samples.sort_by(f64::total_cmp);
        samples[samples.len() / 2]
    };
    let measure = |name: &str, scenario: &Value| {
        let (mut encode_us, mut decode_us) = (Vec::new(), Vec::new());
        let mut link = String::new();
        for _ in 0..41 {
            let started = Instant::now();
            link = encode_link(scenario, None).unwrap();
            encode_us.push(started.elapsed().as_secs_f64() * 1e6);
            let started = Instant::now();
            let decoded = decode_link(&link).unwrap();
            decode_us.push(started.elapsed().as_secs_f64() * 1e6);
            assert_eq!(&decoded.scenario, scenario);
        }
        eprintln!(
            "{name}: {} bytes of JSON, link {} chars; median encode {:.0} us, decode {:.0} us (41 runs)",
            scenario.to_string().len(),
            link.len(),
            median_us(encode_us),
            median_us(decode_us)
        );
    };
    let largest = PRESETS.iter().max_by_key(|preset| preset.json.len()).unwrap();
    measure(&format!("preset {}", largest.name), &serde_json::from_str(largest.json).unwrap());
    // A scenario near the 1 MiB limit: the preset's nodes repeated under new ids.
    let mut big = preset(largest.name);
    let nodes = big["nodes"].as_array().unwrap().clone();
    let copy_count = (SCENARIO_BYTES_MAX - 20_000) / json!(nodes).to_string().len();
    let mut copies = Vec::new();
    for copy in 0..copy_count {
        for node in &nodes {
            let mut node = node.clone();
            node["id"] = json!(format!("{}-{copy}", node["id"].as_str().unwrap()));
            copies.push(node);
        }
    }
    big["nodes"] = json!(copies);
    measure("a scenario near the size limit", &big);
}
