//! Focused scenarios, each named after what it shows, with exact virtual-time assertions. Every run
//! also goes through the simulator's continuous invariant checks (`run_until` returns the first
//! violation).
// Helpers here are not #[test] functions, so clippy.toml's allow-unwrap-in-tests does not cover them.
#![allow(clippy::unwrap_used)]

use vrrp_core::{Config, Instant, Micros, StateKind, TrackerConfig};
use vrrp_sim::{Event, HostSel, HostSpec, NetParams, Sim, Weather, ipv4_router};

fn ms(millis: u64) -> Instant {
    Instant::ZERO + Micros::from_millis(millis)
}

fn us(micros: u64) -> Micros {
    Micros::from_micros(micros)
}

/// h0 200, h1 150, h2 100 on 192.0.2.1-3, 100 cs: h0 is master from 3.21875 s and advertises at
/// 3.21875 + k s.
fn three(rfc_exact: bool) -> Vec<Config> {
    let configs = vec![
        ipv4_router(1, 1, 200),
        ipv4_router(1, 2, 150),
        ipv4_router(1, 3, 100),
    ];
    if rfc_exact {
        configs.into_iter().map(Config::rfc_exact).collect()
    } else {
        configs
    }
}

fn settled(configs: Vec<Config>, net: NetParams) -> Sim {
    let mut sim = Sim::lan_with(configs, net).unwrap();
    sim.enable_trace();
    sim.run_until(ms(10_300)).unwrap();
    assert_eq!(sim.masters(1), vec![0]);
    assert!(sim.is_settled());
    sim
}

/// Skew_Time of priority 150 at 100 cs: 106 * 1 s / 256 = 414 062.5 us, rounded up.
const SKEW_150: u64 = 414_063;
/// Master_Down_Interval of priority 150 at 100 cs.
const MDI_150: u64 = 3_000_000 + SKEW_150;

#[test]
fn silent_crash_best_backup_first_advert_at_last_advert_plus_mdi() {
    let mut sim = settled(three(false), NetParams::IDEAL);
    sim.apply_now(Event::Crash(HostSel::Host(0))).unwrap();
    let last = sim.last_advert(0, 1, ms(10_300)).unwrap().at;
    assert_eq!(last, ms(10_218) + us(750));
    sim.run_until(ms(20_000)).unwrap();
    let first = sim.first_advert(1, 1, ms(10_300)).unwrap();
    assert_eq!(first.at, last + us(MDI_150), "{}", sim.trace().unwrap());
    assert_eq!(sim.first_advert(2, 1, ms(10_300)).map(|a| a.host), None);
    assert_eq!(sim.masters(1), vec![1]);
    assert!(sim.holds_vips(1, 1) && !sim.holds_vips(2, 1));
    assert_eq!(sim.stats().takeovers_verified, 1);
}

#[test]
fn silent_crash_takeover_with_delay_is_at_most_the_max_delay_late() {
    let net = NetParams {
        delay_max: Micros::from_millis(20),
        weather: Weather::CALM,
    };
    let mut sim = settled(three(false), net);
    sim.apply_now(Event::Crash(HostSel::Host(0))).unwrap();
    let last = sim.last_advert(0, 1, ms(10_300)).unwrap().at;
    sim.run_until(ms(20_000)).unwrap();
    let first = sim.first_advert(1, 1, ms(10_300)).unwrap().at;
    let earliest = last + us(MDI_150);
    assert!(first >= earliest && first <= earliest + Micros::from_millis(20));
    // The simulator also checked it exactly against the arrival of h0's last advert at h1.
    assert_eq!(sim.stats().takeovers_verified, 1);
    assert_eq!(sim.masters(1), vec![1]);
}

#[test]
fn graceful_stop_takeover_after_skew() {
    let mut sim = settled(three(false), NetParams::IDEAL);
    sim.apply_now(Event::Stop(HostSel::Host(0))).unwrap();
    let resign = sim.last_advert(0, 1, ms(10_301)).unwrap();
    assert_eq!((resign.at, resign.priority), (ms(10_300), 0));
    sim.run_until(ms(20_000)).unwrap();
    let first = sim.first_advert(1, 1, ms(10_300)).unwrap();
    assert_eq!(first.at, ms(10_300) + us(SKEW_150));
    assert_eq!(sim.state(0, 1), Some(StateKind::Initialize));
    assert!(!sim.holds_vips(0, 1) && sim.holds_vips(1, 1));
    assert_eq!(sim.masters(1), vec![1]);
    assert_eq!(sim.stats().takeovers_verified, 1);
}

