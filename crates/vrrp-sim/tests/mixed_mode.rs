//! A segment being migrated from VRRPv2 to VRRPv3 (RFC 5798 §8.4): a VRRPv2 router and two VRRPv3
//! routers in mixed mode (`v2_interop`) on one VRID, through crashes, restarts and a graceful stop,
//! under the simulator's continuous invariant checks (one master once settled, VIPs, takeover times).
// Helpers here are not #[test] functions, so clippy.toml's allow-unwrap-in-tests does not cover them.
#![allow(clippy::unwrap_used)]

use vrrp_core::{Config, Instant, Micros};
use vrrp_sim::{Event, HostSel, NetParams, Sim, ipv4_router, router_config};
use vrrp_wire::Version;

fn ms(millis: u64) -> Instant {
    Instant::ZERO + Micros::from_millis(millis)
}

fn mixed(n: u8, priority: u8) -> Config {
    Config {
        v2_interop: true,
        ..ipv4_router(1, n, priority)
    }
}

/// Master_Down_Interval of priority 150 at 100 cs: 3 s + 106/256 s, rounded up.
const MDI_150_US: u64 = 3_414_063;

#[test]
fn a_v2_master_is_followed_replaced_on_a_crash_and_preempts_back_on_its_return() {
    let configs = vec![
        router_config(Version::V2, false, 1, 1, 200),
        mixed(2, 150),
        mixed(3, 100),
    ];
    let mut sim = Sim::lan_with(configs, NetParams::IDEAL).unwrap();
    sim.enable_trace();
    sim.run_until(ms(10_300)).unwrap();
    assert_eq!(sim.masters(1), vec![0], "{}", sim.trace().unwrap());
    sim.apply_now(Event::Crash(HostSel::Host(0))).unwrap();
    let last = sim.last_advert(0, 1, ms(10_300)).unwrap().at;
    sim.run_until(ms(20_000)).unwrap();
    let first = sim.first_advert(1, 1, ms(10_300)).unwrap();
    assert_eq!(first.at, last + Micros::from_micros(MDI_150_US));
    assert_eq!(sim.masters(1), vec![1]);
    // The VRRPv2 router returns: it hears only the VRRPv2 copies (150 < 200) and preempts.
    sim.apply_now(Event::Start {
        host: HostSel::Host(0),
        reuse: false,
    })
    .unwrap();
    sim.run_until(ms(30_000)).unwrap();
    assert_eq!(sim.masters(1), vec![0], "{}", sim.trace().unwrap());
    assert!(sim.holds_vips(0, 1) && !sim.holds_vips(1, 1) && !sim.holds_vips(2, 1));
}

#[test]
fn a_mixed_master_keeps_a_lower_v2_router_backup_and_its_resignation_reaches_it() {
    let configs = vec![mixed(1, 200), router_config(Version::V2, false, 1, 2, 150)];
    let mut sim = Sim::lan_with(configs, NetParams::IDEAL).unwrap();
    sim.enable_trace();
    sim.run_until(ms(20_000)).unwrap();
    assert_eq!(sim.masters(1), vec![0], "{}", sim.trace().unwrap());
    assert!(sim.first_advert(1, 1, ms(5_000)).is_none());
    sim.apply_now(Event::Stop(HostSel::Host(0))).unwrap();
    sim.run_until(ms(25_000)).unwrap();
    assert_eq!(sim.masters(1), vec![1], "{}", sim.trace().unwrap());
}
