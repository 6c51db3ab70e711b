//! Telling a pause of the whole machine from a keepvip failure, from timestamps alone.
//!
//! This VM stops now and then for 30-90 ms, every process at once (two unrelated masters fall silent at
//! the same instant; `nice` does not help). At 10 ms adverts that is longer than a Master_Down_Interval
//! (32-36 ms), so a backup takes over, legitimately. A test may rerun only on positive evidence that
//! the machine, not keepvip, broke its precondition; two rules, both needing two independent witnesses:
//!
//! 1. Silence: a watched master, alive and left alone by the test (not killed, stopped or cut during
//!    its window, and it advertised again after the gap, which a dead process cannot), has two
//!    consecutive adverts in the capture (kernel timestamps) further apart than its backup's MDI; and
//!    the stall witness (a thread of the test process that wakes every millisecond) was stopped inside
//!    that gap long enough that, without the stop, the gap would have been an ordinary one: at most
//!    the interval plus the lateness the takeover tolerance allows (35 ms at 10 ms, 1.05 s at 1 s).
//! 2. Late measurement: a measured delay (a takeover, from capture timestamps) exceeds its bound, and
//!    the witness was stopped inside the measured window long enough that, without the stop, it
//!    would have been within the bound.
//!
//! A keepvip stall alone (its own event loop blocked) fails rule 1's second half: the witness thread
//! runs in another process and keeps waking.

use std::time::Duration;

/// A stretch of wall-clock time (since the Unix epoch, the clock the kernel stamps captures with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: Duration,
    pub end: Duration,
}

impl Span {
    pub fn new(start: Duration, end: Duration) -> Self {
        Self { start, end }
    }

    pub fn length(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }

    /// How much of `other` lies inside `self`.
    pub fn overlap(&self, other: &Span) -> Duration {
        self.end
            .min(other.end)
            .saturating_sub(self.start.max(other.start))
    }
}

/// When a watched router was master and the test left it alone: from `from` until `until` (the test
/// killed, stopped or cut it then), or to the end when the test never did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AliveWindow {
    pub from: Duration,
    pub until: Option<Duration>,
}

impl AliveWindow {
    fn contains(&self, at: Duration) -> bool {
        at >= self.from && self.until.is_none_or(|until| at <= until)
    }
}

/// A gap in a master's adverts and how long the machine was stopped inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Silence {
    pub gap: Span,
    pub stopped: Duration,
}

/// How long the stall witness was stopped inside `span`: the overlap of every recorded stall with it.
pub fn stopped_within(stalls: &[Span], span: Span) -> Duration {
    stalls.iter().map(|stall| span.overlap(stall)).sum()
}

/// The gaps between consecutive advert `stamps` (sorted) with both ends inside `window`. A gap that
/// reaches past `until` (the master the test killed, and whatever that address sent later) is not
/// the master's silence.
pub fn gaps_within(stamps: &[Duration], window: AliveWindow) -> Vec<Span> {
    let inside: Vec<Duration> = stamps
        .iter()
        .copied()
        .filter(|at| window.contains(*at))
        .collect();
    inside
        .windows(2)
        .map(|pair| Span::new(pair[0], pair[1]))
        .collect()
}

/// How long a master may be quiet: longer than `mdi` breaks a test (its backup takes over); up to
/// `ordinary` is an advert that was merely late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietLimits {
    pub mdi: Duration,
    pub ordinary: Duration,
}

/// Rule 1: the longest gap in `stamps` inside `window` that is longer than `limits.mdi` and that a
/// machine stop explains (`gap - stopped <= limits.ordinary`); `None` when there is none.
pub fn paused_silence(
    stamps: &[Duration],
    window: AliveWindow,
    limits: QuietLimits,
    stalls: &[Span],
) -> Option<Silence> {
    gaps_within(stamps, window)
        .into_iter()
        .filter(|gap| gap.length() > limits.mdi)
        .map(|gap| Silence {
            gap,
            stopped: stopped_within(stalls, gap),
        })
        .filter(|silence| silence.gap.length().saturating_sub(silence.stopped) <= limits.ordinary)
        .max_by_key(|silence| silence.gap.length())
}

/// Rule 2: when the delay `measured` spans is longer than `bound` and a machine stop inside it explains
/// the excess (`length - stopped <= bound`), how long the machine was stopped.
pub fn paused_measurement(measured: Span, bound: Duration, stalls: &[Span]) -> Option<Duration> {
    let length = measured.length();
    let stopped = stopped_within(stalls, measured);
    (length > bound && length.saturating_sub(stopped) <= bound).then_some(stopped)
}

