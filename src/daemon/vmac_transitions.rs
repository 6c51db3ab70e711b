//! A `vmac` instance's macvlan following its transitions (vmac.rs builds it): up before a new
//! master's first advert, down before a leaving master's VIPs go.

use std::net::IpAddr;
use std::sync::Arc;

use tracing::{error, info, warn};
use vrrp_core::{InstanceId, StateKind};

use super::state::Daemon;
use super::table::{ABSENT, VmacLink};
use super::vmac::{build, set_up};
use crate::net::VrrpSocket;

impl Daemon {
    /// Before the instance sends or installs anything as master: its macvlan there, on the interface
    /// as it is now, sending from the instance's source, and up. Nothing for an instance without vmac;
    /// no syscall when all that holds already (it runs before every advert).
    pub(super) async fn vmac_up(&mut self, id: InstanceId) {
        let Some(index) = self.vmac_ready(id).await else {
            return;
        };
        let netlink = self.io.netlink.clone();
        let started = std::time::Instant::now();
        let mut result = set_up(&netlink, index, true).await;
        if matches!(&result, Err(e) if e.errno() == Some(libc::ENODEV)) {
            // Deleted behind our back: build it again.
            warn!(instance = %self.instance_name(id), "vmac macvlan vanished: creating it again");
            if let Some(Some(vmac)) = self.table.vmac_mut(id) {
                vmac.index = ABSENT;
            }
            result = match self.vmac_ready(id).await {
                Some(index) => set_up(&netlink, index, true).await,
                None => return,
            };
        }
        if let Err(e) = result {
            error!(instance = %self.instance_name(id), error = %e, "vmac macvlan not brought up");
            return;
        }
        if let Some(Some(vmac)) = self.table.vmac_mut(id) {
            vmac.up = true;
            let took_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            info!(macvlan = %vmac.spec.name, took_us, "vmac macvlan up");
        }
    }

    /// The ifindex of the instance's macvlan if it still has to be brought up: built (again) when it
    /// is missing or its interface was re-created since, its advert socket reopened when the source
    /// changed (renumbering). `None` when it is up already, or cannot be had (logged).
    async fn vmac_ready(&mut self, id: InstanceId) -> Option<u32> {
        let info = self.table.get(id)?;
        info.config.vmac.as_ref()?;
        let (parent, config) = (info.link.index, info.config.clone());
        let source = self.node.router(id)?.config().primary_address;
        let netlink = self.io.netlink.clone();
        let current = info.vmac.clone();
        match current {
            Some(vmac) if vmac.spec.parent == parent && vmac.index != ABSENT => {
                if vmac.sender.source() != source {
                    self.reopen_sender(id, &vmac, source);
                }
                (!vmac.up).then_some(vmac.index)
            }
            _ if parent == ABSENT => None,
            old => {
                // An interface renamed away keeps the old macvlan: ours, so it goes first.
                if let Some(old) = old {
                    let _ = netlink.delete_macvlan(&old.spec).await;
                }
                let built = build(&config, parent, source, &netlink).await;
                let slot = self.table.vmac_mut(id)?;
                match built {
                    Ok(vmac) => {
                        *slot = vmac;
                        slot.as_ref().map(|v| v.index)
                    }
                    Err(e) => {
                        *slot = None;
                        error!(instance = %config.name, error = %e, "vmac macvlan not created: no VIPs");
                        None
                    }
                }
            }
        }
    }

    fn reopen_sender(&mut self, id: InstanceId, vmac: &VmacLink, source: IpAddr) {
        match VrrpSocket::open_sender(&vmac.spec.name, vmac.index, source) {
            Ok(sender) => {
                if let Some(Some(current)) = self.table.vmac_mut(id) {
                    current.sender = Arc::new(sender);
                }
            }
            Err(e) => {
                error!(macvlan = %vmac.spec.name, error = %e, "vmac advert socket not reopened")
            }
        }
    }

    /// Once the instance is no longer master, before its VIPs are removed: its macvlan down.
    pub(super) async fn vmac_down(&mut self, id: InstanceId) {
        let master = self
            .node
            .router(id)
            .is_some_and(|r| r.state().kind() == StateKind::Master);
        let Some(Some(vmac)) = self.table.vmac_mut(id) else {
            return;
        };
        if !vmac.up || master {
            return;
        }
        vmac.up = false;
        let (index, name) = (vmac.index, vmac.spec.name.clone());
        match set_up(&self.io.netlink, index, false).await {
            // Gone with its interface: down enough.
            Err(e) if e.errno() == Some(libc::ENODEV) => {}
            Err(e) => error!(macvlan = %name, error = %e, "vmac macvlan not brought down"),
            Ok(()) => {}
        }
    }

    fn instance_name(&self, id: InstanceId) -> String {
        self.table.get(id).map_or("?", |i| i.name()).to_owned()
    }
}
