//! The invariants, as checks over a snapshot of every router ([`RouterView`]). The simulator builds
//! the snapshot after every event; tests can build one by hand to show that a check can fail.

use std::fmt;
use std::net::IpAddr;

use vrrp_core::{Instant, Micros, StateKind};

use crate::model::HostId;
use crate::oracle::{Rank, rank};
use crate::trace::time;

/// Which rule was broken. The README states each one with its preconditions and tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Invariant {
    /// Settled: exactly one master per VRID on each side of the network (zero if no router can be).
    SingleMaster,
    /// Settled: no preempting backup has a higher effective priority than the master.
    BestMaster,
    /// Settled: the master ranks (priority, address) at least as high as every router that was master
    /// since the network became stable (concurrent masters resolve by RFC 5798 §6.4.3 (725)-(735)).
    OutranksFormerMasters,
    /// Always: a router holds its VIPs if and only if it is master (a crashed host holds none).
    VipsOnlyOnMaster,
    /// Always: VIPs are added only when not held, removed only when held, announced only when held.
    VipActions,
    /// Always: the core's effective priority equals the simulator's model (base + weights, clamped).
    EffectivePriority,
    /// Settled: the members of a sync group on one host are all in the same state.
    SyncGroupTogether,
    /// After a settled master's silent crash or graceful stop: the best backup's first advert comes at
    /// the instant its timer must fire, within the delay tolerance of the master's last advert.
    TakeoverTime,
    /// A router that started next to a settled master it hears in time displaced it although it does
    /// not preempt (Preempt_Mode off), or before its preempt delay ended.
    PreemptOffHonoured,
    /// A run that processes more events than its budget (a livelock or an advert storm).
    EventBudget,
    /// The scenario itself was unusable (a config the core refuses).
    Setup,
}

/// A broken invariant, with the instant it was seen and what exactly was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub at: Instant,
    pub invariant: Invariant,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}: {}", time(self.at), self.invariant, self.detail)
    }
}

impl std::error::Error for Violation {}

/// How much of its VIP set a router's host holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vips {
    None,
    Some,
    All,
}

/// One router as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterView {
    pub host: HostId,
    pub vrid: u8,
    /// Partition side of the host (0 when not partitioned).
    pub side: u8,
    pub address: IpAddr,
    pub state: StateKind,
    pub priority: u8,
    /// Owner, or Preempt_Mode on with any preempt delay over for at least the settle time.
    pub preempting: bool,
    pub sync_group: bool,
    pub vips: Vips,
}

impl RouterView {
    pub fn rank(&self) -> Rank {
        rank(self.priority, self.address)
    }

    fn label(&self) -> String {
        format!(
            "h{}/v{} ({}, prio {})",
            self.host, self.vrid, self.address, self.priority
        )
    }

    fn eligible(&self) -> bool {
        matches!(self.state, StateKind::Backup | StateKind::Master)
    }
}

/// Always: VIPs held if and only if master.
pub fn check_vips(now: Instant, view: &RouterView) -> Result<(), Violation> {
    let ok = match view.state {
        StateKind::Master => view.vips == Vips::All,
        _ => view.vips == Vips::None,
    };
    if ok {
        return Ok(());
    }
    Err(Violation {
        at: now,
        invariant: Invariant::VipsOnlyOnMaster,
        detail: format!(
            "{} is {:?} and holds {:?} of its VIPs",
            view.label(),
            view.state,
            view.vips
        ),
    })
}

/// The settled election checks for the routers of one VRID on one side of the network. `former` is the
/// highest rank seen in Master since the network became stable (plus the maximum delay).
pub fn check_election(
    now: Instant,
    group: &[RouterView],
    former: Option<Rank>,
) -> Result<(), Violation> {
    let fail = |invariant, detail| {
        Err(Violation {
            at: now,
            invariant,
            detail,
        })
    };
    let masters: Vec<&RouterView> = group
        .iter()
        .filter(|v| v.state == StateKind::Master)
        .collect();
    let eligible = group.iter().filter(|v| v.eligible()).count();
    let [master] = masters.as_slice() else {
        if masters.is_empty() && eligible == 0 {
            return Ok(());
        }
        let names: Vec<String> = masters.iter().map(|v| v.label()).collect();
        return fail(
            Invariant::SingleMaster,
            format!(
                "{} masters among {eligible} running routers: [{}]",
                masters.len(),
                names.join(", ")
            ),
        );
    };
    if group.iter().any(|v| v.sync_group) {
        // A sync group follows its siblings, not its own priority: only the master count applies.
        return Ok(());
    }
    if let Some(better) = group
        .iter()
        .find(|v| v.eligible() && v.preempting && v.priority > master.priority)
    {
        return fail(
            Invariant::BestMaster,
            format!(
                "{} is master while preempting {} is {:?}",
                master.label(),
                better.label(),
                better.state
            ),
        );
    }
    if let Some(former) = former.filter(|&f| f > master.rank()) {
        return fail(
            Invariant::OutranksFormerMasters,
            format!(
                "{} is master but a router of rank (prio {}, address {:#x}) was master since the \
                 network became stable and must have won",
                master.label(),
                former.0,
                former.1
            ),
        );
    }
    Ok(())
}

