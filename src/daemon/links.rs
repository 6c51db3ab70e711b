//! Interfaces followed by name. A link event whose (name, ifindex) differs from what the table holds
//! says an instance's interface was created, deleted, re-created or renamed; the kernel is then asked
//! what the name is now (so a stale or reordered event cannot mislead) and the daemon reconciles:
//! - gone: its instances go to FAULT (link down; a master's VIPs went with the interface, and it
//!   cannot resign from an interface it no longer has), its sockets close;
//! - there (again, with a new ifindex): MAC, addresses and link-local are read afresh, the sockets
//!   reopen on it (SO_BINDTODEVICE binds the ifindex the name had then), and the instances get its link
//!   state and source address: they come back through BACKUP and the election.
//!
//! The `LinkId` stays, so the core's dispatch never notices the new ifindex.

use std::net::IpAddr;

use tracing::{error, info, warn};
use vrrp_core::{Input, LinkId};

use super::interfaces::link_input;
use super::setup::{open_socket, placeholder};
use super::state::Daemon;
use super::table::ABSENT;
use crate::config::Family;
use crate::net::netlink::{InterfaceAddress, LinkEvent, LinkInfo, NetlinkError};

impl Daemon {
    /// The followed link `event` shows out of step with the table, if any.
    pub(super) fn out_of_step(&self, event: &LinkEvent) -> Option<LinkId> {
        match event {
            LinkEvent::Changed(info) => {
                // Renamed away: our ifindex under another name (an altname is checked and kept).
                if let Some(link) = self.table.link_of(info.index)
                    && self.table.link_name(link) != Some(info.name.as_str())
                {
                    return Some(link);
                }
                let link = self.table.link_named(&info.name)?;
                (self.table.link(link)?.index != info.index).then_some(link)
            }
            // A re-read that found no interface by that name says index 0.
            LinkEvent::Removed { index, name } => self.table.link_of(*index).or_else(|| {
                self.table
                    .link_named(name)
                    .filter(|&link| self.table.link(link).is_some_and(|l| l.index != ABSENT))
            }),
        }
    }

    /// Asks the kernel what `link`'s name is now and follows it; `false` if nothing changed.
    pub(super) async fn resync_link(&mut self, link: LinkId) -> bool {
        let name = self.link_label(link);
        let current = self.table.link(link).map_or(ABSENT, |l| l.index);
        let found = match self.io.netlink.link_by_name(&name).await {
            // Without an Ethernet address there is nothing to announce VIPs with: as missing.
            Ok(info) => info.mac.is_some().then_some(info),
            Err(NetlinkError::NoSuchLink(_)) => None,
            Err(e) => {
                warn!(interface = %name, error = %e, "interface not read; the re-read will retry");
                return false;
            }
        };
        match found {
            Some(info) if info.index == current => false,
            Some(info) => {
                if current != ABSENT {
                    self.link_gone(link, &name, current).await;
                }
                self.link_appeared(link, &name, info).await;
                true
            }
            None if current != ABSENT => {
                self.link_gone(link, &name, current).await;
                true
            }
            None => false,
        }
    }

    async fn link_gone(&mut self, link: LinkId, name: &str, ifindex: u32) {
        warn!(
            interface = %name,
            ifindex,
            "interface gone: its instances are in FAULT until it is back"
        );
        self.interfaces.dad_waits.cancel(ifindex);
        // Fed while the table still names the old ifindex: a master's VIP removal goes there (gone
        // with a deleted interface; still to remove from a renamed one).
        let now = self.clock.now();
        self.feed(now, link_input(link, None, Input::InterfaceDown))
            .await;
        self.table.update_link(link, |l| l.index = ABSENT);
        for (socket, _) in self.io.sockets_of(link) {
            self.io.replace_socket(socket, None);
        }
    }

    async fn link_appeared(&mut self, link: LinkId, name: &str, info: LinkInfo) {
        let addresses = match self.io.netlink.addresses(info.index).await {
            Ok(addresses) => addresses,
            Err(e) => {
                warn!(interface = %name, error = %e, "interface addresses not read; the re-read will retry");
                return;
            }
        };
        info!(
            interface = %name,
            ifindex = info.index,
            up = info.up,
            "interface there: following it"
        );
        let link_local = any_link_local(&addresses);
        let primary_v4 = crate::net::netlink::primary_ipv4_of(&addresses);
        let mac = info.mac.unwrap_or_default();
        self.table.update_link(link, |l| {
            l.index = info.index;
            l.mac = mac;
            l.primary_v4 = primary_v4;
            l.link_local = link_local;
        });
        self.reopen_sockets(link, name, info.index);
        let now = self.clock.now();
        // Sources first: while the link state is not fed the instances stay in FAULT, so the new
        // source never shows as a transition of its own.
        for id in self.table.on_link_id(link) {
            self.follow_source(id, now, &addresses).await;
        }
        self.link_state(link, info.index, info.up).await;
    }

    /// Opens `link`'s sockets on interface `ifindex`, each sending from the interface's source now.
    fn reopen_sockets(&mut self, link: LinkId, name: &str, ifindex: u32) {
        let Some(info) = self.table.link(link).cloned() else {
            return;
        };
        for (socket, family) in self.io.sockets_of(link) {
            let source = match family {
                Family::Ipv4 => info.primary_v4.map(IpAddr::V4),
                Family::Ipv6 => info.link_local.map(IpAddr::V6),
            };
            let source = source.unwrap_or(placeholder(family));
            match open_socket(name, ifindex, source) {
                Ok(opened) => self.io.replace_socket(socket, Some(opened)),
                Err(e) => {
                    error!(interface = %name, error = %e, "VRRP socket not opened");
                    self.io.replace_socket(socket, None);
                }
            }
        }
    }
}

/// The interface's own link-local address, tentative or not (the NA source once usable).
fn any_link_local(addresses: &[InterfaceAddress]) -> Option<std::net::Ipv6Addr> {
    addresses
        .iter()
        .filter(|a| !a.is_keepvip())
        .find_map(|a| match a.address {
            IpAddr::V6(v6) if v6.is_unicast_link_local() => Some(v6),
            _ => None,
        })
}
