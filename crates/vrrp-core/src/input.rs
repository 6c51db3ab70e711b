//! What goes into a router ([`Input`]) and what comes out ([`Action`]), with the typed reasons both carry.

use std::net::IpAddr;

use vrrp_wire::{Addresses, Centisecs, Repr};

use crate::split_brain_report::SplitBrain;
use crate::vips::VipSet;

use crate::config::TrackerId;

/// An event for one virtual router. Time is not an input: every call carries `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// RFC 5798 §6.4.1 Startup event.
    Startup,
    /// RFC 5798 §6.4.2 (345) / §6.4.3 (655) Shutdown event.
    Shutdown,
    /// An advertisement that passed the wire checks (TTL/hop limit 255, version/type, length, checksum,
    /// count and interval non-zero, IPv6 first address link-local), with its IP source address.
    Advert {
        source: IpAddr,
        repr: Repr,
    },
    /// A deadline returned by `next_deadline()` has been reached. Harmless when nothing is due.
    Timer,
    /// A tracker's status changed (`ok` false = KO).
    Tracker {
        tracker: TrackerId,
        ok: bool,
    },
    /// A value tracker (keepalived's `track_file`) read this number: it counts `value * weight`.
    TrackerValue {
        tracker: TrackerId,
        value: i64,
    },
    /// The configured base priority changed (reload). Ignored by an owner and must be 1..=254 otherwise;
    /// other values are ignored.
    SetBasePriority(u8),
    /// The interface lost its link (FAULT until it comes back).
    InterfaceDown,
    InterfaceUp,
    /// The primary address (`Config::primary_address`, the advert source) is no longer usable on the
    /// interface: removed, or (IPv6) tentative again. FAULT until [`Input::SourceAddressRestored`].
    SourceAddressLost,
    /// The primary address is back and usable (IPv6: DAD done).
    SourceAddressRestored,
    /// The interface was renumbered: this usable address replaces `Config::primary_address` as the
    /// advert source and the tie-break address (RFC 5798 §6.4.3 (735)); any source-lost FAULT clears as
    /// with [`Input::SourceAddressRestored`]. An address of the other family is ignored.
    SourceAddressChanged(IpAddr),
}

/// Something the caller must do, in order. Every protocol decision is already made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this advertisement (to 224.0.0.18 / ff02::12, or to each of `Config::unicast_peers`; TTL
    /// 255, from the primary address).
    SendAdvert(Repr),
    /// Send this advertisement to `to` alone (unicast, TTL 255, from the primary address): the last
    /// advert of a master that yields (`Config::advertise_on_yield`), meant for the winner only, so
    /// the backups that follow the winner do not start following us.
    SendAdvertTo { advert: Repr, to: IpAddr },
    /// Install these addresses on the interface.
    AddVips(VipSet),
    /// Remove these addresses from the interface.
    RemoveVips(VipSet),
    /// Send gratuitous ARP (IPv4) or unsolicited Neighbor Advertisements (IPv6) for these addresses
    /// (RFC 5798 §6.4.1 (115)-(135), §6.4.2 (375)-(400)).
    AnnounceVips(VipSet),
    /// The state changed. `accept_vip_traffic` says whether packets addressed to the VIPs may now be
    /// accepted locally (master and (owner or Accept_Mode)); a transition to `Initialize` is what notify
    /// calls STOP.
    StateChanged {
        from: StateKind,
        to: StateKind,
        reason: Reason,
        accept_vip_traffic: bool,
    },
    /// A received advert was dropped; the daemon counts these by `reason.label()`.
    Discard(Discard),
    /// Something to log, emitted once per change (a rate limit by construction).
    Report(Report),
}

/// The four states the daemon and notify scripts care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    Initialize,
    Backup,
    Master,
    Fault,
}

impl StateKind {
    /// Upper-case name as keepalived's notify uses it (Initialize is STOP).
    pub fn notify_name(self) -> &'static str {
        match self {
            StateKind::Initialize => "STOP",
            StateKind::Backup => "BACKUP",
            StateKind::Master => "MASTER",
            StateKind::Fault => "FAULT",
        }
    }
}

/// Why a state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Startup event: non-owner to Backup, owner to Master (§6.4.1).
    Startup,
    /// Master_Down_Timer fired (§6.4.2 (365)) after the master fell silent for Master_Down_Interval.
    MasterDown,
    /// Master_Down_Timer fired after the master we followed resigned: its priority-0 advert set the
    /// timer to Skew_Time (§6.4.2 (425)-(430)).
    MasterResigned { by: IpAddr },
    /// Master_Down_Timer fired after the master we followed advertised a priority below ours (keepvip's
    /// fast handover, usually a tracker lowering it there).
    MasterPriorityLower { master: IpAddr, priority: u8 },
    /// Master_Down_Timer fired while we preempt a master of lower priority, whose adverts we discard
    /// (§6.4.2 (465)-(470)).
    Preempting { over: IpAddr, priority: u8 },
    /// An advert with higher priority, or equal priority and a higher primary address (§6.4.3 (725)).
    Preempted { by: IpAddr, priority: u8 },
    /// A changed config that cannot be applied in place restarted the instance (`Node::reconfigure`):
    /// the Shutdown and Startup transitions of that restart.
    Reload,
    /// Shutdown event.
    Shutdown,
    /// Link down, source address lost or a weight-0 tracker KO.
    Fault(FaultCause),
    /// Every fault condition cleared.
    FaultCleared,
    /// A sync-group sibling moved and pulled this member along.
    SyncGroup,
}

