//! Startup: find each instance's interface and source address, clear VIPs, routes and rules a crashed
//! keepvip left behind, open one raw socket per (interface, family), and add the routers to the node.
//! An interface that is missing, or has no source address yet, is no reason to stop: its instances
//! start in FAULT and come up when it appears (`links`, `sources`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use tracing::{info, warn};
use vrrp_core::{InstanceId, LinkId, Node, NodeError};

use super::core_config::{core_config, micros};
use super::error::DaemonError;
use super::event::SocketId;
use super::io::SocketSlot;
use super::link_local;
use super::routes;
use super::table::{ABSENT, InstanceInfo, InstanceTable, LinkInfo};
use super::vmac;
use crate::config::{self, Family};
use crate::net::netlink::NetlinkError;
use crate::net::{Netlink, VrrpSocket};
use crate::track::registry;

/// How long startup waits for an IPv6 `unicast_source` to leave DAD (the kernel needs about 2 s).
const SOURCE_DAD_WAIT: Duration = Duration::from_secs(10);

pub struct Setup {
    pub table: InstanceTable,
    /// By `SocketId`.
    pub sockets: Vec<SocketSlot>,
    /// Links whose interface was down or missing at startup.
    pub links_down: Vec<LinkId>,
    /// Instances whose interface had no usable source address at startup.
    pub sources_missing: Vec<InstanceId>,
}

/// Builds every instance of `config` into `node` (in config order) and the table beside it.
pub async fn build(
    config: &config::Config,
    netlink: &Netlink,
    node: &mut Node,
) -> Result<Setup, DaemonError> {
    let mut setup = Setup {
        table: InstanceTable::default(),
        sockets: Vec::new(),
        links_down: Vec::new(),
        sources_missing: Vec::new(),
    };
    routes::remove_leftovers(netlink).await;
    for instance in &config.instances {
        let options = BuildOptions {
            startup_delay: config.global.startup_delay,
            wait_for_dad: true,
        };
        let built = build_instance(
            config,
            instance,
            options,
            netlink,
            node,
            &mut setup.sockets,
            &setup.table,
        )
        .await?;
        if built.link_down {
            push_once(&mut setup.links_down, built.info.link.id);
        }
        if built.source_missing {
            setup.sources_missing.push(built.id);
        }
        setup.table.insert(built.id, built.info);
    }
    Ok(setup)
}

/// How an instance is built: at startup, or while the loop runs (a reload), when nothing may wait
/// for DAD (an address still tentative is followed by the loop, the instance starting in FAULT).
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions {
    pub startup_delay: Duration,
    pub wait_for_dad: bool,
}

/// One instance built: in the node, not started yet; its table entry still to insert.
pub struct BuiltInstance {
    pub id: InstanceId,
    pub info: InstanceInfo,
    /// Its interface is down or missing.
    pub link_down: bool,
    /// Its interface has no usable source address yet.
    pub source_missing: bool,
}

/// Builds `instance` (at startup, or added by a reload): its interface and source address found,
/// stale VIPs cleared, its socket slot found in `sockets` or opened there, its macvlan, and the
/// router added to `node` with `options.startup_delay`.
pub async fn build_instance(
    config: &config::Config,
    instance: &config::Instance,
    options: BuildOptions,
    netlink: &Netlink,
    node: &mut Node,
    sockets: &mut Vec<SocketSlot>,
    table: &InstanceTable,
) -> Result<BuiltInstance, DaemonError> {
    let link = find_link(instance, netlink, table, options.wait_for_dad).await?;
    let link_down = link.index == ABSENT || !link.up;
    let source = match instance.unicast_source {
        Some(explicit) => {
            explicit_source(netlink, &link.info, explicit, options.wait_for_dad).await
        }
        None => source_address(instance, &link.info),
    };
    if let Err(reason) = &source {
        warn!(
            instance = %instance.name,
            interface = %instance.interface,
            reason = %reason,
            "instance starts in FAULT; it comes up when the interface has a source address"
        );
    }
    // An explicit unicast_source is the source even while it is missing: it never follows
    // renumbering, the instance waits in FAULT for that very address.
    let missing = instance
        .unicast_source
        .unwrap_or(placeholder(instance.family()));
    let primary = source.clone().unwrap_or(missing);
    let id = add_to_node(
        node,
        table,
        config,
        instance,
        link.info.id,
        primary,
        options.startup_delay,
    )?;
    let socket = socket_for(sockets, instance, &link.info, primary)?;
    let vmac = vmac::at_startup(instance, &link.info, primary, netlink)
        .await
        .map_err(|reason| DaemonError::Interface {
            instance: instance.name.clone(),
            reason,
        })?;
    info!(
        instance = %instance.name,
        interface = %instance.interface,
        vrid = instance.vrid,
        priority = instance.priority,
        source = %primary,
        unicast_peers = ?instance.unicast_peers,
        "instance ready"
    );
    let info = InstanceInfo {
        config: instance.clone(),
        link: link.info,
        socket,
        vmac,
    };
    Ok(BuiltInstance {
        id,
        info,
        link_down,
        source_missing: source.is_err(),
    })
}

