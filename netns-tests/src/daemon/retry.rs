//! Rerunning a scenario that a pause of the machine broke, and only that: the scenario tells a
//! `PauseWatch` what it relies on (its capture, the masters that must keep advertising and when the
//! test itself silenced them, the delays it measured); when it fails, the watch looks for the
//! evidence pause.rs defines. With evidence it prints `RETRY ...` and the scenario runs again in a
//! fresh lab (at most `MAX_RERUNS` times); without, the original panic goes on unchanged.

use std::io::Write as _;
use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::pause::{
    AliveWindow, QuietLimits, Span, gaps_within, millis, paused_measurement, paused_silence,
};
use super::running::{Keepvip, Transition, transitions_in};
use super::scenario::{BACKUP, MASTER};
use super::timing::{Interval, Tolerance, master_down_interval};
use super::wire::{adverts, wall_clock};
use super::witness::StallWitness;
use crate::capture::Capture;
use crate::pcap;

/// Reruns after the first attempt, each only on evidence of a machine pause.
pub const MAX_RERUNS: usize = 2;

/// A master the scenario relies on to keep advertising.
#[derive(Debug, Clone)]
struct Watched {
    who: String,
    addr: IpAddr,
    window: AliveWindow,
    limits: QuietLimits,
    /// Its log, and how often it had stepped down for a better master when the watch began.
    log: PathBuf,
    stepped_down_before: usize,
}

/// A delay the scenario measured and bounded.
#[derive(Debug, Clone)]
struct Measured {
    what: String,
    span: Span,
    bound: Duration,
}

#[derive(Default)]
struct Notes {
    captures: Vec<PathBuf>,
    masters: Vec<Watched>,
    measured: Vec<Measured>,
}

/// What one attempt of a scenario relies on, and the stall witness running beside it.
pub struct PauseWatch {
    notes: Mutex<Notes>,
    witness: StallWitness,
}

impl Default for PauseWatch {
    fn default() -> Self {
        Self::new()
    }
}

impl PauseWatch {
    /// A watch with its own stall witness running.
    pub fn new() -> Self {
        Self {
            notes: Mutex::new(Notes::default()),
            witness: StallWitness::start(),
        }
    }

    fn notes(&self) -> MutexGuard<'_, Notes> {
        self.notes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The capture the evidence is read from (its file outlives a failed attempt: the lab keeps it).
    pub fn capture(&self, capture: &Capture) {
        self.notes().captures.push(capture.path().to_owned());
    }

    /// `daemon` at `addr` is master from now on and must keep advertising every `interval`: a backup
    /// of priority `listener` listens to it.
    pub fn master(&self, daemon: &Keepvip, addr: IpAddr, interval: Interval, listener: u8) {
        let log = daemon.proc().stderr_path().to_owned();
        let stepped_down_before = stepped_down_count(&transitions_in(&daemon.logs()));
        self.notes().masters.push(Watched {
            who: format!("{} ({addr})", daemon.label()),
            addr,
            window: AliveWindow {
                from: wall_clock(),
                until: None,
            },
            limits: quiet_limits(interval, listener),
            log,
            stepped_down_before,
        });
    }

    /// The test is about to kill, stop or cut off the master at `addr`: its window ends now.
    pub fn silencing(&self, addr: IpAddr) {
        let now = wall_clock();
        for watched in self.notes().masters.iter_mut() {
            if watched.addr == addr && watched.window.until.is_none() {
                watched.window.until = Some(now);
            }
        }
    }

    /// The scenario measured `what` over `span` (capture timestamps) and requires at most `bound`.
    pub fn measured(&self, what: &str, span: Span, bound: Duration) {
        self.notes().measured.push(Measured {
            what: what.to_owned(),
            span,
            bound,
        });
    }

