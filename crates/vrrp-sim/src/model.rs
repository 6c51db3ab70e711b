//! What a simulation is made of: hosts and their routers, the network's parameters, and the events
//! (faults and recoveries) a scenario schedules.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_core::{Config, Micros};
use vrrp_wire::{Addresses, Version};

/// Index of a host in the order given to [`crate::Sim::new`].
pub type HostId = usize;

/// One machine on the segment: one router per VRID, all on its one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    /// One config per VRID (VRIDs distinct). The primary address of each is the host's own.
    pub routers: Vec<Config>,
    /// The routers form one sync group (keepalived's `vrrp_sync_group`) instead of running alone.
    pub sync_group: bool,
}

impl HostSpec {
    /// A host running one router.
    pub fn single(config: Config) -> HostSpec {
        HostSpec {
            routers: vec![config],
            sync_group: false,
        }
    }
}

/// Loss and duplication on every link, per mille. Each link draws its own loss in `0..=loss_permille`
/// when the weather changes; duplication applies to every delivery alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weather {
    pub loss_permille: u16,
    pub dup_permille: u16,
}

impl Weather {
    pub const CALM: Weather = Weather {
        loss_permille: 0,
        dup_permille: 0,
    };

    /// No loss: the network counts as stable (duplicates and bounded delay are tolerated).
    pub fn is_lossless(&self) -> bool {
        self.loss_permille == 0
    }
}

/// The network of one simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetParams {
    /// Every delivery (each copy) is delayed uniformly in `0..=delay_max`; fixed for the whole run, so it
    /// is the tolerance of every timing check.
    pub delay_max: Micros,
    /// The weather at time zero.
    pub weather: Weather,
}

impl NetParams {
    /// Zero delay, no loss, no duplicates.
    pub const IDEAL: NetParams = NetParams {
        delay_max: Micros::ZERO,
        weather: Weather::CALM,
    };
}

/// Which host an event acts on, resolved when the event happens (the generator cannot know in advance
/// who will be master).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostSel {
    Host(HostId),
    /// The lowest-numbered running host whose router for this VRID is master; no-op if none.
    MasterOf(u8),
    /// The crashed or stopped host that went down first; no-op if none.
    FirstDown,
    /// The host whose link went down first among those still down; no-op if none.
    FirstLinkDown,
    /// The host a reload removed this VRID's router from first, among those still without it; no-op
    /// if none.
    FirstRemoved(u8),
}

/// Something that happens to the segment or a host at a scheduled instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Starts a host that is not running: fresh routers (current base priority, tracker and link state
    /// fed in before `Startup`), or with `reuse` the routers of a gracefully stopped host get `Startup`
    /// again from Initialize.
    Start {
        host: HostSel,
        reuse: bool,
    },
    /// Silent crash: the routers vanish without a word, and the host's VIPs with them.
    Crash(HostSel),
    /// Graceful stop: `Input::Shutdown` (a master sends priority 0 and removes its VIPs).
    Stop(HostSel),
    /// The host's interface loses its link: `Input::InterfaceDown`, and nothing passes either way.
    LinkDown(HostSel),
    LinkUp(HostSel),
    /// These hosts are cut off from the others (the two sides still work internally).
    Partition(Vec<HostId>),
    Heal,
    /// `Input::SetBasePriority` (a reload with a new priority).
    SetBasePriority {
        host: HostSel,
        vrid: u8,
        priority: u8,
    },
    /// A reload giving the router for `vrid` a new priority: `Node::reconfigure` with its config (the
    /// in-place path: no transition of its own, no priority-0 advert).
    Reload {
        host: HostSel,
        vrid: u8,
        priority: u8,
    },
    /// A reload removing the router for `vrid` from the host's config (`Node::remove_instance`: a
    /// master resigns with priority 0 and drops its VIPs, as the daemon's reload does). Not on a
    /// sync-group host (a group that loses a member is a new group).
    RemoveInstance {
        host: HostSel,
        vrid: u8,
    },
    /// A reload adding the router for `vrid` back (`Node::add_instance`, told its trackers and link,
    /// then `Startup`), with its current base priority and VIP set. Not on a sync-group host.
    AddInstance {
        host: HostSel,
        vrid: u8,
    },
    /// A reload giving the router for `vrid` VIP set number `set` ([`vip_set`]): `Node::reconfigure`,
    /// in place (a master swaps the VIPs that changed).
    ReloadVips {
        host: HostSel,
        vrid: u8,
        set: u8,
    },
    /// A tracker of the router for `vrid` changes status.
    Tracker {
        host: HostSel,
        vrid: u8,
        tracker: usize,
        ok: bool,
    },
    Weather(Weather),
}

