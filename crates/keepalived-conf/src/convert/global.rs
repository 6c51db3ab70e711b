//! `global_defs`: the keys that shape VRRP become `[global]`; the rest draw a warning.

use super::Ctx;
use crate::model::{Table, Value};
use crate::tree::Stmt;

/// Keys with no effect worth carrying: keepvip always behaves this way.
const SAME_IN_KEEPVIP: &[&str] = &[
    // keepvip always checks a unicast advert's source against the peers.
    "vrrp_check_unicast_src",
];

pub fn global_defs(block: &Stmt, global: &mut Table, ctx: &mut Ctx) {
    for stmt in block.block.iter().flatten() {
        global_key(stmt, global, ctx);
    }
}

fn global_key(stmt: &Stmt, global: &mut Table, ctx: &mut Ctx) {
    match stmt.keyword() {
        "router_id" => {
            if let Some(id) = ctx.one_arg(stmt) {
                let id = ctx.name(id, &stmt.loc, true);
                global.set("router_id", Value::Str(id));
            }
        }
        "vrrp_version" => {
            if let Some(version) = ctx.int_arg(stmt, 2..=3).and_then(|v| u8::try_from(v).ok()) {
                ctx.defaults.version = Some(version);
            }
        }
        "vrrp_garp_master_repeat" => {
            if let Some(n) = ctx.int_arg(stmt, 1..=255) {
                global.set("garp_repeat", Value::Int(n));
            }
        }
        "vrrp_rt_priority" => {
            if let Some(n) = ctx.int_arg(stmt, 1..=99) {
                global.set("rt_priority", Value::Int(n));
            }
        }
        "vrrp_garp_master_delay" => set_seconds(stmt, global, "garp_delay", ctx),
        "vrrp_startup_delay" => set_seconds(stmt, global, "startup_delay", ctx),
        "vrrp_garp_master_refresh" => set_seconds(stmt, global, "garp_refresh", ctx),
        "vrrp_garp_interval" | "vrrp_gna_interval" => {
            set_seconds(stmt, global, "garp_interval", ctx)
        }
        "vrrp_min_garp" => match stmt.args().first().map(String::as_str) {
            None | Some("on" | "true" | "yes") => {
                global.set("garp_repeat", Value::Int(1));
                global.set("garp_delay", Value::str("0s"));
            }
            Some("off" | "false" | "no") => {}
            Some(other) => ctx.warn(
                &stmt.loc,
                format!(
                    "`vrrp_min_garp {other}`: expected on/off, true/false, yes/no: not carried"
                ),
            ),
        },
        "default_interface" => {
            if let Some(interface) = ctx.one_arg(stmt) {
                ctx.defaults.interface = Some(interface.to_owned());
            }
        }
        "script_user" => script_user(stmt, global, ctx),
        "enable_script_security" => ctx.defaults.script_security = true,
        "notify_fifo" | "vrrp_notify_fifo" => notify_fifo(stmt, global, ctx),
        "vrrp_strict" => {
            ctx.defaults.strict = true;
            ctx.warn(&stmt.loc, "`vrrp_strict`: carried as accept = false in each instance that does not say `accept` (and is not an owner); its other checks (no authentication, no unicast, no preempt_delay) are not carried");
        }
        keyword if SAME_IN_KEEPVIP.contains(&keyword) => {}
        _ => ctx.not_carried(stmt, "global_defs"),
    }
}

fn set_seconds(stmt: &Stmt, global: &mut Table, key: &str, ctx: &mut Ctx) {
    if let Some(value) = ctx.seconds_arg(stmt) {
        global.set(key, value);
    }
}

/// `script_user USER [GROUP]`.
fn script_user(stmt: &Stmt, global: &mut Table, ctx: &mut Ctx) {
    match stmt.args() {
        [user] => global.set("script_user", Value::str(user)),
        [user, group] => {
            global.set("script_user", Value::str(user));
            global.set("script_group", Value::str(group.trim_start_matches(':')));
        }
        _ => ctx.warn(&stmt.loc, "`script_user` expects USER [GROUP]: not carried"),
    }
}

/// `notify_fifo PATH [USER [GROUP]]`: keepvip's FIFO has no owner of its own.
fn notify_fifo(stmt: &Stmt, global: &mut Table, ctx: &mut Ctx) {
    match stmt.args() {
        [] => ctx.warn(&stmt.loc, "`notify_fifo` needs a path: not carried"),
        [path, rest @ ..] => {
            global.set("notify_fifo", Value::str(path));
            if !rest.is_empty() {
                ctx.warn(
                    &stmt.loc,
                    format!(
                        "`{}`: the FIFO's user and group (`{}`) are not carried",
                        stmt.keyword(),
                        rest.join(" ")
                    ),
                );
            }
        }
    }
}
