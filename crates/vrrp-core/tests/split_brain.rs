//! A master hearing another master: the announcement when a stall ends or a partition heals, and
//! split-brain detection (router/split_brain.rs).

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use vrrp_core::{
    Action, Config, Datagram, Difference, Input, Instant, LikelyCause, LinkId, Node, NodeInput,
    Report, Router, SplitBrain, StateKind,
};
use vrrp_wire::{Addresses, ChecksumMode, Repr, VRRP_IPV4_GROUP, Version};

fn receive(router: &mut Router, at: Instant, repr: Repr) -> Vec<Action> {
    router.handle(
        at,
        Input::Advert {
            source: v4(2),
            repr,
        },
    )
}

fn announcements(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::AnnounceVips(_)))
        .count()
}

fn split_reports(actions: &[Action]) -> Vec<SplitBrain> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Report(Report::SplitBrain(split)) => Some(split.clone()),
            _ => None,
        })
        .collect()
}

/// Feeds `repr` from 192.0.2.2 every `every_us` from `from` for `count` adverts, firing our own
/// timers in between; returns every action.
fn peer_keeps_advertising(
    router: &mut Router,
    from: Instant,
    every_us: u64,
    count: u64,
    repr: &Repr,
) -> Vec<Action> {
    let mut all = Vec::new();
    for n in 0..count {
        let at = from + dur(n * every_us);
        while let Some(due) = router.next_deadline().filter(|&d| d <= at) {
            all.extend(router.handle(due, Input::Timer));
        }
        all.extend(receive(router, at, repr.clone()));
    }
    all
}

#[test]
fn a_master_that_hears_a_lower_master_announces_its_vips_once_at_once() {
    let config = config(200);
    let (mut router, became) = master(config.clone());
    // A stall ends: the adverts the lower master sent meanwhile are read at the same instant.
    let at = became + dur(2_000_000);
    let mut actions = Vec::new();
    for _ in 0..20 {
        actions.extend(receive(&mut router, at, advert(100, 100)));
    }
    assert_eq!(announcements(&actions), 1, "{actions:?}");
    assert_eq!(actions[2], Action::AnnounceVips(config.vip_set()));
    // Read all at once, they are not a split brain: no report.
    assert!(split_reports(&actions).is_empty());
    assert_eq!(router.state().kind(), StateKind::Master);
}

#[test]
fn a_persistent_second_master_is_announced_against_once_and_reported_once() {
    let config = config(200);
    let (mut router, became) = master(config.clone());
    let start = became + dur(100_000);
    let actions = peer_keeps_advertising(&mut router, start, 1_000_000, 10, &advert(100, 100));
    assert_eq!(announcements(&actions), 1, "no announcement every interval");
    let reports = split_reports(&actions);
    assert_eq!(
        reports,
        vec![SplitBrain {
            peer: v4(2),
            peer_priority: 100,
            our_priority: 200,
            since: start,
            last_heard: start + dur(3_000_000),
            differences: vec![],
            cause: LikelyCause::PeerDoesNotHearUs,
        }]
    );
    // Confirmed at the fourth advert: three whole intervals after the first.
    let at_report = actions
        .iter()
        .position(|a| matches!(a, Action::Report(Report::SplitBrain(_))));
    assert!(at_report.is_some());
    assert_eq!(router.split_brain().map(|s| s.peer), Some(v4(2)));
}

#[test]
fn the_episode_ends_after_ten_quiet_intervals_and_a_new_one_announces_again() {
    let config = config(200);
    let (mut router, became) = master(config.clone());
    let start = became + dur(100_000);
    peer_keeps_advertising(&mut router, start, 1_000_000, 5, &advert(100, 100));
    assert!(router.split_brain().is_some());
    // Last advert at start + 4 s; quiet for more than 10 s: the next advert timer ends the episode.
    let mut ended = Vec::new();
    let until = start + dur(15_500_000);
    while let Some(due) = router.next_deadline().filter(|&d| d <= until) {
        ended.extend(router.handle(due, Input::Timer));
    }
    assert!(ended.contains(&Action::Report(Report::SplitBrainEnded { from: v4(2) })));
    assert_eq!(router.split_brain(), None);
    // A new episode (the partition cut and healed again) announces again.
    let again = receive(&mut router, until, advert(100, 100));
    assert_eq!(announcements(&again), 1);
}