impl Reason {
    /// A stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Reason::Startup => "startup",
            Reason::MasterDown => "master_down",
            Reason::MasterResigned { .. } => "master_resigned",
            Reason::MasterPriorityLower { .. } => "master_priority_lower",
            Reason::Preempting { .. } => "preempting",
            Reason::Preempted { .. } => "preempted",
            Reason::Reload => "reload",
            Reason::Shutdown => "shutdown",
            Reason::Fault(FaultCause::LinkDown) => "fault_link_down",
            Reason::Fault(FaultCause::SourceAddressLost) => "fault_source_lost",
            Reason::Fault(FaultCause::Tracker(_)) => "fault_tracker",
            Reason::Fault(FaultCause::SyncGroup) => "fault_sync_group",
            Reason::FaultCleared => "fault_cleared",
            Reason::SyncGroup => "sync_group",
        }
    }
}

/// What put a router in FAULT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultCause {
    LinkDown,
    /// The primary address adverts are sent from is gone from the interface.
    SourceAddressLost,
    /// A weight-0 tracker is KO.
    Tracker(TrackerId),
    /// A sync-group sibling is in FAULT.
    SyncGroup,
}

impl FaultCause {
    /// Whether a master entering FAULT for this cause can still send its priority-0 resignation: not
    /// with the link down, nor without the address adverts leave from (the send would fail).
    pub fn can_resign(self) -> bool {
        !matches!(self, FaultCause::LinkDown | FaultCause::SourceAddressLost)
    }
}

/// Why a received advert was dropped. The checks the wire layer makes (TTL, checksum, length...) have
/// their own reasons there; these are the ones that need the router's configuration or state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Discard {
    /// RFC 5798 §7.1: VRID not configured here (the daemon dispatches by VRID; the core stays safe).
    VridMismatch,
    /// RFC 5798 §7.1: a VRRPv2 advert to a VRRPv3 router or the reverse (a VRRPv3 router with
    /// `v2_interop` takes both, RFC 5798 §8.4.2).
    VersionMismatch,
    /// RFC 5798 §8.4.2: a VRRPv2 advert from a router that also sends us VRRPv3 ones (a mixed-mode
    /// peer's copy); only its VRRPv3 adverts count.
    V2ShadowedByV3,
    /// The advert's addresses or source are not our address family.
    AddressFamilyMismatch,
    /// RFC 3768 §7.1: VRRPv2 requires the advert interval to equal ours.
    IntervalMismatch,
    /// RFC 3768 §7.1: authentication type or password differs from ours.
    AuthMismatch,
    /// RFC 3768 §7.1: VRRPv2 address list differs from ours and the sender is not the owner.
    AddressListMismatch,
    /// The advert carries our own primary address as source (a loop or a duplicate address).
    OwnAdvert,
    /// A unicast router (`Config::unicast_peers` set) got an advert from an address it does not list.
    SourceNotAUnicastPeer,
    /// RFC 5798 §7.1 as published: the address owner drops adverts (`owner_processes_adverts` off).
    OwnerIgnoresAdverts,
    /// Not started, or shut down.
    NotRunning,
    /// In FAULT nothing is processed.
    InFault,
    /// §6.4.2 (470) / §6.4.3 (775): lower priority than ours (or equal with a lower address) while we
    /// preempt or are master.
    LowerPriority,
}

impl Discard {
    /// A stable label for counters and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Discard::VridMismatch => "vrid_mismatch",
            Discard::VersionMismatch => "version_mismatch",
            Discard::V2ShadowedByV3 => "v2_shadowed_by_v3",
            Discard::AddressFamilyMismatch => "address_family_mismatch",
            Discard::IntervalMismatch => "interval_mismatch",
            Discard::AuthMismatch => "auth_mismatch",
            Discard::AddressListMismatch => "address_list_mismatch",
            Discard::OwnAdvert => "own_advert",
            Discard::SourceNotAUnicastPeer => "source_not_a_unicast_peer",
            Discard::OwnerIgnoresAdverts => "owner_ignores_adverts",
            Discard::NotRunning => "not_running",
            Discard::InFault => "in_fault",
            Discard::LowerPriority => "lower_priority",
        }
    }
}

/// Facts worth a log line, emitted when they change (not on every advert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// VRRPv3 kept an advert whose interval differs from our configured one (RFC 5798 §6.4.2 (450)
    /// learns it). Emitted when the (sender, interval) pair changes.
    IntervalMismatch {
        from: IpAddr,
        ours: Centisecs,
        theirs: Centisecs,
    },
    /// The advert's address list differs from ours (RFC 5798 §7.1: log, keep). Emitted when the
    /// (sender, list) pair changes.
    AddressListMismatch { from: IpAddr, theirs: Addresses },
    /// Mixed mode (`v2_interop`): a VRRPv2 router advertises another interval than ours. Kept, as
    /// [`Report::IntervalMismatch`], but that router drops our VRRPv2 copies (RFC 3768 §7.1 requires
    /// equal intervals): it does not see us, and two masters are likely. Emitted when the (sender,
    /// interval) pair changes.
    V2IntervalMismatch {
        from: IpAddr,
        ours: Centisecs,
        theirs: Centisecs,
    },
    /// RFC 5798 §8.4.2 (MAY): with `v2_interop`, the master we follow sends VRRPv3 adverts without
    /// VRRPv2 copies, so it does not run mixed mode and VRRPv2 routers cannot see it. Emitted once
    /// per master, again after it sent a VRRPv2 advert and stopped.
    MasterSendsNoV2 { from: IpAddr },
    /// While master, another router has kept advertising as master for our VRID for a few
    /// intervals (router/split_brain.rs). Emitted once per episode.
    SplitBrain(SplitBrain),
    /// That episode ended: no advert from the peer for ten intervals, or we left Master.
    SplitBrainEnded { from: IpAddr },
}
