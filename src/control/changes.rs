//! What changed between two status snapshots, for `keepvip watch`: transitions (from the counters and
//! the last transition, so a change between two polls is not missed), priority, master, tracker
//! changes, instances added or removed by a reload, a restarted daemon. Pure: no clock, no IO.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::status::{InstanceStatus, LastTransition, Status};
use super::table::master_text;

/// One change, as `keepvip watch` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The first snapshot (or a new instance): where it stands.
    Present {
        instance: String,
        state: String,
        priority: u8,
        master: String,
    },
    Transition {
        instance: String,
        transition: LastTransition,
        /// Transitions between the two snapshots before this one, not shown one by one.
        earlier: u64,
    },
    Priority {
        instance: String,
        from: u8,
        to: u8,
    },
    Master {
        instance: String,
        from: String,
        to: String,
    },
    Tracker {
        instance: String,
        tracker: String,
        from: String,
        to: String,
    },
    Removed {
        instance: String,
    },
    Restarted {
        from_pid: u32,
        to_pid: u32,
    },
}

/// The changes from `old` to `new`; with no `old`, where every instance stands.
pub fn changes(old: Option<&Status>, new: &Status) -> Vec<Change> {
    let old = match old {
        Some(old) if old.pid != new.pid => {
            let mut out = vec![Change::Restarted {
                from_pid: old.pid,
                to_pid: new.pid,
            }];
            out.extend(new.instances.iter().map(present));
            return out;
        }
        Some(old) => old,
        None => return new.instances.iter().map(present).collect(),
    };
    let mut out = Vec::new();
    for instance in &new.instances {
        match old.instances.iter().find(|o| o.name == instance.name) {
            Some(before) => instance_changes(before, instance, &mut out),
            None => out.push(present(instance)),
        }
    }
    for gone in &old.instances {
        if !new.instances.iter().any(|i| i.name == gone.name) {
            out.push(Change::Removed {
                instance: gone.name.clone(),
            });
        }
    }
    out
}

fn present(i: &InstanceStatus) -> Change {
    Change::Present {
        instance: i.name.clone(),
        state: i.state.clone(),
        priority: i.effective_priority,
        master: master_text(i),
    }
}

fn instance_changes(old: &InstanceStatus, new: &InstanceStatus, out: &mut Vec<Change>) {
    let instance = || new.name.clone();
    let new_transitions = new.transitions.saturating_sub(old.transitions);
    if let (true, Some(transition)) = (new_transitions > 0, &new.last_transition) {
        out.push(Change::Transition {
            instance: instance(),
            transition: transition.clone(),
            earlier: new_transitions - 1,
        });
    }
    if old.effective_priority != new.effective_priority {
        out.push(Change::Priority {
            instance: instance(),
            from: old.effective_priority,
            to: new.effective_priority,
        });
    }
    // A new master we follow (a transition already says when we became or stopped being it).
    let (from, to) = (master_text(old), master_text(new));
    if new_transitions == 0 && old.master != new.master {
        out.push(Change::Master {
            instance: instance(),
            from,
            to,
        });
    }
    for tracker in &new.trackers {
        let before = old.trackers.iter().find(|t| t.name == tracker.name);
        if let Some(before) = before.filter(|b| b.state != tracker.state) {
            out.push(Change::Tracker {
                instance: instance(),
                tracker: tracker.name.clone(),
                from: before.state.clone(),
                to: tracker.state.clone(),
            });
        }
    }
}

/// One plain line: the time (UTC, milliseconds; a transition's own time, from its age), the instance,
/// then what changed. A transition reads "VI_1 BACKUP -> MASTER master_down: <sentence>".
pub fn line(change: &Change, now: SystemTime) -> String {
    let at = |ago_ms: u64| {
        utc(now
            .checked_sub(Duration::from_millis(ago_ms))
            .unwrap_or(now))
    };
    match change {
        Change::Present {
            instance,
            state,
            priority,
            master,
        } => format!(
            "{} {instance} is {state} priority {priority} master {master}",
            at(0)
        ),
        Change::Transition {
            instance,
            transition: t,
            earlier,
        } => {
            let more = match earlier {
                0 => String::new(),
                n => format!(" ({n} earlier transition(s) since the previous poll)"),
            };
            format!(
                "{} {instance} {} -> {} {}: {}{more}",
                at(t.age_ms),
                t.from,
                t.to,
                t.reason,
                t.detail
            )
        }
        Change::Priority { instance, from, to } => {
            format!("{} {instance} priority {from} -> {to}", at(0))
        }
        Change::Master { instance, from, to } => {
            format!("{} {instance} master {from} -> {to}", at(0))
        }
        Change::Tracker {
            instance,
            tracker,
            from,
            to,
        } => format!("{} {instance} tracker {tracker} {from} -> {to}", at(0)),
        Change::Removed { instance } => format!("{} {instance} removed", at(0)),
        Change::Restarted { from_pid, to_pid } => {
            format!("{} daemon restarted: pid {from_pid} -> {to_pid}", at(0))
        }
    }
}

