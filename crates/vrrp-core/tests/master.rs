//! RFC 5798 §6.4.3 Master, with RFC 9568's re-advertisement.

mod common;

use std::net::IpAddr;

use common::*;
use vrrp_core::{Action, Discard, Input, Instant, Reason, Router, State, StateKind};
use vrrp_wire::Repr;

fn receive(router: &mut Router, at: Instant, source: IpAddr, repr: Repr) -> Vec<Action> {
    router.handle(at, Input::Advert { source, repr })
}

#[test]
fn master_sends_advert_every_interval() {
    let config = config(100);
    let (mut router, became) = master(config.clone());
    let first = became + dur(1_000_000);
    assert_eq!(router.next_deadline(), Some(first));
    assert_eq!(
        router.handle(first, Input::Timer),
        vec![Action::SendAdvert(own_advert(&config, 100))]
    );
    assert_eq!(router.next_deadline(), Some(first + dur(1_000_000)));
}

#[test]
fn master_keeps_its_advert_cadence_when_the_timer_is_handled_late() {
    let config = config(100);
    let (mut router, became) = master(config.clone());
    let first = became + dur(1_000_000);
    // Handled 900 us late (a timer wheel's rounding plus scheduling): the next advert is still due one
    // interval after the first was due, so lateness does not accumulate.
    assert_eq!(
        router.handle(first + dur(900), Input::Timer),
        vec![Action::SendAdvert(own_advert(&config, 100))]
    );
    assert_eq!(router.next_deadline(), Some(first + dur(1_000_000)));
}

#[test]
fn master_more_than_an_interval_late_keeps_its_cadence_without_a_burst() {
    let config = config(100);
    let (mut router, became) = master(config.clone());
    let first = became + dur(1_000_000);
    let stalled_until = first + dur(2_500_000);
    assert_eq!(
        router.handle(stalled_until, Input::Timer),
        vec![Action::SendAdvert(own_advert(&config, 100))]
    );
    // One advert for the stall, then the next point of the cadence (not `now` + interval: instances
    // stalled together would otherwise all restart from the same instant).
    assert_eq!(router.next_deadline(), Some(first + dur(3_000_000)));
}

#[test]
fn master_advertises_at_its_own_interval_not_the_learned_one() {
    let mut config = config(100);
    config.advert_interval = cs(20);
    let mut router = started(config);
    receive(&mut router, ms(100), v4(2), advert(200, 300));
    assert_eq!(router.master_adver_interval(), cs(300));
    // Learned 300 cs: MDI = 9 s + 156 * 3 s / 256 = 10 828 125 us.
    let down = us(100_000 + 10_828_125);
    assert_eq!(router.next_deadline(), Some(down));
    router.handle(down, Input::Timer);
    assert_eq!(router.master_adver_interval(), cs(20));
    assert_eq!(router.next_deadline(), Some(down + dur(200_000)));
}

#[test]
fn master_answers_priority_zero_with_an_advert_at_once() {
    let config = config(100);
    let (mut router, became) = master(config.clone());
    let at = became + dur(300_000);
    assert_eq!(
        receive(&mut router, at, v4(2), advert(0, 100)),
        vec![Action::SendAdvert(own_advert(&config, 100))]
    );
    // 6.4.3 (715): the Adver_Timer restarts.
    assert_eq!(router.next_deadline(), Some(at + dur(1_000_000)));
}

#[test]
fn master_readvertises_on_lower_priority_advert() {
    let config = config(100);
    let (mut router, became) = master(config.clone());
    let at = became + dur(300_000);
    assert_eq!(
        receive(&mut router, at, v4(2), advert(50, 100)),
        vec![
            Action::Discard(Discard::LowerPriority),
            Action::SendAdvert(own_advert(&config, 100)),
            // Another master: announce again (tests/split_brain.rs).
            Action::AnnounceVips(vips_v4().into()),
        ]
    );
    // RFC 9568 sends at once without resetting the Adver_Timer.
    assert_eq!(router.next_deadline(), Some(became + dur(1_000_000)));
    assert_eq!(router.state().kind(), StateKind::Master);
}

#[test]
fn master_without_readvertise_only_discards_lower_priority_advert() {
    let mut config = config(100);
    config.readvertise_on_lower_priority = false;
    let (mut router, became) = master(config);
    assert_eq!(
        receive(&mut router, became + dur(1), v4(2), advert(50, 100)),
        vec![
            Action::Discard(Discard::LowerPriority),
            Action::AnnounceVips(vips_v4().into()),
        ]
    );
}

#[test]
fn higher_priority_advert_preempts_master() {
    let config = config(100);
    let (mut router, became) = master(config.clone());
    let at = became + dur(500_000);
    assert_eq!(
        receive(&mut router, at, v4(2), advert(200, 50)),
        vec![
            Action::Report(vrrp_core::Report::IntervalMismatch {
                from: v4(2),
                ours: cs(100),
                theirs: cs(50)
            }),
            // advertise_on_yield: the winner hears we were master.
            Action::SendAdvertTo {
                advert: own_advert(&config, 100),
                to: v4(2)
            },
            Action::RemoveVips(vips_v4().into()),
            changed(
                StateKind::Master,
                StateKind::Backup,
                Reason::Preempted {
                    by: v4(2),
                    priority: 200
                },
                false
            ),
        ]
    );
    // (745)-(760): learned 50 cs, MDI = 1.5 s + 156 * 0.5 s / 256 = 1 804 688 us (rounded up).
    assert_eq!(
        router.state(),
        State::Backup {
            master_down_at: at + dur(1_804_688)
        }
    );
}