#[test]
fn a_sparse_peer_keeps_one_episode_and_announces_again_when_it_resumes() {
    // keepalived 2.2.7 dropping our adverts advertises every 2 to 5 s at 1 s.
    let (mut router, became) = master(config(200));
    let start = became + dur(100_000);
    let mut actions = Vec::new();
    for offset_ms in [0, 2_000, 6_500, 9_000, 13_000] {
        let at = start + dur(offset_ms * 1_000);
        while let Some(due) = router.next_deadline().filter(|&d| d <= at) {
            actions.extend(router.handle(due, Input::Timer));
        }
        actions.extend(receive(&mut router, at, advert(100, 100)));
    }
    assert_eq!(split_reports(&actions).len(), 1, "one episode: {actions:?}");
    // The first advert, and those after 4.5 s and 4 s of silence (more than three intervals).
    assert_eq!(announcements(&actions), 3);
}

#[test]
fn an_advert_within_the_quiet_time_does_not_announce_again() {
    let (mut router, became) = master(config(200));
    let first = receive(&mut router, became + dur(10), advert(100, 100));
    assert_eq!(announcements(&first), 1);
    // 2.9 s later (under three intervals): the same episode.
    let second = receive(&mut router, became + dur(2_900_010), advert(100, 100));
    assert_eq!(announcements(&second), 0);
}

#[test]
fn leaving_master_ends_a_confirmed_episode() {
    let (mut router, became) = master(config(200));
    let start = became + dur(100_000);
    peer_keeps_advertising(&mut router, start, 1_000_000, 5, &advert(100, 100));
    assert!(router.split_brain().is_some());
    let actions = receive(&mut router, start + dur(4_500_000), advert(250, 100));
    assert_eq!(router.state().kind(), StateKind::Backup);
    assert!(actions.contains(&Action::Report(Report::SplitBrainEnded { from: v4(2) })));
    assert_eq!(router.split_brain(), None);
}

#[test]
fn a_higher_master_is_followed_not_announced_against() {
    let (mut router, became) = master(config(100));
    let actions = receive(&mut router, became + dur(10), advert(200, 100));
    assert_eq!(announcements(&actions), 0);
    assert_eq!(router.state().kind(), StateKind::Backup);
}

#[test]
fn a_resigning_master_is_no_evidence() {
    let (mut router, became) = master(config(200));
    let actions = receive(&mut router, became + dur(10), advert(0, 100));
    assert_eq!(announcements(&actions), 0);
}

/// Runs a persistent peer advert `repr` against a master with `config`; returns the one report.
fn diagnosed(config: Config, repr: Repr) -> SplitBrain {
    let (mut router, became) = master(config);
    let interval = u64::from(repr.max_adver_int.get()) * 10_000;
    let actions = peer_keeps_advertising(&mut router, became + dur(10), interval, 10, &repr);
    let reports = split_reports(&actions);
    assert_eq!(reports.len(), 1, "{actions:?}");
    reports[0].clone()
}

#[test]
fn v2_interval_difference_is_named_even_though_the_adverts_are_discarded() {
    let repr = Repr {
        max_adver_int: cs(200),
        ..advert_v2(100)
    };
    let split = diagnosed(config_v2(200), repr);
    assert_eq!(
        split.differences,
        vec![Difference::Interval {
            ours: cs(100),
            theirs: cs(200)
        }]
    );
    assert_eq!(split.cause, LikelyCause::Interval);
}

#[test]
fn v2_address_list_difference_is_named() {
    let theirs = Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 101)]);
    let repr = Repr {
        addresses: theirs.clone(),
        ..advert_v2(100)
    };
    let split = diagnosed(config_v2(200), repr);
    assert_eq!(split.differences, vec![Difference::AddressList { theirs }]);
    assert_eq!(split.cause, LikelyCause::AddressList);
}

#[test]
fn v2_authentication_difference_is_named_for_a_higher_peer_too() {
    // A higher-priority peer whose adverts we drop: it cannot preempt us, so it is a split brain.
    let repr = Repr {
        auth: password("other"),
        ..advert_v2(250)
    };
    let split = diagnosed(config_v2(200), repr);
    assert_eq!(split.differences, vec![Difference::Authentication]);
    assert_eq!(split.cause, LikelyCause::Authentication);
}

#[test]
fn a_version_difference_is_named() {
    let repr = Repr {
        version: Version::V2,
        ..advert(100, 100)
    };
    let split = diagnosed(config(200), repr);
    assert_eq!(
        split.differences,
        vec![Difference::Version {
            ours: Version::V3,
            theirs: Version::V2
        }]
    );
    assert_eq!(split.cause, LikelyCause::Version);
}

