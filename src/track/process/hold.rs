//! The quorum and the delays of a process tracker: from the count of matching processes, whether
//! the tracker is OK, and when a change of that has held long enough to be reported. Pure (time
//! is passed in), so the rules are tested without processes or clocks.
//!
//! keepalived (`check_process_fork`, `check_process_termination` and the quorum timers in
//! `keepalived/core/track_process.c`) delays a change caused by processes appearing by
//! `fork_delay` and one caused by processes going by `terminate_delay`, whichever way the
//! change goes (above `quorum_max` a fork makes the tracker KO); a change undone before its
//! delay ends is never reported. keepvip applies the same rule to every change of the count
//! (keepalived reports exec and comm changes at once): the delay is picked by the count change
//! that made the state differ from the one reported, and further count changes in the same
//! direction of state do not restart it.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone)]
pub(super) struct Hold {
    quorum: u32,
    quorum_max: Option<u32>,
    fork_delay: Duration,
    terminate_delay: Duration,
    /// The state last reported.
    reported: bool,
    /// A state that differs from the one reported, and when it may be reported.
    pending: Option<(bool, Instant)>,
}

impl Hold {
    /// Starts from an initial count, reported as is (no delay at startup).
    pub(super) fn new(
        quorum: u32,
        quorum_max: Option<u32>,
        delays: (Duration, Duration),
        count: usize,
    ) -> Hold {
        let mut hold = Hold {
            quorum,
            quorum_max,
            fork_delay: delays.0,
            terminate_delay: delays.1,
            reported: false,
            pending: None,
        };
        hold.reported = hold.ok(count);
        hold
    }

    /// OK when quorum <= count <= quorum_max.
    pub(super) fn ok(&self, count: usize) -> bool {
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        count >= self.quorum && self.quorum_max.is_none_or(|max| count <= max)
    }

    pub(super) fn reported(&self) -> bool {
        self.reported
    }

    /// The count went from `old` to `new` at `now`: the state to report now, if any.
    pub(super) fn count_changed(&mut self, old: usize, new: usize, now: Instant) -> Option<bool> {
        let want = self.ok(new);
        if want == self.reported {
            // Back to what was reported before the delay ended: nothing to say.
            self.pending = None;
            return None;
        }
        if self.pending.is_some_and(|(state, _)| state == want) || old == new {
            return None;
        }
        let delay = if new > old {
            self.fork_delay
        } else {
            self.terminate_delay
        };
        if delay.is_zero() {
            self.reported = want;
            self.pending = None;
            return Some(want);
        }
        self.pending = Some((want, now + delay));
        None
    }

    /// When the pending change, if any, is due.
    pub(super) fn due_at(&self) -> Option<Instant> {
        self.pending.map(|(_, at)| at)
    }

    /// The state to report at `now`, if a pending change has held until then.
    pub(super) fn poll(&mut self, now: Instant) -> Option<bool> {
        let (state, at) = self.pending?;
        if at > now {
            return None;
        }
        self.pending = None;
        self.reported = state;
        Some(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn hold(quorum: u32, max: Option<u32>, fork: u64, term: u64, count: usize) -> Hold {
        let d = |s| Duration::from_secs(s);
        Hold::new(quorum, max, (d(fork), d(term)), count)
    }

    #[test]
    fn quorum_bounds() {
        let h = hold(2, Some(3), 0, 0, 0);
        assert_eq!(
            [0, 1, 2, 3, 4].map(|n| h.ok(n)),
            [false, false, true, true, false]
        );
        assert!(hold(1, None, 0, 0, 0).ok(10_000));
        // quorum_max 0: OK only while none runs.
        let none = hold(0, Some(0), 0, 0, 0);
        assert!(none.ok(0) && !none.ok(1));
    }

    #[test]
    fn without_delay_changes_report_at_once() {
        let t = Instant::now();
        let mut h = hold(1, None, 0, 0, 0);
        assert!(!h.reported());
        assert_eq!(h.count_changed(0, 1, t), Some(true));
        assert_eq!(h.count_changed(1, 2, t), None);
        assert_eq!(h.count_changed(2, 0, t), Some(false));
        assert_eq!(h.due_at(), None);
    }

    #[test]
    fn fork_delay_holds_a_rise_and_terminate_delay_a_drop() {
        let t = Instant::now();
        let mut h = hold(1, None, 2, 5, 0);
        assert_eq!(h.count_changed(0, 1, t), None);
        assert_eq!(h.due_at(), Some(t + 2 * S));
        assert_eq!(h.poll(t + S), None);
        // More processes do not restart the wait.
        assert_eq!(h.count_changed(1, 2, t + S), None);
        assert_eq!(h.poll(t + 2 * S), Some(true));
        assert_eq!(h.count_changed(2, 0, t + 3 * S), None);
        assert_eq!(h.due_at(), Some(t + 8 * S));
        assert_eq!(h.poll(t + 8 * S), Some(false));
    }

    #[test]
    fn a_bounce_shorter_than_the_delay_is_not_reported() {
        let t = Instant::now();
        let mut h = hold(1, None, 0, 3, 1);
        assert!(h.reported());
        assert_eq!(h.count_changed(1, 0, t), None);
        // Restarted before terminate_delay ended (fork_delay 0 does not report: no change).
        assert_eq!(h.count_changed(0, 1, t + S), None);
        assert_eq!(h.due_at(), None);
        assert_eq!(h.poll(t + 10 * S), None);
    }

    #[test]
    fn above_quorum_max_a_fork_is_delayed_by_fork_delay() {
        let t = Instant::now();
        let mut h = hold(1, Some(1), 4, 0, 1);
        assert_eq!(h.count_changed(1, 2, t), None);
        assert_eq!(h.due_at(), Some(t + 4 * S));
        // The extra process goes before fork_delay ends: still OK, nothing reported.
        assert_eq!(h.count_changed(2, 1, t + S), None);
        assert_eq!(h.poll(t + 5 * S), None);
        // It stays this time.
        assert_eq!(h.count_changed(1, 2, t + 6 * S), None);
        assert_eq!(h.poll(t + 10 * S), Some(false));
        // Back to one: a drop, terminate_delay 0, reported at once.
        assert_eq!(h.count_changed(2, 1, t + 11 * S), Some(true));
    }
}
