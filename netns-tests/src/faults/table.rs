//! The fault-matrix table: every judged cell writes its row to `target/fault-matrix/rows/`, and the
//! table (one markdown table, rows in a stable order, every file's cells together) is rebuilt from
//! those rows into `target/fault-matrix/table.md` and printed, so README can carry the latest run.
//! Row files are keyed `<group>-<cell>-<interval>`: another test file adds rows to the same table by
//! recording its verdicts under its own group.

use std::path::PathBuf;

use super::verdict::{Verdict, ms};
use crate::error::{HarnessError, Result};

/// The table's header (README carries the same).
pub const HEADER: &str = "| group | cell | interval | no holder (longest / total) | two holders past bound | \
failed requests | longest outage | bound | result |\n|---|---|---|---|---|---|---|---|---|";

/// `target/fault-matrix` (`$CARGO_TARGET_DIR/fault-matrix` when that is set).
pub fn table_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("fault-matrix")
}

/// The verdict as a table row.
pub fn row(group: &str, verdict: &Verdict) -> String {
    let result = if verdict.passed() {
        "pass".to_owned()
    } else {
        format!("FAIL: {}", verdict.failures.join("; "))
    };
    format!(
        "| {group} | {} | {} ms | {} / {} | {} | {} / {} | {} | {} | {result} |",
        verdict.cell,
        verdict.interval.as_millis(),
        ms(verdict.no_holder_longest),
        ms(verdict.no_holder_total),
        ms(verdict.two_holders_past_bound),
        verdict.failed,
        verdict.requests,
        ms(verdict.longest_failure_run),
        verdict.bounds.rule,
    )
}

/// A file name part made of `text`'s letters, digits and dashes.
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Write `verdict`'s row under `group`, rebuild the table, print it; the table text.
pub fn record(group: &str, verdict: &Verdict) -> Result<String> {
    let rows = table_dir().join("rows");
    std::fs::create_dir_all(&rows)
        .map_err(|err| HarnessError::new(format!("create {}: {err}", rows.display())))?;
    let name = format!(
        "{}-{}-{:05}.md",
        slug(group),
        slug(&verdict.cell),
        verdict.interval.as_millis()
    );
    let path = rows.join(name);
    std::fs::write(&path, row(group, verdict) + "\n")
        .map_err(|err| HarnessError::new(format!("write {}: {err}", path.display())))?;
    let table = rebuild()?;
    println!("{verdict}\n\n{table}");
    Ok(table)
}

/// `table.md` from every row file, sorted by file name (group, cell, interval).
pub fn rebuild() -> Result<String> {
    let dir = table_dir();
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir.join("rows"))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    names.sort();
    let mut table = format!("{HEADER}\n");
    for path in names {
        table.push_str(&std::fs::read_to_string(&path)?);
    }
    let path = dir.join("table.md");
    std::fs::write(&path, &table)
        .map_err(|err| HarnessError::new(format!("write {}: {err}", path.display())))?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_file_names_plain() {
        assert_eq!(slug("SIGSTOP/SIGCONT"), "sigstop-sigcont");
        assert_eq!(slug("30 % loss"), "30---loss");
    }
}