/// An instance's interface as found at startup.
struct FoundLink {
    info: LinkInfo,
    index: u32,
    up: bool,
}

/// The instance's interface: its id (one per name; two names of one interface share it), and what
/// it has now. Missing, or without an Ethernet address, it is absent; only a netlink failure is an
/// error.
async fn find_link(
    instance: &config::Instance,
    netlink: &Netlink,
    table: &InstanceTable,
    wait_for_dad: bool,
) -> Result<FoundLink, DaemonError> {
    let interface_error = |e: NetlinkError| DaemonError::Interface {
        instance: instance.name.clone(),
        reason: e.to_string(),
    };
    let found = match netlink.link_by_name(&instance.interface).await {
        Ok(link) => Some(link),
        Err(NetlinkError::NoSuchLink(_)) => None,
        Err(e) => return Err(interface_error(e)),
    };
    let present = found.and_then(|link| match link.mac {
        Some(mac) => Some((link, mac)),
        None => {
            warn!(
                instance = %instance.name,
                interface = %instance.interface,
                "interface has no Ethernet address: treated as missing"
            );
            None
        }
    });
    let Some((link, mac)) = present else {
        let id = table
            .link_named(&instance.interface)
            .unwrap_or_else(|| new_link_id(table));
        return Ok(FoundLink {
            info: absent_link(id),
            index: ABSENT,
            up: false,
        });
    };
    let id = table
        .link_named(&instance.interface)
        .or_else(|| table.link_of(link.index))
        .unwrap_or_else(|| new_link_id(table));
    clear_stale_vips(instance, link.index, netlink).await;
    let info = discover_addresses(
        instance,
        id,
        link.index,
        mac,
        link.up && wait_for_dad,
        netlink,
    )
    .await
    .map_err(interface_error)?;
    Ok(FoundLink {
        info,
        index: link.index,
        up: link.up,
    })
}

fn new_link_id(table: &InstanceTable) -> LinkId {
    let used = table.iter().map(|(_, info)| info.link.id.0 + 1).max();
    LinkId(used.unwrap_or(0))
}

fn absent_link(id: LinkId) -> LinkInfo {
    LinkInfo {
        id,
        index: ABSENT,
        mac: [0; 6],
        primary_v4: None,
        link_local: None,
    }
}

fn push_once(links: &mut Vec<LinkId>, link: LinkId) {
    if !links.contains(&link) {
        links.push(link);
    }
}

async fn discover_addresses(
    instance: &config::Instance,
    id: LinkId,
    index: u32,
    mac: [u8; 6],
    may_wait: bool,
    netlink: &Netlink,
) -> Result<LinkInfo, NetlinkError> {
    // keepvip-marked addresses (VIPs) never count as the primary address.
    let primary_v4 = netlink.primary_ipv4(index).await?;
    let wait_for_dad = may_wait && instance.family() == Family::Ipv6;
    let link_local = match link_local::at_startup(netlink, index, wait_for_dad).await {
        // Still tentative (or none at all): the instance starts in FAULT and follows it.
        Err(NetlinkError::Timeout { .. }) => None,
        other => other?,
    };
    Ok(LinkInfo {
        id,
        index,
        mac,
        primary_v4,
        link_local,
    })
}

/// The address adverts leave from: the primary IPv4 address, or the IPv6 link-local address.
fn source_address(instance: &config::Instance, info: &LinkInfo) -> Result<IpAddr, String> {
    if info.index == ABSENT {
        return Err(format!("{} does not exist", instance.interface));
    }
    let (found, what) = match instance.family() {
        Family::Ipv4 => (info.primary_v4.map(IpAddr::V4), "IPv4 address"),
        Family::Ipv6 => (info.link_local.map(IpAddr::V6), "IPv6 link-local address"),
    };
    found.ok_or_else(|| format!("{} has no {what} to send adverts from", instance.interface))
}

