//! What a reload changes: the running config and the new one compared, instance by instance (by
//! name), sync group by sync group, and the global settings. Pure: the daemon applies the plan.

use crate::config::{Config, Instance};

/// What happens to one instance that is in both configs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceChange {
    /// Nothing that matters to it changed: not touched at all.
    Unchanged,
    /// Given to the core's `reconfigure` (in place when the core can take it, else a restart);
    /// `restart` forces a restart for a setting the core does not see, named in `why`.
    Update { restart: Option<&'static str> },
    /// Removed and added again (resigns, then starts like a new instance): `why` names the setting.
    Replace { why: &'static str },
}

/// The whole difference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Instances in the running config only: they resign and go.
    pub removed: Vec<String>,
    /// Instances in the new config only: they start.
    pub added: Vec<String>,
    /// Instances in both, with what happens to each, in the new config's order.
    pub kept: Vec<(String, InstanceChange)>,
    /// `[global]` settings that changed but apply only when keepvip restarts.
    pub needs_restart: Vec<String>,
    /// `[global]` settings that changed and apply now.
    pub globals_applied: Vec<String>,
}

impl Plan {
    /// The instances replaced (removed and added again).
    pub fn replaced(&self) -> impl Iterator<Item = &str> + '_ {
        self.kept
            .iter()
            .filter(|(_, c)| matches!(c, InstanceChange::Replace { .. }))
            .map(|(name, _)| name.as_str())
    }
}

/// Compares the running config `old` with `new`.
pub fn plan(old: &Config, new: &Config) -> Plan {
    let mut plan = Plan::default();
    for instance in &old.instances {
        if !new.instances.iter().any(|i| i.name == instance.name) {
            plan.removed.push(instance.name.clone());
        }
    }
    for instance in &new.instances {
        match old.instances.iter().find(|i| i.name == instance.name) {
            None => plan.added.push(instance.name.clone()),
            Some(running) => {
                let change = instance_change(old, running, new, instance);
                plan.kept.push((instance.name.clone(), change));
            }
        }
    }
    globals(old, new, &mut plan);
    plan
}

/// One instance in both configs.
fn instance_change(old: &Config, a: &Instance, new: &Config, b: &Instance) -> InstanceChange {
    let replace = |why| InstanceChange::Replace { why };
    if a.interface != b.interface {
        return replace("interface");
    }
    if a.vrid != b.vrid {
        return replace("vrid");
    }
    if a.family() != b.family() {
        return replace("address family");
    }
    if a.vmac != b.vmac {
        return replace("vmac");
    }
    if a.unicast_source != b.unicast_source {
        return replace("unicast_source");
    }
    if group_of(old, &a.name) != group_of(new, &b.name) {
        return replace("sync group");
    }
    if a == b && init_fail_of(old, a) == init_fail_of(new, b) {
        return InstanceChange::Unchanged;
    }
    // The nf_tables drop follows Accept_Mode only when the VIPs go in or out.
    let restart = (a.accept != b.accept).then_some("accept");
    InstanceChange::Update { restart }
}

/// The members of the sync group `instance` is in, sorted (a group whose members changed is a new
/// group: the core builds groups from instances that have not started).
fn group_of(config: &Config, instance: &str) -> Option<Vec<String>> {
    let group = config
        .sync_groups
        .iter()
        .find(|g| g.members.iter().any(|m| m == instance))?;
    let mut members = group.members.clone();
    members.sort();
    Some(members)
}

/// The `init_fail` of each script the instance tracks (it sets the core's initial status).
fn init_fail_of(config: &Config, instance: &Instance) -> Vec<bool> {
    instance
        .trackers
        .iter()
        .map(|t| {
            config
                .trackers
                .scripts
                .iter()
                .any(|s| s.name == t.name && s.init_fail)
        })
        .collect()
}

