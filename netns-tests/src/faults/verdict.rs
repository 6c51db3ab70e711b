//! The verdict of a cell: from the holder timeline, the probe's requests and the excused spans over
//! the cell's window, the time with no VIP holder, the time with two holders past the bound, the
//! failed requests, and pass or fail against `Bounds` derived from RFC 5798's timers.

use std::fmt;
use std::time::Duration;

use super::probe::{PROBE_EVERY, Request};
use super::timeline::{Excused, Timeline};
use crate::daemon::pause::Span;
use crate::daemon::timing::Tolerance;
use crate::daemon::{Interval, master_down_interval, skew_time};

/// What a cell allows. Every bound is the protocol's figure plus `tolerance`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounds {
    /// The longest episode with no (counted) holder.
    pub no_holder: Duration,
    /// The longest episode with two or more holders outside `split`.
    pub two_holders: Duration,
    /// While the segment is split, two masters are the protocol's answer (RFC 5798 §6.4.2: a backup
    /// that hears no advert takes over): two holders are allowed inside this span, and for
    /// `two_holders` after its end.
    pub split: Option<Span>,
    /// The longest run of failed requests, as time (requests x 10 ms); `None`: not bounded (random
    /// loss fails requests that no router could answer).
    pub outage: Option<Duration>,
    /// How the bounds were reached, for the table.
    pub rule: String,
}

/// Scheduling on a loaded 2-core machine and the VIP's netlink round trip on top of a protocol
/// figure: the takeover tolerance measured in the failover tests (+25 ms at 10 ms adverts, +27 ms at
/// 100 ms: debug build, timer slack, both cores busy) plus 25 ms for the VIP add and the sampler's
/// 2 ms resolution, plus the longest stall of the sampler itself in the run (added by the verdict).
pub fn tolerance(interval: Interval) -> Duration {
    Tolerance::takeover(interval).late + Duration::from_millis(25)
}

impl Bounds {
    /// The master dies without a word (SIGKILL, a partition of the master): a backup takes over when
    /// its Master_Down_Timer fires, Master_Down_Interval after the last advert it received (RFC 5798
    /// §6.4.2), and that advert left up to one Advertisement_Interval before the fault. So: no holder
    /// for at most MDI(backup) + one interval + tolerance; two holders only while a takeover meets a
    /// late advert: one interval + tolerance.
    pub fn crash(interval: Interval, backup_priority: u8) -> Self {
        let tolerance = tolerance(interval);
        let no_holder =
            master_down_interval(interval, backup_priority) + interval.duration() + tolerance;
        Self {
            no_holder,
            two_holders: interval.duration() + tolerance,
            split: None,
            outage: Some(no_holder),
            rule: format!("MDI({backup_priority}) + I + tol"),
        }
    }

    /// The master resigns (SIGTERM, a restart): it sends priority 0 and the backup takes over after
    /// Skew_Time (RFC 5798 §6.4.2, "Priority zero"), so no holder for at most Skew_Time(backup) +
    /// tolerance; two holders as for `crash`.
    pub fn resign(interval: Interval, backup_priority: u8) -> Self {
        let tolerance = tolerance(interval);
        let no_holder = skew_time(interval, backup_priority) + tolerance;
        Self {
            no_holder,
            two_holders: interval.duration() + tolerance,
            split: None,
            outage: Some(no_holder),
            rule: format!("Skew({backup_priority}) + tol"),
        }
    }

    /// A split segment: two masters while `split` lasts; after the heal the better master's next
    /// advert (within one interval) makes the other step down (§6.4.3: a master hearing a higher
    /// priority becomes backup), and a backup that had timed out meanwhile needs at most
    /// MDI + one interval: two holders for at most MDI(lowest) + I + tolerance after the heal. The
    /// client on the majority side sees the crash bound.
    pub fn partition(interval: Interval, backup_priority: u8, split: Span) -> Self {
        let tolerance = tolerance(interval);
        let after_heal = master_down_interval(interval, 1) + interval.duration() + tolerance;
        Self {
            two_holders: after_heal,
            split: Some(split),
            rule: format!("split; MDI + I + tol after heal, MDI({backup_priority}) + I + tol"),
            ..Self::crash(interval, backup_priority)
        }
    }

