//! The invariants, checked continuously as the lab's observations come in: every observation carries
//! its time since the soak started, each stream arrives in time order, and a fault's window is opened
//! before anything it causes can be observed (the driver opens it before injecting, and feeds the
//! streams only up to a lag behind the present).
//!
//! The bounds (RFC 5798 §6.4): a backup takes over Master_Down_Interval (MDI = 3 x interval +
//! Skew_Time) after the master's last advert, so the VIP may be on no host for at most the longest MDI
//! plus one interval (the new master's first advert and VIP install) plus the scheduling tolerance. Two
//! hosts may hold it at once while a higher-priority master takes over (the loser drops it on the
//! first advert it hears: one interval plus the tolerance). A fault on one router takes that router
//! out of the two-holder count while it lasts and for MDI + one interval + tolerance after it ends:
//! a stopped or killed daemon cannot drop its VIP (the kernel keeps it), a partitioned or flapping
//! router hears nobody; the others must still agree among themselves. Loss and delay on the whole
//! segment excuse two holders anywhere, for as long. A killed router's leftover VIP does not count as
//! a holder until its daemon is back (nobody answers for it).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::schedule::FaultKind;

/// The protocol's figures for the lab and the tolerance allowed on top of them.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub interval: Duration,
    /// The longest Master_Down_Interval of the lab (its lowest priority).
    pub mdi: Duration,
    /// Scheduling and measurement slack on a loaded machine (sampler period, netlink, wakeups).
    pub tolerance: Duration,
    /// A steady master's adverts may be this far apart at most.
    pub late_advert: Duration,
}

impl Bounds {
    /// Two holders outside a fault: one interval for the loser to hear the winner, plus tolerance.
    pub fn two_holders(&self) -> Duration {
        self.interval + self.tolerance
    }

    /// No holder: a backup's MDI, then one interval for it to become master and install the VIP.
    pub fn no_holder(&self) -> Duration {
        self.mdi + self.interval + self.tolerance
    }

    /// After a fault ends: MDI + one interval for the lab to settle again, plus tolerance.
    pub fn recovery(&self) -> Duration {
        self.mdi + self.interval + self.tolerance
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ViolationKind {
    TwoHolders,
    NoHolder,
    DaemonExited,
    LateAdvert,
    RequestFailed,
}

impl ViolationKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::TwoHolders => "two VIP holders past the bound",
            Self::NoHolder => "no VIP holder past the bound",
            Self::DaemonExited => "daemon exited unasked",
            Self::LateAdvert => "late advert from a steady master",
            Self::RequestFailed => "client request failed outside a fault",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Since the soak started.
    pub at: Duration,
    pub kind: ViolationKind,
    pub detail: String,
}

/// A fault's time span: from just before it was injected to when it was undone (`None`: still on).
#[derive(Debug, Clone)]
struct Window {
    kind: FaultKind,
    node: usize,
    start: Duration,
    end: Option<Duration>,
}

impl Window {
    /// Whether the window, extended by `recovery` after its end, overlaps `[from, to]`.
    fn overlaps(&self, from: Duration, to: Duration, recovery: Duration) -> bool {
        self.start <= to && self.end.is_none_or(|end| end + recovery >= from)
    }
}

/// Faults that take their router out of the two-holder count (see the module docs).
fn isolates_its_router(kind: FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::Partition | FaultKind::Stop | FaultKind::Kill | FaultKind::LinkFlaps
    )
}

/// A stretch of samples with the same holder count class (none or two and more).
#[derive(Debug, Clone, Copy)]
struct Run {
    start: Duration,
    /// Index into `violations` once reported, so that its length can be written when it ends.
    reported: Option<usize>,
}

#[derive(Debug, Default)]
struct AdvertTrack {
    last: Option<Duration>,
    /// Consecutive adverts with no other router's advert in between.
    streak: u32,
}

/// The continuous checker; see the module docs.
#[derive(Debug)]
pub struct Checker {
    bounds: Bounds,
    windows: Vec<Window>,
    open: BTreeMap<usize, usize>,
    two: Option<Run>,
    none: Option<Run>,
    last_sample: Option<Duration>,
    adverts: BTreeMap<usize, AdvertTrack>,
    last_advert_any: Option<(usize, Duration)>,
    failed_run: Option<(Duration, u32, Option<usize>)>,
    violations: Vec<Violation>,
    /// Longest stretches seen, violations or not, for the summary.
    pub longest_two_holders: Duration,
    pub longest_no_holder: Duration,
    /// Holder observations judged (changes, and the ongoing state at each step).
    pub samples: u64,
    pub holder_changes: u64,
    pub requests: u64,
    pub failed_requests: u64,
    pub adverts_seen: u64,
}

