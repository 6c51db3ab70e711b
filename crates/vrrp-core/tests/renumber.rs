//! A renumbered interface: `Input::SourceAddressChanged` replaces the primary address (the advert
//! source and the RFC 5798 §6.4.3 (735) tie-break) and clears a source-lost FAULT.

// Helpers are not #[test] functions, so clippy.toml's allow-unwrap-in-tests does not cover them.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use vrrp_core::{
    Action, Datagram, Discard, FaultCause, Input, LinkId, Node, NodeInput, Reason, State, StateKind,
};
use vrrp_wire::{ChecksumMode, VRRP_IPV4_GROUP};

#[test]
fn a_new_address_ends_a_source_lost_fault_and_becomes_the_source() {
    let mut router = started(config_at(1, 100));
    router.handle(ms(1), Input::SourceAddressLost);
    assert_eq!(router.fault_cause(), Some(FaultCause::SourceAddressLost));
    assert_eq!(
        router.handle(ms(2), Input::SourceAddressChanged(v4(9))),
        vec![changed(
            StateKind::Fault,
            StateKind::Backup,
            Reason::FaultCleared,
            false
        )]
    );
    assert_eq!(router.config().primary_address, v4(9));
    assert!(router.source_present());
}

#[test]
fn a_renumbered_master_stays_master_and_wins_ties_with_its_new_address() {
    let (mut router, became) = master(config_at(1, 100));
    assert!(
        router
            .handle(became + dur(1), Input::SourceAddressChanged(v4(9)))
            .is_empty(),
        "a master that keeps its source usable does not move"
    );
    assert_eq!(router.known_master().map(|m| m.address), Some(v4(9)));
    // 192.0.2.2 would have won against 192.0.2.1; against 192.0.2.9 it loses (§6.4.3 (735)).
    let at = became + dur(2);
    let actions = router.handle(
        at,
        Input::Advert {
            source: v4(2),
            repr: advert(100, 100),
        },
    );
    assert_eq!(
        actions.first(),
        Some(&Action::Discard(Discard::LowerPriority))
    );
    assert_eq!(router.state().kind(), StateKind::Master);
}

#[test]
fn an_address_of_the_other_family_is_no_renumbering() {
    let mut router = started(config_at(1, 100));
    router.handle(ms(1), Input::SourceAddressLost);
    assert!(
        router
            .handle(ms(2), Input::SourceAddressChanged(ll(1)))
            .is_empty()
    );
    assert_eq!(router.config().primary_address, v4(1));
    assert_eq!(router.state(), State::Fault);
}

#[test]
fn a_new_address_before_startup_is_the_one_it_starts_with() {
    // The daemon starts an instance whose interface has no address yet with a placeholder and
    // `SourceAddressLost`; the address that appears later replaces it.
    let mut config = config_at(1, 100);
    config.primary_address = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let mut router = router(config);
    router.handle(ms(0), Input::SourceAddressLost);
    assert_eq!(router.handle(ms(1), Input::Startup).len(), 1);
    assert_eq!(router.state(), State::Fault);
    router.handle(ms(2), Input::SourceAddressChanged(v4(7)));
    assert_eq!(router.state().kind(), StateKind::Backup);
    assert_eq!(router.config().primary_address, v4(7));
}

#[test]
fn the_node_keeps_dispatching_a_renumbered_instance_and_drops_its_own_new_address() {
    let link = LinkId(2);
    let mut node = Node::new();
    let id = node.add_instance(link, config_at(1, 100)).unwrap();
    node.handle(ms(0), NodeInput::Startup);
    node.handle(
        ms(1),
        NodeInput::Instance(id, Input::SourceAddressChanged(v4(9))),
    );
    assert_eq!(node.find(link, vrrp_wire::Family::Ipv4, 1), Some(id));
    // Our own new address as a source is a loop, as the old one was.
    let bytes = advert(100, 100)
        .to_bytes(
            v4(9),
            IpAddr::V4(VRRP_IPV4_GROUP),
            ChecksumMode::PseudoHeader,
        )
        .unwrap();
    let actions = node.handle(
        ms(2),
        NodeInput::Datagram(Datagram {
            link,
            source: v4(9),
            destination: IpAddr::V4(VRRP_IPV4_GROUP),
            hop_limit: 255,
            payload: &bytes,
        }),
    );
    assert_eq!(actions, vec![(id, Action::Discard(Discard::OwnAdvert))]);
}
