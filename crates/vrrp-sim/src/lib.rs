//! A deterministic simulator for vrrp-core: 2 to 16 hosts, each running a `vrrp_core::Node` (the same
//! dispatch, merged timer and sync groups the daemon runs), on one virtual segment with a virtual clock
//! and a seeded RNG — per-link loss, bounded delay, duplication, partitions and heals, silent crashes,
//! graceful stops, restarts, link down/up, priority and tracker changes — while the invariants in the
//! README are checked after every event. The simulator's model of each router (priority, preempt
//! window, what it was handed) is its own, never read back from the core.
//!
//! ```
//! use vrrp_core::{Instant, Micros, StateKind};
//! use vrrp_sim::{Event, HostSel, Sim, ipv4_router};
//!
//! let mut sim = Sim::lan(vec![ipv4_router(1, 1, 200), ipv4_router(1, 2, 100)]).unwrap();
//! sim.run_until(Instant::ZERO + Micros::from_secs(10)).unwrap();
//! assert_eq!(sim.masters(1), vec![0]);
//! sim.apply_now(Event::Crash(HostSel::Host(0))).unwrap();
//! sim.run_until(Instant::ZERO + Micros::from_secs(20)).unwrap();
//! assert_eq!(sim.state(1, 1), Some(StateKind::Master));
//! ```
//!
//! Random scenarios: [`Scenario::generate`] / [`run_seed`]; a failing seed replays with
//! `VRRP_SIM_SEED=<seed> cargo test -p vrrp-sim --test property replay -- --nocapture`.

pub mod check;
pub mod model;
pub mod network;
pub mod oracle;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod trace;

pub use check::{Checker, Invariant, RouterView, Violation, Vips};
pub use model::{
    Event, HostId, HostSel, HostSpec, NetParams, Weather, host_address, ipv4_router, ipv6_router,
    router_config, vip_set, virtual_addresses,
};
pub use rng::Rng;
pub use run::{
    RunReport, Summary, failure_report, replay_command, run_scenario, run_seed, run_seeds,
};
pub use scenario::Scenario;
pub use sim::{SentAdvert, Sim, SimError, Stats};
