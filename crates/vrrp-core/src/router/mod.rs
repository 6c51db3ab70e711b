//! One virtual router: the RFC 5798 §6.4 state machine with keepvip's additions, driven by
//! [`Router::handle`] and [`Router::next_deadline`].

mod backup;
mod fault;
mod initialize;
mod interop;
pub(crate) mod master;
mod receive;
mod reconfigure;
mod shutdown;
pub mod split_brain;

use std::net::IpAddr;

use vrrp_wire::{Addresses, Centisecs, ChecksumMode, Repr};

use crate::config::{Config, ConfigError};
use crate::health::{Health, TrackerStatus};
use crate::input::{Action, FaultCause, Input, Reason, StateKind};
use crate::time::{Instant, Micros};
use crate::timers;

/// The protocol state, holding the deadline that ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not started, or shut down (notify calls it STOP).
    Initialize,
    /// Following a master; becomes master at `master_down_at` unless an advert resets the timer.
    Backup { master_down_at: Instant },
    /// Sync-group members only: the Master_Down_Timer fired (or an owner started), so this member would
    /// be master, but a sibling still sees a live master. It stays backup, with no deadline, until the
    /// whole group can go master or an advert it must follow arrives.
    BackupAwaitingGroup,
    /// Holding the VIPs; sends the next advert at `advert_at`.
    Master { advert_at: Instant },
    /// Link down, source address lost or a weight-0 tracker KO (or a sync-group sibling in FAULT):
    /// nothing is sent, adverts are ignored, VIPs are not held.
    Fault,
}

impl State {
    pub fn kind(&self) -> StateKind {
        match self {
            State::Initialize => StateKind::Initialize,
            State::Backup { .. } | State::BackupAwaitingGroup => StateKind::Backup,
            State::Master { .. } => StateKind::Master,
            State::Fault => StateKind::Fault,
        }
    }

    /// The instant this state ends by itself, if any.
    pub fn deadline(&self) -> Option<Instant> {
        match *self {
            State::Backup { master_down_at } => Some(master_down_at),
            State::Master { advert_at } => Some(advert_at),
            State::Initialize | State::BackupAwaitingGroup | State::Fault => None,
        }
    }
}

/// The master a backup follows: the sender of the last advert it accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KnownMaster {
    pub address: IpAddr,
    pub priority: u8,
}

/// One virtual router (one VRID, one interface, one address family). Sans-IO: feed it [`Input`]s with
/// the current time, execute the returned [`Action`]s in order, and call [`Router::handle`] with
/// [`Input::Timer`] once `now >= next_deadline()`.
#[derive(Debug, Clone)]
pub struct Router {
    config: Config,
    state: State,
    health: Health,
    /// Master_Adver_Interval (RFC 5798 §6.1): learned from accepted adverts while backup.
    master_adver_interval: Centisecs,
    /// The sender of the last accepted advert while backup; ourselves while master.
    known_master: Option<KnownMaster>,
    /// End of the preempt-delay window that started at startup or when FAULT cleared.
    preempt_allowed_at: Instant,
    /// Last reported interval mismatch, so each change is reported once.
    interval_mismatch: Option<(IpAddr, Centisecs)>,
    /// Last reported address-list mismatch, so each change is reported once.
    address_mismatch: Option<(IpAddr, Addresses)>,
    /// Set by a sync group: hold before becoming master (see [`State::BackupAwaitingGroup`]).
    pub(crate) sync_gated: bool,
    /// Why the running Master_Down_Timer would make us master: silence, a resignation, a master below
    /// us or one we preempt (set by whatever last set or shortened the timer).
    pub(super) master_down_reason: Reason,
    /// Why a sync-group member awaiting the group wants to be master (reported when promoted).
    pub(crate) pending_master_reason: Reason,
    /// Set by a sync group while a sibling is in FAULT.
    group_fault: bool,
    /// A sync-group member that yielded to the peer host does not become master before this.
    pub(crate) sync_hold_until: Instant,
    /// No mastership before this: the end of `Config::startup_delay`.
    pub(crate) startup_hold_until: Instant,
    /// Mixed mode (RFC 5798 §8.4): the last VRRPv3 sender, for ignoring its VRRPv2 copies.
    interop: interop::InteropMemory,
    /// Another master heard while master (router/split_brain.rs).
    other_master: Option<split_brain::Episode>,
    /// The checksum variant the advert being handled verified with, when the caller knows it.
    pub(crate) received_checksum: Option<ChecksumMode>,
    /// Where this instance's adverts fall within the interval after it becomes master, in 65536ths
    /// of half an interval (`master.rs`, `first_advert_after`); 0 for a lone router.
    pub(crate) advert_phase: u16,
}

