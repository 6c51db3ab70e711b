//! The fault matrix, process cells (issue 13): faults on a keepvip daemon of a three-router lab
//! (priorities 200/150/100, one VIP) while a client sends a request to the VIP every 10 ms and a
//! sampler watches every router's kernel for the VIP. Each cell prints its verdict and the table
//! (`target/fault-matrix/table.md`); the bounds and tolerances are `faults::Bounds`' (RFC 5798
//! timers plus a tolerance for a loaded 2-core machine); a failure that a stall of the whole machine
//! explains is run again, at most twice (`retry_on_machine_pause`). Root only; run with
//! `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::time::Duration;

use netns_tests::daemon::{Interval, master_down_interval};
use nix::sys::signal::Signal;

use netns_tests::daemon::scenario::MASTER;
use netns_tests::daemon::wire::wall_clock;
use netns_tests::daemon::{PauseWatch, retry_on_machine_pause};
use netns_tests::faults::{Bounds, FaultLab, LabPlan, PRIORITIES, Start};

const GROUP: &str = "process";

/// Steady time before a fault and after its outcome: enough adverts for a late transition to show.
fn steady(interval: Interval) -> Duration {
    interval.duration() * 10 + Duration::from_millis(200)
}

/// How the master goes away in `master_gone_and_back`.
#[derive(Clone, Copy)]
enum Gone {
    /// SIGKILL: silent, so router 1 (150) takes over within MDI(150) + one interval.
    Killed,
    /// SIGTERM: it resigns (priority 0, VIP removed) and router 1 takes over after Skew_Time(150).
    Terminated,
}

/// The master goes (`gone`), router 1 takes over; then router 0 starts again, clears any stale VIP
/// and preempts back (one holder again within one interval).
fn master_gone_and_back(interval: Interval, watch: &PauseWatch, gone: Gone) {
    let (name, cell, bounds) = match gone {
        Gone::Killed => ("fmkill", "SIGKILL", Bounds::crash(interval, PRIORITIES[1])),
        Gone::Terminated => ("fmterm", "SIGTERM", Bounds::resign(interval, PRIORITIES[1])),
    };
    let mut lab = FaultLab::start(name, LabPlan::new(3, interval)).unwrap();
    std::thread::sleep(steady(interval));
    let from = wall_clock();
    let _stopped_after = match gone {
        Gone::Killed => lab.kill(0).unwrap(),
        Gone::Terminated => lab.terminate(0).unwrap(),
    };
    lab.wait_state(1, MASTER).unwrap();
    std::thread::sleep(steady(interval));
    lab.restart(0).unwrap();
    lab.wait_settled(0).unwrap();
    std::thread::sleep(steady(interval));
    lab.check_cell_watched(GROUP, cell, from, bounds, Some(watch));
}

/// SIGSTOP of the master for 2 x MDI(150): router 1 takes over meanwhile (the stopped router keeps
/// its VIP in the kernel and is not counted); after SIGCONT router 0 advertises at once and router 1
/// steps down: two holders for at most one interval + tolerance, router 0 the one master again.
fn sigstop_sigcont(interval: Interval, watch: &PauseWatch) {
    let mut lab = FaultLab::start("fmstop", LabPlan::new(3, interval)).unwrap();
    std::thread::sleep(steady(interval));
    let from = wall_clock();
    lab.signal(0, Signal::SIGSTOP).unwrap();
    std::thread::sleep(master_down_interval(interval, PRIORITIES[1]) * 2);
    lab.signal(0, Signal::SIGCONT).unwrap();
    lab.wait_settled(0).unwrap();
    std::thread::sleep(steady(interval));
    let bounds = Bounds::crash(interval, PRIORITIES[1]);
    lab.check_cell_watched(
        GROUP,
        "SIGSTOP, SIGCONT after 2 MDI",
        from,
        bounds,
        Some(watch),
    );
    assert!(
        lab.daemon(1)
            .unwrap()
            .transitions()
            .iter()
            .any(|t| t.to == MASTER),
        "router 1 never took over while router 0 was stopped:\n{}",
        lab.describe()
    );
}

/// A restart of the master (SIGTERM, then started again at once, as `systemctl restart`): router 1
/// holds the VIP from Skew_Time(150) on, router 0 preempts back once it runs.
fn restart_master(interval: Interval, watch: &PauseWatch) {
    let mut lab = FaultLab::start("fmrestart", LabPlan::new(3, interval)).unwrap();
    std::thread::sleep(steady(interval));
    let from = wall_clock();
    lab.terminate(0).unwrap();
    lab.restart(0).unwrap();
    lab.wait_settled(0).unwrap();
    std::thread::sleep(steady(interval));
    lab.check_cell_watched(
        GROUP,
        "restart while master",
        from,
        Bounds::resign(interval, PRIORITIES[1]),
        Some(watch),
    );
}

/// Three daemons spawned at the same instant: each starts in BACKUP and the best one's
/// Master_Down_Timer (MDI(200), the shortest) fires first; from the moment all of them run there is
/// a holder within MDI(200) + one interval + tolerance, and two at most briefly (a slower start
/// can let router 1's timer fire too: router 0's first advert makes it step down).
fn three_at_once(interval: Interval, watch: &PauseWatch) {
    let plan = LabPlan {
        start: Start::AtOnce,
        ..LabPlan::new(3, interval)
    };
    let lab = FaultLab::start("fmonce", plan).unwrap();
    let from = wall_clock();
    lab.wait_settled(0).unwrap();
    std::thread::sleep(steady(interval));
    lab.check_cell_watched(
        GROUP,
        "three started at once",
        from,
        Bounds::crash(interval, PRIORITIES[0]),
        Some(watch),
    );
}

#[test]
fn sigkill_100ms() {
    retry_on_machine_pause("sigkill_100ms", |watch| {
        master_gone_and_back(Interval::from_millis(100), watch, Gone::Killed)
    });
}

#[test]
fn sigkill_10ms() {
    retry_on_machine_pause("sigkill_10ms", |watch| {
        master_gone_and_back(Interval::from_millis(10), watch, Gone::Killed)
    });
}

#[test]
fn sigterm_100ms() {
    retry_on_machine_pause("sigterm_100ms", |watch| {
        master_gone_and_back(Interval::from_millis(100), watch, Gone::Terminated)
    });
}

#[test]
fn sigterm_10ms() {
    retry_on_machine_pause("sigterm_10ms", |watch| {
        master_gone_and_back(Interval::from_millis(10), watch, Gone::Terminated)
    });
}

#[test]
fn sigstop_sigcont_100ms() {
    retry_on_machine_pause("sigstop_sigcont_100ms", |watch| {
        sigstop_sigcont(Interval::from_millis(100), watch)
    });
}

#[test]
fn sigstop_sigcont_10ms() {
    retry_on_machine_pause("sigstop_sigcont_10ms", |watch| {
        sigstop_sigcont(Interval::from_millis(10), watch)
    });
}

#[test]
fn restart_master_100ms() {
    retry_on_machine_pause("restart_master_100ms", |watch| {
        restart_master(Interval::from_millis(100), watch)
    });
}

#[test]
fn restart_master_10ms() {
    retry_on_machine_pause("restart_master_10ms", |watch| {
        restart_master(Interval::from_millis(10), watch)
    });
}

#[test]
fn three_at_once_100ms() {
    retry_on_machine_pause("three_at_once_100ms", |watch| {
        three_at_once(Interval::from_millis(100), watch)
    });
}

#[test]
fn three_at_once_10ms() {
    retry_on_machine_pause("three_at_once_10ms", |watch| {
        three_at_once(Interval::from_millis(10), watch)
    });
}
