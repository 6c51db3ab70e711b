//! `takeover-bench`: how fast real keepvip daemons take over, measured on the wire, as a markdown table
//! (the README's figures come from here, not from a test).
//!
//! `takeover-bench [--runs N] [--intervals 10ms,100ms,1s]`, as root. Per interval: a lab of network
//! namespaces (documentation addresses only), a 200/100 pair of keepvip daemons, and N SIGKILL and N
//! SIGTERM takeovers of the 200 by the 100, measured from a capture's kernel timestamps against RFC
//! 5798's Master_Down_Interval and Skew_Time, plus the delay from the new master's first advert to its
//! gratuitous ARP. Runs a machine pause broke (the rules the tests rerun on) are counted apart.
//! Ctrl-C stops after the current step and cleans up; so does a panic.

mod runs;
mod table;

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use netns_tests::cmd::on_path;
use netns_tests::daemon::witness::StallWitness;
use netns_tests::daemon::{Interval, find_keepvip_bin};
use runs::{Ending, Outcome, bound, measure_interval};
use table::{Row, interval_text, markdown};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

const USAGE: &str = "usage: takeover-bench [--runs N] [--intervals 10ms,100ms,1s]\n\
    Runs per ending (SIGKILL, SIGTERM) default to 40 below 1 s and 5 from 1 s (about 3 minutes);\n\
    --runs sets all.\n\
    Intervals are whole centiseconds from 10ms to 40950ms, written as <n>ms or <n>s.\n\
    Needs root (network namespaces); the binary is $KEEPVIP_BIN, else keepvip beside this one,\n\
    else target/debug/keepvip.";

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Args {
    runs: Option<usize>,
    intervals: Vec<Interval>,
}

/// A command line the bench cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ArgError {
    Help,
    MissingValue(&'static str),
    BadRuns(String),
    BadInterval(String),
    Unknown(String),
}

impl std::fmt::Display for ArgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Help => f.write_str(USAGE),
            Self::MissingValue(flag) => write!(f, "{flag} needs a value\n{USAGE}"),
            Self::BadRuns(text) => write!(f, "--runs {text}: a whole number from 1 to 1000"),
            Self::BadInterval(text) => write!(
                f,
                "interval {text:?}: expected whole centiseconds from 10ms to 40950ms, e.g. 10ms or 1s"
            ),
            Self::Unknown(arg) => write!(f, "unknown argument {arg:?}\n{USAGE}"),
        }
    }
}

/// `10ms`, `100ms`, `1s`, `2s`: an advert interval VRRPv3 can carry.
fn parse_interval(text: &str) -> Result<Interval, ArgError> {
    let bad = || ArgError::BadInterval(text.to_owned());
    let millis: u64 = if let Some(number) = text.strip_suffix("ms") {
        number.parse().map_err(|_| bad())?
    } else if let Some(number) = text.strip_suffix('s') {
        number
            .parse::<u64>()
            .map_err(|_| bad())?
            .checked_mul(1000)
            .ok_or_else(bad)?
    } else {
        return Err(bad());
    };
    if !(10..=40_950).contains(&millis) || !millis.is_multiple_of(10) {
        return Err(bad());
    }
    Ok(Interval::from_millis(millis))
}

fn parse_args(args: &[String]) -> Result<Args, ArgError> {
    let mut parsed = Args {
        runs: None,
        intervals: ["10ms", "100ms", "1s"]
            .iter()
            .map(|text| parse_interval(text))
            .collect::<Result<_, _>>()?,
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "-h" | "--help" => return Err(ArgError::Help),
            "--runs" => {
                let value = rest.next().ok_or(ArgError::MissingValue("--runs"))?;
                let runs = value
                    .parse::<usize>()
                    .ok()
                    .filter(|runs| (1..=1000).contains(runs))
                    .ok_or_else(|| ArgError::BadRuns(value.clone()))?;
                parsed.runs = Some(runs);
            }
            "--intervals" => {
                let value = rest.next().ok_or(ArgError::MissingValue("--intervals"))?;
                parsed.intervals = value
                    .split(',')
                    .map(parse_interval)
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(ArgError::Unknown(other.to_owned())),
        }
    }
    Ok(parsed)
}

