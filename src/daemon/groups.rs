//! Sync groups in the daemon: the config's groups added to the node before startup, and the group's
//! own notifications (keepalived's `GROUP "NAME" STATE 0`): a group is FAULT while a member is, MASTER
//! when every member is, STOP when none runs, BACKUP otherwise; a change of that is notified.

use vrrp_core::{InstanceId, Node, StateKind};

use super::error::DaemonError;
use super::table::InstanceTable;
use crate::config::Config;
use crate::notify::{Notifier, Subject, Transition};
use crate::observe::state_name;

/// Each group's members and the state last notified.
#[derive(Debug, Default)]
pub struct GroupStates {
    groups: Vec<Group>,
}

#[derive(Debug)]
struct Group {
    name: String,
    members: Vec<InstanceId>,
    notified: Option<StateKind>,
}

/// Adds the config's sync groups to `node` (before any instance starts).
pub fn add_groups(
    config: &Config,
    node: &mut Node,
    table: &InstanceTable,
) -> Result<GroupStates, DaemonError> {
    let mut states = GroupStates::default();
    for group in &config.sync_groups {
        let members: Vec<InstanceId> = group.members.iter().filter_map(|m| table.find(m)).collect();
        node.add_sync_group(&members)
            .map_err(|e| DaemonError::Instance {
                instance: group.name.clone(),
                reason: e.to_string(),
            })?;
        states.groups.push(Group {
            name: group.name.clone(),
            members,
            notified: None,
        });
    }
    Ok(states)
}

/// The group's state from its members'.
fn group_state(node: &Node, members: &[InstanceId]) -> StateKind {
    let kinds: Vec<StateKind> = members
        .iter()
        .filter_map(|&id| node.router(id).map(|r| r.state().kind()))
        .collect();
    if kinds.is_empty() {
        StateKind::Initialize
    } else if kinds.contains(&StateKind::Fault) {
        StateKind::Fault
    } else if kinds.iter().all(|&k| k == StateKind::Master) {
        StateKind::Master
    } else if kinds.iter().all(|&k| k == StateKind::Initialize) {
        StateKind::Initialize
    } else {
        StateKind::Backup
    }
}

impl GroupStates {
    /// After actions that moved `changed` instances: notifies each of their groups whose state moved.
    pub fn notify_changes(&mut self, changed: &[InstanceId], node: &Node, notifier: &Notifier) {
        for group in &mut self.groups {
            if !group.members.iter().any(|m| changed.contains(m)) {
                continue;
            }
            let state = group_state(node, &group.members);
            if group.notified == Some(state) {
                continue;
            }
            let from = group.notified.map_or("INIT", state_name);
            group.notified = Some(state);
            crate::logging::events::group_transition(&group.name, from, state_name(state));
            notifier.transition(Transition {
                subject: Subject::Group,
                instance: group.name.clone(),
                state: state.notify_name(),
                from,
                priority: 0,
                reason: "sync_group",
                interface: String::new(),
                vrid: 0,
                vips: Vec::new(),
            });
        }
    }
}

impl GroupStates {
    /// After a reload: the groups of `config`, with their members' ids from `table`; a group with
    /// the same name and members keeps the state it last notified.
    pub fn follow(&mut self, config: &Config, table: &InstanceTable) {
        let old = std::mem::take(&mut self.groups);
        for group in &config.sync_groups {
            let members: Vec<InstanceId> =
                group.members.iter().filter_map(|m| table.find(m)).collect();
            let notified = old
                .iter()
                .find(|g| g.name == group.name && g.members == members)
                .and_then(|g| g.notified);
            self.groups.push(Group {
                name: group.name.clone(),
                members,
                notified,
            });
        }
    }
}
