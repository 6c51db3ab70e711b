//! The numbers an operator reads: the core `Node`'s per-instance protocol counters (adverts received,
//! transitions, discards by reason) plus what only the shell sees (adverts the socket refused, packets
//! the kernel dropped), and the one function that turns them into the `control::Status` snapshot that
//! `keepvip status` prints.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

mod transition;

use vrrp_core::{
    Difference, FaultCause, InstanceId, InstanceView, Instant, Node, SplitBrain, StateKind,
    TrackerStatus,
};
use vrrp_wire::{Addresses, ChecksumMode, Family, Version};

use crate::control::{InstanceStatus, SplitBrainView, Status, TrackerView, TransitionCount};
use crate::notify::ScriptRuns;

/// Label for packets the kernel dropped before keepvip could read them: IPv6 adverts whose checksum
/// fails (the kernel verifies it, IPV6_CHECKSUM) and receive-queue overflows.
pub const KERNEL_DROPPED: &str = "kernel_dropped";

/// Sends of one instance, as the socket answered them (one per destination: a unicast instance
/// sends each advert to every peer).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sends {
    pub sent: u64,
    pub failed: u64,
}

/// What the IO side counts.
#[derive(Debug, Default)]
pub struct IoCounters {
    sends: HashMap<InstanceId, Sends>,
    /// Failures in a row per (instance, destination), reset by a success, for rate-limited logging:
    /// one unreachable peer neither hides nor floods the others' failures.
    failing: HashMap<(InstanceId, IpAddr), u64>,
    kernel_dropped: u64,
    /// State changes per instance by (from, to), in keepalived's state names.
    transitions: HashMap<InstanceId, BTreeMap<(&'static str, &'static str), u64>>,
    /// The last takeover per instance (see `takeover_done`).
    last_takeover: HashMap<InstanceId, Duration>,
}

impl IoCounters {
    pub fn advert_sent(&mut self, id: InstanceId, dst: IpAddr) {
        self.sends.entry(id).or_default().sent += 1;
        self.failing.remove(&(id, dst));
    }

    /// Counts a failed send to `dst`; returns the failures in a row to `dst` so far.
    pub fn advert_failed(&mut self, id: InstanceId, dst: IpAddr) -> u64 {
        self.sends.entry(id).or_default().failed += 1;
        let failing = self.failing.entry((id, dst)).or_default();
        *failing += 1;
        *failing
    }

    pub fn kernel_dropped(&mut self, new: u64) {
        self.kernel_dropped += new;
    }

    pub fn transition(&mut self, id: InstanceId, from: StateKind, to: StateKind) {
        let by_states = self.transitions.entry(id).or_default();
        *by_states
            .entry((state_name(from), state_name(to)))
            .or_default() += 1;
    }

    /// A takeover finished: `took` runs from the loop handling the input that made the instance
    /// master (a Master_Down timer expiry, a priority-0 advert, a startup as owner...) to netlink
    /// acknowledging the last of its VIPs.
    pub fn takeover_done(&mut self, id: InstanceId, took: Duration) {
        self.last_takeover.insert(id, took);
    }

    pub fn sends(&self, id: InstanceId) -> Sends {
        self.sends.get(&id).copied().unwrap_or_default()
    }
}

/// The shell's names for an instance, which the core does not know.
#[derive(Debug, Clone)]
pub struct InstanceLabel {
    pub name: String,
    pub interface: String,
    /// The VIPs as configured (`address/prefix`).
    pub vips: Vec<String>,
    /// The instance's trackers, in the core's order.
    pub trackers: Vec<TrackerLabel>,
    /// The interface does not exist now (the core only knows its link is down).
    pub interface_missing: bool,
    /// The macvlan of a `vmac` instance.
    pub vmac: Option<String>,
    /// The instance's notify script runs.
    pub notify: ScriptRuns,
}

/// What the shell knows of one of an instance's trackers.
#[derive(Debug, Clone)]
pub struct TrackerLabel {
    pub name: String,
    pub kind: &'static str,
    pub last_run: Option<String>,
}

/// The snapshot of every instance of `node` at `now` (the loop's clock), labelled by `label`.
pub fn status(
    router_id: &str,
    node: &Node,
    io: &IoCounters,
    now: Instant,
    label: impl Fn(InstanceId) -> Option<InstanceLabel>,
) -> Status {
    let mut discards: BTreeMap<String, u64> = node
        .undispatched_discards()
        .iter()
        .map(|(reason, n)| ((*reason).to_owned(), *n))
        .collect();
    if io.kernel_dropped > 0 {
        discards.insert(KERNEL_DROPPED.to_owned(), io.kernel_dropped);
    }
    Status {
        pid: std::process::id(),
        router_id: router_id.to_owned(),
        instances: node
            .instances()
            .filter_map(|view| Some(instance_status(view, label(view.id)?, io, now)))
            .collect(),
        discards,
        ..Status::default()
    }
}

