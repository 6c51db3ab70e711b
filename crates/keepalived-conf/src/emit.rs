//! The converted config as TOML text.

use std::fmt::Write;
use std::path::Path;

use crate::model::{Config, Table, Value};

pub fn emit(config: &Config, source: &Path) -> String {
    let mut out = format!(
        "# keepvip configuration converted by `keepvip import-keepalived` from {}\n",
        source.display()
    );
    let tables = config
        .global
        .iter()
        .chain(&config.track_scripts)
        .chain(&config.track_files)
        .chain(&config.track_processes)
        .chain(&config.instances)
        .chain(&config.sync_groups);
    for table in tables {
        out.push('\n');
        write_table(&mut out, table);
    }
    out
}

fn write_table(out: &mut String, table: &Table) {
    for comment in &table.comments {
        let _ = writeln!(out, "# {}", comment_text(comment));
    }
    let _ = if table.array {
        writeln!(out, "[[{}]]", table.header)
    } else {
        writeln!(out, "[{}]", table.header)
    };
    for (key, value) in &table.entries {
        let _ = writeln!(out, "{key} = {}", value_text(value));
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Str(s) => quote(s),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(value_text).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Inline(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k} = {}", value_text(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

/// A comment's text as TOML allows it: control characters (keepalived names may hold any byte but
/// whitespace) written as `\u{..}` escapes, tab kept.
fn comment_text(comment: &str) -> String {
    comment
        .chars()
        .map(|c| match c {
            '\t' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// A TOML basic string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(quote("a\"b\\c\u{1}"), "\"a\\\"b\\\\c\\u0001\"");
    }

    #[test]
    fn comments_carry_no_control_character() {
        // Found by the keepalived_import fuzz target: `vrrp_script chk\x1b{` made a comment
        // TOML refuses.
        assert_eq!(
            comment_text("vrrp_script chk\u{1b}\u{7f} a\tb"),
            "vrrp_script chk\\u{1b}\\u{7f} a\tb"
        );
    }

    #[test]
    fn inline_tables_and_arrays() {
        let v = Value::Array(vec![
            Value::str("x"),
            Value::Inline(vec![
                ("name".into(), Value::str("c")),
                ("weight".into(), Value::Int(-2)),
            ]),
        ]);
        assert_eq!(value_text(&v), "[\"x\", { name = \"c\", weight = -2 }]");
    }
}
