//! `stormglass`: run, validate and benchmark scenarios from the command line.
//!
//! Only this binary turns errors into messages and exit codes:
//! 0 success, 1 bad usage, 2 invalid scenario or share link, 3 file error.

/// Writes a line to stdout; when stdout is gone (a closed pipe, as in `stormglass ... | head`),
/// stops quietly instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

/// [`say!`] without the newline.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if write!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

mod bench;
mod csv;

use std::io::Read;
use std::process::ExitCode;
use stormglass_core::presets::{self, PRESETS};
use stormglass_core::scenario::{parse_scenario, parse_scenario_format, Scenario, ValidScenario, FORMAT_VERSION};
use stormglass_core::share_link;
use stormglass_core::{RunReport, Simulation};

const USAGE: &str = "\
stormglass: simulate retries, queues and overload

usage:
  stormglass run FILE|--preset NAME [--seed N] [--series OUT.csv] [--full]
      Run a scenario; print a JSON summary (counters, latency percentiles, recovery
      verdicts, event digest). --series writes the bucketed time series as CSV;
      --full prints the whole report, series included. FILE may be - for stdin.
  stormglass validate FILE        Check a scenario; list every error with its field path.
  stormglass presets              List the built-in presets.
  stormglass preset NAME          Print a built-in preset as JSON.
  stormglass schema               Print the JSON Schema of the scenario format.
  stormglass link FILE|--preset NAME [--view VIEW.json]
      Print the share link fragment (#v1.…) of a scenario, checked first; --view adds the
      page's view state (a JSON object). FILE may be - for stdin.
  stormglass link --decode FRAGMENT
      Print the scenario in a share link as JSON, and its view state, if any, on stderr.
      FRAGMENT may be a whole address, or - for stdin.
  stormglass bench [--repeat N]   Benchmark the engine (attempts simulated per second).
";

enum Failure {
    Usage(String),
    Invalid(String),
    File(String),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(1)
        }
        Err(Failure::Invalid(message)) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
        Err(Failure::File(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(3)
        }
    }
}

fn run(args: &[String]) -> Result<(), Failure> {
    let Some(command) = args.first() else { return Err(Failure::Usage("missing command".into())) };
    let rest = &args[1..];
    match command.as_str() {
        "run" => command_run(rest),
        "validate" => command_validate(rest),
        "presets" => {
            for preset in PRESETS {
                let name = parse_scenario_format(preset.json).map(|s| s.name).unwrap_or_default();
                say!("{:<22} {}", preset.name, name);
            }
            Ok(())
        }
        "preset" => {
            let name = rest.first().ok_or_else(|| Failure::Usage("preset: missing NAME".into()))?;
            say_raw!("{}", preset_json(name)?);
            Ok(())
        }
        "schema" => {
            let schema = schemars::schema_for!(Scenario);
            say!("{}", serde_json::to_string_pretty(&schema).unwrap_or_default());
            Ok(())
        }
        "link" => command_link(rest),
        "bench" => bench::command_bench(rest).map_err(Failure::Usage),
        "help" | "--help" | "-h" => {
            say_raw!("{USAGE}");
            Ok(())
        }
        other => Err(Failure::Usage(format!("unknown command {other:?}"))),
    }
}

fn preset_json(name: &str) -> Result<&'static str, Failure> {
    presets::find(name).map(|preset| preset.json).ok_or_else(|| {
        let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        Failure::Usage(format!("no preset named {name:?}; presets: {}", names.join(", ")))
    })
}

fn read_text(path: &str) -> Result<String, Failure> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| Failure::File(format!("stdin: {e}")))?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).map_err(|e| Failure::File(format!("{path}: {e}")))
    }
}

fn load(text: &str, origin: &str) -> Result<ValidScenario, Failure> {
    parse_scenario(text).map_err(|errors| {
        let lines: Vec<String> = errors.0.iter().map(|error| format!("  {error}")).collect();
        Failure::Invalid(format!("{origin}: invalid scenario:\n{}", lines.join("\n")))
    })
}

struct RunOptions {
    source: Option<String>,
    preset: Option<String>,
    seed: Option<u64>,
    series: Option<String>,
    full: bool,
}

fn parse_run_options(args: &[String]) -> Result<RunOptions, Failure> {
    let mut options = RunOptions { source: None, preset: None, seed: None, series: None, full: false };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value =
            |flag: &str| args.next().cloned().ok_or_else(|| Failure::Usage(format!("{flag} needs a value")));
        match arg.as_str() {
            "--seed" => {
                let text = value("--seed")?;
                options.seed = Some(
                    text.parse().map_err(|_| Failure::Usage(format!("--seed: expected an integer, got {text:?}")))?,
                );
            }
            "--series" => options.series = Some(value("--series")?),
            "--preset" => options.preset = Some(value("--preset")?),
            "--full" => options.full = true,
            flag if flag.starts_with("--") => return Err(Failure::Usage(format!("unknown option {flag}"))),
            path if options.source.is_none() => options.source = Some(path.to_string()),
            extra => return Err(Failure::Usage(format!("unexpected argument {extra:?}"))),
        }
    }
    Ok(options)
}

