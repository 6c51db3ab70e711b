//! RFC 5798 §6.4.1 Initialize and configuration checks.

mod common;

use common::*;
use vrrp_core::{
    Action, Config, ConfigError, FaultCause, Input, Instant, Reason, Router, State, StateKind,
    TrackerConfig,
};
use vrrp_wire::{Addresses, Auth, Version};

#[test]
fn non_owner_startup_goes_backup_with_master_down_interval() {
    let mut router = router(config(100));
    let actions = router.handle(ms(5), Input::Startup);
    assert_eq!(
        actions,
        vec![changed(
            StateKind::Initialize,
            StateKind::Backup,
            Reason::Startup,
            false
        )]
    );
    assert_eq!(
        router.state(),
        State::Backup {
            master_down_at: us(5_000 + 3_609_375)
        }
    );
    assert_eq!(router.next_deadline(), Some(us(3_614_375)));
    assert_eq!(router.master_adver_interval(), cs(100));
}

#[test]
fn owner_startup_advertises_announces_and_becomes_master() {
    let config = config(255);
    let mut router = router(config.clone());
    let actions = router.handle(Instant::ZERO, Input::Startup);
    assert_eq!(
        actions,
        vec![
            Action::SendAdvert(own_advert(&config, 255)),
            Action::AddVips(vips_v4().into()),
            Action::AnnounceVips(vips_v4().into()),
            changed(
                StateKind::Initialize,
                StateKind::Master,
                Reason::Startup,
                true
            ),
        ]
    );
    assert_eq!(
        router.state(),
        State::Master {
            advert_at: ms(1_000)
        }
    );
    assert!(router.accepts_vip_traffic());
}

#[test]
fn startup_with_link_down_goes_to_fault() {
    let mut router = router(config(100));
    assert!(
        router
            .handle(Instant::ZERO, Input::InterfaceDown)
            .is_empty()
    );
    let actions = router.handle(ms(1), Input::Startup);
    assert_eq!(
        actions,
        vec![changed(
            StateKind::Initialize,
            StateKind::Fault,
            Reason::Fault(FaultCause::LinkDown),
            false
        )]
    );
    assert_eq!(router.next_deadline(), None);
}

#[test]
fn startup_with_a_weight_zero_tracker_initially_ko_goes_to_fault() {
    let mut config = config(100);
    config.trackers = vec![TrackerConfig {
        weight: 0,
        initially_ok: false,
        reverse: false,
    }];
    let mut router = router(config);
    let actions = router.handle(Instant::ZERO, Input::Startup);
    assert_eq!(
        actions,
        vec![changed(
            StateKind::Initialize,
            StateKind::Fault,
            Reason::Fault(FaultCause::Tracker(vrrp_core::TrackerId(0))),
            false
        )]
    );
}

#[test]
fn second_startup_is_ignored() {
    let mut router = started(config(100));
    assert!(router.handle(ms(10), Input::Startup).is_empty());
    assert_eq!(router.next_deadline(), Some(us(3_609_375)));
}

#[test]
fn timer_before_startup_does_nothing() {
    let mut router = router(config(100));
    assert!(router.handle(ms(10_000), Input::Timer).is_empty());
    assert_eq!(router.state(), State::Initialize);
    assert_eq!(router.next_deadline(), None);
}

#[test]
fn early_timer_does_nothing() {
    let mut router = started(config(100));
    assert!(router.handle(us(3_609_374), Input::Timer).is_empty());
    assert_eq!(router.next_deadline(), Some(us(3_609_375)));
}

#[test]
fn config_errors_are_typed() {
    let check = |config: Config| Router::new(config).err();
    let mut c = config(100);
    c.vrid = 0;
    assert_eq!(check(c), Some(ConfigError::VridZero));
    assert_eq!(check(config(0)), Some(ConfigError::PriorityZero));
    let mut c = config(100);
    c.addresses = Addresses::V4(vec![]);
    assert_eq!(check(c), Some(ConfigError::NoAddresses));
    let mut c = config(100);
    c.addresses = vips_v6();
    assert_eq!(check(c), Some(ConfigError::AddressFamilyMismatch));
    let mut c = config_v6(100);
    c.addresses = Addresses::V6(vec!["2001:db8::100".parse().unwrap()]);
    // A global-only IPv6 list runs: keepalived and FRR advertise one for `2001:db8::100/64`.
    assert_eq!(check(c), None);
    let mut c = config(100);
    c.advert_interval = cs(4096);
    assert_eq!(check(c), Some(ConfigError::IntervalOutOfRange));
    let mut c = config_v2(100);
    c.advert_interval = cs(150);
    assert_eq!(check(c), Some(ConfigError::IntervalOutOfRange));
    let mut c = config_v6(100);
    c.version = Version::V2;
    assert_eq!(check(c), Some(ConfigError::V2IsIpv4Only));
    let mut c = config(100);
    c.auth = Auth::SimplePassword(*b"secret\0\0");
    assert_eq!(check(c), Some(ConfigError::AuthenticationNeedsV2));
    let mut c = config(100);
    c.trackers = vec![
        TrackerConfig {
            weight: 10,
            initially_ok: true,
            reverse: false,
        },
        TrackerConfig {
            weight: -255,
            initially_ok: true,
            reverse: false,
        },
    ];
    assert_eq!(
        check(c),
        Some(ConfigError::TrackerWeightOutOfRange(vrrp_core::TrackerId(
            1
        )))
    );
}
