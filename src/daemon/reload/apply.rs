//! Applying a reload plan: removals first (their STOP notifications go to the old scripts), then
//! trackers and notify scripts, then the changed instances, then the new ones.

use std::time::Duration;

use tracing::info;
use vrrp_core::{Action, Input, InstanceId, NodeAction, NodeInput, Reconfigure, StateKind};

use super::plan::{self, InstanceChange, Plan};
use crate::config::{Config, Instance};
use crate::control::ReloadOutcome;
use crate::daemon::core_config::{core_config, micros};
use crate::daemon::routes::RouteSet;
use crate::daemon::setup;
use crate::daemon::state::{Daemon, Inbox};
use crate::daemon::table::InstanceInfo;
use crate::daemon::tracker_setup::{ScriptUsers, interface_readings};
use crate::daemon::vips::VipCommand;
use crate::daemon::vmac;
use crate::track::Reading;
use crate::track::registry::core_trackers;

impl Daemon {
    /// Applies `new` (checked) over the running config.
    pub(super) async fn apply(
        &mut self,
        new: Config,
        users: ScriptUsers,
        inbox: &mut Inbox,
    ) -> ReloadOutcome {
        let old = std::mem::replace(&mut self.reload.running, new.clone());
        let plan = plan::plan(&old, &new);
        let mut changes = Vec::new();
        let leaving: Vec<&str> = plan
            .removed
            .iter()
            .map(String::as_str)
            .chain(plan.replaced())
            .collect();
        for name in leaving {
            self.retire(name, &old).await;
        }
        changes.extend(
            plan.removed
                .iter()
                .map(|n| format!("{n}: removed (resigned)")),
        );
        self.follow_trackers(&old, &new, &users, inbox).await;
        self.notifier.reload(&old, &new, users.default);
        for (name, change) in &plan.kept {
            if let Some(line) = self.update(name, change, &new).await {
                changes.push(line);
            }
        }
        let arriving: Vec<String> = plan
            .added
            .iter()
            .cloned()
            .chain(plan.replaced().map(str::to_owned))
            .collect();
        let failed = match self.start_new(&arriving, &new, &plan).await {
            Ok(lines) => {
                changes.extend(lines);
                None
            }
            Err(e) => Some(format!(
                "applied in part: {e}; the instances after it did not start"
            )),
        };
        self.groups.follow(&new, &self.table);
        if let Some(rereads) = &self.reload.rereads {
            rereads.follow(
                self.table.interface_names(),
                self.trackers.interface_names(),
            );
        }
        changes.extend(plan.globals_applied.iter().map(|g| format!("{g}: applied")));
        self.router_id = new.global.router_id.clone();
        // This is the event loop's thread: its policy follows the new value.
        crate::daemon::realtime::follow(old.global.rt_priority, new.global.rt_priority);
        ReloadOutcome {
            applied: true,
            error: failed,
            changes,
            needs_restart: plan.needs_restart.clone(),
        }
    }

    /// A removed (or replaced) instance resigns as at shutdown and is forgotten.
    async fn retire(&mut self, name: &str, old: &Config) {
        let Some(id) = self.table.find(name) else {
            return;
        };
        let now = self.clock.now();
        // Shut down while the node still has the router (its priority-0 advert needs its source
        // address), then forget it. A sync-group member takes its group along: a group that loses
        // a member is a new group, so its other members are retired too.
        self.feed(now, NodeInput::Instance(id, Input::Shutdown))
            .await;
        if let Ok(actions) = self.node.remove_instance(now, id) {
            self.execute(actions).await;
        }
        self.io.stop_announcing(id);
        let removed = self.table.remove(id);
        if let Some(instance) = removed.as_ref().filter(|i| i.config.vmac.is_some()) {
            let only = Config {
                instances: vec![instance.config.clone()],
                ..old.clone()
            };
            vmac::remove_all(&only, &self.io.netlink).await;
        }
        info!(instance = name, "reload: instance removed");
    }

    /// Trackers follow the new config: tasks stop, restart and start; new interfaces are read now.
    async fn follow_trackers(
        &mut self,
        old: &Config,
        new: &Config,
        users: &ScriptUsers,
        inbox: &mut Inbox,
    ) {
        let rerun = old.global.script_user != new.global.script_user;
        let changes = self.trackers.reload(old, new, rerun);
        for &id in changes.stop.iter().chain(&changes.redefined) {
            inbox.trackers.stop(id);
        }
        let started = self.trackers.start_some(
            &changes.start,
            new,
            users.default.as_ref(),
            &users.by_script,
            &self.reload.channels,
        );
        inbox.trackers.add(started);
        for report in interface_readings(&self.trackers, &self.io.netlink).await {
            if changes.start.contains(&report.tracker) {
                self.trackers.record(report);
            }
        }
    }

