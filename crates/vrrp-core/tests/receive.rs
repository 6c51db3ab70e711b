//! The receive checks that need configuration (RFC 5798 §7.1, RFC 3768 §7.1) and their typed reasons.

mod common;

use std::net::Ipv4Addr;

use common::*;
use vrrp_core::{Action, Discard, Input, Report, Router, StateKind};
use vrrp_wire::{Addresses, Repr, Version};

fn receive(router: &mut Router, source: std::net::IpAddr, repr: Repr) -> Vec<Action> {
    router.handle(ms(1_000), Input::Advert { source, repr })
}

fn discarded(reason: Discard) -> Vec<Action> {
    vec![Action::Discard(reason)]
}

#[test]
fn advert_before_startup_is_discarded_not_running() {
    let mut router = router(config(100));
    assert_eq!(
        receive(&mut router, v4(2), advert(200, 100)),
        discarded(Discard::NotRunning)
    );
}

#[test]
fn vrid_mismatch_is_discarded() {
    let mut router = started(config(100));
    let repr = Repr {
        vrid: 2,
        ..advert(200, 100)
    };
    assert_eq!(
        receive(&mut router, v4(2), repr),
        discarded(Discard::VridMismatch)
    );
    assert_eq!(router.next_deadline(), Some(us(3_609_375)));
}

#[test]
fn v2_advert_to_v3_router_is_discarded_version_mismatch() {
    let mut router = started(config(100));
    assert_eq!(
        receive(&mut router, v4(2), advert_v2(200)),
        discarded(Discard::VersionMismatch)
    );
}

#[test]
fn v3_advert_to_v2_router_is_discarded_version_mismatch() {
    let mut router = started(config_v2(100));
    assert_eq!(
        receive(&mut router, v4(2), advert(200, 100)),
        discarded(Discard::VersionMismatch)
    );
}

#[test]
fn address_family_mismatch_is_discarded() {
    let mut router = started(config(100));
    assert_eq!(
        receive(&mut router, v4(2), advert_v6(200, 100)),
        discarded(Discard::AddressFamilyMismatch)
    );
    assert_eq!(
        receive(&mut router, ll(2), advert(200, 100)),
        discarded(Discard::AddressFamilyMismatch)
    );
}

#[test]
fn own_advert_is_discarded() {
    let mut router = started(config(100));
    assert_eq!(
        receive(&mut router, v4(1), advert(200, 100)),
        discarded(Discard::OwnAdvert)
    );
}

#[test]
fn v3_address_list_mismatch_is_reported_once_and_kept() {
    let mut router = started(config(100));
    let other = Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 101)]);
    let repr = Repr {
        addresses: other.clone(),
        ..advert(200, 100)
    };
    assert_eq!(
        receive(&mut router, v4(2), repr.clone()),
        vec![Action::Report(Report::AddressListMismatch {
            from: v4(2),
            theirs: other
        })]
    );
    assert_eq!(router.next_deadline(), Some(us(1_000_000 + 3_609_375)));
    assert!(receive(&mut router, v4(2), repr).is_empty());
    assert!(router.address_mismatch().is_some());
}

#[test]
fn address_list_order_does_not_matter() {
    let mut config = config(100);
    config.addresses = Addresses::V4(vec![
        Ipv4Addr::new(192, 0, 2, 100),
        Ipv4Addr::new(192, 0, 2, 101),
    ]);
    let mut router = started(config);
    let repr = Repr {
        addresses: Addresses::V4(vec![
            Ipv4Addr::new(192, 0, 2, 101),
            Ipv4Addr::new(192, 0, 2, 100),
        ]),
        ..advert(200, 100)
    };
    assert!(receive(&mut router, v4(2), repr).is_empty());
}

#[test]
fn discard_labels_are_stable() {
    let labels: Vec<&str> = [
        Discard::VridMismatch,
        Discard::VersionMismatch,
        Discard::AddressFamilyMismatch,
        Discard::IntervalMismatch,
        Discard::AuthMismatch,
        Discard::AddressListMismatch,
        Discard::OwnAdvert,
        Discard::OwnerIgnoresAdverts,
        Discard::NotRunning,
        Discard::InFault,
        Discard::LowerPriority,
    ]
    .iter()
    .map(Discard::label)
    .collect();
    assert_eq!(
        labels,
        [
            "vrid_mismatch",
            "version_mismatch",
            "address_family_mismatch",
            "interval_mismatch",
            "auth_mismatch",
            "address_list_mismatch",
            "own_advert",
            "owner_ignores_adverts",
            "not_running",
            "in_fault",
            "lower_priority"
        ]
    );
    assert_eq!(StateKind::Initialize.notify_name(), "STOP");
    let _ = Version::V3;
}
