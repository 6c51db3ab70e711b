//! VRRPv2 (RFC 3768): whole-second intervals, interval mismatch discarded, simple password.

mod common;

use std::net::Ipv4Addr;

use common::*;
use vrrp_core::{Action, Discard, Input, Reason, Router};
use vrrp_wire::{Addresses, Auth, Repr};

fn receive(router: &mut Router, repr: Repr) -> Vec<Action> {
    router.handle(
        ms(1_000),
        Input::Advert {
            source: v4(2),
            repr,
        },
    )
}

#[test]
fn v2_discards_interval_mismatch() {
    let mut router = started(config_v2(100));
    let repr = Repr {
        max_adver_int: cs(200),
        ..advert_v2(200)
    };
    assert_eq!(
        receive(&mut router, repr),
        vec![Action::Discard(Discard::IntervalMismatch)]
    );
    assert_eq!(router.next_deadline(), Some(us(3_609_375)));
    assert_eq!(router.master_adver_interval(), cs(100));
}

#[test]
fn v2_discards_wrong_password() {
    let mut router = started(config_v2(100));
    let repr = Repr {
        auth: password("guess"),
        ..advert_v2(200)
    };
    assert_eq!(
        receive(&mut router, repr),
        vec![Action::Discard(Discard::AuthMismatch)]
    );
}

#[test]
fn v2_discards_missing_authentication() {
    let mut router = started(config_v2(100));
    let repr = Repr {
        auth: Auth::None,
        ..advert_v2(200)
    };
    assert_eq!(
        receive(&mut router, repr),
        vec![Action::Discard(Discard::AuthMismatch)]
    );
}

#[test]
fn v2_accepts_matching_advert() {
    let mut router = started(config_v2(100));
    assert!(receive(&mut router, advert_v2(200)).is_empty());
    assert_eq!(router.next_deadline(), Some(us(1_000_000 + 3_609_375)));
}

#[test]
fn v2_discards_address_list_mismatch_unless_from_owner() {
    let mut router = started(config_v2(100));
    let other = Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 101)]);
    let repr = Repr {
        addresses: other.clone(),
        ..advert_v2(200)
    };
    assert_eq!(
        receive(&mut router, repr),
        vec![Action::Discard(Discard::AddressListMismatch)]
    );
    let from_owner = Repr {
        addresses: other,
        ..advert_v2(255)
    };
    assert_eq!(receive(&mut router, from_owner).len(), 1); // reported, kept
    assert_eq!(router.next_deadline(), Some(us(1_000_000 + 3_609_375)));
}

#[test]
fn v2_adverts_carry_password_and_whole_seconds() {
    let mut config = config_v2(100);
    config.advert_interval = cs(300);
    let mut router = started(config.clone());
    // RFC 3768 skew ignores the interval: 9 s + 0.609375 s.
    let down = us(9_609_375);
    assert_eq!(router.next_deadline(), Some(down));
    let actions = router.handle(down, Input::Timer);
    assert_eq!(actions, takeover(&config, 100, Reason::MasterDown));
    let Action::SendAdvert(sent) = &actions[0] else {
        panic!("{actions:?}")
    };
    assert_eq!(sent.auth, password("secret"));
    assert_eq!(sent.max_adver_int, cs(300));
    assert_eq!(sent.version, vrrp_wire::Version::V2);
}

#[test]
fn v2_master_only_discards_a_lower_priority_advert() {
    // RFC 3768 §6.4.3: "else: Discard ADVERTISEMENT" (RFC 9568's immediate re-advert is v3 only).
    let (mut router, became) = master(config_v2(100));
    let actions = router.handle(
        became + dur(10_000),
        Input::Advert {
            source: v4(2),
            repr: advert_v2(50),
        },
    );
    // No re-advert (RFC 3768 §6.4.3), but another master is heard: announce again.
    assert_eq!(
        actions,
        vec![
            Action::Discard(Discard::LowerPriority),
            Action::AnnounceVips(config_v2(100).vip_set())
        ]
    );
}

#[test]
fn v2_owner_ignores_adverts_as_rfc_3768_requires() {
    // RFC 3768 §7.1: the local router must not be the address owner; erratum 8298 is RFC 9568's.
    let mut router = started(config_v2(255));
    let actions = receive(&mut router, advert_v2(0));
    assert_eq!(actions, vec![Action::Discard(Discard::OwnerIgnoresAdverts)]);
}
