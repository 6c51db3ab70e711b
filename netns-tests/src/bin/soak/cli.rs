//! The soak's command line.

use std::time::Duration;

use crate::schedule::FaultKind;

pub const USAGE: &str = "usage: soak --minutes N [--seed S] [--interval-ms MS] [--rt-priority P] [--without KINDS] [--verbose]\n\
    Runs three keepvip routers at 10 ms adverts (or --interval-ms) in network namespaces for N minutes\n\
    (a fraction is fine: --minutes 0.5) with random faults every few seconds, checking the invariants\n\
    continuously. The seed is printed at the start; --seed replays that schedule. The daemons run with\n\
    `rt_priority = P` (default 10; 0: the ordinary policy). --without loss,kill,... leaves kinds out of\n\
    the schedule (kill term stop flaps loss partition priority tracker-weight tracker-fault). Needs root; the\n\
    keepvip binary is $KEEPVIP_BIN, else keepvip beside this one, else target/debug/keepvip.\n\
    Exits 0 when no invariant was violated, 1 when one was, 2 on a usage error, 3 when the lab failed.";

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub duration: Duration,
    pub seed: Option<u64>,
    pub interval_ms: u64,
    /// Fault kinds never drawn.
    pub without: Vec<FaultKind>,
    /// The daemons' `rt_priority`; 0: none.
    pub rt_priority: u8,
    /// Print every fault as it is injected.
    pub verbose: bool,
}

fn value<'a>(
    rest: &mut impl Iterator<Item = &'a String>,
    flag: &str,
) -> Result<&'a String, String> {
    rest.next()
        .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
}

pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut minutes = None;
    let mut seed = None;
    let mut interval_ms = 10;
    let mut verbose = false;
    let mut rt_priority = 10;
    let mut without = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--minutes" => {
                let text = value(&mut rest, arg)?;
                minutes = Some(
                    text.parse::<f64>()
                        .ok()
                        .filter(|m| m.is_finite() && *m > 0.0 && *m <= 24.0 * 60.0)
                        .ok_or(format!(
                            "--minutes {text}: a number of minutes above 0, at most 1440"
                        ))?,
                );
            }
            "--seed" => {
                let text = value(&mut rest, arg)?;
                seed = Some(text.parse::<u64>().map_err(|_| {
                    format!("--seed {text}: a whole number 0..=18446744073709551615")
                })?);
            }
            "--interval-ms" => {
                let text = value(&mut rest, arg)?;
                interval_ms = text
                    .parse::<u64>()
                    .ok()
                    .filter(|ms| ms % 10 == 0 && (10..=1000).contains(ms))
                    .ok_or(format!("--interval-ms {text}: 10..=1000 in steps of 10"))?;
            }
            "--rt-priority" => {
                let text = value(&mut rest, arg)?;
                rt_priority = text
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= 89)
                    .ok_or(format!("--rt-priority {text}: 0 (off) or 1..=89"))?;
            }
            "--without" => {
                let text = value(&mut rest, arg)?;
                for name in text.split(',') {
                    without.push(
                        FaultKind::from_flag(name)
                            .ok_or(format!("--without {name}: not a fault kind\n{USAGE}"))?,
                    );
                }
            }
            "--verbose" | "-v" => verbose = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let minutes = minutes.ok_or(format!("--minutes is required\n{USAGE}"))?;
    Ok(Options {
        duration: Duration::from_secs_f64(minutes * 60.0),
        seed,
        interval_ms,
        rt_priority,
        without,
        verbose,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn minutes_seed_and_interval_are_read() {
        let options = parse(&args(&[
            "--minutes",
            "0.5",
            "--seed",
            "17",
            "--interval-ms",
            "100",
        ]))
        .unwrap();
        assert_eq!(options.duration, Duration::from_secs(30));
        assert_eq!(options.seed, Some(17));
        assert_eq!(options.interval_ms, 100);
        let defaults = parse(&args(&["--minutes", "1"])).unwrap();
        assert_eq!((defaults.interval_ms, defaults.rt_priority), (10, 10));
        assert_eq!(
            parse(&args(&["--minutes", "1", "--rt-priority", "0"]))
                .unwrap()
                .rt_priority,
            0
        );
        assert!(parse(&args(&["--minutes", "1", "--rt-priority", "95"])).is_err());
    }

    #[test]
    fn bad_values_say_what_was_expected() {
        assert!(
            parse(&args(&[]))
                .unwrap_err()
                .starts_with("--minutes is required")
        );
        assert!(
            parse(&args(&["--minutes", "0"]))
                .unwrap_err()
                .contains("above 0")
        );
        assert!(
            parse(&args(&["--minutes", "1", "--seed", "x"]))
                .unwrap_err()
                .contains("--seed x")
        );
        assert!(
            parse(&args(&["--minutes", "1", "--interval-ms", "15"]))
                .unwrap_err()
                .contains("steps of 10")
        );
        assert!(
            parse(&args(&["--bogus"]))
                .unwrap_err()
                .contains("unknown argument")
        );
    }
}
