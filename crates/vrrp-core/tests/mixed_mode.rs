//! RFC 5798 §8.4 VRRPv3/VRRPv2 mixed mode (`Config::v2_interop`): both versions sent, both accepted,
//! a VRRPv2 master followed with its interval translated, a mixed peer's VRRPv2 copy ignored.

// Helpers are not #[test] functions, so clippy.toml's allow-unwrap-in-tests does not cover them.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use vrrp_core::{
    Action, Config, ConfigError, Datagram, Discard, FaultCause, Input, LinkId, Node, NodeInput,
    Reason, Report, Router, StateKind, TrackerConfig, TrackerId,
};
use vrrp_wire::{Addresses, ChecksumMode, Repr, VRRP_IPV4_GROUP, Version};

/// VRRPv3 over IPv4 at 1 s with mixed mode on.
fn mixed(priority: u8) -> Config {
    Config {
        v2_interop: true,
        ..config(priority)
    }
}

/// A VRRPv2 advert without authentication, as keepalived's `vrrp_version 2` sends it.
fn v2(priority: u8, interval: u16) -> Repr {
    Repr {
        version: Version::V2,
        ..advert(priority, interval)
    }
}

/// What a mixed-mode router sends with `priority`: VRRPv3, then the VRRPv2 copy.
fn both(config: &Config, priority: u8) -> Vec<Action> {
    let v3 = own_advert(config, priority);
    let copy = Repr {
        version: Version::V2,
        ..v3.clone()
    };
    vec![Action::SendAdvert(v3), Action::SendAdvert(copy)]
}

fn from_peer(router: &mut Router, at_us: u64, repr: Repr) -> Vec<Action> {
    router.handle(
        us(at_us),
        Input::Advert {
            source: v4(2),
            repr,
        },
    )
}

#[test]
fn mixed_mode_master_sends_a_v2_copy_after_every_v3_advert() {
    let config = mixed(100);
    let mut router = started(config.clone());
    let mdi = 3_609_375;
    let mut expected = both(&config, 100);
    expected.extend(
        takeover(&config, 100, Reason::MasterDown)
            .into_iter()
            .skip(1),
    );
    assert_eq!(router.handle(us(mdi), Input::Timer), expected);
    assert_eq!(
        router.handle(us(mdi + 1_000_000), Input::Timer),
        both(&config, 100)
    );
}

#[test]
fn mixed_mode_shutdown_sends_priority_zero_in_both_versions() {
    let config = mixed(100);
    let (mut router, _) = master(config.clone());
    let mut expected = both(&config, 0);
    expected.push(Action::RemoveVips(config.vip_set()));
    expected.push(changed(
        StateKind::Master,
        StateKind::Initialize,
        Reason::Shutdown,
        false,
    ));
    assert_eq!(router.handle(us(5_000_000), Input::Shutdown), expected);
}

#[test]
fn mixed_mode_fault_resignation_is_sent_in_both_versions() {
    let mut config = mixed(100);
    config.trackers = vec![TrackerConfig {
        weight: 0,
        reverse: false,
        initially_ok: true,
    }];
    let (mut router, at) = master(config.clone());
    let ko = Input::Tracker {
        tracker: TrackerId(0),
        ok: false,
    };
    let mut expected = both(&config, 0);
    expected.push(Action::RemoveVips(config.vip_set()));
    expected.push(changed(
        StateKind::Master,
        StateKind::Fault,
        Reason::Fault(FaultCause::Tracker(TrackerId(0))),
        false,
    ));
    assert_eq!(router.handle(at, ko), expected);
}

#[test]
fn mixed_mode_master_readvertises_once_in_both_versions_for_a_lower_mixed_peer() {
    let config = mixed(200);
    let (mut router, at) = master(config.clone());
    let t = at.as_micros() + 100;
    let mut expected = vec![Action::Discard(Discard::LowerPriority)];
    expected.extend(both(&config, 200));
    // Another master: announce again (tests/split_brain.rs).
    expected.push(Action::AnnounceVips(config.vip_set()));
    assert_eq!(from_peer(&mut router, t, advert(100, 100)), expected);
    // The peer's VRRPv2 copy is not a second reason to re-advertise.
    assert_eq!(
        from_peer(&mut router, t + 50, v2(100, 100)),
        vec![Action::Discard(Discard::V2ShadowedByV3)]
    );
}

