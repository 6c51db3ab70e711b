//! The Node: dispatch by (link, family, VRID), the ordered receive checklist and its labels, one merged
//! deadline, add / remove / reconfigure, sync groups and counters.

// Helpers are not #[test] functions, so clippy.toml's allow-unwrap-in-tests does not cover them.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use vrrp_core::{
    Action, Datagram, Input, InstanceId, LinkId, Node, NodeError, NodeInput, Reason, StateKind,
    Transition, UNKNOWN_VRID, VipSet,
};
use vrrp_wire::{Addresses, ChecksumMode, VRRP_IPV4_GROUP};

const ETH0: LinkId = LinkId(2);
const ETH1: LinkId = LinkId(3);

fn node_with(configs: &[(LinkId, vrrp_core::Config)]) -> (Node, Vec<InstanceId>) {
    let mut node = Node::new();
    let ids = configs
        .iter()
        .map(|(link, config)| node.add_instance(*link, config.clone()).unwrap())
        .collect();
    (node, ids)
}

/// An advert from 192.0.2.`last` as bytes on the wire, with the pseudo-header checksum.
fn wire(repr: &vrrp_wire::Repr, last: u8, mode: ChecksumMode) -> Vec<u8> {
    repr.to_bytes(v4(last), IpAddr::V4(VRRP_IPV4_GROUP), mode)
        .unwrap()
}

fn datagram(link: LinkId, last: u8, hop_limit: u8, payload: &[u8]) -> NodeInput<'_> {
    NodeInput::Datagram(Datagram {
        link,
        source: v4(last),
        destination: IpAddr::V4(VRRP_IPV4_GROUP),
        hop_limit,
        payload,
    })
}

fn states(node: &Node) -> Vec<StateKind> {
    node.instances().map(|i| i.router.state().kind()).collect()
}

/// The node's timer loop until `until`, as a daemon would run it.
fn run_until(node: &mut Node, until: vrrp_core::Instant) -> Vec<vrrp_core::NodeAction> {
    let mut all = Vec::new();
    while let Some(at) = node.next_deadline().filter(|&at| at <= until) {
        all.extend(node.handle(at, NodeInput::Timer));
    }
    all
}

#[test]
fn an_advert_goes_to_the_instance_of_its_link_and_vrid_only() {
    let (mut node, ids) = node_with(&[(ETH0, config(100)), (ETH1, config(100))]);
    node.handle(ms(0), NodeInput::Startup);
    let bytes = wire(&advert(200, 100), 9, ChecksumMode::PseudoHeader);
    let actions = node.handle(ms(1000), datagram(ETH1, 9, 255, &bytes));
    assert!(actions.iter().all(|(id, _)| *id == ids[1]), "{actions:?}");
    let eth0 = node.instance(ids[0]).unwrap();
    let eth1 = node.instance(ids[1]).unwrap();
    assert_eq!(eth0.counters.adverts_received, 0);
    assert_eq!(eth1.counters.adverts_received, 1);
    assert_eq!(eth1.router.known_master().unwrap().address, v4(9));
    assert_eq!(eth1.master_checksum, Some(ChecksumMode::PseudoHeader));
    assert_eq!(eth0.master_checksum, None);
}

#[test]
fn the_followed_masters_checksum_variant_is_recorded() {
    let (mut node, ids) = node_with(&[(ETH0, config(100))]);
    node.handle(ms(0), NodeInput::Startup);
    let bytes = wire(&advert(200, 100), 9, ChecksumMode::MessageOnly);
    node.handle(ms(10), datagram(ETH0, 9, 255, &bytes));
    let view = node.instance(ids[0]).unwrap();
    assert_eq!(view.master_checksum, Some(ChecksumMode::MessageOnly));
}

#[test]
fn a_ttl_other_than_255_is_counted_as_bad_hop_limit_against_the_instance_aimed_at() {
    let (mut node, ids) = node_with(&[(ETH0, config(100))]);
    node.handle(ms(0), NodeInput::Startup);
    let bytes = wire(&advert(200, 100), 9, ChecksumMode::PseudoHeader);
    let actions = node.handle(ms(10), datagram(ETH0, 9, 64, &bytes));
    assert!(actions.is_empty(), "{actions:?}");
    let view = node.instance(ids[0]).unwrap();
    assert_eq!(view.counters.discards.get("bad_hop_limit"), Some(&1));
    assert_eq!(view.counters.adverts_received, 0);
    assert_eq!(view.router.known_master(), None);
}

