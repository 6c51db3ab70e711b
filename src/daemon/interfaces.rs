//! Interfaces as the kernel reports them, turned into core inputs: link down is
//! `InterfaceDown` (FAULT), link up is `InterfaceUp` (IPv6 instances once their link-local address
//! has left DAD, see `link_local`). Events come from the netlink subscriptions and from a periodic
//! re-read by name (`tasks::spawn_periodic`) that covers what a netlink overrun lost. The core keeps
//! the state (it ignores an input that changes nothing); `watch::InterfaceWatch` keeps only what the
//! kernel side needs: the DAD waits, and when each interface's last address event was handled.
//!
//! Interfaces are followed by name (`links`): missing at startup, deleted, re-created with a new
//! ifindex or renamed, the instances go to FAULT while it is gone and come back when it is there.
//! Source addresses are followed too (`sources`): gone is `SourceAddressLost`, back is
//! `SourceAddressRestored`, and another usable one (a renumbered interface, a new IPv6 link-local
//! address) is `SourceAddressChanged`.

use std::net::{IpAddr, Ipv6Addr};

use tracing::info;
use vrrp_core::{Input, InstanceId, LinkId, NodeInput};
use vrrp_wire::Family;

use super::state::Daemon;
use crate::net::netlink::{AddressEvent, InterfaceAddress, LinkEvent};

impl Daemon {
    pub(super) async fn handle_link(&mut self, event: LinkEvent) {
        let (ifindex, up, name) = match &event {
            LinkEvent::Changed(info) => (info.index, info.up, info.name.as_str()),
            LinkEvent::Removed { index, name } => (*index, false, name.as_str()),
        };
        // A tracked interface (track_interface) may be any interface, ours or not.
        let name = name.to_owned();
        self.track_interface(&name, up).await;
        if let Some(link) = self.out_of_step(&event)
            && self.resync_link(link).await
        {
            return;
        }
        let Some(link) = self.table.link_of(ifindex) else {
            return;
        };
        // A MAC set after the interface appeared (the usual order when it is created): GARP/NA use it.
        if let LinkEvent::Changed(info) = &event
            && let Some(mac) = info.mac
        {
            self.table.update_link(link, |l| l.mac = mac);
        }
        self.link_state(link, ifindex, up).await;
    }

    /// `link` (interface `ifindex` now) is up or down.
    pub(super) async fn link_state(&mut self, link: LinkId, ifindex: u32, up: bool) {
        let instances = self.table.on_link(ifindex);
        let now = self.clock.now();
        if !up {
            // Whatever happens next, a DAD wait from before is stale.
            self.interfaces.dad_waits.cancel(ifindex);
            if self.any_link_up(&instances) {
                info!(ifindex, up, "link state changed");
            }
            self.feed(now, link_input(link, None, Input::InterfaceDown))
                .await;
            return;
        }
        // The kernel repeats NEWLINK for other changes, and the re-read repeats the state: act (and
        // log) only where an instance still thinks the link is down.
        let ipv4_down = self.any_link_down(&instances, Family::Ipv4);
        let waiting = self.interfaces.dad_waits.is_waiting(ifindex);
        let ipv6_must_wait = self.any_link_down(&instances, Family::Ipv6) && !waiting;
        if ipv4_down || ipv6_must_wait {
            info!(ifindex, up, "link state changed");
        }
        self.feed(
            now,
            link_input(link, Some(Family::Ipv4), Input::InterfaceUp),
        )
        .await;
        // IPv6 sends fail while the link-local address is tentative: wait for DAD first.
        if ipv6_must_wait {
            let (netlink, events) = (self.io.netlink.clone(), self.io.events.clone());
            self.interfaces.dad_waits.start(netlink, ifindex, events);
        }
    }

    pub(super) async fn handle_ipv6_ready(
        &mut self,
        ifindex: u32,
        link_local: Ipv6Addr,
        generation: u64,
    ) {
        if !self.interfaces.dad_waits.is_current(ifindex, generation) {
            return;
        }
        let Some(link) = self.table.link_of(ifindex) else {
            return;
        };
        self.table
            .update_link(link, |info| info.link_local = Some(link_local));
        let now = self.clock.now();
        for id in self.table.on_link(ifindex) {
            let Some(source) = self.node.router(id).map(|r| r.config().primary_address) else {
                continue;
            };
            if !source.is_ipv6() {
                continue;
            }
            if source == IpAddr::V6(link_local) {
                self.set_source_usable(id, now, true).await;
            } else if !self.has_explicit_source(id) {
                self.renumber(id, now, IpAddr::V6(link_local)).await;
            }
        }
        let input = link_input(link, Some(Family::Ipv6), Input::InterfaceUp);
        self.feed(now, input).await;
    }

    pub(super) async fn handle_address(&mut self, event: AddressEvent) {
        let address = event.address();
        if address.is_keepvip() {
            // Our own VIPs come and go with every transition; they are never a source. One gone from
            // a master's interface is checked (`vip_repair`).
            if matches!(event, AddressEvent::Removed(_)) {
                self.keepvip_address_removed(address.index);
            }
            return;
        }
        let now = self.clock.now();
        self.interfaces.saw_address_event(address.index, now);
        let added = matches!(event, AddressEvent::Added(_));
        if added {
            self.unmanaged_address_added(address);
        }
        // Instances whose source this is, or that have none and may take it.
        let concerned: Vec<InstanceId> = self
            .table
            .on_link(address.index)
            .into_iter()
            .filter(|&id| {
                self.node.router(id).is_some_and(|router| {
                    router.config().primary_address == address.address
                        || (added && !router.source_present())
                })
            })
            .collect();
        if concerned.is_empty() {
            return;
        }
        // The whole picture: a removed source may have a replacement already on the interface.
        let ifindex = address.index;
        let addresses = match self.io.netlink.addresses(ifindex).await {
            Ok(addresses) => addresses,
            Err(e) => {
                tracing::debug!(ifindex, error = %e, "address read failed; the re-read will catch up");
                return;
            }
        };
        for id in concerned {
            self.follow_source(id, now, &addresses).await;
        }
    }

    /// A periodic re-read of `ifindex`'s addresses, taken at `read_at`.
    pub(super) async fn handle_address_snapshot(
        &mut self,
        ifindex: u32,
        read_at: vrrp_core::Instant,
        addresses: Vec<InterfaceAddress>,
    ) {
        if !self.interfaces.snapshot_is_current(ifindex, read_at) {
            return;
        }
        let now = self.clock.now();
        for id in self.table.on_link(ifindex) {
            self.follow_source(id, now, &addresses).await;
        }
        self.check_vips_in_snapshot(ifindex, &addresses);
    }

    fn any_link_up(&self, instances: &[InstanceId]) -> bool {
        instances
            .iter()
            .filter_map(|&id| self.node.router(id))
            .any(|r| r.link_up())
    }

    /// Whether an instance of `family` among `instances` still thinks its link is down.
    fn any_link_down(&self, instances: &[InstanceId], family: Family) -> bool {
        instances
            .iter()
            .filter_map(|&id| self.node.router(id))
            .filter(|r| Family::of(r.config().primary_address) == family)
            .any(|r| !r.link_up())
    }
}

pub(super) fn link_input(link: LinkId, family: Option<Family>, input: Input) -> NodeInput<'static> {
    NodeInput::Link {
        link,
        family,
        input,
    }
}
