//! Sync groups: members move together (see the `vrrp_core::sync_group` module docs for the rules).

mod common;

use std::net::Ipv4Addr;

use common::*;
use vrrp_core::{
    Action, Config, FaultCause, GroupInput, Input, MemberId, Reason, State, StateKind, SyncGroup,
    TrackerConfig, TrackerId,
};
use vrrp_wire::{Addresses, Repr};

const A: MemberId = MemberId(0);
const B: MemberId = MemberId(1);

/// Member A: VRID 1, VIP 192.0.2.100. Member B: VRID 2, VIP 192.0.2.101. Both priority 100 on 192.0.2.1.
fn configs() -> (Config, Config) {
    let a = config(100);
    let mut b = Config::new(2, v4(1), vips_b());
    b.priority = 100;
    (a, b)
}

fn vips_b() -> Addresses {
    Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 101)])
}

fn advert_b(priority: u8) -> Repr {
    Repr {
        vrid: 2,
        addresses: vips_b(),
        ..advert(priority, 100)
    }
}

fn group(a: Config, b: Config) -> SyncGroup {
    let mut group = sync_group(vec![a, b]);
    group.handle(us(0), GroupInput::Startup);
    group
}

fn to(member: MemberId, input: Input) -> GroupInput {
    GroupInput::Member(member, input)
}

/// Both members master at 3 609 375 us.
fn all_master() -> (SyncGroup, Config, Config) {
    let (a, b) = configs();
    let mut group = group(a.clone(), b.clone());
    group.handle(us(3_609_375), GroupInput::Timer);
    assert!(group.states().iter().all(|s| s.kind() == StateKind::Master));
    (group, a, b)
}

fn tagged(member: MemberId, actions: Vec<Action>) -> Vec<(MemberId, Action)> {
    actions.into_iter().map(|a| (member, a)).collect()
}

#[test]
fn sync_group_members_start_as_backup() {
    let (a, b) = configs();
    let mut group = sync_group(vec![a, b]);
    let actions = group.handle(us(0), GroupInput::Startup);
    let started = changed(
        StateKind::Initialize,
        StateKind::Backup,
        Reason::Startup,
        false,
    );
    assert_eq!(actions, vec![(A, started.clone()), (B, started)]);
    assert_eq!(group.next_deadline(), Some(us(3_609_375)));
}

#[test]
fn sync_group_goes_master_together_when_every_member_times_out() {
    let (a, b) = configs();
    let mut group = group(a.clone(), b.clone());
    let actions = group.handle(us(3_609_375), GroupInput::Timer);
    let mut expected = tagged(A, takeover(&a, 100, Reason::MasterDown));
    expected.extend(tagged(B, takeover(&b, 100, Reason::MasterDown)));
    assert_eq!(actions, expected);
    assert_eq!(group.next_deadline(), Some(us(4_609_375)));
}

#[test]
fn sync_member_whose_timer_fires_waits_while_a_sibling_sees_a_live_master() {
    let (a, b) = configs();
    let mut group = group(a.clone(), b.clone());
    group.handle(
        ms(1_000),
        to(
            B,
            Input::Advert {
                source: v4(2),
                repr: advert_b(200),
            },
        ),
    );
    // A's timer fires: it would be master, but B follows a live master.
    assert!(group.handle(us(3_609_375), GroupInput::Timer).is_empty());
    assert_eq!(group.states()[0], State::BackupAwaitingGroup);
    assert_eq!(group.next_deadline(), Some(us(1_000_000 + 3_609_375)));
    // B's master dies too: now every member would be master, and all go together.
    let actions = group.handle(us(4_609_375), GroupInput::Timer);
    let mut expected = tagged(A, takeover(&a, 100, Reason::MasterDown));
    expected.extend(tagged(B, takeover(&b, 100, Reason::MasterDown)));
    assert_eq!(actions, expected);
}

#[test]
fn sync_member_awaiting_the_group_follows_a_master_that_reappears() {
    let (a, b) = configs();
    let mut group = group(a, b);
    group.handle(
        ms(1_000),
        to(
            B,
            Input::Advert {
                source: v4(2),
                repr: advert_b(200),
            },
        ),
    );
    group.handle(us(3_609_375), GroupInput::Timer);
    group.handle(
        ms(4_000),
        to(
            A,
            Input::Advert {
                source: v4(2),
                repr: advert(200, 100),
            },
        ),
    );
    assert_eq!(
        group.states()[0],
        State::Backup {
            master_down_at: us(4_000_000 + 3_609_375)
        }
    );
}