#[test]
fn restart_after_stop_preempts_back() {
    let mut sim = settled(three(false), NetParams::IDEAL);
    sim.apply_now(Event::Stop(HostSel::Host(0))).unwrap();
    sim.run_until(ms(15_000)).unwrap();
    let restart = Event::Start {
        host: HostSel::FirstDown,
        reuse: true,
    };
    sim.apply_now(restart).unwrap();
    // h0 (200) discards h1's 150s and takes over after its own MDI: 3 s + 56/256 s.
    sim.run_until(ms(30_000)).unwrap();
    assert_eq!(sim.masters(1), vec![0]);
    let back = sim.first_advert(0, 1, ms(15_000)).unwrap();
    assert_eq!(back.at, ms(18_218) + us(750));
}

#[test]
fn partition_heals_to_single_master() {
    let mut configs = three(false);
    configs.push(ipv4_router(1, 4, 120));
    let mut sim = settled(configs, NetParams::IDEAL);
    sim.apply_now(Event::Partition(vec![0, 1])).unwrap();
    // {h2, h3} lost h0: h3 (120) beats h2 (100) and is master on its side.
    sim.run_until(ms(20_000)).unwrap();
    assert!(
        sim.is_settled(),
        "both sides were checked while partitioned"
    );
    assert_eq!(sim.masters(1), vec![0, 3]);
    sim.apply_now(Event::Heal).unwrap();
    sim.run_until(ms(30_000)).unwrap();
    assert_eq!(sim.masters(1), vec![0]);
    assert_eq!(sim.state(3, 1), Some(StateKind::Backup));
    assert!(sim.holds_vips(0, 1) && !sim.holds_vips(3, 1));
}

#[test]
fn equal_priority_higher_address_wins() {
    // All start together: their timers fire at one instant, three masters meet, 192.0.2.3 wins
    // (RFC 5798 §6.4.3 (735), unsigned network-order comparison).
    let configs = (1..=3).map(|n| ipv4_router(1, n, 100)).collect();
    let mut sim = Sim::lan(configs).unwrap();
    sim.run_until(ms(10_000)).unwrap();
    assert_eq!(sim.stats().max_masters, 3);
    assert_eq!(sim.masters(1), vec![2]);
}

#[test]
fn equal_priority_masters_meeting_after_a_heal_keep_the_higher_address() {
    let configs = vec![ipv4_router(1, 9, 100), ipv4_router(1, 10, 100)];
    let mut sim = Sim::lan(configs).unwrap();
    sim.run_until(ms(10_000)).unwrap();
    // 192.0.2.10 > 192.0.2.9 as integers (as strings it would lose).
    assert_eq!(sim.masters(1), vec![1]);
    sim.apply_now(Event::Partition(vec![0])).unwrap();
    sim.run_until(ms(20_000)).unwrap();
    assert_eq!(sim.masters(1), vec![0, 1]);
    sim.apply_now(Event::Heal).unwrap();
    sim.run_until(ms(30_000)).unwrap();
    assert_eq!(sim.masters(1), vec![1]);
}

#[test]
fn equal_priority_backup_does_not_preempt_a_lower_address_master() {
    // RFC 5798 §6.4.2 (445): an advert with priority >= ours is followed. The address tie-break
    // settles concurrent masters only, which is why the BestMaster invariant compares priorities.
    let mut sim = Sim::lan(vec![ipv4_router(1, 1, 100), ipv4_router(1, 2, 100)]).unwrap();
    sim.schedule(ms(0), Event::Stop(HostSel::Host(1)));
    let restart = Event::Start {
        host: HostSel::Host(1),
        reuse: true,
    };
    sim.schedule(ms(10_000), restart);
    sim.run_until(ms(30_000)).unwrap();
    assert_eq!(sim.masters(1), vec![0]);
    assert_eq!(sim.state(1, 1), Some(StateKind::Backup));
    assert!(sim.stats().settled_checks > 0);
}

/// h0 200 with a tracker of weight -150 (KO: 50), h1 150, h2 100.
fn tracked(rfc_exact: bool) -> Vec<Config> {
    let mut configs = three(rfc_exact);
    configs[0].trackers = vec![TrackerConfig {
        weight: -150,
        initially_ok: true,
        reverse: false,
    }];
    configs
}

fn tracker_ko() -> Event {
    Event::Tracker {
        host: HostSel::Host(0),
        vrid: 1,
        tracker: 0,
        ok: false,
    }
}

