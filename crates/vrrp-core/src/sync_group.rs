//! Sync groups: several virtual routers that change state together (keepalived's `vrrp_sync_group`).
//!
//! Semantics (documented here because the RFC has none):
//! - Any member in FAULT puts every member in FAULT (reason `Fault(SyncGroup)`); a pulled master sends
//!   one priority-0 advert and removes its VIPs, exactly like a member's own FAULT. When no member has a
//!   fault condition left, all leave FAULT for Backup together.
//! - Any member going from Master to Backup (preempted) pulls every other master to Backup (reason
//!   `SyncGroup`); a pulled master resigns with one priority-0 advert (so the peer's members take over in
//!   Skew_Time, not Master_Down_Interval) and removes its VIPs.
//! - A member becomes Master only when every member would: a member whose Master_Down_Timer fires (or an
//!   owner at startup) waits in [`State::BackupAwaitingGroup`] while any sibling still follows a live
//!   master; when the last member is ready, all become Master in one step.
//! - Startup and Shutdown apply to every member.

use crate::config::{Config, ConfigError};
use crate::input::{Action, Input};
use crate::router::master::address_greater;
use crate::router::{Router, State};
use crate::time::Instant;

/// Index of a member in the order the configs were given to [`SyncGroup::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId(pub usize);

/// An input for a sync group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupInput {
    /// Starts every member.
    Startup,
    /// Shuts every member down.
    Shutdown,
    /// A deadline from [`SyncGroup::next_deadline`] has been reached.
    Timer,
    /// An input for one member (an advert for its VRID, a tracker or link change). `Startup`, `Shutdown`
    /// and `Timer` given here act on the whole group.
    Member(MemberId, Input),
}

/// Routers that move together; driven like a [`Router`], its actions tagged by member.
#[derive(Debug, Clone)]
pub struct SyncGroup {
    members: Vec<Router>,
}

impl SyncGroup {
    /// A group of routers in Initialize, one per config, in order.
    pub fn new(configs: Vec<Config>) -> Result<SyncGroup, ConfigError> {
        let mut members = Vec::with_capacity(configs.len());
        for config in configs {
            let mut router = Router::new(config)?;
            router.sync_gated = true;
            members.push(router);
        }
        Ok(SyncGroup { members })
    }

    /// Processes one input at `now`; the actions are in the order to execute them.
    pub fn handle(&mut self, now: Instant, input: GroupInput) -> Vec<(MemberId, Action)> {
        let mut out = Vec::new();
        match input {
            GroupInput::Startup | GroupInput::Member(_, Input::Startup) => {
                self.all(now, &Input::Startup, &mut out)
            }
            GroupInput::Shutdown | GroupInput::Member(_, Input::Shutdown) => {
                self.all(now, &Input::Shutdown, &mut out)
            }
            GroupInput::Timer | GroupInput::Member(_, Input::Timer) => {
                self.all(now, &Input::Timer, &mut out)
            }
            GroupInput::Member(id, input) => {
                if let Some(router) = self.members.get_mut(id.0) {
                    tag(id, router.handle(now, input), &mut out);
                }
            }
        }
        let mut members: Vec<&mut Router> = self.members.iter_mut().collect();
        let mut pulled = Vec::new();
        reconcile(now, &mut members, &mut pulled);
        out.extend(
            pulled
                .into_iter()
                .map(|(index, action)| (MemberId(index), action)),
        );
        out
    }

    /// Gives every member the same input.
    fn all(&mut self, now: Instant, input: &Input, out: &mut Vec<(MemberId, Action)>) {
        for (index, router) in self.members.iter_mut().enumerate() {
            tag(MemberId(index), router.handle(now, input.clone()), out);
        }
    }

    /// The earliest deadline of any member.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.members.iter().filter_map(Router::next_deadline).min()
    }

    pub fn members(&self) -> &[Router] {
        &self.members
    }

    pub fn member(&self, id: MemberId) -> Option<&Router> {
        self.members.get(id.0)
    }

    /// Each member's state, in member order.
    pub fn states(&self) -> Vec<State> {
        self.members.iter().map(Router::state).collect()
    }
}

fn tag(id: MemberId, actions: Vec<Action>, out: &mut Vec<(MemberId, Action)>) {
    out.extend(actions.into_iter().map(|action| (id, action)));
}

/// Restores the group's rules after a member moved on its own: FAULT spreads, Backup pulls masters
/// down, Master happens only when every member is ready. The one home of the sync-group rules, for
/// [`SyncGroup`] and [`crate::Node`] alike; actions are tagged with the member's position in `members`.
pub(crate) fn reconcile(now: Instant, members: &mut [&mut Router], out: &mut Vec<(usize, Action)>) {
    // Any member with its own fault condition puts the others in FAULT; none left releases them.
    let group_fault = members.iter().any(|m| m.own_fault_cause().is_some());
    for (index, router) in members.iter_mut().enumerate() {
        let mut actions = Vec::new();
        router.set_group_fault(now, group_fault, &mut actions);
        tag_index(index, actions, out);
    }
    // A member that follows a master pulls every master down.
    let any_following = members
        .iter()
        .any(|m| matches!(m.state(), State::Backup { .. }));
    if any_following {
        // Symmetry breaker for crossed preferences (each host preferred on a different VRID): both
        // groups would resign and retry in lockstep for ever. The host whose followed master has the
        // higher address (RFC 5798 (735)'s tie-break) wins; the other holds back.
        let yield_to_peer = members.iter().any(|m| {
            matches!(m.state(), State::Backup { .. })
                && m.known_master()
                    .is_some_and(|k| address_greater(k.address, m.config().primary_address))
        });
        for (index, router) in members.iter_mut().enumerate() {
            let mut actions = Vec::new();
            router.resign_to_backup(now, yield_to_peer, &mut actions);
            tag_index(index, actions, out);
        }
    }
    // Master only when every member would be master.
    let all_ready = members
        .iter()
        .all(|m| matches!(m.state(), State::BackupAwaitingGroup | State::Master { .. }));
    if all_ready {
        for (index, router) in members.iter_mut().enumerate() {
            if router.state() == State::BackupAwaitingGroup {
                let mut actions = Vec::new();
                let reason = router.pending_master_reason;
                router.promote(now, reason, &mut actions);
                tag_index(index, actions, out);
            }
        }
    }
}

fn tag_index(index: usize, actions: Vec<Action>, out: &mut Vec<(usize, Action)>) {
    out.extend(actions.into_iter().map(|action| (index, action)));
}
