//! Scheduled events: starts, crashes, stops, link and partition changes, priority and tracker changes,
//! weather. Each one that changes something restarts the stable window.

use vrrp_core::{Input, NodeInput, StateKind, TrackerId};

use super::host::{HostNode, SEGMENT, Status};
use super::takeover::Leaving;
use super::{Pending, Sim};
use crate::check::Invariant;
use crate::model::{Event, HostId, HostSel};

impl Sim {
    pub(super) fn apply(&mut self, event: Event) {
        let selector = event_host(&event);
        let target = selector.and_then(|s| self.resolve(s));
        self.note(|| {
            let resolved = match (selector, target) {
                (Some(HostSel::Host(_)) | None, _) => String::new(),
                (Some(_), Some(h)) => format!(" = h{h}"),
                (Some(_), None) => " = nobody".to_string(),
            };
            format!("EVENT {event}{resolved}")
        });
        // A takeover is only timed when nothing else happens before it.
        let earlier = std::mem::take(&mut self.takeovers);
        let earlier_incumbents = std::mem::take(&mut self.incumbents);
        let settled = self.checker.is_settled(self.now);
        let Outcome {
            changed,
            plans,
            incumbents,
        } = self.carry_out(&event, target, settled);
        if !changed {
            self.note(|| "EVENT changed nothing".to_string());
            self.takeovers = earlier;
            self.incumbents = earlier_incumbents;
            return;
        }
        for plan in &plans {
            let line = plan.describe();
            self.note(|| line);
        }
        self.takeovers = plans;
        self.incumbents = incumbents;
        self.disturb();
        let deadlines: Vec<_> = self.takeovers.iter().map(|t| t.give_up_at).collect();
        for at in deadlines {
            self.push(at, Pending::Check);
        }
    }

    /// Makes `event` happen to `target` (resolved), planning the takeovers and incumbents it implies
    /// when the network was `settled` before it.
    fn carry_out(&mut self, event: &Event, target: Option<HostId>, settled: bool) -> Outcome {
        let mut outcome = Outcome::default();
        outcome.changed = match (event, target) {
            (Event::Start { reuse, .. }, Some(h)) => {
                outcome.incumbents = self.plan_incumbents(settled, h, None);
                self.start(h, *reuse)
            }
            (Event::Crash(_), Some(h)) => {
                outcome.plans = self.plan_takeovers(settled, h, None, Leaving::Crash);
                self.crash(h)
            }
            (Event::Stop(_), Some(h)) => {
                outcome.plans = self.plan_takeovers(settled, h, None, Leaving::Stop);
                self.stop(h)
            }
            (Event::LinkDown(_), Some(h)) => {
                outcome.plans = self.plan_takeovers(settled, h, None, Leaving::LinkDown);
                self.set_link(h, false)
            }
            (Event::LinkUp(_), Some(h)) => self.set_link(h, true),
            (Event::SetBasePriority { vrid, priority, .. }, Some(h)) => {
                let (changed, plans) = self.maybe_lowered(settled, h, *vrid, |sim| {
                    sim.set_base_priority(h, *vrid, *priority)
                });
                outcome.plans = plans;
                changed
            }
            (Event::Reload { vrid, priority, .. }, Some(h)) => {
                let (changed, plans) =
                    self.maybe_lowered(settled, h, *vrid, |sim| sim.reload(h, *vrid, *priority));
                outcome.plans = plans;
                changed
            }
            (Event::RemoveInstance { vrid, .. }, Some(h)) => {
                outcome.plans = self.plan_takeovers(settled, h, Some(*vrid), Leaving::Stop);
                self.remove_instance(h, *vrid)
            }
            (Event::AddInstance { vrid, .. }, Some(h)) => {
                let running = self.hosts[h].running();
                outcome.incumbents = self.plan_incumbents(settled && running, h, Some(*vrid));
                self.add_instance(h, *vrid)
            }
            (Event::ReloadVips { vrid, set, .. }, Some(h)) => self.reload_vips(h, *vrid, *set),
            (
                Event::Tracker {
                    vrid, tracker, ok, ..
                },
                Some(h),
            ) => {
                let (changed, plans) = self.maybe_lowered(settled, h, *vrid, |sim| {
                    sim.set_tracker(h, *vrid, *tracker, *ok)
                });
                outcome.plans = plans;
                changed
            }
            (Event::Partition(side), _) => {
                self.net.partition(side);
                true
            }
            (Event::Heal, _) => {
                let was = self.net.is_partitioned();
                self.net.heal();
                was
            }
            (Event::Weather(weather), _) => {
                self.net.set_weather(*weather, &mut self.rng);
                true
            }
            (_, None) => false,
        };
        outcome
    }

