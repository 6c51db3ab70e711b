//! `vrrp_script`, `vrrp_track_file`, `vrrp_track_process`, the `track_*` lists that refer to them,
//! notify commands, and `vrrp_sync_group`.

use super::Ctx;
use crate::Loc;
use crate::model::{Config, Table, Value};
use crate::script;
use crate::tree::Stmt;

const WEIGHT: std::ops::RangeInclusive<i64> = -254..=254;

fn named(block: &Stmt, header: &'static str, ctx: &mut Ctx) -> Option<Table> {
    let Some(name) = block.args().first() else {
        ctx.warn(
            &block.loc,
            format!("`{}` without a name: not carried", block.keyword()),
        );
        return None;
    };
    let mut table = Table::new(header, true);
    table
        .comments
        .push(format!("{} {name} ({})", block.keyword(), block.loc));
    let name = ctx.name(name, &block.loc, true);
    table.set("name", Value::Str(name));
    table.source = Some(block.loc.clone());
    Some(table)
}

/// `weight W [reverse]`.
fn weight(stmt: &Stmt, table: &mut Table, ctx: &mut Ctx) {
    let (value, rest) = match stmt.args() {
        [value, rest @ ..] => (value, rest),
        [] => return ctx.warn(&stmt.loc, "`weight` needs a value: not carried"),
    };
    match value.parse::<i64>() {
        Ok(w) if WEIGHT.contains(&w) => table.set("weight", Value::Int(w)),
        _ => {
            return ctx.warn(
                &stmt.loc,
                format!("`weight {value}`: expected -254..=254: not carried"),
            );
        }
    }
    match rest {
        [] => {}
        [r] if r == "reverse" => table.set("reverse", Value::Bool(true)),
        _ => ctx.warn(
            &stmt.loc,
            format!("`weight`: `{}` not carried", rest.join(" ")),
        ),
    }
}

fn set_seconds(stmt: &Stmt, table: &mut Table, key: &str, ctx: &mut Ctx) {
    if let Some(value) = ctx.seconds_arg(stmt) {
        table.set(key, value);
    }
}

/// `vrrp_script NAME { script CMD interval timeout rise fall weight user init_fail }`.
pub fn vrrp_script(block: &Stmt, ctx: &mut Ctx) -> Option<Table> {
    let mut table = named(block, "track_script", ctx)?;
    for stmt in block.block.iter().flatten() {
        match stmt.keyword() {
            "script" => {
                if let Some((command, rest)) = script_command(stmt, ctx) {
                    table.set("command", command);
                    if !rest.is_empty() {
                        let extra = rest.join(" ");
                        ctx.warn(&stmt.loc, format!("`script`: `{extra}` after the command is not carried (use `user` in vrrp_script)"));
                    }
                }
            }
            "interval" | "timeout" => set_seconds(stmt, &mut table, stmt.keyword(), ctx),
            "rise" | "fall" => {
                if let Some(n) = ctx.int_arg(stmt, 1..=1000) {
                    table.set(stmt.keyword(), Value::Int(n));
                }
            }
            "weight" => weight(stmt, &mut table, ctx),
            "init_fail" => table.set("init_fail", Value::Bool(true)),
            "user" => match stmt.args() {
                [user] => table.set("user", Value::str(user)),
                [user, group] => {
                    table.set("user", Value::str(user));
                    table.set("group", Value::str(group.trim_start_matches(':')));
                }
                _ => ctx.warn(&stmt.loc, "`user` expects USER [GROUP]: not carried"),
            },
            _ => ctx.not_carried(stmt, "vrrp_script"),
        }
    }
    if table.get("command").is_none() {
        ctx.warn(&block.loc, "`vrrp_script` without `script`: not carried");
        return None;
    }
    Some(table)
}

/// `vrrp_track_file NAME { file PATH weight W [reverse] init_file [VALUE] [overwrite] }`.
pub fn track_file(block: &Stmt, ctx: &mut Ctx) -> Option<Table> {
    let mut table = named(block, "track_file", ctx)?;
    for stmt in block.block.iter().flatten() {
        match (stmt.keyword(), stmt.args()) {
            ("file", [path]) => table.set("path", Value::str(path)),
            ("weight", _) => weight(stmt, &mut table, ctx),
            ("init_file", args) => {
                let mut value = 0;
                for arg in args {
                    match arg.parse::<i64>() {
                        _ if arg == "overwrite" => table.set("init_overwrite", Value::Bool(true)),
                        Ok(v) => value = v,
                        Err(_) => ctx.warn(
                            &stmt.loc,
                            format!(
                                "`init_file {arg}`: expected a number or `overwrite`: not carried"
                            ),
                        ),
                    }
                }
                table.set("init_value", Value::Int(value));
            }
            _ => ctx.not_carried(stmt, "vrrp_track_file"),
        }
    }
    if table.get("path").is_none() {
        ctx.warn(&block.loc, "`vrrp_track_file` without `file`: not carried");
        return None;
    }
    Some(table)
}

