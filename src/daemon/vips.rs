//! VIP changes run on a worker task, in the order the core asked for them, so a slow netlink answer (RTNL
//! held by a routing daemon loading a table, container churn) never holds up adverts. Only addresses
//! keepvip installed are ever removed (see `net::netlink`). An instance's virtual routes and rules go
//! through the same queue, so they never overtake its VIPs (`routes.rs`).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{error, info};

use super::routes::{self, RouteSet};
use crate::net::Netlink;
use crate::net::netlink::Vip;

pub enum VipCommand {
    Add {
        instance: String,
        ifindex: u32,
        vips: Vec<Vip>,
        /// Told when the addresses are in place, so the announcer never announces an absent VIP.
        installed: oneshot::Sender<()>,
    },
    Remove {
        instance: String,
        ifindex: u32,
        addresses: Vec<IpAddr>,
    },
    /// Queued right after the instance's `Add`.
    AddRoutes { instance: String, set: RouteSet },
    /// Queued right before the instance's `Remove`.
    RemoveRoutes { instance: String, set: RouteSet },
}

pub struct VipWorker {
    commands: mpsc::UnboundedSender<VipCommand>,
    task: JoinHandle<()>,
}

impl VipWorker {
    pub fn spawn(netlink: Arc<Netlink>) -> VipWorker {
        let (commands, mut inbox) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Some(command) = inbox.recv().await {
                execute(&netlink, command).await;
            }
        });
        VipWorker { commands, task }
    }

    /// Queues a change. The queue is unbounded but only grows with state transitions.
    pub fn send(&self, command: VipCommand) {
        if self.commands.send(command).is_err() {
            error!("VIP worker is gone; VIP change lost");
        }
    }

    /// Finishes what is queued (at most `limit`), for shutdown.
    pub async fn drain(self, limit: Duration) {
        drop(self.commands);
        if tokio::time::timeout(limit, self.task).await.is_err() {
            error!(
                limit_ms = limit.as_millis() as u64,
                "VIP removal did not finish in time"
            );
        }
    }
}

async fn execute(netlink: &Netlink, command: VipCommand) {
    match command {
        VipCommand::Add {
            instance,
            ifindex,
            vips,
            installed,
        } => {
            for vip in &vips {
                match netlink.add_vip(ifindex, vip).await {
                    Ok(true) => {}
                    Ok(false) => info!(
                        %instance,
                        vip = %vip.address,
                        "address already configured outside keepvip (an owner's own address?): left as it is"
                    ),
                    Err(e) => error!(%instance, vip = %vip.address, error = %e, "VIP not added"),
                }
            }
            let _ = installed.send(());
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
        }
        VipCommand::AddRoutes { instance, set } => routes::install(netlink, &instance, &set).await,
        VipCommand::RemoveRoutes { instance, set } => {
            routes::remove(netlink, &instance, &set).await
        }
    }
}
