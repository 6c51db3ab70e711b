//! Order statistics of each figure for both daemons, and the markdown table.

use std::fmt::Write as _;

/// min, median, p90, p99 and max (nearest rank: the value at rank ceil(p * n)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub min: f64,
    pub median: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

fn nearest_rank(sorted: &[f64], percent: usize) -> Option<f64> {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

pub fn stats(samples: &[f64]) -> Option<Stats> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(Stats {
        n: sorted.len(),
        min: *sorted.first()?,
        median: nearest_rank(&sorted, 50)?,
        p90: nearest_rank(&sorted, 90)?,
        p99: nearest_rank(&sorted, 99)?,
        max: *sorted.last()?,
    })
}

/// One figure, measured for both daemons.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    /// `ms`, `%`, `MiB`, `count`...
    pub unit: &'static str,
    pub keepvip: Vec<f64>,
    pub keepalived: Vec<f64>,
}

impl Figure {
    pub fn new(name: impl Into<String>, unit: &'static str) -> Figure {
        Figure {
            name: name.into(),
            unit,
            keepvip: Vec::new(),
            keepalived: Vec::new(),
        }
    }
}

fn cell(stats: Option<Stats>) -> String {
    match stats {
        None => "no sample".into(),
        Some(s) => format!(
            "{} / {} / {} / {} / {}",
            number(s.min),
            number(s.median),
            number(s.p90),
            number(s.p99),
            number(s.max)
        ),
    }
}

fn number(value: f64) -> String {
    if value.abs() >= 100.0 || value == value.trunc() {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// The ratio of the medians (keepvip / keepalived); `-` when it means nothing.
fn ratio(keepvip: Option<Stats>, keepalived: Option<Stats>) -> String {
    match (keepvip, keepalived) {
        (Some(a), Some(b)) if b.median != 0.0 => format!("{:.2}", a.median / b.median),
        _ => "-".into(),
    }
}

pub fn markdown(figures: &[Figure]) -> String {
    let mut out = String::from(
        "| figure | unit | n | keepvip min / median / p90 / p99 / max | keepalived min / median / \
         p90 / p99 / max | ratio of medians |\n|---|---|---|---|---|---|\n",
    );
    for figure in figures {
        let (a, b) = (stats(&figure.keepvip), stats(&figure.keepalived));
        let n = format!("{} / {}", figure.keepvip.len(), figure.keepalived.len());
        let _ = writeln!(
            out,
            "| {} | {} | {n} | {} | {} | {} |",
            figure.name,
            figure.unit,
            cell(a),
            cell(b),
            ratio(a, b)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_statistics() {
        let samples: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = stats(&samples).unwrap();
        assert_eq!(
            (s.min, s.median, s.p90, s.p99, s.max),
            (1.0, 50.0, 90.0, 99.0, 100.0)
        );
        assert!(stats(&[]).is_none());
        let one = stats(&[0.25]).unwrap();
        assert_eq!((one.median, one.p99), (0.25, 0.25));
    }

    #[test]
    fn the_table_has_a_ratio_of_medians() {
        let mut figure = Figure::new("takeover", "ms");
        figure.keepvip = vec![0.1, 0.2, 0.3];
        figure.keepalived = vec![0.8];
        let table = markdown(&[figure]);
        assert!(
            table.contains("| takeover | ms | 3 / 1 | 0.10 / 0.20 / 0.30 / 0.30 / 0.30 | 0.80 / 0.80 / 0.80 / 0.80 / 0.80 | 0.25 |"),
            "{table}"
        );
    }
}
