//! The `stormglass` binary end to end: commands, exit codes, messages.

use std::process::{Command, Output};

fn stormglass(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stormglass")).args(args).output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("stormglass-cli-test-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn presets_lists_and_prints_every_preset() {
    let listing = stormglass(&["presets"]);
    assert!(listing.status.success());
    let text = stdout(&listing);
    assert!(text.contains("retry-storm") && text.contains("Retry storm after a slowdown"), "{text}");
    for preset in stormglass_core::presets::PRESETS {
        let printed = stormglass(&["preset", preset.name]);
        assert!(printed.status.success());
        assert_eq!(stdout(&printed), preset.json);
    }
    let unknown = stormglass(&["preset", "nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("no preset named \"nope\""));
}

#[test]
fn run_prints_a_summary_with_digest_and_verdict() {
    let output = stormglass(&["run", "--preset", "retry-storm"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON on stdout");
    assert_eq!(summary["status"], "finished");
    assert_eq!(summary["digest"].as_str().unwrap().len(), 16);
    assert_eq!(summary["verdicts"][0]["verdict"], "metastable");
    assert!(summary["summary"]["latency_ms"]["p99"].as_f64().unwrap() > 0.0);
    assert!(summary.get("series").is_none(), "the summary leaves the series out");
    // The same run from a file gives the same digest; another seed another digest.
    let file = temp_file("storm.json", stormglass_core::presets::find("retry-storm").unwrap().json);
    let again: serde_json::Value =
        serde_json::from_str(&stdout(&stormglass(&["run", file.to_str().unwrap()]))).unwrap();
    assert_eq!(again["digest"], summary["digest"]);
    let reseeded: serde_json::Value =
        serde_json::from_str(&stdout(&stormglass(&["run", file.to_str().unwrap(), "--seed", "7"]))).unwrap();
    assert_eq!(reseeded["seed"], 7);
    assert_ne!(reseeded["digest"], summary["digest"]);
}

#[test]
fn run_writes_series_as_csv() {
    let csv = std::env::temp_dir().join(format!("stormglass-cli-test-{}-series.csv", std::process::id()));
    let output = stormglass(&["run", "--preset", "retry-storm", "--series", csv.to_str().unwrap()]);
    assert!(output.status.success());
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "time_s");
    assert!(
        header.contains(&"system.goodput_per_s")
            && header.contains(&"api.queue_depth")
            && header.contains(&"clients->api.timeouts_per_s")
    );
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    assert_eq!(rows.len(), 300, "one row per 1 s bucket");
    assert!(rows.iter().all(|row| row.len() == header.len()));
    assert_eq!(rows[150][0], "150");
}

#[test]
fn validate_reports_errors_with_field_paths_and_exit_code_2() {
    let bad = temp_file(
        "bad.json",
        r#"{"version": 1, "duration": "10s", "nodes": [
            {"kind": "client", "id": "c", "rate": -3, "calls": [{"to": "api", "timeout": "100ms"}]},
            {"kind": "service", "id": "api", "workers": 0, "service_time": {"constant": "1ms"}}]}"#,
    );
    let output = stormglass(&["validate", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("nodes[0].rate: expected a number from 0"), "{message}");
    assert!(message.contains("nodes[1].workers: expected 1 to"), "{message}");
    assert!(!message.contains("panicked"));

    let good = temp_file("good.json", stormglass_core::presets::find("retry-storm").unwrap().json);
    let output = stormglass(&["validate", good.to_str().unwrap()]);
    assert!(output.status.success());
    assert!(stdout(&output).contains("valid: 2 nodes, 1 faults"));

    let broken = temp_file("broken.json", "{ \"version\": 1,");
    let output = stormglass(&["run", broken.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not valid JSON at line 1"), "{}", stderr(&output));
}

#[test]
fn usage_and_file_errors_have_their_own_exit_codes() {
    assert_eq!(stormglass(&[]).status.code(), Some(1));
    assert_eq!(stormglass(&["explode"]).status.code(), Some(1));
    assert_eq!(stormglass(&["run", "--seed", "abc", "x.json"]).status.code(), Some(1));
    let missing = stormglass(&["run", "/nonexistent/scenario.json"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(stderr(&missing).contains("/nonexistent/scenario.json"));
}

/// www/scenario.schema.json is generated from the format types; it must not drift.
#[test]
fn shipped_json_schema_is_up_to_date() {
    let generated = stdout(&stormglass(&["schema"]));
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../www/scenario.schema.json")).unwrap();
    assert!(
        generated == shipped,
        "www/scenario.schema.json is stale: run `cargo run -p stormglass-cli -- schema > www/scenario.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&generated).unwrap();
    for field in ["version", "duration", "nodes", "faults", "seed"] {
        assert!(schema["properties"].get(field).is_some(), "schema documents {field}");
    }
    assert_eq!(schema["$defs"]["Duration"]["type"], "string");
}

#[test]
fn link_makes_a_fragment_that_decodes_to_the_same_scenario() {
    let made = stormglass(&["link", "--preset", "retry-storm"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let fragment = stdout(&made).trim().to_string();
    assert!(fragment.starts_with("#v1.") && fragment.len() < 1_000, "{fragment}");
    let opened = stormglass(&["link", "--decode", &fragment]);
    assert!(opened.status.success(), "{}", stderr(&opened));
    let scenario: serde_json::Value = serde_json::from_str(&stdout(&opened)).expect("JSON on stdout");
    let preset: serde_json::Value =
        serde_json::from_str(stormglass_core::presets::find("retry-storm").unwrap().json).unwrap();
    assert_eq!(scenario, preset);
    assert!(stderr(&opened).is_empty(), "no view, nothing to note: {}", stderr(&opened));
    // From a file, with a view; the same link as the page would make; a whole address opens.
    let file = temp_file("link.json", stormglass_core::presets::find("retry-storm").unwrap().json);
    let view = temp_file("view.json", r#"{"cursor_s": 120, "selected": ["api"]}"#);
    let with_view = stormglass(&["link", file.to_str().unwrap(), "--view", view.to_str().unwrap()]);
    assert!(with_view.status.success(), "{}", stderr(&with_view));
    let fragment = stdout(&with_view).trim().to_string();
    let view_value = serde_json::json!({ "cursor_s": 120, "selected": ["api"] });
    assert_eq!(fragment, format!("#{}", stormglass_core::encode_link(&preset, Some(&view_value)).unwrap()));
    let opened = stormglass(&["link", "--decode", &format!("https://stormglass.example/{fragment}")]);
    assert!(opened.status.success());
    assert_eq!(stderr(&opened).trim(), r#"view: {"cursor_s":120,"selected":["api"]}"#);
}

#[test]
fn link_errors_have_messages_and_exit_codes() {
    // A bad link is exit 2, like a bad scenario, and says what is wrong.
    let newer = stormglass(&["link", "--decode", "#v9.AAAA"]);
    assert_eq!(newer.status.code(), Some(2));
    assert!(stderr(&newer).contains("made by a newer Stormglass"), "{}", stderr(&newer));
    let fragment = stdout(&stormglass(&["link", "--preset", "retry-storm"])).trim().to_string();
    let cut = stormglass(&["link", "--decode", &fragment[..fragment.len() / 2]]);
    assert_eq!(cut.status.code(), Some(2));
    assert!(stderr(&cut).contains("cut short"), "{}", stderr(&cut));
    assert_eq!(stormglass(&["link", "--decode", ""]).status.code(), Some(2));
    // No link is made of a scenario that would not run.
    let invalid = temp_file("invalid-link.json", r#"{"version": 1, "duration": "10s", "nodes": []}"#);
    let refused = stormglass(&["link", invalid.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stdout(&refused).is_empty());
    // Usage and files.
    assert_eq!(stormglass(&["link"]).status.code(), Some(1));
    assert_eq!(stormglass(&["link", "--preset", "retry-storm", "--decode", "x"]).status.code(), Some(1));
    assert_eq!(stormglass(&["link", "--decode"]).status.code(), Some(1));
    assert_eq!(stormglass(&["link", "/nonexistent/scenario.json"]).status.code(), Some(3));
}

/// The saved links (tests/links/) open from the command line too.
#[test]
fn link_decodes_the_saved_links() {
    let fragment =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/links/v1-llm-rate-limit.txt"))
            .expect("saved link");
    let opened = stormglass(&["link", "--decode", &fragment]);
    assert!(opened.status.success(), "{}", stderr(&opened));
    let scenario: serde_json::Value = serde_json::from_str(&stdout(&opened)).unwrap();
    assert_eq!(scenario["version"], 1);
    assert!(scenario["nodes"].as_array().unwrap().iter().any(|node| node["kind"] == "llm"));
}