    /// Random loss of `percent` % of the frames: a master only steps down for a better master or on
    /// shutdown (RFC 5798 §6.4.3), so the VIP always has a holder (tolerance only). A backup takes
    /// over when an MDI (3.4 to 3.6 intervals) passes without an advert, i.e. after 4 lost in a row,
    /// and yields at the better master's first advert that gets through: `k` more adverts are lost
    /// in a row with probability p^k, so two holders are allowed for `k` intervals + tolerance with
    /// the smallest `k` for which p^k < 0.5 % (5 at 30 %). The client's failures are not bounded
    /// (requests and answers are lost too).
    pub fn lossy(interval: Interval, percent: u32) -> Self {
        let tolerance = tolerance(interval);
        let lost = f64::from(percent.clamp(1, 99)) / 100.0;
        let rounds = (0.005f64.ln() / lost.ln()).ceil().max(1.0);
        let rounds = rounds as u32;
        Self {
            no_holder: tolerance,
            two_holders: interval.duration() * rounds + tolerance,
            split: None,
            outage: None,
            rule: format!("no gap; 2 holders {rounds} I + tol"),
        }
    }

    /// Every frame delayed by `delay`: the delay's onset leaves a gap of `delay` in the adverts, so
    /// where `delay` > MDI (10 ms adverts: MDI 34 ms < 50 ms) the backups take over until the delayed
    /// adverts arrive: two holders for at most `delay` + one interval + tolerance; the master never
    /// yields (no holder: tolerance only). The client waits `delay` each way.
    pub fn delayed(interval: Interval, delay: Duration) -> Self {
        let tolerance = tolerance(interval);
        Self {
            no_holder: tolerance,
            two_holders: delay + interval.duration() + tolerance,
            split: None,
            outage: Some(delay * 2 + tolerance),
            rule: "no gap; 2 holders delay + I + tol".into(),
        }
    }

    /// No bound on the probe's failures (random loss on the segment).
    pub fn without_outage(mut self) -> Self {
        self.outage = None;
        self
    }
}

