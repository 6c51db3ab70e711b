//! `track_script`: a command run every interval; exit 0 is a success, anything else (a non-zero
//! status, a signal, the timeout, a command that cannot be started, 126 or 127) a failure. `fall`
//! failures in a row make an OK script KO, `rise` successes in a row make a KO script OK. One task per
//! script, however many instances track it: they all get the same reading.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::{Reading, Report, ReportSender, TrackId};
use crate::exec::{self, Outcome};

/// What to run and how to judge it.
#[derive(Debug, Clone)]
pub struct ScriptSpec {
    pub name: String,
    pub command: exec::Command,
    pub interval: Duration,
    pub rise: u32,
    pub fall: u32,
    /// The status before the first result: `None` lets the first result decide at once (keepalived's
    /// INIT state); `Some(false)` is keepalived's `init_fail` (KO until `rise` successes).
    pub initial: Option<bool>,
}

/// The last run of a script, for `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRun {
    pub tracker: TrackId,
    pub success: bool,
    /// What happened, e.g. "exited with status 1".
    pub outcome: String,
    pub duration: Duration,
}

/// The rise / fall rule: the state flips only after `rise` successes or `fall` failures in a row;
/// before any result (`ok` is `None`) the first one decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiseFall {
    ok: Option<bool>,
    streak: u32,
    rise: u32,
    fall: u32,
}

impl RiseFall {
    pub fn new(initial: Option<bool>, rise: u32, fall: u32) -> RiseFall {
        RiseFall {
            ok: initial,
            streak: 0,
            rise: rise.max(1),
            fall: fall.max(1),
        }
    }

    pub fn is_ok(&self) -> Option<bool> {
        self.ok
    }

    /// Records one result; returns the state when it is decided or flips.
    pub fn record(&mut self, success: bool) -> Option<bool> {
        let Some(ok) = self.ok else {
            self.ok = Some(success);
            return Some(success);
        };
        if success == ok {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        let needed = if success { self.rise } else { self.fall };
        if self.streak < needed {
            return None;
        }
        self.ok = Some(success);
        self.streak = 0;
        Some(success)
    }
}

/// Runs the script every `interval` until aborted; reports every flip of its state, and every run.
pub fn spawn(
    tracker: TrackId,
    spec: ScriptSpec,
    reports: ReportSender,
    runs: mpsc::Sender<ScriptRun>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut state = RiseFall::new(spec.initial, spec.rise, spec.fall);
        // A state known before any run (init_fail) is reported at once.
        if let Some(ok) = spec.initial {
            let reading = if ok { Reading::Ok } else { Reading::Ko };
            if reports.send(Report { tracker, reading }).await.is_err() {
                return;
            }
        }
        let mut ticks = tokio::time::interval(spec.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_failure: Option<String> = None;
        loop {
            ticks.tick().await;
            let finished = exec::run(&spec.command).await;
            let success = finished.outcome.is_success();
            log_run(&spec, &finished.outcome, &mut last_failure);
            let run = ScriptRun {
                tracker,
                success,
                outcome: finished.outcome.to_string(),
                duration: finished.duration,
            };
            if runs.send(run).await.is_err() {
                return;
            }
            if let Some(ok) = state.record(success) {
                info!(script = %spec.name, ok, "track script changed state");
                let reading = if ok { Reading::Ok } else { Reading::Ko };
                if reports.send(Report { tracker, reading }).await.is_err() {
                    return;
                }
            }
        }
    })
}

/// A failure is logged when it starts or changes; one that cannot even start names the path loudly.
fn log_run(spec: &ScriptSpec, outcome: &Outcome, last_failure: &mut Option<String>) {
    if outcome.is_success() {
        if last_failure.take().is_some() {
            info!(script = %spec.name, "track script succeeds again");
        }
        return;
    }
    let text = outcome.to_string();
    if last_failure.as_deref() == Some(text.as_str()) {
        return;
    }
    let command = spec.command.argv.join(" ");
    if outcome.could_not_run() {
        warn!(script = %spec.name, %command, outcome = %text, "track script cannot be run: counted as a failure");
    } else {
        warn!(script = %spec.name, %command, outcome = %text, "track script failed");
    }
    *last_failure = Some(text);
}

#[cfg(test)]
mod tests {
    use super::RiseFall;

    #[test]
    fn the_first_result_decides_at_once_whatever_rise_and_fall_are() {
        let mut state = RiseFall::new(None, 5, 5);
        assert_eq!(state.is_ok(), None);
        assert_eq!(state.record(false), Some(false));
        assert_eq!(state.record(true), None, "then it takes 5 to rise");
    }

    #[test]
    fn fall_failures_in_a_row_make_it_ko_and_rise_successes_ok_again() {
        let mut state = RiseFall::new(Some(true), 2, 3);
        assert_eq!(state.record(false), None);
        assert_eq!(state.record(false), None);
        assert_eq!(state.record(true), None, "a success breaks the streak");
        assert_eq!(state.record(false), None);
        assert_eq!(state.record(false), None);
        assert_eq!(state.record(false), Some(false));
        assert_eq!(state.is_ok(), Some(false));
        assert_eq!(state.record(true), None);
        assert_eq!(state.record(true), Some(true));
        assert_eq!(state.record(true), None, "no flip while it stays OK");
    }

    #[test]
    fn init_fail_starts_ko_and_one_success_with_rise_1_makes_it_ok() {
        let mut state = RiseFall::new(Some(false), 1, 1);
        assert_eq!(state.is_ok(), Some(false));
        assert_eq!(state.record(true), Some(true));
    }
}
