//! What one virtual router is configured with, and the checks that make a configuration usable.

use std::net::IpAddr;

use vrrp_wire::{Addresses, Auth, Centisecs, ChecksumMode, Version};

use crate::time::Micros;
use crate::vips::VipSet;

/// Priority of the router that owns the virtual addresses (RFC 5798 §5.2.4).
pub const OWNER_PRIORITY: u8 = 255;

/// RFC 5798 §6.1 default Advertisement_Interval: 100 centiseconds.
pub const DEFAULT_ADVERT_INTERVAL: Centisecs = match Centisecs::new(100) {
    Some(interval) => interval,
    None => panic!("100 is not zero"),
};

/// One tracked condition (script, interface, file, process — the daemon runs it; the core only sees
/// OK/KO, or a file's number). Identified by its index in [`Config::trackers`]. The rules that turn
/// these into priority and FAULT live in [`crate::health`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackerConfig {
    /// keepalived semantics: `> 0` adds while OK, `< 0` subtracts while KO, `0` means FAULT while KO.
    /// Range -254..=254.
    pub weight: i16,
    /// keepalived's `reverse`: the contribution's sign is flipped (weight 0: FAULT while OK).
    pub reverse: bool,
    /// The status assumed until the first update arrives.
    pub initially_ok: bool,
}

/// Index of a tracker in [`Config::trackers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrackerId(pub usize);

/// One virtual router: one VRID on one interface, one address family.
///
/// Build with [`Config::new`] (RFC defaults plus keepvip's behaviour options on) and adjust fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// 1..=255.
    pub vrid: u8,
    /// V3 (IPv4 or IPv6) or V2 (IPv4 only).
    pub version: Version,
    /// Base priority: 255 makes this router the address owner, 1..=254 a backup. Trackers move the
    /// effective priority of a non-owner (see [`crate::health`]).
    pub priority: u8,
    /// Advertisement_Interval. VRRPv3: 1..=4095 cs. VRRPv2: whole seconds (a multiple of 100 cs, at most
    /// 255 s).
    pub advert_interval: Centisecs,
    /// This router's primary address on the interface, the source of its adverts and the tie-break
    /// (RFC 5798 §6.4.3 (735)). IPv6: the link-local address.
    pub primary_address: IpAddr,
    /// The virtual addresses, all one family, matching `primary_address`, in advertised order. IPv6: a
    /// link-local one, when configured, comes first (RFC 9568 §5.2.9); none is required.
    pub addresses: Addresses,
    /// Addresses installed and announced with the VIPs but not advertised (keepalived's
    /// `virtual_ipaddress_excluded`); any family.
    pub excluded_addresses: Vec<IpAddr>,
    /// Preempt_Mode (RFC 5798 §6.1). Ignored by an owner, which always preempts.
    pub preempt: bool,
    /// keepalived's `preempt_delay`: for this long after startup or after leaving FAULT, a backup does not
    /// preempt a lower-priority master (it follows it as if preempt were off). Zero disables it.
    pub preempt_delay: Micros,
    /// keepalived's `vrrp_startup_delay`: for this long after the Startup event no router becomes
    /// master, the owner included; it waits in Backup, following any master it hears, and its
    /// Master_Down_Timer fires no earlier than the end of the delay. Zero disables it.
    pub startup_delay: Micros,
    /// Accept_Mode (RFC 5798 §6.1): whether a non-owner master accepts packets addressed to the VIPs. The
    /// core only reports it ([`crate::Router::accepts_vip_traffic`]); the daemon enforces it.
    pub accept_mode: bool,
    /// VRRPv2 authentication: sent in every advert and required to match on receive. Must be
    /// `Auth::None` for VRRPv3.
    pub auth: Auth,
    /// Tracked conditions and their weights.
    pub trackers: Vec<TrackerConfig>,
    /// keepalived's `unicast_peer`: when not empty, adverts go to each of these addresses instead of
    /// the multicast group, and only adverts whose source is one of them are accepted (whatever their
    /// destination). Same family as `addresses`; empty means multicast, as the RFC has it.
    pub unicast_peers: Vec<IpAddr>,
    /// RFC 9568 §6.4.3: a master that discards a lower-priority advert sends one at once, to assert itself
    /// and refresh learning bridges. Default on.
    pub readvertise_on_lower_priority: bool,
    /// RFC 9568 erratum 8298: an owner (priority 255) processes received adverts like any router, instead
    /// of dropping them in the §7.1 checks. Default on.
    pub owner_processes_adverts: bool,
    /// keepvip fast handover: a backup that would preempt treats a below-its-priority advert from the
    /// master it has been following like a priority-0 advert (Master_Down_Timer = Skew_Time), so the best
    /// backup takes over within one advert interval. Default on; off in [`Config::rfc_exact`].
    pub fast_handover: bool,
    /// A master whose effective priority changes sends an advert at once (instead of at its next
    /// interval), so backups learn the new priority without delay. Default on; off in
    /// [`Config::rfc_exact`].
    pub advertise_on_priority_change: bool,
    /// RFC 5798 §8.4.2 mixed mode, for migrating a VRRPv2 segment: a VRRPv3 IPv4 router that also
    /// sends a VRRPv2 copy of every advert and accepts VRRPv2 adverts (see `router/interop.rs`).
    /// Needs a whole-second interval, at most 40 s, so both versions carry the same one. Default off.
    pub v2_interop: bool,
    /// keepvip: a master preempted by a better advert sends one last advert at its own priority as it
    /// leaves, to the winner alone (unicast), so the new master hears that a second master existed and announces the VIPs again
    /// (router/master.rs). Without it a healed partition leaves clients on our MAC whenever the
    /// winner's advert reaches us before ours reaches it. Default on; off in [`Config::rfc_exact`].
    pub advertise_on_yield: bool,
    /// The VRRPv3-over-IPv4 checksum variant our adverts carry (the shell encodes them). The core
    /// only compares it with a peer's, for split-brain diagnosis. Default `PseudoHeader`.
    pub checksum_mode: ChecksumMode,
}

