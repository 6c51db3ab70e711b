//! The daemon's trackers: one per `[[track_script]]`, `[[track_file]]` and `[[track_process]]` that an
//! instance uses, and one per tracked interface name, each with a [`TrackId`] and the list of
//! (instance, the instance's own tracker index) it feeds. Starting them (`start`), the core's view of
//! an instance's trackers (`core_trackers`), and the latest reading of each for `status`.

use std::collections::HashMap;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::process::ProcessSpec;
use super::script::{ScriptRun, ScriptSpec};
use super::{Reading, Report, TrackId, file, process, script};
use crate::config::{Config, Instance, TrackerKind, TrackerRef};
use crate::exec::{self, RunAs};

mod reload;

pub use reload::TrackerChanges;

/// One running tracker.
#[derive(Debug, Clone)]
pub struct Tracker {
    pub kind: TrackerKind,
    /// The tracker's name, or the interface name.
    pub name: String,
    /// (instance name, index in that instance's tracker list = the core's `TrackerId`).
    pub watchers: Vec<(String, usize)>,
    /// The latest reading; `None` before the first.
    pub reading: Option<Reading>,
    /// Scripts: the latest run.
    pub last_run: Option<ScriptRun>,
    /// No instance uses it any more (reload); its id is never reused.
    pub retired: bool,
}

/// Every tracker the config's instances use.
#[derive(Debug, Default)]
pub struct Registry {
    trackers: Vec<Tracker>,
    by_key: HashMap<(TrackerKind, String), TrackId>,
}

/// Where tracker tasks report.
pub struct Channels {
    pub reports: mpsc::Sender<Report>,
    pub runs: mpsc::Sender<ScriptRun>,
}

impl Registry {
    /// The trackers the instances of `config` use, in first-use order.
    pub fn build(config: &Config) -> Registry {
        let mut registry = Registry::default();
        for instance in &config.instances {
            for (index, tracker) in instance.trackers.iter().enumerate() {
                let id = registry.id_for(tracker);
                if let Some(entry) = registry.trackers.get_mut(id.0) {
                    entry.watchers.push((instance.name.clone(), index));
                }
            }
        }
        registry
    }

    fn id_for(&mut self, tracker: &TrackerRef) -> TrackId {
        let key = (tracker.kind, tracker.name.clone());
        if let Some(&id) = self.by_key.get(&key) {
            return id;
        }
        let id = TrackId(self.trackers.len());
        self.trackers.push(Tracker {
            kind: tracker.kind,
            name: tracker.name.clone(),
            watchers: Vec::new(),
            reading: None,
            last_run: None,
            retired: false,
        });
        self.by_key.insert(key, id);
        id
    }

    /// A tracker in use (`None` once a reload retired it).
    pub fn get(&self, id: TrackId) -> Option<&Tracker> {
        self.trackers.get(id.0).filter(|t| !t.retired)
    }

    /// The trackers in use.
    pub fn iter(&self) -> impl Iterator<Item = (TrackId, &Tracker)> + '_ {
        self.trackers
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.retired)
            .map(|(i, t)| (TrackId(i), t))
    }

    /// The tracker of `kind` called `name`, if one is in use.
    pub fn find(&self, kind: TrackerKind, name: &str) -> Option<TrackId> {
        self.by_key.get(&(kind, name.to_owned())).copied()
    }

    /// The tracker of interface `name`, if one is tracked.
    pub fn interface(&self, name: &str) -> Option<TrackId> {
        self.by_key
            .get(&(TrackerKind::Interface, name.to_owned()))
            .copied()
    }

    /// Records a reading; true if it differs from the last one.
    pub fn record(&mut self, report: Report) -> bool {
        match self.trackers.get_mut(report.tracker.0) {
            Some(t) if !t.retired && t.reading != Some(report.reading) => {
                t.reading = Some(report.reading);
                true
            }
            _ => false,
        }
    }

    pub fn record_run(&mut self, run: ScriptRun) {
        if let Some(t) = self.trackers.get_mut(run.tracker.0) {
            t.last_run = Some(run);
        }
    }

    /// Whether every script, file and process tracker has reported once (interfaces are read by the
    /// daemon itself).
    pub fn all_reported(&self) -> bool {
        self.iter()
            .all(|(_, t)| t.kind == TrackerKind::Interface || t.reading.is_some())
    }

    /// Starts a task for every script, file and process tracker. `run_as`: the resolved `[global]
    /// script_user`; a script's own user (resolved by the caller in `script_users`) overrides it.
    pub fn start(
        &self,
        config: &Config,
        run_as: Option<&RunAs>,
        script_users: &HashMap<String, RunAs>,
        channels: &Channels,
    ) -> Vec<(TrackId, JoinHandle<()>)> {
        let all: Vec<TrackId> = self.iter().map(|(id, _)| id).collect();
        self.start_some(&all, config, run_as, script_users, channels)
    }

    /// [`Registry::start`] for the trackers `ids` only (reload).
    pub fn start_some(
        &self,
        ids: &[TrackId],
        config: &Config,
        run_as: Option<&RunAs>,
        script_users: &HashMap<String, RunAs>,
        channels: &Channels,
    ) -> Vec<(TrackId, JoinHandle<()>)> {
        let mut tasks = Vec::new();
        for (id, tracker) in self.iter().filter(|(id, _)| ids.contains(id)) {
            let reports = channels.reports.clone();
            let task = match tracker.kind {
                TrackerKind::Script => config
                    .trackers
                    .scripts
                    .iter()
                    .find(|s| s.name == tracker.name)
                    .map(|s| {
                        let user = script_users.get(&s.name).or(run_as).copied();
                        script::spawn(id, script_spec(s, user), reports, channels.runs.clone())
                    }),
                TrackerKind::File => config
                    .trackers
                    .files
                    .iter()
                    .find(|f| f.name == tracker.name)
                    .map(|f| {
                        init_file(f);
                        file::spawn(id, f.path.clone(), reports)
                    }),
                TrackerKind::Process => config
                    .trackers
                    .processes
                    .iter()
                    .find(|p| p.name == tracker.name)
                    .map(|p| process::spawn(id, ProcessSpec::from(p), reports)),
                TrackerKind::Interface => None,
            };
            tasks.extend(task.map(|task| (id, task)));
        }
        tasks
    }

    /// The names of the tracked interfaces.
    pub fn interface_names(&self) -> Vec<String> {
        self.iter()
            .filter(|(_, t)| t.kind == TrackerKind::Interface)
            .map(|(_, t)| t.name.clone())
            .collect()
    }
}

