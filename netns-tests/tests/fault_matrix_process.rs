//! The fault matrix, process cells (issue 13): faults on a keepvip daemon of a three-router lab
//! (priorities 200/150/100, one VIP) while a client sends a request to the VIP every 10 ms and a
//! sampler watches every router's kernel for the VIP. Each cell prints its verdict and the table
//! (`target/fault-matrix/table.md`); the bounds and tolerances are `faults::Bounds`' (RFC 5798
//! timers plus a tolerance for a loaded 2-core machine). Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::time::Duration;

use netns_tests::daemon::Interval;
use netns_tests::daemon::pause::Span;
use netns_tests::daemon::scenario::MASTER;
use netns_tests::daemon::wire::wall_clock;
use netns_tests::faults::{Bounds, FaultLab, LabPlan, PRIORITIES, Verdict, table};

const GROUP: &str = "process";

/// Steady time before a fault and after its outcome: enough adverts for a late transition to show.
fn steady(interval: Interval) -> Duration {
    interval.duration() * 10 + Duration::from_millis(200)
}

fn judge(lab: &FaultLab, cell: &str, from: Duration, bounds: Bounds) {
    let window = Span::new(from, wall_clock());
    let verdict = Verdict::judge(
        cell,
        lab.interval(),
        window,
        &lab.timeline(),
        &lab.requests(),
        &lab.excused(),
        bounds,
    );
    table::record(GROUP, &verdict).unwrap();
    assert!(verdict.passed(), "{verdict}\n{}", lab.describe());
}

/// SIGKILL of the master: router 1 (150) takes over within MDI(150) + one interval; then router 0
/// restarts, clears its stale VIP and preempts back (one holder again within one interval).
fn sigkill(interval: Interval) {
    let mut lab = FaultLab::start("fmkill", LabPlan::new(3, interval)).unwrap();
    std::thread::sleep(steady(interval));
    let from = wall_clock();
    lab.kill(0).unwrap();
    lab.wait_state(1, MASTER).unwrap();
    std::thread::sleep(steady(interval));
    lab.restart(0).unwrap();
    lab.wait_settled(0).unwrap();
    std::thread::sleep(steady(interval));
    judge(
        &lab,
        "SIGKILL",
        from,
        Bounds::crash(interval, PRIORITIES[1]),
    );
}

#[test]
fn sigkill_100ms() {
    sigkill(Interval::from_millis(100));
}

#[test]
fn sigkill_10ms() {
    sigkill(Interval::from_millis(10));
}
