//! Startup: find each instance's interface and source address, clear VIPs a crashed keepvip left behind,
//! open one raw socket per (interface, family), and build the routers.

use std::net::IpAddr;
use std::time::Duration;

use tracing::{info, warn};
use vrrp_core::Router;

use super::core_config::core_config;
use super::event_loop::DaemonError;
use super::instance::{Counters, Instance, LinkInfo};
use crate::config::{self, Family};
use crate::net::{Netlink, VrrpSocket};

/// How long startup waits for an IPv6 link-local address to leave DAD (the kernel needs about 2 s).
const DAD_TIMEOUT: Duration = Duration::from_secs(10);

/// One socket and what it serves.
pub struct SocketSlot {
    pub socket: VrrpSocket,
    pub family: Family,
    pub ifindex: u32,
}

pub struct Setup {
    pub instances: Vec<Instance>,
    pub sockets: Vec<SocketSlot>,
    /// Index of interfaces whose link was down at startup.
    pub links_down: Vec<u32>,
}

pub async fn build(config: &config::Config, netlink: &Netlink) -> Result<Setup, DaemonError> {
    let mut instances = Vec::new();
    let mut sockets: Vec<SocketSlot> = Vec::new();
    let mut links_down = Vec::new();
    for instance in &config.instances {
        let link = netlink
            .link_by_name(&instance.interface)
            .await
            .map_err(|e| DaemonError::Interface {
                instance: instance.name.clone(),
                reason: e.to_string(),
            })?;
        // `check` compares interface names; two names can be one interface (altnames).
        if let Some(twin) = instances.iter().find(|other: &&Instance| {
            other.link.index == link.index
                && other.family() == instance.family()
                && other.config.vrid == instance.vrid
        }) {
            return Err(DaemonError::Instance {
                instance: instance.name.clone(),
                reason: format!(
                    "VRID {} is already used on this interface by instance {} ({} is {})",
                    instance.vrid, twin.config.name, instance.interface, twin.config.interface
                ),
            });
        }
        if !link.up && !links_down.contains(&link.index) {
            links_down.push(link.index);
        }
        let mac = link.mac.ok_or_else(|| DaemonError::Interface {
            instance: instance.name.clone(),
            reason: format!("{} has no Ethernet address", instance.interface),
        })?;
        clear_stale_vips(instance, link.index, netlink).await;
        let info = discover_addresses(instance, link.index, mac, link.up, netlink).await?;
        let family = instance.family();
        let primary = match family {
            Family::Ipv4 => info.primary_v4.map(IpAddr::V4),
            Family::Ipv6 => info.link_local.map(IpAddr::V6),
        }
        .ok_or_else(|| DaemonError::Interface {
            instance: instance.name.clone(),
            reason: format!(
                "{} has no {} to send adverts from",
                instance.interface,
                match family {
                    Family::Ipv4 => "IPv4 address",
                    Family::Ipv6 => "IPv6 link-local address",
                }
            ),
        })?;
        let socket = match sockets
            .iter()
            .position(|s| s.ifindex == link.index && s.family == family)
        {
            Some(index) => index,
            None => {
                sockets.push(open_socket(instance, link.index, primary, family)?);
                sockets.len() - 1
            }
        };
        let router =
            Router::new(core_config(instance, primary)).map_err(|e| DaemonError::Instance {
                instance: instance.name.clone(),
                reason: e.to_string(),
            })?;
        info!(
            instance = %instance.name,
            interface = %instance.interface,
            vrid = instance.vrid,
            priority = instance.priority,
            source = %primary,
            "instance ready"
        );
        instances.push(Instance {
            config: instance.clone(),
            router,
            link: info,
            socket,
            counters: Counters::default(),
            announcer: None,
            master_checksum: None,
            source_lost: false,
        });
    }
    Ok(Setup {
        instances,
        sockets,
        links_down,
    })
}

async fn discover_addresses(
    instance: &config::Instance,
    index: u32,
    mac: [u8; 6],
    link_up: bool,
    netlink: &Netlink,
) -> Result<LinkInfo, DaemonError> {
    let failed = |e: crate::net::netlink::NetlinkError| DaemonError::Interface {
        instance: instance.name.clone(),
        reason: e.to_string(),
    };
    // keepvip-marked addresses (VIPs) never count as the primary address.
    let primary_v4 = netlink.primary_ipv4(index).await.map_err(failed)?;
    // IPv6 sends fail while the link-local address is tentative (design.md §3): wait for DAD first.
    let link_local = if instance.family() == Family::Ipv6 && link_up {
        Some(
            netlink
                .wait_ipv6_link_local_ready(index, DAD_TIMEOUT)
                .await
                .map_err(failed)?,
        )
    } else {
        netlink
            .ipv6_link_local(index)
            .await
            .map_err(failed)?
            .and_then(|a| match a.address {
                IpAddr::V6(v6) => Some(v6),
                IpAddr::V4(_) => None,
            })
    };
    Ok(LinkInfo {
        index,
        mac,
        primary_v4,
        link_local,
    })
}

/// Every address the instance installs while master: advertised and excluded VIPs.
pub fn all_vips(instance: &config::Instance) -> impl Iterator<Item = IpAddr> + '_ {
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

fn open_socket(
    instance: &config::Instance,
    index: u32,
    primary: IpAddr,
    family: Family,
) -> Result<SocketSlot, DaemonError> {
    let socket = match primary {
        IpAddr::V4(src) => VrrpSocket::open_v4(&instance.interface, index, src),
        IpAddr::V6(src) => VrrpSocket::open_v6(&instance.interface, index, src),
    }
    .map_err(|e| DaemonError::Socket(e.to_string()))?;
    Ok(SocketSlot {
        socket,
        family,
        ifindex: index,
    })
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