    /// The evidence of a machine pause, as the RETRY line states it; or why there is none.
    pub fn machine_pause(&self) -> Result<String, String> {
        let notes = self.notes();
        let stalls = self.witness.stalls();
        for measured in &notes.measured {
            if let Some(stopped) = paused_measurement(measured.span, measured.bound, &stalls) {
                return Ok(format!(
                    "{} took {} (> bound {}) while the machine stood still for {} of it \
                     (stall witness)",
                    measured.what,
                    millis(measured.span.length()),
                    millis(measured.bound),
                    millis(stopped)
                ));
            }
        }
        let mut frames = Vec::new();
        for path in &notes.captures {
            let pcap = pcap::read(path).map_err(|err| format!("capture unreadable: {err}"))?;
            frames.extend(pcap.frames);
        }
        let heard: Vec<(IpAddr, Duration)> = adverts(&frames)
            .iter()
            .map(|advert| (advert.src, advert.timestamp))
            .collect();
        let mut largest_gap = Duration::ZERO;
        for watched in &notes.masters {
            // Only a master the test left alone can have stepped down on its own.
            let log = std::fs::read_to_string(&watched.log).unwrap_or_default();
            let stepped_down = watched.window.until.is_none()
                && stepped_down_count(&transitions_in(&log)) > watched.stepped_down_before;
            let stamps = silence_stamps(watched.addr, &heard, watched.window.from, stepped_down);
            let gaps = gaps_within(&stamps, watched.window);
            let largest = gaps.iter().map(Span::length).max().unwrap_or_default();
            largest_gap = largest_gap.max(largest);
            if let Some(silence) = paused_silence(&stamps, watched.window, watched.limits, &stalls)
            {
                let alive = if stepped_down && stamps.last() == Some(&silence.gap.end) {
                    "it stepped down when the other master spoke"
                } else {
                    "it advertised again after it"
                };
                return Ok(format!(
                    "{} went silent for {} (> MDI {}) while its process was alive ({alive}); \
                     the stall witness stood still for {} of it",
                    watched.who,
                    millis(silence.gap.length()),
                    millis(watched.limits.mdi),
                    millis(silence.stopped)
                ));
            }
        }
        let longest_stall = stalls.iter().map(Span::length).max().unwrap_or_default();
        Err(format!(
            "largest advert gap of a watched live master {}, longest machine stall {}",
            millis(largest_gap),
            millis(longest_stall)
        ))
    }
}

/// A master at `interval` heard by a backup of priority `listener`: quiet longer than the backup's
/// Master_Down_Interval breaks a test; up to the interval plus the takeover tolerance's lateness is
/// an ordinary late advert.
pub fn quiet_limits(interval: Interval, listener: u8) -> QuietLimits {
    QuietLimits {
        mdi: master_down_interval(interval, listener),
        ordinary: interval.duration() + Tolerance::takeover(interval).late,
    }
}

/// How often a daemon stepped down from MASTER because it heard a better master (RFC 5798 §6.4.3
/// (725)), by its `transition` log lines.
fn stepped_down_count(transitions: &[Transition]) -> usize {
    transitions
        .iter()
        .filter(|t| t.from == MASTER && t.to == BACKUP && t.reason == "preempted")
        .count()
}

/// The advert times of `own` from `from` on, among every advert `heard` (source, time). When `own`
/// stepped down for a better master (its log says so: alive, and rightly quiet from then on), its
/// silence ends with the first advert anyone else sent after its last one: the advert that made it
/// step down, from the backup whose timer that silence let run out.
pub fn silence_stamps(
    own: IpAddr,
    heard: &[(IpAddr, Duration)],
    from: Duration,
    stepped_down: bool,
) -> Vec<Duration> {
    let mut stamps: Vec<Duration> = heard
        .iter()
        .filter(|(src, at)| *src == own && *at >= from)
        .map(|(_, at)| *at)
        .collect();
    stamps.sort_unstable();
    if let (true, Some(&last)) = (stepped_down, stamps.last()) {
        let next_other = heard
            .iter()
            .filter(|(src, at)| *src != own && *at > last)
            .map(|(_, at)| *at)
            .min();
        stamps.extend(next_other);
    }
    stamps
}

