//! `vmac` instances (keepalived's `use_vmac`, RFC 5798 §7.3): the VIPs live on a macvlan of the
//! instance's interface carrying the virtual router MAC, so hosts' neighbour entries for a VIP never
//! change on failover. Adverts, gratuitous ARP and unsolicited NA leave from the macvlan (virtual MAC as
//! Ethernet source); adverts are still received on the interface itself.
//!
//! The macvlan is up only while the instance is master: down, it sends nothing (no ARP reply, no IPv6
//! link-local, DAD, MLD or router solicitation with the virtual MAC), and frames to the virtual MAC are
//! not taken in. It goes up before the first advert of a new master, and down before the VIPs are
//! removed, since removing IPv6 addresses from an interface that is up sends MLD reports for a second
//! (docs/linux.md §Virtual MAC). Created at startup (a leftover of an earlier run is rebuilt), deleted
//! at exit.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tracing::{error, info, warn};

use super::table::{ABSENT, LinkInfo, VmacLink};
use crate::config::{self, Family};
use crate::net::netlink::{Existing, MacvlanSpec, NetlinkError, format_mac};
use crate::net::sysctl::{self, Tree};
use crate::net::{Netlink, VrrpSocket};

/// How long the loop waits for the kernel to bring the macvlan up or down.
const LINK_CHANGE_LIMIT: Duration = Duration::from_secs(1);

/// The macvlan `instance` wants on interface `parent`.
pub fn spec(instance: &config::Instance, vmac: &config::Vmac, parent: u32) -> MacvlanSpec {
    MacvlanSpec {
        name: vmac.name.clone(),
        parent,
        mac: instance.virtual_mac(),
    }
}

/// At startup: the macvlan of a vmac instance whose interface exists (one that is missing gets it
/// when the instance first becomes master).
pub async fn at_startup(
    instance: &config::Instance,
    link: &LinkInfo,
    source: IpAddr,
    netlink: &Netlink,
) -> Result<Option<VmacLink>, String> {
    if link.index == ABSENT {
        return Ok(None);
    }
    build(instance, link.index, source, netlink).await
}

/// Builds `instance`'s macvlan on interface `parent`, down: a leftover of an earlier run (ours: see
/// `net::netlink::macvlan`) is deleted and created anew, so nothing of its past (addresses, state)
/// survives; a foreign link of that name is an error. Then the sysctls and the advert socket.
pub async fn build(
    instance: &config::Instance,
    parent: u32,
    source: IpAddr,
    netlink: &Netlink,
) -> Result<Option<VmacLink>, String> {
    let Some(vmac) = &instance.vmac else {
        return Ok(None);
    };
    let spec = spec(instance, vmac, parent);
    match netlink.macvlan_status(&spec).await {
        Ok(Existing::Absent) => {}
        Ok(Existing::Ours(_)) => {
            netlink
                .delete_macvlan(&spec)
                .await
                .map_err(|e| e.to_string())?;
            warn!(instance = %instance.name, macvlan = %spec.name, "rebuilt the macvlan left by an earlier run");
        }
        Ok(Existing::Foreign(why)) => {
            return Err(NetlinkError::ForeignLink {
                name: spec.name,
                why,
            }
            .to_string());
        }
        Err(e) => return Err(e.to_string()),
    }
    let index = netlink
        .create_macvlan(&spec)
        .await
        .map_err(|e| e.to_string())?;
    configure(instance.family(), &instance.interface, &spec.name)
        .map_err(|e| format!("macvlan {}: {e}", spec.name))?;
    let sender = VrrpSocket::open_sender(&spec.name, index, source).map_err(|e| e.to_string())?;
    info!(
        instance = %instance.name,
        macvlan = %spec.name,
        mac = %format_mac(&spec.mac),
        "vmac macvlan ready"
    );
    Ok(Some(VmacLink {
        spec,
        index,
        sender: Arc::new(sender),
        up: false,
    }))
}

/// The sysctls a vmac needs, each measured necessary (docs/linux.md §Virtual MAC), on the interface
/// and the macvlan only.
fn configure(family: Family, interface: &str, macvlan: &str) -> std::io::Result<()> {
    match family {
        Family::Ipv4 => {
            // The interface must not answer ARP for the VIPs on the macvlan (with its own MAC)...
            sysctl::write(Tree::Ipv4, interface, "arp_ignore", 1)?;
            // ...nor send ARP requests naming a VIP as their sender (clients would learn its own MAC).
            sysctl::write(Tree::Ipv4, interface, "arp_announce", 2)?;
            // The macvlan must not answer ARP for the interface's own addresses (with the virtual MAC).
            sysctl::write(Tree::Ipv4, macvlan, "arp_ignore", 1)?;
            loose_reverse_path(macvlan)?;
            // No IPv6 link-local, DAD, MLD or router solicitation with the IPv4 virtual MAC.
            match sysctl::write(Tree::Ipv6, macvlan, "disable_ipv6", 1) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            }
        }
        Family::Ipv6 => {
            // No link-local address of its own: both routers' macvlans share the MAC, so the derived
            // address would collide (DAD) and be sent from; a listed link-local VIP is its only one.
            sysctl::write(Tree::Ipv6, macvlan, "addr_gen_mode", 1)?;
            // Adding the link-local VIP would send router solicitations from the virtual MAC.
            sysctl::write(Tree::Ipv6, macvlan, "router_solicitations", 0)?;
            sysctl::write(Tree::Ipv6, macvlan, "disable_ipv6", 0)
        }
    }
}

/// Strict reverse-path filtering (the larger of `all` and the interface's value is 1) drops what
/// arrives on the macvlan, ARP included: the route back to a client leaves through the interface.
/// Loose mode (2) keeps the check that the source is routable at all.
fn loose_reverse_path(macvlan: &str) -> std::io::Result<()> {
    let all = sysctl::read(Tree::Ipv4, "all", "rp_filter")?;
    let own = sysctl::read(Tree::Ipv4, macvlan, "rp_filter")?;
    if all.max(own) == 1 {
        sysctl::write(Tree::Ipv4, macvlan, "rp_filter", 2)?;
    }
    Ok(())
}

/// Deletes the macvlans of `config` that are ours, for exit (also after a panic).
pub async fn remove_all(config: &config::Config, netlink: &Netlink) {
    for instance in &config.instances {
        let Some(vmac) = &instance.vmac else {
            continue;
        };
        let Ok(parent) = netlink.link_by_name(&instance.interface).await else {
            // With its parent gone the kernel has deleted the macvlan already.
            continue;
        };
        match netlink
            .delete_macvlan(&spec(instance, vmac, parent.index))
            .await
        {
            Ok(true) => {
                info!(instance = %instance.name, macvlan = %vmac.name, "vmac macvlan removed")
            }
            Ok(false) => {}
            Err(e) => {
                error!(instance = %instance.name, macvlan = %vmac.name, error = %e, "vmac macvlan not removed")
            }
        }
    }
}

pub(super) async fn set_up(netlink: &Netlink, index: u32, up: bool) -> Result<(), NetlinkError> {
    match tokio::time::timeout(LINK_CHANGE_LIMIT, netlink.set_link_up(index, up)).await {
        Ok(result) => result,
        Err(_) => Err(NetlinkError::Timeout {
            what: format!("set link #{index} up = {up}"),
            after: LINK_CHANGE_LIMIT,
        }),
    }
}
