//! The one home of IPv6 link-local readiness. IPv6 adverts leave from the interface's link-local
//! address, and sends fail while it is tentative (DAD, about 2 s after link up; docs/linux.md §IPv6 DAD). So:
//! startup waits for it on a link that is up; after a link comes back, IPv6 instances wait for it
//! (one wait per interface, see [`DadWaits`]) before they are told the link is up; and an address
//! serves as an advert source only once it is usable.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::warn;

use super::event::Event;
use crate::net::Netlink;
use crate::net::netlink::{InterfaceAddress, NetlinkError};

/// How long startup waits for a link-local address to leave DAD (the kernel needs about 2 s).
const STARTUP_WAIT: Duration = Duration::from_secs(10);

/// After a link flap, how long one wait lasts before it logs and waits on.
const FLAP_WAIT: Duration = Duration::from_secs(30);

/// The interface's link-local address at startup: waited for until usable if the link is up, read as
/// it is (maybe absent) if the link is down.
pub async fn at_startup(
    netlink: &Netlink,
    ifindex: u32,
    link_up: bool,
) -> Result<Option<Ipv6Addr>, NetlinkError> {
    if link_up {
        return netlink
            .wait_ipv6_link_local_ready(ifindex, STARTUP_WAIT)
            .await
            .map(Some);
    }
    let address = netlink.ipv6_link_local(ifindex).await?;
    Ok(address.and_then(|a| match a.address {
        IpAddr::V6(v6) => Some(v6),
        IpAddr::V4(_) => None,
    }))
}

/// Whether `address` can carry adverts from `source`: the same address, the operator's (not a keepvip
/// VIP), and usable (IPv6: DAD done).
pub fn is_usable_source(address: &InterfaceAddress, source: IpAddr) -> bool {
    address.address == source && !address.is_keepvip() && address.is_usable()
}

/// The one DAD wait per interface that may still report: a link change aborts the old wait, and a
/// report from an older generation that was already queued is ignored.
#[derive(Default)]
pub struct DadWaits {
    generations: HashMap<u32, u64>,
    tasks: HashMap<u32, JoinHandle<()>>,
}

impl DadWaits {
    /// Aborts the wait for `ifindex`, if any; a report it already queued is stale from now on.
    pub fn cancel(&mut self, ifindex: u32) -> u64 {
        if let Some(task) = self.tasks.remove(&ifindex) {
            task.abort();
        }
        let generation = self.generations.entry(ifindex).or_default();
        *generation += 1;
        *generation
    }

    /// Whether a wait for `ifindex` is under way.
    pub fn is_waiting(&self, ifindex: u32) -> bool {
        self.tasks
            .get(&ifindex)
            .is_some_and(|task| !task.is_finished())
    }

    /// Starts waiting for `ifindex`'s link-local address; `Event::Ipv6Ready` reports it.
    pub fn start(
        &mut self,
        netlink: std::sync::Arc<Netlink>,
        ifindex: u32,
        events: mpsc::Sender<Event>,
    ) {
        let generation = self.cancel(ifindex);
        let task = tokio::spawn(async move {
            // Keep waiting: a slow link is not a reason to stay in FAULT for ever.
            loop {
                match netlink.wait_ipv6_link_local_ready(ifindex, FLAP_WAIT).await {
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
        let first = waits.cancel(7);
        assert!(waits.is_current(7, first));
        let second = waits.cancel(7);
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
