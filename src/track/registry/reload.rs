//! Reload: the registry follows the new config. A tracker still used with the same definition keeps
//! its id, its reading and its task; one whose definition changed keeps its id and reading until its
//! new task reports (the task restarts); one no instance uses any more is retired (its task stops,
//! its id is never reused); a new one gets a new id and a task, and its first reading counts.

use super::{Registry, TrackId, Tracker};
use crate::config::{Config, TrackerKind};

/// What the daemon must do with tracker tasks after [`Registry::reload`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TrackerChanges {
    /// Trackers whose task must start (new ones, and redefined ones whose old task stops first).
    pub start: Vec<TrackId>,
    /// Trackers retired: their task stops.
    pub stop: Vec<TrackId>,
    /// Trackers of another definition (also in `start`): their old task stops.
    pub redefined: Vec<TrackId>,
}

impl Registry {
    /// Follows `new` (the running config was `old`). `scripts_rerun`: every script restarts (the
    /// global script user changed).
    pub fn reload(&mut self, old: &Config, new: &Config, scripts_rerun: bool) -> TrackerChanges {
        let wanted = Registry::build(new);
        let mut changes = TrackerChanges::default();
        for index in 0..self.trackers.len() {
            let id = TrackId(index);
            let Some(tracker) = self.trackers.get_mut(index).filter(|t| !t.retired) else {
                continue;
            };
            let key = (tracker.kind, tracker.name.clone());
            match wanted
                .by_key
                .get(&key)
                .and_then(|&w| wanted.trackers.get(w.0))
            {
                Some(used) => {
                    tracker.watchers = used.watchers.clone();
                    let rerun = scripts_rerun && tracker.kind == TrackerKind::Script;
                    if rerun || !same_definition(old, new, tracker.kind, &tracker.name) {
                        changes.start.push(id);
                        changes.redefined.push(id);
                    }
                }
                None => {
                    tracker.retired = true;
                    tracker.watchers.clear();
                    self.by_key.remove(&key);
                    changes.stop.push(id);
                }
            }
        }
        for used in &wanted.trackers {
            let key = (used.kind, used.name.clone());
            if self.by_key.contains_key(&key) {
                continue;
            }
            let id = TrackId(self.trackers.len());
            self.trackers.push(Tracker {
                watchers: used.watchers.clone(),
                ..used.clone()
            });
            self.by_key.insert(key, id);
            changes.start.push(id);
        }
        changes
    }
}

/// Whether the tracker `name` of `kind` is defined alike in both configs (interfaces have no
/// definition).
fn same_definition(old: &Config, new: &Config, kind: TrackerKind, name: &str) -> bool {
    let (o, n) = (&old.trackers, &new.trackers);
    match kind {
        TrackerKind::Interface => true,
        TrackerKind::Script => {
            o.scripts.iter().find(|s| s.name == name) == n.scripts.iter().find(|s| s.name == name)
        }
        TrackerKind::File => {
            o.files.iter().find(|f| f.name == name) == n.files.iter().find(|f| f.name == name)
        }
        TrackerKind::Process => {
            o.processes.iter().find(|p| p.name == name)
                == n.processes.iter().find(|p| p.name == name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::{Reading, Report};

    const BASE: &str = r#"
[[track_script]]
name = "chk"
command = "/bin/true"
interval = "1s"

[[track_script]]
name = "gone"
command = "/bin/true"

[[instance]]
name = "A"
interface = "eth0"
vrid = 1
vips = ["192.0.2.10/24"]
track_script = ["chk", "gone"]
track_interface = ["eth1"]
"#;

    fn parse(text: &str) -> Config {
        crate::config::parse_str(text, "t.toml").unwrap()
    }

    #[test]
    fn kept_trackers_keep_id_and_reading_retired_ones_stop_new_ones_start() {
        let old = parse(BASE);
        let mut registry = Registry::build(&old);
        registry.record(Report {
            tracker: TrackId(0),
            reading: Reading::Ko,
        });
        let text = BASE
            .replace(
                "track_script = [\"chk\", \"gone\"]",
                "track_script = [\"chk\"]",
            )
            .replace(
                "track_interface = [\"eth1\"]",
                "track_interface = [\"eth1\", \"eth2\"]",
            );
        let new = parse(&text);
        let changes = registry.reload(&old, &new, false);
        assert_eq!(changes.stop, [TrackId(1)]);
        assert_eq!(changes.start, [TrackId(3)], "eth2 is new");
        assert!(changes.redefined.is_empty());
        let chk = registry.get(TrackId(0)).unwrap();
        assert_eq!(chk.reading, Some(Reading::Ko), "chk keeps its reading");
        assert!(registry.get(TrackId(1)).is_none(), "retired");
        assert_eq!(registry.interface("eth2"), Some(TrackId(3)));
        assert_eq!(registry.interface("eth1"), Some(TrackId(2)));
        assert!(!registry.record(Report {
            tracker: TrackId(1),
            reading: Reading::Ok
        }));
        let watchers = &registry.get(TrackId(2)).unwrap().watchers;
        assert_eq!(
            watchers,
            &[("A".to_owned(), 1)],
            "eth1 is A's second tracker now"
        );
    }

    #[test]
    fn a_redefined_script_keeps_its_id_and_restarts_and_nothing_changes_without_a_difference() {
        let old = parse(BASE);
        let mut registry = Registry::build(&old);
        assert_eq!(
            registry.reload(&old, &old, false),
            TrackerChanges::default()
        );
        let new = parse(&BASE.replace("interval = \"1s\"", "interval = \"2s\""));
        let changes = registry.reload(&old, &new, false);
        assert_eq!(changes.start, [TrackId(0)]);
        assert_eq!(changes.redefined, [TrackId(0)]);
        assert!(changes.stop.is_empty());
        let all = registry.reload(&new, &new, true);
        assert_eq!(
            all.redefined,
            [TrackId(0), TrackId(1)],
            "a new script user reruns every script"
        );
    }
}
