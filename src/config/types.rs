//! The validated configuration: plain values, every range and cross-instance rule already checked.
//! Defaults are filled in; nothing here refers back to the file.

use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use vrrp_wire::{Auth, Centisecs, ChecksumMode, Version};

pub use crate::logging::LogFormat;

/// Where the daemon looks for its config unless `-c` says otherwise.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/keepvip/keepvip.toml";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub global: Global,
    /// In file order.
    pub instances: Vec<Instance>,
    /// `[[track_script]]`, `[[track_file]]`, `[[track_process]]` in file order; instances refer to them
    /// by name.
    pub trackers: Trackers,
    /// `[[sync_group]]` in file order.
    pub sync_groups: Vec<SyncGroup>,
}

/// Instances that move together (keepalived's `vrrp_sync_group`). The group's trackers are already
/// in each member's `trackers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroup {
    pub name: String,
    /// Instance names, each in no other group.
    pub members: Vec<String>,
    /// The group's notify scripts: `notify` gets `GROUP NAME STATE 0` appended.
    pub notify: Notify,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// Names this node in logs and status output. Default `"keepvip"`.
    pub router_id: String,
    /// VRRPv3-over-IPv4 send mode for instances that do not override it. Default pseudo-header.
    pub checksum_mode: ChecksumMode,
    /// GARP/NA timing for instances that do not override it.
    pub garp: GarpTiming,
    /// Log output format; the `--log-format` flag overrides it.
    pub log_format: LogFormat,
    /// keepalived's notify FIFO: one line per transition. Default none.
    pub notify_fifo: Option<PathBuf>,
    /// A notify script still running after this is killed (its process group). Default 10 s.
    pub notify_timeout: Duration,
    /// Who scripts run as unless they say otherwise. Default: the daemon's own user.
    pub script_user: Option<ScriptUser>,
    /// Run scripts that a non-root user could change (refused by default when running as root).
    pub allow_insecure_scripts: bool,
    /// Where the HTTP listener for `/metrics` and `/health` binds. Default none (no listener).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The control socket's group (mode 0660): its members may read `keepvip status`. Default: the
    /// daemon's own group.
    pub control_group: Option<String>,
    /// keepalived's `vrrp_startup_delay`: no instance becomes master for this long after startup.
    /// Default 0 (off).
    pub startup_delay: Duration,
    /// keepalived's `vrrp_rt_priority`: the event loop under SCHED_RR at this priority (1..=99).
    /// Default none (the ordinary policy).
    pub rt_priority: Option<u8>,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            router_id: "keepvip".to_owned(),
            checksum_mode: ChecksumMode::PseudoHeader,
            garp: GarpTiming::default(),
            log_format: LogFormat::default(),
            notify_fifo: None,
            notify_timeout: Duration::from_secs(10),
            script_user: None,
            allow_insecure_scripts: false,
            metrics_listen: None,
            control_group: None,
            startup_delay: Duration::ZERO,
            rt_priority: None,
        }
    }
}

/// A user (and optional group) scripts run as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScriptUser {
    pub user: String,
    pub group: Option<String>,
}

/// A command to run: words (the first a path or a name looked up in PATH), or, with `shell`, one
/// text for `/bin/sh -c`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommandLine {
    pub words: Vec<String>,
    pub shell: bool,
}

impl std::fmt::Display for CommandLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.shell {
            write!(f, "sh -c {:?}", self.words.join(" "))
        } else {
            f.write_str(&self.words.join(" "))
        }
    }
}

/// The tracker definitions instances refer to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trackers {
    pub scripts: Vec<TrackScript>,
    pub files: Vec<TrackFile>,
    pub processes: Vec<TrackProcess>,
}

/// `[[track_script]]` (keepalived's `vrrp_script`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackScript {
    pub name: String,
    pub command: CommandLine,
    /// 10 ms..=1 h. Default 1 s.
    pub interval: Duration,
    /// A run still going after this counts as a failure and is killed. Default: the interval.
    pub timeout: Duration,
    /// Successes in a row that make a KO script OK, 1..=1000. Default 1.
    pub rise: u32,
    /// Failures in a row that make an OK script KO, 1..=1000. Default 1.
    pub fall: u32,
    /// -254..=254; 0 means FAULT while KO. Default 0.
    pub weight: i16,
    /// keepalived's `reverse`: the contribution's sign flips (weight 0: FAULT while OK).
    pub reverse: bool,
    /// Start as KO instead of OK until the first result.
    pub init_fail: bool,
    /// Overrides `[global] script_user`.
    pub user: Option<ScriptUser>,
}