    /// A priority or tracker `change` on `host`'s `vrid`: if it was master, the takeovers a lowered
    /// priority implies are planned, timed from its last advert before the change.
    fn maybe_lowered(
        &mut self,
        settled: bool,
        host: HostId,
        vrid: u8,
        change: impl FnOnce(&mut Sim) -> bool,
    ) -> (bool, Vec<super::takeover::Takeover>) {
        let was_master = self.state(host, vrid) == Some(StateKind::Master);
        let sent_before = self.last_sent(host, vrid);
        let changed = change(self);
        let mut plans = Vec::new();
        if was_master {
            plans = self.plan_takeovers(settled, host, Some(vrid), Leaving::Lowered);
            plans.iter_mut().for_each(|p| p.set_last_sent(sent_before));
        }
        (changed, plans)
    }

    /// Plans the takeovers to time after `host`'s event (for one VRID or all), if the network was
    /// settled before it; a core timer that disagrees with the model is a violation.
    fn plan_takeovers(
        &mut self,
        settled: bool,
        host: HostId,
        vrid: Option<u8>,
        kind: Leaving,
    ) -> Vec<super::takeover::Takeover> {
        let mut plans = Vec::new();
        if !settled {
            return plans;
        }
        for slot in 0..self.hosts[host].slots.len() {
            if vrid.is_some_and(|v| self.hosts[host].slots[slot].config.vrid != v) {
                continue;
            }
            match self.plan_takeover(host, slot, kind) {
                Ok(Some(plan)) => plans.push(plan),
                Ok(None) => {}
                Err(detail) => self.fail(Invariant::TakeoverTime, detail),
            }
        }
        plans
    }

    fn last_sent(&self, host: HostId, vrid: u8) -> Option<vrrp_core::Instant> {
        let h = &self.hosts[host];
        h.slot_of(vrid).and_then(|slot| h.slots[slot].last_sent)
    }

    /// The stable window starts again now; its end gets a check of its own.
    pub(super) fn disturb(&mut self) {
        self.checker
            .disturb(self.now, self.net.weather().is_lossless());
        if let Some(from) = self.checker.settled_from() {
            self.push(from, Pending::Check);
        }
    }

    fn resolve(&self, selector: HostSel) -> Option<HostId> {
        let hosts = self.hosts.iter().enumerate();
        match selector {
            HostSel::Host(h) => (h < self.hosts.len()).then_some(h),
            HostSel::MasterOf(vrid) => self
                .running_hosts()
                .find(|&h| self.state(h, vrid) == Some(StateKind::Master)),
            HostSel::FirstDown => hosts
                .filter(|(_, h)| matches!(h.status, Status::Crashed | Status::Stopped))
                .min_by_key(|(i, h)| (h.down_since, *i))
                .map(|(i, _)| i),
            HostSel::FirstLinkDown => hosts
                .filter(|(_, h)| !h.link_up)
                .min_by_key(|(i, h)| (h.link_down_since, *i))
                .map(|(i, _)| i),
            HostSel::FirstRemoved(vrid) => hosts
                .filter_map(|(i, h)| {
                    let slot = &h.slots[h.slot_of(vrid)?];
                    (!slot.present).then_some((slot.removed_since, i))
                })
                .min()
                .map(|(_, i)| i),
        }
    }

    /// Starts a host that is not running.
    fn start(&mut self, host: HostId, reuse: bool) -> bool {
        let h = &mut self.hosts[host];
        if h.running() {
            return false;
        }
        let reusing = reuse && h.status == Status::Stopped && h.node.is_some();
        h.incarnation += 1;
        h.status = Status::Running;
        h.armed = None;
        for slot in &mut h.slots {
            slot.last_arrival.iter_mut().for_each(|a| *a = None);
            // Reused routers keep what they remembered; new ones start empty, as the core's do.
            if !reusing {
                slot.last_v3 = None;
            }
        }
        if !reusing && !self.new_node(host) {
            return false;
        }
        for slot in 0..self.hosts[host].slots.len() {
            if self.hosts[host].slots[slot].present {
                self.open_preempt_window(host, slot);
            }
        }
        self.feed(host, None, NodeInput::Startup);
        true
    }

    /// A fresh node for `host` with the current base priorities, told the world as it is before
    /// `Startup` (tracker status and link), as a restarted daemon would.
    fn new_node(&mut self, host: HostId) -> bool {
        let h = &mut self.hosts[host];
        let configs = h.slots.iter().map(|s| s.present_config()).collect();
        match HostNode::new(configs, h.sync_group) {
            Ok(node) => h.node = Some(node),
            Err(error) => {
                self.fail(Invariant::Setup, format!("h{host}: {error}"));
                return false;
            }
        }
        for slot in 0..self.hosts[host].slots.len() {
            for input in self.hosts[host].slots[slot].tracker_news() {
                self.feed_instance(host, slot, input);
            }
        }
        if !self.hosts[host].link_up {
            self.feed(host, None, link_input(false));
        }
        true
    }

