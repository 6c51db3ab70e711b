//! The tasks that feed the protocol loop: one receiver per raw socket, the link and address monitors and
//! their periodic re-reads. They only read and forward; every decision is the loop's.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::event_loop::Event;
use super::setup::SocketSlot;
use crate::net::Netlink;
use crate::net::VrrpSocket;
use crate::net::netlink::{AddressEvent, AddressEvents, LinkEvent, LinkEvents, NetlinkError};

/// The feeder tasks. Each returns its name; any of them ending (or panicking) is fatal for the daemon,
/// which then shuts down cleanly rather than run deaf (a dead receiver would make this node take over
/// while the real master is alive).
pub type Feeders = JoinSet<&'static str>;

/// The largest VRRP message: 8-byte header, 255 IPv6 addresses (or IPv4 ones plus v2 auth data).
const MAX_VRRP_LEN: usize = 8 + 255 * 16;

/// One task per socket: read, copy out, hand to the loop. Errors are logged (rate-limited) and reading
/// goes on.
pub fn spawn_receivers(
    slots: Vec<SocketSlot>,
    events: &mpsc::Sender<Event>,
    feeders: &mut Feeders,
) -> Vec<Arc<VrrpSocket>> {
    let mut sockets = Vec::with_capacity(slots.len());
    for (index, slot) in slots.into_iter().enumerate() {
        let socket = Arc::new(slot.socket);
        sockets.push(socket.clone());
        let events = events.clone();
        feeders.spawn(async move {
            let mut buf = vec![0u8; 65_536];
            let mut failures: u64 = 0;
            loop {
                match socket.recv(&mut buf).await {
                    Ok(received) => {
                        let Some(bytes) = buf.get(received.payload.clone()) else {
                            continue;
                        };
                        let event = if bytes.len() > MAX_VRRP_LEN {
                            Event::Dropped { reason: "too_long" }
                        } else {
                            Event::Packet {
                            socket: index,
                            bytes: bytes.to_vec(),
                            src: received.src,
                            dst: received.dst,
                            ttl: received.ttl,
                                kernel_drops: received.kernel_drops,
                            }
                        };
                        if events.send(event).await.is_err() {
                            return "receiver";
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        if failures.is_power_of_two() {
                            warn!(interface = socket.ifname(), error = %e, failures, "receive failed");
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            }
        });
    }
    sockets
}

/// A netlink subscription whose events the loop hears about.
pub trait Subscription: Send + 'static {
    type Item: Send;
    fn next(&mut self) -> impl Future<Output = Result<Self::Item, NetlinkError>> + Send;
}

impl Subscription for LinkEvents {
    type Item = LinkEvent;
    fn next(&mut self) -> impl Future<Output = Result<LinkEvent, NetlinkError>> + Send {
        LinkEvents::next(self)
    }
}

impl Subscription for AddressEvents {
    type Item = AddressEvent;
    fn next(&mut self) -> impl Future<Output = Result<AddressEvent, NetlinkError>> + Send {
        AddressEvents::next(self)
    }
}

/// Forwards every event of `source` to the loop, wrapped by `wrap`; ends (fatally) with the subscription.
pub fn spawn_monitor<S: Subscription>(
    name: &'static str,
    mut source: S,
    wrap: fn(S::Item) -> Event,
    events: mpsc::Sender<Event>,
    feeders: &mut Feeders,
) {
    feeders.spawn(async move {
        loop {
            match source.next().await {
                Ok(item) => {
                    if events.send(wrap(item)).await.is_err() {
                        return name;
                    }
                }
                Err(e) => {
                    warn!(monitor = name, error = %e, "netlink subscription ended");
                    return name;
                }
            }
        }
    });
}

/// Ticks every `every`, the first tick one period from now; late ticks are not bunched up.
fn ticker(every: std::time::Duration) -> tokio::time::Interval {
    let start = tokio::time::Instant::now() + every;
    let mut ticks = tokio::time::interval_at(start, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks
}

/// Re-reads the state of `indexes` every `every` and forwards it as link events; the loop ignores what
/// it has already seen. A task of its own, so a slow netlink answer (RTNL held elsewhere) never delays
/// the protocol.
pub fn spawn_link_resync(
    netlink: Arc<Netlink>,
    indexes: Vec<u32>,
    every: std::time::Duration,
    events: mpsc::Sender<Event>,
    feeders: &mut Feeders,
) {
    feeders.spawn(async move {
        let mut ticks = ticker(every);
        loop {
            ticks.tick().await;
            for &index in &indexes {
                let event = match netlink.link_by_index(index).await {
                    Ok(info) => LinkEvent::Changed(info),
                    Err(NetlinkError::NoSuchLink(name)) => LinkEvent::Removed { index, name },
                    Err(e) => {
                        debug!(index, error = %e, "link resync failed");
                        continue;
                    }
                };
                if events.send(Event::Link(event)).await.is_err() {
                    return "link resync";
                }
            }
        }
    });
}

/// Re-reads the addresses of `indexes` every `every` and forwards them with the instant the read
/// started, so a lost address event cannot leave an instance's source state wrong for long.
pub fn spawn_address_resync(
    netlink: Arc<Netlink>,
    indexes: Vec<u32>,
    every: std::time::Duration,
    events: mpsc::Sender<Event>,
    feeders: &mut Feeders,
) {
    feeders.spawn(async move {
        let mut ticks = ticker(every);
        loop {
            ticks.tick().await;
            for &ifindex in &indexes {
                let read_at = std::time::Instant::now();
                let addresses = match netlink.addresses(ifindex).await {
                    Ok(addresses) => addresses,
                    Err(e) => {
                        debug!(ifindex, error = %e, "address resync failed");
                        continue;
                    }
                };
                let snapshot = Event::Addresses {
                    ifindex,
                    read_at,
                    addresses,
                };
                if events.send(snapshot).await.is_err() {
                    return "address resync";
                }
            }
        }
    });
}
