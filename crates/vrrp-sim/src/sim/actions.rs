//! Driving each host's vrrp-core `Node` and carrying out what it returns: adverts onto the segment,
//! VIPs onto the host's interface (checked for balance), the node's one merged deadline into the queue.

use std::net::IpAddr;
use std::rc::Rc;

use vrrp_core::{Action, Input, Instant, NodeAction, NodeInput, Reason, State, StateKind};
use vrrp_wire::{Addresses, Repr};

use super::host::{Arrival, SEGMENT, ips};
use super::{Pending, SentAdvert, Sim};
use crate::check::Invariant;
use crate::model::HostId;
use crate::network::Fate;
use crate::trace;

impl Sim {
    /// `input` for router `slot` of `host` (`NodeInput::Instance`; a sync group reconciles after it).
    pub(super) fn feed_instance(&mut self, host: HostId, slot: usize, input: Input) {
        let Some(id) = self.hosts[host]
            .node
            .as_ref()
            .and_then(|n| n.instance(slot))
        else {
            return;
        };
        self.feed(host, Some(slot), NodeInput::Instance(id, input));
    }

    /// Gives `input` to `host`'s node and carries out its actions. `subject` is the router the input is
    /// aimed at, for the trace (`None`: the whole host).
    pub(super) fn feed(&mut self, host: HostId, subject: Option<usize>, input: NodeInput<'_>) {
        let what = self.trace.is_some().then(|| trace::node_input(&input));
        let now = self.now;
        let Some(node) = self.hosts.get_mut(host).and_then(|h| h.node.as_mut()) else {
            return;
        };
        let actions = node.handle(now, input);
        self.execute(host, subject, what, actions);
    }

    pub(super) fn execute(
        &mut self,
        host: HostId,
        subject: Option<usize>,
        what: Option<String>,
        actions: Vec<NodeAction>,
    ) {
        let actions = self.by_slot(host, actions);
        // A host-wide input that moved one router only is traced as that router's.
        let subject = subject.or_else(|| single_slot(&actions));
        let mut notes = Vec::new();
        for (slot, action) in actions {
            if self.trace.is_some() {
                let prefix = match subject {
                    Some(s) if s == slot => String::new(),
                    _ => format!("[v{}] ", self.vrid_of(host, slot)),
                };
                notes.push(format!("{prefix}{}", trace::action(&action)));
            }
            match action {
                Action::SendAdvert(repr) => self.send(host, slot, repr, None, &mut notes),
                Action::SendAdvertTo { advert, to } => {
                    self.send(host, slot, advert, Some(to), &mut notes)
                }
                Action::AddVips(list) => self.add_vips(host, slot, &list.advertised),
                Action::RemoveVips(list) => self.remove_vips(host, slot, &list.advertised),
                Action::AnnounceVips(list) => self.announce(host, slot, &list.advertised),
                Action::StateChanged { from, reason, .. } => {
                    self.stats.state_changes += 1;
                    // Leaving FAULT restarts the preempt-delay window (keepalived semantics).
                    if from == StateKind::Fault && reason == Reason::FaultCleared {
                        self.open_preempt_window(host, slot);
                    }
                }
                Action::Discard(_) | Action::Report(_) => {}
            }
        }
        self.arm_timer(host);
        if let Some(what) = what {
            let who = match subject {
                Some(slot) => trace::router(host, self.vrid_of(host, slot)),
                None => format!("h{host}"),
            };
            let after = subject
                .map(|s| self.timer_note(host, s))
                .unwrap_or_default();
            self.note(|| format!("{who} {what} => {}{after}", notes.join(", ")));
        }
    }

    /// The node's actions with each instance translated to its slot; an instance the host never
    /// added is a broken mapping, reported rather than dropped silently.
    fn by_slot(&mut self, host: HostId, actions: Vec<NodeAction>) -> Vec<(usize, Action)> {
        let mut tagged = Vec::with_capacity(actions.len());
        let mut unknown = None;
        let node = self.hosts[host].node.as_ref();
        for (id, action) in actions {
            match node.and_then(|n| n.slot(id)) {
                Some(slot) => tagged.push((slot, action)),
                None => unknown = Some(id),
            }
        }
        if let Some(id) = unknown {
            let detail = format!("h{host}: the node acted for instance {}, never added", id.0);
            self.fail(Invariant::Setup, detail);
        }
        tagged
    }

