//! Reload through `Node::reconfigure_with`: tracker statuses follow the tracker, not its position; a
//! restart never starts `startup_delay` again; `startup_delay` alone changes nothing.

// Helpers are not #[test] functions, so clippy.toml's allow-unwrap-in-tests does not cover them.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use vrrp_core::{
    Action, Input, InstanceId, LinkId, Node, NodeInput, Reconfigure, StateKind, TrackerConfig,
    TrackerId, TrackerStatus,
};

const ETH0: LinkId = LinkId(2);

fn tracker(weight: i16) -> TrackerConfig {
    TrackerConfig {
        weight,
        reverse: false,
        initially_ok: true,
    }
}

fn master_with(config: vrrp_core::Config) -> (Node, InstanceId, vrrp_core::Instant) {
    let mut node = Node::new();
    let id = node.add_instance(ETH0, config).unwrap();
    node.handle(ms(0), NodeInput::Startup);
    let at = node.next_deadline().unwrap();
    node.handle(at, NodeInput::Timer);
    assert_eq!(node.router(id).unwrap().state().kind(), StateKind::Master);
    (node, id, at)
}

#[test]
fn a_removed_tracker_does_not_lend_its_status_to_the_one_that_moves_into_its_place() {
    // [weighted -50 KO, weight-0 OK] -> [weight-0]: by position the weight-0 tracker would read
    // KO and go to FAULT; with the statuses given by the caller it stays OK.
    let mut old = config(200);
    old.trackers = vec![tracker(-50), tracker(0)];
    let (mut node, id, at) = master_with(old);
    let ko = Input::Tracker {
        tracker: TrackerId(0),
        ok: false,
    };
    node.handle(at, NodeInput::Instance(id, ko));
    assert_eq!(node.router(id).unwrap().effective_priority(), 150);
    let mut new = config(200);
    new.trackers = vec![tracker(0)];
    let how = Reconfigure {
        restart: false,
        tracker_status: Some(vec![Some(TrackerStatus::Ok(true))]),
    };
    let actions = node.reconfigure_with(at, id, new, &how).unwrap();
    let router = node.router(id).unwrap();
    assert_eq!(router.state().kind(), StateKind::Master, "{actions:?}");
    assert_eq!(router.effective_priority(), 200);
    assert!(
        actions
            .iter()
            .all(|(_, a)| !matches!(a, Action::StateChanged { .. })),
        "{actions:?}"
    );
}

#[test]
fn a_new_tracker_not_read_yet_starts_at_its_initial_status_and_its_first_reading_counts() {
    let (mut node, id, at) = master_with(config(200));
    let mut new = config(200);
    new.trackers = vec![tracker(0)];
    let how = Reconfigure {
        restart: false,
        tracker_status: Some(vec![None]),
    };
    node.reconfigure_with(at, id, new, &how).unwrap();
    assert_eq!(node.router(id).unwrap().state().kind(), StateKind::Master);
    let ko = Input::Tracker {
        tracker: TrackerId(0),
        ok: false,
    };
    node.handle(at, NodeInput::Instance(id, ko));
    assert_eq!(node.router(id).unwrap().state().kind(), StateKind::Fault);
}

#[test]
fn changing_only_the_startup_delay_is_in_place_and_does_nothing() {
    let (mut node, id, at) = master_with(config(200));
    let mut new = config(200);
    new.startup_delay = dur(5_000_000);
    assert!(node.can_reconfigure_in_place(id, &new));
    assert_eq!(node.reconfigure(at, id, new).unwrap(), []);
}

#[test]
fn a_restart_after_the_startup_delay_does_not_start_it_again() {
    let mut delayed = config(255);
    delayed.startup_delay = dur(2_000_000);
    let mut node = Node::new();
    let id = node.add_instance(ETH0, delayed.clone()).unwrap();
    node.handle(ms(0), NodeInput::Startup);
    let down = node.next_deadline().unwrap();
    assert!(down >= ms(2_000), "{down:?}");
    node.handle(down, NodeInput::Timer);
    assert_eq!(node.router(id).unwrap().state().kind(), StateKind::Master);
    // A forced restart at 10 s: the owner is master again at once, not 2 s later.
    let how = Reconfigure {
        restart: true,
        tracker_status: None,
    };
    let actions = node
        .reconfigure_with(ms(10_000), id, delayed, &how)
        .unwrap();
    let to: Vec<StateKind> = actions
        .iter()
        .filter_map(|(_, a)| match a {
            Action::StateChanged { to, .. } => Some(*to),
            _ => None,
        })
        .collect();
    assert_eq!(to, [StateKind::Initialize, StateKind::Master]);
}

#[test]
fn a_restart_during_the_startup_delay_keeps_the_hold_until_its_end() {
    let mut delayed = config(255);
    delayed.startup_delay = dur(2_000_000);
    let mut node = Node::new();
    let id = node.add_instance(ETH0, delayed.clone()).unwrap();
    node.handle(ms(0), NodeInput::Startup);
    let mut slower = delayed;
    slower.advert_interval = cs(200);
    let how = Reconfigure {
        restart: false,
        tracker_status: None,
    };
    node.reconfigure_with(ms(500), id, slower, &how).unwrap();
    assert_eq!(node.router(id).unwrap().state().kind(), StateKind::Backup);
    node.handle(ms(1_900), NodeInput::Timer);
    assert_eq!(node.router(id).unwrap().state().kind(), StateKind::Backup);
    let next = node.next_deadline().unwrap();
    assert!(next >= ms(2_000), "{next:?}");
    node.handle(next, NodeInput::Timer);
    assert_eq!(node.router(id).unwrap().state().kind(), StateKind::Master);
}
