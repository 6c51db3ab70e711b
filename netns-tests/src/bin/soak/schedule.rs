//! The seeded fault schedule: which fault, on which node, when and for how long. Drawn whole from the
//! seed before the lab starts, so `--seed S --minutes N` replays the same schedule (what the lab does
//! under it can still differ with the machine's timing).

use std::fmt;
use std::time::Duration;

use crate::rng::Rng;

/// The faults of the matrix the soak draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// SIGKILL, then a restart after `hold`.
    Kill,
    /// SIGTERM (the daemon resigns), then a restart after `hold`.
    Term,
    /// SIGSTOP, SIGCONT after `hold`.
    Stop,
    /// `value` flaps of the node's switch port (carrier lost and back), each half lasting `hold`.
    LinkFlaps,
    /// `value` % of the frames the switch forwards dropped (an nftables rule: this kernel has no
    /// netem) for `hold`.
    Loss,
    /// `value` ms of delay on the segment for `hold` (not drawn: see `KIND_WEIGHTS`).
    Delay,
    /// The node cut off the switch (its link stays up) for `hold`, then healed.
    Partition,
    /// The node's priority set to `value` by a reload, put back by another after `hold`.
    Priority,
    /// The node's weighted file tracker (weight -150) fails for `hold`.
    TrackerWeight,
    /// The node's weight-0 file tracker fails (FAULT state) for `hold`.
    TrackerFault,
}

pub const ALL_KINDS: [FaultKind; 10] = [
    FaultKind::Kill,
    FaultKind::Term,
    FaultKind::Stop,
    FaultKind::LinkFlaps,
    FaultKind::Loss,
    FaultKind::Delay,
    FaultKind::Partition,
    FaultKind::Priority,
    FaultKind::TrackerWeight,
    FaultKind::TrackerFault,
];

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Kill => "sigkill+restart",
            Self::Term => "sigterm+restart",
            Self::Stop => "sigstop/sigcont",
            Self::LinkFlaps => "link flaps",
            Self::Loss => "segment loss",
            Self::Delay => "segment delay",
            Self::Partition => "partition+heal",
            Self::Priority => "priority reload",
            Self::TrackerWeight => "tracker weight",
            Self::TrackerFault => "tracker fault",
        }
    }

    /// The short name `--without` takes.
    pub fn flag(self) -> &'static str {
        match self {
            Self::Kill => "kill",
            Self::Term => "term",
            Self::Stop => "stop",
            Self::LinkFlaps => "flaps",
            Self::Loss => "loss",
            Self::Delay => "delay",
            Self::Partition => "partition",
            Self::Priority => "priority",
            Self::TrackerWeight => "tracker-weight",
            Self::TrackerFault => "tracker-fault",
        }
    }

    /// The kind `--without` names `flag`.
    pub fn from_flag(flag: &str) -> Option<Self> {
        ALL_KINDS.into_iter().find(|kind| kind.flag() == flag)
    }

    /// Whether the fault hits the whole segment rather than one node.
    pub fn is_segment_wide(self) -> bool {
        matches!(self, Self::Loss | Self::Delay)
    }
}

/// One fault of the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Its number in the schedule, from 1.
    pub number: usize,
    /// When it starts, from the start of the soak.
    pub at: Duration,
    pub kind: FaultKind,
    /// The router it hits (ignored for segment-wide faults).
    pub node: usize,
    /// How long it lasts (for link flaps: each half of one flap).
    pub hold: Duration,
    /// Its parameter: loss percent, delay ms, new priority, flap count; 0 when it has none.
    pub value: u32,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} at {:.3} s: {}",
            self.number,
            self.at.as_secs_f64(),
            self.kind.name()
        )?;
        if !self.kind.is_segment_wide() {
            write!(f, " on r{}", self.node)?;
        }
        match self.kind {
            FaultKind::Loss => write!(f, " {} %", self.value)?,
            FaultKind::Delay => write!(f, " {} ms", self.value)?,
            FaultKind::Priority => write!(f, " to {}", self.value)?,
            FaultKind::LinkFlaps => write!(f, " x{}", self.value)?,
            _ => {}
        }
        write!(f, " for {} ms", self.hold.as_millis())
    }
}

/// How often each kind is drawn (relative weights, in `ALL_KINDS` order). Delay has weight 0: the
/// kernel this runs on has no netem (`tc qdisc ... netem` answers "unknown qdisc") and nftables
/// cannot hold a frame back.
const KIND_WEIGHTS: [u64; 10] = [3, 3, 3, 2, 2, 0, 2, 2, 2, 2];
/// Which node a node fault hits: the top-priority node (the usual master) half of the time.
const NODE_WEIGHTS: [u64; 3] = [2, 1, 1];
/// Quiet time after a fault ends, before the next starts (ms).
const GAP_MS: (u64, u64) = (1500, 4000);

fn millis(rng: &mut Rng, range: (u64, u64)) -> Duration {
    Duration::from_millis(rng.between(range.0, range.1))
}

