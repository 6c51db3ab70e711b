//! The tasks that feed the protocol loop: the netlink monitors and the periodic re-reads (the loop
//! reads the raw sockets itself, `receive.rs`). They only read and forward; every decision is the
//! loop's (and the core's).

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::warn;

use super::event::Event;
use crate::net::netlink::{AddressEvent, AddressEvents, LinkEvent, LinkEvents, NetlinkError};

/// The feeder tasks. Each returns its name; any of them ending (or panicking) is fatal for the daemon,
/// which then shuts down cleanly rather than run blind to link and address changes.
pub type Feeders = JoinSet<&'static str>;

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