#[test]
fn equal_priority_higher_address_wins() {
    let (mut router, became) = master(config_at(1, 100));
    let actions = receive(&mut router, became + dur(1), v4(2), advert(100, 100));
    assert_eq!(
        actions,
        vec![
            Action::SendAdvertTo {
                advert: own_advert(&config_at(1, 100), 100),
                to: v4(2)
            },
            Action::RemoveVips(vips_v4().into()),
            changed(
                StateKind::Master,
                StateKind::Backup,
                Reason::Preempted {
                    by: v4(2),
                    priority: 100
                },
                false
            ),
        ]
    );
}

#[test]
fn equal_priority_lower_address_loses() {
    let config = config_at(9, 100);
    let (mut router, became) = master(config.clone());
    assert_eq!(
        receive(&mut router, became + dur(1), v4(2), advert(100, 100)),
        vec![
            Action::Discard(Discard::LowerPriority),
            Action::SendAdvert(own_advert(&config, 100)),
            Action::AnnounceVips(vips_v4().into()),
        ]
    );
}

#[test]
fn address_tie_break_compares_whole_addresses_as_unsigned_integers() {
    // 192.0.2.1 vs 198.51.100.1: the second octet decides (0 < 51), not the last one.
    let (mut router, became) = master(config_at(200, 100));
    let actions = receive(
        &mut router,
        became + dur(1),
        "198.51.100.1".parse().unwrap(),
        advert(100, 100),
    );
    assert_eq!(router.state().kind(), StateKind::Backup, "{actions:?}");
}

#[test]
fn shutdown_master_sends_priority_zero_and_removes_vips() {
    let config = config(100);
    let (mut router, became) = master(config.clone());
    assert_eq!(
        router.handle(became + dur(10), Input::Shutdown),
        vec![
            Action::SendAdvert(own_advert(&config, 0)),
            Action::RemoveVips(vips_v4().into()),
            changed(
                StateKind::Master,
                StateKind::Initialize,
                Reason::Shutdown,
                false
            ),
        ]
    );
    assert_eq!(router.next_deadline(), None);
    assert_eq!(router.known_master(), None);
}

#[test]
fn master_priority_change_advertises_at_once() {
    let mut config = config(100);
    config.trackers = vec![vrrp_core::TrackerConfig {
        weight: -30,
        initially_ok: true,
        reverse: false,
    }];
    let (mut router, became) = master(config.clone());
    let at = became + dur(400_000);
    let actions = router.handle(
        at,
        Input::Tracker {
            tracker: vrrp_core::TrackerId(0),
            ok: false,
        },
    );
    assert_eq!(actions, vec![Action::SendAdvert(own_advert(&config, 70))]);
    assert_eq!(router.effective_priority(), 70);
    assert_eq!(router.next_deadline(), Some(at + dur(1_000_000)));
}

#[test]
fn rfc_exact_master_carries_new_priority_at_next_interval() {
    let mut config = config(100).rfc_exact();
    config.trackers = vec![vrrp_core::TrackerConfig {
        weight: -30,
        initially_ok: true,
        reverse: false,
    }];
    let (mut router, became) = master(config.clone());
    let actions = router.handle(
        became + dur(400_000),
        Input::Tracker {
            tracker: vrrp_core::TrackerId(0),
            ok: false,
        },
    );
    assert!(actions.is_empty());
    let next = became + dur(1_000_000);
    assert_eq!(router.next_deadline(), Some(next));
    assert_eq!(
        router.handle(next, Input::Timer),
        vec![Action::SendAdvert(own_advert(&config, 70))]
    );
}

#[test]
fn accept_mode_is_reported_on_becoming_master() {
    let mut config = config(100);
    config.accept_mode = true;
    let mut router = started(config.clone());
    let actions = router.handle(us(3_609_375), Input::Timer);
    assert_eq!(
        actions.last(),
        Some(&changed(
            StateKind::Backup,
            StateKind::Master,
            Reason::MasterDown,
            true
        ))
    );
    assert!(router.accepts_vip_traffic());
    router.handle(ms(5_000), Input::Shutdown);
    assert!(!router.accepts_vip_traffic());
}

#[test]
fn rfc_exact_master_yields_without_a_last_advert() {
    let (mut router, became) = master(config(100).rfc_exact());
    let actions = receive(&mut router, became + dur(1), v4(2), advert(200, 100));
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Action::SendAdvert(_) | Action::SendAdvertTo { .. })),
        "{actions:?}"
    );
    assert_eq!(router.state().kind(), StateKind::Backup);
}

#[test]
fn a_preempted_master_that_becomes_master_again_says_master_down_not_an_old_reason() {
    let config = config(150);
    let mut router = started(config.clone());
    // A lower master is preempted (its adverts discarded): that takeover is "preempting".
    router.handle(
        ms(1_000),
        Input::Advert {
            source: v4(2),
            repr: advert(100, 100),
        },
    );
    let at = router.next_deadline().unwrap();
    let preempting = Reason::Preempting {
        over: v4(2),
        priority: 100,
    };
    assert_eq!(
        router.handle(at, Input::Timer),
        takeover(&config, 150, preempting)
    );
    // A better master preempts us; when it falls silent, our takeover is a plain Master_Down.
    let later = at + dur(100_000);
    router.handle(
        later,
        Input::Advert {
            source: v4(3),
            repr: advert(200, 100),
        },
    );
    let down = router.next_deadline().unwrap();
    assert_eq!(
        router.handle(down, Input::Timer),
        takeover(&config, 150, Reason::MasterDown)
    );
}
