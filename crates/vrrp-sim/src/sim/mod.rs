//! The simulator: hosts on one virtual segment, each running a vrrp-core `Node` (the dispatch, merged
//! timer and sync groups the daemon runs), driven by one event queue ordered by (virtual time, sequence
//! number), so a seed always replays the same run.

mod actions;
mod apply;
mod host;
mod incumbent;
mod interop;
mod membership;
mod observe;
mod queue;
mod takeover;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

use vrrp_core::{Config, ConfigError, Instant, Micros, Router, StateKind};

use crate::check::{Checker, Invariant, RouterView, Violation};
use crate::model::{Event, HostId, HostSel, HostSpec, NetParams};
use crate::network::Network;
use crate::oracle::settle_time;
use crate::rng::Rng;
use crate::trace::{self, Trace};

use host::{Host, Status};
use incumbent::Incumbent;
use queue::{Pending, Queued};
use takeover::Takeover;

/// An advert some router sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentAdvert {
    pub at: Instant,
    pub host: HostId,
    pub vrid: u8,
    pub priority: u8,
}

/// Counters of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Queue entries processed (deliveries, timers, scheduled events, checks).
    pub events: u64,
    pub adverts: u64,
    pub deliveries: u64,
    pub lost: u64,
    pub state_changes: u64,
    /// Snapshots on which the settled election checks ran.
    pub settled_checks: u64,
    /// Takeovers whose instant was checked exactly.
    pub takeovers_verified: u64,
    /// Masters left alone by a non-preempting router that started next to them.
    pub incumbents_kept: u64,
    /// The most masters one VRID had at once (anywhere, settled or not).
    pub max_masters: usize,
    /// Instances a reload removed from a running host, and added to one.
    pub instances_removed: u64,
    pub instances_added: u64,
    /// Reloads that changed a running router's VIPs.
    pub vip_reloads: u64,
}

/// Why a simulation could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    Config {
        host: HostId,
        vrid: u8,
        error: ConfigError,
    },
    DuplicateVrid {
        host: HostId,
        vrid: u8,
    },
    NoRouters {
        host: HostId,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Config { host, vrid, error } => write!(f, "h{host}/v{vrid}: {error}"),
            SimError::DuplicateVrid { host, vrid } => write!(f, "h{host}: VRID {vrid} twice"),
            SimError::NoRouters { host } => write!(f, "h{host}: no routers"),
        }
    }
}

impl std::error::Error for SimError {}

/// Routers on a virtual LAN with a virtual clock. Schedule [`Event`]s, then [`Sim::run_until`]; every
/// invariant is checked after every event and the first violation stops the run.
pub struct Sim {
    now: Instant,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    hosts: Vec<Host>,
    net: Network,
    rng: Rng,
    checker: Checker,
    takeovers: Vec<Takeover>,
    incumbents: Vec<Incumbent>,
    trace: Option<Trace>,
    adverts: Vec<SentAdvert>,
    stats: Stats,
    violation: Option<Violation>,
    views: Vec<RouterView>,
    event_budget: u64,
}

impl Sim {
    /// Hosts in Initialize (schedule [`Event::Start`] for each) on a network drawing from `seed`.
    pub fn new(specs: Vec<HostSpec>, net: NetParams, seed: u64) -> Result<Sim, SimError> {
        for (host, spec) in specs.iter().enumerate() {
            if spec.routers.is_empty() {
                return Err(SimError::NoRouters { host });
            }
            for (i, config) in spec.routers.iter().enumerate() {
                let vrid = config.vrid;
                config
                    .validate()
                    .map_err(|error| SimError::Config { host, vrid, error })?;
                if spec.routers[..i].iter().any(|c| c.vrid == vrid) {
                    return Err(SimError::DuplicateVrid { host, vrid });
                }
            }
        }
        let settle = settle_time(&specs, net.delay_max);
        let mut rng = Rng::new(seed ^ 0x6E65_7477_6F72_6B21);
        let count = specs.len();
        let network = Network::new(count, net.delay_max, net.weather, &mut rng);
        let mut checker = Checker::new(settle, net.delay_max);
        checker.disturb(Instant::ZERO, net.weather.is_lossless());
        let hosts = specs
            .into_iter()
            .map(|spec| Host::new(spec.routers, spec.sync_group, count))
            .collect();
        Ok(Sim {
            now: Instant::ZERO,
            seq: 0,
            queue: BinaryHeap::new(),
            hosts,
            net: network,
            rng,
            checker,
            takeovers: Vec::new(),
            incumbents: Vec::new(),
            trace: None,
            adverts: Vec::new(),
            stats: Stats::default(),
            violation: None,
            views: Vec::new(),
            event_budget: 5_000_000,
        })
    }