/// Why an instance is in FAULT, for `status`.
fn fault_name(cause: FaultCause, interface_missing: bool) -> &'static str {
    match cause {
        FaultCause::LinkDown if interface_missing => "interface_missing",
        FaultCause::LinkDown => "link_down",
        FaultCause::SourceAddressLost => "source_lost",
        FaultCause::Tracker(_) => "tracker",
        FaultCause::SyncGroup => "sync_group",
    }
}

fn instance_status(
    view: InstanceView<'_>,
    label: InstanceLabel,
    io: &IoCounters,
    now: Instant,
) -> InstanceStatus {
    let sends = io.sends(view.id);
    let router = view.router;
    let config = router.config();
    let state = router.state().kind();
    let master_is_self = state == StateKind::Master;
    let (master, master_priority) = match router.known_master() {
        _ if master_is_self => (
            Some(config.primary_address.to_string()),
            Some(router.effective_priority()),
        ),
        Some(m) => (Some(m.address.to_string()), Some(m.priority)),
        None => (None, None),
    };
    let last_transition = view.counters.last_transition.map(|t| {
        let names = &label.trackers;
        transition::last_transition(&t, now, |i| names.get(i).map(|t| t.name.clone()))
    });
    let fault = match (state, router.fault_cause()) {
        (StateKind::Fault, Some(cause)) => {
            Some(fault_name(cause, label.interface_missing).to_owned())
        }
        _ => None,
    };
    let master_checksum = match state {
        StateKind::Master => None,
        _ => view
            .master_checksum
            .map(|mode| checksum_name(mode).to_owned()),
    };
    InstanceStatus {
        name: label.name,
        interface: label.interface,
        vrid: config.vrid,
        family: match Family::of(config.primary_address) {
            Family::Ipv4 => "ipv4".into(),
            Family::Ipv6 => "ipv6".into(),
        },
        version: match config.version {
            Version::V2 => 2,
            Version::V3 => 3,
        },
        v2_interop: config.v2_interop,
        state: state_name(state).into(),
        base_priority: config.priority,
        effective_priority: router.effective_priority(),
        advert_interval_cs: config.advert_interval.get(),
        master_adver_interval_cs: router.master_adver_interval().get(),
        master,
        master_priority,
        master_is_self,
        last_transition,
        vips: label.vips,
        adverts_sent: sends.sent,
        adverts_received: view.counters.adverts_received,
        transitions: view.counters.transitions,
        discards: view
            .counters
            .discards
            .iter()
            .map(|(reason, n)| ((*reason).to_owned(), *n))
            .collect(),
        master_checksum,
        fault,
        vmac: label.vmac,
        unicast_peers: config
            .unicast_peers
            .iter()
            .map(ToString::to_string)
            .collect(),
        source: config.primary_address.to_string(),
        adverts_send_failed: sends.failed,
        transitions_by_state: io
            .transitions
            .get(&view.id)
            .into_iter()
            .flatten()
            .map(|((from, to), count)| TransitionCount {
                from: (*from).to_owned(),
                to: (*to).to_owned(),
                count: *count,
            })
            .collect(),
        last_takeover_us: io
            .last_takeover
            .get(&view.id)
            .map(|took| u64::try_from(took.as_micros()).unwrap_or(u64::MAX)),
        notify_runs: label.notify.runs,
        notify_failures: label.notify.failures,
        split_brain_episodes: view.counters.split_brain_episodes,
        split_brain: router.split_brain().map(split_brain_view),
        trackers: label
            .trackers
            .into_iter()
            .zip(config.trackers.iter().zip(router.tracker_status()))
            .map(|(t, (tracker, status))| TrackerView {
                name: t.name,
                kind: t.kind.to_owned(),
                weight: tracker.weight,
                reverse: tracker.reverse,
                state: match status {
                    TrackerStatus::Ok(true) => "OK".to_owned(),
                    TrackerStatus::Ok(false) => "KO".to_owned(),
                    TrackerStatus::Value(n) => n.to_string(),
                },
                last_run: t.last_run,
            })
            .collect(),
    }
}

fn split_brain_view(split: &SplitBrain) -> SplitBrainView {
    SplitBrainView {
        peer: split.peer.to_string(),
        peer_priority: split.peer_priority,
        lasted_ms: split.last_heard.saturating_since(split.since).as_micros() / 1_000,
        differences: split.differences.iter().map(difference_text).collect(),
        cause: split.cause.label().to_owned(),
        explanation: split.cause.explanation().to_owned(),
    }
}

