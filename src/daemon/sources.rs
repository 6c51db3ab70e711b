//! The one home of an instance's source address after startup: still there (`SourceAddressRestored`),
//! gone with no other (`SourceAddressLost`), or replaced (`SourceAddressChanged`: the interface was
//! renumbered, or its IPv6 link-local address changed). The replacement follows the startup rule: the
//! primary IPv4 address (global scope first), or the IPv6 link-local address, never a keepvip VIP and
//! only once usable. The socket of (interface, family) sends from the interface's source, so it is
//! reopened with the new address before the core hears of it.

use std::net::IpAddr;

use tokio::sync::oneshot;
use tracing::{error, info, warn};
use vrrp_core::{Input, InstanceId, NodeInput, StateKind};

use super::link_local::is_usable_source;
use super::setup::open_socket;
use super::state::Daemon;
use super::vips::VipCommand;
use crate::config::Family;
use crate::net::netlink::{InterfaceAddress, is_ipv6_link_local, primary_ipv4_of};

impl Daemon {
    /// Feeds what `addresses` (the instance's interface's, read now) say about its source.
    pub(super) async fn follow_source(
        &mut self,
        id: InstanceId,
        now: vrrp_core::Instant,
        addresses: &[InterfaceAddress],
    ) {
        let Some(source) = self.node.router(id).map(|r| r.config().primary_address) else {
            return;
        };
        if addresses.iter().any(|a| is_usable_source(a, source)) {
            self.set_source_usable(id, now, true).await;
        } else if !self.has_explicit_source(id)
            && let Some(new) = usable_source(Family::of(&source), addresses)
        {
            self.renumber(id, now, new).await;
            self.restore_vips(id, addresses);
        } else {
            self.set_source_usable(id, now, false).await;
        }
    }

    /// The instance's adverts leave from `new` from now on.
    pub(super) async fn renumber(&mut self, id: InstanceId, now: vrrp_core::Instant, new: IpAddr) {
        let (Some(info), Some(router)) = (self.table.get(id), self.node.router(id)) else {
            return;
        };
        let old = router.config().primary_address;
        let (link, socket) = (info.link.id, info.socket);
        info!(
            instance = %info.name(),
            %old,
            %new,
            "source address changed: adverts leave from the new one"
        );
        self.table.update_link(link, |l| match new {
            IpAddr::V4(v4) => l.primary_v4 = Some(v4),
            IpAddr::V6(v6) => l.link_local = Some(v6),
        });
        // Instances sharing the socket share the source: the first one reopens it.
        if self.io.socket(socket).is_some_and(|s| s.source() != new) {
            let reopened = self
                .table
                .link(link)
                .map(|l| (l.index, self.link_label(link)));
            if let Some((ifindex, ifname)) = reopened {
                match open_socket(&ifname, ifindex, new) {
                    Ok(opened) => self.io.replace_socket(socket, Some(opened)),
                    Err(e) => error!(interface = %ifname, error = %e, "VRRP socket not reopened"),
                }
            }
        }
        self.feed(
            now,
            NodeInput::Instance(id, Input::SourceAddressChanged(new)),
        )
        .await;
    }

    /// Deleting a primary IPv4 address deletes the secondary addresses of its subnet with it
    /// (docs/linux.md §Addresses and links), VIPs included: a master that stays master through the
    /// renumbering puts back those the kernel took.
    fn restore_vips(&mut self, id: InstanceId, addresses: &[InterfaceAddress]) {
        let (Some(info), Some(router)) = (self.table.get(id), self.node.router(id)) else {
            return;
        };
        // A vmac instance's VIPs are on its macvlan, which renumbering the interface leaves alone.
        if router.state().kind() != StateKind::Master || info.config.vmac.is_some() {
            return;
        }
        let missing: Vec<IpAddr> = router
            .config()
            .vip_set()
            .iter()
            .filter(|vip| !addresses.iter().any(|a| a.address == *vip))
            .collect();
        if missing.is_empty() {
            return;
        }
        warn!(
            instance = %info.name(),
            vips = ?missing,
            "VIPs went with the old source address; adding them back"
        );
        let (installed, _) = oneshot::channel();
        self.io.vip_worker.send(VipCommand::Add {
            instance: info.name().to_owned(),
            ifindex: info.link.index,
            vips: missing.iter().map(|&vip| info.install_spec(vip)).collect(),
            // Still in the drop sets; added again in case the table went (idempotent).
            drop_traffic: !router.config().master_accepts_vip_traffic(),
            installed,
            // A repair, not a takeover.
            takeover: None,
            adopt: false,
        });
    }

    pub(super) async fn set_source_usable(
        &mut self,
        id: InstanceId,
        now: vrrp_core::Instant,
        usable: bool,
    ) {
        let Some(router) = self.node.router(id) else {
            return;
        };
        if router.source_present() == usable {
            return;
        }
        let source = router.config().primary_address;
        let name = self.table.get(id).map_or("?", |i| i.name());
        if usable {
            info!(instance = %name, %source, "source address usable again");
            self.feed(now, NodeInput::Instance(id, Input::SourceAddressRestored))
                .await;
        } else {
            warn!(instance = %name, %source, "source address gone from the interface: FAULT");
            self.feed(now, NodeInput::Instance(id, Input::SourceAddressLost))
                .await;
        }
    }

    /// Whether the instance names its source (`unicast_source`): that address or none, never a
    /// replacement.
    pub(super) fn has_explicit_source(&self, id: InstanceId) -> bool {
        self.table
            .get(id)
            .is_some_and(|info| info.config.unicast_source.is_some())
    }

    /// The interface name `link` follows.
    pub(super) fn link_label(&self, link: vrrp_core::LinkId) -> String {
        self.table.link_name(link).unwrap_or("?").to_owned()
    }
}

/// The source an instance of `family` would pick among `addresses` now, if one is usable.
pub fn usable_source(family: Family, addresses: &[InterfaceAddress]) -> Option<IpAddr> {
    match family {
        Family::Ipv4 => primary_ipv4_of(addresses).map(IpAddr::V4),
        Family::Ipv6 => addresses
            .iter()
            .find(|a| is_ipv6_link_local(a.address) && !a.is_keepvip() && a.is_usable())
            .map(|a| a.address),
    }
}
