//! Tidy: the project's style rules, checked by reading its source files as text (in the spirit
//! of TigerBeetle's `src/tidy.zig` and rust-analyzer's tidy test). Each rule is a pure checker
//! from a file's path and text to its violations, unit-tested below on one snippet that breaks
//! the rule and one that keeps it; one test per rule then runs it over the repository and lists
//! every violation as `file:line: rule: what was found. Why. What to do.`
//!
//! The checks read text, not a syntax tree. Rules that match words look at lines that do not
//! start with `//` (block comments are not recognised: the project does not use them). Rules
//! that match braces look at `code_only`, the text with comments, strings and character
//! literals blanked. What each check cannot see is said on the check.

use std::fmt;
use std::path::{Path, PathBuf};

/// Files over the length cap today, being split by concept. This list may only shrink: the test
/// fails when a file not on it is over the cap, and also when a file on it is back under the cap
/// or gone, so that an entry is removed as soon as it no longer applies.
const OVER_LENGTH_CAP_FOR_NOW: &[&str] =
    &["core/src/sim/report.rs", "web/src/charts.rs", "web/src/graph.rs", "www/app.js"];

/// Policy and component files whose module doc lacks "Why it matters" or a source today. This
/// list may only shrink, and the test fails when an entry no longer applies.
const MODULE_DOC_INCOMPLETE_FOR_NOW: &[&str] = &["core/src/components/mod.rs"];

/// The length cap in lines, counted before a file's first `#[cfg(test)]`.
const LENGTH_CAP_LINES: usize = 800;
/// The page's entry module has a tighter cap: it wires the modules together and nothing more.
const APP_JS_LENGTH_CAP_LINES: usize = 500;

#[derive(Debug, PartialEq)]
struct Rule {
    name: &'static str,
    why: &'static str,
    fix: &'static str,
}

const HASH_OR_CLOCK: Rule = Rule {
    name: "determinism: no hash order, no clock",
    why: "Hash iteration order is seeded per process and wall-clock time differs per run, but a run \
          must be a pure function of (scenario, seed).",
    fix: "Use BTreeMap/BTreeSet, and SimTime/SimDuration for time.",
};

const LIBM: Rule = Rule {
    name: "determinism: libm for transcendental functions",
    why: "std's versions call the platform's math library, which is not correctly rounded and differs \
          by an ULP between native and wasm, so the builds' digests would part.",
    fix: "Call the libm crate instead (libm::log(x), libm::pow(x, y), libm::fma(a, b, c)).",
};

const NO_USIZE_SERIALISED: Rule = Rule {
    name: "determinism: no usize in serialised or hashed types",
    why: "usize is 32 bits in wasm and 64 natively, so a serialised or hashed value could differ \
          between the builds (or fail to load in one of them).",
    fix: "Use u32 or u64, whichever bounds the value, and convert where it is used as an index.",
};

const FILE_LENGTH: Rule = Rule {
    name: "style: file length",
    why: "One concept per file: a file this long holds several, and is hard to read and review.",
    fix: "Split it into modules by concept (tests in #[cfg(test)] do not count).",
};

const MODULE_DOC: Rule = Rule {
    name: "style: module doc with why and sources",
    why: "Each policy and component models published behaviour; the reader needs the failure it \
          shows and where its semantics come from.",
    fix: "Open the file with a //! doc that has a \"Why it matters\" paragraph and a \"Sources:\" line \
          (or a URL, or a citation with a year or an RFC number).",
};

const NO_PANIC: Rule = Rule {
    name: "robustness: no panics in the core",
    why: "A panic in wasm kills the page, and no input may make the core panic.",
    fix: "Return a typed error, or restructure so the case cannot arise; #[cfg(test)] code may unwrap.",
};

const STALE_ALLOWLIST: Rule = Rule {
    name: "tidy: stale allowlist entry",
    why: "An allowlist may only shrink; an entry that no longer applies would let the file break the \
          rule again unnoticed.",
    fix: "Remove the entry from the list.",
};