/// Default runs per ending, about 3 minutes in all: 40 at fast intervals, so that the p95 is not
/// simply the maximum; 5 at slow ones (a 1 s SIGKILL run takes ~9 s: MDI 3.6 s, then the restarted
/// master's 3.2 s to preempt back).
fn runs_for(args: &Args, interval: Interval) -> usize {
    let default = if interval.as_millis() >= 1000 { 5 } else { 40 };
    args.runs.unwrap_or(default)
}

/// Ctrl-C sets `INTERRUPTED`; the runs stop after their current step and the labs clean up.
fn catch_ctrl_c() {
    let spawned = std::thread::Builder::new().name("ctrl-c".into()).spawn(|| {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            while tokio::signal::ctrl_c().await.is_ok() {
                INTERRUPTED.store(true, Ordering::Relaxed);
                eprintln!("interrupted: finishing the current step, then cleaning up the lab");
            }
        });
    });
    if let Err(err) = spawned {
        eprintln!("no Ctrl-C handler ({err}): an interrupt would skip the cleanup");
    }
}

fn first_line(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|text| text.lines().next().unwrap_or_default().trim().to_owned())
        .unwrap_or_else(|err| format!("? ({err})"))
}

/// `release` or `debug` from `target/<profile>/keepvip`, else `unknown`.
fn profile_of(bin: &Path) -> &'static str {
    match bin
        .parent()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
    {
        Some("release") => "release",
        Some("debug") => "debug",
        _ => "unknown",
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(args) => args,
        Err(ArgError::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("takeover-bench: {err}");
            return ExitCode::from(2);
        }
    };
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "takeover-bench: needs root (it creates network namespaces and runs keepvip in them): \
             run it with sudo, e.g. `sudo -E cargo run --release -p netns-tests --bin takeover-bench`"
        );
        return ExitCode::from(2);
    }
    for tool in ["ip", "tcpdump"] {
        if !on_path(tool) {
            eprintln!(
                "takeover-bench: `{tool}` is not on PATH (Debian: apt-get install iproute2 tcpdump)"
            );
            return ExitCode::from(2);
        }
    }
    let bin = match find_keepvip_bin() {
        Ok(bin) => bin,
        Err(why) => {
            eprintln!("takeover-bench: {why} (--release: `cargo build --release --bin keepvip`)");
            return ExitCode::from(2);
        }
    };
    catch_ctrl_c();
    let nproc = std::thread::available_parallelism().map_or(0, usize::from);
    let load: Vec<String> = first_line("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .map(str::to_owned)
        .collect();
    println!(
        "machine: nproc {nproc}, kernel {}, load average at start {}",
        first_line("/proc/sys/kernel/osrelease"),
        load.join(" ")
    );
    println!("keepvip: {} ({} profile)", bin.display(), profile_of(&bin));

    let witness = StallWitness::start();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for interval in &args.intervals {
        let runs = runs_for(&args, *interval);
        eprintln!(
            "{}: {runs} SIGKILL and {runs} SIGTERM runs",
            interval_text(interval.duration())
        );
        let outcomes = match measure_interval(*interval, runs, &witness, &INTERRUPTED) {
            Ok(outcomes) => outcomes,
            Err(err) => {
                eprintln!(
                    "takeover-bench: at {}: {err}",
                    interval_text(interval.duration())
                );
                return ExitCode::FAILURE;
            }
        };
        rows.extend(rows_for(*interval, &outcomes, &mut notes));
        if INTERRUPTED.load(Ordering::Relaxed) {
            break;
        }
    }
    println!();
    print!("{}", markdown(&rows));
    println!(
        "\nTimes are kernel capture timestamps on the lab bridge; p95 is the nearest rank; a paused \
         run is one the tests would rerun (a machine stall explains its lateness)."
    );
    for note in &notes {
        println!("{note}");
    }
    if INTERRUPTED.load(Ordering::Relaxed) {
        println!("(interrupted: the figures above are of the runs finished before Ctrl-C)");
    }
    ExitCode::SUCCESS
}

