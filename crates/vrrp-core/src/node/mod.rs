//! One host's whole protocol state, sans-IO: every virtual router and sync group, dispatch of received
//! adverts by (link, address family, VRID), one merged deadline, add / remove / reconfigure for reload,
//! and the counters. The daemon and the simulator both drive a [`Node`]:
//! event -> [`Node::handle`]`(now, input)` -> execute the returned `(InstanceId, Action)` pairs in order,
//! then wait until [`Node::next_deadline`] or the next event.

mod counters;
mod receive;
mod reconfigure;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;

use vrrp_wire::{ChecksumMode, Family, Repr};

use crate::config::{Config, ConfigError};
use crate::input::{Action, Input};
use crate::router::Router;
use crate::sync_group;
use crate::time::Instant;

pub use counters::{Counters, Transition};
pub use receive::{Datagram, UNKNOWN_VRID};
pub use reconfigure::Reconfigure;

/// The shell's name for an interface (keepvip gives one to each interface name, kept when the
/// interface is re-created with a new ifindex). The node only compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u32);

/// One virtual router of the node, from [`Node::add_instance`]. Never reused after removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(pub u32);

/// A sync group of the node, from [`Node::add_sync_group`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(pub u32);

/// What the caller must do for one instance; execute them in the order returned.
pub type NodeAction = (InstanceId, Action);

/// An event for the node. Time is not an input: every call carries `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeInput<'a> {
    /// Starts every instance not yet started (sync groups as a whole).
    Startup,
    /// Shuts every instance down: masters resign with priority 0 and drop their VIPs.
    Shutdown,
    /// [`Node::next_deadline`] has been reached: fires what is due, nothing else.
    Timer,
    /// Bytes off a socket: the whole RFC 5798 §7.1 receive checklist, then dispatch.
    Datagram(Datagram<'a>),
    /// An advert already parsed (the simulator's segment carries `Repr`s): dispatch and the router's
    /// checks only.
    Advert {
        link: LinkId,
        source: IpAddr,
        repr: Repr,
    },
    /// An input for every instance on `link` (of `family` only, when given): link up / down.
    Link {
        link: LinkId,
        family: Option<Family>,
        input: Input,
    },
    /// An input for one instance (tracker, base priority, source address...). `Startup`, `Shutdown`
    /// and `Timer` given to a sync-group member act on its whole group.
    Instance(InstanceId, Input),
}

/// Why the node refused a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeError {
    Config(ConfigError),
    /// Another instance already has this (link, family, VRID).
    DuplicateVrid {
        existing: InstanceId,
    },
    UnknownInstance(InstanceId),
    /// A sync group needs members that are not in another group and not started yet.
    CannotGroup(InstanceId),
    /// `reconfigure` cannot move an instance to another VRID or family: remove it and add a new one.
    KeyChanged(InstanceId),
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::Config(e) => write!(f, "{e}"),
            NodeError::DuplicateVrid { existing } => {
                write!(
                    f,
                    "VRID already used on this link and family by instance {}",
                    existing.0
                )
            }
            NodeError::UnknownInstance(id) => write!(f, "no instance {}", id.0),
            NodeError::CannotGroup(id) => {
                write!(
                    f,
                    "instance {} is in another sync group or already started",
                    id.0
                )
            }
            NodeError::KeyChanged(id) => {
                write!(
                    f,
                    "instance {}: VRID and family cannot change in place",
                    id.0
                )
            }
        }
    }
}

impl std::error::Error for NodeError {}

impl From<ConfigError> for NodeError {
    fn from(e: ConfigError) -> NodeError {
        NodeError::Config(e)
    }
}

/// One instance as the node holds it.
#[derive(Debug, Clone)]
struct Entry {
    link: LinkId,
    router: Router,
    group: Option<GroupId>,
    counters: Counters,
    /// The checksum variant the followed master's adverts use (interop diagnostics).
    master_checksum: Option<ChecksumMode>,
    /// The router's deadline as `Node::deadlines` holds it.
    indexed: Option<Instant>,
}

/// A read-only view of one instance.
#[derive(Debug, Clone, Copy)]
pub struct InstanceView<'a> {
    pub id: InstanceId,
    pub link: LinkId,
    pub router: &'a Router,
    pub group: Option<GroupId>,
    pub counters: &'a Counters,
    /// The checksum variant of the last accepted advert from the master this instance follows.
    pub master_checksum: Option<ChecksumMode>,
}

