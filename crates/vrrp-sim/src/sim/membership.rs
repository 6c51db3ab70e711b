//! Reloads that change which routers a host runs, or their VIPs, as the daemon's reload does: a
//! removed instance resigns as at shutdown and is forgotten (`Node::remove_instance`), an added one
//! is told its trackers and link and started (`Node::add_instance`, `Startup`), a new VIP set is
//! taken in place (`Node::reconfigure`: a master swaps the VIPs that changed). A host that is not
//! running reads the new config at its next start (a fresh node). Sync-group hosts are left out: a
//! group that loses a member is a new group, which the daemon builds by replacing the whole group.

use std::net::IpAddr;

use vrrp_core::Input;
use vrrp_wire::Addresses;

use super::Sim;
use crate::check::Invariant;
use crate::model::{HostId, vip_set};

impl Sim {
    /// A reload without the router for `vrid`.
    pub(super) fn remove_instance(&mut self, host: HostId, vrid: u8) -> bool {
        let now = self.now;
        let h = &mut self.hosts[host];
        let Some(slot) = h.slot_of(vrid).filter(|&s| h.slots[s].present) else {
            return false;
        };
        if h.sync_group {
            return false;
        }
        let s = &mut h.slots[slot];
        s.present = false;
        s.removed_since = now;
        // Its preempt window, if still open, ends with it.
        s.preempt_from = None;
        if !h.running() {
            h.node = None;
            return true;
        }
        let Some(node) = h.node.as_mut() else {
            return true;
        };
        match node.remove(now, slot) {
            Ok(actions) => {
                let what = self
                    .trace
                    .is_some()
                    .then(|| "removed by a reload".to_owned());
                self.execute(host, Some(slot), what, actions);
            }
            Err(error) => self.fail(Invariant::Setup, format!("h{host} v{vrid}: {error}")),
        }
        if let Some(node) = self.hosts[host].node.as_mut() {
            node.forget(slot);
        }
        self.stats.instances_removed += 1;
        true
    }

    /// A reload adding the router for `vrid` back, with its current base priority and VIPs; it
    /// starts as a new instance does (no memory of the removed one).
    pub(super) fn add_instance(&mut self, host: HostId, vrid: u8) -> bool {
        let h = &mut self.hosts[host];
        let Some(slot) = h.slot_of(vrid).filter(|&s| !h.slots[s].present) else {
            return false;
        };
        if h.sync_group {
            return false;
        }
        let s = &mut h.slots[slot];
        s.present = true;
        s.last_arrival.iter_mut().for_each(|a| *a = None);
        s.last_v3 = None;
        s.last_sent = None;
        let config = s.current_config();
        if !h.running() {
            h.node = None;
            return true;
        }
        let Some(node) = h.node.as_mut() else {
            return true;
        };
        if let Err(error) = node.add(slot, config) {
            self.fail(Invariant::Setup, format!("h{host} v{vrid}: {error}"));
            return true;
        }
        for input in self.hosts[host].slots[slot].tracker_news() {
            self.feed_instance(host, slot, input);
        }
        if !self.hosts[host].link_up {
            self.feed_instance(host, slot, Input::InterfaceDown);
        }
        self.open_preempt_window(host, slot);
        self.feed_instance(host, slot, Input::Startup);
        self.stats.instances_added += 1;
        true
    }

    /// A reload giving the router for `vrid` VIP set `set` ([`vip_set`]).
    pub(super) fn reload_vips(&mut self, host: HostId, vrid: u8, set: u8) -> bool {
        let now = self.now;
        let h = &mut self.hosts[host];
        let Some(slot) = h.slot_of(vrid) else {
            return false;
        };
        let s = &mut h.slots[slot];
        let addresses = vip_set(s.config.primary_address.is_ipv6(), vrid, set);
        if s.config.addresses == addresses {
            return false;
        }
        s.config.addresses = addresses;
        let config = s.current_config();
        let Some(node) = h.node.as_mut().filter(|_| s.present) else {
            // Not running (or not in the config): the next start (or add) uses the new VIPs.
            return true;
        };
        match node.reconfigure(now, slot, config) {
            Ok(actions) => {
                let what = self
                    .trace
                    .is_some()
                    .then(|| format!("reload VIP set {set}"));
                self.execute(host, Some(slot), what, actions);
            }
            Err(error) => self.fail(Invariant::Setup, format!("h{host} v{vrid}: {error}")),
        }
        self.stats.vip_reloads += 1;
        true
    }

    /// A VIP some host holds that no router in its config has (a removed instance's, or one a
    /// reload took out of a VIP set): it should have been removed with it.
    pub(super) fn stray_vip(&self) -> Option<String> {
        self.hosts.iter().enumerate().find_map(|(id, host)| {
            let stray = host.vips.iter().find(|&&vip| {
                !host
                    .slots
                    .iter()
                    .any(|s| s.present && contains(&s.config.addresses, vip))
            })?;
            Some(format!(
                "h{id} holds {stray}, a VIP of no router in its config"
            ))
        })
    }
}

fn contains(list: &Addresses, vip: IpAddr) -> bool {
    match (list, vip) {
        (Addresses::V4(list), IpAddr::V4(a)) => list.contains(&a),
        (Addresses::V6(list), IpAddr::V6(a)) => list.contains(&a),
        _ => false,
    }
}