impl fmt::Display for HostSel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostSel::Host(h) => write!(f, "h{h}"),
            HostSel::MasterOf(vrid) => write!(f, "master of v{vrid}"),
            HostSel::FirstDown => write!(f, "first down host"),
            HostSel::FirstLinkDown => write!(f, "first link-down host"),
            HostSel::FirstRemoved(vrid) => write!(f, "first host without v{vrid}"),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Start { host, reuse } => {
                write!(f, "start {host}{}", if *reuse { " (reuse)" } else { "" })
            }
            Event::Crash(host) => write!(f, "crash {host}"),
            Event::Stop(host) => write!(f, "stop {host}"),
            Event::LinkDown(host) => write!(f, "link down {host}"),
            Event::LinkUp(host) => write!(f, "link up {host}"),
            Event::Partition(side) => write!(f, "partition {side:?} from the rest"),
            Event::Heal => write!(f, "heal partition"),
            Event::SetBasePriority {
                host,
                vrid,
                priority,
            } => write!(f, "set base priority {host} v{vrid} to {priority}"),
            Event::Reload {
                host,
                vrid,
                priority,
            } => write!(f, "reload {host} v{vrid} with priority {priority}"),
            Event::RemoveInstance { host, vrid } => write!(f, "reload {host} without v{vrid}"),
            Event::AddInstance { host, vrid } => write!(f, "reload {host} adding v{vrid}"),
            Event::ReloadVips { host, vrid, set } => {
                write!(f, "reload {host} v{vrid} with VIP set {set}")
            }
            Event::Tracker {
                host,
                vrid,
                tracker,
                ok,
            } => write!(
                f,
                "tracker {tracker} of {host} v{vrid} {}",
                if *ok { "OK" } else { "KO" }
            ),
            Event::Weather(w) => write!(
                f,
                "weather: loss up to {}‰, dup {}‰",
                w.loss_permille, w.dup_permille
            ),
        }
    }
}

/// The primary address of the host with address number `n` (1-based): 192.0.2.`n` or fe80::`n`.
pub fn host_address(ipv6: bool, n: u8) -> IpAddr {
    if ipv6 {
        IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(n)))
    } else {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
    }
}

/// The VIPs of `vrid`: 198.51.100.`vrid`, or fe80::1:`vrid` (link-local first, RFC 5798 §5.2.9) and
/// 2001:db8::`vrid`.
pub fn virtual_addresses(ipv6: bool, vrid: u8) -> Addresses {
    if ipv6 {
        Addresses::V6(vec![
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 1, u16::from(vrid)),
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(vrid)),
        ])
    } else {
        Addresses::V4(vec![Ipv4Addr::new(198, 51, 100, vrid)])
    }
}

/// The VIP sets a reload may give `vrid` (`set` modulo 3): 0 its usual [`virtual_addresses`], 1 those
/// and one more (203.0.113.`vrid` or 2001:db8::1:`vrid`), 2 only the extra one (every usual VIP
/// replaced; IPv6 keeps its link-local first, RFC 5798 §5.2.9).
pub fn vip_set(ipv6: bool, vrid: u8, set: u8) -> Addresses {
    let usual = virtual_addresses(ipv6, vrid);
    let extra_v4 = Ipv4Addr::new(203, 0, 113, vrid);
    let extra_v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, u16::from(vrid));
    let link_local = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 1, u16::from(vrid));
    match (set % 3, usual) {
        (1, Addresses::V4(mut list)) => {
            list.push(extra_v4);
            Addresses::V4(list)
        }
        (1, Addresses::V6(mut list)) => {
            list.push(extra_v6);
            Addresses::V6(list)
        }
        (2, Addresses::V4(_)) => Addresses::V4(vec![extra_v4]),
        (2, Addresses::V6(_)) => Addresses::V6(vec![link_local, extra_v6]),
        (_, usual) => usual,
    }
}

/// A VRRPv3 IPv4 router for `vrid` on 192.0.2.`n` with `priority` and the crate's defaults otherwise.
pub fn ipv4_router(vrid: u8, n: u8, priority: u8) -> Config {
    router_config(Version::V3, false, vrid, n, priority)
}

/// A VRRPv3 IPv6 router for `vrid` on fe80::`n`.
pub fn ipv6_router(vrid: u8, n: u8, priority: u8) -> Config {
    router_config(Version::V3, true, vrid, n, priority)
}

/// A router of any version and family with documentation addresses.
pub fn router_config(version: Version, ipv6: bool, vrid: u8, n: u8, priority: u8) -> Config {
    let mut config = Config::new(vrid, host_address(ipv6, n), virtual_addresses(ipv6, vrid));
    config.version = version;
    config.priority = priority;
    config
}