/// Milliseconds with one decimal, for the messages.
pub fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    /// A 10 ms advert train from `from` to `to` (inclusive), with the adverts in `skip` missing.
    fn train(from: u64, to: u64, skip: std::ops::Range<u64>) -> Vec<Duration> {
        (from..=to)
            .step_by(10)
            .filter(|at| !skip.contains(at))
            .map(ms)
            .collect()
    }

    /// 10 ms adverts, a priority-100 backup: LIMITS 36.09 ms; ordinary gaps up to 10 + 25 ms.
    const LIMITS: QuietLimits = QuietLimits {
        mdi: Duration::from_micros(36_094),
        ordinary: Duration::from_millis(35),
    };

    fn open_from(from: u64) -> AliveWindow {
        AliveWindow {
            from: ms(from),
            until: None,
        }
    }

    #[test]
    fn a_silence_the_witness_also_saw_is_a_machine_pause() {
        // Adverts every 10 ms, none from 510 to 560: a 60 ms gap (500 -> 560); the witness was stopped
        // from 503 to 558.
        let stamps = train(0, 1000, 510..560);
        let stalls = [Span::new(ms(503), ms(558))];
        let found = paused_silence(&stamps, open_from(0), LIMITS, &stalls);
        assert_eq!(
            found,
            Some(Silence {
                gap: Span::new(ms(500), ms(560)),
                stopped: ms(55),
            })
        );
    }

    #[test]
    fn no_gap_longer_than_the_mdi_is_no_pause() {
        // A 30 ms gap (the master late twice) while the witness stalled: under the MDI, no pause.
        let stamps = train(0, 1000, 510..530);
        let stalls = [Span::new(ms(505), ms(528))];
        assert_eq!(paused_silence(&stamps, open_from(0), LIMITS, &stalls), None);
        // A steady train and no stalls.
        assert_eq!(
            paused_silence(&train(0, 1000, 0..0), open_from(0), LIMITS, &[]),
            None
        );
    }

    #[test]
    fn a_silence_the_witness_did_not_see_is_keepvips_own() {
        // The same 60 ms gap, but the test process kept waking: keepvip stalled, not the machine.
        let stamps = train(0, 1000, 510..560);
        assert_eq!(paused_silence(&stamps, open_from(0), LIMITS, &[]), None);
        // A short witness stall inside it does not explain 60 ms either (60 - 12 > 35).
        let short = [Span::new(ms(520), ms(532))];
        assert_eq!(paused_silence(&stamps, open_from(0), LIMITS, &short), None);
        // Nor does a long stall elsewhere.
        let elsewhere = [Span::new(ms(700), ms(760))];
        assert_eq!(
            paused_silence(&stamps, open_from(0), LIMITS, &elsewhere),
            None
        );
    }

    #[test]
    fn the_gap_at_the_moment_the_test_killed_the_master_does_not_count() {
        // The master's last advert is at 500; the test killed it at 505 and a restarted daemon on the
        // same address advertised from 900. The machine also stalled across the kill, for most of it.
        let mut stamps = train(0, 500, 0..0);
        stamps.extend(train(900, 1000, 0..0));
        let stalls = [Span::new(ms(502), ms(898))];
        let window = AliveWindow {
            from: ms(0),
            until: Some(ms(505)),
        };
        assert_eq!(paused_silence(&stamps, window, LIMITS, &stalls), None);
        assert!(
            gaps_within(&stamps, window)
                .iter()
                .all(|gap| gap.end <= ms(500))
        );
        // Without the window's end the same stamps would (wrongly) count: the end is what keeps it out.
        let wrong = paused_silence(&stamps, open_from(0), LIMITS, &stalls);
        assert_eq!(
            wrong.map(|silence| silence.gap),
            Some(Span::new(ms(500), ms(900)))
        );
    }

    #[test]
    fn at_1s_a_stall_must_explain_all_but_an_ordinary_gap() {
        // 1 s adverts, MDI 3.61 s: a 3.7 s gap is a takeover. A 150 ms stall inside it leaves 3.55 s
        // of the master's own lateness: keepvip's. A 2.8 s stall leaves 0.9 s: the machine's.
        let limits = QuietLimits {
            mdi: Duration::from_micros(3_609_375),
            ordinary: ms(1050),
        };
        let stamps = [ms(0), ms(1000), ms(4700), ms(5700)];
        let short = [Span::new(ms(2000), ms(2150))];
        assert_eq!(paused_silence(&stamps, open_from(0), limits, &short), None);
        let long = [Span::new(ms(1500), ms(4300))];
        let found = paused_silence(&stamps, open_from(0), limits, &long);
        assert_eq!(found.map(|silence| silence.stopped), Some(ms(2800)));
    }

    #[test]
    fn adverts_before_the_window_opened_do_not_count() {
        // A 60 ms gap at 500, but the router was only known to be master from 600.
        let stamps = train(0, 1000, 510..560);
        let stalls = [Span::new(ms(503), ms(558))];
        assert_eq!(
            paused_silence(&stamps, open_from(600), LIMITS, &stalls),
            None
        );
    }

    #[test]
    fn a_late_measurement_is_a_pause_only_when_a_stop_explains_the_excess() {
        let bound = ms(61);
        // A takeover 36 ms due, measured 90 ms: the machine stopped 40 ms inside it.
        let measured = Span::new(ms(1000), ms(1090));
        let stop = [Span::new(ms(1020), ms(1060))];
        assert_eq!(paused_measurement(measured, bound, &stop), Some(ms(40)));
        // Stopped only 20 ms: 70 ms without it, still late: keepvip's.
        let short = [Span::new(ms(1020), ms(1040))];
        assert_eq!(paused_measurement(measured, bound, &short), None);
        // Within the bound: nothing to explain.
        let on_time = Span::new(ms(1000), ms(1040));
        assert_eq!(paused_measurement(on_time, bound, &stop), None);
    }

    #[test]
    fn overlap_and_formatting() {
        let span = Span::new(ms(10), ms(20));
        assert_eq!(span.overlap(&Span::new(ms(15), ms(40))), ms(5));
        assert_eq!(span.overlap(&Span::new(ms(30), ms(40))), Duration::ZERO);
        assert_eq!(millis(Duration::from_micros(61_240)), "61.2 ms");
    }
}
