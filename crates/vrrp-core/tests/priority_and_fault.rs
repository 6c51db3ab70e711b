//! Effective priority from tracker weights, and FAULT from link down, a lost source address or a weight-0
//! tracker.

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
            reverse: false,
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
            Action::RemoveVips(vips_v4().into()),
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
            Action::RemoveVips(vips_v4().into()),
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

#[test]
fn source_lost_master_drops_vips_without_advert() {
    let (mut router, became) = master(config(100));
    // It cannot send from an address it no longer has: no priority-0 resignation.
    assert_eq!(
        router.handle(became + dur(5), Input::SourceAddressLost),
        vec![
            Action::RemoveVips(vips_v4().into()),
            changed(
                StateKind::Master,
                StateKind::Fault,
                Reason::Fault(FaultCause::SourceAddressLost),
                false
            ),
        ]
    );
    assert_eq!(router.state(), State::Fault);
    assert_eq!(router.next_deadline(), None);
    assert_eq!(
        Reason::Fault(FaultCause::SourceAddressLost).label(),
        "fault_source_lost"
    );
}

#[test]
fn source_lost_backup_faults_silently_and_restored_goes_to_backup_with_a_fresh_timer() {
    let mut router = started(config(100));
    assert_eq!(
        router.handle(ms(1), Input::SourceAddressLost),
        vec![changed(
            StateKind::Backup,
            StateKind::Fault,
            Reason::Fault(FaultCause::SourceAddressLost),
            false
        )]
    );
    assert_eq!(
        router.handle(ms(4_000), Input::SourceAddressRestored),
        vec![changed(
            StateKind::Fault,
            StateKind::Backup,
            Reason::FaultCleared,
            false
        )]
    );
    assert_eq!(router.next_deadline(), Some(us(4_000_000 + 3_609_375)));
}

#[test]
fn source_lost_and_restored_repeated_change_nothing() {
    // The daemon re-reads addresses periodically and feeds what it sees, changed or not.
    let mut router = started(config(100));
    assert!(
        router
            .handle(ms(1), Input::SourceAddressRestored)
            .is_empty()
    );
    router.handle(ms(2), Input::SourceAddressLost);
    assert!(router.handle(ms(3), Input::SourceAddressLost).is_empty());
    assert_eq!(router.state(), State::Fault);
}

#[test]
fn link_down_and_source_lost_must_both_clear_before_backup() {
    let mut router = started(config(100));
    router.handle(ms(1), Input::InterfaceDown);
    assert!(router.handle(ms(2), Input::SourceAddressLost).is_empty());
    assert!(router.handle(ms(3), Input::InterfaceUp).is_empty());
    assert_eq!(router.state(), State::Fault);
    assert_eq!(router.fault_cause(), Some(FaultCause::SourceAddressLost));
    assert_eq!(
        router.handle(ms(4), Input::SourceAddressRestored),
        vec![changed(
            StateKind::Fault,
            StateKind::Backup,
            Reason::FaultCleared,
            false
        )]
    );

    // The other order: the source comes back first, the link last.
    router.handle(ms(5), Input::SourceAddressLost);
    router.handle(ms(6), Input::InterfaceDown);
    assert!(
        router
            .handle(ms(7), Input::SourceAddressRestored)
            .is_empty()
    );
    assert_eq!(router.fault_cause(), Some(FaultCause::LinkDown));
    assert_eq!(router.handle(ms(8), Input::InterfaceUp).len(), 1);
    assert_eq!(router.state().kind(), StateKind::Backup);
}

#[test]
fn source_lost_before_startup_starts_in_fault() {
    let mut router = router(config(100));
    assert!(router.handle(ms(0), Input::SourceAddressLost).is_empty());
    assert_eq!(
        router.handle(ms(1), Input::Startup),
        vec![changed(
            StateKind::Initialize,
            StateKind::Fault,
            Reason::Fault(FaultCause::SourceAddressLost),
            false
        )]
    );
}

#[test]
fn source_lost_masks_a_fault_tracker_so_no_resignation_is_attempted() {
    // A weight-0 tracker alone makes a master resign; with the source gone it cannot send.
    let (mut router, became) = master(tracked(100, &[0]));
    router.handle(became + dur(1), Input::SourceAddressLost);
    set(&mut router, 0, false);
    assert_eq!(router.fault_cause(), Some(FaultCause::SourceAddressLost));
    // The source comes back while the tracker is still KO: FAULT stays, now for the tracker, and
    // nothing is sent (a router in FAULT is not master).
    assert!(
        router
            .handle(became + dur(3), Input::SourceAddressRestored)
            .is_empty()
    );
    assert_eq!(
        router.fault_cause(),
        Some(FaultCause::Tracker(TrackerId(0)))
    );
}