/// `vrrp_track_process NAME { process NAME [ARGS] param_match quorum quorum_max delay weight ... }`.
pub fn track_process(block: &Stmt, ctx: &mut Ctx) -> Option<Table> {
    let mut table = named(block, "track_process", ctx)?;
    let mut full_command = None;
    for stmt in block.block.iter().flatten() {
        match (stmt.keyword(), stmt.args()) {
            ("process", [process, args @ ..]) => {
                table.set("process", Value::str(process));
                if !args.is_empty() {
                    table.set("args", Value::Str(args.join(" ")));
                }
            }
            ("param_match", [kind]) if ["exact", "partial", "initial"].contains(&kind.as_str()) => {
                table.set("param_match", Value::str(kind))
            }
            ("quorum" | "quorum_max", _) => {
                if let Some(n) = ctx.int_arg(stmt, 0..=65535) {
                    table.set(stmt.keyword(), Value::Int(n));
                }
            }
            ("delay" | "fork_delay" | "terminate_delay", _) => {
                set_seconds(stmt, &mut table, stmt.keyword(), ctx)
            }
            ("weight", _) => weight(stmt, &mut table, ctx),
            ("full_command", _) => full_command = Some(stmt.loc.clone()),
            _ => ctx.not_carried(stmt, "vrrp_track_process"),
        }
    }
    let Some(Value::Str(process)) = table.get("process") else {
        ctx.warn(
            &block.loc,
            "`vrrp_track_process` without `process`: not carried",
        );
        return None;
    };
    if let Some(loc) = full_command.filter(|_| !process.contains('/')) {
        ctx.warn(&loc, "`full_command` with a process name that is not a path: keepvip compares a path in `process` with the whole argv[0] and a bare name with its last component");
    }
    Some(table)
}

/// `track_script { NAME [weight W [reverse]] }` and the file, process and interface lists.
pub fn references(block: &Stmt, table: &mut Table, ctx: &mut Ctx) {
    let key = block.keyword();
    let name_key = if key == "track_interface" {
        "interface"
    } else {
        "name"
    };
    for line in block.block.iter().flatten() {
        let Some((name, options)) = line.words.split_first() else {
            continue;
        };
        let name = &if key == "track_interface" {
            name.clone()
        } else {
            ctx.name(name, &line.loc, false)
        };
        let entry = match options {
            [] => Value::str(name),
            [w, weight, rest @ ..] if w == "weight" => {
                let Ok(weight) = weight
                    .parse::<i64>()
                    .map_err(|_| ())
                    .and_then(|w| if WEIGHT.contains(&w) { Ok(w) } else { Err(()) })
                else {
                    ctx.warn(&line.loc, format!("{key} `{name}`: weight `{weight}` is not -254..=254: tracked with its own weight"));
                    table.push(key, Value::str(name));
                    continue;
                };
                let mut entry = vec![
                    (name_key.to_owned(), Value::str(name)),
                    ("weight".to_owned(), Value::Int(weight)),
                ];
                match rest {
                    [] => {}
                    [r] if r == "reverse" => entry.push(("reverse".to_owned(), Value::Bool(true))),
                    _ => ctx.warn(
                        &line.loc,
                        format!("{key} `{name}`: `{}` not carried", rest.join(" ")),
                    ),
                }
                Value::Inline(entry)
            }
            _ => {
                ctx.warn(
                    &line.loc,
                    format!("{key} `{name}`: `{}` not carried", options.join(" ")),
                );
                Value::str(name)
            }
        };
        table.push(key, entry);
    }
}

