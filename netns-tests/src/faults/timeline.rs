//! The VIP-holder timeline the sampler keeps: which routers held the VIP in their kernel, from when,
//! and how to read it: episodes with no holder or with two, leaving out routers a fault took down
//! (a killed or stopped daemon cannot remove its VIP: the kernel keeps it until a restart clears it).

use std::time::Duration;

use crate::daemon::pause::Span;

/// A set of routers (bit `i`: router `i`), at most 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Holders(u8);

impl Holders {
    pub const NONE: Self = Self(0);

    pub fn with(self, router: usize) -> Self {
        Self(
            self.0
                | 1u8
                    .checked_shl(u32::try_from(router).unwrap_or(8))
                    .unwrap_or(0),
        )
    }

    pub fn contains(self, router: usize) -> bool {
        self.with(router) == self && router < 8
    }

    pub fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    pub fn count(self) -> u32 {
        self.0.count_ones()
    }

    /// The routers in the set, lowest first.
    pub fn routers(self) -> Vec<usize> {
        (0..8).filter(|router| self.contains(*router)).collect()
    }
}

/// A router left out of the holder count over `span` (its daemon killed or stopped by the cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Excused {
    pub router: usize,
    pub span: Span,
}

/// The sampled holders: the first sample, then every change, each stamped when the sample began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub routers: usize,
    changes: Vec<(Duration, Holders)>,
    /// When the last sample began.
    pub last_sample: Duration,
    /// How many samples were taken and the longest time between two (the sampler's own stalls: the
    /// resolution of every figure read from the timeline).
    pub samples: u64,
    pub longest_sample_gap: Duration,
}

impl Timeline {
    pub fn new(routers: usize, at: Duration, first: Holders) -> Self {
        Self {
            routers,
            changes: vec![(at, first)],
            last_sample: at,
            samples: 1,
            longest_sample_gap: Duration::ZERO,
        }
    }

    /// A sample that began at `at`.
    pub fn record(&mut self, at: Duration, holders: Holders) {
        self.samples += 1;
        self.longest_sample_gap = self
            .longest_sample_gap
            .max(at.saturating_sub(self.last_sample));
        self.last_sample = at;
        if self.changes.last().map(|(_, last)| *last) != Some(holders) {
            self.changes.push((at, holders));
        }
    }

    /// Every change (with the first sample), oldest first.
    pub fn changes(&self) -> &[(Duration, Holders)] {
        &self.changes
    }

    /// The holders at `at` as last sampled before it (`NONE` before the first sample).
    pub fn holders_at(&self, at: Duration) -> Holders {
        let after = self.changes.partition_point(|(time, _)| *time <= at);
        after
            .checked_sub(1)
            .and_then(|index| self.changes.get(index))
            .map_or(Holders::NONE, |(_, holders)| *holders)
    }

    /// The holders at `at` leaving out the routers `excused` then.
    pub fn counted_at(&self, at: Duration, excused: &[Excused]) -> Holders {
        let left_out = excused
            .iter()
            .filter(|excuse| excuse.span.start <= at && at < excuse.span.end)
            .fold(Holders::NONE, |set, excuse| set.with(excuse.router));
        self.holders_at(at).without(left_out)
    }

    /// The maximal spans within `window` (clipped to the last sample) where the counted holders
    /// satisfy `wanted`.
    pub fn episodes(
        &self,
        window: Span,
        excused: &[Excused],
        wanted: impl Fn(Holders) -> bool,
    ) -> Vec<Span> {
        let end = window.end.min(self.last_sample);
        let mut cuts: Vec<Duration> = self.changes.iter().map(|(at, _)| *at).collect();
        cuts.extend(excused.iter().flat_map(|e| [e.span.start, e.span.end]));
        cuts.push(window.start);
        cuts.retain(|at| *at >= window.start && *at < end);
        cuts.sort_unstable();
        cuts.dedup();
        let mut episodes: Vec<Span> = Vec::new();
        for (index, start) in cuts.iter().enumerate() {
            let stop = cuts.get(index + 1).copied().unwrap_or(end);
            if !wanted(self.counted_at(*start, excused)) {
                continue;
            }
            match episodes.last_mut() {
                Some(last) if last.end == *start => last.end = stop,
                _ => episodes.push(Span::new(*start, stop)),
            }
        }
        episodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn holder_sets() {
        let set = Holders::NONE.with(0).with(2);
        assert!(set.contains(0) && set.contains(2) && !set.contains(1));
        assert_eq!(set.count(), 2);
        assert_eq!(set.routers(), [0, 2]);
        assert_eq!(set.without(Holders::NONE.with(0)).routers(), [2]);
        assert!(!Holders::NONE.with(9).contains(9));
    }

    #[test]
    fn episodes_follow_changes_and_leave_out_excused_routers() {
        let one = Holders::NONE.with(0);
        let both = one.with(1);
        let mut timeline = Timeline::new(2, ms(0), one);
        timeline.record(ms(2), one);
        timeline.record(ms(100), both);
        timeline.record(ms(150), Holders::NONE.with(1));
        timeline.record(ms(300), Holders::NONE);
        timeline.record(ms(400), Holders::NONE);
        assert_eq!(timeline.changes().len(), 4);
        assert_eq!(timeline.longest_sample_gap, ms(150));
        assert_eq!(timeline.holders_at(ms(120)), both);
        let whole = Span::new(ms(0), ms(1000));
        let two = timeline.episodes(whole, &[], |h| h.count() >= 2);
        assert_eq!(two, [Span::new(ms(100), ms(150))]);
        let none = timeline.episodes(whole, &[], |h| h.count() == 0);
        assert_eq!(
            none,
            [Span::new(ms(300), ms(400))],
            "clipped to the last sample"
        );
        // Router 0 killed at 50: not counted from then on.
        let killed = [Excused {
            router: 0,
            span: Span::new(ms(50), ms(1000)),
        }];
        let two = timeline.episodes(whole, &killed, |h| h.count() >= 2);
        assert!(two.is_empty(), "{two:?}");
        let none = timeline.episodes(whole, &killed, |h| h.count() == 0);
        assert_eq!(
            none,
            [Span::new(ms(50), ms(100)), Span::new(ms(300), ms(400))]
        );
    }
}