/// `[[track_file]]` (keepalived's `vrrp_track_file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackFile {
    pub name: String,
    pub path: PathBuf,
    /// -254..=254. Default 1.
    pub weight: i16,
    pub reverse: bool,
    /// Written to the file at startup when it is missing (or always, with `init_overwrite`).
    pub init_value: Option<i64>,
    pub init_overwrite: bool,
}

/// How `args` of a `[[track_process]]` are compared with a process's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamMatch {
    Exact,
    Partial,
    Initial,
}

/// `[[track_process]]` (keepalived's `vrrp_track_process`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackProcess {
    pub name: String,
    /// The process name (as in /proc/PID/comm) or, if it has a `/`, its path.
    pub process: String,
    pub args: Option<String>,
    pub param_match: ParamMatch,
    /// OK while quorum <= matching processes <= quorum_max. Defaults 1 and unbounded.
    pub quorum: u32,
    pub quorum_max: Option<u32>,
    /// How long a rise (fork) or a drop (terminate) must hold before it counts.
    pub fork_delay: Duration,
    pub terminate_delay: Duration,
    /// -254..=254; 0 means FAULT while KO. Default 0.
    pub weight: i16,
    pub reverse: bool,
    /// Count only processes in keepvip's own network namespace. Default false (keepalived counts all).
    pub same_netns: bool,
}

/// What a tracker reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackerKind {
    Script,
    File,
    Process,
    Interface,
}

/// A tracker as an instance uses it, its weight resolved (the instance's override or the tracker's).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackerRef {
    pub kind: TrackerKind,
    /// The tracker's name, or for `Interface` the interface name.
    pub name: String,
    pub weight: i16,
    pub reverse: bool,
}

/// An instance's notify scripts (keepalived's `notify_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notify {
    pub master: Option<CommandLine>,
    pub backup: Option<CommandLine>,
    pub fault: Option<CommandLine>,
    pub stop: Option<CommandLine>,
    /// Gets `INSTANCE NAME STATE PRIORITY` appended, on every transition.
    pub any: Option<CommandLine>,
}

/// When a new master announces its VIPs (gratuitous ARP for IPv4, unsolicited NA for IPv6).
/// keepalived equivalents: `vrrp_garp_master_repeat`, `vrrp_garp_interval`, `vrrp_garp_master_delay`,
/// `vrrp_garp_master_refresh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GarpTiming {
    /// Frames per address per burst, 1..=255. Default 5.
    pub repeat: u8,
    /// Spacing between the frames of one burst, 0..=1 s. Default 0 (back to back, as keepalived).
    pub interval: Duration,
    /// A second burst this long after becoming master; `None` for no second burst. Default 5 s.
    pub delay: Option<Duration>,
    /// Re-announce this often while master; `None` for never. Default never.
    pub refresh: Option<Duration>,
}

impl Default for GarpTiming {
    fn default() -> Self {
        GarpTiming {
            repeat: 5,
            interval: Duration::ZERO,
            delay: Some(Duration::from_secs(5)),
            refresh: None,
        }
    }
}

