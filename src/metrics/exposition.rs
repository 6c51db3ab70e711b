//! `/metrics`: a [`Status`] snapshot in the Prometheus / OpenMetrics text format. Instances carry the
//! labels `iname`, `intf` and `vrid`, as the common keepalived exporters label theirs, so dashboards
//! carry over by renaming the metric (docs/metrics.md has the mapping).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use crate::control::{InstanceStatus, Status};

type Labels = Vec<(String, String)>;
type Gauges = Family<Labels, Gauge>;
type FloatGauges = Family<Labels, Gauge<f64, AtomicU64>>;
type Counters = Family<Labels, Counter>;

/// The content type of what [`render`] writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// keepalived's numbering of the states (its `VRRP_STATE_*`), which `keepalived_vrrp_state` exports.
pub fn state_number(state: &str) -> i64 {
    match state {
        "BACKUP" => 1,
        "MASTER" => 2,
        "FAULT" => 3,
        _ => 0,
    }
}

/// Counts kept by the HTTP listener itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct ListenerCounts {
    pub bad_requests: u64,
    pub refused_connections: u64,
}

/// Every family of the exposition, registered once per scrape.
struct Families {
    state: Gauges,
    base_priority: Gauges,
    effective_priority: Gauges,
    sent: Counters,
    send_failed: Counters,
    received: Counters,
    discards: Counters,
    transitions: Counters,
    tracker_ok: Gauges,
    tracker_value: Gauges,
    takeover: FloatGauges,
    notify_runs: Counters,
    notify_failures: Counters,
    split_brain_episodes: Counters,
    split_brain: Gauges,
}

impl Families {
    fn register(registry: &mut Registry) -> Families {
        let families = Families {
            state: Gauges::default(),
            base_priority: Gauges::default(),
            effective_priority: Gauges::default(),
            sent: Counters::default(),
            send_failed: Counters::default(),
            received: Counters::default(),
            discards: Counters::default(),
            transitions: Counters::default(),
            tracker_ok: Gauges::default(),
            tracker_value: Gauges::default(),
            takeover: FloatGauges::default(),
            notify_runs: Counters::default(),
            notify_failures: Counters::default(),
            split_brain_episodes: Counters::default(),
            split_brain: Gauges::default(),
        };
        let f = &families;
        let r = registry;
        r.register(
            "keepvip_vrrp_state",
            "0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT (keepalived's numbering)",
            f.state.clone(),
        );
        r.register(
            "keepvip_vrrp_priority",
            "Configured priority",
            f.base_priority.clone(),
        );
        r.register(
            "keepvip_vrrp_effective_priority",
            "Priority after tracker weights",
            f.effective_priority.clone(),
        );
        r.register(
            "keepvip_advertisements_sent",
            "Adverts the socket accepted (one per destination)",
            f.sent.clone(),
        );
        r.register(
            "keepvip_advertisements_send_failed",
            "Adverts the socket refused",
            f.send_failed.clone(),
        );
        r.register(
            "keepvip_advertisements_received",
            "Adverts dispatched to the instance, accepted or not",
            f.received.clone(),
        );
        r.register(
            "keepvip_discards",
            "Adverts for the instance that were dropped, by reason",
            f.discards.clone(),
        );
        r.register(
            "keepvip_transitions",
            "State changes by from and to",
            f.transitions.clone(),
        );
        r.register(
            "keepvip_tracker_ok",
            "1 when an OK/KO tracker reads OK, 0 when KO",
            f.tracker_ok.clone(),
        );
        r.register(
            "keepvip_tracker_value",
            "The number a file tracker read",
            f.tracker_value.clone(),
        );
        r.register(
            "keepvip_last_takeover_seconds",
            "Last takeover: from the decision to become master to the VIPs acknowledged by netlink",
            f.takeover.clone(),
        );
        r.register(
            "keepvip_notify_runs",
            "Notify scripts run",
            f.notify_runs.clone(),
        );
        r.register(
            "keepvip_notify_failures",
            "Notify scripts that failed, timed out or could not start",
            f.notify_failures.clone(),
        );
        r.register(
            "keepvip_split_brain_episodes",
            "Episodes of another master heard for a few intervals while master",
            f.split_brain_episodes.clone(),
        );
        r.register(
            "keepvip_split_brain",
            "1 while a split brain is in progress, else 0",
            f.split_brain.clone(),
        );
        families
    }
}

