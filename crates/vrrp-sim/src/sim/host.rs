//! One simulated host: the vrrp-core [`Node`] that runs its routers (alone or as one sync group), as
//! the daemon runs them, its VIP set, and what the simulator models about it independently of the core
//! (base priority, tracker status, preempt window, the adverts each router was handed).

use std::collections::BTreeSet;
use std::net::IpAddr;

use vrrp_core::{
    Config, Input, InstanceId, Instant, LinkId, Node, NodeAction, NodeError, NodeInput,
    OWNER_PRIORITY, Router, TrackerId,
};
use vrrp_wire::Addresses;

use crate::check::Vips;

/// The simulated segment as every host's node names it: each host has one interface on it.
pub(crate) const SEGMENT: LinkId = LinkId(0);

/// A host's running protocol state: its node, and which node instance each slot is.
#[derive(Debug, Clone)]
pub(crate) struct HostNode {
    node: Node,
    /// `instances[slot]`: the instance of slot `slot`; `None` while a reload has removed it.
    instances: Vec<Option<InstanceId>>,
}

impl HostNode {
    /// One instance per present config on [`SEGMENT`], in slot order; with `sync_group`, all in one
    /// group.
    pub(crate) fn new(
        configs: Vec<Option<Config>>,
        sync_group: bool,
    ) -> Result<HostNode, NodeError> {
        let mut node = Node::new();
        let instances = configs
            .into_iter()
            .map(|config| config.map(|c| node.add_instance(SEGMENT, c)).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        if sync_group {
            node.add_sync_group(&instances.iter().flatten().copied().collect::<Vec<_>>())?;
        }
        Ok(HostNode { node, instances })
    }

    pub(crate) fn router(&self, slot: usize) -> Option<&Router> {
        self.node.router(self.instance(slot)?)
    }

    pub(crate) fn instance(&self, slot: usize) -> Option<InstanceId> {
        self.instances.get(slot).copied().flatten()
    }

    pub(crate) fn slot(&self, id: InstanceId) -> Option<usize> {
        self.instances.iter().position(|&i| i == Some(id))
    }

    /// `Node::add_instance` for `slot` (a reload adding it); it waits in Initialize for `Startup`.
    pub(crate) fn add(&mut self, slot: usize, config: Config) -> Result<InstanceId, NodeError> {
        let id = self.node.add_instance(SEGMENT, config)?;
        if let Some(entry) = self.instances.get_mut(slot) {
            *entry = Some(id);
        }
        Ok(id)
    }

    /// `Node::remove_instance` of `slot` (a reload removing it). The slot keeps its instance id
    /// until [`HostNode::forget`], so the actions of its resignation can still be told apart.
    pub(crate) fn remove(
        &mut self,
        now: Instant,
        slot: usize,
    ) -> Result<Vec<NodeAction>, NodeError> {
        let id = self
            .instance(slot)
            .ok_or(NodeError::UnknownInstance(InstanceId(u32::MAX)))?;
        self.node.remove_instance(now, id)
    }

    pub(crate) fn forget(&mut self, slot: usize) {
        if let Some(entry) = self.instances.get_mut(slot) {
            *entry = None;
        }
    }

    pub(crate) fn handle(&mut self, now: Instant, input: NodeInput<'_>) -> Vec<NodeAction> {
        self.node.handle(now, input)
    }

    /// `Node::reconfigure` of the instance in `slot` (a reload).
    pub(crate) fn reconfigure(
        &mut self,
        now: Instant,
        slot: usize,
        config: Config,
    ) -> Result<Vec<NodeAction>, NodeError> {
        let id = self
            .instance(slot)
            .ok_or(NodeError::UnknownInstance(InstanceId(u32::MAX)))?;
        self.node.reconfigure(now, id, config)
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.node.next_deadline()
    }
}

/// The last advert a router was handed from one sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrival {
    pub(crate) at: Instant,
    pub(crate) priority: u8,
}

/// One router's place on a host: its configuration and the simulator's own model of it.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) config: Config,
    /// Base priority after any `SetBasePriority` (the model; the core keeps its own).
    pub(crate) base: u8,
    /// The real status of each tracked condition, kept across crashes and fed to new routers.
    pub(crate) trackers_ok: Vec<bool>,
    /// From when this router preempts (owner: at once; preempt off: never).
    pub(crate) preempt_from: Option<Instant>,
    /// Per sending host: the last advert handed to this router.
    pub(crate) last_arrival: Vec<Option<Arrival>>,
    pub(crate) last_sent: Option<Instant>,
    /// Mixed mode (RFC 5798 §8.4): the last VRRPv3 advert this router took (`interop.rs`).
    pub(crate) last_v3: super::interop::LastV3,
    /// In the host's config: false after a reload removed it, until one adds it back.
    pub(crate) present: bool,
    /// When a reload last removed it.
    pub(crate) removed_since: Instant,
}

impl Slot {
    pub(crate) fn new(config: Config, hosts: usize) -> Slot {
        Slot {
            base: config.priority,
            trackers_ok: config.trackers.iter().map(|t| t.initially_ok).collect(),
            preempt_from: None,
            last_arrival: vec![None; hosts],
            last_sent: None,
            last_v3: None,
            present: true,
            removed_since: Instant::ZERO,
            config,
        }
    }