/// Every virtual router of one host. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct Node {
    entries: Vec<Option<Entry>>,
    /// Members of each group, in instance order.
    groups: Vec<Option<Vec<InstanceId>>>,
    dispatch: HashMap<(LinkId, Family, u8), InstanceId>,
    /// Datagrams dropped before an instance could be named, by reason.
    undispatched: BTreeMap<&'static str, u64>,
    /// Every running timer, earliest first: the next deadline and the due instances without a scan of
    /// every instance per event (which made a backup's work per advert grow with the instance count).
    deadlines: BTreeSet<(Instant, InstanceId)>,
    /// Instances handed out mutably since `deadlines` was last brought up to date (`reindex`).
    dirty: Vec<InstanceId>,
}

impl Node {
    pub fn new() -> Node {
        Node::default()
    }

    /// Adds a router in Initialize on `link`; it starts with the next [`NodeInput::Startup`] (or an
    /// `Instance(id, Input::Startup)`).
    pub fn add_instance(&mut self, link: LinkId, config: Config) -> Result<InstanceId, NodeError> {
        let key = (link, Family::of(config.primary_address), config.vrid);
        if let Some(&existing) = self.dispatch.get(&key) {
            return Err(NodeError::DuplicateVrid { existing });
        }
        let mut router = Router::new(config)?;
        let id = InstanceId(u32::try_from(self.entries.len()).unwrap_or(u32::MAX));
        router.advert_phase = advert_phase(id);
        self.entries.push(Some(Entry {
            link,
            router,
            group: None,
            counters: Counters::default(),
            master_checksum: None,
            indexed: None,
        }));
        self.dispatch.insert(key, id);
        self.dirty.push(id);
        self.reindex();
        Ok(id)
    }

    /// Makes `members` one sync group (see [`crate::sync_group`] for the rules). They must exist, be
    /// in no other group and not be started yet.
    pub fn add_sync_group(&mut self, members: &[InstanceId]) -> Result<GroupId, NodeError> {
        for &id in members {
            let entry = self.entry(id).ok_or(NodeError::UnknownInstance(id))?;
            let started = entry.router.state() != crate::State::Initialize;
            if entry.group.is_some() || started {
                return Err(NodeError::CannotGroup(id));
            }
        }
        let group = GroupId(u32::try_from(self.groups.len()).unwrap_or(u32::MAX));
        let mut sorted = members.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for &id in &sorted {
            if let Some(entry) = self.entry_mut(id) {
                entry.group = Some(group);
                entry.router.sync_gated = true;
            }
        }
        self.groups.push(Some(sorted));
        self.reindex();
        Ok(group)
    }

    /// Shuts the instance down (a master resigns with priority 0 and drops its VIPs) and forgets it;
    /// its sync group, if any, goes on without it.
    pub fn remove_instance(
        &mut self,
        now: Instant,
        id: InstanceId,
    ) -> Result<Vec<NodeAction>, NodeError> {
        let entry = self.take_entry(id).ok_or(NodeError::UnknownInstance(id))?;
        let mut entry = entry;
        if let Some(at) = entry.indexed {
            self.deadlines.remove(&(at, id));
        }
        let mut out = tag(id, entry.router.handle(now, Input::Shutdown));
        let config = entry.router.config();
        self.dispatch
            .remove(&(entry.link, Family::of(config.primary_address), config.vrid));
        if let Some(group) = entry.group {
            if let Some(Some(members)) = self.groups.get_mut(group.0 as usize) {
                members.retain(|&m| m != id);
                if members.is_empty() {
                    self.groups[group.0 as usize] = None;
                }
            }
            self.reconcile(now, group, &mut out);
        }
        // The removed instance's counters go with it; the rest are counted as usual.
        self.count(now, &out);
        self.reindex();
        Ok(out)
    }

