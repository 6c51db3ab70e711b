//! Link state: down means FAULT, up means Backup again; IPv6 instances wait for their link-local address
//! to leave DAD first (design.md §3). Events come from netlink, and from a periodic re-read (`tasks::spawn_link_resync`) that
//! covers events a netlink overrun lost.

use std::net::{IpAddr, Ipv6Addr};

use tracing::{info, warn};
use vrrp_core::Input;

use super::event_loop::{Daemon, Event};
use crate::config::Family;
use crate::net::netlink::LinkEvent;

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
        if waits_for_dad {
            let netlink = self.netlink.clone();
            let events = self.events.clone();
            tokio::spawn(async move {
                let timeout = std::time::Duration::from_secs(30);
                match netlink.wait_ipv6_link_local_ready(ifindex, timeout).await {
                    Ok(link_local) => {
                        let _ = events
                            .send(Event::Ipv6Ready {
                                ifindex,
                                link_local,
                            })
                            .await;
                    }
                    Err(e) => warn!(ifindex, error = %e, "IPv6 link-local address not ready"),
                }
            });
        }
    }

    pub(super) async fn handle_ipv6_ready(&mut self, ifindex: u32, link_local: Ipv6Addr) {
        if self.links_up.get(&ifindex) != Some(&true) {
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
