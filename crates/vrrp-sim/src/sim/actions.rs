//! Driving routers and carrying out what they return: adverts onto the segment, VIPs onto the host's
//! interface (checked for balance), timers into the queue.

use std::net::IpAddr;
use std::rc::Rc;

use vrrp_core::{Action, Input, Instant, Reason, State, StateKind};
use vrrp_wire::{Addresses, Repr};

use super::host::{Arrival, ips};
use super::{Pending, SentAdvert, Sim};
use crate::check::Invariant;
use crate::model::HostId;
use crate::network::Fate;
use crate::trace;

impl Sim {
    /// Gives `input` to router `slot` of `host` and carries out its actions.
    pub(super) fn feed(&mut self, host: HostId, slot: usize, input: Input) {
        let what = self.trace.is_some().then(|| trace::input(&input));
        let Some(engine) = self.hosts.get_mut(host).and_then(|h| h.engine.as_mut()) else {
            return;
        };
        let actions = engine.handle(self.now, slot, input);
        self.execute(host, Some(slot), what, actions);
    }

    /// `Startup`, `Shutdown` or `Timer` for every router of `host` (a sync group as a whole).
    pub(super) fn feed_all(&mut self, host: HostId, input: Input) {
        let what = self.trace.is_some().then(|| trace::input(&input));
        let Some(engine) = self.hosts.get_mut(host).and_then(|h| h.engine.as_mut()) else {
            return;
        };
        let actions = engine.all(self.now, &input);
        self.execute(host, None, what, actions);
    }

    fn execute(
        &mut self,
        host: HostId,
        origin: Option<usize>,
        what: Option<String>,
        actions: Vec<(usize, Action)>,
    ) {
        let mut notes = Vec::new();
        for (slot, action) in actions {
            if self.trace.is_some() {
                let prefix = match origin {
                    Some(o) if o == slot => String::new(),
                    _ => format!("[v{}] ", self.vrid_of(host, slot)),
                };
                notes.push(format!("{prefix}{}", trace::action(&action)));
            }
            match action {
                Action::SendAdvert(repr) => self.send(host, slot, repr, &mut notes),
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
        self.arm_timers(host);
        if let Some(what) = what {
            let who = match origin {
                Some(slot) => trace::router(host, self.vrid_of(host, slot)),
                None => format!("h{host}"),
            };
            let after = origin.map(|s| self.timer_note(host, s)).unwrap_or_default();
            self.note(|| format!("{who} {what} => {}{after}", notes.join(", ")));
        }
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
    fn send(&mut self, host: HostId, slot: usize, repr: Repr, notes: &mut [String]) {
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
        let mut fates = Vec::new();
        for to in 0..self.hosts.len() {
            if to == host {
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

    /// An advert reaches `to`: dispatched by VRID to its router, if the host runs and its link is up.
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
        let Some(slot) = target.slot_of(repr.vrid) else {
            return;
        };
        if let Some(last) = target.slots[slot].last_arrival.get_mut(from) {
            *last = Some(Arrival {
                at: self.now,
                priority: repr.priority,
            });
        }
        self.stats.deliveries += 1;
        if !self.takeovers.is_empty() {
            self.takeover_heard(from, to, repr.vrid, sent, repr.priority);
        }
        let repr = Rc::unwrap_or_clone(repr);
        self.feed(to, slot, Input::Advert { source, repr });
    }

    /// A timer event; stale ones (superseded deadline, older incarnation) are dropped.
    pub(super) fn fire_timer(&mut self, at: Instant, host: HostId, slot: usize, incarnation: u32) {
        let Some(h) = self.hosts.get_mut(host) else {
            return;
        };
        let current = h.incarnation == incarnation && h.running();
        let Some(s) = h.slots.get_mut(slot) else {
            return;
        };
        if !current || s.armed != Some(at) {
            return;
        }
        s.armed = None;
        if h.sync_group {
            self.feed_all(host, Input::Timer);
        } else {
            self.feed(host, slot, Input::Timer);
        }
    }

    /// Queues a timer event for every router whose deadline changed.
    pub(super) fn arm_timers(&mut self, host: HostId) {
        let now = self.now;
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let running = h.running();
        let incarnation = h.incarnation;
        let mut due = Vec::new();
        for slot in 0..h.slots.len() {
            let deadline = if running {
                h.router(slot)
                    .and_then(|r| r.next_deadline())
                    .map(|d| d.max(now))
            } else {
                None
            };
            if h.slots[slot].armed != deadline {
                due.push((slot, deadline));
            }
        }
        for (slot, deadline) in due {
            self.hosts[host].slots[slot].armed = deadline;
            if let Some(at) = deadline {
                let what = Pending::Timer {
                    host,
                    slot,
                    incarnation,
                };
                self.push(at, what);
            }
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