    /// Starts a router's preempt-delay window; its end is queued, because a router that starts to
    /// preempt may take over up to one Master_Down_Interval later: the network is not stable until then.
    pub(super) fn open_preempt_window(&mut self, host: HostId, slot: usize) {
        let now = self.now;
        let Some(s) = self.hosts[host].slots.get_mut(slot) else {
            return;
        };
        if let Some(at) = s.open_preempt_window(now) {
            self.push(at, Pending::PreemptWindowEnds { host, slot });
        }
    }

    /// A queued preempt-window end: a disturbance if the window is still the current one.
    pub(super) fn preempt_window_ends(&mut self, at: Instant, host: HostId, slot: usize) {
        let h = &self.hosts[host];
        let current = h.slots.get(slot).and_then(|s| s.preempt_from) == Some(at);
        if h.running() && current {
            let who = trace::router(host, self.vrid_of(host, slot));
            self.note(|| format!("EVENT preempt delay of {who} over"));
            self.takeovers.clear();
            self.incumbents_at_window_end(host);
            self.disturb();
        }
    }

    pub(super) fn vrid_of(&self, host: HostId, slot: usize) -> u8 {
        self.hosts[host]
            .slots
            .get(slot)
            .map_or(0, |s| s.config.vrid)
    }

    /// `  [Backup until 3.609375]` for the trace.
    fn timer_note(&self, host: HostId, slot: usize) -> String {
        match self.hosts[host].router(slot).map(|r| r.state()) {
            Some(State::Backup { master_down_at }) => {
                format!("  [Backup, down at {}]", trace::time(master_down_at))
            }
            Some(State::Master { advert_at }) => {
                format!("  [Master, advert at {}]", trace::time(advert_at))
            }
            Some(other) => format!("  [{:?}]", other.kind()),
            None => String::new(),
        }
    }

    /// Multicast: one fate per other host, decided now.
    /// Sends `repr` to every other host, or (`only`) to the host with that primary address.
    fn send(
        &mut self,
        host: HostId,
        slot: usize,
        repr: Repr,
        only: Option<IpAddr>,
        notes: &mut [String],
    ) {
        let Some(source) = self.hosts[host].primary_address(slot) else {
            return;
        };
        let priority = repr.priority;
        self.stats.adverts += 1;
        self.adverts.push(SentAdvert {
            at: self.now,
            host,
            vrid: repr.vrid,
            priority,
        });
        self.hosts[host].slots[slot].last_sent = Some(self.now);
        self.takeover_on_send(host, slot, priority);
        let repr = Rc::new(repr);
        let sender_link = self.hosts[host].link_up;
        // A router with unicast peers sends its adverts to each of them instead of the group.
        let peers = &self.hosts[host].slots[slot].config.unicast_peers;
        let destinations: Vec<IpAddr> = match only {
            Some(address) => vec![address],
            None => peers.clone(),
        };
        let mut fates = Vec::new();
        for to in 0..self.hosts.len() {
            let addressed = destinations.is_empty()
                || (0..self.hosts[to].slots.len()).any(|s| {
                    self.hosts[to]
                        .primary_address(s)
                        .is_some_and(|a| destinations.contains(&a))
                });
            if to == host || !addressed {
                continue;
            }
            let fate = if !sender_link || !self.hosts[to].link_up {
                Fate::Lost
            } else {
                self.net.transmit(&mut self.rng, host, to, self.now)
            };
            if self.trace.is_some() {
                fates.push(describe_fate(to, self.now, &fate));
            }
            match fate {
                Fate::Arrives(times) => {
                    for at in times {
                        let what = Pending::Deliver {
                            from: host,
                            to,
                            source,
                            sent: self.now,
                            repr: Rc::clone(&repr),
                        };
                        self.push(at, what);
                    }
                }
                Fate::Lost => self.stats.lost += 1,
                Fate::Partitioned => {}
            }
        }
        if let Some(last) = notes.last_mut() {
            last.push_str(&format!(" -> {{{}}}", fates.join(" ")));
        }
    }