    /// The core's config for `instance` as the running router would take it (same source address).
    fn core_for(&self, id: InstanceId, instance: &Instance, new: &Config) -> vrrp_core::Config {
        let primary = self
            .node
            .router(id)
            .map(|r| r.config().primary_address)
            .unwrap_or_else(|| setup::placeholder(instance.family()));
        let mut core = core_config(instance, primary, core_trackers(instance, new));
        core.startup_delay = micros(Duration::ZERO);
        core
    }

    /// Each of the instance's trackers' reading as the core takes it.
    fn tracker_status(&self, instance: &Instance) -> Vec<Option<vrrp_core::TrackerStatus>> {
        instance
            .trackers
            .iter()
            .map(|t| {
                let id = self.trackers.find(t.kind, &t.name)?;
                match self.trackers.get(id)?.reading? {
                    Reading::Ok => Some(vrrp_core::TrackerStatus::Ok(true)),
                    Reading::Ko => Some(vrrp_core::TrackerStatus::Ok(false)),
                    Reading::Value(v) => Some(vrrp_core::TrackerStatus::Value(v)),
                }
            })
            .collect()
    }

    /// An instance in both configs: untouched, updated in place or restarted. Returns the change line.
    async fn update(
        &mut self,
        name: &str,
        change: &InstanceChange,
        new: &Config,
    ) -> Option<String> {
        let InstanceChange::Update { restart } = change else {
            return None;
        };
        let id = self.table.find(name)?;
        let instance = new.instances.iter().find(|i| i.name == name)?.clone();
        let core = self.core_for(id, &instance, new);
        let how = Reconfigure {
            restart: restart.is_some(),
            tracker_status: Some(self.tracker_status(&instance)),
        };
        let in_place = restart.is_none() && self.node.can_reconfigure_in_place(id, &core);
        let was_master = self
            .node
            .router(id)
            .is_some_and(|r| r.state().kind() == StateKind::Master);
        let old_info = self.table.get(id)?.clone();
        let now = self.clock.now();
        let actions = match self.node.reconfigure_with(now, id, core, &how) {
            Ok(actions) => actions,
            Err(e) => return Some(format!("{name}: not changed: {e}")),
        };
        if in_place {
            self.table.set_config(id, instance);
            self.swap_in_place(id, actions, was_master, &old_info).await;
            return Some(format!("{name}: updated in place"));
        }
        // The old router's shutdown with the old facts (its routes), the new one's start with the new.
        let split = actions
            .iter()
            .position(|(i, a)| *i == id && is_stop(a))
            .map_or(0, |p| p + 1);
        let mut actions = actions;
        let start = actions.split_off(split);
        self.execute(actions).await;
        self.table.set_config(id, instance);
        self.execute(start).await;
        let why = restart.unwrap_or("a protocol setting");
        Some(format!("{name}: restarted ({why} changed)"))
    }

    /// Executes an in-place reconfigure: the leading VIP swap (routes left alone; those that changed
    /// are swapped around it; a kept VIP whose prefix, label or scope changed is installed again),
    /// then the rest as usual.
    async fn swap_in_place(
        &mut self,
        id: InstanceId,
        mut actions: Vec<NodeAction>,
        was_master: bool,
        old_info: &InstanceInfo,
    ) {
        let old_routes = old_info.route_set();
        let swap_len = actions
            .iter()
            .take_while(|(_, a)| {
                matches!(
                    a,
                    Action::AddVips(_) | Action::RemoveVips(_) | Action::AnnounceVips(_)
                )
            })
            .count();
        let rest = actions.split_off(swap_len);
        let new_routes = self
            .table
            .get(id)
            .map(|i| i.route_set())
            .unwrap_or_default();
        let instance = self
            .table
            .get(id)
            .map(|i| i.name().to_owned())
            .unwrap_or_default();
        if was_master {
            let gone = difference(&old_routes, &new_routes);
            if !gone.is_empty() {
                self.io.vip_worker.send(VipCommand::RemoveRoutes {
                    instance: instance.clone(),
                    set: gone,
                });
            }
        }
        self.reload.swapping = true;
        self.execute(actions).await;
        self.reload.swapping = false;
        if was_master {
            self.reinstall_changed_vips(id, old_info);
            let added = difference(&new_routes, &old_routes);
            if !added.is_empty() {
                self.io.vip_worker.send(VipCommand::AddRoutes {
                    instance,
                    set: added,
                });
            }
        }
        self.execute(rest).await;
    }