impl Config {
    /// VRRPv3, priority 100, 100 cs, preempt on without delay, accept mode off (RFC 5798 §6.1 defaults),
    /// no trackers, no authentication, and the RFC 9568 / keepvip behaviour options on.
    pub fn new(vrid: u8, primary_address: IpAddr, addresses: Addresses) -> Config {
        Config {
            vrid,
            version: Version::V3,
            priority: 100,
            advert_interval: DEFAULT_ADVERT_INTERVAL,
            primary_address,
            addresses,
            excluded_addresses: Vec::new(),
            preempt: true,
            preempt_delay: Micros::ZERO,
            startup_delay: Micros::ZERO,
            accept_mode: false,
            auth: Auth::None,
            trackers: Vec::new(),
            unicast_peers: Vec::new(),
            readvertise_on_lower_priority: true,
            owner_processes_adverts: true,
            fast_handover: true,
            advertise_on_priority_change: true,
            v2_interop: false,
            checksum_mode: ChecksumMode::PseudoHeader,
            advertise_on_yield: true,
        }
    }

    /// Turns off the keepvip extensions beyond RFC 5798/9568 (fast handover, advert on priority
    /// change, advert on yield).
    pub fn rfc_exact(mut self) -> Config {
        self.fast_handover = false;
        self.advertise_on_priority_change = false;
        self.advertise_on_yield = false;
        self
    }

    /// What a master of this config holds: the advertised and the excluded addresses.
    pub fn vip_set(&self) -> VipSet {
        VipSet {
            advertised: self.addresses.clone(),
            excluded: self.excluded_addresses.clone(),
        }
    }

    /// Whether this router owns the virtual addresses (base priority 255).
    pub fn is_owner(&self) -> bool {
        self.priority == OWNER_PRIORITY
    }

    /// Whether a master of this config accepts packets addressed to the VIPs (RFC 5798 §6.4.3 (650)):
    /// the owner always, any other router per its Accept_Mode.
    pub fn master_accepts_vip_traffic(&self) -> bool {
        self.is_owner() || self.accept_mode
    }

