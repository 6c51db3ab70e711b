//! Interfaces as the kernel reports them, turned into core inputs: link down is
//! `InterfaceDown` (FAULT), link up is `InterfaceUp` (IPv6 instances once their link-local address
//! has left DAD, see `link_local`); an instance's source address gone or unusable is
//! `SourceAddressLost`, back is `SourceAddressRestored`. Events come from the netlink subscriptions
//! and from a periodic re-read (`tasks::spawn_periodic`) that covers what a netlink overrun lost. The
//! core keeps the state (it ignores an input that changes nothing); `watch::InterfaceWatch` keeps only
//! what the kernel side needs: the DAD waits, and when each interface's last address event was handled.
//!
//! Renumbering (a different primary address appears) is not followed: the router keeps the address it
//! was built with, so the instance stays in FAULT and a warning says a restart is needed.

use std::net::{IpAddr, Ipv6Addr};

use tracing::{info, warn};
use vrrp_core::{Input, InstanceId, LinkId, NodeInput};
use vrrp_wire::Family;

use super::event_loop::Daemon;
use super::link_local::is_usable_source;
use crate::net::netlink::{AddressEvent, InterfaceAddress, LinkEvent, is_ipv6_link_local};

impl Daemon {
    pub(super) async fn handle_link(&mut self, event: LinkEvent) {
        let (ifindex, up, name) = match &event {
            LinkEvent::Changed(info) => (info.index, info.up, info.name.as_str()),
            LinkEvent::Removed { index, name } => (*index, false, name.as_str()),
        };
        // A tracked interface (track_interface) may be any interface, ours or not.
        let name = name.to_owned();
        self.track_interface(&name, up).await;
        let instances = self.table.on_link(ifindex);
        if instances.is_empty() {
            return;
        }
        let link = LinkId(ifindex);
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
        for id in self.table.on_link(ifindex) {
            let Some(source) = self.node.router(id).map(|r| r.config().primary_address) else {
                continue;
            };
            let Some(info) = self.table.get_mut(id) else {
                continue;
            };
            if info.config.family() != crate::config::Family::Ipv6 {
                continue;
            }
            if source != IpAddr::V6(link_local) {
                warn!(
                    instance = %info.name(),
                    old = %source,
                    new = %link_local,
                    "link-local address changed; adverts keep the old source until restart"
                );
            }
            info.link.link_local = Some(link_local);
        }
        let input = link_input(LinkId(ifindex), Some(Family::Ipv6), Input::InterfaceUp);
        self.feed(self.clock.now(), input).await;
    }

    pub(super) async fn handle_address(&mut self, event: AddressEvent) {
        let address = event.address();
        if address.is_keepvip() {
            // Our own VIPs come and go with every transition; they are never a source.
            return;
        }
        let now = self.clock.now();
        self.interfaces.saw_address_event(address.index, now);
        let added = matches!(event, AddressEvent::Added(_));
        for id in self.table.on_link(address.index) {
            let Some(router) = self.node.router(id) else {
                continue;
            };
            let source = router.config().primary_address;
            if address.address == source {
                let usable = added && is_usable_source(address, source);
                self.set_source_usable(id, now, usable).await;
            } else if added && !router.source_present() && is_replacement(address, source) {
                warn!(
                    instance = %self.table.get(id).map_or("?", |i| i.name()),
                    old = %source,
                    new = %address.address,
                    "a different source address appeared; keepvip does not follow renumbering: \
                     the instance stays in FAULT until the old address is back or keepvip restarts"
                );
            }
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
            let Some(source) = self.node.router(id).map(|r| r.config().primary_address) else {
                continue;
            };
            let usable = addresses.iter().any(|a| is_usable_source(a, source));
            self.set_source_usable(id, now, usable).await;
        }
    }

    async fn set_source_usable(&mut self, id: InstanceId, now: vrrp_core::Instant, usable: bool) {
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

fn link_input(link: LinkId, family: Option<Family>, input: Input) -> NodeInput<'static> {
    NodeInput::Link {
        link,
        family,
        input,
    }
}

/// A usable primary address of the source's kind (family, link-local or not) other than the source.
fn is_replacement(address: &InterfaceAddress, source: IpAddr) -> bool {
    address.is_usable()
        && !address.is_secondary()
        && address.address.is_ipv4() == source.is_ipv4()
        && is_ipv6_link_local(address.address) == is_ipv6_link_local(source)
}