/// A script statement's command as keepvip takes it, and the words after it: the text as written
/// when keepvip splits it the same way, else the words keepalived would run (see `script`).
fn script_command(stmt: &Stmt, ctx: &mut Ctx) -> Option<(Value, Vec<String>)> {
    let keyword = stmt.keyword();
    let read = match script::command_words(&stmt.text) {
        Ok(read) => read,
        Err(e) => {
            ctx.warn(
                &stmt.loc,
                format!("`{keyword}`: keepalived cannot split this command ({e}): not carried"),
            );
            return None;
        }
    };
    if read.argv.first().is_none_or(|program| program.is_empty()) {
        ctx.warn(
            &stmt.loc,
            format!("`{keyword}` needs a command: not carried"),
        );
        return None;
    }
    let value = if script::plain_text_gives(&read.text, &read.argv) {
        Value::Str(read.text)
    } else {
        Value::Array(read.argv.into_iter().map(Value::Str).collect())
    };
    Some((value, read.rest))
}

/// `notify_master CMD [USER [GROUP]]`: the command; notify scripts run as `[global] script_user`.
pub fn notify(stmt: &Stmt, table: &mut Table, ctx: &mut Ctx) {
    let Some((command, user)) = script_command(stmt, ctx) else {
        return;
    };
    table.set(stmt.keyword(), command);
    if !user.is_empty() {
        ctx.warn(&stmt.loc, format!("`{}`: the user and group `{}` are not carried: notify scripts run as [global] script_user", stmt.keyword(), user.join(" ")));
    }
}

/// `vrrp_sync_group NAME { group { ... } track_* { ... } notify* }`.
pub fn sync_group(block: &Stmt, ctx: &mut Ctx) -> Option<Table> {
    let mut table = named(block, "sync_group", ctx)?;
    for stmt in block.block.iter().flatten() {
        match stmt.keyword() {
            "group" => {
                for (member, loc) in stmt.block_words() {
                    let member = ctx.name(member, loc, false);
                    table.push("members", Value::Str(member));
                }
            }
            "track_script" | "track_file" | "track_process" | "track_interface" => {
                references(stmt, &mut table, ctx)
            }
            "notify" | "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" => {
                notify(stmt, &mut table, ctx)
            }
            _ => ctx.not_carried(stmt, "vrrp_sync_group"),
        }
    }
    if table.get("members").is_none() {
        ctx.warn(&block.loc, "`vrrp_sync_group` without `group`: not carried");
        return None;
    }
    Some(table)
}

/// keepalived ignores (with a warning) a reference to a tracker or instance that does not exist;
/// keepvip refuses one, so such references are dropped here.
pub fn drop_missing_references(config: &mut Config, ctx: &mut Ctx) {
    let names = |tables: &[Table]| -> Vec<String> {
        tables
            .iter()
            .filter_map(|t| match t.get("name") {
                Some(Value::Str(s)) => Some(s.clone()),
                _ => None,
            })
            .collect()
    };
    let known = [
        ("track_script", names(&config.track_scripts)),
        ("track_file", names(&config.track_files)),
        ("track_process", names(&config.track_processes)),
    ];
    let instances = names(&config.instances);
    for table in config
        .instances
        .iter_mut()
        .chain(config.sync_groups.iter_mut())
    {
        let Some(loc) = table.source.clone() else {
            continue;
        };
        for (key, defined) in &known {
            retain(
                table,
                key,
                |name| defined.iter().any(|d| d == name),
                &loc,
                ctx,
            );
        }
        retain(
            table,
            "members",
            |name| instances.iter().any(|d| d == name),
            &loc,
            ctx,
        );
    }
}

/// The name an entry of a list refers to: the string, or the first key of its table.
fn entry_name(item: &Value) -> &str {
    match item {
        Value::Str(s) => s,
        Value::Inline(entries) => match entries.first() {
            Some((_, Value::Str(s))) => s,
            _ => "",
        },
        _ => "",
    }
}

fn retain(table: &mut Table, key: &str, exists: impl Fn(&str) -> bool, loc: &Loc, ctx: &mut Ctx) {
    let Some(Value::Array(items)) = table.get(key).cloned() else {
        return;
    };
    let (kept, dropped): (Vec<Value>, Vec<Value>) =
        items.into_iter().partition(|item| exists(entry_name(item)));
    for item in &dropped {
        let name = entry_name(item);
        ctx.warn(
            loc,
            format!(
                "{key}: `{name}` is not defined in the file: dropped (keepalived ignores it too)"
            ),
        );
    }
    if kept.is_empty() {
        table.remove(key);
    } else {
        table.set(key, Value::Array(kept));
    }
}
