//! keepalived's tracker rules beyond plain weights: `reverse`, value trackers (`track_file`) and
//! owners, as `health.rs` implements them.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use vrrp_core::{FaultCause, Input, StateKind, TrackerConfig, TrackerId};

fn with_tracker(priority: u8, weight: i16, reverse: bool) -> vrrp_core::Router {
    let mut config = config(priority);
    config.trackers = vec![TrackerConfig {
        weight,
        reverse,
        initially_ok: true,
    }];
    started(config)
}

fn ok(router: &mut vrrp_core::Router, ok: bool) {
    router.handle(
        ms(1),
        Input::Tracker {
            tracker: TrackerId(0),
            ok,
        },
    );
}

fn value(router: &mut vrrp_core::Router, value: i64) {
    router.handle(
        ms(1),
        Input::TrackerValue {
            tracker: TrackerId(0),
            value,
        },
    );
}

#[test]
fn reverse_flips_the_sign_of_a_positive_weight_while_ok() {
    let mut router = with_tracker(100, 10, true);
    assert_eq!(router.effective_priority(), 90);
    ok(&mut router, false);
    assert_eq!(router.effective_priority(), 100);
}

#[test]
fn reverse_flips_the_sign_of_a_negative_weight_while_ko() {
    let mut router = with_tracker(100, -10, true);
    assert_eq!(router.effective_priority(), 100);
    ok(&mut router, false);
    assert_eq!(router.effective_priority(), 110);
}

#[test]
fn weight_0_reverse_is_fault_while_ok() {
    let mut router = with_tracker(100, 0, true);
    assert_eq!(router.state().kind(), StateKind::Fault);
    ok(&mut router, false);
    assert_eq!(router.state().kind(), StateKind::Backup);
}

#[test]
fn a_file_value_counts_times_the_weight() {
    let mut router = with_tracker(100, 5, false);
    value(&mut router, 3);
    assert_eq!(router.effective_priority(), 115);
    value(&mut router, -4);
    assert_eq!(router.effective_priority(), 80);
    value(&mut router, 0);
    assert_eq!(router.effective_priority(), 100);
}

#[test]
fn a_file_value_adds_at_most_253_and_at_minus_254_means_fault() {
    let mut router = with_tracker(1, 1, false);
    value(&mut router, 1000);
    assert_eq!(
        router.effective_priority(),
        254,
        "1 + 253, within the clamp"
    );
    value(&mut router, -253);
    assert_eq!(router.state().kind(), StateKind::Backup);
    assert_eq!(router.effective_priority(), 1);
    value(&mut router, -254);
    assert_eq!(router.state().kind(), StateKind::Fault);
    assert_eq!(
        router.fault_cause(),
        Some(FaultCause::Tracker(TrackerId(0)))
    );
    value(&mut router, 0);
    assert_eq!(router.state().kind(), StateKind::Backup);
}

#[test]
fn reverse_negates_a_file_value() {
    let mut router = with_tracker(100, 2, true);
    value(&mut router, 10);
    assert_eq!(router.effective_priority(), 80);
    value(&mut router, -127);
    assert_eq!(router.effective_priority(), 254);
    value(&mut router, 127);
    assert_eq!(
        router.state().kind(),
        StateKind::Fault,
        "-254 after reversing"
    );
}

#[test]
fn a_file_with_weight_0_is_fault_while_not_zero() {
    let mut router = with_tracker(100, 0, false);
    value(&mut router, 1);
    assert_eq!(router.state().kind(), StateKind::Fault);
    value(&mut router, 0);
    assert_eq!(router.state().kind(), StateKind::Backup);
    let mut reversed = with_tracker(100, 0, true);
    value(&mut reversed, 0);
    assert_eq!(reversed.state().kind(), StateKind::Fault);
}

#[test]
fn an_owner_ignores_weights_but_a_weight_0_tracker_still_faults_it() {
    let mut owner = with_tracker(255, -50, false);
    ok(&mut owner, false);
    assert_eq!(owner.effective_priority(), 255);
    assert_eq!(owner.state().kind(), StateKind::Master);
    let mut owner = with_tracker(255, 1, false);
    value(&mut owner, -300);
    assert_eq!(
        owner.state().kind(),
        StateKind::Master,
        "a weighted file never faults an owner"
    );
    let mut owner = with_tracker(255, 0, false);
    ok(&mut owner, false);
    assert_eq!(owner.state().kind(), StateKind::Fault);
}