/// A configured `unicast_source`, if it is on the interface now. An IPv6 one still in DAD is waited
/// for, as the link-local address is.
async fn explicit_source(
    netlink: &Netlink,
    info: &LinkInfo,
    source: IpAddr,
    may_wait: bool,
) -> Result<IpAddr, String> {
    if info.index == ABSENT {
        return Err("the interface does not exist".to_owned());
    }
    let wait = if may_wait {
        SOURCE_DAD_WAIT
    } else {
        Duration::ZERO
    };
    let deadline = Instant::now() + wait;
    loop {
        let addresses = netlink
            .addresses(info.index)
            .await
            .map_err(|e| e.to_string())?;
        let found = addresses
            .iter()
            .find(|a| a.address == source && !a.is_keepvip());
        match found {
            None => return Err(format!("unicast_source {source} is not on the interface")),
            Some(a) if a.is_dad_failed() => {
                return Err(format!("unicast_source {source} failed DAD"));
            }
            Some(a) if a.is_usable() => return Ok(source),
            Some(_) if Instant::now() >= deadline => {
                return Err(format!("unicast_source {source} is still tentative (DAD)"));
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The core's primary address until the real one is known: never sent from (the instance is in
/// FAULT until `Input::SourceAddressChanged` replaces it).
pub fn placeholder(family: Family) -> IpAddr {
    match family {
        Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

fn add_to_node(
    node: &mut Node,
    table: &InstanceTable,
    config: &config::Config,
    instance: &config::Instance,
    link: LinkId,
    primary: IpAddr,
    startup_delay: Duration,
) -> Result<vrrp_core::InstanceId, DaemonError> {
    let failed = |reason: String| DaemonError::Instance {
        instance: instance.name.clone(),
        reason,
    };
    let trackers = registry::core_trackers(instance, config);
    let mut core = core_config(instance, primary, trackers);
    core.startup_delay = micros(startup_delay);
    match node.add_instance(link, core) {
        Ok(id) => Ok(id),
        // `check` compares interface names; two names can be one interface (altnames).
        Err(NodeError::DuplicateVrid { existing }) => {
            let twin = table.get(existing).map(|t| &t.config);
            Err(failed(format!(
                "VRID {} is already used on this interface by instance {} ({} is {})",
                instance.vrid,
                twin.map_or("?", |t| t.name.as_str()),
                instance.interface,
                twin.map_or("?", |t| t.interface.as_str()),
            )))
        }
        Err(e) => Err(failed(e.to_string())),
    }
}

/// The socket slot of (link, family), opened on first use (left empty while the interface is missing).
pub fn socket_for(
    sockets: &mut Vec<SocketSlot>,
    instance: &config::Instance,
    link: &LinkInfo,
    primary: IpAddr,
) -> Result<SocketId, DaemonError> {
    let family = instance.family();
    if let Some(index) = sockets
        .iter()
        .position(|s| s.link == link.id && s.family == family)
    {
        return Ok(SocketId(index));
    }
    let socket = if link.index == ABSENT {
        None
    } else {
        let opened = open_socket(&instance.interface, link.index, primary);
        Some(opened.map_err(|e| DaemonError::Socket(e.to_string()))?)
    };
    sockets.push(SocketSlot::new(link.id, family, socket));
    Ok(SocketId(sockets.len() - 1))
}

/// A raw VRRP socket on `ifname` (index `ifindex`) sending from `source`.
pub fn open_socket(
    ifname: &str,
    ifindex: u32,
    source: IpAddr,
) -> Result<VrrpSocket, crate::net::vrrp_socket::OpenError> {
    match source {
        IpAddr::V4(src) => VrrpSocket::open_v4(ifname, ifindex, src),
        IpAddr::V6(src) => VrrpSocket::open_v6(ifname, ifindex, src),
    }
}

/// Every address the instance installs while master: advertised and excluded VIPs.
fn all_vips(instance: &config::Instance) -> impl Iterator<Item = IpAddr> + '_ {
    instance
        .vips
        .iter()
        .chain(&instance.excluded_vips)
        .map(|v| v.addr)
}

/// The priority of the address owner (RFC 5798 §5.2.4), whose VIPs are its own addresses.
pub const OWNER_PRIORITY: u8 = 255;

/// A VIP of this config still on the interface was left by a keepvip that died as master: remove it before
/// the first election, so the address is never on two hosts. Only keepvip-marked addresses are touched,
/// and, for a non-owner, copies someone else configured (`Netlink::remove_unmanaged_copies`), as
/// keepalived removes its VIPs on entering BACKUP.
async fn clear_stale_vips(instance: &config::Instance, index: u32, netlink: &Netlink) {
    let vips: Vec<IpAddr> = all_vips(instance).collect();
    if instance.priority != OWNER_PRIORITY {
        match netlink.remove_unmanaged_copies(index, &vips).await {
            Ok(removed) if !removed.is_empty() => warn!(
                event = "vip_adopted",
                instance = %instance.name,
                removed = ?removed,
                "removed VIPs configured outside keepvip before the first election"
            ),
            Ok(_) => {}
            Err(e) => {
                warn!(instance = %instance.name, error = %e, "could not check for VIP copies")
            }
        }
    }
    match netlink.remove_stale_vips(index, &vips).await {
        Ok(removed) if !removed.is_empty() => warn!(
            instance = %instance.name,
            removed = ?removed,
            "removed VIPs left on the interface by an earlier run"
        ),
        Ok(_) => {}
        Err(e) => warn!(instance = %instance.name, error = %e, "could not check for stale VIPs"),
    }
}

/// Last resort after a panic: removes every keepvip-marked route and rule, and every keepvip-marked
/// VIP of `config` from its interfaces.
pub async fn remove_installed_vips(config: &config::Config) {
    let Ok(netlink) = Netlink::connect() else {
        return;
    };
    routes::remove_leftovers(&netlink).await;
    for instance in &config.instances {
        if let Ok(link) = netlink.link_by_name(&instance.interface).await {
            clear_stale_vips(instance, link.index, &netlink).await;
        }
    }
}