/// Settled: members of one host's sync group share one state.
pub fn check_sync_group(now: Instant, host: &[RouterView]) -> Result<(), Violation> {
    let Some(first) = host.first() else {
        return Ok(());
    };
    match host.iter().find(|v| v.state != first.state) {
        None => Ok(()),
        Some(other) => Err(Violation {
            at: now,
            invariant: Invariant::SyncGroupTogether,
            detail: format!(
                "{} is {:?} but its sync-group sibling {} is {:?}",
                first.label(),
                first.state,
                other.label(),
                other.state
            ),
        }),
    }
}

/// Tracks when the network became stable and applies the checks that depend on it.
#[derive(Debug, Clone)]
pub struct Checker {
    settle: Micros,
    delay_max: Micros,
    lossless: bool,
    stable_since: Instant,
    /// Highest rank seen in Master per (VRID, side) since `stable_since + delay_max`.
    former: Vec<((u8, u8), Rank)>,
    settled_checks: u64,
    election_checks: bool,
}

impl Checker {
    pub fn new(settle: Micros, delay_max: Micros) -> Checker {
        Checker {
            settle,
            delay_max,
            lossless: true,
            stable_since: Instant::ZERO,
            former: Vec::new(),
            settled_checks: 0,
            election_checks: true,
        }
    }

    pub fn settle(&self) -> Micros {
        self.settle
    }

    /// A fault, recovery or weather change happened: the stable window starts again.
    pub fn disturb(&mut self, now: Instant, lossless: bool) {
        self.lossless = lossless;
        self.stable_since = now;
        self.former.clear();
    }

    /// When the settled checks start, if the network is lossless.
    pub fn settled_from(&self) -> Option<Instant> {
        self.lossless.then(|| self.stable_since + self.settle)
    }

    pub fn is_settled(&self, now: Instant) -> bool {
        self.settled_from().is_some_and(|from| now >= from)
    }

    /// Turns the settled election checks off or on (the VIP checks always run): for exploring
    /// configurations that are known not to converge.
    pub fn set_election_checks(&mut self, on: bool) {
        self.election_checks = on;
    }

    /// How many times the settled checks ran.
    pub fn settled_checks(&self) -> u64 {
        self.settled_checks
    }

    /// Every check that applies at `now` to this snapshot. `views` is sorted by (VRID, side, host).
    pub fn check(&mut self, now: Instant, views: &[RouterView]) -> Result<(), Violation> {
        for view in views {
            check_vips(now, view)?;
        }
        // Strictly after: an advert sent before the disturbance arrives at most delay_max later.
        if !self.lossless || now <= self.stable_since + self.delay_max {
            return Ok(());
        }
        for view in views.iter().filter(|v| v.state == StateKind::Master) {
            let key = (view.vrid, view.side);
            match self.former.iter_mut().find(|(k, _)| *k == key) {
                Some((_, best)) => *best = (*best).max(view.rank()),
                None => self.former.push((key, view.rank())),
            }
        }
        if !self.election_checks || !self.is_settled(now) {
            return Ok(());
        }
        self.settled_checks += 1;
        for group in views.chunk_by(|a, b| (a.vrid, a.side) == (b.vrid, b.side)) {
            let Some(first) = group.first() else { continue };
            let former = self
                .former
                .iter()
                .find(|(k, _)| *k == (first.vrid, first.side))
                .map(|(_, r)| *r);
            check_election(now, group, former)?;
        }
        let mut grouped: Vec<&RouterView> = views.iter().filter(|v| v.sync_group).collect();
        grouped.sort_by_key(|v| v.host);
        for host in grouped.chunk_by(|a, b| a.host == b.host) {
            let members: Vec<RouterView> = host.iter().map(|v| (*v).clone()).collect();
            check_sync_group(now, &members)?;
        }
        Ok(())
    }
}