#[test]
fn lowered_priority_master_hands_over_within_one_interval() {
    let mut sim = settled(tracked(false), NetParams::IDEAL);
    sim.apply_now(tracker_ko()).unwrap();
    // h0 advertises 50 at once; h1 follows h0, so fast handover sets its timer to Skew_Time.
    let drop = sim.last_advert(0, 1, ms(10_301)).unwrap();
    assert_eq!((drop.at, drop.priority), (ms(10_300), 50));
    sim.run_until(ms(20_000)).unwrap();
    let first = sim.first_advert(1, 1, ms(10_300)).unwrap();
    assert_eq!(first.at, ms(10_300) + us(SKEW_150));
    assert!(first.at < ms(10_300) + Micros::from_secs(1));
    assert_eq!(sim.masters(1), vec![1]);
    assert_eq!(sim.first_advert(2, 1, ms(10_300)), None);
}

#[test]
fn rfc_exact_lowered_priority_master_waits_a_full_master_down_interval() {
    let mut sim = settled(tracked(true), NetParams::IDEAL);
    sim.apply_now(tracker_ko()).unwrap();
    // No advert on the change; h1 discards the 50s and fires one MDI after the last 200 it accepted.
    let last_200 = sim.last_advert(0, 1, ms(10_301)).unwrap();
    assert_eq!(
        (last_200.at, last_200.priority),
        (ms(10_218) + us(750), 200)
    );
    sim.run_until(ms(20_000)).unwrap();
    let first = sim.first_advert(1, 1, ms(10_300)).unwrap();
    assert_eq!(first.at, last_200.at + us(MDI_150));
    assert!(first.at > ms(10_300) + Micros::from_secs(3));
    assert_eq!(sim.masters(1), vec![1]);
}

#[test]
fn no_vips_unless_master_under_loss() {
    let configs = vec![
        ipv4_router(1, 1, 200),
        ipv4_router(1, 2, 150),
        ipv4_router(1, 3, 150),
        ipv4_router(1, 4, 100),
        ipv4_router(1, 5, 50),
    ];
    let storm = NetParams {
        delay_max: Micros::from_millis(30),
        weather: Weather {
            loss_permille: 600,
            dup_permille: 100,
        },
    };
    let mut sim = Sim::lan_with(configs, storm).unwrap();
    // Priority changes in the storm; VIPs are checked against the state after every event.
    for (second, priority) in [(20, 100), (40, 250), (60, 20)] {
        let change = Event::SetBasePriority {
            host: HostSel::Host(1),
            vrid: 1,
            priority,
        };
        sim.schedule(ms(second * 1_000), change);
    }
    sim.schedule(ms(90_000), Event::Weather(Weather::CALM));
    sim.run_until(ms(89_999)).unwrap();
    let stats = sim.stats();
    assert!(
        stats.max_masters >= 2,
        "loss never split the election: {stats:?}"
    );
    assert!(stats.state_changes > 10, "{stats:?}");
    assert_eq!(stats.settled_checks, 0, "nothing is settled while lossy");
    sim.run_until(ms(110_000)).unwrap();
    assert!(sim.stats().settled_checks > 0);
    // h1 ends at 20 < h0's 200.
    assert_eq!(sim.masters(1), vec![0]);
    for host in 1..5 {
        assert!(!sim.holds_vips(host, 1));
    }
}

#[test]
fn sync_group_fails_over_and_back_together() {
    let mut a1 = ipv4_router(1, 1, 200);
    a1.trackers = vec![TrackerConfig {
        weight: 0,
        initially_ok: true,
        reverse: false,
    }];
    let hosts = vec![
        HostSpec {
            routers: vec![a1, ipv4_router(2, 1, 200)],
            sync_group: true,
        },
        HostSpec {
            routers: vec![ipv4_router(1, 2, 100), ipv4_router(2, 2, 100)],
            sync_group: true,
        },
    ];
    let mut sim = Sim::new(hosts, NetParams::IDEAL, 1).unwrap();
    for host in 0..2 {
        let start = Event::Start {
            host: HostSel::Host(host),
            reuse: false,
        };
        sim.schedule(ms(0), start);
    }
    sim.run_until(ms(10_300)).unwrap();
    assert_eq!((sim.masters(1), sim.masters(2)), (vec![0], vec![0]));
    let ko = Event::Tracker {
        host: HostSel::Host(0),
        vrid: 1,
        tracker: 0,
        ok: false,
    };
    sim.apply_now(ko).unwrap();
    assert_eq!(sim.state(0, 2), Some(StateKind::Fault), "FAULT spreads");
    sim.run_until(ms(20_000)).unwrap();
    // Both members resigned with priority 0: h1's members fire after Skew_Time of 100 and go master
    // in one step once both are ready.
    for vrid in 1..=2 {
        let first = sim.first_advert(1, vrid, ms(10_300)).unwrap();
        assert_eq!(first.at, ms(10_300) + us(609_375));
        assert_eq!(sim.masters(vrid), vec![1]);
    }
    let ok = Event::Tracker {
        host: HostSel::Host(0),
        vrid: 1,
        tracker: 0,
        ok: true,
    };
    sim.apply_now(ok).unwrap();
    sim.run_until(ms(40_000)).unwrap();
    assert_eq!((sim.masters(1), sim.masters(2)), (vec![0], vec![0]));
    assert!(sim.holds_vips(0, 1) && sim.holds_vips(0, 2));
    assert!(!sim.holds_vips(1, 1) && !sim.holds_vips(1, 2));
}

