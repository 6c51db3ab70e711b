//! `keepvip status` for people: one row per instance with the columns an operator reads first (state,
//! priority, master, the last transition), then indented lines with the rest. `keepvip watch` draws
//! the same rows.

use std::fmt;

use super::status::{InstanceStatus, LastTransition, Status};

const HEADER: [&str; 9] = [
    "INSTANCE",
    "INTERFACE",
    "VRID",
    "FAMILY",
    "STATE",
    "PRIORITY",
    "MASTER",
    "LAST TRANSITION",
    "VIPS",
];

/// The instance rows, header first, columns padded to their widest cell (the last one is not).
pub fn rows(status: &Status) -> Vec<String> {
    let cells: Vec<[String; 9]> = status.instances.iter().map(row_cells).collect();
    let mut widths = HEADER.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header = HEADER.map(str::to_owned);
    std::iter::once(&header)
        .chain(&cells)
        .map(|row| {
            let mut line = String::new();
            for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<width$}  "));
                }
            }
            line.trim_end().to_owned()
        })
        .collect()
}

fn row_cells(i: &InstanceStatus) -> [String; 9] {
    [
        i.name.clone(),
        i.interface.clone(),
        i.vrid.to_string(),
        i.family.clone(),
        i.state.clone(),
        priority_text(i),
        master_text(i),
        i.last_transition
            .as_ref()
            .map_or_else(|| "-".to_owned(), transition_text),
        if i.vips.is_empty() {
            "-".to_owned()
        } else {
            i.vips.join(",")
        },
    ]
}

/// The effective priority, and the base when trackers moved it: "90 (base 100)".
pub fn priority_text(i: &InstanceStatus) -> String {
    if i.effective_priority == i.base_priority {
        i.effective_priority.to_string()
    } else {
        format!("{} (base {})", i.effective_priority, i.base_priority)
    }
}

/// "self", "192.0.2.1 (200)" or "-" when no master is known.
pub fn master_text(i: &InstanceStatus) -> String {
    match (&i.master, i.master_priority) {
        _ if i.master_is_self => "self".to_owned(),
        (Some(address), Some(priority)) => format!("{address} ({priority})"),
        (Some(address), None) => address.clone(),
        (None, _) => "-".to_owned(),
    }
}

/// "BACKUP->MASTER master_down 12s ago".
pub fn transition_text(t: &LastTransition) -> String {
    format!(
        "{}->{} {} {} ago",
        t.from,
        t.to,
        t.reason,
        age_text(t.age_ms)
    )
}

/// An age an operator reads at a glance, to the second (so a redrawn table changes at most once a
/// second): "0s", "42s", "5m07s", "3h02m", "2d04h".
pub fn age_text(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "keepvip pid {} router {}", self.pid, self.router_id)?;
        let rows = rows(self);
        writeln!(f, "{}", rows[0])?;
        for (i, row) in self.instances.iter().zip(rows.iter().skip(1)) {
            writeln!(f, "{row}")?;
            details(f, i)?;
        }
        for (reason, n) in &self.discards {
            writeln!(f, "discarded before dispatch {reason}: {n}")?;
        }
        Ok(())
    }
}