impl Checker {
    pub fn new(bounds: Bounds) -> Self {
        Self {
            bounds,
            windows: Vec::new(),
            open: BTreeMap::new(),
            two: None,
            none: None,
            last_sample: None,
            adverts: BTreeMap::new(),
            last_advert_any: None,
            failed_run: None,
            violations: Vec::new(),
            longest_two_holders: Duration::ZERO,
            longest_no_holder: Duration::ZERO,
            samples: 0,
            holder_changes: 0,
            requests: 0,
            failed_requests: 0,
            adverts_seen: 0,
        }
    }

    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Fault number `id` of kind `kind` starts (call before injecting it).
    pub fn fault_started(&mut self, id: usize, kind: FaultKind, node: usize, at: Duration) {
        self.open.insert(id, self.windows.len());
        self.windows.push(Window {
            kind,
            node,
            start: at,
            end: None,
        });
    }

    /// Fault `id` has been undone (call after undoing it).
    pub fn fault_ended(&mut self, id: usize, at: Duration) {
        if let Some(index) = self.open.remove(&id)
            && let Some(window) = self.windows.get_mut(index)
        {
            window.end = Some(at);
        }
    }

    /// The latest instant up to which the windows overlapping `[from, to]` that `counts` excuse,
    /// extended by the recovery time; `None` if none does, `Duration::MAX` if one is still open.
    fn excused_until(
        &self,
        from: Duration,
        to: Duration,
        counts: impl Fn(FaultKind) -> bool,
    ) -> Option<Duration> {
        let recovery = self.bounds.recovery();
        self.windows
            .iter()
            .filter(|window| counts(window.kind))
            .filter(|window| window.overlaps(from, to, recovery))
            .map(|window| window.end.map_or(Duration::MAX, |end| end + recovery))
            .max()
    }

    fn report(&mut self, at: Duration, kind: ViolationKind, detail: String) -> usize {
        self.violations.push(Violation { at, kind, detail });
        self.violations.len() - 1
    }

    /// A holder sample: `holders` routers had the VIP in their kernel at `at`.
    pub fn holders(&mut self, at: Duration, holders: &[usize]) {
        self.samples += 1;
        self.last_sample = Some(at);
        let recovery = self.bounds.recovery();
        let isolated = |window: &Window, extra: Duration| {
            isolates_its_router(window.kind) && window.overlaps(at, at, extra)
        };
        let counted: Vec<usize> = holders
            .iter()
            .copied()
            .filter(|node| {
                !self
                    .windows
                    .iter()
                    .any(|w| w.node == *node && isolated(w, recovery))
            })
            .collect();
        // A killed router's VIP counts again once its daemon is back.
        let alive: Vec<usize> = holders
            .iter()
            .copied()
            .filter(|node| {
                !self.windows.iter().any(|w| {
                    w.node == *node
                        && w.kind == FaultKind::Kill
                        && w.overlaps(at, at, Duration::ZERO)
                })
            })
            .collect();
        self.track_two_holders(at, &counted);
        self.track_no_holder(at, &alive);
    }

    fn track_two_holders(&mut self, at: Duration, holders: &[usize]) {
        if holders.len() < 2 {
            if let Some(run) = self.two.take() {
                self.close_run(run, at, true);
            }
            return;
        }
        let run = *self.two.get_or_insert(Run {
            start: at,
            reported: None,
        });
        let lasted = at - run.start;
        self.longest_two_holders = self.longest_two_holders.max(lasted);
        if run.reported.is_some() {
            return;
        }
        let excused = self.excused_until(run.start, at, FaultKind::is_segment_wide);
        let counted_from = excused.map_or(run.start, |until| until.max(run.start));
        if counted_from != Duration::MAX && at > counted_from + self.bounds.two_holders() {
            let detail = format!(
                "routers {holders:?} held the VIP together (bound {:?})",
                self.bounds.two_holders()
            );
            let index = self.report(run.start, ViolationKind::TwoHolders, detail);
            if let Some(run) = self.two.as_mut() {
                run.reported = Some(index);
            }
        }
    }