#[test]
fn mixed_mode_backup_follows_a_v2_master_with_its_interval_in_centiseconds_and_warns_it_differs() {
    let mut router = started(mixed(100));
    let actions = from_peer(&mut router, 1_000_000, v2(200, 300));
    assert_eq!(
        actions,
        vec![Action::Report(Report::V2IntervalMismatch {
            from: v4(2),
            ours: cs(100),
            theirs: cs(300),
        })]
    );
    assert_eq!(router.master_adver_interval(), cs(300));
    assert_eq!(router.known_master().unwrap().priority, 200);
    // 3 x 3 s + (256 - 100) x 3 s / 256 = 9 s + 1.828125 s.
    assert_eq!(router.next_deadline(), Some(us(1_000_000 + 10_828_125)));
}

#[test]
fn mixed_mode_master_yields_to_a_higher_priority_v2_master() {
    let config = mixed(100);
    let (mut router, at) = master(config.clone());
    let actions = from_peer(&mut router, at.as_micros() + 10, v2(200, 100));
    assert_eq!(
        actions,
        vec![
            // advertise_on_yield: VRRPv3 only, to the winner alone.
            Action::SendAdvertTo {
                advert: own_advert(&config, 100),
                to: v4(2)
            },
            Action::RemoveVips(config.vip_set()),
            changed(
                StateKind::Master,
                StateKind::Backup,
                Reason::Preempted {
                    by: v4(2),
                    priority: 200,
                },
                false,
            ),
        ]
    );
}

#[test]
fn mixed_mode_backup_preempts_a_lower_priority_v2_master() {
    let config = mixed(150);
    let mut router = started(config.clone());
    assert_eq!(
        from_peer(&mut router, 1_000_000, v2(100, 100)),
        vec![Action::Discard(Discard::LowerPriority)]
    );
    // Skew_Time for 150 at 1 s: 106 / 256 s = 414 062.5 us, rounded up.
    let mdi = 3_414_063;
    assert_eq!(router.next_deadline(), Some(us(mdi)));
    let mut expected = both(&config, 150);
    let preempting = Reason::Preempting {
        over: v4(2),
        priority: 100,
    };
    expected.extend(takeover(&config, 150, preempting).into_iter().skip(1));
    assert_eq!(router.handle(us(mdi), Input::Timer), expected);
}

#[test]
fn mixed_mode_without_preempt_follows_a_lower_priority_v2_master() {
    let mut router = started(Config {
        preempt: false,
        ..mixed(150)
    });
    assert!(from_peer(&mut router, 1_000_000, v2(100, 100)).is_empty());
    assert_eq!(router.known_master().unwrap().address, v4(2));
    assert_eq!(router.next_deadline(), Some(us(1_000_000 + 3_414_063)));
}

#[test]
fn mixed_mode_backup_ignores_the_v2_copy_of_a_master_that_sends_v3() {
    let mut router = started(mixed(100));
    assert!(from_peer(&mut router, 1_000_000, advert(200, 100)).is_empty());
    let deadline = router.next_deadline();
    // A copy with another interval would change Master_Adver_Interval if it counted.
    assert_eq!(
        from_peer(&mut router, 1_000_500, v2(200, 200)),
        vec![Action::Discard(Discard::V2ShadowedByV3)]
    );
    assert_eq!(router.next_deadline(), deadline);
    assert_eq!(router.master_adver_interval(), cs(100));
    // The master resigns in both versions: one Skew_Time, from its VRRPv3 advert.
    assert!(from_peer(&mut router, 2_000_000, advert(0, 100)).is_empty());
    assert_eq!(router.next_deadline(), Some(us(2_000_000 + 609_375)));
    assert_eq!(
        from_peer(&mut router, 2_000_900, v2(0, 100)),
        vec![Action::Discard(Discard::V2ShadowedByV3)]
    );
    assert_eq!(router.next_deadline(), Some(us(2_000_000 + 609_375)));
}

#[test]
fn mixed_mode_v2_adverts_count_again_once_their_sender_stops_sending_v3() {
    let mut router = started(mixed(100));
    from_peer(&mut router, 1_000_000, advert(200, 100));
    // One whole interval after the last VRRPv3 advert: no longer a copy.
    assert!(from_peer(&mut router, 2_000_000, v2(200, 100)).is_empty());
    assert_eq!(router.next_deadline(), Some(us(2_000_000 + 3_609_375)));
    assert!(from_peer(&mut router, 3_000_000, v2(200, 100)).is_empty());
    assert_eq!(router.next_deadline(), Some(us(3_000_000 + 3_609_375)));
}

#[test]
fn mixed_mode_v2_priority_zero_from_a_v2_master_starts_skew_time() {
    let mut router = started(mixed(100));
    from_peer(&mut router, 1_000_000, v2(200, 100));
    assert!(from_peer(&mut router, 2_000_000, v2(0, 100)).is_empty());
    assert_eq!(router.next_deadline(), Some(us(2_000_000 + 609_375)));
}