fn instance_labels(i: &InstanceStatus) -> Labels {
    vec![
        ("iname".into(), i.name.clone()),
        ("intf".into(), i.interface.clone()),
        ("vrid".into(), i.vrid.to_string()),
        ("family".into(), i.family.clone()),
    ]
}

fn with(base: &Labels, extra: &[(&str, &str)]) -> Labels {
    let mut labels = base.clone();
    labels.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    labels
}

fn add_instance(f: &Families, i: &InstanceStatus) {
    let labels = instance_labels(i);
    f.state.get_or_create(&labels).set(state_number(&i.state));
    f.base_priority
        .get_or_create(&labels)
        .set(i64::from(i.base_priority));
    f.effective_priority
        .get_or_create(&labels)
        .set(i64::from(i.effective_priority));
    f.sent.get_or_create(&labels).inc_by(i.adverts_sent);
    f.send_failed
        .get_or_create(&labels)
        .inc_by(i.adverts_send_failed);
    f.received.get_or_create(&labels).inc_by(i.adverts_received);
    for (reason, n) in &i.discards {
        f.discards
            .get_or_create(&with(&labels, &[("reason", reason)]))
            .inc_by(*n);
    }
    for t in &i.transitions_by_state {
        let labels = with(&labels, &[("from", &t.from), ("to", &t.to)]);
        f.transitions.get_or_create(&labels).inc_by(t.count);
    }
    for t in &i.trackers {
        let labels = with(&labels, &[("tracker", &t.name), ("kind", &t.kind)]);
        match t.state.as_str() {
            "OK" => drop(f.tracker_ok.get_or_create(&labels).set(1)),
            "KO" => drop(f.tracker_ok.get_or_create(&labels).set(0)),
            number => {
                if let Ok(n) = number.parse::<i64>() {
                    f.tracker_value.get_or_create(&labels).set(n);
                }
            }
        }
    }
    if let Some(us) = i.last_takeover_us {
        f.takeover.get_or_create(&labels).set(us as f64 / 1e6);
    }
    f.notify_runs.get_or_create(&labels).inc_by(i.notify_runs);
    f.notify_failures
        .get_or_create(&labels)
        .inc_by(i.notify_failures);
    f.split_brain_episodes
        .get_or_create(&labels)
        .inc_by(i.split_brain_episodes);
    f.split_brain
        .get_or_create(&labels)
        .set(i64::from(i.split_brain.is_some()));
}