    fn track_no_holder(&mut self, at: Duration, holders: &[usize]) {
        if !holders.is_empty() {
            if let Some(run) = self.none.take() {
                self.close_run(run, at, false);
            }
            return;
        }
        let run = *self.none.get_or_insert(Run {
            start: at,
            reported: None,
        });
        let lasted = at - run.start;
        self.longest_no_holder = self.longest_no_holder.max(lasted);
        if run.reported.is_none() && lasted > self.bounds.no_holder() {
            let detail = format!(
                "no router held the VIP (bound {:?})",
                self.bounds.no_holder()
            );
            let index = self.report(run.start, ViolationKind::NoHolder, detail);
            if let Some(run) = self.none.as_mut() {
                run.reported = Some(index);
            }
        }
    }

    /// A reported run ended: say how long it lasted.
    fn close_run(&mut self, run: Run, at: Duration, two: bool) {
        let lasted = at - run.start;
        if two {
            self.longest_two_holders = self.longest_two_holders.max(lasted);
        } else {
            self.longest_no_holder = self.longest_no_holder.max(lasted);
        }
        if let Some(violation) = run
            .reported
            .and_then(|index| self.violations.get_mut(index))
        {
            violation.detail = format!(
                "{} for {:.1} ms",
                violation.detail,
                lasted.as_secs_f64() * 1e3
            );
        }
    }

    /// The client's request sent at `at` was answered (`ok`) or not.
    pub fn request(&mut self, at: Duration, ok: bool) {
        self.requests += 1;
        if ok {
            if let Some((start, count, Some(index))) = self.failed_run.take()
                && let Some(violation) = self.violations.get_mut(index)
            {
                violation.detail = format!(
                    "{count} requests unanswered from {:.3} s to {:.3} s",
                    start.as_secs_f64(),
                    at.as_secs_f64()
                );
            }
            return;
        }
        self.failed_requests += 1;
        let excused = self.excused_until(at, at, |_| true).is_some();
        if excused {
            return;
        }
        match &mut self.failed_run {
            Some((_, count, _)) => *count += 1,
            None => {
                let index = self.report(
                    at,
                    ViolationKind::RequestFailed,
                    "a request unanswered".into(),
                );
                self.failed_run = Some((at, 1, Some(index)));
            }
        }
    }

    /// Router `node` put an advert with priority `priority` on the wire at `at` (kernel stamp).
    pub fn advert(&mut self, at: Duration, node: usize, priority: u8) {
        self.adverts_seen += 1;
        let others_between = self
            .last_advert_any
            .is_some_and(|(last_node, _)| last_node != node);
        self.last_advert_any = Some((node, at));
        let bound = self.bounds.late_advert;
        let track = self.adverts.entry(node).or_default();
        let previous = track.last.replace(at);
        if priority == 0 || others_between {
            // A resignation, or another router spoke: this one is not a steady lone master.
            track.streak = u32::from(priority != 0);
            return;
        }
        track.streak += 1;
        let steady = track.streak >= 4;
        let Some(previous) = previous else { return };
        let gap = at.saturating_sub(previous);
        if !steady || gap <= bound {
            return;
        }
        if self.excused_until(previous, at, |_| true).is_none() {
            let detail = format!(
                "r{node}'s adverts {:.1} ms apart (bound {:.1} ms)",
                gap.as_secs_f64() * 1e3,
                bound.as_secs_f64() * 1e3
            );
            self.report(previous, ViolationKind::LateAdvert, detail);
        }
    }

    /// A daemon the schedule did not stop has exited.
    pub fn daemon_exited(&mut self, at: Duration, node: usize, how: &str) {
        self.report(
            at,
            ViolationKind::DaemonExited,
            format!("r{node}'s keepvip: {how}"),
        );
    }

    /// Forget windows that ended long before `before` (keeps the scan short over a long soak).
    pub fn prune(&mut self, before: Duration) {
        let keep_after = before.saturating_sub(Duration::from_secs(30));
        let mut kept = Vec::new();
        let mut moved = BTreeMap::new();
        for (index, window) in self.windows.drain(..).enumerate() {
            if window.end.is_none_or(|end| end >= keep_after) {
                moved.insert(index, kept.len());
                kept.push(window);
            }
        }
        self.windows = kept;
        // Open windows are always kept, so each has its new place.
        for index in self.open.values_mut() {
            if let Some(new) = moved.get(index) {
                *index = *new;
            }
        }
    }
}

#[cfg(test)]
#[path = "checker_tests.rs"]
mod tests;