#[derive(Debug, PartialEq)]
struct Violation {
    path: String,
    line: usize,
    rule: &'static Rule,
    found: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Rule { name, why, fix } = self.rule;
        write!(formatter, "{}:{}: {name}: {}. {why} {fix}", self.path, self.line, self.found)
    }
}

fn violation(path: &str, line_index: usize, rule: &'static Rule, found: String) -> Violation {
    Violation { path: path.to_string(), line: line_index + 1, rule, found }
}

fn assert_clean(violations: Vec<Violation>) {
    if !violations.is_empty() {
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        panic!("{} violation(s) of the project's style rules:\n{}\n", violations.len(), list.join("\n"));
    }
}

// ---- Rule 1: no hash order, no wall-clock time, no OS randomness in core/src.

/// Flags `HashMap`/`HashSet` (also inside longer names such as `FxHashMap`), `RandomState`,
/// `Instant`, `SystemTime`, `thread_rng` and `std::time` on code lines. Cannot see a type
/// reached through an alias defined in another crate.
fn check_hash_and_clock(path: &str, text: &str) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (index, line) in code_lines(text) {
        let mut found: Vec<String> = identifiers(line)
            .into_iter()
            .filter(|(_, word)| {
                word.contains("HashMap")
                    || word.contains("HashSet")
                    || ["RandomState", "Instant", "SystemTime", "thread_rng"].contains(word)
            })
            .map(|(_, word)| word.to_string())
            .collect();
        if line.contains("std::time") {
            found.push("std::time".to_string());
        }
        for word in found {
            violations.push(violation(path, index, &HASH_OR_CLOCK, format!("uses `{word}`")));
        }
    }
    violations
}

// ---- Rule 2: transcendental functions from libm, not std.

/// The float functions std does not round correctly (sqrt is exact by IEEE 754, so allowed).
const NOT_CORRECTLY_ROUNDED: &[&str] = &[
    "ln", "log", "log2", "log10", "exp", "exp2", "exp_m1", "ln_1p", "powf", "powi", "sin", "cos", "tan", "asin",
    "acos", "atan", "atan2", "sinh", "cosh", "tanh", "cbrt", "hypot", "mul_add",
];

/// Flags `.name(` method calls and `f64::name(` / `f32::name(` calls on code lines. A method of
/// another type with one of these names (a logger's `.log(`) would be flagged too; the core has
/// none.
fn check_libm(path: &str, text: &str) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (index, line) in code_lines(text) {
        for name in NOT_CORRECTLY_ROUNDED {
            for call in [format!(".{name}("), format!("f64::{name}("), format!("f32::{name}(")] {
                if line.contains(&call) {
                    violations.push(violation(path, index, &LIBM, format!("calls `{call}`")));
                }
            }
        }
    }
    violations
}

// ---- Rule 3: no usize in a type that derives Serialize, Deserialize or Hash.

/// Flags each line of a struct or enum body that mentions `usize`, when one of the item's
/// attributes derives Serialize, Deserialize or Hash (directly or through `cfg_attr`). Limits:
/// it sees only the item's own text, so a usize reached through a type alias or a field type
/// defined elsewhere, a generic parameter instantiated with usize, or a hand-written
/// `impl Serialize`/`impl Hash` is not seen; a usize field marked `#[serde(skip)]` is flagged
/// although it is not serialised.
fn check_no_usize_serialised(path: &str, text: &str) -> Vec<Violation> {
    let code: Vec<char> = code_only(text).chars().collect();
    // (start, end, the trait derived); an item with two qualifying attributes is taken once.
    let mut items: Vec<(usize, usize, &str)> = Vec::new();
    for (start, end) in attributes(&code) {
        let attribute: String = code[start..=end].iter().collect();
        let words: Vec<&str> = identifiers(&attribute).into_iter().map(|(_, word)| word).collect();
        let Some(derived) = ["Serialize", "Deserialize", "Hash"].into_iter().find(|name| words.contains(name)) else {
            continue;
        };
        if !words.contains(&"derive") {
            continue;
        }
        let item = (end + 1, item_end(&code, end + 1));
        if !items.iter().any(|(_, end, _)| *end == item.1) {
            items.push((item.0, item.1, derived));
        }
    }
    let mut violations = Vec::new();
    for (start, end, derived) in items {
        let body: String = code[start..end.min(code.len())].iter().collect();
        let words = identifiers(&body);
        let name = words
            .windows(2)
            .find(|pair| ["struct", "enum", "union"].contains(&pair[0].1))
            .map_or("this type", |pair| pair[1].1);
        let first_line = line_of(&code, start);
        for (offset, line) in body.lines().enumerate() {
            if identifiers(line).iter().any(|(_, word)| *word == "usize") {
                let found = format!("`{name}` derives {derived} and holds a `usize`");
                violations.push(violation(path, first_line + offset, &NO_USIZE_SERIALISED, found));
            }
        }
    }
    violations
}

