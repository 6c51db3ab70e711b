//! Live tests of the process tracker: real `sleep` processes, each with an argument no other test
//! uses, followed through the proc connector and through polling.

use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use super::*;

/// A `sleep` that is killed and reaped on drop, whatever the test's outcome.
struct Sleeper(Child);

impl Sleeper {
    fn start(arg: &str) -> Sleeper {
        Sleeper(Command::new("sleep").arg(arg).spawn().unwrap())
    }

    /// Started through `unshare --net`, which execs it in a new network namespace.
    fn start_elsewhere(arg: &str) -> Sleeper {
        let child = Command::new("unshare")
            .args(["--net", "sleep", arg])
            .spawn()
            .unwrap();
        Sleeper(child)
    }

    fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An argument for `sleep` that only this call's processes have: `3000.<pid><n>`.
fn unique_arg() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("3000.{}{n:03}", std::process::id())
}

fn sleep_spec(arg: &str) -> ProcessSpec {
    ProcessSpec {
        args: Some(arg.to_string()),
        ..ProcessSpec::new("sleep")
    }
}

fn start(spec: ProcessSpec, mode: Mode) -> (mpsc::Receiver<Report>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(16);
    (rx, spawn_with(TrackId(7), spec, tx, mode))
}

/// The next reading, within `within`.
async fn next(rx: &mut mpsc::Receiver<Report>, within: Duration) -> Option<Reading> {
    let report = tokio::time::timeout(within, rx.recv()).await.ok()??;
    assert_eq!(report.tracker, TrackId(7));
    Some(report.reading)
}

/// Whether this machine lets us subscribe (root in the initial network namespace).
fn events_available() -> bool {
    let ok = Connector::open().is_ok();
    if !ok {
        eprintln!("proc connector unavailable here: event-mode timings not checked");
    }
    ok
}

/// Event mode reacts well under the poll period; polling within one period and a margin.
const EVENT_SOON: Duration = Duration::from_millis(400);
const POLL_SOON: Duration = Duration::from_millis(2500);

#[tokio::test]
async fn event_mode_sees_start_and_kill_at_once() {
    let within = if events_available() {
        EVENT_SOON
    } else {
        POLL_SOON
    };
    let arg = unique_arg();
    let (mut rx, task) = start(sleep_spec(&arg), Mode::Events);
    assert_eq!(next(&mut rx, within).await, Some(Reading::Ko));
    let sleeper = Sleeper::start(&arg);
    assert_eq!(next(&mut rx, within).await, Some(Reading::Ok));
    sleeper.stop();
    assert_eq!(next(&mut rx, within).await, Some(Reading::Ko));
    task.abort();
}

#[tokio::test]
async fn running_at_start_is_ok_at_once() {
    let arg = unique_arg();
    let _sleeper = Sleeper::start(&arg);
    // Wait for the exec, so that the initial scan sees `sleep` and not the forked test binary.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (mut rx, task) = start(sleep_spec(&arg), Mode::Events);
    assert_eq!(next(&mut rx, EVENT_SOON).await, Some(Reading::Ok));
    task.abort();
}

#[tokio::test]
async fn poll_mode_sees_start_and_kill() {
    let arg = unique_arg();
    let (mut rx, task) = start(sleep_spec(&arg), Mode::Poll);
    assert_eq!(next(&mut rx, EVENT_SOON).await, Some(Reading::Ko));
    let sleeper = Sleeper::start(&arg);
    assert_eq!(next(&mut rx, POLL_SOON).await, Some(Reading::Ok));
    sleeper.stop();
    assert_eq!(next(&mut rx, POLL_SOON).await, Some(Reading::Ko));
    task.abort();
}

#[tokio::test]
async fn quorum_two_needs_two_processes() {
    let within = if events_available() {
        EVENT_SOON
    } else {
        POLL_SOON
    };
    let arg = unique_arg();
    let _one = Sleeper::start(&arg);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let spec = ProcessSpec {
        quorum: 2,
        ..sleep_spec(&arg)
    };
    let (mut rx, task) = start(spec, Mode::Events);
    assert_eq!(next(&mut rx, within).await, Some(Reading::Ko));
    let two = Sleeper::start(&arg);
    assert_eq!(next(&mut rx, within).await, Some(Reading::Ok));
    two.stop();
    assert_eq!(next(&mut rx, within).await, Some(Reading::Ko));
    task.abort();
}

#[tokio::test]
async fn quorum_max_one_is_ko_with_two() {
    let arg = unique_arg();
    let _one = Sleeper::start(&arg);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let spec = ProcessSpec {
        quorum_max: Some(1),
        ..sleep_spec(&arg)
    };
    let (mut rx, task) = start(spec, Mode::Events);
    assert_eq!(next(&mut rx, EVENT_SOON).await, Some(Reading::Ok));
    let two = Sleeper::start(&arg);
    assert_eq!(next(&mut rx, POLL_SOON).await, Some(Reading::Ko));
    two.stop();
    assert_eq!(next(&mut rx, POLL_SOON).await, Some(Reading::Ok));
    task.abort();
}

#[tokio::test]
async fn terminate_delay_holds_the_ko() {
    if !events_available() {
        return;
    }
    let arg = unique_arg();
    let sleeper = Sleeper::start(&arg);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let spec = ProcessSpec {
        terminate_delay: Duration::from_millis(600),
        ..sleep_spec(&arg)
    };
    let (mut rx, task) = start(spec, Mode::Events);
    assert_eq!(next(&mut rx, EVENT_SOON).await, Some(Reading::Ok));
    sleeper.stop();
    assert_eq!(next(&mut rx, Duration::from_millis(400)).await, None);
    assert_eq!(next(&mut rx, EVENT_SOON).await, Some(Reading::Ko));
    // A restart within terminate_delay is never reported.
    let again = Sleeper::start(&arg);
    assert_eq!(next(&mut rx, EVENT_SOON).await, Some(Reading::Ok));
    again.stop();
    let back = Sleeper::start(&arg);
    assert_eq!(next(&mut rx, Duration::from_millis(900)).await, None);
    drop(back);
    task.abort();
}

#[tokio::test]
async fn same_netns_ignores_processes_of_other_namespaces() {
    let within = if events_available() {
        EVENT_SOON
    } else {
        POLL_SOON
    };
    let arg = unique_arg();
    let elsewhere = Sleeper::start_elsewhere(&arg);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (mut all, all_task) = start(sleep_spec(&arg), Mode::Events);
    let spec = ProcessSpec {
        same_netns: true,
        ..sleep_spec(&arg)
    };
    let (mut ours, ours_task) = start(spec, Mode::Events);
    if next(&mut all, within).await != Some(Reading::Ok) {
        // `unshare --net` failed (not root): nothing to compare.
        eprintln!("no process in another network namespace: same_netns not checked");
        return;
    }
    assert_eq!(next(&mut ours, within).await, Some(Reading::Ko));
    let here = Sleeper::start(&arg);
    assert_eq!(next(&mut ours, within).await, Some(Reading::Ok));
    drop((here, elsewhere));
    all_task.abort();
    ours_task.abort();
}

#[tokio::test]
async fn ends_when_the_daemon_stops_listening() {
    let (rx, task) = start(sleep_spec(&unique_arg()), Mode::Events);
    drop(rx);
    tokio::time::timeout(Duration::from_secs(1), task)
        .await
        .unwrap()
        .unwrap();
}
