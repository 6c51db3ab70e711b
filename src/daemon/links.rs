//! Link state: down means FAULT, up means Backup again; IPv6 instances wait for their link-local address
//! to leave DAD first (design.md §3). Events come from netlink, and from a periodic re-read (`tasks::spawn_link_resync`) that
//! covers events a netlink overrun lost.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use tokio::task::JoinHandle;

use tracing::{info, warn};
use vrrp_core::Input;

use super::event_loop::{Daemon, Event};
use crate::config::Family;
use crate::net::netlink::{LinkEvent, NetlinkError};

impl Daemon {
    pub(super) async fn handle_link(&mut self, event: LinkEvent) {
        let (ifindex, up) = match &event {
            LinkEvent::Changed(info) => (info.index, info.up),
            LinkEvent::Removed { index, .. } => (*index, false),
        };
        let Some(was_up) = self.links_up.get(&ifindex).copied() else {
            return;
        };
        if was_up == up {
            return;
        }
        self.links_up.insert(ifindex, up);
        info!(ifindex, up, "link state changed");
        let now = self.clock.now();
        let mut waits_for_dad = false;
        for index in 0..self.instances.len() {
            let instance = &self.instances[index];
            if instance.link.index != ifindex {
                continue;
            }
            if !up {
                self.feed(index, now, Input::InterfaceDown).await;
            } else if instance.family() == Family::Ipv6 {
                // IPv6 sends fail while the link-local address is tentative: wait for DAD first.
                waits_for_dad = true;
            } else {
                self.feed(index, now, Input::InterfaceUp).await;
            }
        }
        // Whatever happens to the link, an earlier DAD wait is stale now.
        let generation = self.dad_waits.restart(ifindex);
        if waits_for_dad {
            let netlink = self.netlink.clone();
            let events = self.events.clone();
            let task = tokio::spawn(async move {
                // DAD takes ~2 s; keep waiting (a slow link is not a reason to stay in FAULT for ever).
                let timeout = std::time::Duration::from_secs(30);
                loop {
                    match netlink.wait_ipv6_link_local_ready(ifindex, timeout).await {
                        Ok(link_local) => {
                            let ready = Event::Ipv6Ready {
                                ifindex,
                                link_local,
                                generation,
                            };
                            let _ = events.send(ready).await;
                            return;
                        }
                        Err(NetlinkError::Timeout { .. }) => {
                            warn!(
                                ifindex,
                                "IPv6 link-local address still not ready; waiting on"
                            )
                        }
                        Err(e) => {
                            warn!(ifindex, error = %e, "IPv6 link-local address not usable");
                            return;
                        }
                    }
                }
            });
            self.dad_waits.track(ifindex, task);
        }
    }

    pub(super) async fn handle_ipv6_ready(
        &mut self,
        ifindex: u32,
        link_local: Ipv6Addr,
        generation: u64,
    ) {
        if self.links_up.get(&ifindex) != Some(&true)
            || !self.dad_waits.is_current(ifindex, generation)
        {
            return;
        }
        let now = self.clock.now();
        for index in 0..self.instances.len() {
            let instance = &mut self.instances[index];
            if instance.link.index != ifindex || instance.family() != Family::Ipv6 {
                continue;
            }
            if instance.primary_address() != IpAddr::V6(link_local) {
                warn!(
                    instance = %instance.config.name,
                    old = %instance.primary_address(),
                    new = %link_local,
                    "link-local address changed; adverts keep the old source until restart"
                );
            }
            instance.link.link_local = Some(link_local);
            self.feed(index, now, Input::InterfaceUp).await;
        }
    }
}

/// The one DAD wait per interface that may still report: a link flap aborts the old wait, and a report
/// from an older generation that was already queued is ignored.
#[derive(Default)]
pub struct DadWaits {
    generations: HashMap<u32, u64>,
    tasks: HashMap<u32, JoinHandle<()>>,
}

impl DadWaits {
    /// Aborts the wait for `ifindex`, if any, and returns the generation of the next one.
    pub fn restart(&mut self, ifindex: u32) -> u64 {
        if let Some(task) = self.tasks.remove(&ifindex) {
            task.abort();
        }
        let generation = self.generations.entry(ifindex).or_default();
        *generation += 1;
        *generation
    }

    pub fn track(&mut self, ifindex: u32, task: JoinHandle<()>) {
        self.tasks.insert(ifindex, task);
    }

    pub fn is_current(&self, ifindex: u32, generation: u64) -> bool {
        self.generations.get(&ifindex) == Some(&generation)
    }
}

#[cfg(test)]
mod tests {
    use super::DadWaits;

    #[test]
    fn a_dad_report_from_before_the_last_link_change_is_not_current() {
        let mut waits = DadWaits::default();
        let first = waits.restart(7);
        assert!(waits.is_current(7, first));
        let second = waits.restart(7);
        assert!(
            !waits.is_current(7, first),
            "a stale wait must not bring the link up"
        );
        assert!(waits.is_current(7, second));
        assert!(
            !waits.is_current(8, second),
            "generations are per interface"
        );
    }
}