// ---- Rule 4: no source file over the cap, not counting its tests.

fn length_cap_lines(path: &str) -> usize {
    if path == "www/app.js" {
        APP_JS_LENGTH_CAP_LINES
    } else {
        LENGTH_CAP_LINES
    }
}

/// Counts the lines outside items marked `#[cfg(test)]` (all lines, for JavaScript): for a file
/// whose tests are its last module, the lines before its first `#[cfg(test)]`; a test-only
/// `#[cfg(test)] mod fixtures;` early in a file does not end the count. Flags the file at the
/// first line over its cap.
fn check_length(path: &str, text: &str) -> Vec<Violation> {
    let cap = length_cap_lines(path);
    let in_tests = if path.ends_with(".rs") { test_lines(text) } else { Vec::new() };
    let counted: Vec<usize> =
        (0..text.lines().count()).filter(|&index| !in_tests.get(index).copied().unwrap_or(false)).collect();
    match counted.get(cap) {
        Some(&first_over) => {
            let found = format!("{} lines not counting tests, over the cap of {cap}", counted.len());
            vec![violation(path, first_over, &FILE_LENGTH, found)]
        }
        None => Vec::new(),
    }
}

// ---- Rule 5: policies and components open with why it matters and their sources.

/// Reads the `//!` lines the file opens with. A source is a doc line starting with "Source" (or
/// "**Sources.**"), a URL, or a citation: a year from 1900 to 2099 standing as a word, or
/// "RFC" followed by a number.
fn check_module_doc(path: &str, text: &str) -> Vec<Violation> {
    let doc: Vec<&str> = text.lines().map_while(|line| line.trim_start().strip_prefix("//!")).collect();
    let missing = if doc.is_empty() {
        "no `//!` module doc at the top of the file"
    } else if !doc.iter().any(|line| line.to_lowercase().contains("why it matters")) {
        "the module doc has no \"Why it matters\" paragraph"
    } else if !doc.iter().any(|line| names_a_source(line)) {
        "the module doc names no source (a \"Sources:\" line, a URL, or a citation)"
    } else {
        return Vec::new();
    };
    vec![violation(path, 0, &MODULE_DOC, missing.to_string())]
}

fn names_a_source(doc_line: &str) -> bool {
    let words: Vec<&str> = identifiers(doc_line).into_iter().map(|(_, word)| word).collect();
    let is_year = |word: &str| word.len() == 4 && (word.starts_with("19") || word.starts_with("20")) && is_number(word);
    doc_line.trim_start_matches([' ', '*', '_', '#']).starts_with("Source")
        || doc_line.contains("http")
        || words.iter().any(|word| is_year(word))
        || words.windows(2).any(|pair| pair[0] == "RFC" && is_number(pair[1]))
}

fn is_number(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_digit())
}

// ---- Rule 6: no panics in the core outside its tests.

