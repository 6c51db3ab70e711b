//! Effective priority from tracker weights, and FAULT from link down or a weight-0 tracker.

mod common;

use common::*;
use vrrp_core::{
    Action, Discard, FaultCause, Input, Reason, State, StateKind, TrackerConfig, TrackerId,
};

fn tracked(priority: u8, weights: &[i16]) -> vrrp_core::Config {
    let mut config = config(priority);
    config.trackers = weights
        .iter()
        .map(|&weight| TrackerConfig {
            weight,
            initially_ok: true,
        })
        .collect();
    config
}

fn set(router: &mut vrrp_core::Router, tracker: usize, ok: bool) -> Vec<Action> {
    router.handle(
        ms(1),
        Input::Tracker {
            tracker: TrackerId(tracker),
            ok,
        },
    )
}

#[test]
fn positive_weight_adds_while_ok() {
    let mut router = router(tracked(100, &[20]));
    assert_eq!(router.effective_priority(), 120);
    set(&mut router, 0, false);
    assert_eq!(router.effective_priority(), 100);
}

#[test]
fn negative_weight_subtracts_while_ko() {
    let mut router = router(tracked(100, &[-30]));
    assert_eq!(router.effective_priority(), 100);
    set(&mut router, 0, false);
    assert_eq!(router.effective_priority(), 70);
}

#[test]
fn effective_priority_is_clamped_to_1_through_254() {
    let mut router = router(tracked(200, &[100, -250]));
    assert_eq!(router.effective_priority(), 254);
    set(&mut router, 0, false);
    set(&mut router, 1, false);
    assert_eq!(router.effective_priority(), 1);
}

#[test]
fn owner_priority_never_changes() {
    let mut router = router(tracked(255, &[-100, 50]));
    set(&mut router, 0, false);
    assert_eq!(router.effective_priority(), 255);
    assert!(router.handle(ms(2), Input::SetBasePriority(10)).is_empty());
    assert_eq!(router.effective_priority(), 255);
}

#[test]
fn base_priority_change_moves_effective_priority() {
    let mut router = router(tracked(100, &[20]));
    router.handle(ms(1), Input::SetBasePriority(150));
    assert_eq!(router.effective_priority(), 170);
    // 0 and 255 are not base priorities a reload may set.
    router.handle(ms(1), Input::SetBasePriority(255));
    router.handle(ms(1), Input::SetBasePriority(0));
    assert_eq!(router.effective_priority(), 170);
}

#[test]
fn unknown_tracker_is_ignored() {
    let mut router = started(tracked(100, &[0]));
    assert!(set(&mut router, 7, false).is_empty());
    assert_eq!(router.state().kind(), StateKind::Backup);
}

#[test]
fn backup_priority_change_applies_at_next_master_down_interval() {
    let mut router = started(tracked(100, &[-50]));
    assert!(set(&mut router, 0, false).is_empty());
    assert_eq!(router.next_deadline(), Some(us(3_609_375)));
    router.handle(
        ms(1_000),
        Input::Advert {
            source: v4(2),
            repr: advert(200, 100),
        },
    );
    // Priority 50: 3 s + 206 / 256 s = 3 804 688 us (rounded up).
    assert_eq!(router.next_deadline(), Some(us(1_000_000 + 3_804_688)));
}

#[test]
fn fault_on_weight_zero_tracker_sends_priority_zero_and_drops_vips() {
    let config = tracked(100, &[0]);
    let (mut router, became) = master(config.clone());
    let actions = router.handle(
        became + dur(5),
        Input::Tracker {
            tracker: TrackerId(0),
            ok: false,
        },
    );
    assert_eq!(
        actions,
        vec![
            Action::SendAdvert(own_advert(&config, 0)),
            Action::RemoveVips(vips_v4()),
            changed(
                StateKind::Master,
                StateKind::Fault,
                Reason::Fault(FaultCause::Tracker(TrackerId(0))),
                false
            ),
        ]
    );
    assert_eq!(router.state(), State::Fault);
    assert_eq!(router.next_deadline(), None);
}

#[test]
fn backup_entering_fault_sends_nothing() {
    let mut router = started(tracked(100, &[0]));
    assert_eq!(
        set(&mut router, 0, false),
        vec![changed(
            StateKind::Backup,
            StateKind::Fault,
            Reason::Fault(FaultCause::Tracker(TrackerId(0))),
            false
        )]
    );
}

#[test]
fn link_down_master_drops_vips_without_advert() {
    let (mut router, became) = master(config(100));
    assert_eq!(
        router.handle(became + dur(5), Input::InterfaceDown),
        vec![
            Action::RemoveVips(vips_v4()),
            changed(
                StateKind::Master,
                StateKind::Fault,
                Reason::Fault(FaultCause::LinkDown),
                false
            ),
        ]
    );
}

#[test]
fn fault_discards_adverts_and_sends_nothing() {
    let mut router = started(config(100));
    router.handle(ms(1), Input::InterfaceDown);
    assert_eq!(
        router.handle(
            ms(2),
            Input::Advert {
                source: v4(2),
                repr: advert(0, 100)
            }
        ),
        vec![Action::Discard(Discard::InFault)]
    );
    assert!(router.handle(ms(100_000), Input::Timer).is_empty());
}

#[test]
fn leaving_fault_goes_to_backup_with_a_fresh_master_down_timer() {
    let mut router = started(tracked(100, &[0]));
    set(&mut router, 0, false);
    let actions = router.handle(
        ms(7_000),
        Input::Tracker {
            tracker: TrackerId(0),
            ok: true,
        },
    );
    assert_eq!(
        actions,
        vec![changed(
            StateKind::Fault,
            StateKind::Backup,
            Reason::FaultCleared,
            false
        )]
    );
    assert_eq!(router.next_deadline(), Some(us(7_000_000 + 3_609_375)));
}

#[test]
fn fault_lasts_while_any_cause_remains() {
    let mut router = started(tracked(100, &[0]));
    router.handle(ms(1), Input::InterfaceDown);
    set(&mut router, 0, false);
    assert!(router.handle(ms(2), Input::InterfaceUp).is_empty());
    assert_eq!(
        router.fault_cause(),
        Some(FaultCause::Tracker(TrackerId(0)))
    );
    assert_eq!(set(&mut router, 0, true).len(), 1);
    assert_eq!(router.state().kind(), StateKind::Backup);
}