/// `[global]`: what applies now, what needs a restart.
fn globals(old: &Config, new: &Config, plan: &mut Plan) {
    let (a, b) = (&old.global, &new.global);
    let mut restart = |changed: bool, key: &str, why: &str| {
        if changed {
            plan.needs_restart.push(format!(
                "[global] {key} ({why}; the old value stays in force)"
            ));
        }
    };
    restart(
        a.metrics_listen != b.metrics_listen,
        "metrics_listen",
        "the listener is bound at startup",
    );
    restart(
        a.control_group != b.control_group,
        "control_group",
        "the control socket is created at startup",
    );
    restart(
        a.log_format != b.log_format,
        "log_format",
        "logging is set up at startup",
    );
    restart(
        a.startup_delay != b.startup_delay,
        "startup_delay",
        "it delays the daemon's start only",
    );
    let mut applied = |changed: bool, key: &str| {
        if changed {
            plan.globals_applied.push(format!("[global] {key}"));
        }
    };
    applied(a.router_id != b.router_id, "router_id");
    applied(a.notify_fifo != b.notify_fifo, "notify_fifo");
    applied(a.notify_timeout != b.notify_timeout, "notify_timeout");
    applied(a.rt_priority != b.rt_priority, "rt_priority");
    applied(a.script_user != b.script_user, "script_user");
    applied(
        a.allow_insecure_scripts != b.allow_insecure_scripts,
        "allow_insecure_scripts",
    );
    // checksum_mode and the GARP timing are instance defaults: they show as instance changes.
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[global]
router_id = "lb1"

[[track_script]]
name = "chk"
command = "/bin/true"

[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 51
priority = 150
vips = ["192.0.2.10/24"]
track_script = ["chk"]

[[instance]]
name = "VI_2"
interface = "eth0"
vrid = 52
vips = ["192.0.2.20/24"]
"#;

    fn parse(text: &str) -> Config {
        crate::config::parse_str(text, "t.toml").unwrap()
    }

    fn change_of(plan: &Plan, name: &str) -> InstanceChange {
        plan.kept
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.clone())
            .unwrap()
    }

    #[test]
    fn the_same_config_changes_nothing() {
        let config = parse(BASE);
        let plan = plan(&config, &config);
        assert!(plan.removed.is_empty() && plan.added.is_empty());
        assert!(plan.needs_restart.is_empty() && plan.globals_applied.is_empty());
        assert!(
            plan.kept
                .iter()
                .all(|(_, c)| *c == InstanceChange::Unchanged)
        );
    }

    #[test]
    fn vips_priority_and_trackers_are_updates_the_others_stay_untouched() {
        let old = parse(BASE);
        let new = parse(
            &BASE
                .replace(
                    "\"192.0.2.10/24\"]",
                    "\"192.0.2.10/24\", \"192.0.2.11/24\"]",
                )
                .replace("priority = 150", "priority = 160"),
        );
        let plan = plan(&old, &new);
        assert_eq!(
            change_of(&plan, "VI_1"),
            InstanceChange::Update { restart: None }
        );
        assert_eq!(change_of(&plan, "VI_2"), InstanceChange::Unchanged);
        let untracked = parse(&BASE.replace("track_script = [\"chk\"]\n", ""));
        assert_eq!(
            change_of(&super::plan(&old, &untracked), "VI_1"),
            InstanceChange::Update { restart: None }
        );
    }

    #[test]
    fn a_script_definition_alone_does_not_touch_the_instance() {
        // The tracker restarts (registry); the instance keeps its state.
        let old = parse(BASE);
        let new = parse(&BASE.replace("/bin/true", "/bin/false"));
        assert_eq!(
            change_of(&plan(&old, &new), "VI_1"),
            InstanceChange::Unchanged
        );
        let init_fail = parse(&BASE.replace(
            "command = \"/bin/true\"",
            "command = \"/bin/true\"\ninit_fail = true",
        ));
        assert_eq!(
            change_of(&plan(&old, &init_fail), "VI_1"),
            InstanceChange::Update { restart: None }
        );
    }

    #[test]
    fn identity_changes_replace_accept_restarts_removed_and_added_by_name() {
        let old = parse(BASE);
        let new = parse(
            &BASE
                .replace("vrid = 52", "vrid = 53")
                .replace("name = \"VI_1\"", "name = \"VI_9\""),
        );
        let plan = plan(&old, &new);
        assert_eq!(plan.removed, ["VI_1"]);
        assert_eq!(plan.added, ["VI_9"]);
        assert_eq!(
            change_of(&plan, "VI_2"),
            InstanceChange::Replace { why: "vrid" }
        );
        assert_eq!(plan.replaced().collect::<Vec<_>>(), ["VI_2"]);
        let accept = parse(&BASE.replace("vrid = 52", "vrid = 52\naccept = false"));
        assert_eq!(
            change_of(&super::plan(&old, &accept), "VI_2"),
            InstanceChange::Update {
                restart: Some("accept")
            }
        );
    }

    #[test]
    fn a_new_sync_group_replaces_its_members() {
        let old = parse(BASE);
        let grouped =
            format!("{BASE}\n[[sync_group]]\nname = \"G\"\nmembers = [\"VI_1\", \"VI_2\"]\n");
        let new = parse(&grouped);
        let plan = plan(&old, &new);
        assert_eq!(plan.replaced().collect::<Vec<_>>(), ["VI_1", "VI_2"]);
        let same = super::plan(&new, &new);
        assert_eq!(same.replaced().count(), 0);
    }

    #[test]
    fn globals_that_need_a_restart_are_named_the_others_applied() {
        let old = parse(BASE);
        let new = parse(&BASE.replace(
            "router_id = \"lb1\"",
            "router_id = \"lb2\"\nmetrics_listen = \"192.0.2.1:9650\"\nnotify_timeout = \"3s\"\n\
             rt_priority = 10",
        ));
        let plan = plan(&old, &new);
        assert_eq!(plan.needs_restart.len(), 1);
        assert!(plan.needs_restart[0].starts_with("[global] metrics_listen"));
        assert_eq!(
            plan.globals_applied,
            [
                "[global] router_id",
                "[global] notify_timeout",
                "[global] rt_priority"
            ]
        );
    }
}