    /// Processes one input at `now`; the actions are in the order to execute them.
    pub fn handle(&mut self, now: Instant, input: NodeInput<'_>) -> Vec<NodeAction> {
        let mut out = Vec::new();
        match input {
            NodeInput::Startup => self.deliver_to_all(now, &Input::Startup, &mut out),
            NodeInput::Shutdown => self.deliver_to_all(now, &Input::Shutdown, &mut out),
            NodeInput::Timer => self.fire_due(now, &mut out),
            NodeInput::Datagram(datagram) => self.receive_datagram(now, &datagram, &mut out),
            NodeInput::Advert { link, source, repr } => {
                self.receive_parsed(now, link, source, repr, None, &mut out)
            }
            NodeInput::Link {
                link,
                family,
                input,
            } => {
                for id in self.ids_on(link, family) {
                    self.deliver(now, id, input.clone(), &mut out);
                }
            }
            NodeInput::Instance(id, input) => self.deliver(now, id, input, &mut out),
        }
        self.count(now, &out);
        self.reindex();
        out
    }

    /// The earliest deadline of any instance; `None` when no timer runs.
    pub fn next_deadline(&self) -> Option<Instant> {
        if !self.dirty.is_empty() {
            // A mutation path that did not `reindex`: correct, if slow.
            return self.scan_deadlines();
        }
        self.deadlines.first().map(|&(at, _)| at)
    }

    /// The earliest deadline by looking at every instance (what `deadlines` must agree with).
    fn scan_deadlines(&self) -> Option<Instant> {
        self.live()
            .filter_map(|(_, e)| e.router.next_deadline())
            .min()
    }

    /// Brings `deadlines` up to date with the routers handed out mutably since the last time.
    fn reindex(&mut self) {
        for id in std::mem::take(&mut self.dirty) {
            let Some(entry) = self.entries.get_mut(id.0 as usize).and_then(Option::as_mut) else {
                continue;
            };
            let deadline = entry.router.next_deadline();
            if entry.indexed == deadline {
                continue;
            }
            if let Some(old) = entry.indexed {
                self.deadlines.remove(&(old, id));
            }
            if let Some(new) = deadline {
                self.deadlines.insert((new, id));
            }
            entry.indexed = deadline;
        }
    }

