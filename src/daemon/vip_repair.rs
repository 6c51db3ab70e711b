//! A master keeps its VIPs on the interface. One removed outside keepvip (`ip addr del`, a flush, a
//! network manager) or refused when it was added (the kernel's EACCES with IPv6 disabled on the
//! interface, say) is added again and announced again, with no transition: the master stays master.
//! keepalived 2.2.7 instead resigns (priority 0), removes all its VIPs and takes over again after
//! Skew_Time, or lets a backup do it (docs/linux.md).
//!
//! Two triggers: the kernel's RTM_DELADDR of a keepvip address (at once), and the periodic address
//! re-read (a refused VIP is retried at that pace). Either queues a check on the VIP worker, after
//! every VIP change queued before it, so a VIP the core itself just removed or swapped is never put
//! back by mistake; only VIPs still missing when the worker gets there are added.

use std::net::IpAddr;

use tracing::warn;
use vrrp_core::{InstanceId, StateKind};

use super::setup::OWNER_PRIORITY;
use super::state::Daemon;
use super::vips::VipCommand;
use crate::net::netlink::InterfaceAddress;

impl Daemon {
    /// A keepvip VIP left `ifindex`: every master with VIPs there has them checked.
    pub(super) fn keepvip_address_removed(&mut self, ifindex: u32) {
        for id in self.masters_with_vips_on(ifindex) {
            self.queue_vip_check(id);
        }
    }

    /// The periodic re-read of `ifindex`: a master missing one of its VIPs there has them checked.
    pub(super) fn check_vips_in_snapshot(&mut self, ifindex: u32, addresses: &[InterfaceAddress]) {
        for id in self.masters_with_vips_on(ifindex) {
            let Some(router) = self.node.router(id) else {
                continue;
            };
            let missing = router
                .config()
                .vip_set()
                .iter()
                .any(|vip| !addresses.iter().any(|a| a.address == vip));
            if missing {
                self.queue_vip_check(id);
            }
        }
    }

    /// The worker put back `addresses` of `id`: the master announces its VIPs again, its whole GARP/NA
    /// schedule from the start (the neighbours may have learned another MAC meanwhile).
    pub(super) fn vips_restored(&mut self, id: InstanceId, addresses: &[IpAddr]) {
        let Some(router) = self.node.router(id) else {
            return;
        };
        if router.state().kind() != StateKind::Master {
            return;
        }
        let vips = router.config().vip_set();
        warn!(
            event = "vips_restored",
            instance = %self.table.get(id).map_or("?", |i| i.name()),
            vips = ?addresses,
            "VIPs missing from the interface while master: added back and announced again"
        );
        self.announce(id, &vips, None);
    }

    /// An address keepvip did not install appeared: equal to a VIP of a non-owner instance there, it
    /// would put the VIP on two hosts (a backup) or stay behind when the master leaves, so it is
    /// replaced by keepvip's own (a master) or removed (otherwise), as keepalived removes its VIPs
    /// on entering BACKUP.
    pub(super) fn unmanaged_address_added(&mut self, address: &InterfaceAddress) {
        let concerned: Vec<(InstanceId, bool)> = self
            .table
            .iter()
            .filter(|(_, info)| {
                info.vip_ifindex() == address.index && info.config.priority != OWNER_PRIORITY
            })
            .filter_map(|(id, _)| {
                let router = self.node.router(id)?;
                let listed = router
                    .config()
                    .vip_set()
                    .iter()
                    .any(|vip| vip == address.address);
                listed.then_some((id, router.state().kind() == StateKind::Master))
            })
            .collect();
        for (id, master) in concerned {
            let Some(info) = self.table.get(id) else {
                continue;
            };
            self.io.vip_worker.send(VipCommand::Adopt {
                instance: info.name().to_owned(),
                ifindex: address.index,
                vips: vec![info.install_spec(address.address)],
                reinstall: master,
            });
        }
    }

    fn masters_with_vips_on(&self, ifindex: u32) -> Vec<InstanceId> {
        if ifindex == super::table::ABSENT {
            return Vec::new();
        }
        self.table
            .iter()
            .filter(|(_, info)| info.vip_ifindex() == ifindex)
            .filter(|&(id, _)| {
                self.node
                    .router(id)
                    .is_some_and(|r| r.state().kind() == StateKind::Master)
            })
            .map(|(id, _)| id)
            .collect()
    }

    fn queue_vip_check(&mut self, id: InstanceId) {
        let (Some(info), Some(router)) = (self.table.get(id), self.node.router(id)) else {
            return;
        };
        self.io.vip_worker.send(VipCommand::Restore {
            id,
            instance: info.name().to_owned(),
            ifindex: info.vip_ifindex(),
            vips: router
                .config()
                .vip_set()
                .iter()
                .map(|vip| info.install_spec(vip))
                .collect(),
        });
    }
}
