//! Reloads that remove and add instances or change their VIPs while the segment runs, with every
//! invariant checked after every event (as in the random run, which draws these events too).
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr};

use vrrp_core::{Instant, Micros, StateKind};
use vrrp_sim::{Event, HostSel, Invariant, Sim, ipv4_router};
use vrrp_wire::{Centisecs, Version};

fn secs(s: u64) -> Instant {
    Instant::ZERO + Micros::from_secs(s)
}

fn remove(host: usize) -> Event {
    Event::RemoveInstance {
        host: HostSel::Host(host),
        vrid: 1,
    }
}

fn add(host: usize) -> Event {
    Event::AddInstance {
        host: HostSel::Host(host),
        vrid: 1,
    }
}

fn usual_vip() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1))
}

#[test]
fn removing_the_masters_instance_hands_over_at_skew_time_and_adding_it_back_preempts() {
    let mut sim = Sim::lan(vec![ipv4_router(1, 1, 200), ipv4_router(1, 2, 100)]).unwrap();
    sim.run_until(secs(10)).unwrap();
    assert_eq!(sim.masters(1), vec![0]);
    sim.apply_now(remove(0)).unwrap();
    // The removed master resigned (priority 0) and dropped its VIP; h1 follows at Skew_Time.
    assert_eq!(sim.state(0, 1), None);
    assert!(sim.vips(0).is_empty(), "{:?}", sim.vips(0));
    let resigned = sim
        .last_advert(0, 1, secs(10) + Micros::from_micros(1))
        .unwrap();
    assert_eq!((resigned.at, resigned.priority), (secs(10), 0));
    let skew = vrrp_sim::oracle::skew_time(Version::V3, 100, Centisecs::new(100).unwrap());
    sim.run_until(secs(15)).unwrap();
    let took_over = sim.first_advert(1, 1, secs(10)).unwrap();
    assert_eq!(took_over.at, secs(10) + skew);
    assert_eq!(sim.masters(1), vec![1]);
    assert!(sim.stats().takeovers_verified >= 1);
    // Added back: it starts in Backup and preempts after its Master_Down_Interval.
    sim.apply_now(add(0)).unwrap();
    assert_eq!(sim.state(0, 1), Some(StateKind::Backup));
    sim.run_until(secs(25)).unwrap();
    assert_eq!(sim.masters(1), vec![0]);
    assert_eq!(sim.vips(0), vec![usual_vip()]);
    assert!(sim.vips(1).is_empty());
    let stats = sim.stats();
    assert_eq!((stats.instances_removed, stats.instances_added), (1, 1));
}

#[test]
fn a_host_restarted_after_a_reload_removed_its_instance_runs_without_it_until_one_adds_it() {
    let mut sim = Sim::lan(vec![ipv4_router(1, 1, 200), ipv4_router(1, 2, 100)]).unwrap();
    sim.run_until(secs(10)).unwrap();
    sim.apply_now(remove(1)).unwrap();
    sim.apply_now(Event::Crash(HostSel::Host(1))).unwrap();
    let start = Event::Start {
        host: HostSel::Host(1),
        reuse: false,
    };
    sim.schedule(secs(12), start);
    sim.run_until(secs(20)).unwrap();
    assert_eq!(sim.state(1, 1), None);
    assert_eq!(sim.masters(1), vec![0]);
    // h0 goes: nobody is left for VRID 1 until h1's router is added back, which then takes over.
    sim.apply_now(Event::Stop(HostSel::Host(0))).unwrap();
    sim.run_until(secs(25)).unwrap();
    assert!(sim.masters(1).is_empty());
    sim.apply_now(add(1)).unwrap();
    sim.run_until(secs(35)).unwrap();
    assert_eq!(sim.masters(1), vec![1]);
    assert_eq!(sim.vips(1), vec![usual_vip()]);
}

#[test]
fn a_reload_changing_the_masters_vips_swaps_them_without_a_transition() {
    let mut sim = Sim::lan(vec![ipv4_router(1, 1, 200), ipv4_router(1, 2, 100)]).unwrap();
    sim.run_until(secs(10)).unwrap();
    let changes = sim.stats().state_changes;
    let extra = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1));
    for (set, held) in [
        (1, vec![usual_vip(), extra]),
        (2, vec![extra]),
        (0, vec![usual_vip()]),
    ] {
        for host in [1, 0] {
            let event = Event::ReloadVips {
                host: HostSel::Host(host),
                vrid: 1,
                set,
            };
            sim.apply_now(event).unwrap();
        }
        assert_eq!(sim.vips(0), held, "VIP set {set}");
        assert!(sim.vips(1).is_empty());
        sim.run_until(sim.now() + Micros::from_secs(5)).unwrap();
    }
    assert_eq!(sim.masters(1), vec![0]);
    assert_eq!(sim.stats().state_changes, changes);
    assert_eq!(sim.stats().vip_reloads, 6);
}

#[test]
fn a_vip_left_behind_by_a_removed_instance_is_a_violation() {
    let mut sim = Sim::lan(vec![ipv4_router(1, 1, 200), ipv4_router(1, 2, 100)]).unwrap();
    sim.run_until(secs(10)).unwrap();
    sim.apply_now(remove(0)).unwrap();
    // What a daemon that forgot to remove a retired instance's VIPs would leave.
    sim.add_stray_vips(0, 1);
    let violation = sim.run_until(secs(11)).unwrap_err();
    assert_eq!(violation.invariant, Invariant::VipsOnlyOnMaster);
    assert!(
        violation.detail.contains("no router in its config"),
        "{violation}"
    );
}