/// The three rows of one interval; every paused run's evidence goes to `notes`.
fn rows_for(
    interval: Interval,
    outcomes: &[(Ending, Outcome)],
    notes: &mut Vec<String>,
) -> Vec<Row> {
    let tag = interval_text(interval.duration());
    let mut kill = Row {
        scenario: "SIGKILL: backup's first advert − master's last",
        interval: interval.duration(),
        bound_name: format!("MDI {}", ms2(bound(Ending::Kill, interval))),
        bound: bound(Ending::Kill, interval),
        samples: Vec::new(),
        paused: 0,
    };
    let mut term = Row {
        scenario: "SIGTERM: backup's first advert − priority-0 advert",
        bound_name: format!("Skew_Time {}", ms2(bound(Ending::Term, interval))),
        bound: bound(Ending::Term, interval),
        ..kill.clone()
    };
    let mut garp = Row {
        scenario: "gratuitous ARP − new master's first advert (both endings)",
        bound_name: "0 (same transition)".into(),
        bound: Duration::ZERO,
        ..kill.clone()
    };
    for (ending, outcome) in outcomes {
        let row = match ending {
            Ending::Kill => &mut kill,
            Ending::Term => &mut term,
        };
        match outcome {
            Outcome::Measured {
                takeover,
                garp: arp,
            } => {
                row.samples.push(*takeover);
                garp.samples.push(*arp);
            }
            Outcome::Paused(evidence) => {
                row.paused += 1;
                garp.paused += 1;
                notes.push(format!(
                    "paused run excluded ({tag}, {ending:?}): {evidence}"
                ));
            }
        }
    }
    vec![kill, term, garp]
}

/// Milliseconds with two decimals.
fn ms2(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Result<Args, ArgError> {
        parse_args(
            &words
                .iter()
                .map(|word| (*word).to_owned())
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn defaults_and_flags() {
        let defaults = args(&[]).unwrap();
        assert_eq!(defaults.runs, None);
        assert_eq!(
            defaults.intervals,
            [10, 100, 1000].map(Interval::from_millis).to_vec()
        );
        assert_eq!(runs_for(&defaults, Interval::from_millis(10)), 40);
        assert_eq!(runs_for(&defaults, Interval::from_millis(1000)), 5);
        let custom = args(&["--runs", "4", "--intervals", "20ms,2s"]).unwrap();
        assert_eq!(custom.runs, Some(4));
        assert_eq!(
            custom.intervals,
            [20, 2000].map(Interval::from_millis).to_vec()
        );
        assert_eq!(runs_for(&custom, Interval::from_millis(2000)), 4);
    }

    #[test]
    fn bad_command_lines_are_typed_errors() {
        assert_eq!(args(&["--runs"]), Err(ArgError::MissingValue("--runs")));
        assert_eq!(args(&["--runs", "0"]), Err(ArgError::BadRuns("0".into())));
        assert_eq!(
            args(&["--intervals", "15ms"]),
            Err(ArgError::BadInterval("15ms".into()))
        );
        assert_eq!(
            args(&["--intervals", "50s"]),
            Err(ArgError::BadInterval("50s".into()))
        );
        assert_eq!(
            args(&["--intervals", "10"]),
            Err(ArgError::BadInterval("10".into()))
        );
        assert_eq!(args(&["-x"]), Err(ArgError::Unknown("-x".into())));
        assert_eq!(args(&["--help"]), Err(ArgError::Help));
    }

    #[test]
    fn the_profile_is_the_directory_name() {
        assert_eq!(profile_of(Path::new("/t/release/keepvip")), "release");
        assert_eq!(profile_of(Path::new("/t/debug/keepvip")), "debug");
        assert_eq!(profile_of(Path::new("/usr/sbin/keepvip")), "unknown");
    }
}