    /// A master's VIPs that stay but are to be installed otherwise (prefix, label, scope): out and in
    /// again, in the VIP worker's order.
    fn reinstall_changed_vips(&mut self, id: InstanceId, old_info: &InstanceInfo) {
        let Some(info) = self.table.get(id) else {
            return;
        };
        let changed: Vec<_> = info
            .config
            .vips
            .iter()
            .chain(&info.config.excluded_vips)
            .map(|vip| vip.addr)
            .filter(|&addr| {
                let before = old_info
                    .config
                    .vips
                    .iter()
                    .chain(&old_info.config.excluded_vips)
                    .any(|vip| vip.addr == addr);
                before && old_info.install_spec(addr) != info.install_spec(addr)
            })
            .collect();
        if changed.is_empty() {
            return;
        }
        let drop_traffic = self
            .node
            .router(id)
            .is_some_and(|r| !r.config().master_accepts_vip_traffic());
        let (instance, ifindex) = (info.name().to_owned(), info.vip_ifindex());
        let vips = changed.iter().map(|&a| info.install_spec(a)).collect();
        self.io.vip_worker.send(VipCommand::Remove {
            instance: instance.clone(),
            ifindex,
            addresses: changed,
        });
        let (installed, _) = tokio::sync::oneshot::channel();
        self.io.vip_worker.send(VipCommand::Add {
            instance,
            ifindex,
            vips,
            drop_traffic,
            installed,
            takeover: None,
            adopt: false,
        });
    }

    /// New instances (and replaced ones) built as at startup, grouped, fed what is known, started.
    async fn start_new(
        &mut self,
        names: &[String],
        new: &Config,
        plan: &Plan,
    ) -> Result<Vec<String>, crate::daemon::error::DaemonError> {
        let mut started = Vec::new();
        for name in names {
            let Some(instance) = new.instances.iter().find(|i| &i.name == name) else {
                continue;
            };
            let netlink = self.io.netlink.clone();
            // Inside the loop: nothing may wait for DAD, and no startup delay.
            let options = setup::BuildOptions {
                startup_delay: Duration::ZERO,
                wait_for_dad: false,
            };
            let built = setup::build_instance(
                new,
                instance,
                options,
                &netlink,
                &mut self.node,
                self.io.sockets_mut(),
                &self.table,
            )
            .await?;
            self.table.insert(built.id, built.info.clone());
            started.push(built);
        }
        for group in &new.sync_groups {
            let ids: Vec<InstanceId> = started
                .iter()
                .filter(|b| group.members.contains(&b.info.config.name))
                .map(|b| b.id)
                .collect();
            if !ids.is_empty() && ids.len() == group.members.len() {
                let _ = self.node.add_sync_group(&ids);
            }
        }
        let now = self.clock.now();
        let mut lines = Vec::new();
        for built in &started {
            let id = built.id;
            if built.link_down {
                self.feed(now, NodeInput::Instance(id, Input::InterfaceDown))
                    .await;
            }
            if built.source_missing {
                self.feed(now, NodeInput::Instance(id, Input::SourceAddressLost))
                    .await;
            }
            self.feed_known_readings(id, &built.info.config).await;
            self.feed(now, NodeInput::Instance(id, Input::Startup))
                .await;
            let name = &built.info.config.name;
            let why = plan.kept.iter().find(|(n, _)| n == name).map(|(_, c)| c);
            lines.push(match why {
                Some(InstanceChange::Replace { why }) => {
                    format!("{name}: restarted ({why} changed)")
                }
                _ => format!("{name}: added"),
            });
        }
        Ok(lines)
    }

    /// The readings the registry has for a new instance's trackers, before it starts.
    async fn feed_known_readings(&mut self, id: InstanceId, instance: &Instance) {
        let now = self.clock.now();
        for (index, t) in instance.trackers.iter().enumerate() {
            let Some(tracker) = self.trackers.find(t.kind, &t.name) else {
                continue;
            };
            let Some(reading) = self.trackers.get(tracker).and_then(|t| t.reading) else {
                continue;
            };
            let tracker_id = vrrp_core::TrackerId(index);
            let input = match reading {
                Reading::Ok => Input::Tracker {
                    tracker: tracker_id,
                    ok: true,
                },
                Reading::Ko => Input::Tracker {
                    tracker: tracker_id,
                    ok: false,
                },
                Reading::Value(value) => Input::TrackerValue {
                    tracker: tracker_id,
                    value,
                },
            };
            self.feed(now, NodeInput::Instance(id, input)).await;
        }
    }
}

/// The old router's last action in a restart: its move to Initialize.
fn is_stop(action: &Action) -> bool {
    matches!(
        action,
        Action::StateChanged {
            to: StateKind::Initialize,
            ..
        }
    )
}

/// The routes and rules of `a` that `b` does not have.
fn difference(a: &RouteSet, b: &RouteSet) -> RouteSet {
    RouteSet {
        routes: a
            .routes
            .iter()
            .filter(|r| !b.routes.contains(r))
            .cloned()
            .collect(),
        rules: a
            .rules
            .iter()
            .filter(|r| !b.rules.contains(r))
            .cloned()
            .collect(),
    }
}