#[test]
fn sync_group_fault_spreads_and_masters_resign() {
    let (mut a, b) = configs();
    a.trackers = vec![TrackerConfig {
        weight: 0,
        initially_ok: true,
        reverse: false,
    }];
    let mut group = group(a.clone(), b.clone());
    group.handle(us(3_609_375), GroupInput::Timer);
    let actions = group.handle(
        ms(4_000),
        to(
            A,
            Input::Tracker {
                tracker: TrackerId(0),
                ok: false,
            },
        ),
    );
    assert_eq!(
        actions,
        vec![
            (A, Action::SendAdvert(own_advert(&a, 0))),
            (A, Action::RemoveVips(vips_v4().into())),
            (
                A,
                changed(
                    StateKind::Master,
                    StateKind::Fault,
                    Reason::Fault(FaultCause::Tracker(TrackerId(0))),
                    false
                )
            ),
            (B, Action::SendAdvert(own_advert(&b, 0))),
            (B, Action::RemoveVips(vips_b().into())),
            (
                B,
                changed(
                    StateKind::Master,
                    StateKind::Fault,
                    Reason::Fault(FaultCause::SyncGroup),
                    false
                )
            ),
        ]
    );
    assert_eq!(group.next_deadline(), None);
    // The fault clears: everyone back to Backup with a fresh timer.
    let actions = group.handle(
        ms(9_000),
        to(
            A,
            Input::Tracker {
                tracker: TrackerId(0),
                ok: true,
            },
        ),
    );
    let cleared = changed(
        StateKind::Fault,
        StateKind::Backup,
        Reason::FaultCleared,
        false,
    );
    assert_eq!(actions, vec![(A, cleared.clone()), (B, cleared)]);
    assert_eq!(group.next_deadline(), Some(us(9_000_000 + 3_609_375)));
}

#[test]
fn sync_group_link_down_on_one_member_faults_all() {
    let (mut group, _, b) = all_master();
    let actions = group.handle(ms(4_000), to(A, Input::InterfaceDown));
    assert_eq!(
        actions,
        vec![
            (A, Action::RemoveVips(vips_v4().into())),
            (
                A,
                changed(
                    StateKind::Master,
                    StateKind::Fault,
                    Reason::Fault(FaultCause::LinkDown),
                    false
                )
            ),
            (B, Action::SendAdvert(own_advert(&b, 0))),
            (B, Action::RemoveVips(vips_b().into())),
            (
                B,
                changed(
                    StateKind::Master,
                    StateKind::Fault,
                    Reason::Fault(FaultCause::SyncGroup),
                    false
                )
            ),
        ]
    );
}

#[test]
fn sync_group_preempted_member_pulls_masters_to_backup_with_priority_zero() {
    let (mut group, a, b) = all_master();
    let actions = group.handle(
        ms(4_000),
        to(
            A,
            Input::Advert {
                source: v4(2),
                repr: advert(200, 100),
            },
        ),
    );
    assert_eq!(
        actions,
        vec![
            (
                A,
                Action::SendAdvertTo {
                    advert: own_advert(&a, 100),
                    to: v4(2)
                }
            ),
            (A, Action::RemoveVips(vips_v4().into())),
            (
                A,
                changed(
                    StateKind::Master,
                    StateKind::Backup,
                    Reason::Preempted {
                        by: v4(2),
                        priority: 200
                    },
                    false
                )
            ),
            (B, Action::SendAdvert(own_advert(&b, 0))),
            (B, Action::RemoveVips(vips_b().into())),
            (
                B,
                changed(
                    StateKind::Master,
                    StateKind::Backup,
                    Reason::SyncGroup,
                    false
                )
            ),
        ]
    );
    assert_eq!(
        group.states()[1],
        State::Backup {
            master_down_at: us(4_000_000 + 3_609_375)
        }
    );
}

#[test]
fn sync_group_owner_waits_for_its_siblings_at_startup() {
    let (mut a, b) = configs();
    a.priority = 255;
    let mut group = sync_group(vec![a.clone(), b.clone()]);
    group.handle(us(0), GroupInput::Startup);
    assert_eq!(group.states()[0], State::BackupAwaitingGroup);
    let actions = group.handle(us(3_609_375), GroupInput::Timer);
    let mut expected = tagged(A, takeover(&a, 255, Reason::Startup));
    expected.extend(tagged(B, takeover(&b, 100, Reason::MasterDown)));
    assert_eq!(actions, expected);
}

#[test]
fn sync_group_single_member_behaves_like_a_router() {
    let a = config(100);
    let mut group = sync_group(vec![a.clone()]);
    group.handle(us(0), GroupInput::Startup);
    assert_eq!(
        group.handle(us(3_609_375), GroupInput::Timer),
        tagged(A, takeover(&a, 100, Reason::MasterDown))
    );
}

#[test]
fn sync_group_shutdown_stops_every_member() {
    let (mut group, a, b) = all_master();
    let actions = group.handle(ms(4_000), GroupInput::Shutdown);
    let stop = changed(
        StateKind::Master,
        StateKind::Initialize,
        Reason::Shutdown,
        false,
    );
    assert_eq!(
        actions,
        vec![
            (A, Action::SendAdvert(own_advert(&a, 0))),
            (A, Action::RemoveVips(vips_v4().into())),
            (A, stop.clone()),
            (B, Action::SendAdvert(own_advert(&b, 0))),
            (B, Action::RemoveVips(vips_b().into())),
            (B, stop),
        ]
    );
    assert_eq!(group.next_deadline(), None);
}

#[test]
fn sync_group_start_while_a_member_is_faulty_faults_all() {
    let (a, b) = configs();
    let mut group = sync_group(vec![a, b]);
    group.handle(us(0), to(B, Input::InterfaceDown));
    let actions = group.handle(us(1), GroupInput::Startup);
    assert_eq!(
        actions,
        vec![
            (
                A,
                changed(
                    StateKind::Initialize,
                    StateKind::Fault,
                    Reason::Fault(FaultCause::SyncGroup),
                    false
                )
            ),
            (
                B,
                changed(
                    StateKind::Initialize,
                    StateKind::Fault,
                    Reason::Fault(FaultCause::LinkDown),
                    false
                )
            ),
        ]
    );
}
