//! The snapshot `keepvip status` prints: plain data, serialised as one JSON document whose every
//! field docs/status.md documents (a test holds the two together). The table is in `table.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The version of the JSON schema docs/status.md documents. Bumped when a field is removed or
/// renamed, or its type or meaning changes; adding a field does not bump it (readers ignore fields
/// they do not know).
pub const STATUS_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// [`STATUS_SCHEMA_VERSION`] of the daemon that built it (0: a daemon older than the schema).
    #[serde(default)]
    pub schema_version: u32,
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
    /// The priority that master advertised (our effective priority when MASTER).
    #[serde(default)]
    pub master_priority: Option<u8>,
    /// This router is the master.
    #[serde(default)]
    pub master_is_self: bool,
    /// The latest state change; None before the first.
    #[serde(default)]
    pub last_transition: Option<LastTransition>,
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
    #[serde(default)]
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

impl Default for Status {
    fn default() -> Self {
        Status {
            schema_version: STATUS_SCHEMA_VERSION,
            pid: 0,
            router_id: String::new(),
            instances: Vec::new(),
            discards: BTreeMap::new(),
        }
    }
}

/// An instance's latest state change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastTransition {
    /// INIT, BACKUP, MASTER or FAULT.
    pub from: String,
    pub to: String,
    /// The stable label (`vrrp_core::Reason::label`), as in the log and `KEEPVIP_REASON`.
    pub reason: String,
    /// The other router the reason names (the master that resigned, preempted us...), if any.
    pub peer: Option<String>,
    /// The reason in a sentence.
    pub detail: String,
    /// Milliseconds between the change and this snapshot.
    pub age_ms: u64,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_goes_through_json_unchanged_and_says_its_schema_version() {
        let status = Status {
            instances: vec![InstanceStatus {
                name: "VI_1".into(),
                state: "MASTER".into(),
                split_brain_episodes: 2,
                split_brain: Some(SplitBrainView {
                    peer: "192.0.2.2".into(),
                    ..SplitBrainView::default()
                }),
                last_transition: Some(LastTransition {
                    from: "BACKUP".into(),
                    to: "MASTER".into(),
                    reason: "master_down".into(),
                    age_ms: 1500,
                    ..LastTransition::default()
                }),
                ..InstanceStatus::default()
            }],
            ..Status::default()
        };
        let json = serde_json::to_string(&status).unwrap();
        assert!(json.starts_with("{\"schema_version\":1,"), "{json}");
        let back: Status = serde_json::from_str(&json).unwrap();
        assert_eq!(back, status);
    }
}