/// `time` as RFC 3339 UTC with milliseconds, e.g. 2026-12-01T13:05:09.483Z.
pub fn utc(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::TrackerView;

    fn instance(state: &str, transitions: u64) -> InstanceStatus {
        InstanceStatus {
            name: "VI_1".into(),
            state: state.into(),
            base_priority: 100,
            effective_priority: 100,
            transitions,
            master: Some("192.0.2.1".into()),
            master_priority: Some(200),
            trackers: vec![TrackerView {
                name: "chk".into(),
                state: "OK".into(),
                ..TrackerView::default()
            }],
            ..InstanceStatus::default()
        }
    }

    fn status(pid: u32, instances: Vec<InstanceStatus>) -> Status {
        Status {
            pid,
            instances,
            ..Status::default()
        }
    }

    fn took_over(age_ms: u64) -> LastTransition {
        LastTransition {
            from: "BACKUP".into(),
            to: "MASTER".into(),
            reason: "master_resigned".into(),
            peer: Some("192.0.2.1".into()),
            detail: "master 192.0.2.1 resigned (priority-0 advert)".into(),
            age_ms,
        }
    }

    #[test]
    fn an_unchanged_snapshot_has_no_changes_even_as_ages_grow() {
        let mut before = instance("BACKUP", 1);
        before.last_transition = Some(took_over(100));
        let mut after = before.clone();
        after.last_transition = Some(took_over(5_000));
        after.adverts_received += 20;
        let old = status(7, vec![before]);
        assert_eq!(changes(Some(&old), &status(7, vec![after])), []);
    }

    #[test]
    fn a_transition_is_seen_by_its_counter_with_how_many_happened_in_between() {
        let old = status(7, vec![instance("BACKUP", 1)]);
        let mut new = instance("MASTER", 4);
        new.last_transition = Some(took_over(40));
        new.master = Some("192.0.2.2".into());
        new.master_is_self = true;
        let found = changes(Some(&old), &status(7, vec![new]));
        assert_eq!(
            found,
            [Change::Transition {
                instance: "VI_1".into(),
                transition: took_over(40),
                earlier: 2,
            }],
            "the master change is the transition's, not a line of its own"
        );
        let now = UNIX_EPOCH + Duration::from_millis(1_764_594_309_523);
        assert_eq!(
            line(&found[0], now),
            "2025-12-01T13:05:09.483Z VI_1 BACKUP -> MASTER master_resigned: master 192.0.2.1 \
             resigned (priority-0 advert) (2 earlier transition(s) since the previous poll)"
        );
    }

    #[test]
    fn priority_master_and_tracker_changes_removed_and_new_instances() {
        let old = status(7, vec![instance("BACKUP", 1)]);
        let mut changed = instance("BACKUP", 1);
        changed.effective_priority = 80;
        changed.master = Some("192.0.2.3".into());
        changed.trackers[0].state = "KO".into();
        let mut other = instance("BACKUP", 1);
        other.name = "VI_2".into();
        let found = changes(Some(&old), &status(7, vec![changed, other]));
        let now = UNIX_EPOCH;
        let lines: Vec<String> = found.iter().map(|c| line(c, now)).collect();
        let t = "1970-01-01T00:00:00.000Z";
        assert_eq!(
            lines,
            [
                format!("{t} VI_1 priority 100 -> 80"),
                format!("{t} VI_1 master 192.0.2.1 (200) -> 192.0.2.3 (200)"),
                format!("{t} VI_1 tracker chk OK -> KO"),
                format!("{t} VI_2 is BACKUP priority 100 master 192.0.2.1 (200)"),
            ]
        );
        let gone = changes(Some(&old), &status(7, Vec::new()));
        assert_eq!(
            gone,
            [Change::Removed {
                instance: "VI_1".into()
            }]
        );
    }

    #[test]
    fn a_restarted_daemon_is_said_and_its_instances_shown_afresh() {
        let old = status(7, vec![instance("MASTER", 5)]);
        let found = changes(Some(&old), &status(9, vec![instance("BACKUP", 1)]));
        assert_eq!(
            found[0],
            Change::Restarted {
                from_pid: 7,
                to_pid: 9
            }
        );
        assert!(matches!(&found[1], Change::Present { state, .. } if state == "BACKUP"));
    }

    #[test]
    fn utc_dates_follow_the_calendar() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2024-02-29 (a leap day) 23:59:59.999.
        let leap = UNIX_EPOCH + Duration::from_millis(1_709_251_199_999);
        assert_eq!(utc(leap), "2024-02-29T23:59:59.999Z");
        let later = UNIX_EPOCH + Duration::from_secs(4_102_444_800);
        assert_eq!(utc(later), "2100-01-01T00:00:00.000Z");
    }
}