/// One fault of kind `kind` drawn from `rng`: its hold time and parameter.
fn draw_hold_and_value(rng: &mut Rng, kind: FaultKind) -> (Duration, u32) {
    let value = |rng: &mut Rng, low: u64, high: u64| rng.between(low, high) as u32;
    match kind {
        FaultKind::Kill | FaultKind::Term => (millis(rng, (100, 2000)), 0),
        // From well under the master down interval (no takeover) to several times it.
        FaultKind::Stop => (millis(rng, (20, 400)), 0),
        // Up to the matrix's storm: 20 flaps in 2 s.
        FaultKind::LinkFlaps => (millis(rng, (30, 150)), value(rng, 1, 20)),
        FaultKind::Loss => (millis(rng, (1000, 4000)), value(rng, 10, 40)),
        FaultKind::Delay => (millis(rng, (1000, 4000)), value(rng, 20, 60)),
        FaultKind::Partition => (millis(rng, (300, 4000)), 0),
        FaultKind::Priority => (millis(rng, (500, 4000)), value(rng, 1, 254)),
        FaultKind::TrackerWeight | FaultKind::TrackerFault => (millis(rng, (200, 3000)), 0),
    }
}

/// How long a fault lasts from its start to its end (the flaps' storm, or its hold).
pub fn active_time(fault: &Fault) -> Duration {
    match fault.kind {
        FaultKind::LinkFlaps => fault.hold * 2 * fault.value,
        _ => fault.hold,
    }
}

/// Every fault that starts within `total`, drawn from `seed` for a lab of `nodes` routers.
/// Kinds in `without` are never drawn (the others keep their weights).
pub fn schedule(seed: u64, total: Duration, nodes: usize, without: &[FaultKind]) -> Vec<Fault> {
    let mut rng = Rng::new(seed);
    let mut weights = KIND_WEIGHTS;
    for (weight, kind) in weights.iter_mut().zip(ALL_KINDS) {
        if without.contains(&kind) {
            *weight = 0;
        }
    }
    let node_weights = &NODE_WEIGHTS[..nodes.clamp(1, NODE_WEIGHTS.len())];
    let mut faults = Vec::new();
    // A first quiet stretch: the lab settles (one master) before anything happens.
    let mut at = millis(&mut rng, GAP_MS);
    while at < total {
        let kind = ALL_KINDS[rng.weighted(&weights)];
        let node = rng.weighted(node_weights);
        let (hold, value) = draw_hold_and_value(&mut rng, kind);
        let fault = Fault {
            number: faults.len() + 1,
            at,
            kind,
            node,
            hold,
            value,
        };
        at += active_time(&fault) + millis(&mut rng, GAP_MS);
        faults.push(fault);
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_the_same_schedule_and_another_differs() {
        let ten_minutes = Duration::from_secs(600);
        let first = schedule(1234, ten_minutes, 3, &[]);
        assert_eq!(first, schedule(1234, ten_minutes, 3, &[]));
        assert_ne!(first, schedule(1235, ten_minutes, 3, &[]));
    }

    #[test]
    fn faults_come_every_few_seconds_and_never_overlap() {
        let faults = schedule(99, Duration::from_secs(1800), 3, &[]);
        // 30 minutes at one fault every 2-8 s.
        assert!((200..=1200).contains(&faults.len()), "{}", faults.len());
        for pair in faults.windows(2) {
            let end = pair[0].at + active_time(&pair[0]);
            let quiet = pair[1].at - end;
            assert!(
                quiet >= Duration::from_millis(1500),
                "{} then {}",
                pair[0],
                pair[1]
            );
            assert!(
                quiet <= Duration::from_millis(4000),
                "{} then {}",
                pair[0],
                pair[1]
            );
        }
        assert!(faults.iter().all(|fault| fault.node < 3));
    }

    #[test]
    fn every_kind_is_drawn_in_a_long_schedule() {
        let faults = schedule(5, Duration::from_secs(1800), 3, &[]);
        for (kind, weight) in ALL_KINDS.iter().zip(KIND_WEIGHTS) {
            let drawn = faults.iter().any(|fault| fault.kind == *kind);
            assert_eq!(drawn, weight > 0, "{kind:?}");
        }
        let storm = faults.iter().find(|f| f.kind == FaultKind::LinkFlaps);
        assert!(storm.is_some_and(|f| (1..=20).contains(&f.value)));
    }

    #[test]
    fn without_leaves_a_kind_out_and_names_round_trip() {
        let faults = schedule(
            5,
            Duration::from_secs(600),
            3,
            &[FaultKind::Loss, FaultKind::Kill],
        );
        assert!(
            faults
                .iter()
                .all(|f| !matches!(f.kind, FaultKind::Loss | FaultKind::Kill))
        );
        assert!(faults.iter().any(|f| f.kind == FaultKind::Term));
        for kind in ALL_KINDS {
            assert_eq!(FaultKind::from_flag(kind.flag()), Some(kind));
        }
    }

    #[test]
    fn a_fault_reads_as_what_it_does() {
        let fault = Fault {
            number: 3,
            at: Duration::from_millis(4500),
            kind: FaultKind::Priority,
            node: 1,
            hold: Duration::from_millis(800),
            value: 90,
        };
        assert_eq!(
            fault.to_string(),
            "#3 at 4.500 s: priority reload on r1 to 90 for 800 ms"
        );
    }
}
