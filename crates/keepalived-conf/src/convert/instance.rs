//! `vrrp_instance` into `[[instance]]`, with keepalived's defaults where keepvip's differ: VRRPv2
//! unless `vrrp_version 3`/`version 3`, priority 255 for `state MASTER` without a priority, accept
//! mode off under `vrrp_strict`.

use super::{Ctx, addresses, duration_text, seconds_to_millis, trackers};
use crate::Loc;
use crate::model::{Table, Value};
use crate::tree::Stmt;

/// The order keys are written in.
const KEY_ORDER: &[&str] = &[
    "name",
    "interface",
    "vrid",
    "version",
    "priority",
    "advert_interval",
    "preempt",
    "preempt_delay",
    "accept",
    "auth_pass",
    "vips",
    "excluded_vips",
    "routes",
    "rules",
    "unicast_source",
    "unicast_peers",
    "vmac",
    "vmac_name",
    "garp_repeat",
    "garp_interval",
    "garp_delay",
    "garp_refresh",
    "track_script",
    "track_file",
    "track_process",
    "track_interface",
    "notify",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
];

/// Where unsupported keywords are said to be.
const CONTEXT: &str = "vrrp_instance";

/// What the keywords said that needs the whole block to decide.
#[derive(Default)]
struct Seen {
    priority: Option<i64>,
    state_master: bool,
    version: Option<u8>,
    accept: Option<(bool, Loc)>,
    advert: Option<(u64, Loc)>,
    preempt_delay: Option<Loc>,
    nopreempt: bool,
}

pub fn instance(block: &Stmt, ctx: &mut Ctx) -> Option<Table> {
    let Some(name) = block.args().first() else {
        ctx.warn(&block.loc, "`vrrp_instance` without a name: not carried");
        return None;
    };
    let mut table = Table::new("instance", true);
    table
        .comments
        .push(format!("vrrp_instance {name} ({})", block.loc));
    let name = ctx.name(name, &block.loc, true);
    table.set("name", Value::Str(name));
    table.source = Some(block.loc.clone());
    let mut seen = Seen::default();
    for stmt in block.block.iter().flatten() {
        if !basic_key(stmt, &mut table, &mut seen, ctx) {
            other_key(stmt, &mut table, &mut seen, ctx);
        }
    }
    if !complete(&mut table, block, ctx) {
        return None;
    }
    finish(&mut table, seen, block, ctx);
    Some(table)
}

/// keepalived refuses an instance without a VRID; keepvip also needs a VIP. An instance without an
/// interface uses `default_interface`, else eth0, as in keepalived.
fn complete(table: &mut Table, block: &Stmt, ctx: &mut Ctx) -> bool {
    let missing = match (table.get("vrid"), table.get("vips")) {
        (None, _) => "`virtual_router_id` (keepalived refuses it too)",
        (_, None) => "a `virtual_ipaddress` (keepvip needs one VIP at least)",
        _ => "",
    };
    if !missing.is_empty() {
        ctx.warn(
            &block.loc,
            format!("vrrp_instance without {missing}: instance not carried"),
        );
        return false;
    }
    if table.get("interface").is_none() {
        let interface = ctx
            .defaults
            .interface
            .clone()
            .unwrap_or_else(|| "eth0".to_owned());
        ctx.warn(
            &block.loc,
            format!(
                "no `interface`: keepalived uses {interface} (default_interface), written here"
            ),
        );
        table.set("interface", Value::Str(interface));
    }
    true
}

/// The keys of the protocol itself; false if `stmt` is none of them.
fn basic_key(stmt: &Stmt, table: &mut Table, seen: &mut Seen, ctx: &mut Ctx) -> bool {
    match stmt.keyword() {
        "interface" => {
            if let Some(interface) = ctx.one_arg(stmt) {
                table.set("interface", Value::str(interface));
            }
        }
        "virtual_router_id" => {
            if let Some(vrid) = ctx.int_arg(stmt, 1..=255) {
                table.set("vrid", Value::Int(vrid));
            }
        }
        "priority" => {
            if let Some(priority) = ctx.int_arg(stmt, 1..=255) {
                seen.priority = Some(priority);
            }
        }
        "state" => match ctx.one_arg(stmt) {
            Some("MASTER") => seen.state_master = true,
            Some("BACKUP") => seen.state_master = false,
            Some(other) => ctx.warn(
                &stmt.loc,
                format!("`state {other}`: expected MASTER or BACKUP: ignored"),
            ),
            None => {}
        },
        "version" => {
            if let Some(version) = ctx.int_arg(stmt, 2..=3).and_then(|v| u8::try_from(v).ok()) {
                seen.version = Some(version);
            }
        }
        "native_ipv6" => seen.version = Some(3),
        "advert_int" => {
            if let Some(arg) = ctx.one_arg(stmt) {
                match seconds_to_millis(arg) {
                    Some((millis, _)) => seen.advert = Some((millis, stmt.loc.clone())),
                    None => ctx.warn(
                        &stmt.loc,
                        format!("`advert_int {arg}`: expected seconds: not carried"),
                    ),
                }
            }
        }
        "nopreempt" => seen.nopreempt = true,
        "preempt" => seen.nopreempt = false,
        "preempt_delay" => {
            if let Some(delay) = ctx.seconds_arg(stmt) {
                table.set("preempt_delay", delay);
                seen.preempt_delay = Some(stmt.loc.clone());
            }
        }
        "accept" => seen.accept = Some((true, stmt.loc.clone())),
        "no_accept" => seen.accept = Some((false, stmt.loc.clone())),
        "authentication" => authentication(stmt, table, ctx),
        _ => return false,
    }
    true
}