/// What a cell measured and whether it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub cell: String,
    pub interval: Interval,
    pub no_holder_longest: Duration,
    pub no_holder_total: Duration,
    /// Two-holder time beyond what the bounds allow (0 when it passes).
    pub two_holders_past_bound: Duration,
    pub two_holders_longest: Duration,
    pub failed: usize,
    pub requests: usize,
    pub longest_failure_run: Duration,
    /// Requests answered by a router the sampler never saw holding the VIP around that time.
    pub wrong_answerer: usize,
    pub bounds: Bounds,
    /// The longest no-holder episode, and the two-holder episode furthest past its bound with the
    /// time it was allowed: what a machine pause could explain (`FaultLab::check_cell_watched`).
    pub no_holder_episode: Option<Span>,
    pub two_holders_episode: Option<(Span, Duration)>,
    /// Why it failed; empty when it passed.
    pub failures: Vec<String>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// Judge `window` of a run. The sampler's own longest stall widens the no-holder and
    /// two-holder bounds (it is the resolution of the timeline).
    pub fn judge(
        cell: &str,
        interval: Interval,
        window: Span,
        timeline: &Timeline,
        requests: &[Request],
        excused: &[Excused],
        bounds: Bounds,
    ) -> Self {
        let resolution = timeline.longest_sample_gap;
        let none = timeline.episodes(window, excused, |holders| holders.count() == 0);
        let two = timeline.episodes(window, excused, |holders| holders.count() >= 2);
        let longest = |spans: &[Span]| spans.iter().map(Span::length).max().unwrap_or_default();
        let past: Duration = two
            .iter()
            .map(|episode| past_bound(*episode, &bounds, resolution))
            .sum();
        let worst_two = two
            .iter()
            .max_by_key(|episode| past_bound(**episode, &bounds, resolution))
            .map(|episode| {
                let excess = past_bound(*episode, &bounds, resolution);
                (*episode, episode.length().saturating_sub(excess))
            });
        let in_window: Vec<&Request> = requests
            .iter()
            .filter(|request| window.start <= request.sent_at && request.sent_at < window.end)
            .collect();
        let failed = in_window.iter().filter(|r| !r.succeeded()).count();
        let run = longest_failure_run(&in_window);
        let wrong = in_window
            .iter()
            .filter(|request| !answered_by_a_holder(request, timeline, resolution))
            .count();
        let mut verdict = Self {
            cell: cell.to_owned(),
            interval,
            no_holder_longest: longest(&none),
            no_holder_total: none.iter().map(Span::length).sum(),
            two_holders_past_bound: past,
            two_holders_longest: longest(&two),
            failed,
            requests: in_window.len(),
            longest_failure_run: run,
            wrong_answerer: wrong,
            bounds,
            no_holder_episode: none.iter().copied().max_by_key(Span::length),
            two_holders_episode: worst_two,
            failures: Vec::new(),
        };
        verdict.check(resolution);
        verdict
    }

    fn check(&mut self, resolution: Duration) {
        let bounds = &self.bounds;
        let mut failures = Vec::new();
        if self.no_holder_longest > bounds.no_holder + resolution {
            failures.push(format!(
                "no VIP holder for {} (bound {})",
                ms(self.no_holder_longest),
                ms(bounds.no_holder + resolution)
            ));
        }
        if !self.two_holders_past_bound.is_zero() {
            failures.push(format!(
                "two VIP holders {} past the bound (longest episode {})",
                ms(self.two_holders_past_bound),
                ms(self.two_holders_longest)
            ));
        }
        if let Some(outage) = bounds.outage
            && self.longest_failure_run > outage + PROBE_EVERY * 2
        {
            failures.push(format!(
                "the client went {} without an answer (bound {})",
                ms(self.longest_failure_run),
                ms(outage + PROBE_EVERY * 2)
            ));
        }
        if self.wrong_answerer > 0 {
            failures.push(format!(
                "{} requests answered by a router not holding the VIP",
                self.wrong_answerer
            ));
        }
        if self.requests == 0 {
            failures.push("no request sent in the window".into());
        }
        self.failures = failures;
    }
}

/// How much of a two-holder `episode` the bounds do not allow.
fn past_bound(episode: Span, bounds: &Bounds, resolution: Duration) -> Duration {
    let allowed = bounds.two_holders + resolution;
    match bounds.split {
        Some(split) if episode.start < split.end + allowed && episode.end > split.start => {
            episode.end.saturating_sub(split.end + allowed)
        }
        _ => episode.length().saturating_sub(allowed),
    }
}

/// The longest stretch from a failed request to the next successful one, as time.
fn longest_failure_run(requests: &[&Request]) -> Duration {
    let mut longest = Duration::ZERO;
    let mut first_failed: Option<Duration> = None;
    for request in requests {
        match (request.succeeded(), first_failed) {
            (false, None) => first_failed = Some(request.sent_at),
            (true, Some(since)) => {
                longest = longest.max(request.sent_at.saturating_sub(since));
                first_failed = None;
            }
            _ => {}
        }
    }
    if let (Some(since), Some(last)) = (first_failed, requests.last()) {
        longest = longest.max(last.sent_at.saturating_sub(since) + PROBE_EVERY);
    }
    longest
}

/// Whether the router that answered held the VIP (in the raw timeline) between the request and the
/// answer, widened by the sampler's resolution.
fn answered_by_a_holder(request: &Request, timeline: &Timeline, resolution: Duration) -> bool {
    let Some((router, at)) = request.answer else {
        return true;
    };
    let from = request.sent_at.saturating_sub(resolution);
    let to = at + resolution;
    timeline.holders_at(from).contains(router)
        || timeline
            .changes()
            .iter()
            .any(|(when, holders)| *when >= from && *when <= to && holders.contains(router))
}

