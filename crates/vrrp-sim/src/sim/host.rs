//! One simulated host: its routers (alone or as a sync group), its VIP set, and what the simulator
//! models about it independently of the core (base priority, tracker status, preempt window).

use std::collections::BTreeSet;
use std::net::IpAddr;

use vrrp_core::{
    Action, Config, ConfigError, GroupInput, Input, Instant, MemberId, OWNER_PRIORITY, Router,
    SyncGroup,
};
use vrrp_wire::Addresses;

use crate::check::Vips;

/// The routers of a host, driven alone or as one sync group.
#[derive(Debug, Clone)]
pub(crate) enum Engine {
    Alone(Vec<Router>),
    Group(SyncGroup),
}

impl Engine {
    pub(crate) fn new(configs: Vec<Config>, sync_group: bool) -> Result<Engine, ConfigError> {
        if sync_group {
            return SyncGroup::new(configs).map(Engine::Group);
        }
        let routers = configs
            .into_iter()
            .map(Router::new)
            .collect::<Result<_, _>>()?;
        Ok(Engine::Alone(routers))
    }

    pub(crate) fn router(&self, slot: usize) -> Option<&Router> {
        match self {
            Engine::Alone(routers) => routers.get(slot),
            Engine::Group(group) => group.member(MemberId(slot)),
        }
    }

    /// An input for one router (a sync group spreads `Startup`/`Shutdown`/`Timer` itself).
    pub(crate) fn handle(
        &mut self,
        now: Instant,
        slot: usize,
        input: Input,
    ) -> Vec<(usize, Action)> {
        match self {
            Engine::Alone(routers) => match routers.get_mut(slot) {
                Some(router) => tag(slot, router.handle(now, input)),
                None => Vec::new(),
            },
            Engine::Group(group) => {
                untag(group.handle(now, GroupInput::Member(MemberId(slot), input)))
            }
        }
    }

    /// `Startup`, `Shutdown` or `Timer` for every router of the host.
    pub(crate) fn all(&mut self, now: Instant, input: &Input) -> Vec<(usize, Action)> {
        match self {
            Engine::Alone(routers) => routers
                .iter_mut()
                .enumerate()
                .flat_map(|(slot, router)| tag(slot, router.handle(now, input.clone())))
                .collect(),
            Engine::Group(group) => {
                let input = match input {
                    Input::Startup => GroupInput::Startup,
                    Input::Shutdown => GroupInput::Shutdown,
                    _ => GroupInput::Timer,
                };
                untag(group.handle(now, input))
            }
        }
    }
}

fn tag(slot: usize, actions: Vec<Action>) -> Vec<(usize, Action)> {
    actions.into_iter().map(|a| (slot, a)).collect()
}

fn untag(actions: Vec<(MemberId, Action)>) -> Vec<(usize, Action)> {
    actions.into_iter().map(|(m, a)| (m.0, a)).collect()
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
    /// The deadline a queued timer event exists for.
    pub(crate) armed: Option<Instant>,
    /// From when this router preempts (owner: at once; preempt off: never).
    pub(crate) preempt_from: Option<Instant>,
    /// Per sending host: the last advert handed to this router.
    pub(crate) last_arrival: Vec<Option<Arrival>>,
    pub(crate) last_sent: Option<Instant>,
}

impl Slot {
    pub(crate) fn new(config: Config, hosts: usize) -> Slot {
        Slot {
            base: config.priority,
            trackers_ok: config.trackers.iter().map(|t| t.initially_ok).collect(),
            armed: None,
            preempt_from: None,
            last_arrival: vec![None; hosts],
            last_sent: None,
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
    pub(crate) down_since: Instant,
    pub(crate) link_down_since: Instant,
    pub(crate) engine: Option<Engine>,
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
            down_since: Instant::ZERO,
            link_down_since: Instant::ZERO,
            engine: None,
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

    pub(crate) fn router(&self, slot: usize) -> Option<&Router> {
        self.engine.as_ref().and_then(|e| e.router(slot))
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