#[test]
fn mixed_mode_discards_a_v2_advert_with_a_password() {
    let mut router = started(mixed(100));
    assert_eq!(
        from_peer(&mut router, 1_000_000, advert_v2(200)),
        vec![Action::Discard(Discard::AuthMismatch)]
    );
}

#[test]
fn mixed_mode_keeps_a_v2_advert_with_another_address_list_and_reports_it() {
    let mut router = started(mixed(100));
    let other = Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 101)]);
    let repr = Repr {
        addresses: other.clone(),
        ..v2(200, 100)
    };
    assert_eq!(
        from_peer(&mut router, 1_000_000, repr),
        vec![Action::Report(Report::AddressListMismatch {
            from: v4(2),
            theirs: other,
        })]
    );
    assert_eq!(router.known_master().unwrap().address, v4(2));
}

#[test]
fn without_v2_interop_a_v2_advert_is_a_version_mismatch() {
    let mut router = started(config(100));
    assert_eq!(
        from_peer(&mut router, 1_000_000, v2(200, 100)),
        vec![Action::Discard(Discard::VersionMismatch)]
    );
}

#[test]
fn mixed_mode_reports_once_a_master_that_sends_no_v2_copies() {
    let mut router = started(mixed(100));
    let no_v2 = Report::MasterSendsNoV2 { from: v4(2) };
    assert!(from_peer(&mut router, 1_000_000, advert(200, 100)).is_empty());
    assert!(from_peer(&mut router, 2_000_000, advert(200, 100)).is_empty());
    assert_eq!(
        from_peer(&mut router, 3_000_000, advert(200, 100)),
        vec![Action::Report(no_v2.clone())]
    );
    assert!(from_peer(&mut router, 4_000_000, advert(200, 100)).is_empty());
    // It starts sending copies, then stops again: reported again.
    from_peer(&mut router, 4_000_100, v2(200, 100));
    for t in [5_000_000, 6_000_000] {
        assert!(from_peer(&mut router, t, advert(200, 100)).is_empty());
    }
    assert_eq!(
        from_peer(&mut router, 7_000_000, advert(200, 100)),
        vec![Action::Report(no_v2)]
    );
}

#[test]
fn mixed_mode_needs_vrrpv3_over_ipv4() {
    let v2_router = Config {
        version: Version::V2,
        ..mixed(100)
    };
    assert_eq!(v2_router.validate(), Err(ConfigError::V2InteropNeedsV3Ipv4));
    let ipv6 = Config {
        v2_interop: true,
        ..config_v6(100)
    };
    assert_eq!(ipv6.validate(), Err(ConfigError::V2InteropNeedsV3Ipv4));
}

#[test]
fn mixed_mode_needs_a_whole_second_interval_vrrpv3_can_carry() {
    let at = |centiseconds| Config {
        advert_interval: cs(centiseconds),
        ..mixed(100)
    };
    assert_eq!(at(150).validate(), Err(ConfigError::IntervalOutOfRange));
    assert_eq!(at(4100).validate(), Err(ConfigError::IntervalOutOfRange));
    assert_eq!(at(100).validate(), Ok(()));
    assert_eq!(at(4000).validate(), Ok(()));
}

#[test]
fn mixed_mode_node_takes_both_versions_on_one_instance_and_keeps_the_v3_checksum_variant() {
    let link = LinkId(2);
    let mut node = Node::new();
    let id = node.add_instance(link, mixed(100)).unwrap();
    node.handle(ms(0), NodeInput::Startup);
    let group = IpAddr::V4(VRRP_IPV4_GROUP);
    let v3_bytes = advert(200, 100)
        .to_bytes(v4(2), group, ChecksumMode::PseudoHeader)
        .unwrap();
    let v2_bytes = v2(200, 100)
        .to_bytes(v4(2), group, ChecksumMode::MessageOnly)
        .unwrap();
    for (at, payload) in [(1_000, &v3_bytes), (1_001, &v2_bytes)] {
        node.handle(
            ms(at),
            NodeInput::Datagram(Datagram {
                link,
                source: v4(2),
                destination: group,
                hop_limit: 255,
                payload,
            }),
        );
    }
    let view = node.instance(id).unwrap();
    assert_eq!(view.counters.adverts_received, 2);
    assert_eq!(view.counters.discards.get("v2_shadowed_by_v3"), Some(&1));
    assert_eq!(view.master_checksum, Some(ChecksumMode::PseudoHeader));
    assert_eq!(view.router.known_master().unwrap().address, v4(2));
}