    /// Silent crash: the node and the host's VIPs vanish; nothing is sent.
    fn crash(&mut self, host: HostId) -> bool {
        let now = self.now;
        let h = &mut self.hosts[host];
        if !h.running() {
            return false;
        }
        h.node = None;
        h.vips.clear();
        h.status = Status::Crashed;
        h.down_since = now;
        h.incarnation += 1;
        h.armed = None;
        true
    }

    /// Graceful stop: `Shutdown` to the node (a master resigns with priority 0 and removes its VIPs).
    fn stop(&mut self, host: HostId) -> bool {
        if !self.hosts[host].running() {
            return false;
        }
        self.feed(host, None, NodeInput::Shutdown);
        let now = self.now;
        let h = &mut self.hosts[host];
        h.status = Status::Stopped;
        h.down_since = now;
        h.incarnation += 1;
        h.armed = None;
        true
    }

    fn set_link(&mut self, host: HostId, up: bool) -> bool {
        let now = self.now;
        let h = &mut self.hosts[host];
        if h.link_up == up {
            return false;
        }
        h.link_up = up;
        if !up {
            h.link_down_since = now;
        }
        self.feed(host, None, link_input(up));
        true
    }

    fn set_base_priority(&mut self, host: HostId, vrid: u8, priority: u8) -> bool {
        let h = &mut self.hosts[host];
        let Some(slot) = h.slot_of(vrid) else {
            return false;
        };
        let s = &mut h.slots[slot];
        // The documented contract of Input::SetBasePriority: owners ignore it, and only 1..=254 apply.
        let applies = !s.config.is_owner() && (1..=254).contains(&priority) && s.base != priority;
        if !applies {
            return false;
        }
        s.base = priority;
        self.feed_instance(host, slot, Input::SetBasePriority(priority));
        true
    }

    /// A reload with a new priority, through `Node::reconfigure` (an owner keeps 255: not reloaded).
    fn reload(&mut self, host: HostId, vrid: u8, priority: u8) -> bool {
        let now = self.now;
        let h = &mut self.hosts[host];
        let Some(slot) = h.slot_of(vrid) else {
            return false;
        };
        let s = &mut h.slots[slot];
        let applies = !s.config.is_owner() && (1..=254).contains(&priority) && s.base != priority;
        if !applies {
            return false;
        }
        s.base = priority;
        let config = s.current_config();
        let Some(node) = h.node.as_mut().filter(|_| s.present) else {
            // Not running (or not in the config): the next start (or add) uses the new priority.
            return true;
        };
        match node.reconfigure(now, slot, config) {
            Ok(actions) => {
                let what = self
                    .trace
                    .is_some()
                    .then(|| format!("reload prio {priority}"));
                self.execute(host, Some(slot), what, actions);
            }
            Err(error) => self.fail(Invariant::Setup, format!("h{host} v{vrid}: {error}")),
        }
        true
    }

    fn set_tracker(&mut self, host: HostId, vrid: u8, tracker: usize, ok: bool) -> bool {
        let h = &mut self.hosts[host];
        let Some(slot) = h.slot_of(vrid) else {
            return false;
        };
        match h.slots[slot].trackers_ok.get_mut(tracker) {
            Some(status) if *status != ok => *status = ok,
            _ => return false,
        }
        let input = Input::Tracker {
            tracker: TrackerId(tracker),
            ok,
        };
        self.feed_instance(host, slot, input);
        true
    }
}

/// Link up or down for every instance on the host's one interface.
fn link_input(up: bool) -> NodeInput<'static> {
    let input = if up {
        Input::InterfaceUp
    } else {
        Input::InterfaceDown
    };
    NodeInput::Link {
        link: SEGMENT,
        family: None,
        input,
    }
}

fn event_host(event: &Event) -> Option<HostSel> {
    match event {
        Event::Start { host, .. }
        | Event::Crash(host)
        | Event::Stop(host)
        | Event::LinkDown(host)
        | Event::LinkUp(host)
        | Event::SetBasePriority { host, .. }
        | Event::Reload { host, .. }
        | Event::RemoveInstance { host, .. }
        | Event::AddInstance { host, .. }
        | Event::ReloadVips { host, .. }
        | Event::Tracker { host, .. } => Some(*host),
        Event::Partition(_) | Event::Heal | Event::Weather(_) => None,
    }
}

/// What an event did: whether it changed anything, and the takeovers and incumbents to check.
#[derive(Default)]
struct Outcome {
    changed: bool,
    plans: Vec<super::takeover::Takeover>,
    incumbents: Vec<super::incumbent::Incumbent>,
}