#[test]
fn ipv6_and_v2_routers_elect_and_take_over() {
    use vrrp_sim::{ipv6_router, router_config};
    use vrrp_wire::Version;
    let v6 = vec![ipv6_router(7, 1, 100), ipv6_router(7, 2, 200)];
    let mut sim = Sim::lan(v6).unwrap();
    sim.run_until(ms(10_000)).unwrap();
    assert_eq!(sim.masters(7), vec![1]);
    let v2 = vec![
        router_config(Version::V2, false, 3, 1, 100),
        router_config(Version::V2, false, 3, 2, 200),
    ];
    let mut sim = Sim::lan(v2).unwrap();
    sim.run_until(ms(10_300)).unwrap();
    sim.apply_now(Event::Crash(HostSel::Host(1))).unwrap();
    let last = sim.last_advert(1, 3, ms(10_300)).unwrap().at;
    sim.run_until(ms(20_000)).unwrap();
    // VRRPv2 Skew_Time is (256 - 100) / 256 s whatever the interval: MDI 3.609375 s.
    assert_eq!(
        sim.first_advert(0, 3, last).unwrap().at,
        last + us(3_609_375)
    );
}

fn start_at(sim: &mut Sim, host: usize, at: Instant) {
    let start = Event::Start {
        host: HostSel::Host(host),
        reuse: false,
    };
    sim.schedule(at, start);
}

/// h0 (100) alone from zero: master at 3.609375 s, adverts at 3.609375 + k s. h1 (200) joins at 10 s.
fn incumbent_and_newcomer(newcomer: Config) -> Sim {
    let hosts = vec![
        HostSpec::single(ipv4_router(1, 1, 100)),
        HostSpec::single(newcomer),
    ];
    let mut sim = Sim::new(hosts, NetParams::IDEAL, 0).unwrap();
    start_at(&mut sim, 0, ms(0));
    start_at(&mut sim, 1, ms(10_000));
    sim
}

#[test]
fn preempt_off_higher_priority_backup_leaves_the_master_alone() {
    let mut newcomer = ipv4_router(1, 2, 200);
    newcomer.preempt = false;
    let mut sim = incumbent_and_newcomer(newcomer);
    sim.run_until(ms(40_000)).unwrap();
    assert_eq!(sim.masters(1), vec![0]);
    assert_eq!(sim.first_advert(1, 1, ms(0)), None);
    // The BestMaster invariant exempts it; a crash of h0 still hands over to it.
    sim.apply_now(Event::Crash(HostSel::Host(0))).unwrap();
    sim.run_until(ms(50_000)).unwrap();
    assert_eq!(sim.masters(1), vec![1]);
}

#[test]
fn preempt_delay_defers_the_takeover_until_the_window_ends() {
    let mut newcomer = ipv4_router(1, 2, 200);
    newcomer.preempt_delay = Micros::from_secs(5);
    let mut sim = incumbent_and_newcomer(newcomer.clone());
    sim.run_until(ms(40_000)).unwrap();
    // Window ends at 15 s; h0's next advert (15.609375) is below h1 and from the master h1 follows:
    // fast handover, Skew_Time of 200 = 56/256 s.
    let first = sim.first_advert(1, 1, ms(0)).unwrap();
    assert_eq!(first.at, ms(15_609) + us(375 + 218_750));
    assert_eq!(sim.masters(1), vec![1]);
    // RFC-exact: the 100s are discarded from 15 s on; one MDI (3.21875 s) after the last one accepted.
    let mut sim = incumbent_and_newcomer(newcomer.rfc_exact());
    sim.run_until(ms(40_000)).unwrap();
    let first = sim.first_advert(1, 1, ms(0)).unwrap();
    assert_eq!(first.at, ms(14_609) + us(375 + 3_218_750));
}