/// Flags `unwrap`/`expect` called as a method or a path (`.expect(`, `Option::unwrap`) and the
/// `panic!`, `unreachable!`, `todo!`, `unimplemented!` macros on code lines outside items marked
/// `#[cfg(test)]`. Stricter than counting `.unwrap()`, `.expect(` and `panic!(` up to a file's
/// first `#[cfg(test)]`: code after a test module is checked too, and so are path calls and the
/// other panicking macros. A match inside a string literal is flagged as well.
fn check_no_panic(path: &str, text: &str) -> Vec<Violation> {
    let in_tests = test_lines(text);
    let mut violations = Vec::new();
    for (index, line) in code_lines(text) {
        if in_tests.get(index).copied().unwrap_or(false) {
            continue;
        }
        for (start, word) in identifiers(line) {
            let before = &line[..start];
            let after = &line[start + word.len()..];
            let call = if ["unwrap", "expect"].contains(&word) && (before.ends_with('.') || before.ends_with("::")) {
                format!("calls `{word}`")
            } else if ["panic", "unreachable", "todo", "unimplemented"].contains(&word) && after.starts_with('!') {
                format!("uses `{word}!`")
            } else {
                continue;
            };
            violations.push(violation(path, index, &NO_PANIC, call));
        }
    }
    violations
}

/// For each line, whether it belongs to an item marked `#[cfg(test)]` (a test module, a test-only
/// function or import). `#[cfg(all(test, ...))]` and similar are not recognised.
fn test_lines(text: &str) -> Vec<bool> {
    let code: Vec<char> = code_only(text).chars().collect();
    let mut in_tests = vec![false; text.lines().count() + 1];
    for (start, end) in attributes(&code) {
        let attribute: String = code[start..=end].iter().filter(|c| !c.is_whitespace()).collect();
        if attribute == "#[cfg(test)]" {
            let last = line_of(&code, item_end(&code, end + 1).min(code.len().saturating_sub(1)));
            for flag in &mut in_tests[line_of(&code, start)..=last] {
                *flag = true;
            }
        }
    }
    in_tests
}

// ---- Reading Rust as text.

/// The lines (0-based index, text) that are not comment lines.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter(|(_, line)| !line.trim_start().starts_with("//"))
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The words (identifiers, numbers) of a text with their byte offsets.
fn identifiers(text: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    for (offset, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (start, is_identifier_char(c)) {
            (None, true) => start = Some(offset),
            (Some(from), false) => {
                words.push((from, &text[from..offset]));
                start = None;
            }
            _ => {}
        }
    }
    words
}

/// The text with comments, string literals and character literals replaced by spaces, one for
/// each character, line breaks kept: positions and line numbers stay those of the text, and the
/// braces left are the code's own.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut code = String::with_capacity(text.len());
    let mut index = 0;
    while index < chars.len() {
        let end = literal_or_comment_end(&chars, index);
        if end == index {
            code.push(chars[index]);
            index += 1;
        } else {
            code.extend(chars[index..end].iter().map(|&c| if c == '\n' { '\n' } else { ' ' }));
            index = end;
        }
    }
    code
}

/// Where the comment or literal that starts at `index` ends (exclusive), or `index` if none does.
fn literal_or_comment_end(chars: &[char], index: usize) -> usize {
    let at = |offset: usize| chars.get(index + offset).copied().unwrap_or('\0');
    let find_from = |from: usize, done: &dyn Fn(usize) -> bool| (from..chars.len()).find(|&i| done(i));
    let after_identifier = index > 0 && is_identifier_char(chars[index - 1]);
    match at(0) {
        '/' if at(1) == '/' => find_from(index, &|i| chars[i] == '\n').unwrap_or(chars.len()),
        '/' if at(1) == '*' => {
            let mut depth = 0;
            let mut i = index;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        return i;
                    }
                } else {
                    i += 1;
                }
            }
            chars.len()
        }
        '"' => {
            let mut i = index + 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            (i + 1).min(chars.len())
        }
        'r' if !after_identifier
            || (index >= 2 && chars[index - 1] == 'b' && !is_identifier_char(chars[index - 2])) =>
        {
            let hashes = (1..).take_while(|&offset| at(offset) == '#').count();
            if at(1 + hashes) != '"' {
                return index;
            }
            let closing: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            find_from(index + 2 + hashes, &|i| chars[i..].starts_with(&closing))
                .map_or(chars.len(), |i| i + closing.len())
        }
        '\'' if at(1) == '\\' => find_from(index + 3, &|i| chars[i] == '\'').map_or(chars.len(), |i| i + 1),
        '\'' if at(2) == '\'' => index + 3,
        _ => index, // a lifetime, or code
    }
}

