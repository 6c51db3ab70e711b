//! Startup: find each instance's interface and source address, clear VIPs a crashed keepvip left behind,
//! open one raw socket per (interface, family), and add the routers to the node.

use std::net::IpAddr;

use tracing::{info, warn};
use vrrp_core::{LinkId, Node, NodeError};

use super::core_config::core_config;
use super::error::DaemonError;
use super::event::SocketId;
use super::link_local;
use super::table::{InstanceInfo, InstanceTable, LinkInfo};
use crate::config::{self, Family};
use crate::net::netlink::NetlinkError;
use crate::net::{Netlink, VrrpSocket};
use crate::track::registry;

/// One socket and what it serves.
struct SocketSlot {
    socket: VrrpSocket,
    family: Family,
    ifindex: u32,
}

pub struct Setup {
    pub table: InstanceTable,
    /// By `SocketId`.
    pub sockets: Vec<VrrpSocket>,
    /// Index of interfaces whose link was down at startup.
    pub links_down: Vec<u32>,
}

/// Builds every instance of `config` into `node` (in config order) and the table beside it.
pub async fn build(
    config: &config::Config,
    netlink: &Netlink,
    node: &mut Node,
) -> Result<Setup, DaemonError> {
    let mut table = InstanceTable::default();
    let mut sockets: Vec<SocketSlot> = Vec::new();
    let mut links_down = Vec::new();
    for instance in &config.instances {
        let interface_error = |reason: String| DaemonError::Interface {
            instance: instance.name.clone(),
            reason,
        };
        let link = netlink
            .link_by_name(&instance.interface)
            .await
            .map_err(|e| interface_error(e.to_string()))?;
        if !link.up && !links_down.contains(&link.index) {
            links_down.push(link.index);
        }
        let mac = link.mac.ok_or_else(|| {
            interface_error(format!("{} has no Ethernet address", instance.interface))
        })?;
        clear_stale_vips(instance, link.index, netlink).await;
        let info = discover_addresses(instance, link.index, mac, link.up, netlink)
            .await
            .map_err(|e| interface_error(e.to_string()))?;
        let primary = source_address(instance, &info).map_err(interface_error)?;
        let id = add_to_node(node, &table, config, instance, link.index, primary)?;
        let socket = socket_for(&mut sockets, instance, link.index, primary)?;
        info!(
            instance = %instance.name,
            interface = %instance.interface,
            vrid = instance.vrid,
            priority = instance.priority,
            source = %primary,
            "instance ready"
        );
        table.insert(
            id,
            InstanceInfo {
                config: instance.clone(),
                link: info,
                socket,
            },
        );
    }
    Ok(Setup {
        table,
        sockets: sockets.into_iter().map(|slot| slot.socket).collect(),
        links_down,
    })
}

async fn discover_addresses(
    instance: &config::Instance,
    index: u32,
    mac: [u8; 6],
    link_up: bool,
    netlink: &Netlink,
) -> Result<LinkInfo, NetlinkError> {
    // keepvip-marked addresses (VIPs) never count as the primary address.
    let primary_v4 = netlink.primary_ipv4(index).await?;
    let link_local = match instance.family() {
        Family::Ipv6 => link_local::at_startup(netlink, index, link_up).await?,
        Family::Ipv4 => link_local::at_startup(netlink, index, false).await?,
    };
    Ok(LinkInfo {
        index,
        mac,
        primary_v4,
        link_local,
    })
}

/// The address adverts leave from: the primary IPv4 address, or the IPv6 link-local address.
fn source_address(instance: &config::Instance, info: &LinkInfo) -> Result<IpAddr, String> {
    let (found, what) = match instance.family() {
        Family::Ipv4 => (info.primary_v4.map(IpAddr::V4), "IPv4 address"),
        Family::Ipv6 => (info.link_local.map(IpAddr::V6), "IPv6 link-local address"),
    };
    found.ok_or_else(|| format!("{} has no {what} to send adverts from", instance.interface))
}

fn add_to_node(
    node: &mut Node,
    table: &InstanceTable,
    config: &config::Config,
    instance: &config::Instance,
    ifindex: u32,
    primary: IpAddr,
) -> Result<vrrp_core::InstanceId, DaemonError> {
    let failed = |reason: String| DaemonError::Instance {
        instance: instance.name.clone(),
        reason,
    };
    let trackers = registry::core_trackers(instance, config);
    match node.add_instance(LinkId(ifindex), core_config(instance, primary, trackers)) {
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

/// The socket of (interface, family), opened on first use.
fn socket_for(
    sockets: &mut Vec<SocketSlot>,
    instance: &config::Instance,
    ifindex: u32,
    primary: IpAddr,
) -> Result<SocketId, DaemonError> {
    let family = instance.family();
    if let Some(index) = sockets
        .iter()
        .position(|s| s.ifindex == ifindex && s.family == family)
    {
        return Ok(SocketId(index));
    }
    let socket = match primary {
        IpAddr::V4(src) => VrrpSocket::open_v4(&instance.interface, ifindex, src),
        IpAddr::V6(src) => VrrpSocket::open_v6(&instance.interface, ifindex, src),
    }
    .map_err(|e| DaemonError::Socket(e.to_string()))?;
    sockets.push(SocketSlot {
        socket,
        family,
        ifindex,
    });
    Ok(SocketId(sockets.len() - 1))
}

/// Every address the instance installs while master: advertised and excluded VIPs.
fn all_vips(instance: &config::Instance) -> impl Iterator<Item = IpAddr> + '_ {
    instance
        .vips
        .iter()
        .chain(&instance.excluded_vips)
        .map(|v| v.addr)
}

/// A VIP of this config still on the interface was left by a keepvip that died as master: remove it before
/// the first election, so the address is never on two hosts. Only keepvip-marked addresses are touched.
async fn clear_stale_vips(instance: &config::Instance, index: u32, netlink: &Netlink) {
    let vips: Vec<IpAddr> = all_vips(instance).collect();
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

/// Last resort after a panic: removes every keepvip-marked VIP of `config` from its interfaces.
pub async fn remove_installed_vips(config: &config::Config) {
    let Ok(netlink) = Netlink::connect() else {
        return;
    };
    for instance in &config.instances {
        if let Ok(link) = netlink.link_by_name(&instance.interface).await {
            clear_stale_vips(instance, link.index, &netlink).await;
        }
    }
}