fn command_run(args: &[String]) -> Result<(), Failure> {
    let options = parse_run_options(args)?;
    let (text, origin) = match (&options.source, &options.preset) {
        (Some(path), None) => (read_text(path)?, path.clone()),
        (None, Some(name)) => (preset_json(name)?.to_string(), format!("preset {name}")),
        _ => return Err(Failure::Usage("run: give exactly one of FILE or --preset NAME".into())),
    };
    let mut scenario = parse_scenario_format(&text)
        .map_err(|errors| Failure::Invalid(format!("{origin}: invalid scenario:\n  {errors}")))?;
    if let Some(seed) = options.seed {
        scenario.seed = seed;
    }
    let json = serde_json::to_string(&scenario).unwrap_or_default();
    let model = load(&json, &origin)?;
    let mut simulation = Simulation::new(&model);
    simulation.run_to_end();
    let report = simulation.report();
    if let Some(path) = &options.series {
        std::fs::write(path, csv::series_csv(&report.series)).map_err(|e| Failure::File(format!("{path}: {e}")))?;
    }
    if let Some(message) = &report.stop_reason {
        eprintln!("warning: {message}");
    }
    let output = if options.full { serde_json::to_string_pretty(&report) } else { summary_json(&report) };
    say!("{}", output.map_err(|e| Failure::File(format!("cannot write the report: {e}")))?);
    Ok(())
}

/// The report without its bulky time series, fields in the report's order.
fn summary_json(report: &RunReport) -> Result<String, serde_json::Error> {
    #[derive(serde::Serialize)]
    struct Brief<'a> {
        name: &'a str,
        seed: u64,
        status: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        stop_reason: &'a Option<String>,
        simulated_s: f64,
        duration_s: f64,
        events: u64,
        digest: &'a str,
        summary: &'a stormglass_core::report::Summary,
        nodes: &'a [stormglass_core::report::NodeSummary],
        verdicts: &'a [stormglass_core::metrics::recovery::FaultVerdict],
    }
    serde_json::to_string_pretty(&Brief {
        name: &report.name,
        seed: report.seed,
        status: report.status,
        stop_reason: &report.stop_reason,
        simulated_s: report.simulated_s,
        duration_s: report.duration_s,
        events: report.events,
        digest: &report.digest,
        summary: &report.summary,
        nodes: &report.nodes,
        verdicts: &report.verdicts,
    })
}

fn command_validate(args: &[String]) -> Result<(), Failure> {
    let path = args.first().ok_or_else(|| Failure::Usage("validate: missing FILE".into()))?;
    let model = load(&read_text(path)?, path)?;
    say!(
        "{path}: valid: {} nodes, {} faults, {} of simulated time, seed {}",
        model.nodes.len(),
        model.faults.len(),
        model.duration,
        model.seed
    );
    Ok(())
}

fn command_link(args: &[String]) -> Result<(), Failure> {
    let mut source: Option<String> = None;
    let mut preset: Option<String> = None;
    let mut view: Option<String> = None;
    let mut decode: Option<String> = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value =
            |flag: &str| args.next().cloned().ok_or_else(|| Failure::Usage(format!("{flag} needs a value")));
        match arg.as_str() {
            "--preset" => preset = Some(value("--preset")?),
            "--view" => view = Some(value("--view")?),
            "--decode" => decode = Some(value("--decode")?),
            flag if flag.starts_with("--") => return Err(Failure::Usage(format!("unknown option {flag}"))),
            path if source.is_none() => source = Some(path.to_string()),
            extra => return Err(Failure::Usage(format!("unexpected argument {extra:?}"))),
        }
    }
    match (source, preset, view, decode) {
        (None, None, None, Some(fragment)) => {
            let fragment = if fragment == "-" { read_text("-")? } else { fragment };
            decode_link(&fragment)
        }
        (source, preset, view, None) => {
            let (text, origin) = match (source, preset) {
                (Some(path), None) => (read_text(&path)?, path),
                (None, Some(name)) => (preset_json(&name)?.to_string(), format!("preset {name}")),
                _ => return Err(Failure::Usage("link: give exactly one of FILE, --preset NAME or --decode".into())),
            };
            // A link is for opening: refuse to make one of a scenario that would not run.
            load(&text, &origin)?;
            let view = view.map(|path| read_text(&path).map(|text| (text, path))).transpose()?;
            let fragment = share_link::encode_link_text(&text, view.as_ref().map(|(text, _)| text.as_str()))
                .map_err(|error| Failure::Invalid(format!("{origin}: cannot make a link: {error}")))?;
            say!("#{fragment}");
            Ok(())
        }
        _ => Err(Failure::Usage("link: --decode takes only the link".into())),
    }
}

fn decode_link(fragment: &str) -> Result<(), Failure> {
    let link = share_link::decode_link(fragment)
        .map_err(|error| Failure::Invalid(format!("cannot open the link: {error}")))?;
    if link.scenario_version_in_link != FORMAT_VERSION {
        eprintln!(
            "note: the link's scenario was format version {}, migrated to {FORMAT_VERSION}",
            link.scenario_version_in_link
        );
    }
    // The link holds the scenario as shared, valid or not; say so if it would not run.
    if let Err(errors) = parse_scenario(&link.scenario.to_string()) {
        let lines: Vec<String> = errors.0.iter().map(|error| format!("  {error}")).collect();
        eprintln!("warning: the scenario in this link is not valid:\n{}", lines.join("\n"));
    }
    if let Some(view) = &link.view {
        eprintln!("view: {view}");
    }
    say!("{}", serde_json::to_string_pretty(&link.scenario).unwrap_or_default());
    Ok(())
}
