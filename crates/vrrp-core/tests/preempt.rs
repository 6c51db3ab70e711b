//! Preempt_Mode and keepalived's preempt_delay.

mod common;

use common::*;
use vrrp_core::{Action, Discard, Input, Micros, Reason, Router};

fn receive(router: &mut Router, at_ms: u64, priority: u8) -> Vec<Action> {
    router.handle(
        ms(at_ms),
        Input::Advert {
            source: v4(2),
            repr: advert(priority, 100),
        },
    )
}

fn delayed(secs: u64) -> vrrp_core::Config {
    let mut config = config(150);
    config.preempt_delay = Micros::from_secs(secs);
    config
}

#[test]
fn preempt_delay_follows_lower_priority_master_during_delay() {
    let mut router = started(delayed(10));
    for t in (500..10_000).step_by(1_000) {
        assert!(receive(&mut router, t, 100).is_empty());
    }
    assert_eq!(router.next_deadline(), Some(us(9_500_000 + 3_414_063)));
}

#[test]
fn preempt_delay_preempts_within_skew_after_delay_expires() {
    let config = delayed(10);
    let mut router = started(config.clone());
    receive(&mut router, 9_500, 100);
    // The first advert after the window: the followed master is below us -> Skew_Time (fast handover).
    assert!(receive(&mut router, 10_500, 100).is_empty());
    let at = us(10_500_000 + 414_063);
    assert_eq!(router.next_deadline(), Some(at));
    let reason = Reason::MasterPriorityLower {
        master: v4(2),
        priority: 100,
    };
    assert_eq!(
        router.handle(at, Input::Timer),
        takeover(&config, 150, reason)
    );
}

#[test]
fn preempt_delay_in_rfc_exact_mode_waits_mdi_after_last_followed_advert() {
    let config = delayed(10).rfc_exact();
    let mut router = started(config.clone());
    receive(&mut router, 9_500, 100);
    assert_eq!(
        receive(&mut router, 10_500, 100),
        vec![Action::Discard(Discard::LowerPriority)]
    );
    let at = us(9_500_000 + 3_414_063);
    assert_eq!(router.next_deadline(), Some(at));
    let reason = Reason::Preempting {
        over: v4(2),
        priority: 100,
    };
    assert_eq!(
        router.handle(at, Input::Timer),
        takeover(&config, 150, reason)
    );
}

#[test]
fn preempt_delay_restarts_when_fault_clears() {
    let mut router = started(delayed(10));
    router.handle(ms(20_000), Input::InterfaceDown);
    router.handle(ms(21_000), Input::InterfaceUp);
    // 21 s + 10 s: a lower master is still followed at 30 s...
    assert!(receive(&mut router, 30_000, 100).is_empty());
    assert_eq!(router.next_deadline(), Some(us(30_000_000 + 3_414_063)));
    // ...and preempted after 31 s.
    receive(&mut router, 31_500, 100);
    assert_eq!(router.next_deadline(), Some(us(31_500_000 + 414_063)));
}

#[test]
fn preempt_delay_does_not_delay_takeover_from_a_dead_master() {
    let config = delayed(100);
    let mut router = started(config.clone());
    assert_eq!(
        router.handle(us(3_414_063), Input::Timer),
        takeover(&config, 150, Reason::MasterDown)
    );
}

#[test]
fn preempt_delay_does_not_delay_priority_zero() {
    let mut router = started(delayed(100));
    receive(&mut router, 1_000, 200);
    receive(&mut router, 2_000, 0);
    assert_eq!(router.next_deadline(), Some(us(2_000_000 + 414_063)));
}
