//! What the daemon needs to run trackers besides its event handlers (those are in `trackers.rs`):
//! script users resolved and scripts audited before startup, the bound on the startup wait, the
//! tracked interfaces' first readings, and the watched tracker tasks.

use std::collections::HashMap;
use std::time::Duration;

use tokio::task::{AbortHandle, JoinHandle, JoinSet};
use tracing::warn;

use super::error::DaemonError;
use super::privileges::Privileges;
use crate::config::{Config, ScriptUser, TrackerKind};
use crate::exec::RunAs;
use crate::exec::audit::audit;
use crate::net::Netlink;
use crate::track::registry::Registry;
use crate::track::{Reading, Report, TrackId};

/// Startup waits at most this long for every tracker's first reading (keepalived keeps an instance in
/// INIT until its scripts have reported).
pub const FIRST_READINGS_LIMIT: Duration = Duration::from_secs(30);

/// The first reading of every tracked interface, read now (a missing interface is down).
pub async fn interface_readings(registry: &Registry, netlink: &Netlink) -> Vec<Report> {
    let mut reports = Vec::new();
    for (tracker, t) in registry.iter() {
        if t.kind != TrackerKind::Interface {
            continue;
        }
        let up = netlink
            .link_by_name(&t.name)
            .await
            .is_ok_and(|link| link.up);
        let reading = if up { Reading::Ok } else { Reading::Ko };
        reports.push(Report { tracker, reading });
    }
    reports
}

/// The users scripts run as, resolved, after every script passed the audit.
pub struct ScriptUsers {
    /// `[global] script_user`.
    pub default: Option<RunAs>,
    /// A script's own `user`, by script name.
    pub by_script: HashMap<String, RunAs>,
}

/// Resolves script users and audits every script (`exec::audit`): an insecure script or a missing
/// user refuses startup; a missing script is logged and will count as a failure.
pub fn prepare_scripts(
    config: &Config,
    privileges: &Privileges,
) -> Result<ScriptUsers, DaemonError> {
    // A user that does not resolve is reported by the audit below, once.
    let resolve = |user: &ScriptUser| RunAs::resolve(&user.user, user.group.as_deref()).ok();
    let default = config.global.script_user.as_ref().and_then(resolve);
    let by_script: HashMap<String, RunAs> = config
        .trackers
        .scripts
        .iter()
        .filter_map(|s| Some((s.name.clone(), resolve(s.user.as_ref()?)?)))
        .collect();
    let mut errors = Vec::new();
    for problem in audit(config, nix::unistd::geteuid().is_root()) {
        if problem.insecure {
            errors.push(problem.to_string());
        } else {
            warn!(problem = %problem, "script cannot be run; it will count as a failure");
        }
    }
    errors.extend(unswitchable_users(config, privileges));
    if errors.is_empty() {
        Ok(ScriptUsers { default, by_script })
    } else {
        Err(DaemonError::Scripts(errors))
    }
}

/// Script users the daemon cannot become: any user but its own needs CAP_SETUID and CAP_SETGID,
/// which an unprivileged keepvip (the shipped systemd unit) does not have.
fn unswitchable_users(config: &Config, privileges: &Privileges) -> Vec<String> {
    let global = config
        .global
        .script_user
        .as_ref()
        .map(|u| ("[global] script_user".to_owned(), u));
    let own = config.trackers.scripts.iter().filter_map(|s| {
        let user = s.user.as_ref()?;
        Some((format!("track_script \"{}\" user", s.name), user))
    });
    global
        .into_iter()
        .chain(own)
        .filter_map(|(key, user)| {
            let run_as = RunAs::resolve(&user.user, user.group.as_deref()).ok()?;
            (!privileges.can_run_as(run_as.uid, run_as.gid)).then(|| {
                format!(
                    "{key} \"{}\" (uid {}, gid {}) needs CAP_SETUID and CAP_SETGID, which keepvip \
                     (uid {}, gid {}) does not have: remove it so scripts run as keepvip's own user, \
                     or run keepvip as root",
                    user.user, run_as.uid, run_as.gid, privileges.uid, privileges.gid
                )
            })
        })
        .collect()
}

/// How long startup waits for first readings: the longest script timeout and a margin.
pub fn first_readings_limit(config: &Config) -> Duration {
    let used = |name: &str| {
        config
            .instances
            .iter()
            .any(|i| i.trackers.iter().any(|t| t.name == name))
    };
    let longest = config
        .trackers
        .scripts
        .iter()
        .filter(|s| used(&s.name))
        .map(|s| s.timeout)
        .max()
        .unwrap_or_default();
    (longest + Duration::from_secs(2)).min(FIRST_READINGS_LIMIT)
}

/// The running tracker tasks, watched: one that ends (a bug, or a panic) must not leave its last
/// reading standing silently. A task stopped on purpose (reload) is not reported.
#[derive(Default)]
pub struct TrackerTasks {
    watchers: JoinSet<(TrackId, u64)>,
    /// The current task of each tracker, with its generation.
    tasks: HashMap<TrackId, (u64, AbortHandle)>,
    next_generation: u64,
}

impl TrackerTasks {
    pub fn watch(started: Vec<(TrackId, JoinHandle<()>)>) -> TrackerTasks {
        let mut watched = TrackerTasks::default();
        watched.add(started);
        watched
    }

    /// Watches more tasks; one that replaces a tracker's task stops the old one.
    pub fn add(&mut self, started: Vec<(TrackId, JoinHandle<()>)>) {
        for (id, task) in started {
            self.next_generation += 1;
            let generation = self.next_generation;
            let replaced = self.tasks.insert(id, (generation, task.abort_handle()));
            if let Some((_, old)) = replaced {
                old.abort();
            }
            self.watchers.spawn(async move {
                let _ = task.await;
                (id, generation)
            });
        }
    }

    /// Stops a tracker's task without reporting it as ended.
    pub fn stop(&mut self, id: TrackId) {
        if let Some((_, task)) = self.tasks.remove(&id) {
            task.abort();
        }
    }

    /// The next tracker whose current task ended; pending while none has.
    pub async fn ended(&mut self) -> TrackId {
        loop {
            match self.watchers.join_next().await {
                Some(Ok((id, generation))) => {
                    if self.tasks.get(&id).is_some_and(|(g, _)| *g == generation) {
                        return id;
                    }
                }
                Some(Err(_)) => continue,
                None => std::future::pending::<()>().await,
            }
        }
    }

    pub fn abort_all(&mut self) {
        self.tasks.values().for_each(|(_, task)| task.abort());
        self.watchers.abort_all();
    }
}

pub fn kind_name(kind: TrackerKind) -> &'static str {
    match kind {
        TrackerKind::Script => "script",
        TrackerKind::File => "file",
        TrackerKind::Process => "process",
        TrackerKind::Interface => "interface",
    }
}

pub fn describe(reading: Reading) -> String {
    match reading {
        Reading::Ok => "OK".to_owned(),
        Reading::Ko => "KO".to_owned(),
        Reading::Value(n) => n.to_string(),
    }
}
