//! The figures: per (scenario, interval) the samples in microseconds, their order statistics, and
//! the markdown table the README quotes.

use std::fmt::Write as _;
use std::time::Duration;

/// One row: what was measured, against which protocol figure, and every run's outcome.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: &'static str,
    pub interval: Duration,
    /// How the bound is written in the table, e.g. `MDI 36.09`.
    pub bound_name: String,
    pub bound: Duration,
    /// Measured values of the runs kept, in microseconds (signed: an ARP may precede the advert).
    pub samples: Vec<i64>,
    /// Runs the pause detector flagged, left out of `samples`.
    pub paused: usize,
}

/// min, median, p95 and max of `samples` (nearest rank: the value at rank ceil(p * n)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub min: i64,
    pub median: i64,
    pub p95: i64,
    pub max: i64,
}

/// The value at nearest rank ceil(`percent`/100 * n) of the sorted `values`; `None` when empty.
fn nearest_rank(sorted: &[i64], percent: usize) -> Option<i64> {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

pub fn stats(samples: &[i64]) -> Option<Stats> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    Some(Stats {
        min: *sorted.first()?,
        median: nearest_rank(&sorted, 50)?,
        p95: nearest_rank(&sorted, 95)?,
        max: *sorted.last()?,
    })
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// Microseconds as milliseconds with two decimals; `signed` adds a `+` to positive values.
fn ms(value: i64, signed: bool) -> String {
    let sign = if value < 0 {
        "-"
    } else if signed {
        "+"
    } else {
        ""
    };
    let magnitude = value.unsigned_abs();
    format!("{sign}{}.{:02}", magnitude / 1000, (magnitude % 1000) / 10)
}

/// `10 ms`, `100 ms`, `1 s`.
pub fn interval_text(interval: Duration) -> String {
    let millis = interval.as_millis();
    if millis >= 1000 && millis.is_multiple_of(1000) {
        format!("{} s", millis / 1000)
    } else {
        format!("{millis} ms")
    }
}

/// The markdown table, one line per row; figures in milliseconds.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(
        "| scenario | interval | n | protocol bound (ms) | measured min / median / p95 / max (ms) \
         | error (measured − bound) median / max (ms) | paused runs excluded |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|\n");
    for row in rows {
        let bound = micros(row.bound);
        let (measured, error) = match stats(&row.samples) {
            Some(s) => (
                format!(
                    "{} / {} / {} / {}",
                    ms(s.min, false),
                    ms(s.median, false),
                    ms(s.p95, false),
                    ms(s.max, false)
                ),
                format!(
                    "{} / {}",
                    ms(s.median - bound, true),
                    ms(s.max - bound, true)
                ),
            ),
            None => ("-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {measured} | {error} | {} |",
            row.scenario,
            interval_text(row.interval),
            row.samples.len(),
            row.bound_name,
            row.paused
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_statistics_use_the_nearest_rank() {
        let samples: Vec<i64> = (1..=20).rev().collect();
        assert_eq!(
            stats(&samples),
            Some(Stats {
                min: 1,
                median: 10,
                p95: 19,
                max: 20
            })
        );
        assert_eq!(stats(&[7]).map(|s| (s.median, s.p95)), Some((7, 7)));
        assert_eq!(stats(&[]), None);
        // Ten runs: p95 is the largest (rank 10).
        let ten: Vec<i64> = (0..10).collect();
        assert_eq!(stats(&ten).map(|s| s.p95), Some(9));
    }

    #[test]
    fn the_table_shows_milliseconds_and_signed_errors() {
        let row = Row {
            scenario: "SIGKILL",
            interval: Duration::from_millis(10),
            bound_name: "MDI 36.09".into(),
            bound: Duration::from_micros(36_093),
            samples: vec![37_000, 36_500, 40_250],
            paused: 1,
        };
        let table = markdown(&[row]);
        let line = table.lines().nth(2).unwrap();
        assert_eq!(
            line,
            "| SIGKILL | 10 ms | 3 | MDI 36.09 | 36.50 / 37.00 / 40.25 / 40.25 | +0.90 / +4.15 | 1 |"
        );
        assert_eq!(ms(-1_500, true), "-1.50");
        assert_eq!(interval_text(Duration::from_secs(1)), "1 s");
    }
}
