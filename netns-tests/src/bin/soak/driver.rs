//! The run: the fault lab with the soak's config, the advert watcher, the schedule carried out step by
//! step, and every observation fed to the checker as it comes in (a short lag behind the present, so
//! that each fault's window is known before what it caused is judged, and each request's answer has
//! had its time).

use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

use netns_tests::Result;
use netns_tests::daemon::wire::wall_clock;
use netns_tests::daemon::{Interval, master_down_interval};
use netns_tests::faults::probe::REPLY_TIMEOUT;
use netns_tests::faults::verdict::tolerance;
use netns_tests::faults::{FaultLab, LabPlan};

use crate::STOP;
use crate::adverts::{AdvertWatch, Seen};
use crate::checker::{Bounds, Checker};
use crate::cli::Options;
use crate::config::{Settings, base_priority, soak_config};
use crate::exec::{Event, Executor, apply_config, write_tracker};
use crate::realtime;
use crate::schedule::{FaultKind, schedule};
use crate::summary::RunFacts;

/// How far behind the present observations are judged: longer than a request's reply timeout.
const LAG: Duration = Duration::from_millis(400);
/// The driver's step: faults are injected and observations read this often.
const STEP: Duration = Duration::from_millis(5);
/// A steady master's advert may come this much later than one interval (the takeover tolerance the
/// failover tests measured at 10 ms adverts: timer slack, a debug build, both cores busy).
const ADVERT_SLACK: Duration = Duration::from_millis(25);
const ROUTERS: usize = 3;

fn first_line(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|text| text.lines().next().unwrap_or_default().trim().to_owned())
        .unwrap_or_else(|err| format!("? ({err})"))
}

/// Router `i` sends from 192.0.2.(i + 1) (the lab's host addresses).
fn router_of(source: Ipv4Addr) -> Option<usize> {
    let [a, b, c, d] = source.octets();
    let index = usize::from(d).checked_sub(1)?;
    ((a, b, c) == (192, 0, 2) && index < ROUTERS).then_some(index)
}

pub fn bounds(interval: Interval) -> Bounds {
    Bounds {
        interval: interval.duration(),
        mdi: master_down_interval(interval, base_priority(ROUTERS - 1)),
        tolerance: tolerance(interval),
        late_advert: interval.duration() + ADVERT_SLACK,
    }
}

/// What the checker has been fed so far.
struct Feed {
    origin: Duration,
    changes: usize,
    requests: usize,
    adverts: mpsc::Receiver<Seen>,
    pending: Vec<Seen>,
    printed: usize,
    last_fault: String,
}

impl Feed {
    /// Feed the checker everything observed up to `horizon` (since the start).
    fn up_to(&mut self, lab: &FaultLab, checker: &mut Checker, horizon: Duration) {
        let timeline = lab.timeline();
        let sampled = timeline.last_sample.saturating_sub(self.origin);
        let horizon = horizon.min(sampled);
        let changes = timeline.changes();
        for (at, holders) in changes.iter().skip(self.changes) {
            let at = at.saturating_sub(self.origin);
            if at > horizon {
                break;
            }
            checker.holders(at, &holders.routers());
            self.changes += 1;
            checker.holder_changes += 1;
        }
        // The holders have not changed since the last change fed: judge the ongoing stretch.
        if let Some((_, holders)) = changes.get(self.changes.saturating_sub(1)) {
            checker.holders(horizon, &holders.routers());
        }
        for request in lab.requests_since(self.requests) {
            // Sent while the lab was starting (the VIP not yet installed): not the soak's.
            if request.sent_at < self.origin {
                self.requests += 1;
                continue;
            }
            let sent = request.sent_at.saturating_sub(self.origin);
            if sent + REPLY_TIMEOUT > horizon {
                break;
            }
            checker.request(sent, request.succeeded());
            self.requests += 1;
        }
        self.pending.extend(self.adverts.try_iter());
        let (due, later): (Vec<Seen>, Vec<Seen>) = self
            .pending
            .drain(..)
            .partition(|seen| seen.at.saturating_sub(self.origin) <= horizon);
        self.pending = later;
        for seen in due {
            if let Some(router) = router_of(seen.source) {
                checker.advert(seen.at.saturating_sub(self.origin), router, seen.priority);
            }
        }
        checker.prune(horizon);
        for violation in checker.violations().iter().skip(self.printed) {
            println!(
                "VIOLATION at {:.3} s: {}: {} (last fault: {})",
                violation.at.as_secs_f64(),
                violation.kind.name(),
                violation.detail,
                self.last_fault
            );
        }
        self.printed = checker.violations().len();
    }
}

