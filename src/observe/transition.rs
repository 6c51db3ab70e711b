//! An instance's last transition as `keepvip status` shows it: the core's reason, its label, the
//! router it names and a sentence.

use vrrp_core::{FaultCause, Instant, Reason, Transition};

use super::state_name;
use crate::control::LastTransition;

/// `transition` seen at `now` (both on the loop's clock); `tracker_name` names a tracker by index.
pub fn last_transition(
    transition: &Transition,
    now: Instant,
    tracker_name: impl Fn(usize) -> Option<String>,
) -> LastTransition {
    LastTransition {
        from: state_name(transition.from).to_owned(),
        to: state_name(transition.to).to_owned(),
        reason: transition.reason.label().to_owned(),
        peer: peer(transition.reason).map(|a| a.to_string()),
        detail: detail(transition.reason, tracker_name),
        age_ms: now.saturating_since(transition.at).as_micros() / 1_000,
    }
}

/// The other router a reason names.
fn peer(reason: Reason) -> Option<std::net::IpAddr> {
    match reason {
        Reason::MasterResigned { by } => Some(by),
        Reason::MasterPriorityLower { master, .. } => Some(master),
        Reason::Preempting { over, .. } => Some(over),
        Reason::Preempted { by, .. } => Some(by),
        Reason::Startup
        | Reason::MasterDown
        | Reason::Shutdown
        | Reason::Fault(_)
        | Reason::FaultCleared
        | Reason::SyncGroup
        | Reason::Reload => None,
    }
}

/// The reason in a sentence.
fn detail(reason: Reason, tracker_name: impl Fn(usize) -> Option<String>) -> String {
    match reason {
        Reason::Startup => "the daemon started".to_owned(),
        Reason::MasterDown => "no advert from a master for Master_Down_Interval".to_owned(),
        Reason::MasterResigned { by } => format!("master {by} resigned (priority-0 advert)"),
        Reason::MasterPriorityLower { master, priority } => {
            format!("master {master} advertised priority {priority}, below ours")
        }
        Reason::Preempting { over, priority } => {
            format!("preempted master {over} of lower priority {priority}")
        }
        Reason::Preempted { by, priority } => {
            format!("{by} advertised priority {priority}, above ours")
        }
        Reason::Shutdown => "the daemon stopped the instance".to_owned(),
        Reason::Fault(FaultCause::LinkDown) => "the interface went down or away".to_owned(),
        Reason::Fault(FaultCause::SourceAddressLost) => {
            "the interface lost the address adverts leave from".to_owned()
        }
        Reason::Fault(FaultCause::Tracker(id)) => match tracker_name(id.0) {
            Some(name) => format!("tracker {name} failed (weight 0)"),
            None => "a weight-0 tracker failed".to_owned(),
        },
        Reason::Fault(FaultCause::SyncGroup) => "a member of its sync group is in FAULT".to_owned(),
        Reason::FaultCleared => "every fault condition cleared".to_owned(),
        Reason::SyncGroup => "its sync group moved".to_owned(),
        Reason::Reload => "a reload changed settings that need a restart".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use vrrp_core::{Micros, StateKind, TrackerId};

    use super::*;

    #[test]
    fn a_transition_shows_its_label_the_router_it_names_a_sentence_and_its_age() {
        let by = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let t = Transition {
            from: StateKind::Backup,
            to: StateKind::Master,
            reason: Reason::MasterResigned { by },
            at: Instant::ZERO + Micros::from_micros(1_000_000),
        };
        let now = Instant::ZERO + Micros::from_micros(3_500_999);
        let view = last_transition(&t, now, |_| None);
        assert_eq!(
            view,
            LastTransition {
                from: "BACKUP".into(),
                to: "MASTER".into(),
                reason: "master_resigned".into(),
                peer: Some("192.0.2.1".into()),
                detail: "master 192.0.2.1 resigned (priority-0 advert)".into(),
                age_ms: 2_500,
            }
        );
        let fault = Transition {
            to: StateKind::Fault,
            reason: Reason::Fault(FaultCause::Tracker(TrackerId(1))),
            ..t
        };
        let names = |i: usize| ["chk_a", "chk_b"].get(i).map(|n| (*n).to_owned());
        let view = last_transition(&fault, now, names);
        assert_eq!(
            (view.reason.as_str(), view.peer, view.detail.as_str()),
            ("fault_tracker", None, "tracker chk_b failed (weight 0)")
        );
    }
}