/// The (start, end) positions of every outer attribute `#[...]`, end at its closing bracket.
fn attributes(code: &[char]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    for start in (0..code.len().saturating_sub(1)).filter(|&i| code[i] == '#' && code[i + 1] == '[') {
        let mut depth = 0usize;
        let end = (start + 1..code.len()).find(|&i| {
            match code[i] {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => return false,
            }
            depth == 0
        });
        found.push((start, end.unwrap_or(code.len() - 1)));
    }
    found
}

/// Where the item starting at `from` (its attributes included) ends: at the `;` outside any
/// brackets, or at the `}` that closes its body.
fn item_end(code: &[char], from: usize) -> usize {
    let mut depth = 0usize;
    for (index, &c) in code.iter().enumerate().skip(from) {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return index;
                }
            }
            ';' if depth == 0 => return index,
            _ => {}
        }
    }
    code.len()
}

fn line_of(code: &[char], position: usize) -> usize {
    code[..position.min(code.len())].iter().filter(|&&c| c == '\n').count()
}

// ---- Allowlists.

/// Drops the violations of the files on `allowed` and adds one for each listed file that has none
/// (fixed, moved or removed), pointing at its entry in `tidy_text`, this file's text.
fn allow_for_now(violations: Vec<Violation>, list_name: &str, allowed: &[&str], tidy_text: &str) -> Vec<Violation> {
    let mut stale: Vec<Violation> = allowed
        .iter()
        .filter(|entry| !violations.iter().any(|v| v.path == **entry))
        .map(|entry| {
            let declaration = tidy_text.lines().position(|line| line.contains(&format!("const {list_name}")));
            let line = declaration
                .and_then(|from| {
                    tidy_text
                        .lines()
                        .skip(from)
                        .position(|line| line.contains(&format!("\"{entry}\"")))
                        .map(|i| from + i)
                })
                .or(declaration)
                .unwrap_or(0);
            let found = format!("{list_name} lists {entry}, which keeps the rule now (or no longer exists)");
            violation(TIDY_PATH, line, &STALE_ALLOWLIST, found)
        })
        .collect();
    let mut kept: Vec<Violation> = violations.into_iter().filter(|v| !allowed.contains(&v.path.as_str())).collect();
    kept.append(&mut stale);
    kept
}

// ---- The repository.

const TIDY_PATH: &str = "core/tests/it/tidy.rs";

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("core/ has a parent directory").to_path_buf()
}

