//! The checker can fail: hand-built snapshots that break each election rule, and whole runs where a
//! real fault (stray VIPs, peers that cannot hear each other) must be reported.
// Helpers here are not #[test] functions, so clippy.toml's allow-unwrap-in-tests does not cover them.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use vrrp_core::{Instant, Micros, StateKind};
use vrrp_sim::{
    Invariant, NetParams, RouterView, Scenario, Sim, Vips, check::check_election,
    check::check_vips, ipv4_router, router_config, run_scenario,
};
use vrrp_wire::Version;

fn view(host: usize, priority: u8, state: StateKind) -> RouterView {
    let last = u8::try_from(host + 1).unwrap();
    RouterView {
        host,
        vrid: 1,
        side: 0,
        address: IpAddr::from([192, 0, 2, last]),
        state,
        priority,
        preempting: true,
        sync_group: false,
        vips: if state == StateKind::Master {
            Vips::All
        } else {
            Vips::None
        },
    }
}

fn now() -> Instant {
    Instant::ZERO + Micros::from_secs(30)
}

#[test]
fn one_master_that_outranks_every_preempting_backup_passes() {
    let group = [
        view(0, 200, StateKind::Master),
        view(1, 150, StateKind::Backup),
        view(2, 200, StateKind::Backup), // equal priority, higher address: RFC 5798 (445) follows
    ];
    assert_eq!(check_election(now(), &group, Some(group[0].rank())), Ok(()));
}

#[test]
fn a_fake_second_master_is_reported() {
    let group = [
        view(0, 200, StateKind::Master),
        view(1, 150, StateKind::Master),
    ];
    let violation = check_election(now(), &group, None).unwrap_err();
    assert_eq!(violation.invariant, Invariant::SingleMaster);
    assert!(violation.detail.contains("2 masters"), "{violation}");
}

#[test]
fn no_master_among_running_routers_is_reported() {
    let group = [
        view(0, 200, StateKind::Backup),
        view(1, 150, StateKind::Fault),
    ];
    let violation = check_election(now(), &group, None).unwrap_err();
    assert_eq!(violation.invariant, Invariant::SingleMaster);
    // With nobody able to be master, none is right.
    let idle = [
        view(0, 200, StateKind::Fault),
        view(1, 150, StateKind::Initialize),
    ];
    assert_eq!(check_election(now(), &idle, None), Ok(()));
}

#[test]
fn a_preempting_backup_above_the_master_is_reported_but_a_non_preempting_one_is_not() {
    let mut group = [
        view(0, 100, StateKind::Master),
        view(1, 150, StateKind::Backup),
    ];
    let violation = check_election(now(), &group, None).unwrap_err();
    assert_eq!(violation.invariant, Invariant::BestMaster);
    group[1].preempting = false;
    assert_eq!(check_election(now(), &group, None), Ok(()));
}

#[test]
fn a_master_below_a_former_concurrent_master_is_reported() {
    let group = [
        view(0, 100, StateKind::Master),
        view(1, 100, StateKind::Backup),
    ];
    // h1 (same priority, higher address) was master too since the network settled: it must have won.
    let violation = check_election(now(), &group, Some(group[1].rank())).unwrap_err();
    assert_eq!(violation.invariant, Invariant::OutranksFormerMasters);
}

#[test]
fn vips_on_a_backup_or_missing_on_a_master_are_reported() {
    let mut backup = view(1, 150, StateKind::Backup);
    backup.vips = Vips::Some;
    assert_eq!(
        check_vips(now(), &backup).unwrap_err().invariant,
        Invariant::VipsOnlyOnMaster
    );
    let mut master = view(0, 200, StateKind::Master);
    master.vips = Vips::None;
    assert!(check_vips(now(), &master).is_err());
}

#[test]
fn stray_vips_on_a_backup_stop_the_run() {
    let mut sim = Sim::lan(vec![ipv4_router(1, 1, 200), ipv4_router(1, 2, 100)]).unwrap();
    sim.run_until(Instant::ZERO + Micros::from_secs(10))
        .unwrap();
    sim.add_stray_vips(1, 1);
    let violation = sim
        .run_until(Instant::ZERO + Micros::from_secs(11))
        .unwrap_err();
    assert_eq!(violation.invariant, Invariant::VipsOnlyOnMaster);
    assert!(violation.detail.contains("h1/v1"), "{violation}");
}

/// A VRRPv2 and a VRRPv3 router on one VRID discard each other's adverts (RFC 5798 §7.1): both
/// become master. The run must fail on SingleMaster as soon as the network has settled, with a trace
/// that shows the version mismatch.
fn deaf_peers() -> Scenario {
    let mut scenario = Scenario::generate(0);
    scenario.hosts = vec![
        vrrp_sim::HostSpec::single(router_config(Version::V2, false, 1, 1, 200)),
        vrrp_sim::HostSpec::single(ipv4_router(1, 2, 100)),
    ];
    scenario.net = NetParams::IDEAL;
    scenario.events = (0..2)
        .map(|h| {
            let start = vrrp_sim::Event::Start {
                host: vrrp_sim::HostSel::Host(h),
                reuse: false,
            };
            (Instant::ZERO, start)
        })
        .collect();
    scenario.end = Instant::ZERO + Micros::from_secs(30);
    scenario
}

#[test]
fn peers_that_cannot_hear_each_other_are_caught_as_two_masters() {
    let report = run_scenario(&deaf_peers(), true);
    let violation = report.outcome.unwrap_err();
    assert_eq!(violation.invariant, Invariant::SingleMaster);
    // Settle time: MDI(priority 1, 1 s) + 1 s = 4.996094 s after the last start.
    assert_eq!(violation.at, Instant::from_micros(4_996_094));
    let trace = report.trace.unwrap();
    assert!(trace.contains("discard version_mismatch"), "{trace}");
    assert!(trace.contains("VIOLATION"), "{trace}");
}

#[test]
fn election_checks_can_be_switched_off_to_explore() {
    let scenario = deaf_peers();
    let mut sim = scenario.sim().unwrap();
    sim.set_election_checks(false);
    sim.run_until(scenario.end).unwrap();
    assert_eq!(sim.masters(1), vec![0, 1]);
}