#[test]
fn a_wire_error_is_counted_by_its_label_and_an_unknown_vrid_before_dispatch() {
    let (mut node, ids) = node_with(&[(ETH0, config(100))]);
    node.handle(ms(0), NodeInput::Startup);
    let mut corrupt = wire(&advert(200, 100), 9, ChecksumMode::PseudoHeader);
    corrupt[6] ^= 0xff;
    node.handle(ms(10), datagram(ETH0, 9, 255, &corrupt));
    let other_vrid = wire(
        &vrrp_wire::Repr {
            vrid: 7,
            ..advert(200, 100)
        },
        9,
        ChecksumMode::PseudoHeader,
    );
    node.handle(ms(11), datagram(ETH0, 9, 255, &other_vrid));
    // The same VRID on another link is not configured there either.
    let good = wire(&advert(200, 100), 9, ChecksumMode::PseudoHeader);
    node.handle(ms(12), datagram(ETH1, 9, 255, &good));
    node.handle(ms(13), datagram(ETH0, 9, 255, &[0x31]));
    let view = node.instance(ids[0]).unwrap();
    assert_eq!(view.counters.discards.get("bad_checksum"), Some(&1));
    assert_eq!(node.undispatched_discards().get(UNKNOWN_VRID), Some(&2));
    assert_eq!(node.undispatched_discards().get("truncated"), Some(&1));
}

#[test]
fn a_datagram_longer_than_any_advert_is_too_long() {
    let (mut node, ids) = node_with(&[(ETH0, config(100))]);
    let mut huge = wire(&advert(200, 100), 9, ChecksumMode::PseudoHeader);
    huge.resize(vrrp_wire::MAX_MESSAGE_LEN + 1, 0);
    node.handle(ms(0), datagram(ETH0, 9, 255, &huge));
    let view = node.instance(ids[0]).unwrap();
    assert_eq!(view.counters.discards.get("too_long"), Some(&1));
}

#[test]
fn a_router_discard_is_counted_by_its_core_label() {
    let (mut node, ids) = node_with(&[(ETH0, config(100))]);
    node.handle(ms(0), NodeInput::Startup);
    let v2 = wire(&advert_v2(200), 9, ChecksumMode::MessageOnly);
    node.handle(ms(10), datagram(ETH0, 9, 255, &v2));
    let view = node.instance(ids[0]).unwrap();
    assert_eq!(view.counters.discards.get("version_mismatch"), Some(&1));
    assert_eq!(view.counters.adverts_received, 1);
}

#[test]
fn one_merged_deadline_and_a_timer_fires_only_what_is_due() {
    let mut fast = config(100);
    fast.advert_interval = cs(10);
    let mut other = config(100);
    other.vrid = 2;
    let (mut node, ids) = node_with(&[(ETH0, fast.clone()), (ETH0, other)]);
    node.handle(ms(0), NodeInput::Startup);
    let fast_down = node.router(ids[0]).unwrap().next_deadline().unwrap();
    let slow_down = node.router(ids[1]).unwrap().next_deadline().unwrap();
    assert!(fast_down < slow_down);
    assert_eq!(node.next_deadline(), Some(fast_down));
    let actions = node.handle(fast_down, NodeInput::Timer);
    assert!(actions.iter().all(|(id, _)| *id == ids[0]), "{actions:?}");
    assert_eq!(states(&node), [StateKind::Master, StateKind::Backup]);
    // Early: nothing is due, nothing happens.
    assert!(node.handle(fast_down, NodeInput::Timer).is_empty());
}

#[test]
fn a_second_instance_with_the_same_link_family_and_vrid_is_refused() {
    let (mut node, ids) = node_with(&[(ETH0, config(100))]);
    assert_eq!(
        node.add_instance(ETH0, config_at(2, 50)),
        Err(NodeError::DuplicateVrid { existing: ids[0] })
    );
    assert!(node.add_instance(ETH1, config(100)).is_ok());
    assert!(
        node.add_instance(ETH0, config_v6(100)).is_ok(),
        "IPv6 is another instance"
    );
}

fn master_node(config: vrrp_core::Config) -> (Node, InstanceId, vrrp_core::Instant) {
    let (mut node, ids) = node_with(&[(ETH0, config)]);
    node.handle(ms(0), NodeInput::Startup);
    let at = node.next_deadline().unwrap();
    node.handle(at, NodeInput::Timer);
    assert_eq!(states(&node), [StateKind::Master]);
    (node, ids[0], at)
}