/// The indented lines under an instance's row.
fn details(f: &mut fmt::Formatter<'_>, i: &InstanceStatus) -> fmt::Result {
    if let Some(t) = &i.last_transition {
        writeln!(f, "    why: {}", t.detail)?;
    }
    if let Some(why) = &i.fault {
        writeln!(f, "    fault: {why}")?;
    }
    writeln!(
        f,
        "    adverts every {} ms: sent {}, received {}; transitions {}",
        u32::from(i.advert_interval_cs) * 10,
        i.adverts_sent,
        i.adverts_received,
        i.transitions
    )?;
    if let Some(macvlan) = &i.vmac {
        writeln!(f, "    vmac: {macvlan}")?;
    }
    if i.v2_interop {
        writeln!(f, "    v2_interop: sends VRRPv3 and VRRPv2, accepts both")?;
    }
    if !i.unicast_peers.is_empty() {
        let peers = i.unicast_peers.join(", ");
        writeln!(f, "    unicast from {} to {peers}", i.source)?;
    }
    if let Some(mode) = &i.master_checksum {
        writeln!(f, "    master's checksum: {mode}")?;
    }
    for t in &i.trackers {
        let reverse = if t.reverse { " reverse" } else { "" };
        write!(
            f,
            "    track {} {} (weight {}{reverse}): {}",
            t.kind, t.name, t.weight, t.state
        )?;
        match &t.last_run {
            Some(run) => writeln!(f, ", last run {run}")?,
            None => writeln!(f)?,
        }
    }
    if let Some(split) = &i.split_brain {
        writeln!(
            f,
            "    SPLIT BRAIN for {} ms: {} (priority {}) is master too; likely cause {}: {}",
            split.lasted_ms, split.peer, split.peer_priority, split.cause, split.explanation
        )?;
        for difference in &split.differences {
            writeln!(f, "      differs: {difference}")?;
        }
    }
    if i.split_brain_episodes > 0 {
        writeln!(f, "    split-brain episodes: {}", i.split_brain_episodes)?;
    }
    for (reason, n) in &i.discards {
        writeln!(f, "    discarded {reason}: {n}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::control::{SplitBrainView, TrackerView};

    fn backup() -> InstanceStatus {
        InstanceStatus {
            name: "VI_1".into(),
            interface: "eth0".into(),
            vrid: 51,
            family: "ipv4".into(),
            version: 3,
            state: "BACKUP".into(),
            base_priority: 100,
            effective_priority: 80,
            advert_interval_cs: 10,
            master: Some("192.0.2.1".into()),
            master_priority: Some(200),
            last_transition: Some(LastTransition {
                from: "MASTER".into(),
                to: "BACKUP".into(),
                reason: "preempted".into(),
                peer: Some("192.0.2.1".into()),
                detail: "192.0.2.1 advertised priority 200, above ours".into(),
                age_ms: 307_000,
            }),
            vips: vec!["192.0.2.100/24".into()],
            adverts_sent: 7,
            adverts_received: 3000,
            transitions: 3,
            discards: BTreeMap::from([("bad_checksum".to_owned(), 3)]),
            master_checksum: Some("pseudo-header".into()),
            unicast_peers: vec!["192.0.2.2".into(), "192.0.2.3".into()],
            source: "192.0.2.1".into(),
            trackers: vec![TrackerView {
                name: "chk_haproxy".into(),
                kind: "script".into(),
                weight: -20,
                reverse: false,
                state: "KO".into(),
                last_run: Some("could not be run: /x: No such file or directory".into()),
            }],
            vmac: Some("vrrp.51".into()),
            ..InstanceStatus::default()
        }
    }

    #[test]
    fn the_table_shows_state_priorities_master_and_the_last_transition_in_columns() {
        let master = InstanceStatus {
            name: "VI_WAN".into(),
            interface: "wan0".into(),
            vrid: 7,
            family: "ipv6".into(),
            state: "MASTER".into(),
            base_priority: 200,
            effective_priority: 200,
            master: Some("fe80::1".into()),
            master_priority: Some(200),
            master_is_self: true,
            ..InstanceStatus::default()
        };
        let status = Status {
            pid: 42,
            router_id: "lb1".into(),
            instances: vec![backup(), master],
            discards: BTreeMap::from([("vrid_not_configured".to_owned(), 2)]),
            ..Status::default()
        };
        let text = status.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "keepvip pid 42 router lb1");
        // Every column starts where its header does.
        let header = lines[1];
        let row = lines[2];
        for (title, cell) in [
            ("STATE", "BACKUP"),
            ("PRIORITY", "80 (base 100)"),
            ("MASTER", "192.0.2.1 (200)"),
            ("LAST TRANSITION", "MASTER->BACKUP preempted 5m07s ago"),
            ("VIPS", "192.0.2.100/24"),
        ] {
            let at = header.find(title).unwrap();
            assert_eq!(row.get(at..at + cell.len()), Some(cell), "{text}");
        }
        let wan = lines.iter().find(|l| l.starts_with("VI_WAN")).unwrap();
        let at = header.find("MASTER").unwrap();
        assert_eq!(wan.get(at..at + 5), Some("self "), "{text}");
        assert!(wan.ends_with("  -"), "no VIPs: {wan}");
        for detail in [
            "    why: 192.0.2.1 advertised priority 200, above ours",
            "    adverts every 100 ms: sent 7, received 3000; transitions 3",
            "    master's checksum: pseudo-header",
            "    discarded bad_checksum: 3",
            "    vmac: vrrp.51",
            "    unicast from 192.0.2.1 to 192.0.2.2, 192.0.2.3",
            "    track script chk_haproxy (weight -20): KO, last run could not be run: /x",
            "discarded before dispatch vrid_not_configured: 2",
        ] {
            assert!(text.contains(detail), "{detail:?} in\n{text}");
        }
    }

    #[test]
    fn the_table_shows_a_split_brain_its_differences_and_the_episode_count() {
        let status = Status {
            instances: vec![InstanceStatus {
                name: "VI_1".into(),
                state: "MASTER".into(),
                split_brain_episodes: 2,
                split_brain: Some(SplitBrainView {
                    peer: "192.0.2.2".into(),
                    peer_priority: 100,
                    lasted_ms: 3000,
                    differences: vec!["checksum: ours message-only, theirs pseudo-header".into()],
                    cause: "checksum_variant".into(),
                    explanation: "set checksum_mode".into(),
                }),
                ..InstanceStatus::default()
            }],
            ..Status::default()
        };
        let text = status.to_string();
        assert!(
            text.contains(
                "    SPLIT BRAIN for 3000 ms: 192.0.2.2 (priority 100) is master too; likely \
                 cause checksum_variant: set checksum_mode"
            ),
            "{text}"
        );
        assert!(
            text.contains("      differs: checksum: ours message-only, theirs pseudo-header"),
            "{text}"
        );
        assert!(text.contains("    split-brain episodes: 2"), "{text}");
    }

    #[test]
    fn ages_read_at_a_glance_to_the_second() {
        assert_eq!(age_text(999), "0s");
        assert_eq!(age_text(42_500), "42s");
        assert_eq!(age_text(307_000), "5m07s");
        assert_eq!(age_text(3 * 3_600_000 + 120_000), "3h02m");
        assert_eq!(age_text(2 * 86_400_000 + 4 * 3_600_000), "2d04h");
    }
}
