//! The snapshot `keepvip status` prints: plain data, serialised as one JSON document.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub router_id: String,
    pub instances: Vec<InstanceStatus>,
    /// Packets dropped before they reached an instance (TTL, parse errors, unknown VRID), by reason.
    pub discards: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub family: String,
    pub version: u8,
    /// RFC 5798 §8.4 mixed mode: VRRPv3 that also sends and accepts VRRPv2.
    #[serde(default)]
    pub v2_interop: bool,
    /// INIT, BACKUP, MASTER or FAULT.
    pub state: String,
    pub base_priority: u8,
    pub effective_priority: u8,
    pub advert_interval_cs: u16,
    /// The interval learned from the current master, when it differs from ours.
    pub master_adver_interval_cs: u16,
    /// Source address of the master we last accepted an advert from (this router's own when MASTER).
    pub master: Option<String>,
    pub vips: Vec<String>,
    pub adverts_sent: u64,
    pub adverts_received: u64,
    pub transitions: u64,
    /// Adverts addressed to this instance that the protocol discarded, by reason.
    pub discards: BTreeMap<String, u64>,
    /// The checksum variant the current master uses ("pseudo-header" or "message-only"), when a
    /// peer is master.
    #[serde(default)]
    pub master_checksum: Option<String>,
    /// The instance's trackers, in its order.
    #[serde(default)]
    pub trackers: Vec<TrackerView>,
    /// Why the instance is in FAULT: link_down, interface_missing, source_lost, tracker or sync_group.
    #[serde(default)]
    pub fault: Option<String>,
    /// The macvlan of a `vmac` instance.
    #[serde(default)]
    pub vmac: Option<String>,
    /// Where adverts go instead of the multicast group (`unicast_peers`); empty for multicast.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unicast_peers: Vec<String>,
    /// The address adverts leave from.
    #[serde(default)]
    pub source: String,
    /// Adverts the socket refused (one per destination; a unicast instance sends to every peer).
    #[serde(default)]
    pub adverts_send_failed: u64,
    /// State changes by (from, to); they add up to `transitions`.
    #[serde(default)]
    pub transitions_by_state: Vec<TransitionCount>,
    /// The last takeover, in microseconds: from the loop handling the input that made this instance
    /// master to netlink acknowledging its last VIP. None before the first one.
    #[serde(default)]
    pub last_takeover_us: Option<u64>,
    /// Notify scripts run for this instance, and how many failed.
    #[serde(default)]
    pub notify_runs: u64,
    #[serde(default)]
    pub notify_failures: u64,
    /// Split-brain episodes so far: another master heard for a few intervals while master.
    #[serde(default)]
    pub split_brain_episodes: u64,
    /// The split brain in progress, if any.
    #[serde(default)]
    pub split_brain: Option<SplitBrainView>,
}

/// How often an instance went from one state to another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionCount {
    pub from: String,
    pub to: String,
    pub count: u64,
}

/// A split brain in progress as `status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitBrainView {
    /// The other master's address.
    pub peer: String,
    pub peer_priority: u8,
    /// From its first advert to its latest, in milliseconds.
    pub lasted_ms: u64,
    /// What differs in its adverts, e.g. "checksum: ours message-only, theirs pseudo-header".
    pub differences: Vec<String>,
    /// The likely cause's label (checksum_variant, version, authentication, interval,
    /// address_list, peer_does_not_hear_us).
    pub cause: String,
    /// The likely cause in a sentence.
    pub explanation: String,
}

/// One tracker of an instance as `status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackerView {
    /// The tracker's name, or the interface name.
    pub name: String,
    /// script, file, process or interface.
    pub kind: String,
    pub weight: i16,
    pub reverse: bool,
    /// OK, KO, or a file's number.
    pub state: String,
    /// Scripts: what the last run did, e.g. "exited with status 1".
    #[serde(default)]
    pub last_run: Option<String>,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "keepvip pid {} router {}", self.pid, self.router_id)?;
        writeln!(
            f,
            "{:<16} {:<10} {:>4} {:<4} {:<6} {:>4} {:>6} {:<24} VIPS",
            "INSTANCE", "INTERFACE", "VRID", "FAM", "STATE", "PRIO", "INT_MS", "MASTER"
        )?;
        for i in &self.instances {
            writeln!(
                f,
                "{:<16} {:<10} {:>4} {:<4} {:<6} {:>4} {:>5}0 {:<24} {}",
                i.name,
                i.interface,
                i.vrid,
                i.family,
                i.state,
                i.effective_priority,
                i.advert_interval_cs,
                i.master.as_deref().unwrap_or("-"),
                i.vips.join(",")
            )?;
            if let Some(why) = &i.fault {
                writeln!(f, "    fault: {why}")?;
            }
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
                    split.lasted_ms,
                    split.peer,
                    split.peer_priority,
                    split.cause,
                    split.explanation
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
        }
        for (reason, n) in &self.discards {
            writeln!(f, "discarded before dispatch {reason}: {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table_shows_state_master_interval_in_ms_and_discards() {
        let status = Status {
            pid: 42,
            router_id: "lb1".into(),
            instances: vec![InstanceStatus {
                name: "VI_1".into(),
                interface: "eth0".into(),
                vrid: 51,
                family: "ipv4".into(),
                version: 3,
                state: "BACKUP".into(),
                effective_priority: 100,
                advert_interval_cs: 10,
                master: Some("192.0.2.1".into()),
                vips: vec!["192.0.2.100/24".into()],
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
            }],
            discards: BTreeMap::from([("vrid_not_configured".to_owned(), 2)]),
        };
        let text = status.to_string();
        let row = text.lines().nth(2).unwrap();
        let columns: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            columns,
            [
                "VI_1",
                "eth0",
                "51",
                "ipv4",
                "BACKUP",
                "100",
                "100",
                "192.0.2.1",
                "192.0.2.100/24"
            ]
        );
        assert!(
            text.contains("    master's checksum: pseudo-header"),
            "{text}"
        );
        assert!(text.contains("    discarded bad_checksum: 3"), "{text}");
        assert!(text.contains("    vmac: vrrp.51"), "{text}");
        assert!(
            text.contains("    unicast from 192.0.2.1 to 192.0.2.2, 192.0.2.3"),
            "{text}"
        );
        assert!(
            text.contains(
                "    track script chk_haproxy (weight -20): KO, last run could not be run: /x"
            ),
            "{text}"
        );
        assert!(
            text.contains("discarded before dispatch vrid_not_configured: 2"),
            "{text}"
        );
    }

    #[test]
    fn status_shows_a_split_brain_its_differences_and_the_episode_count() {
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
        let json = serde_json::to_string(&status).unwrap();
        let back: Status = serde_json::from_str(&json).unwrap();
        assert_eq!(back, status);
    }
}