    /// One router per host on an ideal network (no delay, loss or duplicates), all started at zero.
    pub fn lan(configs: Vec<Config>) -> Result<Sim, SimError> {
        Sim::lan_with(configs, NetParams::IDEAL)
    }

    /// One router per host on `net`, all started at zero.
    pub fn lan_with(configs: Vec<Config>, net: NetParams) -> Result<Sim, SimError> {
        let count = configs.len();
        let mut sim = Sim::new(configs.into_iter().map(HostSpec::single).collect(), net, 0)?;
        for host in 0..count {
            let start = Event::Start {
                host: HostSel::Host(host),
                reuse: false,
            };
            sim.schedule(Instant::ZERO, start);
        }
        Ok(sim)
    }

    /// Turns the settled election checks off (`false`) or on; the VIP, priority and takeover checks
    /// stay on. For exploring configurations known not to converge.
    pub fn set_election_checks(&mut self, on: bool) {
        self.checker.set_election_checks(on);
    }

    /// Stops the run with [`Invariant::EventBudget`] after this many queue entries.
    pub fn set_event_budget(&mut self, events: u64) {
        self.event_budget = events;
    }

    /// Queues `event` at `at` (not before now).
    pub fn schedule(&mut self, at: Instant, event: Event) {
        self.push(at, Pending::Event(event));
    }

    /// Processes everything due up to and including `until`; stops at the first violation.
    pub fn run_until(&mut self, until: Instant) -> Result<(), Violation> {
        while self.violation.is_none() {
            let due = self.queue.peek().is_some_and(|Reverse(q)| q.at <= until);
            if !due {
                break;
            }
            let Some(Reverse(next)) = self.queue.pop() else {
                break;
            };
            self.now = self.now.max(next.at);
            self.stats.events += 1;
            if self.stats.events > self.event_budget {
                let detail = format!("more than {} events", self.event_budget);
                self.fail(Invariant::EventBudget, detail);
                break;
            }
            self.process(next.at, next.what);
            self.check();
        }
        if self.violation.is_none() && until > self.now {
            self.now = until;
            self.check();
        }
        match &self.violation {
            Some(v) => Err(v.clone()),
            None => Ok(()),
        }
    }

    /// Applies `event` now (as if scheduled for this instant) and runs everything due at this instant.
    pub fn apply_now(&mut self, event: Event) -> Result<(), Violation> {
        self.schedule(self.now, event);
        self.run_until(self.now)
    }

    pub fn now(&self) -> Instant {
        self.now
    }

    pub fn stats(&self) -> Stats {
        Stats {
            settled_checks: self.checker.settled_checks(),
            ..self.stats
        }
    }

    /// Every advert sent so far, in order.
    pub fn adverts(&self) -> &[SentAdvert] {
        &self.adverts
    }

    /// The first advert `host` sent for `vrid` at or after `after`.
    pub fn first_advert(&self, host: HostId, vrid: u8, after: Instant) -> Option<SentAdvert> {
        self.adverts
            .iter()
            .find(|a| a.host == host && a.vrid == vrid && a.at >= after)
            .copied()
    }

    /// The last advert `host` sent for `vrid` before `before`.
    pub fn last_advert(&self, host: HostId, vrid: u8, before: Instant) -> Option<SentAdvert> {
        self.adverts
            .iter()
            .rev()
            .find(|a| a.host == host && a.vrid == vrid && a.at < before)
            .copied()
    }

