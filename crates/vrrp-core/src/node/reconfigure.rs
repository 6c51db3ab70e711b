//! Reload support: a changed config applied to a running instance. Settings a router can take in place
//! ([`crate::Router::can_update_in_place`]) keep its state and timers; anything else restarts it.

use vrrp_wire::Family;

use super::{InstanceId, Node, NodeAction, NodeError, tag};
use crate::config::Config;
use crate::health::TrackerStatus;
use crate::input::{Action, Input, Reason};
use crate::router::{Router, State};
use crate::time::Instant;

/// How [`Node::reconfigure_with`] applies a config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconfigure {
    /// Restart even if the router could take the config in place (the caller has its own reasons,
    /// e.g. a setting the core does not see).
    pub restart: bool,
    /// Each new tracker's status as the caller knows it (`tracker_status[i]` for `config.trackers[i]`;
    /// `None`: not read yet, it starts at its `initially_ok`). `None` as a whole: statuses are kept by
    /// position, as [`Node::reconfigure`] does.
    pub tracker_status: Option<Vec<Option<TrackerStatus>>>,
}

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
        self.reconfigure_with(now, id, config, &Reconfigure::default())
    }

    /// Whether `config` would be taken in place by instance `id` (no restart).
    pub fn can_reconfigure_in_place(&self, id: InstanceId, config: &Config) -> bool {
        self.entry(id)
            .is_some_and(|e| e.router.can_update_in_place(config))
    }

    /// [`Node::reconfigure`] with the caller's choices (see [`Reconfigure`]). A restarted router
    /// keeps what the old one observed (link, source address) and its startup hold: a restart never
    /// starts `startup_delay` again (keepalived does not delay on reload either).
    pub fn reconfigure_with(
        &mut self,
        now: Instant,
        id: InstanceId,
        config: Config,
        how: &Reconfigure,
    ) -> Result<Vec<NodeAction>, NodeError> {
        config.validate()?;
        let entry = self.entry_mut(id).ok_or(NodeError::UnknownInstance(id))?;
        let old = entry.router.config();
        let same_key = old.vrid == config.vrid
            && Family::of(old.primary_address) == Family::of(config.primary_address);
        if !same_key {
            return Err(NodeError::KeyChanged(id));
        }
        let status = how.tracker_status.as_deref();
        let mut actions = Vec::new();
        if !how.restart && entry.router.can_update_in_place(&config) {
            entry
                .router
                .update_in_place_with(now, config, status, &mut actions);
        } else {
            let was_running = entry.router.state() != State::Initialize;
            // The startup delay belongs to the node's start: a restart keeps the old router's hold
            // (below) and never begins a new one.
            let mut config = config;
            config.startup_delay = crate::Micros::ZERO;
            let mut router = Router::new(config)?;
            router.sync_gated = entry.group.is_some();
            router.advert_phase = entry.router.advert_phase;
            router.inherit_health(&entry.router);
            router.inherit_startup_hold(&entry.router);
            if let Some(status) = status {
                router.set_tracker_status(status);
            }
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
        self.reindex();
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