/// One difference as `status` and the log show it: its label, then ours and theirs.
pub fn difference_text(difference: &Difference) -> String {
    let label = difference.label();
    match difference {
        Difference::Version { ours, theirs } => {
            format!(
                "{label}: ours {}, theirs {}",
                version_number(*ours),
                version_number(*theirs)
            )
        }
        Difference::Authentication => format!("{label}: type or password"),
        Difference::Interval { ours, theirs } => {
            format!(
                "{label}: ours {} cs, theirs {} cs",
                ours.get(),
                theirs.get()
            )
        }
        Difference::AddressCount { ours, theirs } => {
            format!("{label}: ours {ours}, theirs {theirs}")
        }
        Difference::AddressList { theirs } => {
            let list: Vec<String> = match theirs {
                Addresses::V4(list) => list.iter().map(ToString::to_string).collect(),
                Addresses::V6(list) => list.iter().map(ToString::to_string).collect(),
            };
            format!("{label}: theirs {}", list.join(","))
        }
        Difference::Checksum { ours, theirs } => format!(
            "{label}: ours {}, theirs {}",
            checksum_name(*ours),
            checksum_name(*theirs)
        ),
    }
}

fn version_number(version: Version) -> u8 {
    match version {
        Version::V2 => 2,
        Version::V3 => 3,
    }
}

fn checksum_name(mode: ChecksumMode) -> &'static str {
    match mode {
        ChecksumMode::PseudoHeader => "pseudo-header",
        ChecksumMode::MessageOnly => "message-only",
    }
}

/// keepalived's state names, which operators grep for.
pub fn state_name(state: StateKind) -> &'static str {
    match state {
        StateKind::Initialize => "INIT",
        StateKind::Backup => "BACKUP",
        StateKind::Master => "MASTER",
        StateKind::Fault => "FAULT",
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use vrrp_core::{Config, Datagram, Instant, LinkId, Node, NodeInput};
    use vrrp_wire::{Addresses, VRRP_IPV4_GROUP};

    use super::*;

    #[test]
    fn status_joins_the_nodes_counters_the_io_counters_and_the_shells_labels() {
        let source = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let mut config = Config::new(
            51,
            source,
            Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 10)]),
        );
        config.priority = 120;
        let mut node = Node::new();
        let id = node.add_instance(LinkId(2), config).unwrap();
        node.handle(Instant::ZERO, NodeInput::Startup);
        let short = Datagram {
            link: LinkId(2),
            source: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)),
            destination: IpAddr::V4(VRRP_IPV4_GROUP),
            hop_limit: 255,
            payload: &[0x31, 51, 100],
        };
        node.handle(Instant::ZERO, NodeInput::Datagram(short));
        let mut io = IoCounters::default();
        let (peer, other) = (
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 3)),
        );
        io.advert_sent(id, peer);
        assert_eq!(io.advert_failed(id, other), 1);
        assert_eq!(io.advert_failed(id, other), 2);
        assert_eq!(io.advert_failed(id, peer), 1, "counted per destination");
        io.advert_sent(id, other);
        assert_eq!(io.advert_failed(id, other), 1, "a success resets the run");
        io.kernel_dropped(3);
        let status = status("lb1", &node, &io, Instant::ZERO, |_| {
            Some(InstanceLabel {
                name: "VI_1".into(),
                interface: "eth0".into(),
                vips: vec!["192.0.2.10/24".into()],
                trackers: Vec::new(),
                interface_missing: false,
                vmac: None,
                notify: ScriptRuns::default(),
            })
        });
        assert_eq!(status.router_id, "lb1");
        assert_eq!(status.discards.get(KERNEL_DROPPED), Some(&3));
        let instance = &status.instances[0];
        assert_eq!(
            (
                instance.name.as_str(),
                instance.interface.as_str(),
                instance.vrid
            ),
            ("VI_1", "eth0", 51)
        );
        assert_eq!(
            (instance.state.as_str(), instance.family.as_str()),
            ("BACKUP", "ipv4")
        );
        assert_eq!(
            (instance.base_priority, instance.effective_priority),
            (120, 120)
        );
        assert_eq!(instance.adverts_sent, 2);
        assert_eq!(instance.transitions, 1);
        assert_eq!(instance.discards.get("truncated"), Some(&1));
        assert_eq!(instance.master, None);
        assert!(!instance.master_is_self);
        let last = instance.last_transition.as_ref().unwrap();
        assert_eq!(
            (last.from.as_str(), last.to.as_str(), last.reason.as_str()),
            ("INIT", "BACKUP", "startup")
        );
    }

    #[test]
    fn a_missing_interface_is_told_apart_from_a_link_down() {
        assert_eq!(fault_name(FaultCause::LinkDown, true), "interface_missing");
        assert_eq!(fault_name(FaultCause::LinkDown, false), "link_down");
        assert_eq!(
            fault_name(FaultCause::SourceAddressLost, false),
            "source_lost"
        );
    }
}
