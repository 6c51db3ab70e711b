//! The seeded property run and the replay entry point.
//!
//! - `cargo test -p vrrp-sim --test property` runs seeds 0..100 000 (vrrp-sim, vrrp-core and vrrp-wire
//!   are optimized in the dev profile too: root Cargo.toml) and prints the count
//!   and wall time with `-- --nocapture`. `VRRP_SIM_SEEDS=<n>` and `VRRP_SIM_FIRST_SEED=<s>` change the
//!   range.
//! - `VRRP_SIM_SEED=<seed> cargo test -p vrrp-sim --test property replay -- --nocapture` prints one
//!   seed's schedule and full trace.

use vrrp_sim::{failure_report, replay_command, run_seed, run_seeds};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

#[test]
fn a_hundred_thousand_seeds_keep_every_invariant() {
    let first = env_u64("VRRP_SIM_FIRST_SEED").unwrap_or(0);
    let count = env_u64("VRRP_SIM_SEEDS").unwrap_or(100_000);
    let summary = run_seeds(first..first + count);
    println!("{}", summary.line());
    if let Some((seed, _)) = summary.failures.first() {
        let others: Vec<String> = summary
            .failures
            .iter()
            .take(20)
            .map(|(s, v)| format!("  seed {s}: {v}"))
            .collect();
        panic!(
            "{} of {} seeds failed:\n{}\n\nfirst failure in full:\n{}",
            summary.failures.len(),
            summary.seeds,
            others.join("\n"),
            failure_report(*seed)
        );
    }
    assert_eq!(summary.seeds, count);
}

#[test]
fn replay() {
    let seed = env_u64("VRRP_SIM_SEED").unwrap_or(1);
    let report = run_seed(seed, true);
    let trace = report.trace.unwrap_or_default();
    if std::env::var_os("VRRP_SIM_SEED").is_some() {
        println!("{trace}");
        println!("{}", replay_command(seed));
    }
    assert!(trace.contains("EVENT start h0"), "{trace}");
    if let Err(violation) = report.outcome {
        panic!("seed {seed}: {violation}");
    }
}

#[test]
fn a_seed_replays_identically() {
    for seed in [3, 77, 4242] {
        let first = run_seed(seed, true);
        let second = run_seed(seed, true);
        assert_eq!(first.trace, second.trace, "seed {seed}");
        assert_eq!(first.stats, second.stats, "seed {seed}");
    }
}