/// The address family of an instance, which follows its VIPs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Unique across the file.
    pub name: String,
    /// A valid Linux interface name; it may not exist yet.
    pub interface: String,
    /// 1..=255, unique per (interface, family).
    pub vrid: u8,
    pub version: Version,
    /// 1..=255; 255 is the address owner.
    pub priority: u8,
    /// VRRPv3: 1..=4095 cs. VRRPv2: whole seconds, 100..=25500 cs.
    pub advert_interval: Centisecs,
    pub preempt: bool,
    /// 0..=1000 s, millisecond resolution.
    pub preempt_delay: Duration,
    pub accept: bool,
    /// Only VRRPv3 over IPv4 uses it; resolved from the global default for the others too.
    pub checksum_mode: ChecksumMode,
    /// `Auth::SimplePassword` only for VRRPv2 with `auth_pass`.
    pub auth: Auth,
    /// RFC 5798 §8.4 mixed mode: VRRPv3 over IPv4 that also sends and accepts VRRPv2 (whole-second
    /// interval, no authentication).
    pub v2_interop: bool,
    /// The advertised addresses, in the order they go on the wire; never empty, all of one family.
    /// IPv6: a listed link-local VIP first (RFC 9568 §5.2.9), see `vips::put_link_local_first`.
    pub vips: Vec<Vip>,
    /// Installed on the master but not advertised; either family.
    pub excluded_vips: Vec<Vip>,
    /// Installed after the VIPs while master, removed before them; either family.
    pub routes: Vec<VirtualRoute>,
    /// Installed after the routes while master, removed first; either family.
    pub rules: Vec<VirtualRule>,
    /// keepalived's `unicast_peer`: adverts go to each of these instead of the multicast group, and
    /// only these may take part. Empty: multicast. Same family as `vips`, none of them a VIP.
    pub unicast_peers: Vec<IpAddr>,
    /// keepalived's `unicast_src_ip`: the advert source when not the default (the interface's primary
    /// IPv4 address, or its IPv6 link-local address). Only with `unicast_peers`.
    pub unicast_source: Option<IpAddr>,
    pub garp: GarpTiming,
    /// In the order written: scripts, files, processes, interfaces.
    pub trackers: Vec<TrackerRef>,
    pub notify: Notify,
    /// keepalived's `use_vmac`: the VIPs live on a macvlan carrying the virtual router MAC.
    pub vmac: Option<Vmac>,
}

/// The macvlan of a `vmac = true` instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vmac {
    /// `vmac_name`, else `vrrp.<VRID>` (IPv4) or `vrrp6.<VRID>` (IPv6); unique in the file.
    pub name: String,
}

/// The default macvlan name: keepalived's `vrrp.<VRID>` for IPv4, `vrrp6.<VRID>` for IPv6 so that the
/// two families' virtual routers of one VRID never share a name.
pub fn default_vmac_name(family: Family, vrid: u8) -> String {
    match family {
        Family::Ipv4 => format!("vrrp.{vrid}"),
        Family::Ipv6 => format!("vrrp6.{vrid}"),
    }
}

/// The virtual router MAC (RFC 5798 §7.3): 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for
/// IPv6.
pub fn virtual_mac(family: Family, vrid: u8) -> [u8; 6] {
    let kind = match family {
        Family::Ipv4 => 0x01,
        Family::Ipv6 => 0x02,
    };
    [0x00, 0x00, 0x5e, 0x00, kind, vrid]
}

impl Instance {
    /// The virtual router MAC of this instance (whether or not it uses `vmac`).
    pub fn virtual_mac(&self) -> [u8; 6] {
        virtual_mac(self.family(), self.vrid)
    }

    /// The family of the advertised VIPs (validation guarantees there is at least one, all alike).
    pub fn family(&self) -> Family {
        self.vips
            .first()
            .map_or(Family::Ipv4, |vip| Family::of(&vip.addr))
    }
}

/// One virtual address as the kernel will get it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vip {
    pub addr: IpAddr,
    /// 1..=32 or 1..=128; default 32 / 128.
    pub prefix: u8,
    /// IPv4 only: the interface name or `<interface>:<suffix>`, at most 15 bytes.
    pub label: Option<String>,
    pub scope: Scope,
}

/// `address/prefix`, as `status`, logs and notify scripts show a VIP.
impl std::fmt::Display for Vip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// `address/length` with no bits set past the length (what the kernel demands of a route).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix {
    pub addr: IpAddr,
    /// 0..=32 or 0..=128.
    pub len: u8,
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// What a virtual route does (`ip route add TYPE ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// Forward, through `via` and/or out of `dev`.
    Unicast,
    /// Drop silently.
    Blackhole,
    /// Drop with ICMP unreachable.
    Unreachable,
    /// Drop with ICMP administratively prohibited.
    Prohibit,
}

/// The main routing table (iproute2's `main`), where a route without `table` goes.
pub const MAIN_TABLE: u32 = 254;

