//! `bench`: keepvip against keepalived on the same namespace lab, alternately, in one run; a markdown
//! table of each figure's min / median / p90 / p99 / max for both and the ratio of the medians.
//! BENCHMARKS.md says how each figure is measured and what bounds it.
//!
//! `bench [--quick] [--runs N]`, as root. Installs Debian's keepalived when it is missing (service
//! starts denied). Ctrl-C stops after the current step and cleans the labs up.

mod configs;
mod jitter;
mod load;
mod peers;
mod profile;
mod stats;
mod takeover;
mod vips;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use netns_tests::cmd::on_path;
use netns_tests::daemon::{Interval, find_keepvip_bin};
use netns_tests::keepalived::KEEPALIVED_BIN;
use netns_tests::{HarnessError, Result};

use configs::Layout;
use peers::Kind;
use stats::{Figure, markdown};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

const USAGE: &str = "usage: bench [--quick] [--runs N] [--only takeover|vips|load|profile|jitter]\n\
    --quick: fewer runs and shorter windows (under 5 minutes); --runs sets the takeover runs per\n\
    interval and daemon; --only measures one part. Needs root; the keepvip binary is $KEEPVIP_BIN, else keepvip beside this\n\
    one, else target/debug/keepvip: build it with `cargo build --release --bin keepvip`.";

/// How much to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    takeover_runs: usize,
    intervals: Vec<u64>,
    load_window: Duration,
    /// (interfaces, VRIDs, IPv6, interval ms) per load figure.
    loads: Vec<(usize, u8, bool, u64)>,
    vip_runs: usize,
    /// The window of the instructions-per-advert figure (callgrind).
    profile_window: Duration,
    /// `--only takeover|vips|load|profile`: one part of the table.
    only: Option<String>,
}

fn plan(args: &[String]) -> std::result::Result<Plan, String> {
    let mut quick = false;
    let mut runs = None;
    let mut only = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--runs" => {
                let value = rest.next().ok_or("--runs needs a value")?;
                runs = Some(
                    value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or(format!("--runs {value}: a whole number from 1 to 1000"))?,
                );
            }
            "--only" => {
                let value = rest.next().ok_or("--only needs a value")?;
                if !["takeover", "vips", "load", "profile", "jitter"].contains(&value.as_str()) {
                    return Err(format!(
                        "--only {value}: one of takeover, vips, load, profile, jitter"
                    ));
                }
                only = Some(value.clone());
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(if quick {
        Plan {
            takeover_runs: runs.unwrap_or(8),
            intervals: vec![10, 100],
            load_window: Duration::from_secs(8),
            loads: vec![(2, 250, true, 100), (1, 100, true, 10)],
            vip_runs: 3,
            profile_window: Duration::from_secs(10),
            only,
        }
    } else {
        Plan {
            takeover_runs: runs.unwrap_or(30),
            intervals: vec![10, 100, 1000],
            load_window: Duration::from_secs(30),
            loads: vec![
                (1, 250, false, 100),
                (2, 250, true, 100),
                (1, 100, true, 10),
            ],
            vip_runs: 10,
            profile_window: Duration::from_secs(30),
            only,
        }
    })
}