    /// An advert reaches `to`: handed to its node (which dispatches it by VRID), if the host runs and
    /// its link is up. The simulator's own record of what each router was handed comes first.
    pub(super) fn deliver(
        &mut self,
        from: HostId,
        to: HostId,
        source: IpAddr,
        sent: Instant,
        repr: Rc<Repr>,
    ) {
        let Some(target) = self.hosts.get_mut(to) else {
            return;
        };
        if !target.running() || !target.link_up {
            return;
        }
        let receiving = target.slot_receiving(source, repr.vrid);
        // What the router acts on (RFC 5798 §8.4's version rules, interop.rs) is what the model hears.
        let slot = receiving.filter(|&s| self.acts_on(to, s, from, &repr));
        let Some(target) = self.hosts.get_mut(to) else {
            return;
        };
        if let Some(last) = slot.and_then(|s| target.slots[s].last_arrival.get_mut(from)) {
            *last = Some(Arrival {
                at: self.now,
                priority: repr.priority,
            });
        }
        self.stats.deliveries += 1;
        if slot.is_some() && !self.takeovers.is_empty() {
            self.takeover_heard(from, to, repr.vrid, sent, repr.priority);
        }
        let repr = Rc::unwrap_or_clone(repr);
        let link = SEGMENT;
        self.feed(to, receiving, NodeInput::Advert { link, source, repr });
    }

    /// The host's timer event: the node fires whatever is due. Stale events (superseded deadline,
    /// older incarnation) are dropped.
    pub(super) fn fire_timer(&mut self, at: Instant, host: HostId, incarnation: u32) {
        let Some(h) = self.hosts.get_mut(host) else {
            return;
        };
        let current = h.incarnation == incarnation && h.running();
        if !current || h.armed != Some(at) {
            return;
        }
        h.armed = None;
        self.feed(host, None, NodeInput::Timer);
    }

    /// Queues a timer event when the node's merged deadline changed.
    pub(super) fn arm_timer(&mut self, host: HostId) {
        let now = self.now;
        let Some(h) = self.hosts.get_mut(host) else {
            return;
        };
        let deadline = if h.running() {
            h.node
                .as_ref()
                .and_then(|n| n.next_deadline())
                .map(|d| d.max(now))
        } else {
            None
        };
        if h.armed == deadline {
            return;
        }
        h.armed = deadline;
        let incarnation = h.incarnation;
        if let Some(at) = deadline {
            self.push(at, Pending::Timer { host, incarnation });
        }
    }

    fn add_vips(&mut self, host: HostId, slot: usize, list: &Addresses) {
        for ip in ips(list) {
            if !self.hosts[host].vips.insert(ip) {
                let vrid = self.vrid_of(host, slot);
                let detail = format!("{} AddVips {ip}: already held", trace::router(host, vrid));
                self.fail(Invariant::VipActions, detail);
            }
        }
    }

    fn remove_vips(&mut self, host: HostId, slot: usize, list: &Addresses) {
        for ip in ips(list) {
            if !self.hosts[host].vips.remove(&ip) {
                let vrid = self.vrid_of(host, slot);
                let detail = format!("{} RemoveVips {ip}: not held", trace::router(host, vrid));
                self.fail(Invariant::VipActions, detail);
            }
        }
    }

    fn announce(&mut self, host: HostId, slot: usize, list: &Addresses) {
        if let Some(ip) = ips(list)
            .into_iter()
            .find(|ip| !self.hosts[host].vips.contains(ip))
        {
            let vrid = self.vrid_of(host, slot);
            let detail = format!("{} AnnounceVips {ip}: not held", trace::router(host, vrid));
            self.fail(Invariant::VipActions, detail);
        }
    }
}

/// The one slot all of `actions` belong to, if there is exactly one.
fn single_slot(actions: &[(usize, Action)]) -> Option<usize> {
    let first = actions.first()?.0;
    actions.iter().all(|(s, _)| *s == first).then_some(first)
}

fn describe_fate(to: HostId, now: Instant, fate: &Fate) -> String {
    match fate {
        Fate::Arrives(times) => {
            let delays: Vec<String> = times
                .iter()
                .map(|t| format!("+{}us", t.saturating_since(now).as_micros()))
                .collect();
            format!("h{to}{}", delays.join("&"))
        }
        Fate::Lost => format!("h{to}:lost"),
        Fate::Partitioned => format!("h{to}:cut"),
    }
}