#[test]
fn reconfiguring_a_masters_vips_swaps_only_what_changed_without_a_transition() {
    let (mut node, id, at) = master_node(config(100));
    let deadline = node.next_deadline();
    let transitions = node.instance(id).unwrap().counters.transitions;
    let mut new = config(100);
    new.addresses = Addresses::V4(vec![
        Ipv4Addr::new(192, 0, 2, 100),
        Ipv4Addr::new(192, 0, 2, 101),
    ]);
    new.excluded_addresses = vec![v4(200)];
    let actions = node.reconfigure(at, id, new.clone()).unwrap();
    let added = VipSet {
        advertised: Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 101)]),
        excluded: vec![v4(200)],
    };
    assert_eq!(
        actions,
        [
            (id, Action::AddVips(added.clone())),
            (id, Action::AnnounceVips(added))
        ]
    );
    assert_eq!(
        node.next_deadline(),
        deadline,
        "the Adver_Timer keeps running"
    );
    let view = node.instance(id).unwrap();
    assert_eq!(view.counters.transitions, transitions);
    assert_eq!(view.router.config().addresses, new.addresses);
    // And back: the two addresses are removed, nothing is announced.
    let actions = node.reconfigure(at, id, config(100)).unwrap();
    let gone = VipSet {
        advertised: Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 101)]),
        excluded: vec![v4(200)],
    };
    assert_eq!(actions, [(id, Action::RemoveVips(gone))]);
}

#[test]
fn reconfiguring_the_base_priority_is_in_place_and_advertised_at_once() {
    let (mut node, id, at) = master_node(config(100));
    let later = at + dur(1000);
    let actions = node.reconfigure(later, id, config(150)).unwrap();
    assert_eq!(
        actions,
        [(id, Action::SendAdvert(own_advert(&config(150), 150)))]
    );
    let router = node.router(id).unwrap();
    assert_eq!(router.effective_priority(), 150);
    assert_eq!(router.config().priority, 150);
    assert_eq!(router.state().kind(), StateKind::Master);
}

#[test]
fn reconfiguring_the_interval_restarts_the_instance() {
    let (mut node, id, at) = master_node(config(100));
    let mut slower = config(100);
    slower.advert_interval = cs(200);
    let actions = node.reconfigure(at, id, slower).unwrap();
    let kinds: Vec<_> = actions
        .iter()
        .filter_map(|(_, a)| match a {
            Action::StateChanged { to, reason, .. } => Some((*to, *reason)),
            _ => None,
        })
        .collect();
    // Both halves of the restart say why: a reload, not a daemon stopping and starting.
    assert_eq!(
        kinds,
        [
            (StateKind::Initialize, Reason::Reload),
            (StateKind::Backup, Reason::Reload)
        ]
    );
    let last = node.instance(id).unwrap().counters.last_transition;
    assert_eq!(
        last,
        Some(Transition {
            from: StateKind::Initialize,
            to: StateKind::Backup,
            reason: Reason::Reload,
            at,
        })
    );
    assert_eq!(
        actions[0].1,
        Action::SendAdvert(own_advert(&config(100), 0))
    );
    assert_eq!(node.router(id).unwrap().config().advert_interval, cs(200));
    let mut other_vrid = config(100);
    other_vrid.vrid = 9;
    assert_eq!(
        node.reconfigure(at, id, other_vrid),
        Err(NodeError::KeyChanged(id))
    );
}

#[test]
fn a_restarted_instance_keeps_what_it_observed_a_dead_link_stays_fault() {
    let (mut node, id, at) = master_node(config(100));
    node.handle(
        at,
        NodeInput::Link {
            link: ETH0,
            family: None,
            input: Input::InterfaceDown,
        },
    );
    assert_eq!(states(&node), [StateKind::Fault]);
    let mut slower = config(100);
    slower.advert_interval = cs(200);
    node.reconfigure(at, id, slower).unwrap();
    assert_eq!(states(&node), [StateKind::Fault], "the link is still down");
    assert!(!node.router(id).unwrap().link_up());
}

#[test]
fn removing_a_master_resigns_and_frees_its_vrid() {
    let (mut node, id, at) = master_node(config(100));
    let actions = node.remove_instance(at, id).unwrap();
    assert_eq!(
        actions[0],
        (id, Action::SendAdvert(own_advert(&config(100), 0)))
    );
    assert_eq!(actions[1], (id, Action::RemoveVips(config(100).vip_set())));
    assert!(node.instance(id).is_none());
    assert_eq!(node.next_deadline(), None);
    let bytes = wire(&advert(200, 100), 9, ChecksumMode::PseudoHeader);
    node.handle(at, datagram(ETH0, 9, 255, &bytes));
    assert_eq!(node.undispatched_discards().get(UNKNOWN_VRID), Some(&1));
    assert!(
        node.add_instance(ETH0, config(100)).is_ok(),
        "the VRID is free again"
    );
}