    /// The trace so far, if [`Sim::enable_trace`] was called.
    pub fn trace(&self) -> Option<&str> {
        self.trace.as_ref().map(Trace::text)
    }

    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }

    /// The stable time the election checks wait for (see [`crate::oracle::settle_time`]).
    pub fn settle(&self) -> Micros {
        self.checker.settle()
    }

    /// Whether the settled election checks apply now.
    pub fn is_settled(&self) -> bool {
        self.checker.is_settled(self.now)
    }

    /// The router for `vrid` on `host`, if the host has one in memory (running or stopped).
    pub fn router(&self, host: HostId, vrid: u8) -> Option<&Router> {
        let h = self.hosts.get(host)?;
        h.router(h.slot_of(vrid)?)
    }

    /// The state of a running or stopped host's router; `None` when crashed or never started.
    pub fn state(&self, host: HostId, vrid: u8) -> Option<StateKind> {
        self.router(host, vrid).map(|r| r.state().kind())
    }

    /// Running hosts whose router for `vrid` is master.
    pub fn masters(&self, vrid: u8) -> Vec<HostId> {
        (0..self.hosts.len())
            .filter(|&h| self.hosts[h].running() && self.state(h, vrid) == Some(StateKind::Master))
            .collect()
    }

    /// Whether `host`'s interface holds every VIP of `vrid`.
    pub fn holds_vips(&self, host: HostId, vrid: u8) -> bool {
        self.hosts
            .get(host)
            .and_then(|h| h.slot_of(vrid).map(|s| h.holding(s)))
            == Some(crate::check::Vips::All)
    }

    /// The addresses on `host`'s interface (the VIPs its routers added and not removed).
    pub fn vips(&self, host: HostId) -> Vec<std::net::IpAddr> {
        self.hosts
            .get(host)
            .map(|h| h.vips.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Fault injection for the checker's own tests: puts `vrid`'s VIPs on `host`'s interface behind the
    /// core's back, as a daemon that forgot to remove them would.
    pub fn add_stray_vips(&mut self, host: HostId, vrid: u8) {
        let Some(h) = self.hosts.get_mut(host) else {
            return;
        };
        if let Some(slot) = h.slot_of(vrid) {
            let list = host::ips(&h.slots[slot].config.addresses);
            h.vips.extend(list);
            self.note(|| format!("{} INJECTED stray VIPs", trace::router(host, vrid)));
        }
    }

    fn push(&mut self, at: Instant, what: Pending) {
        self.seq += 1;
        let at = at.max(self.now);
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            what,
        }));
    }

    fn process(&mut self, at: Instant, what: Pending) {
        match what {
            Pending::Deliver {
                from,
                to,
                source,
                sent,
                repr,
            } => self.deliver(from, to, source, sent, repr),
            Pending::Timer { host, incarnation } => self.fire_timer(at, host, incarnation),
            Pending::Event(event) => self.apply(event),
            Pending::PreemptWindowEnds { host, slot } => self.preempt_window_ends(at, host, slot),
            Pending::Check => {}
        }
    }

    /// Records the first violation (later ones are consequences).
    fn fail(&mut self, invariant: Invariant, detail: String) {
        let violation = Violation {
            at: self.now,
            invariant,
            detail,
        };
        self.fail_with(violation);
    }

    fn fail_with(&mut self, violation: Violation) {
        if self.violation.is_none() {
            let line = format!("VIOLATION {violation}");
            self.note(|| line);
            self.violation = Some(violation);
        }
    }

    /// Adds a trace line, formatting it only when tracing.
    fn note(&mut self, line: impl FnOnce() -> String) {
        if let Some(trace) = self.trace.as_mut() {
            trace.line(self.now, &line());
        }
    }

    fn running_hosts(&self) -> impl Iterator<Item = HostId> + '_ {
        (0..self.hosts.len()).filter(|&h| self.hosts[h].status == Status::Running)
    }
}
