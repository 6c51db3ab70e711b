use vrrp_sim::{Rng, Scenario, run_scenario};

#[test]
fn crossed() {
    let first: u64 = std::env::var("FIRST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let n: u64 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20000);
    let mut groups = 0;
    let mut failed = Vec::new();
    for seed in first..first + n {
        let mut s = Scenario::generate(seed);
        if !s.hosts.iter().any(|h| h.sync_group) {
            continue;
        }
        groups += 1;
        let mut rng = Rng::new(seed ^ 0xdead_beef);
        for h in &mut s.hosts {
            for r in &mut h.routers {
                r.priority = if rng.chance(100) {
                    255
                } else if rng.chance(600) {
                    *rng.pick(&[100, 100, 150, 200, 50, 254, 1]).unwrap()
                } else {
                    u8::try_from(rng.between(1, 254)).unwrap()
                };
            }
        }
        let report = run_scenario(&s, false);
        if let Err(v) = report.outcome {
            failed.push((seed, s.hosts.len(), v.to_string()));
        }
    }
    for f in failed.iter().take(30) {
        println!("{f:?}");
    }
    println!("{groups} sync-group seeds, {} failed", failed.len());
}

#[test]
fn one() {
    let Some(seed) = std::env::var("SEED")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    let mut s = Scenario::generate(seed);
    let mut rng = Rng::new(seed ^ 0xdead_beef);
    for h in &mut s.hosts {
        for r in &mut h.routers {
            r.priority = if rng.chance(100) {
                255
            } else if rng.chance(600) {
                *rng.pick(&[100, 100, 150, 200, 50, 254, 1]).unwrap()
            } else {
                u8::try_from(rng.between(1, 254)).unwrap()
            };
        }
    }
    for (i, h) in s.hosts.iter().enumerate() {
        println!(
            "h{i}: {:?}",
            h.routers
                .iter()
                .map(|r| (
                    r.vrid,
                    r.priority,
                    r.primary_address,
                    r.preempt,
                    r.preempt_delay,
                    r.advert_interval,
                    r.trackers.len(),
                    r.version
                ))
                .collect::<Vec<_>>()
        );
    }
    let report = run_scenario(&s, true);
    println!("{}", report.trace.unwrap_or_default());
    println!("{:?}", report.outcome);
}