/// Addresses, unicast, vmac, GARP, trackers and notify.
fn other_key(stmt: &Stmt, table: &mut Table, _seen: &mut Seen, ctx: &mut Ctx) {
    match stmt.keyword() {
        "virtual_ipaddress" => addresses::vips(stmt, table, "vips", ctx),
        "virtual_ipaddress_excluded" => addresses::vips(stmt, table, "excluded_vips", ctx),
        "virtual_routes" => addresses::routes(stmt, table, ctx),
        "virtual_rules" => addresses::rules(stmt, table, ctx),
        "unicast_src_ip" => {
            if let Some(source) = ctx.one_arg(stmt) {
                table.set("unicast_source", Value::str(source));
            }
        }
        "unicast_peer" => addresses::unicast_peers(stmt, table, ctx),
        "use_vmac" => {
            table.set("vmac", Value::Bool(true));
            match stmt.args() {
                [] => {}
                [name, ..] => table.set("vmac_name", Value::str(name)),
            }
        }
        "garp_master_repeat" => {
            if let Some(n) = ctx.int_arg(stmt, 1..=255) {
                table.set("garp_repeat", Value::Int(n));
            }
        }
        "garp_master_delay" => set_seconds(stmt, table, "garp_delay", ctx),
        "garp_master_refresh" => set_seconds(stmt, table, "garp_refresh", ctx),
        "garp_interval" | "gna_interval" => set_seconds(stmt, table, "garp_interval", ctx),
        "track_script" | "track_file" | "track_process" | "track_interface" => {
            trackers::references(stmt, table, ctx)
        }
        "notify" | "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" => {
            trackers::notify(stmt, table, ctx)
        }
        "vmac_xmit_base" => ctx.warn(&stmt.loc, "`vmac_xmit_base`: keepvip sends unicast adverts from the interface (as this does) but multicast ones from the macvlan: not carried for multicast"),
        _ => ctx.not_carried(stmt, CONTEXT),
    }
}

fn set_seconds(stmt: &Stmt, table: &mut Table, key: &str, ctx: &mut Ctx) {
    if let Some(value) = ctx.seconds_arg(stmt) {
        table.set(key, value);
    }
}

/// `authentication { auth_type PASS auth_pass SECRET }`; AH is not supported.
fn authentication(block: &Stmt, table: &mut Table, ctx: &mut Ctx) {
    let mut pass_type = true;
    for stmt in block.block.iter().flatten() {
        match (stmt.keyword(), stmt.args()) {
            ("auth_type", [kind]) if kind == "PASS" => {}
            ("auth_type", _) => {
                pass_type = false;
                ctx.warn(&stmt.loc, format!("`{}`: only PASS authentication is supported (IPsec AH is not): the instance runs without authentication", stmt.words.join(" ")));
            }
            ("auth_pass", [secret]) => {
                // keepalived sends the first 8 characters of a longer password.
                let secret: String = secret.chars().take(8).collect();
                if secret.len() < stmt.args()[0].len() {
                    ctx.warn(&stmt.loc, "`auth_pass` longer than 8 characters: keepalived uses the first 8, written here");
                }
                table.set("auth_pass", Value::Str(secret));
            }
            _ => ctx.not_carried(stmt, "authentication"),
        }
    }
    if !pass_type {
        table.remove("auth_pass");
    }
}

