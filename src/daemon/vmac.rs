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
use vrrp_core::{InstanceId, StateKind};

use super::event_loop::Daemon;
use super::table::{ABSENT, LinkInfo};
use crate::config::{self, Family};
use crate::net::netlink::{Existing, MacvlanSpec, NetlinkError, format_mac};
use crate::net::sysctl::{self, Tree};
use crate::net::{Netlink, VrrpSocket};

/// How long the loop waits for the kernel to bring the macvlan up or down.
const LINK_CHANGE_LIMIT: Duration = Duration::from_secs(1);

/// An instance's macvlan as the shell knows it.
#[derive(Debug, Clone)]
pub struct VmacLink {
    pub spec: MacvlanSpec,
    pub index: u32,
    /// Adverts leave through it (receiving stays on the interface's socket).
    pub sender: Arc<VrrpSocket>,
    /// Whether keepvip set it up (it does so only while master).
    pub up: bool,
}

impl VmacLink {
    /// `link` as announcements from the macvlan see it: its index and the virtual MAC.
    pub fn announcing(&self, link: &LinkInfo) -> LinkInfo {
        LinkInfo {
            index: self.index,
            mac: self.spec.mac,
            ..link.clone()
        }
    }
}

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

impl super::table::InstanceInfo {
    /// Where the VIPs go: the interface, or a vmac instance's macvlan ([`ABSENT`] while it has none:
    /// VIPs on the interface would answer with its MAC).
    pub fn vip_ifindex(&self) -> u32 {
        match (&self.config.vmac, &self.vmac) {
            (None, _) => self.link.index,
            (Some(_), Some(vmac)) => vmac.index,
            (Some(_), None) => ABSENT,
        }
    }
}

impl Daemon {
    /// Before the instance sends or installs anything as master: its macvlan there, on the interface
    /// as it is now, sending from the instance's source, and up. Nothing for an instance without vmac;
    /// no syscall when all that holds already (it runs before every advert).
    pub(super) async fn vmac_up(&mut self, id: InstanceId) {
        let Some(index) = self.vmac_ready(id).await else {
            return;
        };
        let netlink = self.io.netlink.clone();
        let started = std::time::Instant::now();
        let mut result = set_up(&netlink, index, true).await;
        if matches!(&result, Err(e) if e.errno() == Some(libc::ENODEV)) {
            // Deleted behind our back: build it again.
            warn!(instance = %self.instance_name(id), "vmac macvlan vanished: creating it again");
            if let Some(Some(vmac)) = self.table.vmac_mut(id) {
                vmac.index = ABSENT;
            }
            result = match self.vmac_ready(id).await {
                Some(index) => set_up(&netlink, index, true).await,
                None => return,
            };
        }
        if let Err(e) = result {
            error!(instance = %self.instance_name(id), error = %e, "vmac macvlan not brought up");
            return;
        }
        if let Some(Some(vmac)) = self.table.vmac_mut(id) {
            vmac.up = true;
            let took_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            info!(macvlan = %vmac.spec.name, took_us, "vmac macvlan up");
        }
    }

    /// The ifindex of the instance's macvlan if it still has to be brought up: built (again) when it
    /// is missing or its interface was re-created since, its advert socket reopened when the source
    /// changed (renumbering). `None` when it is up already, or cannot be had (logged).
    async fn vmac_ready(&mut self, id: InstanceId) -> Option<u32> {
        let info = self.table.get(id)?;
        info.config.vmac.as_ref()?;
        let (parent, config) = (info.link.index, info.config.clone());
        let source = self.node.router(id)?.config().primary_address;
        let netlink = self.io.netlink.clone();
        let current = info.vmac.clone();
        match current {
            Some(vmac) if vmac.spec.parent == parent && vmac.index != ABSENT => {
                if vmac.sender.source() != source {
                    self.reopen_sender(id, &vmac, source);
                }
                (!vmac.up).then_some(vmac.index)
            }
            _ if parent == ABSENT => None,
            old => {
                // An interface renamed away keeps the old macvlan: ours, so it goes first.
                if let Some(old) = old {
                    let _ = netlink.delete_macvlan(&old.spec).await;
                }
                let built = build(&config, parent, source, &netlink).await;
                let slot = self.table.vmac_mut(id)?;
                match built {
                    Ok(vmac) => {
                        *slot = vmac;
                        slot.as_ref().map(|v| v.index)
                    }
                    Err(e) => {
                        *slot = None;
                        error!(instance = %config.name, error = %e, "vmac macvlan not created: no VIPs");
                        None
                    }
                }
            }
        }
    }

    fn reopen_sender(&mut self, id: InstanceId, vmac: &VmacLink, source: IpAddr) {
        match VrrpSocket::open_sender(&vmac.spec.name, vmac.index, source) {
            Ok(sender) => {
                if let Some(Some(current)) = self.table.vmac_mut(id) {
                    current.sender = Arc::new(sender);
                }
            }
            Err(e) => {
                error!(macvlan = %vmac.spec.name, error = %e, "vmac advert socket not reopened")
            }
        }
    }

    /// Once the instance is no longer master, before its VIPs are removed: its macvlan down.
    pub(super) async fn vmac_down(&mut self, id: InstanceId) {
        let master = self
            .node
            .router(id)
            .is_some_and(|r| r.state().kind() == StateKind::Master);
        let Some(Some(vmac)) = self.table.vmac_mut(id) else {
            return;
        };
        if !vmac.up || master {
            return;
        }
        vmac.up = false;
        let (index, name) = (vmac.index, vmac.spec.name.clone());
        match set_up(&self.io.netlink, index, false).await {
            // Gone with its interface: down enough.
            Err(e) if e.errno() == Some(libc::ENODEV) => {}
            Err(e) => error!(macvlan = %name, error = %e, "vmac macvlan not brought down"),
            Ok(()) => {}
        }
    }

    fn instance_name(&self, id: InstanceId) -> String {
        self.table.get(id).map_or("?", |i| i.name()).to_owned()
    }
}

async fn set_up(netlink: &Netlink, index: u32, up: bool) -> Result<(), NetlinkError> {
    match tokio::time::timeout(LINK_CHANGE_LIMIT, netlink.set_link_up(index, up)).await {
        Ok(result) => result,
        Err(_) => Err(NetlinkError::Timeout {
            what: format!("set link #{index} up = {up}"),
            after: LINK_CHANGE_LIMIT,
        }),
    }
}
