//! Source addresses: an instance whose primary address (the advert source, read once at startup) is no
//! longer usable on its interface goes to FAULT, like on link down, and leaves it when the address is
//! back. Without this a master that lost its address keeps its VIPs while its adverts fail and the
//! backups take over: the VIPs would be on two hosts.
//!
//! Events come from the address subscription (`tasks::spawn_monitor`) and from a periodic
//! re-read (`tasks::spawn_address_resync`) that covers events a netlink overrun lost.
//!
//! Renumbering (a different primary address appears) is not followed: the router keeps the address it
//! was built with, so the instance stays in FAULT and a warning says a restart is needed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use tracing::{info, warn};
use vrrp_core::Input;

use super::event_loop::Daemon;
use crate::net::netlink::{AddressEvent, InterfaceAddress};

/// When the last address event per interface was handled, so an older periodic snapshot (read before
/// that event but queued after it) cannot undo it.
#[derive(Debug, Default)]
pub struct SourceWatch {
    last_event: HashMap<u32, Instant>,
}

impl SourceWatch {
    fn saw_event(&mut self, ifindex: u32) {
        self.last_event.insert(ifindex, Instant::now());
    }

    fn snapshot_is_current(&self, ifindex: u32, read_at: Instant) -> bool {
        self.last_event.get(&ifindex).is_none_or(|&at| at < read_at)
    }
}

/// Whether `address` can carry adverts from `source`: the same address, the operator's (not a keepvip
/// VIP), and usable (IPv6: DAD done).
fn is_usable_source(address: &InterfaceAddress, source: IpAddr) -> bool {
    address.address == source && !address.is_keepvip() && address.is_usable()
}

impl Daemon {
    pub(super) async fn handle_address(&mut self, event: AddressEvent) {
        let address = event.address();
        if address.is_keepvip() {
            // Our own VIPs come and go with every transition; they are never a source.
            return;
        }
        self.sources.saw_event(address.index);
        let added = matches!(event, AddressEvent::Added(_));
        let now = self.clock.now();
        for index in 0..self.instances.len() {
            let instance = &self.instances[index];
            if instance.link.index != address.index {
                continue;
            }
            let source = instance.primary_address();
            if address.address == source {
                let usable = added && is_usable_source(address, source);
                self.set_source_usable(index, now, usable).await;
            } else if added
                && instance.source_lost
                && address.is_usable()
                && !address.is_secondary()
                && address.address.is_ipv4() == source.is_ipv4()
                && is_link_local(address.address) == is_link_local(source)
            {
                warn!(
                    instance = %instance.config.name,
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
        read_at: Instant,
        addresses: Vec<InterfaceAddress>,
    ) {
        if !self.sources.snapshot_is_current(ifindex, read_at) {
            return;
        }
        let now = self.clock.now();
        for index in 0..self.instances.len() {
            let instance = &self.instances[index];
            if instance.link.index != ifindex {
                continue;
            }
            let source = instance.primary_address();
            let usable = addresses.iter().any(|a| is_usable_source(a, source));
            self.set_source_usable(index, now, usable).await;
        }
    }

    async fn set_source_usable(&mut self, index: usize, now: vrrp_core::Instant, usable: bool) {
        let instance = &mut self.instances[index];
        if instance.source_lost != usable {
            return;
        }
        instance.source_lost = !usable;
        let (name, source) = (instance.config.name.clone(), instance.primary_address());
        if usable {
            info!(instance = %name, %source, "source address usable again");
            self.feed(index, now, Input::SourceAddressRestored).await;
        } else {
            warn!(instance = %name, %source, "source address gone from the interface: FAULT");
            self.feed(index, now, Input::SourceAddressLost).await;
        }
    }
}

fn is_link_local(address: IpAddr) -> bool {
    matches!(address, IpAddr::V6(v6) if v6.is_unicast_link_local())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::SourceWatch;

    #[test]
    fn a_snapshot_read_before_the_last_event_is_not_current() {
        let mut watch = SourceWatch::default();
        let read_at = Instant::now();
        assert!(watch.snapshot_is_current(3, read_at), "no event yet");
        std::thread::sleep(Duration::from_millis(2));
        watch.saw_event(3);
        assert!(!watch.snapshot_is_current(3, read_at));
        assert!(watch.snapshot_is_current(4, read_at), "per interface");
        std::thread::sleep(Duration::from_millis(2));
        assert!(watch.snapshot_is_current(3, Instant::now()));
    }
}