#[test]
fn a_sync_group_member_losing_its_link_takes_the_whole_group_to_fault() {
    let mut wan = config_at(1, 100);
    wan.vrid = 2;
    let (mut node, ids) = node_with(&[(ETH0, config(100)), (ETH1, wan)]);
    node.add_sync_group(&ids).unwrap();
    node.handle(ms(0), NodeInput::Startup);
    run_until(&mut node, ms(10_000));
    assert_eq!(states(&node), [StateKind::Master, StateKind::Master]);
    let actions = node.handle(
        ms(10_001),
        NodeInput::Link {
            link: ETH1,
            family: None,
            input: Input::InterfaceDown,
        },
    );
    assert_eq!(states(&node), [StateKind::Fault, StateKind::Fault]);
    // The member whose link is up resigns with priority 0; the other cannot send.
    assert!(actions.contains(&(ids[0], Action::SendAdvert(own_advert(&config(100), 0)))));
    // The member that lost its link first, then the one the group pulled along.
    let removed: Vec<InstanceId> = actions
        .iter()
        .filter(|(_, a)| matches!(a, Action::RemoveVips(_)))
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(removed, [ids[1], ids[0]]);
    assert_eq!(
        node.add_sync_group(&ids),
        Err(NodeError::CannotGroup(ids[0])),
        "grouped and running"
    );
}

#[test]
fn removing_a_sync_group_member_leaves_the_group_working_without_it() {
    let mut wan = config_at(1, 100);
    wan.vrid = 2;
    let mut dmz = config_at(1, 100);
    dmz.vrid = 3;
    let (mut node, ids) = node_with(&[(ETH0, config(100)), (ETH1, wan), (ETH1, dmz)]);
    node.add_sync_group(&ids).unwrap();
    node.handle(ms(0), NodeInput::Startup);
    run_until(&mut node, ms(10_000));
    assert_eq!(states(&node), [StateKind::Master; 3]);
    let actions = node.remove_instance(ms(10_001), ids[2]).unwrap();
    let mut dmz_advert = own_advert(&config(100), 0);
    dmz_advert.vrid = 3;
    assert!(
        actions.contains(&(ids[2], Action::SendAdvert(dmz_advert))),
        "{actions:?}"
    );
    assert!(
        actions.iter().all(|(id, _)| *id == ids[2]),
        "only the removed member resigns: {actions:?}"
    );
    assert_eq!(states(&node), [StateKind::Master, StateKind::Master]);
    // The rest is still a group: one member's link going down takes both to FAULT.
    node.handle(
        ms(10_002),
        NodeInput::Link {
            link: ETH0,
            family: None,
            input: Input::InterfaceDown,
        },
    );
    assert_eq!(states(&node), [StateKind::Fault, StateKind::Fault]);
}

#[test]
fn counters_follow_the_actions() {
    let (mut node, id, _) = master_node(config(100));
    let view = node.instance(id).unwrap();
    assert_eq!(
        view.counters.transitions, 2,
        "Initialize -> Backup -> Master"
    );
    assert_eq!(view.counters.adverts_emitted, 1);
    let at = node.next_deadline().unwrap();
    node.handle(at, NodeInput::Timer);
    assert_eq!(node.instance(id).unwrap().counters.adverts_emitted, 2);
}

#[test]
fn the_last_transition_is_kept_with_its_reason_and_the_time_it_happened() {
    let (mut node, ids) = node_with(&[(ETH0, config(100))]);
    let last = |node: &Node| node.instance(ids[0]).unwrap().counters.last_transition;
    assert_eq!(last(&node), None);
    node.handle(ms(5), NodeInput::Startup);
    assert_eq!(
        last(&node),
        Some(Transition {
            from: StateKind::Initialize,
            to: StateKind::Backup,
            reason: Reason::Startup,
            at: ms(5),
        })
    );
    let at = node.next_deadline().unwrap();
    node.handle(at, NodeInput::Timer);
    let became_master = last(&node).unwrap();
    assert_eq!(
        (became_master.to, became_master.reason, became_master.at),
        (StateKind::Master, Reason::MasterDown, at)
    );
    // A later advert that changes nothing keeps it.
    let bytes = wire(&advert(50, 100), 9, ChecksumMode::PseudoHeader);
    node.handle(at + dur(10), datagram(ETH0, 9, 255, &bytes));
    assert_eq!(last(&node), Some(became_master));
}