/// Debian's keepalived, installed with service starts denied when it is missing.
fn ensure_keepalived() -> Result<()> {
    if Path::new(KEEPALIVED_BIN).is_file() {
        return Ok(());
    }
    eprintln!("bench: installing keepalived (apt-get, service starts denied)");
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let deny = !policy.exists();
    if deny {
        std::fs::write(policy, "#!/bin/sh\nexit 101\n")?;
        std::process::Command::new("chmod")
            .args(["0755", "/usr/sbin/policy-rc.d"])
            .status()?;
    }
    let installed = std::process::Command::new("apt-get")
        .args([
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "keepalived",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    if deny {
        let _ = std::fs::remove_file(policy);
    }
    match installed {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(HarnessError::new(format!(
            "apt-get install keepalived exited {status} (try apt-get update first)"
        ))),
        Err(err) => Err(HarnessError::new(format!("apt-get: {err}"))),
    }
}

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
                eprintln!("interrupted: finishing the current step, then cleaning up");
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

fn keepalived_version() -> String {
    std::process::Command::new(KEEPALIVED_BIN)
        .arg("--version")
        .output()
        .map(|out| {
            let text = String::from_utf8_lossy(&out.stderr).into_owned()
                + &String::from_utf8_lossy(&out.stdout);
            text.lines().next().unwrap_or_default().trim().to_owned()
        })
        .unwrap_or_else(|err| format!("? ({err})"))
}

const KINDS: [Kind; 2] = [Kind::Keepvip, Kind::Keepalived];

fn push(figure: &mut Figure, kind: Kind, values: impl IntoIterator<Item = f64>) {
    match kind {
        Kind::Keepvip => figure.keepvip.extend(values),
        Kind::Keepalived => figure.keepalived.extend(values),
    }
}

fn takeover_figures(bin: &Path, plan: &Plan) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for &millis in &plan.intervals {
        let interval = Interval::from_millis(millis);
        let mut crash = Figure::new(format!("crash takeover − MDI, {millis} ms adverts"), "ms");
        let mut handover = Figure::new(
            format!("handover (priority 0) − Skew_Time, {millis} ms adverts"),
            "ms",
        );
        let mut garp = Figure::new(format!("gratuitous ARP − first advert, {millis} ms"), "ms");
        // Alternating in batches, so that a change in the machine's load hits both daemons.
        let batch = plan.takeover_runs.div_ceil(2);
        let mut left = [plan.takeover_runs; 2];
        while left.iter().any(|&n| n > 0) && !INTERRUPTED.load(Ordering::Relaxed) {
            for (slot, kind) in KINDS.iter().enumerate() {
                let runs = left[slot].min(batch);
                if runs == 0 {
                    continue;
                }
                eprintln!("{}: {runs} takeovers at {millis} ms", kind.name());
                let measured = takeover::measure(*kind, bin, interval, runs, &INTERRUPTED)?;
                left[slot] -= runs;
                push(&mut crash, *kind, measured.crash);
                push(&mut handover, *kind, measured.handover);
                push(&mut garp, *kind, measured.garp);
            }
        }
        figures.extend([crash, handover, garp]);
    }
    Ok(figures)
}

fn load_figures(bin: &Path, plan: &Plan) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for &(interfaces, vrids, ipv6, millis) in &plan.loads {
        let layout = Layout {
            interfaces,
            vrids,
            ipv6,
            interval: Duration::from_millis(millis),
            excluded: 0,
            rt_priority: None,
        };
        let count = layout.instances().len();
        let what = format!(
            "{count} instances at {millis} ms ({interfaces} interface(s) x {vrids} VRIDs{})",
            if ipv6 { " x IPv4 and IPv6" } else { "" }
        );
        let mut rows = [
            Figure::new(format!("{what}: master CPU"), "% of a core"),
            Figure::new(format!("{what}: backup CPU"), "% of a core"),
            Figure::new(format!("{what}: master RSS"), "MiB"),
            Figure::new(format!("{what}: backup RSS"), "MiB"),
            Figure::new(
                format!("{what}: late (> 1.5 intervals) or missing master adverts"),
                "count",
            ),
            Figure::new(format!("{what}: adverts from the backup"), "count"),
        ];
        for kind in KINDS {
            if INTERRUPTED.load(Ordering::Relaxed) {
                break;
            }
            eprintln!("{}: {what} for {:?}", kind.name(), plan.load_window);
            let f = load::measure(kind, bin, &layout, plan.load_window)?;
            if f.capture_drops > 0 {
                eprintln!(
                    "{}: the captures dropped {} packets: late/missing counts are not exact",
                    kind.name(),
                    f.capture_drops
                );
            }
            let values = [
                f.master_cpu,
                f.backup_cpu,
                f.master_rss_mib,
                f.backup_rss_mib,
                (f.late + f.missing) as f64,
                f.backup_adverts as f64,
            ];
            for (row, value) in rows.iter_mut().zip(values) {
                push(row, kind, [value]);
            }
        }
        figures.extend(rows);
    }
    Ok(figures)
}

/// The rt_priority / vrrp_rt_priority of the jitter figure's second pair of rows.
const BENCH_RT_PRIORITY: u8 = 50;

/// Advert interval jitter at 10 ms with every core busy: at the normal priority, then with both
/// daemons' protocol threads SCHED_RR at the same priority.
fn jitter_figures(bin: &Path, plan: &Plan) -> Result<Vec<Figure>> {
    let base = "advert interval jitter at 10 ms, every core busy with a spinning thread: gap − 10 ms, absolute";
    let mut figures = Vec::new();
    for realtime in [None, Some(BENCH_RT_PRIORITY)] {
        let name = match realtime {
            None => base.to_owned(),
            Some(p) => format!("{base}; rt_priority / vrrp_rt_priority {p}"),
        };
        let mut figure = Figure::new(name, "ms");
        for kind in KINDS {
            if INTERRUPTED.load(Ordering::Relaxed) {
                break;
            }
            eprintln!(
                "{}: jitter at 10 ms under load for {:?}, realtime priority {realtime:?}",
                kind.name(),
                plan.load_window
            );
            let window = plan.load_window;
            let gaps = jitter::measure(kind, bin, Duration::from_millis(10), window, realtime)?;
            push(&mut figure, kind, gaps);
        }
        figures.push(figure);
    }
    Ok(figures)
}

