//! RFC 5798 §6.4.2 Backup, and keepvip's fast handover.

mod common;

use common::*;
use vrrp_core::{Action, Discard, Input, KnownMaster, Reason, Report, State};

fn receive(
    router: &mut vrrp_core::Router,
    at: vrrp_core::Instant,
    source: std::net::IpAddr,
    repr: vrrp_wire::Repr,
) -> Vec<Action> {
    router.handle(at, Input::Advert { source, repr })
}

#[test]
fn backup_takes_over_after_master_down_interval_without_adverts() {
    let config = config(100);
    let mut router = started(config.clone());
    let actions = router.handle(us(3_609_375), Input::Timer);
    assert_eq!(actions, takeover(&config, 100, Reason::MasterDown));
    // 6.4.2 (405): Adver_Timer = Advertisement_Interval.
    assert_eq!(
        router.state(),
        State::Master {
            advert_at: us(4_609_375)
        }
    );
    assert_eq!(
        router.known_master(),
        Some(KnownMaster {
            address: v4(1),
            priority: 100
        })
    );
}

#[test]
fn backup_resets_master_down_timer_on_higher_priority_advert() {
    let mut router = started(config(100));
    assert!(receive(&mut router, ms(3_000), v4(2), advert(200, 100)).is_empty());
    assert_eq!(router.next_deadline(), Some(us(3_000_000 + 3_609_375)));
    assert_eq!(
        router.known_master(),
        Some(KnownMaster {
            address: v4(2),
            priority: 200
        })
    );
}

#[test]
fn backup_follows_equal_priority_master_regardless_of_address() {
    // 6.4.2 (445): "greater than or equal": no address tie-break in Backup.
    let mut router = started(config_at(9, 100));
    assert!(receive(&mut router, ms(1_000), v4(2), advert(100, 100)).is_empty());
    assert_eq!(router.next_deadline(), Some(us(1_000_000 + 3_609_375)));
}

#[test]
fn backup_takes_over_after_skew_on_priority_zero() {
    let config = config(100);
    let mut router = started(config.clone());
    receive(&mut router, ms(1_000), v4(2), advert(200, 100));
    assert!(receive(&mut router, ms(2_000), v4(2), advert(0, 100)).is_empty());
    // 6.4.2 (430): Master_Down_Timer = Skew_Time = 609 375 us.
    assert_eq!(router.next_deadline(), Some(us(2_609_375)));
    assert_eq!(router.known_master(), None);
    // The reason names the resignation, not a silent master.
    assert_eq!(
        router.handle(us(2_609_375), Input::Timer),
        takeover(&config, 100, Reason::MasterResigned { by: v4(2) })
    );
}

#[test]
fn backup_learns_master_adver_interval_from_accepted_advert() {
    let mut router = started(config(200));
    let actions = receive(&mut router, ms(1_000), v4(2), advert(250, 50));
    assert_eq!(router.master_adver_interval(), cs(50));
    // 3 * 500 000 + 56 * 500 000 / 256 = 1 609 375.
    assert_eq!(router.next_deadline(), Some(us(1_000_000 + 1_609_375)));
    assert_eq!(
        actions,
        vec![Action::Report(Report::IntervalMismatch {
            from: v4(2),
            ours: cs(100),
            theirs: cs(50)
        })]
    );
}

#[test]
fn v3_interval_mismatch_is_reported_once_per_change() {
    let mut router = started(config(100));
    assert_eq!(
        receive(&mut router, ms(100), v4(2), advert(200, 50)).len(),
        1
    );
    assert!(receive(&mut router, ms(600), v4(2), advert(200, 50)).is_empty());
    let actions = receive(&mut router, ms(1_100), v4(2), advert(200, 70));
    assert_eq!(
        actions,
        vec![Action::Report(Report::IntervalMismatch {
            from: v4(2),
            ours: cs(100),
            theirs: cs(70)
        })]
    );
    assert_eq!(router.interval_mismatch(), Some((v4(2), cs(70))));
    // Back to our interval: forgotten, so the next mismatch is reported again.
    assert!(receive(&mut router, ms(1_800), v4(2), advert(200, 100)).is_empty());
    assert_eq!(router.interval_mismatch(), None);
    assert_eq!(
        receive(&mut router, ms(2_800), v4(2), advert(200, 70)).len(),
        1
    );
}