/// Build the lab, run the schedule drawn from `seed`, and return what happened.
pub fn run(options: &Options, seed: u64) -> Result<(RunFacts, Checker)> {
    let interval = Interval::from_millis(options.interval_ms);
    let faults = schedule(seed, options.duration, ROUTERS, &options.without);
    println!(
        "soak: {} faults scheduled over {:.1} min at {} ms adverts",
        faults.len(),
        options.duration.as_secs_f64() / 60.0,
        options.interval_ms
    );
    let mut facts = RunFacts {
        seed,
        planned: options.duration,
        load_start: first_line("/proc/loadavg"),
        without: if options.without.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = options.without.iter().map(|kind| kind.flag()).collect();
            format!(" --without {}", names.join(","))
        },
        ..RunFacts::default()
    };
    let settings = Settings {
        interval,
        rt_priority: options.rt_priority,
    };
    let mut lab = FaultLab::start("soak", LabPlan::new(ROUTERS, interval))?;
    let dir = lab.lab.dir().to_path_buf();
    lab.set_config(Box::new(move |index, label| {
        soak_config(label, index, base_priority(index), settings, &dir)
    }));
    for node in 0..ROUTERS {
        write_tracker(&lab, node, FaultKind::TrackerWeight, "0")?;
        write_tracker(&lab, node, FaultKind::TrackerFault, "0")?;
        apply_config(&lab, node, base_priority(node), settings)?;
    }
    lab.wait_settled(0)?;
    let (sink, adverts) = mpsc::channel();
    let _watch = AdvertWatch::start(lab.lab.observer_ns(), sink)?;
    report_scheduling(&lab, options.rt_priority)?;
    let checker = Checker::new(bounds(interval));
    let origin = wall_clock();
    println!(
        "soak: times below are from {:.3} s after the Unix epoch (the daemons' logs stamp in UTC)",
        origin.as_secs_f64()
    );
    let mut feed = Feed {
        origin,
        changes: 0,
        requests: 0,
        adverts,
        pending: Vec::new(),
        printed: 0,
        last_fault: "none yet".into(),
    };
    let (checker, ran) = drive(
        &mut lab, faults, settings, options, &mut feed, checker, &mut facts,
    );
    facts.ran = ran;
    facts.interrupted = STOP.load(Ordering::Relaxed);
    facts.load_end = first_line("/proc/loadavg");
    let timeline = lab.timeline();
    facts.sampler = (timeline.samples, timeline.longest_sample_gap);
    if !checker.violations().is_empty() {
        keep_lab_files(&lab, seed);
    }
    Ok((facts, checker))
}

/// The loop: step the schedule, watch the daemons, feed the checker; then undo the last fault and
/// judge what is left.
fn drive(
    lab: &mut FaultLab,
    faults: Vec<crate::schedule::Fault>,
    settings: Settings,
    options: &Options,
    feed: &mut Feed,
    mut checker: Checker,
    facts: &mut RunFacts,
) -> (Checker, Duration) {
    let origin = feed.origin;
    let clock = move || wall_clock().saturating_sub(origin);
    let by_number: std::collections::BTreeMap<usize, String> = faults
        .iter()
        .map(|fault| (fault.number, fault.to_string()))
        .collect();
    let mut executor = Executor::new(faults, settings);
    loop {
        let now = clock();
        if STOP.load(Ordering::Relaxed) || (now >= options.duration && !executor.busy()) {
            break;
        }
        let stepped = executor
            .step(lab, now, &clock)
            .and_then(|()| executor.check_daemons(lab, &clock));
        if let Err(err) = stepped {
            facts
                .lab_errors
                .push(format!("at {:.3} s: {err}", now.as_secs_f64()));
            break;
        }
        take_events(
            &mut executor,
            &mut checker,
            feed,
            facts,
            &by_number,
            options.verbose,
        );
        feed.up_to(lab, &mut checker, clock().saturating_sub(LAG));
        std::thread::sleep(STEP);
    }
    let ran = clock();
    if let Err(err) = executor.finish(lab, &clock) {
        facts
            .lab_errors
            .push(format!("undoing the last fault: {err}"));
    }
    take_events(
        &mut executor,
        &mut checker,
        feed,
        facts,
        &by_number,
        options.verbose,
    );
    // Everything up to the end, once the last requests have had their time to be answered.
    std::thread::sleep(LAG);
    feed.up_to(lab, &mut checker, ran);
    (checker, ran)
}

fn take_events(
    executor: &mut Executor,
    checker: &mut Checker,
    feed: &mut Feed,
    facts: &mut RunFacts,
    by_number: &std::collections::BTreeMap<usize, String>,
    verbose: bool,
) {
    for event in executor.events.drain(..) {
        match event {
            Event::Started {
                number,
                kind,
                node,
                at,
            } => {
                checker.fault_started(number, kind, node, at);
                *facts.injected.entry(kind).or_default() += 1;
                feed.last_fault = by_number.get(&number).cloned().unwrap_or_default();
                if verbose {
                    println!("{:9.3} s start {}", at.as_secs_f64(), feed.last_fault);
                }
            }
            Event::Ended { number, at } => {
                checker.fault_ended(number, at);
                if verbose {
                    println!("{:9.3} s end   #{number}", at.as_secs_f64());
                }
            }
            Event::Exited { node, at, how } => checker.daemon_exited(at, node, &how),
        }
    }
}

/// The measuring threads go real-time above the daemons (see `realtime`); the daemons' own policy is
/// printed (SCHED_RR when `rt_priority` took effect; SCHED_OTHER = 0).
fn report_scheduling(lab: &FaultLab, rt_priority: u8) -> Result<()> {
    let threads = realtime::measuring_threads(rt_priority.saturating_add(10).min(99))?;
    let policies: Vec<String> = (0..ROUTERS)
        .map(|node| {
            let policy = lab
                .daemon(node)
                .ok()
                .and_then(|d| realtime::policy_of(d.proc().pid()));
            match policy {
                Some(libc::SCHED_RR) => format!("r{node} SCHED_RR"),
                Some(other) => format!("r{node} policy {other}"),
                None => format!("r{node} unknown"),
            }
        })
        .collect();
    println!(
        "soak: {threads} measuring threads under SCHED_RR; daemons (rt_priority {rt_priority}): {}",
        policies.join(", ")
    );
    Ok(())
}

/// Copy the lab's files (daemon logs, configs) where they outlive the lab, for a failed run.
fn keep_lab_files(lab: &FaultLab, seed: u64) {
    let kept = std::env::temp_dir().join(format!("keepvip-soak-{seed}-{}", std::process::id()));
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(lab.lab.dir())
        .arg(&kept)
        .status();
    match copied {
        Ok(status) if status.success() => {
            println!("soak: the daemons' logs are kept in {}", kept.display())
        }
        _ => eprintln!("soak: could not keep the lab's files in {}", kept.display()),
    }
}