/// `12.3 ms`.
pub fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {} ms: no holder {} (longest; total {}), two holders past bound {}, failed {}/{} \
             (longest outage {}), {}",
            self.cell,
            self.interval.as_millis(),
            ms(self.no_holder_longest),
            ms(self.no_holder_total),
            ms(self.two_holders_past_bound),
            self.failed,
            self.requests,
            ms(self.longest_failure_run),
            if self.passed() {
                "PASS".to_owned()
            } else {
                format!("FAIL: {}", self.failures.join("; "))
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::timeline::Holders;

    fn ms_(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn request(sent: u64, answer: Option<(usize, u64)>) -> Request {
        Request {
            sent_at: ms_(sent),
            answer: answer.map(|(router, at)| (router, ms_(at))),
        }
    }

    /// A timeline sampled every 2 ms up to `end`, holding each `(from, holders)` from its time on.
    fn dense(steps: &[(u64, Holders)], end: u64) -> Timeline {
        let mut timeline = Timeline::new(2, ms_(0), steps[0].1);
        for at in (2..=end).step_by(2) {
            let holders = steps.iter().rev().find(|(from, _)| *from <= at).unwrap().1;
            timeline.record(ms_(at), holders);
        }
        timeline
    }

    #[test]
    fn a_crash_within_the_bound_passes_and_a_longer_gap_fails() {
        let interval = Interval::from_millis(100);
        let bounds = Bounds::crash(interval, 150);
        // MDI(150) = 341.4 ms, + 100 ms + 52.3 ms of tolerance.
        assert!(
            bounds.no_holder > ms_(493) && bounds.no_holder < ms_(494),
            "{bounds:?}"
        );
        let (one, other) = (Holders::NONE.with(0), Holders::NONE.with(1));
        let timeline = dense(&[(0, one), (1000, Holders::NONE), (1300, other)], 3000);
        let requests: Vec<Request> = (0..300)
            .map(|i| {
                let sent = 10 * i;
                let router = if sent < 1300 { 0 } else { 1 };
                let answered = !(1000..1300).contains(&sent);
                request(sent, answered.then_some((router, sent + 1)))
            })
            .collect();
        let window = Span::new(ms_(0), ms_(3000));
        let judge = |timeline: &Timeline| {
            Verdict::judge(
                "x",
                interval,
                window,
                timeline,
                &requests,
                &[],
                bounds.clone(),
            )
        };
        let verdict = judge(&timeline);
        assert!(verdict.passed(), "{verdict}");
        assert_eq!(verdict.no_holder_longest, ms_(300));
        assert_eq!((verdict.failed, verdict.requests), (30, 300));
        assert_eq!(verdict.longest_failure_run, ms_(300));
        let slow = dense(&[(0, one), (1000, Holders::NONE), (1600, other)], 3000);
        let verdict = judge(&slow);
        assert!(!verdict.passed());
        assert!(
            verdict.failures[0].starts_with("no VIP holder for 600.0 ms"),
            "{verdict}"
        );
    }

    #[test]
    fn two_holders_are_allowed_while_split_and_briefly_after_the_heal() {
        let interval = Interval::from_millis(100);
        let split = Span::new(ms_(1000), ms_(2000));
        let bounds = Bounds::partition(interval, 150, split);
        let (one, both) = (Holders::NONE.with(0), Holders::NONE.with(0).with(1));
        let healed = dense(&[(0, one), (1350, both), (2100, one)], 3000);
        let window = Span::new(ms_(0), ms_(3000));
        let requests = [request(0, Some((0, 1)))];
        let verdict = Verdict::judge(
            "p",
            interval,
            window,
            &healed,
            &requests,
            &[],
            bounds.clone(),
        );
        assert!(verdict.passed(), "{verdict}");
        let late = dense(&[(0, one), (1350, both), (2100, one), (3000, both)], 4000);
        let window = Span::new(ms_(0), ms_(4000));
        let verdict = Verdict::judge("p", interval, window, &late, &requests, &[], bounds);
        assert!(verdict.two_holders_past_bound > ms_(400), "{verdict}");
        assert!(!verdict.passed());
    }

    #[test]
    fn an_answer_from_a_router_without_the_vip_is_counted() {
        let timeline = Timeline::new(2, ms_(0), Holders::NONE.with(1));
        let good = request(10, Some((1, 11)));
        let wrong = request(20, Some((0, 21)));
        assert!(answered_by_a_holder(&good, &timeline, ms_(2)));
        assert!(!answered_by_a_holder(&wrong, &timeline, ms_(2)));
    }
}
