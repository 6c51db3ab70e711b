//! VIP changes run on a worker task, in the order the core asked for them, so a slow netlink answer (RTNL
//! held by a routing daemon loading a table, container churn) never holds up adverts. Only addresses
//! keepvip installed are ever removed (see `net::netlink`). An instance's virtual routes and rules go
//! through the same queue, so they never overtake its VIPs (`routes.rs`).
//!
//! A master that must not accept traffic to its VIPs (`accept_filter`) has them in the drop sets before
//! the addresses are added and after they are removed, so no packet reaches a VIP in between.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};
use vrrp_core::InstanceId;

use super::accept_filter::AcceptFilter;
use super::event::Event;
use super::routes::{self, RouteSet};
use crate::net::Netlink;
use crate::net::netlink::Vip;

pub enum VipCommand {
    Add {
        instance: String,
        ifindex: u32,
        vips: Vec<Vip>,
        /// Accept_Mode False on a non-owner: traffic to these VIPs is dropped while they are installed.
        drop_traffic: bool,
        /// Told when the addresses are in place, so the announcer never announces an absent VIP.
        installed: oneshot::Sender<()>,
        /// The instance and when its core decided to take over, for the takeover duration.
        takeover: Option<(InstanceId, Instant)>,
        /// A non-owner taking over: copies of its VIPs that keepvip did not install are replaced by
        /// its own, so they leave with it (`Netlink::remove_unmanaged_copies`).
        adopt: bool,
    },
    Remove {
        instance: String,
        ifindex: u32,
        addresses: Vec<IpAddr>,
    },
    /// A master's VIPs checked against the interface, in queue order (after any `Add` or `Remove`
    /// queued before it): the missing ones are added again and told to the loop to be announced.
    Restore {
        id: InstanceId,
        instance: String,
        ifindex: u32,
        vips: Vec<Vip>,
    },
    /// Copies of `vips` that keepvip did not install are removed; a master (`reinstall`) adds its own
    /// in their place.
    Adopt {
        instance: String,
        ifindex: u32,
        vips: Vec<Vip>,
        reinstall: bool,
    },
    /// Queued right after the instance's `Add`.
    AddRoutes { instance: String, set: RouteSet },
    /// Queued right before the instance's `Remove`.
    RemoveRoutes { instance: String, set: RouteSet },
}

pub struct VipWorker {
    commands: mpsc::UnboundedSender<VipCommand>,
    task: JoinHandle<AcceptFilter>,
}

impl VipWorker {
    /// `events`: where a finished takeover is told to the loop.
    pub fn spawn(
        netlink: Arc<Netlink>,
        mut filter: AcceptFilter,
        events: mpsc::Sender<Event>,
    ) -> VipWorker {
        let (commands, mut inbox) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Some(command) = inbox.recv().await {
                execute(&netlink, &mut filter, &events, command).await;
            }
            filter
        });
        VipWorker { commands, task }
    }

    /// Queues a change. The queue is unbounded but only grows with state transitions.
    pub fn send(&self, command: VipCommand) {
        if self.commands.send(command).is_err() {
            error!("VIP worker is gone; VIP change lost");
        }
    }

    /// Finishes what is queued (at most `limit`), then removes keepvip's nf_tables table, for shutdown.
    pub async fn drain(self, limit: Duration) {
        drop(self.commands);
        match tokio::time::timeout(limit, self.task).await {
            Ok(Ok(filter)) => filter.remove_table().await,
            Ok(Err(e)) => error!(error = %e, "VIP worker failed"),
            Err(_) => error!(
                limit_ms = limit.as_millis() as u64,
                "VIP removal did not finish in time"
            ),
        }
    }
}

async fn execute(
    netlink: &Netlink,
    filter: &mut AcceptFilter,
    events: &mpsc::Sender<Event>,
    command: VipCommand,
) {
    match command {
        VipCommand::Add {
            instance,
            ifindex,
            vips,
            drop_traffic,
            installed,
            takeover,
            adopt,
        } => {
            if drop_traffic {
                let addresses = vips.iter().map(|vip| vip.address).collect();
                filter.drop_for(&instance, addresses).await;
            }
            let added = add_vips(netlink, &instance, ifindex, &vips).await;
            // The add is the only round trip before the announcement: a VIP on the interface
            // already, keepvip's or not, answers ARP and ND.
            let _ = installed.send(());
            if adopt && added.len() < vips.len() {
                adopt_refused(netlink, &instance, ifindex, &vips, &added).await;
            }
            // Never waits: at shutdown the loop drains this worker and no longer reads events.
            if let Some((id, decided)) = takeover {
                let took = decided.elapsed();
                let _ = events.try_send(Event::TakeoverDone { id, took });
            }
        }
        VipCommand::Remove {
            instance,
            ifindex,
            addresses,
        } => {
            match netlink.remove_vips(ifindex, &addresses).await {
                Ok(_) => {}
                // A deleted interface takes its addresses with it.
                Err(e) if e.errno() == Some(libc::ENODEV) => {
                    info!(%instance, ifindex, "interface gone: its VIPs went with it")
                }
                Err(e) => error!(%instance, error = %e, "VIPs not removed"),
            }
            filter.stop_dropping_for(&instance, &addresses).await;
        }
        VipCommand::Restore {
            id,
            instance,
            ifindex,
            vips,
        } => restore_vips(netlink, events, id, &instance, ifindex, vips).await,
        VipCommand::Adopt {
            instance,
            ifindex,
            vips,
            reinstall,
        } => {
            let removed = adopt_copies(netlink, &instance, ifindex, &vips).await;
            if reinstall && !removed.is_empty() {
                let vips: Vec<Vip> = vips
                    .into_iter()
                    .filter(|vip| removed.contains(&vip.address))
                    .collect();
                add_vips(netlink, &instance, ifindex, &vips).await;
            }
        }
        VipCommand::AddRoutes { instance, set } => routes::install(netlink, &instance, &set).await,
        VipCommand::RemoveRoutes { instance, set } => {
            routes::remove(netlink, &instance, &set).await
        }
    }
}