    /// keepalived semantics, modelled independently of the core: base + weights of OK trackers with
    /// weight > 0 + weights of KO trackers with weight < 0, clamped to 1..=254; an owner stays 255.
    pub(crate) fn modeled_priority(&self) -> u8 {
        if self.config.priority == OWNER_PRIORITY {
            return OWNER_PRIORITY;
        }
        let delta: i32 = self
            .config
            .trackers
            .iter()
            .zip(&self.trackers_ok)
            .map(|(t, &ok)| match (t.weight, ok) {
                (w, true) if w > 0 => i32::from(w),
                (w, false) if w < 0 => i32::from(w),
                _ => 0,
            })
            .sum();
        u8::try_from((i32::from(self.base) + delta).clamp(1, 254)).unwrap_or(1)
    }

    /// The config a (re)started router gets: the current base priority.
    pub(crate) fn current_config(&self) -> Config {
        let mut config = self.config.clone();
        config.priority = self.base;
        config
    }

    /// What a new router must be told before `Startup`: each tracker whose status is not the one it
    /// starts with.
    pub(crate) fn tracker_news(&self) -> Vec<Input> {
        let trackers = self.trackers_ok.iter().zip(&self.config.trackers);
        trackers
            .enumerate()
            .filter(|(_, (ok, t))| **ok != t.initially_ok)
            .map(|(i, (&ok, _))| Input::Tracker {
                tracker: TrackerId(i),
                ok,
            })
            .collect()
    }

    /// [`Slot::current_config`] if the slot is in the host's config.
    pub(crate) fn present_config(&self) -> Option<Config> {
        self.present.then(|| self.current_config())
    }

    /// Startup or leaving FAULT starts the preempt-delay window (an owner always preempts). Returns
    /// the instant the window closes if that is later than `now`.
    pub(crate) fn open_preempt_window(&mut self, now: Instant) -> Option<Instant> {
        self.preempt_from = if self.config.priority == OWNER_PRIORITY {
            Some(now)
        } else if self.config.preempt {
            Some(now + self.config.preempt_delay)
        } else {
            None
        };
        self.preempt_from.filter(|&from| from > now)
    }
}

/// Whether a host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    NotStarted,
    Running,
    Crashed,
    Stopped,
}

#[derive(Debug, Clone)]
pub(crate) struct Host {
    pub(crate) status: Status,
    pub(crate) sync_group: bool,
    pub(crate) link_up: bool,
    /// Bumped at every start, crash and stop so stale timer events are ignored.
    pub(crate) incarnation: u32,
    /// The node deadline a queued timer event exists for (one per host: the node merges them).
    pub(crate) armed: Option<Instant>,
    pub(crate) down_since: Instant,
    pub(crate) link_down_since: Instant,
    /// Present while running or stopped (a stopped node can be started again); gone after a crash.
    pub(crate) node: Option<HostNode>,
    pub(crate) slots: Vec<Slot>,
    /// The addresses currently configured on the host's interface by AddVips/RemoveVips.
    pub(crate) vips: BTreeSet<IpAddr>,
}

impl Host {
    pub(crate) fn new(configs: Vec<Config>, sync_group: bool, hosts: usize) -> Host {
        Host {
            status: Status::NotStarted,
            sync_group,
            link_up: true,
            incarnation: 0,
            armed: None,
            down_since: Instant::ZERO,
            link_down_since: Instant::ZERO,
            node: None,
            slots: configs.into_iter().map(|c| Slot::new(c, hosts)).collect(),
            vips: BTreeSet::new(),
        }
    }

    pub(crate) fn running(&self) -> bool {
        self.status == Status::Running
    }

    pub(crate) fn slot_of(&self, vrid: u8) -> Option<usize> {
        self.slots.iter().position(|s| s.config.vrid == vrid)
    }

    /// The slot an advert from `source` for `vrid` is meant for: same VRID and address family (the
    /// simulator's own model of RFC 5798 §7.1 dispatch, for its bookkeeping; the node dispatches).
    pub(crate) fn slot_receiving(&self, source: IpAddr, vrid: u8) -> Option<usize> {
        self.slots.iter().position(|s| {
            s.config.vrid == vrid && s.config.primary_address.is_ipv4() == source.is_ipv4()
        })
    }

    pub(crate) fn router(&self, slot: usize) -> Option<&Router> {
        self.node.as_ref().and_then(|n| n.router(slot))
    }

    pub(crate) fn primary_address(&self, slot: usize) -> Option<IpAddr> {
        self.slots.get(slot).map(|s| s.config.primary_address)
    }

    /// How much of this router's VIP set the interface holds.
    pub(crate) fn holding(&self, slot: usize) -> Vips {
        let Some(s) = self.slots.get(slot) else {
            return Vips::None;
        };
        let list = ips(&s.config.addresses);
        let held = list.iter().filter(|a| self.vips.contains(a)).count();
        match held {
            0 => Vips::None,
            n if n == list.len() => Vips::All,
            _ => Vips::Some,
        }
    }
}

pub(crate) fn ips(list: &Addresses) -> Vec<IpAddr> {
    match list {
        Addresses::V4(a) => a.iter().map(|&x| IpAddr::V4(x)).collect(),
        Addresses::V6(a) => a.iter().map(|&x| IpAddr::V6(x)).collect(),
    }
}