#[test]
fn a_v3_address_count_difference_is_named_as_the_cause() {
    let repr = Repr {
        addresses: Addresses::V4(vec![
            Ipv4Addr::new(192, 0, 2, 100),
            Ipv4Addr::new(192, 0, 2, 101),
        ]),
        ..advert(100, 100)
    };
    let split = diagnosed(config(200), repr);
    assert_eq!(
        split.differences,
        vec![Difference::AddressCount { ours: 1, theirs: 2 }]
    );
    assert_eq!(split.cause, LikelyCause::AddressList);
}

#[test]
fn a_v3_interval_difference_alone_is_not_the_cause() {
    // VRRPv3 learns another interval (RFC 5798 §6.4.2 (450)): no peer drops us for it.
    let split = diagnosed(config(200), advert(100, 50));
    assert_eq!(
        split.differences,
        vec![Difference::Interval {
            ours: cs(100),
            theirs: cs(50)
        }]
    );
    assert_eq!(split.cause, LikelyCause::PeerDoesNotHearUs);
}

/// A node whose one instance (VRID 1 on 192.0.2.1) is master, with `mode`.
#[allow(clippy::unwrap_used)] // a test helper
fn node_master(mode: ChecksumMode) -> (Node, LinkId, Instant) {
    let mut node = Node::new();
    let link = LinkId(1);
    let mut config = config(200);
    config.checksum_mode = mode;
    node.add_instance(link, config).unwrap();
    node.handle(Instant::ZERO, NodeInput::Startup);
    let at = node.next_deadline().unwrap();
    node.handle(at, NodeInput::Timer);
    (node, link, at)
}

#[test]
fn a_checksum_variant_difference_is_named_and_the_episode_counted() {
    // We send RFC 9568's message-only checksum; the peer (keepalived, FRR) the pseudo-header form
    // and drops ours. We accept its adverts: the variant they verified with is the evidence.
    let (mut node, link, became) = node_master(ChecksumMode::MessageOnly);
    let group = IpAddr::V4(VRRP_IPV4_GROUP);
    let bytes = advert(100, 100)
        .to_bytes(v4(2), group, ChecksumMode::PseudoHeader)
        .unwrap();
    let mut reports = Vec::new();
    for n in 0..6u64 {
        let at = became + dur(10 + n * 1_000_000);
        while let Some(due) = node.next_deadline().filter(|&d| d <= at) {
            node.handle(due, NodeInput::Timer);
        }
        let datagram = Datagram {
            link,
            source: v4(2),
            destination: group,
            hop_limit: 255,
            payload: &bytes,
        };
        let actions: Vec<Action> = node
            .handle(at, NodeInput::Datagram(datagram))
            .into_iter()
            .map(|(_, action)| action)
            .collect();
        reports.extend(split_reports(&actions));
    }
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0].differences,
        vec![Difference::Checksum {
            ours: ChecksumMode::MessageOnly,
            theirs: ChecksumMode::PseudoHeader
        }]
    );
    assert_eq!(reports[0].cause, LikelyCause::ChecksumVariant);
    let view = node.instances().next().unwrap();
    assert_eq!(view.counters.split_brain_episodes, 1);
    assert_eq!(
        view.router.split_brain().map(|s| s.cause),
        Some(LikelyCause::ChecksumVariant)
    );
}

#[test]
fn the_same_checksum_variant_is_no_difference() {
    let (mut node, link, became) = node_master(ChecksumMode::PseudoHeader);
    let group = IpAddr::V4(VRRP_IPV4_GROUP);
    let bytes = advert(100, 100)
        .to_bytes(v4(2), group, ChecksumMode::PseudoHeader)
        .unwrap();
    for n in 0..6u64 {
        let at = became + dur(10 + n * 1_000_000);
        while let Some(due) = node.next_deadline().filter(|&d| d <= at) {
            node.handle(due, NodeInput::Timer);
        }
        let datagram = Datagram {
            link,
            source: v4(2),
            destination: group,
            hop_limit: 255,
            payload: &bytes,
        };
        node.handle(at, NodeInput::Datagram(datagram));
    }
    let view = node.instances().next().unwrap();
    let split = view.router.split_brain().unwrap();
    assert_eq!(split.differences, vec![]);
    assert_eq!(split.cause, LikelyCause::PeerDoesNotHearUs);
    assert_eq!(view.counters.split_brain_episodes, 1);
}
