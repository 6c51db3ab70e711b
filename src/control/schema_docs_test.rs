//! docs/status.md and the serialised [`Status`] cannot drift: a status with every field filled in
//! (struct literals without `..Default::default()`, so a new field must be written here) is checked
//! against the documented schema both ways, and so is the documentation's own example.

use std::collections::BTreeMap;

use super::schema::Schema;
use super::*;

const DOCS: &str = include_str!("../../docs/status.md");

fn every_field_filled() -> Status {
    let instance = InstanceStatus {
        name: "VI_1".into(),
        interface: "eth0".into(),
        vrid: 51,
        family: "ipv4".into(),
        version: 3,
        v2_interop: false,
        state: "MASTER".into(),
        base_priority: 100,
        effective_priority: 90,
        advert_interval_cs: 100,
        master_adver_interval_cs: 100,
        master: Some("192.0.2.2".into()),
        master_priority: Some(90),
        master_is_self: true,
        last_transition: Some(LastTransition {
            from: "BACKUP".into(),
            to: "MASTER".into(),
            reason: "master_resigned".into(),
            peer: Some("192.0.2.1".into()),
            detail: "master 192.0.2.1 resigned (priority-0 advert)".into(),
            age_ms: 5120,
        }),
        vips: vec!["192.0.2.10/24".into()],
        adverts_sent: 6,
        adverts_received: 312,
        transitions: 2,
        discards: BTreeMap::from([("lower_priority".to_owned(), 1)]),
        master_checksum: Some("pseudo-header".into()),
        trackers: vec![TrackerView {
            name: "chk".into(),
            kind: "script".into(),
            weight: -10,
            reverse: false,
            state: "KO".into(),
            last_run: Some("exited with status 1".into()),
        }],
        fault: Some("tracker".into()),
        vmac: Some("vrrp.51".into()),
        unicast_peers: vec!["192.0.2.1".into()],
        source: "192.0.2.2".into(),
        adverts_send_failed: 1,
        transitions_by_state: vec![TransitionCount {
            from: "BACKUP".into(),
            to: "MASTER".into(),
            count: 1,
        }],
        last_takeover_us: Some(1830),
        notify_runs: 2,
        notify_failures: 1,
        split_brain_episodes: 1,
        split_brain: Some(SplitBrainView {
            peer: "192.0.2.1".into(),
            peer_priority: 100,
            lasted_ms: 3000,
            differences: vec!["checksum: ours message-only, theirs pseudo-header".into()],
            cause: "checksum_variant".into(),
            explanation: "set checksum_mode".into(),
        }),
    };
    Status {
        schema_version: STATUS_SCHEMA_VERSION,
        pid: 4242,
        router_id: "lb2".into(),
        instances: vec![instance],
        discards: BTreeMap::from([("vrid_not_configured".to_owned(), 3)]),
    }
}

#[test]
fn docs_match_the_serialised_status() {
    let schema = Schema::from_markdown(DOCS).unwrap();
    let output = serde_json::to_value(every_field_filled()).unwrap();
    assert!(
        !output.to_string().contains("null"),
        "fill every field, so none hides its sub-fields: {output}"
    );
    let checked = schema.check(&output);
    assert!(
        checked.problems.is_empty(),
        "docs/status.md and the output differ:\n{}",
        checked.problems.join("\n")
    );
    let unseen: Vec<&String> = schema
        .fields
        .keys()
        .filter(|f| !checked.seen.contains(*f))
        .collect();
    assert!(
        unseen.is_empty(),
        "documented, never in the output: {unseen:?}"
    );
}

#[test]
fn the_docs_example_follows_the_schema_and_says_the_current_version() {
    let schema = Schema::from_markdown(DOCS).unwrap();
    let example = DOCS
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let example: serde_json::Value = serde_json::from_str(example).unwrap();
    let problems = schema.check(&example).problems;
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        example["schema_version"],
        serde_json::json!(STATUS_SCHEMA_VERSION)
    );
    assert!(
        DOCS.contains(&format!("`schema_version` is **{STATUS_SCHEMA_VERSION}**")),
        "docs/status.md names the current version"
    );
}