#[test]
fn rfc_exact_mode_discards_lower_priority_and_waits_full_mdi() {
    let config = config(150).rfc_exact();
    let mut router = started(config.clone());
    receive(&mut router, ms(1_000), v4(2), advert(200, 100));
    let deadline = us(1_000_000 + 3_414_063); // 3 s + 106 * 1 s / 256, rounded up
    assert_eq!(router.next_deadline(), Some(deadline));
    // The master's priority falls below ours: 6.4.2 (470) discard, timer untouched.
    assert_eq!(
        receive(&mut router, ms(2_000), v4(2), advert(100, 100)),
        vec![Action::Discard(Discard::LowerPriority)]
    );
    assert_eq!(
        receive(&mut router, ms(3_000), v4(2), advert(100, 100)),
        vec![Action::Discard(Discard::LowerPriority)]
    );
    assert_eq!(router.next_deadline(), Some(deadline));
    assert_eq!(
        router.handle(deadline, Input::Timer),
        takeover(
            &config,
            150,
            Reason::Preempting {
                over: v4(2),
                priority: 100
            }
        )
    );
}

#[test]
fn fast_handover_takes_over_after_skew_when_followed_master_falls_below_us() {
    let config = config(150);
    let mut router = started(config.clone());
    receive(&mut router, ms(1_000), v4(2), advert(200, 100));
    assert!(receive(&mut router, ms(2_000), v4(2), advert(100, 100)).is_empty());
    // Like priority 0: Skew_Time for 150 at 1 s = 106 / 256 s = 414 063 us (rounded up).
    let fast = us(2_000_000 + 414_063);
    assert_eq!(router.next_deadline(), Some(fast));
    assert_eq!(
        router.handle(fast, Input::Timer),
        takeover(
            &config,
            150,
            Reason::MasterPriorityLower {
                master: v4(2),
                priority: 100
            }
        )
    );
}

#[test]
fn fast_handover_never_pushes_the_takeover_later() {
    let mut router = started(config(150));
    receive(&mut router, ms(1_000), v4(2), advert(200, 100));
    receive(&mut router, ms(2_000), v4(2), advert(100, 100));
    receive(&mut router, ms(2_300), v4(2), advert(100, 100));
    assert_eq!(router.next_deadline(), Some(us(2_414_063)));
}

#[test]
fn fast_handover_discards_lower_priority_from_a_router_we_do_not_follow() {
    let mut router = started(config(150));
    receive(&mut router, ms(1_000), v4(2), advert(200, 100));
    assert_eq!(
        receive(&mut router, ms(1_500), v4(3), advert(100, 100)),
        vec![Action::Discard(Discard::LowerPriority)]
    );
    assert_eq!(router.next_deadline(), Some(us(1_000_000 + 3_414_063)));
}

#[test]
fn backup_without_preempt_follows_lower_priority_master() {
    let mut config = config(150);
    config.preempt = false;
    let mut router = started(config);
    assert!(receive(&mut router, ms(1_000), v4(2), advert(100, 100)).is_empty());
    assert_eq!(router.next_deadline(), Some(us(1_000_000 + 3_414_063)));
    assert_eq!(
        router.known_master(),
        Some(KnownMaster {
            address: v4(2),
            priority: 100
        })
    );
}

#[test]
fn shutdown_backup_just_stops() {
    let mut router = started(config(100));
    assert_eq!(
        router.handle(ms(10), Input::Shutdown),
        vec![changed(
            vrrp_core::StateKind::Backup,
            vrrp_core::StateKind::Initialize,
            Reason::Shutdown,
            false
        )]
    );
    assert_eq!(router.state(), State::Initialize);
    assert_eq!(router.next_deadline(), None);
}

#[test]
fn restart_after_shutdown_starts_a_fresh_backup() {
    let mut router = started(config(100));
    router.handle(ms(10), Input::Shutdown);
    router.handle(ms(20), Input::Startup);
    assert_eq!(router.next_deadline(), Some(us(20_000 + 3_609_375)));
}