/// The whole exposition of `status`, plus the listener's own counts.
pub fn render(status: &Status, listener: ListenerCounts) -> String {
    let mut registry = Registry::default();
    let families = Families::register(&mut registry);
    for instance in &status.instances {
        add_instance(&families, instance);
    }
    let undispatched = Counters::default();
    registry.register(
        "keepvip_discards_before_dispatch",
        "Packets dropped before they reached an instance, by reason",
        undispatched.clone(),
    );
    for (reason, n) in &status.discards {
        let labels = vec![("reason".to_owned(), reason.clone())];
        undispatched.get_or_create(&labels).inc_by(*n);
    }
    let bad = Counter::<u64>::default();
    bad.inc_by(listener.bad_requests);
    registry.register(
        "keepvip_http_bad_requests",
        "Malformed requests to this listener",
        bad,
    );
    let refused = Counter::<u64>::default();
    refused.inc_by(listener.refused_connections);
    registry.register(
        "keepvip_http_refused_connections",
        "Connections closed unanswered: too many at once",
        refused,
    );
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &registry);
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::control::{TrackerView, TransitionCount};

    /// Every sample of an exposition, by `name{labels}` as written, checking the line syntax.
    fn samples(text: &str) -> BTreeMap<String, f64> {
        assert!(text.ends_with("# EOF\n"), "{text}");
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').unwrap();
                (series.to_owned(), value.parse::<f64>().unwrap())
            })
            .collect()
    }

    fn instance() -> InstanceStatus {
        InstanceStatus {
            name: "VI_1".into(),
            interface: "eth0".into(),
            vrid: 51,
            family: "ipv4".into(),
            state: "MASTER".into(),
            base_priority: 150,
            effective_priority: 130,
            adverts_sent: 42,
            adverts_received: 7,
            discards: BTreeMap::from([("bad_checksum".to_owned(), 3)]),
            transitions: 3,
            transitions_by_state: vec![
                TransitionCount {
                    from: "INIT".into(),
                    to: "BACKUP".into(),
                    count: 1,
                },
                TransitionCount {
                    from: "BACKUP".into(),
                    to: "MASTER".into(),
                    count: 2,
                },
            ],
            trackers: vec![
                TrackerView {
                    name: "chk \"haproxy\"".into(),
                    kind: "script".into(),
                    state: "KO".into(),
                    ..TrackerView::default()
                },
                TrackerView {
                    name: "/run/weight".into(),
                    kind: "file".into(),
                    state: "-20".into(),
                    ..TrackerView::default()
                },
            ],
            last_takeover_us: Some(1_500),
            notify_runs: 4,
            notify_failures: 1,
            split_brain_episodes: 2,
            split_brain: Some(crate::control::SplitBrainView::default()),
            ..InstanceStatus::default()
        }
    }

    #[test]
    fn the_exposition_parses_back_to_the_snapshots_numbers() {
        let status = Status {
            instances: vec![instance()],
            discards: BTreeMap::from([("vrid_not_configured".to_owned(), 9)]),
            ..Status::default()
        };
        let counts = ListenerCounts {
            bad_requests: 2,
            refused_connections: 0,
        };
        let got = samples(&render(&status, counts));
        let l = r#"iname="VI_1",intf="eth0",vrid="51",family="ipv4""#;
        let expect = [
            (format!("keepvip_vrrp_state{{{l}}}"), 2.0),
            (format!("keepvip_vrrp_priority{{{l}}}"), 150.0),
            (format!("keepvip_vrrp_effective_priority{{{l}}}"), 130.0),
            (format!("keepvip_advertisements_sent_total{{{l}}}"), 42.0),
            (format!("keepvip_advertisements_received_total{{{l}}}"), 7.0),
            (
                format!(r#"keepvip_discards_total{{{l},reason="bad_checksum"}}"#),
                3.0,
            ),
            (
                format!(r#"keepvip_transitions_total{{{l},from="BACKUP",to="MASTER"}}"#),
                2.0,
            ),
            (
                format!(r#"keepvip_tracker_ok{{{l},tracker="chk \"haproxy\"",kind="script"}}"#),
                0.0,
            ),
            (
                format!(r#"keepvip_tracker_value{{{l},tracker="/run/weight",kind="file"}}"#),
                -20.0,
            ),
            (format!("keepvip_last_takeover_seconds{{{l}}}"), 0.0015),
            (format!("keepvip_notify_runs_total{{{l}}}"), 4.0),
            (format!("keepvip_notify_failures_total{{{l}}}"), 1.0),
            (format!("keepvip_split_brain_episodes_total{{{l}}}"), 2.0),
            (format!("keepvip_split_brain{{{l}}}"), 1.0),
            (
                r#"keepvip_discards_before_dispatch_total{reason="vrid_not_configured"}"#
                    .to_owned(),
                9.0,
            ),
            ("keepvip_http_bad_requests_total".to_owned(), 2.0),
        ];
        for (series, value) in expect {
            assert_eq!(got.get(&series), Some(&value), "{series} in {got:#?}");
        }
    }

    #[test]
    fn no_takeover_yet_means_no_takeover_sample() {
        let mut i = instance();
        i.last_takeover_us = None;
        let status = Status {
            instances: vec![i],
            ..Status::default()
        };
        let text = render(&status, ListenerCounts::default());
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("keepvip_last_takeover_seconds{")),
            "{text}"
        );
    }

    #[test]
    fn states_are_numbered_as_keepalived_numbers_them() {
        let numbers: Vec<i64> = ["INIT", "BACKUP", "MASTER", "FAULT"]
            .iter()
            .map(|s| state_number(s))
            .collect();
        assert_eq!(numbers, [0, 1, 2, 3]);
    }
}