/// The core's view of an instance's trackers, in the instance's order (the core's `TrackerId`s).
pub fn core_trackers(instance: &Instance, config: &Config) -> Vec<vrrp_core::TrackerConfig> {
    instance
        .trackers
        .iter()
        .map(|t| vrrp_core::TrackerConfig {
            weight: t.weight,
            reverse: t.reverse,
            // Replaced by the first reading before the instance starts; a script with init_fail
            // starts KO until it succeeds `rise` times.
            initially_ok: match t.kind {
                TrackerKind::Script => !config
                    .trackers
                    .scripts
                    .iter()
                    .any(|s| s.name == t.name && s.init_fail),
                _ => true,
            },
        })
        .collect()
}

/// keepalived's `init_file`: writes `init_value` when the file is missing (or always, with
/// `init_overwrite`), before the tracker first reads it.
fn init_file(file: &crate::config::TrackFile) {
    let Some(value) = file.init_value else {
        return;
    };
    if file.path.exists() && !file.init_overwrite {
        return;
    }
    if let Err(e) = std::fs::write(&file.path, format!("{value}\n")) {
        tracing::warn!(path = %file.path.display(), error = %e, "track_file init_value not written");
    }
}

fn script_spec(script: &crate::config::TrackScript, run_as: Option<RunAs>) -> ScriptSpec {
    ScriptSpec {
        name: script.name.clone(),
        command: exec::Command {
            argv: script.command.words.clone(),
            shell: script.command.shell,
            run_as,
            env: Vec::new(),
            timeout: script.timeout,
        },
        interval: script.interval,
        rise: script.rise,
        fall: script.fall,
        initial: if script.init_fail { Some(false) } else { None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tracker_per_definition_feeding_every_instance_that_lists_it() {
        let text = r#"
[[track_script]]
name = "chk"
command = "/bin/true"
weight = -20

[[instance]]
name = "A"
interface = "eth0"
vrid = 1
vips = ["192.0.2.10/24"]
track_script = ["chk"]
track_interface = ["eth1"]

[[instance]]
name = "B"
interface = "eth0"
vrid = 2
vips = ["192.0.2.11/24"]
track_interface = ["eth2", "eth1"]
track_script = [{ name = "chk", weight = 5 }]
"#;
        let config = crate::config::parse_str(text, "t.toml").unwrap();
        let registry = Registry::build(&config);
        type Row<'a> = (TrackerKind, &'a str, Vec<(&'a str, usize)>);
        let summary: Vec<Row> = registry
            .iter()
            .map(|(_, t)| {
                let watchers = t.watchers.iter().map(|(n, i)| (n.as_str(), *i)).collect();
                (t.kind, t.name.as_str(), watchers)
            })
            .collect();
        assert_eq!(
            summary,
            [
                (TrackerKind::Script, "chk", vec![("A", 0), ("B", 0)]),
                (TrackerKind::Interface, "eth1", vec![("A", 1), ("B", 2)]),
                (TrackerKind::Interface, "eth2", vec![("B", 1)]),
            ]
        );
        let b = core_trackers(&config.instances[1], &config);
        assert_eq!(b.iter().map(|t| t.weight).collect::<Vec<_>>(), [5, 0, 0]);
        assert_eq!(registry.interface("eth2"), Some(TrackId(2)));
        assert!(!registry.all_reported(), "the script has not reported yet");
    }
}