fn read(relative: &str) -> String {
    let path = repository_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// The files under `directory` (relative to the repository root) whose names end in `.extension`,
/// recursively, sorted, as (path relative to the root with `/`, text).
fn source_files(directory: &str, extension: &str) -> Vec<(String, String)> {
    let mut pending = vec![directory.to_string()];
    let mut files = Vec::new();
    while let Some(relative) = pending.pop() {
        let path = repository_root().join(&relative);
        let entries = std::fs::read_dir(&path).unwrap_or_else(|error| panic!("listing {}: {error}", path.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|error| panic!("listing {}: {error}", path.display()));
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = format!("{relative}/{name}");
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                pending.push(child);
            } else if name.ends_with(&format!(".{extension}")) {
                files.push(child);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = read(&path);
            (path, text)
        })
        .collect()
}

/// A rule's checker: a file's path (relative to the repository root) and text to its violations.
type Checker = fn(&str, &str) -> Vec<Violation>;

fn check_all(files: &[(String, String)], check: Checker) -> Vec<Violation> {
    files.iter().flat_map(|(path, text)| check(path, text)).collect()
}

// ---- The rules, over the repository.

#[test]
fn core_has_no_hash_order_and_no_clock() {
    assert_clean(check_all(&source_files("core/src", "rs"), check_hash_and_clock));
}

#[test]
fn core_takes_transcendental_functions_from_libm() {
    assert_clean(check_all(&source_files("core/src", "rs"), check_libm));
}

#[test]
fn core_serialised_and_hashed_types_hold_no_usize() {
    assert_clean(check_all(&source_files("core/src", "rs"), check_no_usize_serialised));
}

#[test]
fn source_files_stay_under_the_length_cap() {
    let mut files = Vec::new();
    for directory in ["core/src", "web/src", "cli/src"] {
        files.extend(source_files(directory, "rs"));
    }
    // Only the page's own modules: www/pkg/ holds the generated wasm bindings.
    files.extend(source_files("www", "js").into_iter().filter(|(path, _)| !path["www/".len()..].contains('/')));
    let violations = check_all(&files, check_length);
    assert_clean(allow_for_now(violations, "OVER_LENGTH_CAP_FOR_NOW", OVER_LENGTH_CAP_FOR_NOW, &read(TIDY_PATH)));
}

#[test]
fn policies_and_components_say_why_they_matter_and_cite_sources() {
    let mut files = source_files("core/src/policy", "rs");
    files.extend(source_files("core/src/components", "rs"));
    let violations = check_all(&files, check_module_doc);
    assert_clean(allow_for_now(
        violations,
        "MODULE_DOC_INCOMPLETE_FOR_NOW",
        MODULE_DOC_INCOMPLETE_FOR_NOW,
        &read(TIDY_PATH),
    ));
}

#[test]
fn core_does_not_panic_outside_tests() {
    assert_clean(check_all(&source_files("core/src", "rs"), check_no_panic));
}

// ---- Each checker catches what it should, and only that.

fn lines_flagged(violations: Vec<Violation>) -> Vec<usize> {
    violations.into_iter().map(|v| v.line).collect()
}

/// Asserts that `check` flags exactly `lines` (1-based) of `breaking` and nothing of `keeping`.
fn assert_catches(check: Checker, breaking: &str, lines: &[usize], keeping: &str) {
    assert_eq!(lines_flagged(check("a.rs", breaking)), lines, "in:\n{breaking}");
    let wrongly_flagged: Vec<String> = check("a.rs", keeping).iter().map(ToString::to_string).collect();
    assert!(wrongly_flagged.is_empty(), "{wrongly_flagged:#?} in:\n{keeping}");
}

#[test]
fn hash_and_clock_rule_catches_hash_maps_and_time() {
    let breaking = "use std::collections::HashMap;\nlet t = Instant::now();\nlet r = rand::thread_rng();\n";
    let keeping = "use alloc::collections::BTreeMap;\n// Not a HashMap: its order is seeded.\nlet t = SimTime::ZERO;\n";
    assert_catches(check_hash_and_clock, breaking, &[1, 2, 3], keeping);
}

#[test]
fn libm_rule_catches_std_float_functions() {
    let breaking = "let a = x.ln();\nlet b = f64::powf(x, 2.0);\nlet c = x.mul_add(y, z);\n";
    let keeping = "let a = libm::log(x);\n/// Like `x.ln()`, but the same everywhere.\nlet b = x.sqrt();\n";
    assert_catches(check_libm, breaking, &[1, 2, 3], keeping);
}

#[test]
fn usize_rule_catches_a_serialised_usize() {
    let breaking = "#[derive(Debug, Serialize)]\npub struct Report {\n    pub count: u64,\n    pub index: usize,\n}\n\
                    #[derive(Clone)]\n#[cfg_attr(feature = \"x\", derive(Hash))]\nenum Key { A(usize) }\n";
    let keeping = "#[derive(Serialize)]\nstruct Report {\n    /// Not a usize: the same in wasm.\n    count: u64,\n}\n\
                   #[derive(Debug)]\nstruct Cursor { index: usize }\nfn f(x: usize) {}\n";
    assert_catches(check_no_usize_serialised, breaking, &[4, 8], keeping);
    let first = &check_no_usize_serialised("a.rs", breaking)[0];
    assert!(first.found.contains("`Report` derives Serialize"), "{first}");
}

#[test]
fn length_rule_counts_lines_before_the_tests() {
    let long = "fn f() {}\n".repeat(LENGTH_CAP_LINES + 1);
    assert_eq!(lines_flagged(check_length("core/src/a.rs", &long)), [LENGTH_CAP_LINES + 1]);
    let tested = format!("{}#[cfg(test)]\nmod tests {{\n{}}}\n", "fn f() {}\n".repeat(10), "fn t() {}\n".repeat(900));
    assert_eq!(lines_flagged(check_length("core/src/a.rs", &tested)), [] as [usize; 0]);
    let fixtures_first = format!("#[cfg(test)]\nmod fixtures;\n{long}");
    assert_eq!(lines_flagged(check_length("core/src/a.rs", &fixtures_first)), [LENGTH_CAP_LINES + 3]);
    let app = "let x = 1;\n".repeat(APP_JS_LENGTH_CAP_LINES + 1);
    assert_eq!(lines_flagged(check_length("www/app.js", &app)), [APP_JS_LENGTH_CAP_LINES + 1]);
    assert_eq!(lines_flagged(check_length("www/other.js", &app)), [] as [usize; 0]);
}

#[test]
fn module_doc_rule_wants_why_and_a_source() {
    let no_doc = "use crate::time::SimTime;\n";
    let no_why = "//! A token bucket.\n//!\n//! Sources: RFC 2697.\n";
    let no_source = "//! A token bucket.\n//!\n//! Why it matters: bursts.\n";
    for breaking in [no_doc, no_why, no_source] {
        assert_eq!(lines_flagged(check_module_doc("a.rs", breaking)), [1], "{breaking}");
    }
    for keeping in [
        "//! A token bucket.\n//!\n//! **Why it matters.** Bursts.\n//!\n//! **Sources.** RFC 2697.\nuse x;\n",
        "//! A breaker.\n//!\n//! Why it matters: relief.\n//! After <https://example.org/breaker>.\n",
        "//! Two choices.\n//!\n//! WHY IT MATTERS: load (Mitzenmacher, 2001).\n",
    ] {
        assert_eq!(lines_flagged(check_module_doc("a.rs", keeping)), [] as [usize; 0], "{keeping}");
    }
}

#[test]
fn panic_rule_catches_panics_outside_tests() {
    let breaking =
        "fn f() {\n    let x = y.unwrap();\n    let z = w\n        .expect(\"set\");\n    unreachable!()\n}\n\
                    #[cfg(test)]\nmod tests {\n    fn t() { x.unwrap(); }\n}\nfn after() { todo!() }\n";
    let keeping = "//! let served = f().unwrap();\n/// Never panics (unlike `panic!`).\nfn f() -> Option<u8> {\n    \
                   let c = '{';\n    x.unwrap_or(0).checked_add(1)\n}\n#[cfg(test)]\nmod tests {\n    \
                   const S: &str = \"}\";\n    fn t() { f().expect(\"x\"); panic!() }\n}\n";
    assert_catches(check_no_panic, breaking, &[2, 4, 5, 11], keeping);
}

#[test]
fn code_only_blanks_comments_strings_and_chars_but_keeps_lines() {
    let text = "let a = \"{\"; // }\nlet b = '}'; let c: &'a str = r#\"\"}\"#;\n/* { /* } */ */ fn x() {}\n";
    let code = code_only(text);
    assert_eq!(code.lines().count(), text.lines().count());
    assert_eq!(code.chars().count(), text.chars().count());
    assert_eq!(code.matches(['{', '}']).count(), 2, "{code}");
    assert!(code.contains("&'a str"), "a lifetime is code: {code}");
}

#[test]
fn allowlist_drops_listed_files_and_fails_when_an_entry_is_stale() {
    let tidy_text = "const LIST: &[&str] = &[\n    \"core/src/long.rs\",\n    \"core/src/fixed.rs\",\n];\n";
    let violations = vec![
        violation("core/src/long.rs", 800, &FILE_LENGTH, "long".to_string()),
        violation("core/src/new.rs", 800, &FILE_LENGTH, "long".to_string()),
    ];
    let left = allow_for_now(violations, "LIST", &["core/src/long.rs", "core/src/fixed.rs"], tidy_text);
    let summary: Vec<(&str, usize)> = left.iter().map(|v| (v.path.as_str(), v.line)).collect();
    assert_eq!(summary, [("core/src/new.rs", 801), (TIDY_PATH, 3)]);
    assert!(left[1].found.contains("core/src/fixed.rs"), "{}", left[1]);
}