    /// Checks everything the state machine relies on; [`crate::Router::new`] calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.vrid == 0 {
            return Err(ConfigError::VridZero);
        }
        if self.priority == 0 {
            return Err(ConfigError::PriorityZero);
        }
        let family_ok = matches!(
            (&self.addresses, self.primary_address),
            (Addresses::V4(_), IpAddr::V4(_)) | (Addresses::V6(_), IpAddr::V6(_))
        );
        if !family_ok {
            return Err(ConfigError::AddressFamilyMismatch);
        }
        match &self.addresses {
            Addresses::V4(list) if list.is_empty() => return Err(ConfigError::NoAddresses),
            Addresses::V6(list) if list.is_empty() => return Err(ConfigError::NoAddresses),
            // No rule on the first IPv6 address: the list is advertised as configured (README,
            // Interop: keepalived and FRR count the addresses and compare them with their own).
            Addresses::V4(_) | Addresses::V6(_) => {}
        }
        let interval = self.advert_interval.get();
        match self.version {
            Version::V3 => {
                if interval > Centisecs::V3_MAX {
                    return Err(ConfigError::IntervalOutOfRange);
                }
                if self.auth != Auth::None {
                    return Err(ConfigError::AuthenticationNeedsV2);
                }
            }
            Version::V2 => {
                if matches!(self.addresses, Addresses::V6(_)) {
                    return Err(ConfigError::V2IsIpv4Only);
                }
                // RFC 3768 §5.3.7: Adver Int is whole seconds in one byte.
                if !interval.is_multiple_of(100) || interval / 100 > 255 {
                    return Err(ConfigError::IntervalOutOfRange);
                }
            }
        }
        if self.v2_interop {
            if self.version != Version::V3 || !matches!(self.addresses, Addresses::V4(_)) {
                return Err(ConfigError::V2InteropNeedsV3Ipv4);
            }
            // Both copies carry the same interval: VRRPv2 has whole seconds only (RFC 3768 §5.3.7),
            // VRRPv3 at most 4095 cs (RFC 5798 §5.2.7).
            if !interval.is_multiple_of(100) {
                return Err(ConfigError::IntervalOutOfRange);
            }
        }
        if self
            .unicast_peers
            .iter()
            .any(|peer| peer.is_ipv4() != self.primary_address.is_ipv4())
        {
            return Err(ConfigError::UnicastPeerFamilyMismatch);
        }
        if let Some(index) = self
            .trackers
            .iter()
            .position(|t| !(-254..=254).contains(&t.weight))
        {
            return Err(ConfigError::TrackerWeightOutOfRange(TrackerId(index)));
        }
        Ok(())
    }
}

/// Why a [`Config`] cannot run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigError {
    VridZero,
    /// 0 is reserved for a resigning master (RFC 5798 §5.2.4).
    PriorityZero,
    NoAddresses,
    /// The primary address and the virtual addresses are not all one family.
    AddressFamilyMismatch,
    /// VRRPv3: 1..=4095 cs; VRRPv2: whole seconds 1..=255.
    IntervalOutOfRange,
    V2IsIpv4Only,
    AuthenticationNeedsV2,
    /// `v2_interop` (RFC 5798 §8.4) is for VRRPv3 over IPv4 only.
    V2InteropNeedsV3Ipv4,
    TrackerWeightOutOfRange(TrackerId),
    /// A unicast peer is not of the virtual router's family.
    UnicastPeerFamilyMismatch,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::VridZero => write!(f, "VRID must be 1..=255"),
            ConfigError::PriorityZero => write!(f, "priority must be 1..=255 (0 is reserved)"),
            ConfigError::NoAddresses => write!(f, "at least one virtual address is required"),
            ConfigError::AddressFamilyMismatch => {
                write!(
                    f,
                    "primary and virtual addresses must be one address family"
                )
            }
            ConfigError::IntervalOutOfRange => write!(
                f,
                "advert interval out of range (v3: 1..=4095 cs, v2: whole seconds 1..=255, \
                 v3 with v2_interop: whole seconds 1..=40)"
            ),
            ConfigError::V2InteropNeedsV3Ipv4 => {
                write!(f, "VRRPv2 interoperation needs a VRRPv3 IPv4 router")
            }
            ConfigError::V2IsIpv4Only => write!(f, "VRRPv2 is IPv4 only"),
            ConfigError::AuthenticationNeedsV2 => write!(f, "authentication exists only in VRRPv2"),
            ConfigError::TrackerWeightOutOfRange(TrackerId(i)) => {
                write!(f, "tracker {i}: weight must be -254..=254")
            }
            ConfigError::UnicastPeerFamilyMismatch => {
                write!(f, "unicast peers must be of the virtual addresses' family")
            }
        }
    }
}

impl std::error::Error for ConfigError {}