impl Router {
    /// A router in [`State::Initialize`]; send [`Input::Startup`] to start it.
    pub fn new(config: Config) -> Result<Router, ConfigError> {
        config.validate()?;
        Ok(Router {
            health: Health::new(config.priority, &config.trackers),
            master_adver_interval: config.advert_interval,
            state: State::Initialize,
            known_master: None,
            preempt_allowed_at: Instant::ZERO,
            interval_mismatch: None,
            address_mismatch: None,
            sync_gated: false,
            master_down_reason: Reason::MasterDown,
            pending_master_reason: Reason::MasterDown,
            group_fault: false,
            sync_hold_until: Instant::ZERO,
            startup_hold_until: Instant::ZERO,
            interop: interop::InteropMemory::default(),
            other_master: None,
            received_checksum: None,
            advert_phase: 0,
            config,
        })
    }

    /// Processes one input at time `now` and returns what the caller must do, in order.
    pub fn handle(&mut self, now: Instant, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        let before = self.effective_priority();
        match input {
            Input::Startup => self.on_startup(now, &mut out),
            Input::Shutdown => self.on_shutdown(&mut out),
            Input::Advert { source, repr } => self.on_advert(now, source, &repr, &mut out),
            Input::Timer => self.on_timer(now, &mut out),
            Input::Tracker { tracker, ok } => {
                if self.health.set_tracker(tracker, TrackerStatus::Ok(ok)) {
                    self.on_health_changed(now, before, &mut out);
                }
            }
            Input::TrackerValue { tracker, value } => {
                if self
                    .health
                    .set_tracker(tracker, TrackerStatus::Value(value))
                {
                    self.on_health_changed(now, before, &mut out);
                }
            }
            Input::SetBasePriority(base) => {
                if self.health.set_base(base) {
                    self.config.priority = base;
                    self.on_health_changed(now, before, &mut out);
                }
            }
            Input::InterfaceDown => {
                if self.health.set_link(false) {
                    self.on_health_changed(now, before, &mut out);
                }
            }
            Input::InterfaceUp => {
                if self.health.set_link(true) {
                    self.on_health_changed(now, before, &mut out);
                }
            }
            Input::SourceAddressLost => {
                if self.health.set_source_present(false) {
                    self.on_health_changed(now, before, &mut out);
                }
            }
            Input::SourceAddressRestored => {
                if self.health.set_source_present(true) {
                    self.on_health_changed(now, before, &mut out);
                }
            }
            Input::SourceAddressChanged(address) => {
                if self.change_source(address) && self.health.set_source_present(true) {
                    self.on_health_changed(now, before, &mut out);
                }
            }
        }
        out
    }

    /// When to call [`Router::handle`] with [`Input::Timer`] next; `None` when no timer runs.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.state.deadline()
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The priority this router advertises and compares with: base plus tracker weights, clamped to
    /// 1..=254; 255 for an owner.
    pub fn effective_priority(&self) -> u8 {
        self.health.effective_priority()
    }

    /// Master_Adver_Interval: the interval learned from the master (our own while master or before any
    /// advert was accepted).
    pub fn master_adver_interval(&self) -> Centisecs {
        self.master_adver_interval
    }

    /// Skew_Time for our current effective priority and Master_Adver_Interval.
    pub fn skew_time(&self) -> Micros {
        timers::skew_time(
            self.config.version,
            self.effective_priority(),
            self.master_adver_interval,
        )
    }

