//! Running seeds: one at a time (optionally traced), or a range with a summary, and the failure report
//! that tells how to replay a seed.

use std::ops::Range;
use std::time::{Duration, Instant as WallClock};

use crate::check::{Invariant, Violation};
use crate::scenario::Scenario;
use crate::sim::Stats;

/// The result of one seed.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub seed: u64,
    pub outcome: Result<(), Violation>,
    pub stats: Stats,
    /// The scenario's schedule and the full trace, when traced.
    pub trace: Option<String>,
}

/// Generates and runs one seed.
pub fn run_seed(seed: u64, traced: bool) -> RunReport {
    run_scenario(&Scenario::generate(seed), traced)
}

pub fn run_scenario(scenario: &Scenario, traced: bool) -> RunReport {
    let mut sim = match scenario.sim() {
        Ok(sim) => sim,
        Err(error) => {
            let violation = Violation {
                at: vrrp_core::Instant::ZERO,
                invariant: Invariant::Setup,
                detail: error.to_string(),
            };
            return RunReport {
                seed: scenario.seed,
                outcome: Err(violation),
                stats: Stats::default(),
                trace: None,
            };
        }
    };
    if traced {
        sim.enable_trace();
    }
    let outcome = sim.run_until(scenario.end);
    let trace = sim.trace().map(|t| format!("{}\n{t}", scenario.describe()));
    RunReport {
        seed: scenario.seed,
        outcome,
        stats: sim.stats(),
        trace,
    }
}

/// Totals over a range of seeds.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub seeds: u64,
    pub failures: Vec<(u64, Violation)>,
    pub totals: Stats,
    pub elapsed: Duration,
}

impl Summary {
    /// One line: seeds, wall time, and what was exercised.
    pub fn line(&self) -> String {
        let t = &self.totals;
        format!(
            "vrrp-sim: {} seeds in {:.2} s: {} failures; {} events, {} adverts, {} deliveries, {} lost, \
             {} state changes, {} settled checks, {} takeovers timed exactly, {} masters kept by \
             non-preempting newcomers, max {} masters at once; reloads: {} instances removed, {} \
             added, {} VIP sets changed",
            self.seeds,
            self.elapsed.as_secs_f64(),
            self.failures.len(),
            t.events,
            t.adverts,
            t.deliveries,
            t.lost,
            t.state_changes,
            t.settled_checks,
            t.takeovers_verified,
            t.incumbents_kept,
            t.max_masters,
            t.instances_removed,
            t.instances_added,
            t.vip_reloads
        )
    }
}

/// Runs every seed of `seeds` untraced and sums up.
pub fn run_seeds(seeds: Range<u64>) -> Summary {
    let started = WallClock::now();
    let mut summary = Summary::default();
    for seed in seeds {
        let report = run_seed(seed, false);
        summary.seeds += 1;
        add(&mut summary.totals, &report.stats);
        if let Err(violation) = report.outcome {
            summary.failures.push((seed, violation));
        }
    }
    summary.elapsed = started.elapsed();
    summary
}

fn add(total: &mut Stats, one: &Stats) {
    total.events += one.events;
    total.adverts += one.adverts;
    total.deliveries += one.deliveries;
    total.lost += one.lost;
    total.state_changes += one.state_changes;
    total.settled_checks += one.settled_checks;
    total.takeovers_verified += one.takeovers_verified;
    total.incumbents_kept += one.incumbents_kept;
    total.max_masters = total.max_masters.max(one.max_masters);
    total.instances_removed += one.instances_removed;
    total.instances_added += one.instances_added;
    total.vip_reloads += one.vip_reloads;
}

/// The command that replays `seed` with its full trace.
pub fn replay_command(seed: u64) -> String {
    format!("VRRP_SIM_SEED={seed} cargo test -p vrrp-sim --test property replay -- --nocapture")
}

/// Re-runs a failed seed with tracing: the violation, how to replay it, the schedule and the trace.
pub fn failure_report(seed: u64) -> String {
    let report = run_seed(seed, true);
    let verdict = match &report.outcome {
        Ok(()) => "passed when re-run (not deterministic?)".to_string(),
        Err(v) => v.to_string(),
    };
    format!(
        "seed {seed} FAILED: {verdict}\nreplay: {}\n\n{}",
        replay_command(seed),
        report.trace.unwrap_or_default()
    )
}