/// A route the master installs (keepalived's `virtual_routes`). `to`, `via` and `src` are one family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VirtualRoute {
    pub to: Prefix,
    pub via: Option<IpAddr>,
    /// An interface name; resolved when the route is installed.
    pub dev: Option<String>,
    /// 1..=2^32-1; default `MAIN_TABLE`.
    pub table: u32,
    pub metric: Option<u32>,
    /// The preferred source address (often a VIP).
    pub src: Option<IpAddr>,
    /// Not `Unicast`: no `via`, `dev` or `src`. `Unicast`: `via` or `dev` or both.
    pub kind: RouteKind,
}

/// iproute2's syntax: `[TYPE] TO [via VIA] [dev DEV] [src SRC] [table N] [metric M]`.
impl std::fmt::Display for VirtualRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            RouteKind::Unicast => {}
            RouteKind::Blackhole => f.write_str("blackhole ")?,
            RouteKind::Unreachable => f.write_str("unreachable ")?,
            RouteKind::Prohibit => f.write_str("prohibit ")?,
        }
        write!(f, "{}", self.to)?;
        if let Some(via) = self.via {
            write!(f, " via {via}")?;
        }
        if let Some(dev) = &self.dev {
            write!(f, " dev {dev}")?;
        }
        if let Some(src) = self.src {
            write!(f, " src {src}")?;
        }
        if self.table != MAIN_TABLE {
            write!(f, " table {}", self.table)?;
        }
        if let Some(metric) = self.metric {
            write!(f, " metric {metric}")?;
        }
        Ok(())
    }
}

/// A policy rule the master installs (keepalived's `virtual_rules`): packets matching `from` and `to`
/// look up `table`. At least one of `from` / `to`; both of one family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VirtualRule {
    pub from: Option<Prefix>,
    pub to: Option<Prefix>,
    /// 1..=2^32-1.
    pub table: u32,
    /// The rule's preference (keepalived's `preference`); the kernel picks one when absent.
    pub priority: Option<u32>,
}

impl VirtualRule {
    pub fn family(&self) -> Family {
        self.from
            .or(self.to)
            .map_or(Family::Ipv4, |p| Family::of(&p.addr))
    }
}

/// iproute2's syntax: `[priority P] from FROM [to TO] table N`.
impl std::fmt::Display for VirtualRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(priority) = self.priority {
            write!(f, "priority {priority} ")?;
        }
        match self.from {
            Some(from) => write!(f, "from {from}")?,
            None => f.write_str("from all")?,
        }
        if let Some(to) = self.to {
            write!(f, " to {to}")?;
        }
        write!(f, " table {}", self.table)
    }
}

/// Address scope (`ip addr add ... scope`). Values are the kernel's `RT_SCOPE_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Site,
    Link,
    Host,
}

impl Scope {
    /// The `ifa_scope` byte netlink expects.
    pub fn rt_scope(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
        }
    }
}

/// The link-local VIP `check` suggests listing for an IPv6 instance that lists none (keepvip adds
/// none itself): the EUI-64 link-local of the RFC virtual MAC 00-00-5E-00-02-{VRID} (RFC 5798 §7.3),
/// i.e. `fe80::200:5eff:fe00:2{VRID:02x}`, the same on every node of the virtual router.
pub fn virtual_link_local(vrid: u8) -> Ipv6Addr {
    Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        0x0200,
        0x5eff,
        0xfe00,
        0x0200 | u16::from(vrid),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_link_local_is_the_eui64_of_the_ipv6_virtual_mac() {
        // VRID 217 = 0xd9: the address Cisco's VRRPv3 documentation configures by hand.
        assert_eq!(
            virtual_link_local(217),
            "fe80::200:5eff:fe00:2d9".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            virtual_link_local(1),
            "fe80::200:5eff:fe00:201".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn virtual_macs_and_default_vmac_names_differ_by_family() {
        assert_eq!(virtual_mac(Family::Ipv4, 51), [0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(virtual_mac(Family::Ipv6, 255), [0, 0, 0x5e, 0, 2, 255]);
        assert_eq!(default_vmac_name(Family::Ipv4, 51), "vrrp.51");
        assert_eq!(default_vmac_name(Family::Ipv6, 255), "vrrp6.255");
    }
}