/// The VIPs of `vips` not in `added` (the exclusive add found them there already: someone else's
/// copies) are replaced by keepvip's own, so they leave with this master.
async fn adopt_refused(
    netlink: &Netlink,
    instance: &str,
    ifindex: u32,
    vips: &[Vip],
    added: &[IpAddr],
) {
    let refused: Vec<Vip> = vips
        .iter()
        .filter(|vip| !added.contains(&vip.address))
        .cloned()
        .collect();
    let removed = adopt_copies(netlink, instance, ifindex, &refused).await;
    let again: Vec<Vip> = refused
        .into_iter()
        .filter(|vip| removed.contains(&vip.address))
        .collect();
    if !again.is_empty() {
        add_vips(netlink, instance, ifindex, &again).await;
    }
}

/// Copies of `vips` someone else configured are removed (a master adds its own in their place, so
/// they leave with it); returns the addresses removed.
async fn adopt_copies(
    netlink: &Netlink,
    instance: &str,
    ifindex: u32,
    vips: &[Vip],
) -> Vec<IpAddr> {
    let addresses: Vec<IpAddr> = vips.iter().map(|vip| vip.address).collect();
    match netlink.remove_unmanaged_copies(ifindex, &addresses).await {
        Ok(removed) => {
            if !removed.is_empty() {
                warn!(
                    event = "vip_adopted",
                    %instance,
                    vips = ?removed,
                    "VIPs configured outside keepvip removed (a master installs its own instead)"
                );
            }
            removed
        }
        Err(e) => {
            error!(%instance, error = %e, "VIP copies not checked");
            Vec::new()
        }
    }
}

/// The VIPs of `vips` that are not on `ifindex` now, added again; those added are told to the loop.
async fn restore_vips(
    netlink: &Netlink,
    events: &mpsc::Sender<Event>,
    id: InstanceId,
    instance: &str,
    ifindex: u32,
    vips: Vec<Vip>,
) {
    let present: Vec<IpAddr> = match netlink.addresses(ifindex).await {
        Ok(addresses) => addresses.into_iter().map(|a| a.address).collect(),
        Err(e) => {
            error!(%instance, error = %e, "VIPs not checked");
            return;
        }
    };
    let missing: Vec<Vip> = vips
        .into_iter()
        .filter(|vip| !present.contains(&vip.address))
        .collect();
    if missing.is_empty() {
        return;
    }
    let added = add_vips(netlink, instance, ifindex, &missing).await;
    if !added.is_empty() {
        // Never waits: at shutdown the loop drains this worker and no longer reads events.
        let _ = events.try_send(Event::VipsRestored {
            id,
            addresses: added,
        });
    }
}

/// Adds `vips`, logging each refusal; returns the addresses keepvip installed.
async fn add_vips(netlink: &Netlink, instance: &str, ifindex: u32, vips: &[Vip]) -> Vec<IpAddr> {
    let outcomes = match netlink.add_vips(ifindex, vips).await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            error!(%instance, error = %e, "VIPs not added");
            return Vec::new();
        }
    };
    let mut added = Vec::with_capacity(vips.len());
    for (vip, outcome) in vips.iter().zip(outcomes) {
        match outcome {
            Ok(true) => added.push(vip.address),
            Ok(false) => info!(
                %instance,
                vip = %vip.address,
                "address already configured outside keepvip (an owner's own address?): left as it is"
            ),
            // The interface went away meanwhile (its deletion's RTM_DELADDR came first).
            Err(e) if e.errno() == Some(libc::ENODEV) => {
                info!(%instance, vip = %vip.address, "interface gone: VIP not added")
            }
            Err(e) => error!(
                event = "vip_refused",
                %instance,
                vip = %vip.address,
                error = %e,
                "VIP not added: the kernel refused it (checked again every few seconds while master)"
            ),
        }
    }
    added
}
