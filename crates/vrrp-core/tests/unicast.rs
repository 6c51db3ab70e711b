//! Unicast peers (keepalived's `unicast_peer`): with a peer list, only adverts from a listed source
//! take part; the destination (our address or the group) does not matter.

// Helpers are not #[test] functions, so clippy.toml's allow-unwrap-in-tests does not cover them.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use vrrp_core::{
    Action, Config, ConfigError, Datagram, Discard, Input, LinkId, Node, NodeInput, Reason, Router,
    StateKind,
};
use vrrp_wire::{ChecksumMode, VRRP_IPV4_GROUP};

const ETH0: LinkId = LinkId(2);

/// 192.0.2.1 at `priority`, whose only peer is 192.0.2.2.
fn unicast(priority: u8) -> Config {
    Config {
        unicast_peers: vec![v4(2)],
        ..config(priority)
    }
}

fn receive(router: &mut Router, source: IpAddr, repr: vrrp_wire::Repr) -> Vec<Action> {
    router.handle(ms(1_000), Input::Advert { source, repr })
}

#[test]
fn an_advert_from_a_source_not_listed_is_discarded_and_changes_nothing() {
    let mut router = started(unicast(100));
    let deadline = router.next_deadline();
    assert_eq!(
        receive(&mut router, v4(3), advert(200, 100)),
        vec![Action::Discard(Discard::SourceNotAUnicastPeer)]
    );
    assert_eq!(
        router.next_deadline(),
        deadline,
        "the master-down timer was reset"
    );
    assert_eq!(router.known_master(), None);
    assert_eq!(
        Discard::SourceNotAUnicastPeer.label(),
        "source_not_a_unicast_peer"
    );
}

#[test]
fn a_non_peer_cannot_preempt_a_unicast_master() {
    let (mut router, _) = master(unicast(100));
    let actions = receive(&mut router, v4(3), advert(254, 100));
    assert_eq!(
        actions,
        vec![Action::Discard(Discard::SourceNotAUnicastPeer)]
    );
    assert_eq!(router.state().kind(), StateKind::Master);
}

#[test]
fn a_listed_peer_with_a_higher_priority_preempts_the_master() {
    let (mut router, _) = master(unicast(100));
    let actions = receive(&mut router, v4(2), advert(200, 100));
    assert!(
        actions.contains(&changed(
            StateKind::Master,
            StateKind::Backup,
            Reason::Preempted {
                by: v4(2),
                priority: 200
            },
            false
        )),
        "{actions:?}"
    );
}

#[test]
fn without_a_peer_list_any_source_takes_part() {
    let mut router = started(config(100));
    receive(&mut router, v4(3), advert(200, 100));
    assert_eq!(router.known_master().unwrap().address, v4(3));
}

#[test]
fn peers_of_the_other_family_are_refused() {
    let config = Config {
        unicast_peers: vec![ll(2)],
        ..config(100)
    };
    assert_eq!(
        config.validate(),
        Err(ConfigError::UnicastPeerFamilyMismatch)
    );
}

/// The node's checklist, from bytes: a non-peer's advert to our unicast address is counted under
/// its label; a listed peer's advert is taken whether sent to us or to the group.
#[test]
fn the_node_counts_a_non_peer_and_accepts_a_peer_at_either_destination() {
    let mut node = Node::new();
    let id = node.add_instance(ETH0, unicast(100)).unwrap();
    node.handle(ms(0), NodeInput::Startup);
    let to_us = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let group = IpAddr::V4(VRRP_IPV4_GROUP);
    let deliver = |node: &mut Node, at: u64, last: u8, destination: IpAddr| {
        let bytes = advert(200, 100)
            .to_bytes(v4(last), destination, ChecksumMode::PseudoHeader)
            .unwrap();
        node.handle(
            ms(at),
            NodeInput::Datagram(Datagram {
                link: ETH0,
                source: v4(last),
                destination,
                hop_limit: 255,
                payload: &bytes,
            }),
        )
    };
    deliver(&mut node, 100, 3, to_us);
    let view = node.instance(id).unwrap();
    assert_eq!(
        view.counters.discards.get("source_not_a_unicast_peer"),
        Some(&1)
    );
    assert_eq!(view.router.known_master(), None);

    deliver(&mut node, 200, 2, to_us);
    assert_eq!(
        node.router(id).unwrap().known_master().unwrap().address,
        v4(2)
    );
    deliver(&mut node, 300, 2, group);
    let view = node.instance(id).unwrap();
    assert_eq!(view.counters.adverts_received, 3);
    assert_eq!(view.counters.discards.values().sum::<u64>(), 1);
}