/// The backup's instructions per received advert (callgrind), 10 instances at 100 ms; none without
/// valgrind. keepvip only: callgrind_control does not find keepalived's forked VRRP child (vgdb
/// lists only the parent), so its count cannot be zeroed and dumped around the window.
fn profile_figures(bin: &Path, plan: &Plan) -> Result<Vec<Figure>> {
    if !on_path("valgrind") || !on_path("callgrind_control") {
        eprintln!(
            "bench: no valgrind on PATH: skipping the instructions per advert (apt-get install valgrind)"
        );
        return Ok(Vec::new());
    }
    let layout = Layout {
        interfaces: 1,
        vrids: 5,
        ipv6: true,
        interval: Duration::from_millis(100),
        excluded: 0,
        rt_priority: None,
    };
    let mut figure = Figure::new(
        "10 instances at 100 ms (1 interface x 5 VRIDs x IPv4 and IPv6): backup instructions per received advert (callgrind)",
        "instructions",
    );
    for kind in [Kind::Keepvip] {
        if INTERRUPTED.load(Ordering::Relaxed) {
            break;
        }
        eprintln!(
            "{}: backup under callgrind for {:?}",
            kind.name(),
            plan.profile_window
        );
        let per_advert = profile::measure(kind, bin, &layout, plan.profile_window)?;
        push(&mut figure, kind, [per_advert]);
    }
    Ok(vec![figure])
}

fn vip_figures(bin: &Path, plan: &Plan) -> Result<Vec<Figure>> {
    let mut took = Figure::new(
        "1000 VIPs on one instance: first advert − last announcement",
        "ms",
    );
    let mut missing = Figure::new("1000 VIPs: announcements missing on the wire", "count");
    for kind in KINDS {
        if INTERRUPTED.load(Ordering::Relaxed) {
            break;
        }
        eprintln!(
            "{}: {} takeovers with 1000 VIPs",
            kind.name(),
            plan.vip_runs
        );
        let measured = vips::measure(kind, bin, 999, plan.vip_runs, &INTERRUPTED)?;
        push(&mut took, kind, measured.took);
        push(&mut missing, kind, measured.missing);
    }
    Ok(vec![took, missing])
}

fn run(bin: &Path, plan: &Plan) -> Result<Vec<Figure>> {
    let wanted = |part: &str| plan.only.as_deref().is_none_or(|only| only == part);
    let mut figures = Vec::new();
    if wanted("takeover") {
        figures.extend(takeover_figures(bin, plan)?);
    }
    if wanted("vips") {
        figures.extend(vip_figures(bin, plan)?);
    }
    if wanted("load") {
        figures.extend(load_figures(bin, plan)?);
    }
    if wanted("jitter") {
        figures.extend(jitter_figures(bin, plan)?);
    }
    if wanted("profile") {
        figures.extend(profile_figures(bin, plan)?);
    }
    Ok(figures)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let plan = match plan(&argv) {
        Ok(plan) => plan,
        Err(text) => {
            eprintln!("{text}");
            return ExitCode::from(2);
        }
    };
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "bench: needs root (network namespaces): sudo -E cargo run --release -p netns-tests --bin bench"
        );
        return ExitCode::from(2);
    }
    for tool in ["ip", "tcpdump", "apt-get"] {
        if !on_path(tool) {
            eprintln!("bench: `{tool}` is not on PATH");
            return ExitCode::from(2);
        }
    }
    if let Err(err) = ensure_keepalived() {
        eprintln!("bench: {err}");
        return ExitCode::FAILURE;
    }
    let bin: PathBuf = match find_keepvip_bin() {
        Ok(bin) => bin,
        Err(why) => {
            eprintln!("bench: {why} (`cargo build --release --bin keepvip`)");
            return ExitCode::from(2);
        }
    };
    catch_ctrl_c();
    let started = std::time::Instant::now();
    println!(
        "machine: nproc {}, kernel {}, load average at start {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        first_line("/proc/sys/kernel/osrelease"),
        first_line("/proc/loadavg")
    );
    println!(
        "keepvip: {}; keepalived: {}",
        bin.display(),
        keepalived_version()
    );
    let figures = match run(&bin, &plan) {
        Ok(figures) => figures,
        Err(err) => {
            eprintln!("bench: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!();
    print!("{}", markdown(&figures));
    println!(
        "\nTook {:.0} s; load average at the end {}.",
        started.elapsed().as_secs_f64(),
        first_line("/proc/loadavg")
    );
    if INTERRUPTED.load(Ordering::Relaxed) {
        println!("(interrupted: the figures are of the runs finished before Ctrl-C)");
    }
    ExitCode::SUCCESS
}