/// Applies keepalived's defaults and the rules between keys, then orders the keys.
fn finish(table: &mut Table, seen: Seen, block: &Stmt, ctx: &mut Ctx) {
    let ipv6 = addresses::is_ipv6_instance(table);
    let mut version = seen.version.or(ctx.defaults.version).unwrap_or(2);
    if version == 2 && ipv6 {
        ctx.warn(
            &block.loc,
            "VRRPv2 is IPv4 only: this IPv6 instance speaks VRRPv3, as keepalived does",
        );
        version = 3;
    }
    table.set("version", Value::Int(i64::from(version)));
    let priority = match seen.priority {
        Some(p) => p,
        None if seen.state_master => {
            table.comments.push("priority 255: keepalived makes a `state MASTER` instance without a priority the address owner".to_owned());
            255
        }
        None => 100,
    };
    table.set("priority", Value::Int(priority));
    if version == 3 && table.get("auth_pass").is_some() {
        ctx.warn(&block.loc, "authentication needs VRRPv2: `auth_pass` dropped (keepalived ignores it with version 3)");
        table.remove("auth_pass");
    }
    if let Some((millis, loc)) = seen.advert {
        table.set(
            "advert_interval",
            Value::Str(advert_interval(millis, version, &loc, ctx)),
        );
    }
    if seen.nopreempt && priority == 255 {
        ctx.warn(&block.loc, "`nopreempt` on an address owner (priority 255): keepalived resets it (\"nopreempt is incompatible with priority 255\"), so the owner preempts");
    } else if seen.nopreempt {
        table.set("preempt", Value::Bool(false));
    }
    if let Some(loc) = seen
        .preempt_delay
        .filter(|_| seen.nopreempt || ctx.defaults.strict)
    {
        ctx.warn(&loc, "`preempt_delay` with `nopreempt` or `vrrp_strict`: keepalived resets it to 0, so it is dropped");
        table.remove("preempt_delay");
    }
    accept_mode(table, seen.accept, version, priority, ctx);
    vmac_rules(table, priority, &block.loc, ctx);
    let position = |key: &str| {
        KEY_ORDER
            .iter()
            .position(|k| *k == key)
            .unwrap_or(usize::MAX)
    };
    table.entries.sort_by_key(|(key, _)| position(key));
}

/// keepalived's advert_int: VRRPv2 whole seconds, VRRPv3 centiseconds.
fn advert_interval(millis: u64, version: u8, loc: &Loc, ctx: &mut Ctx) -> String {
    let fitted = if version == 2 {
        (millis.div_ceil(1000) * 1000).clamp(1000, 255_000)
    } else {
        (millis.div_ceil(10) * 10).clamp(10, 40_950)
    };
    if fitted != millis {
        let unit = if version == 2 {
            "whole seconds 1..=255 (VRRPv2)"
        } else {
            "10 ms steps, 10ms..=40.95s (VRRPv3)"
        };
        ctx.warn(
            loc,
            format!(
                "`advert_int` {}: the interval is carried in {unit}: written as {}",
                duration_text(millis),
                duration_text(fitted)
            ),
        );
    }
    duration_text(fitted)
}

/// keepalived: accept unless `vrrp_strict`, always for an owner, never for a strict VRRPv2 instance.
fn accept_mode(
    table: &mut Table,
    said: Option<(bool, Loc)>,
    version: u8,
    priority: i64,
    ctx: &mut Ctx,
) {
    let strict = ctx.defaults.strict;
    let accept = match said {
        Some((true, loc)) if strict && version == 2 && priority != 255 => {
            ctx.warn(&loc, "`accept` under `vrrp_strict` with VRRPv2: keepalived turns it off, so accept = false");
            false
        }
        Some((accept, _)) => accept,
        None => priority == 255 || !strict,
    };
    if !accept {
        table.set("accept", Value::Bool(false));
    }
}

/// keepvip's macvlan takes the VIPs, so a label (which must name the interface) cannot come along;
/// and an owner's VIP is its own interface address, so it gets no macvlan.
fn vmac_rules(table: &mut Table, priority: i64, loc: &Loc, ctx: &mut Ctx) {
    if table.get("vmac").is_none() {
        return;
    }
    if priority == 255 {
        ctx.warn(loc, "`use_vmac` on an address owner (priority 255): keepvip gives an owner no virtual MAC, vmac not carried");
        table.remove("vmac");
        table.remove("vmac_name");
        return;
    }
    let mut dropped = false;
    for key in ["vips", "excluded_vips"] {
        let Some(Value::Array(items)) = table.get(key).cloned() else {
            continue;
        };
        let items = items
            .into_iter()
            .map(|item| addresses::without_label(item, &mut dropped))
            .collect();
        table.set(key, Value::Array(items));
    }
    if dropped {
        ctx.warn(loc, "VIP labels with `use_vmac`: keepvip puts the VIPs on the macvlan, which a label cannot name: labels not carried");
    }
}
