//! keepalived's vrrp_startup_delay (`Config::startup_delay`): no mastership before it ends.

mod common;

use common::*;
use vrrp_core::{Input, Micros, Reason, StateKind};

fn delayed(priority: u8, secs: u64) -> vrrp_core::Config {
    let mut config = config(priority);
    config.startup_delay = Micros::from_secs(secs);
    config
}

#[test]
fn a_backup_hearing_nobody_takes_over_at_the_end_of_a_delay_longer_than_its_mdi() {
    let config = delayed(150, 10);
    let mut router = started(config.clone());
    assert_eq!(router.state().kind(), StateKind::Backup);
    // Its Master_Down_Timer (3.41 s) fires and is re-armed to the end of the delay.
    let mdi = router.next_deadline().unwrap();
    assert_eq!(mdi, us(3_414_063));
    assert!(router.handle(mdi, Input::Timer).is_empty());
    assert_eq!(router.next_deadline(), Some(ms(10_000)));
    assert_eq!(
        router.handle(ms(10_000), Input::Timer),
        takeover(&config, 150, Reason::MasterDown)
    );
}

#[test]
fn a_delay_shorter_than_the_mdi_changes_nothing() {
    let config = delayed(150, 1);
    let mut router = started(config.clone());
    let at = router.next_deadline().unwrap();
    assert_eq!(at, us(3_414_063));
    assert_eq!(
        router.handle(at, Input::Timer),
        takeover(&config, 150, Reason::MasterDown)
    );
}

#[test]
fn the_owner_waits_in_backup_too() {
    let config = delayed(255, 5);
    let mut router = started(config.clone());
    assert_eq!(router.state().kind(), StateKind::Backup);
    let mut at = router.next_deadline().unwrap();
    if at < ms(5_000) {
        assert!(router.handle(at, Input::Timer).is_empty());
        at = router.next_deadline().unwrap();
    }
    assert_eq!(at, ms(5_000));
    assert_eq!(
        router.handle(at, Input::Timer),
        takeover(&config, 255, Reason::MasterDown)
    );
}

#[test]
fn a_master_heard_during_the_delay_is_followed_and_its_death_still_waits_for_the_delay() {
    let mut router = started(delayed(150, 10));
    // A higher-priority master advertises until 2 s, then dies: MDI from 2 s is 5.41 s, the delay wins.
    for t in (0..=2_000).step_by(1_000) {
        let repr = advert(200, 100);
        let source = v4(2);
        assert!(
            router
                .handle(ms(t), Input::Advert { source, repr })
                .is_empty()
        );
    }
    let fired = router.next_deadline().unwrap();
    assert!(router.handle(fired, Input::Timer).is_empty());
    assert_eq!(router.next_deadline(), Some(ms(10_000)));
    router.handle(ms(10_000), Input::Timer);
    assert_eq!(router.state().kind(), StateKind::Master);
}