    /// Master_Down_Interval for our current effective priority and Master_Adver_Interval.
    pub fn master_down_interval(&self) -> Micros {
        timers::master_down_interval(
            self.config.version,
            self.effective_priority(),
            self.master_adver_interval,
        )
    }

    /// The current master if known: ourselves while master, else the sender of the last accepted advert.
    pub fn known_master(&self) -> Option<KnownMaster> {
        self.known_master
    }

    /// Whether packets addressed to the VIPs may be accepted locally now (RFC 5798 §6.4.3 (650)): master
    /// and (owner or Accept_Mode). The daemon enforces it.
    pub fn accepts_vip_traffic(&self) -> bool {
        matches!(self.state, State::Master { .. }) && self.config.master_accepts_vip_traffic()
    }

    /// The last interval mismatch seen (sender, its interval), cleared when a matching advert arrives.
    pub fn interval_mismatch(&self) -> Option<(IpAddr, Centisecs)> {
        self.interval_mismatch
    }

    /// The last address-list mismatch seen, cleared when a matching advert arrives.
    pub fn address_mismatch(&self) -> Option<&(IpAddr, Addresses)> {
        self.address_mismatch.as_ref()
    }

    /// The split brain in progress: another master heard for a few intervals while we are master.
    pub fn split_brain(&self) -> Option<&crate::split_brain_report::SplitBrain> {
        self.other_master
            .as_ref()
            .filter(|e| e.confirmed)
            .map(|e| &e.state)
    }

    /// Each tracker's last status, in `config().trackers` order.
    pub fn tracker_status(&self) -> &[TrackerStatus] {
        self.health.tracker_status()
    }

    /// Whether the interface's link is up, as last reported ([`Input::InterfaceUp`] / `InterfaceDown`).
    pub fn link_up(&self) -> bool {
        self.health.link_up()
    }

    /// Whether the primary address is usable, as last reported ([`Input::SourceAddressLost`] /
    /// `SourceAddressRestored`).
    pub fn source_present(&self) -> bool {
        self.health.source_present()
    }

    /// Why the router is (or would be, once started) in FAULT, if it is.
    pub fn fault_cause(&self) -> Option<FaultCause> {
        self.own_fault_cause()
            .or(self.group_fault.then_some(FaultCause::SyncGroup))
    }

    /// This router's own fault condition (link down, source address lost or a weight-0 tracker KO),
    /// ignoring its sync group. The causes that make sending impossible come first, so a master that
    /// has one never tries to resign.
    pub fn own_fault_cause(&self) -> Option<FaultCause> {
        if !self.health.link_up() {
            Some(FaultCause::LinkDown)
        } else if !self.health.source_present() {
            Some(FaultCause::SourceAddressLost)
        } else {
            self.health.failed_fault_tracker().map(FaultCause::Tracker)
        }
    }

    /// The advert this router sends now (RFC 5798 §5.2), with `priority`, in its configured version
    /// (`send_advert` adds the mixed-mode VRRPv2 copy).
    fn advert(&self, priority: u8) -> Repr {
        Repr {
            version: self.config.version,
            vrid: self.config.vrid,
            priority,
            max_adver_int: self.config.advert_interval,
            addresses: self.config.addresses.clone(),
            auth: self.config.auth,
        }
    }

    /// Moves to `to` and reports it.
    fn transition(&mut self, to: State, reason: Reason, out: &mut Vec<Action>) {
        let from = self.state.kind();
        self.state = to;
        if from == StateKind::Master && to.kind() != StateKind::Master {
            split_brain::end(&mut self.other_master, out);
        }
        if from != to.kind() {
            out.push(Action::StateChanged {
                from,
                to: to.kind(),
                reason,
                accept_vip_traffic: self.accepts_vip_traffic(),
            });
        }
    }

    fn on_timer(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.state {
            State::Backup { master_down_at } if now >= master_down_at => self.master_down(now, out),
            State::Master { advert_at } if now >= advert_at => self.advert_timer(now, out),
            _ => {}
        }
    }
}
