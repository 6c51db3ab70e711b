//! Reload support: a changed config applied to a running instance. Settings a router can take in place
//! ([`crate::Router::can_update_in_place`]) keep its state and timers; anything else restarts it.

use vrrp_wire::Family;

use super::{InstanceId, Node, NodeAction, NodeError, tag};
use crate::config::Config;
use crate::input::{Action, Input, Reason};
use crate::router::{Router, State};
use crate::time::Instant;

impl Node {
    /// Applies `config` to instance `id`. In place when only the base priority, VIPs, trackers,
    /// preempt settings or accept mode changed (no transition, no priority-0 advert; a master swaps
    /// the VIPs that changed); otherwise the instance restarts (Shutdown, then Startup if it was
    /// running). The VRID and family cannot change: remove the instance and add a new one.
    pub fn reconfigure(
        &mut self,
        now: Instant,
        id: InstanceId,
        config: Config,
    ) -> Result<Vec<NodeAction>, NodeError> {
        config.validate()?;
        let entry = self.entry_mut(id).ok_or(NodeError::UnknownInstance(id))?;
        let old = entry.router.config();
        let same_key = old.vrid == config.vrid
            && Family::of(old.primary_address) == Family::of(config.primary_address);
        if !same_key {
            return Err(NodeError::KeyChanged(id));
        }
        let mut actions = Vec::new();
        if entry.router.can_update_in_place(&config) {
            entry.router.update_in_place(now, config, &mut actions);
        } else {
            let was_running = entry.router.state() != State::Initialize;
            let mut router = Router::new(config)?;
            router.sync_gated = entry.group.is_some();
            router.inherit_health(&entry.router);
            actions = entry.router.handle(now, Input::Shutdown);
            if was_running {
                actions.extend(router.handle(now, Input::Startup));
            }
            relabel_restart(&mut actions);
            entry.router = router;
            entry.master_checksum = None;
        }
        let group = entry.group;
        let mut out = tag(id, actions);
        if let Some(group) = group {
            self.reconcile(now, group, &mut out);
        }
        self.count(now, &out);
        Ok(out)
    }
}

/// The Shutdown and Startup transitions of a restart for a changed config say `Reload`, so a log or
/// `keepvip status` tells them from a daemon stopping or starting. Other reasons (a FAULT found at
/// startup, an owner's takeover) stay: they say more.
fn relabel_restart(actions: &mut [Action]) {
    for action in actions {
        if let Action::StateChanged { reason, .. } = action
            && matches!(reason, Reason::Shutdown | Reason::Startup)
        {
            *reason = Reason::Reload;
        }
    }
}
