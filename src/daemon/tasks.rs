//! The tasks that feed the protocol loop: one receiver per raw socket, the netlink monitors, and the
//! periodic re-reads. They only read and forward; every decision is the loop's (and the core's).

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::warn;
use vrrp_wire::MAX_MESSAGE_LEN;

use super::event::{Event, SocketId};
use crate::net::VrrpSocket;
use crate::net::netlink::{AddressEvent, AddressEvents, LinkEvent, LinkEvents, NetlinkError};

/// The feeder tasks. Each returns its name; any of them ending (or panicking) is fatal for the daemon,
/// which then shuts down cleanly rather than run deaf (a dead receiver would make this node take over
/// while the real master is alive).
pub type Feeders = JoinSet<&'static str>;

/// What a receive task watches: its slot's socket as it is now (`None` while the interface does
/// not exist), replaced when the interface is re-created or renumbered.
pub type SocketWatch = watch::Receiver<Option<Arc<VrrpSocket>>>;

/// One task per socket slot: read, copy out, hand to the loop; switch to the new socket when the slot's
/// socket is replaced. A datagram longer than any advert is cut to one byte past the limit (enough for
/// the core to discard it as too long). Errors are logged (rate-limited) and reading goes on.
pub fn spawn_receivers(
    watches: Vec<SocketWatch>,
    events: &mpsc::Sender<Event>,
    feeders: &mut Feeders,
) {
    spawn_receivers_from(0, watches, events, feeders);
}

/// [`spawn_receivers`] for the slots from `first` on (slots a reload added).
pub fn spawn_receivers_from(
    first: usize,
    watches: Vec<SocketWatch>,
    events: &mpsc::Sender<Event>,
    feeders: &mut Feeders,
) {
    for (index, mut current) in watches.into_iter().enumerate().skip(first) {
        let events = events.clone();
        feeders.spawn(async move {
            let mut buf = vec![0u8; 65_536];
            let mut failures: u64 = 0;
            loop {
                let Some(socket) = current.borrow_and_update().clone() else {
                    if current.changed().await.is_err() {
                        return "receiver";
                    }
                    continue;
                };
                let received = tokio::select! {
                    changed = current.changed() => match changed {
                        Ok(()) => continue,
                        Err(_) => return "receiver",
                    },
                    received = socket.recv(&mut buf) => received,
                };
                match received {
                    Ok(received) => {
                        let kept = received.payload.start
                            ..received.payload.end.min(received.payload.start + MAX_MESSAGE_LEN + 1);
                        let Some(bytes) = buf.get(kept) else {
                            continue;
                        };
                        let event = Event::Packet {
                            socket: SocketId(index),
                            bytes: bytes.to_vec(),
                            src: received.src,
                            dst: received.dst,
                            ttl: received.ttl,
                            kernel_drops: received.kernel_drops,
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

/// Every `every` (the first time one period from now), runs `read` for each of `items` as they are
/// then (interface names; a reload changes them) and forwards what it returns; `None` (a failed read) is skipped. A task of its
/// own, so a slow netlink answer (RTNL held elsewhere) never delays the protocol. Late ticks are not
/// bunched up.
pub fn spawn_periodic<T, F, Fut>(
    name: &'static str,
    items: watch::Receiver<Vec<T>>,
    every: std::time::Duration,
    read: F,
    events: mpsc::Sender<Event>,
    feeders: &mut Feeders,
) where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> Fut + Send + 'static,
    Fut: Future<Output = Option<Event>> + Send,
{
    feeders.spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate; startup has just read everything.
        ticks.tick().await;
        loop {
            ticks.tick().await;
            // The list as it is now (a reload may have changed it).
            let current = items.borrow().clone();
            for item in current {
                let Some(event) = read(item).await else {
                    continue;
                };
                if events.send(event).await.is_err() {
                    return name;
                }
            }
        }
    });
}