    pub fn instance(&self, id: InstanceId) -> Option<InstanceView<'_>> {
        self.entry(id).map(|entry| view(id, entry))
    }

    /// Every instance, in the order they were added.
    pub fn instances(&self) -> impl Iterator<Item = InstanceView<'_>> + '_ {
        self.live().map(|(id, entry)| view(id, entry))
    }

    pub fn router(&self, id: InstanceId) -> Option<&Router> {
        self.entry(id).map(|e| &e.router)
    }

    /// The instance with this (link, family, VRID), if any.
    pub fn find(&self, link: LinkId, family: Family, vrid: u8) -> Option<InstanceId> {
        self.dispatch.get(&(link, family, vrid)).copied()
    }

    /// Datagrams dropped before they could be given to an instance, by reason.
    pub fn undispatched_discards(&self) -> &BTreeMap<&'static str, u64> {
        &self.undispatched
    }

    /// One input to one instance; a sync-group member's group is reconciled after it.
    fn deliver(&mut self, now: Instant, id: InstanceId, input: Input, out: &mut Vec<NodeAction>) {
        let Some(group) = self.entry(id).map(|e| e.group) else {
            return;
        };
        match (group, &input) {
            (Some(group), Input::Startup | Input::Shutdown | Input::Timer) => {
                self.deliver_to_group(now, group, &input, out)
            }
            (Some(group), _) => {
                if let Some(entry) = self.entry_mut(id) {
                    out.extend(tag(id, entry.router.handle(now, input)));
                }
                self.reconcile(now, group, out);
            }
            (None, _) => {
                if let Some(entry) = self.entry_mut(id) {
                    out.extend(tag(id, entry.router.handle(now, input)));
                }
            }
        }
    }

    /// `Startup` or `Shutdown` for every instance, each sync group once, in instance order.
    fn deliver_to_all(&mut self, now: Instant, input: &Input, out: &mut Vec<NodeAction>) {
        let ids: Vec<InstanceId> = self.live().map(|(id, _)| id).collect();
        self.deliver_to_each(now, ids, input, out);
    }

    /// `Input::Timer` to every instance whose deadline has passed (a sync group as a whole).
    fn fire_due(&mut self, now: Instant, out: &mut Vec<NodeAction>) {
        self.reindex();
        let mut due: Vec<InstanceId> = self
            .deadlines
            .range(..=(now, InstanceId(u32::MAX)))
            .map(|&(_, id)| id)
            .collect();
        // In instance order, as every group-wide input.
        due.sort_unstable();
        self.deliver_to_each(now, due, &Input::Timer, out);
    }

    /// A group-wide input (`Startup`, `Shutdown`, `Timer`) to each of `ids`, a sync group once.
    fn deliver_to_each(
        &mut self,
        now: Instant,
        ids: Vec<InstanceId>,
        input: &Input,
        out: &mut Vec<NodeAction>,
    ) {
        let mut groups_done = Vec::new();
        for id in ids {
            match self.entry(id).and_then(|e| e.group) {
                Some(group) if groups_done.contains(&group) => {}
                Some(group) => {
                    groups_done.push(group);
                    self.deliver_to_group(now, group, input, out);
                }
                None => self.deliver(now, id, input.clone(), out),
            }
        }
    }

    /// The same input to every member of `group`, then the group's rules.
    fn deliver_to_group(
        &mut self,
        now: Instant,
        group: GroupId,
        input: &Input,
        out: &mut Vec<NodeAction>,
    ) {
        for id in self.members(group) {
            if let Some(entry) = self.entry_mut(id) {
                out.extend(tag(id, entry.router.handle(now, input.clone())));
            }
        }
        self.reconcile(now, group, out);
    }

    /// Applies the sync-group rules ([`sync_group::reconcile`]) to `group`'s members.
    fn reconcile(&mut self, now: Instant, group: GroupId, out: &mut Vec<NodeAction>) {
        let mut ids = Vec::new();
        let mut routers = Vec::new();
        for (index, slot) in self.entries.iter_mut().enumerate() {
            if let Some(entry) = slot.as_mut().filter(|e| e.group == Some(group)) {
                ids.push(InstanceId(index as u32));
                routers.push(&mut entry.router);
            }
        }
        let mut pulled = Vec::new();
        sync_group::reconcile(now, &mut routers, &mut pulled);
        self.dirty.extend(&ids);
        out.extend(
            pulled
                .into_iter()
                .filter_map(|(index, action)| ids.get(index).map(|&id| (id, action))),
        );
    }

    fn members(&self, group: GroupId) -> Vec<InstanceId> {
        match self.groups.get(group.0 as usize) {
            Some(Some(members)) => members.clone(),
            _ => Vec::new(),
        }
    }

    fn ids_on(&self, link: LinkId, family: Option<Family>) -> Vec<InstanceId> {
        self.live()
            .filter(|(_, e)| e.link == link)
            .filter(|(_, e)| {
                family.is_none_or(|f| Family::of(e.router.config().primary_address) == f)
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// Counts every action against its instance.
    fn count(&mut self, now: Instant, actions: &[NodeAction]) {
        for (id, action) in actions {
            if let Some(entry) = self.entry_mut(*id) {
                entry.counters.count(now, action);
            }
        }
    }

    fn live(&self) -> impl Iterator<Item = (InstanceId, &Entry)> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| slot.as_ref().map(|e| (InstanceId(index as u32), e)))
    }

    fn entry(&self, id: InstanceId) -> Option<&Entry> {
        self.entries.get(id.0 as usize).and_then(Option::as_ref)
    }

    /// The only way to a router that may change: it is marked for `reindex`.
    fn entry_mut(&mut self, id: InstanceId) -> Option<&mut Entry> {
        let entry = self
            .entries
            .get_mut(id.0 as usize)
            .and_then(Option::as_mut)?;
        self.dirty.push(id);
        Some(entry)
    }

    fn take_entry(&mut self, id: InstanceId) -> Option<Entry> {
        self.entries.get_mut(id.0 as usize).and_then(Option::take)
    }
}

fn view(id: InstanceId, entry: &Entry) -> InstanceView<'_> {
    InstanceView {
        id,
        link: entry.link,
        router: &entry.router,
        group: entry.group,
        counters: &entry.counters,
        master_checksum: entry.master_checksum,
    }
}

fn tag(id: InstanceId, actions: Vec<Action>) -> Vec<NodeAction> {
    actions.into_iter().map(|action| (id, action)).collect()
}

/// The advert phase of instance `id` (`Router::advert_phase`): the fractional parts of `id` times the
/// golden ratio, in 65536ths. Consecutive instances land far apart and any number of them spread
/// evenly over the range, with no randomness needed.
fn advert_phase(id: InstanceId) -> u16 {
    // 0.618034 x 65536.
    const GOLDEN: u32 = 40_503;
    (id.0.wrapping_mul(GOLDEN) & 0xffff) as u16
}
