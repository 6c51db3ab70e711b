//! The summary printed at the end: the seed, the faults injected by kind, the violations with their
//! time and kind, and the figures that show the checker saw the lab.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::checker::Checker;
use crate::schedule::{ALL_KINDS, FaultKind};

/// What the run did, beside the checker's findings.
#[derive(Debug, Default)]
pub struct RunFacts {
    pub seed: u64,
    pub planned: Duration,
    pub ran: Duration,
    pub interrupted: bool,
    pub injected: BTreeMap<FaultKind, u32>,
    pub load_start: String,
    pub load_end: String,
    /// Lab problems that are not keepvip's (an `ip` command failing, say): reported, and the run fails.
    pub lab_errors: Vec<String>,
    /// `--without` as given, for the replay line.
    pub without: String,
    /// The holder sampler's sample count and its longest gap between two samples (its own stalls).
    pub sampler: (u64, Duration),
}

pub fn render(facts: &RunFacts, checker: &Checker) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n## Soak summary\n");
    let _ = writeln!(
        out,
        "seed {} · ran {:.1} of {:.1} min{} · load average {} at the start, {} at the end",
        facts.seed,
        facts.ran.as_secs_f64() / 60.0,
        facts.planned.as_secs_f64() / 60.0,
        if facts.interrupted {
            " (interrupted)"
        } else {
            ""
        },
        facts.load_start,
        facts.load_end
    );
    let bounds = checker.bounds();
    let _ = writeln!(
        out,
        "bounds: two holders {:.0} ms, no holder {:.0} ms, recovery after a fault {:.0} ms, \
         steady master's advert gap {:.0} ms",
        bounds.two_holders().as_secs_f64() * 1e3,
        bounds.no_holder().as_secs_f64() * 1e3,
        bounds.recovery().as_secs_f64() * 1e3,
        bounds.late_advert.as_secs_f64() * 1e3
    );
    let _ = writeln!(out, "\n| fault | injected |\n|---|---|");
    let mut total = 0;
    for kind in ALL_KINDS {
        let count = facts.injected.get(&kind).copied().unwrap_or(0);
        total += count;
        let _ = writeln!(out, "| {} | {count} |", kind.name());
    }
    let _ = writeln!(out, "| all | {total} |");
    let _ = writeln!(
        out,
        "\nobserved: {} holder samples (longest gap {:.1} ms), {} holder changes, {} adverts, {} client requests ({} unanswered, all but the \
         violations below during faults); longest two-holder stretch {:.1} ms, longest no-holder \
         stretch {:.1} ms",
        facts.sampler.0,
        facts.sampler.1.as_secs_f64() * 1e3,
        checker.holder_changes,
        checker.adverts_seen,
        checker.requests,
        checker.failed_requests,
        checker.longest_two_holders.as_secs_f64() * 1e3,
        checker.longest_no_holder.as_secs_f64() * 1e3
    );
    let violations = checker.violations();
    let _ = writeln!(out, "\nviolations: {}", violations.len());
    for violation in violations {
        let _ = writeln!(
            out,
            "- at {:.3} s: {}: {}",
            violation.at.as_secs_f64(),
            violation.kind.name(),
            violation.detail
        );
    }
    for error in &facts.lab_errors {
        let _ = writeln!(out, "- lab error: {error}");
    }
    if !violations.is_empty() {
        let _ = writeln!(
            out,
            "\nreplay: soak --minutes {:.2} --seed {}{}",
            facts.planned.as_secs_f64() / 60.0,
            facts.seed,
            facts.without
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::Bounds;

    #[test]
    fn the_summary_lists_faults_violations_and_the_seed() {
        let mut checker = Checker::new(Bounds {
            interval: Duration::from_millis(10),
            mdi: Duration::from_millis(36),
            tolerance: Duration::from_millis(50),
            late_advert: Duration::from_millis(30),
        });
        checker.daemon_exited(Duration::from_millis(1500), 2, "exit status 4");
        let mut facts = RunFacts {
            seed: 77,
            ..RunFacts::default()
        };
        facts.injected.insert(FaultKind::Kill, 3);
        let text = render(&facts, &checker);
        assert!(text.contains("seed 77"), "{text}");
        assert!(text.contains("| sigkill+restart | 3 |"), "{text}");
        assert!(text.contains("| all | 3 |"), "{text}");
        assert!(
            text.contains(
                "violations: 1\n- at 1.500 s: daemon exited unasked: r2's keepvip: exit status 4"
            ),
            "{text}"
        );
        assert!(text.contains("--seed 77"), "{text}");
    }
}