/// One line straight to the process's stderr: the test harness captures `eprintln!` of a passing
/// test, and a rerun must show in CI logs even when the rerun passed.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Run `scenario`; when it fails, rerun it (fresh watch, so a fresh lab) only if its watch shows a
/// machine pause, printing `RETRY <test>: machine pause detected: ...`; at most `MAX_RERUNS` times.
/// Any other failure goes on at once with its own panic.
pub fn retry_on_machine_pause(test: &str, scenario: impl Fn(&PauseWatch)) {
    for attempt in 0..=MAX_RERUNS {
        let watch = PauseWatch::new();
        let Err(panic) = catch_unwind(AssertUnwindSafe(|| scenario(&watch))) else {
            return;
        };
        match watch.machine_pause() {
            Ok(evidence) if attempt < MAX_RERUNS => {
                say(&format!("RETRY {test}: machine pause detected: {evidence}"));
            }
            Ok(evidence) => {
                say(&format!(
                    "PAUSE-CHECK {test}: machine pause detected again ({evidence}), but the \
                     {MAX_RERUNS} reruns are spent: failing"
                ));
                resume_unwind(panic);
            }
            Err(none) => {
                say(&format!(
                    "PAUSE-CHECK {test}: no machine pause in evidence ({none}): failing"
                ));
                resume_unwind(panic);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const OWN: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
    const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn a_master_that_stepped_down_is_silent_until_the_advert_that_made_it() {
        // Own adverts every 10 ms to 500, then silence; the other router's MDI ran out and it
        // advertised from 540 (the machine stood still 502-538).
        let mut heard: Vec<(IpAddr, Duration)> =
            (0..=50).map(|tick| (OWN, ms(tick * 10))).collect();
        heard.extend((54..60).map(|tick| (OTHER, ms(tick * 10))));
        let stamps = silence_stamps(OWN, &heard, ms(100), true);
        assert_eq!(stamps.first(), Some(&ms(100)));
        assert_eq!(&stamps[stamps.len() - 2..], &[ms(500), ms(540)]);
        let window = AliveWindow {
            from: ms(100),
            until: None,
        };
        let stalls = [Span::new(ms(502), ms(538))];
        // The old master (priority 200) listens: MDI 32.19 ms.
        let limits = quiet_limits(Interval::from_millis(10), 200);
        assert_eq!(limits.mdi, Duration::from_nanos(32_187_500));
        let silence = paused_silence(&stamps, window, limits, &stalls).unwrap();
        assert_eq!(silence.gap, Span::new(ms(500), ms(540)));
        // Without a logged step-down the silence is open: no evidence.
        let open = silence_stamps(OWN, &heard, ms(100), false);
        assert_eq!(open.last(), Some(&ms(500)));
        assert_eq!(paused_silence(&open, window, limits, &stalls), None);
    }

    #[test]
    fn only_stepping_down_for_a_better_master_counts() {
        let transition = |from: &str, to: &str, reason: &str| Transition {
            instance: "VI_1".into(),
            from: from.into(),
            to: to.into(),
            reason: reason.into(),
            priority: 100,
        };
        let log = [
            transition("BACKUP", "MASTER", "master_down"),
            transition("MASTER", "BACKUP", "preempted"),
            transition("MASTER", "FAULT", "fault_link_down"),
        ];
        assert_eq!(stepped_down_count(&log), 1);
    }

    #[test]
    fn a_failure_without_evidence_fails_at_once_with_its_own_message() {
        let attempts = std::sync::atomic::AtomicUsize::new(0);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            retry_on_machine_pause("synthetic", |_watch| {
                attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                panic!("the backup must not advertise");
            });
        }));
        let payload = outcome.unwrap_err();
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"the backup must not advertise")
        );
        assert_eq!(attempts.load(std::sync::atomic::Ordering::Relaxed), 1);
        // And a passing scenario runs once.
        retry_on_machine_pause("synthetic", |_watch| {
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(attempts.load(std::sync::atomic::Ordering::Relaxed), 2);
    }
}
