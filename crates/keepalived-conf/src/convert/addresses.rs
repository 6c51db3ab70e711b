//! `virtual_ipaddress`, `virtual_ipaddress_excluded`, `virtual_routes`, `virtual_rules` and
//! `unicast_peer`: one address, route or rule per line, its options after it.

use std::net::IpAddr;

use super::Ctx;
use crate::Loc;
use crate::model::{Table, Value};
use crate::tree::Stmt;

/// The instance's family is that of its first VIP, as in keepalived.
pub fn is_ipv6_instance(table: &Table) -> bool {
    match table.get("vips") {
        Some(Value::Array(items)) => items.first().is_some_and(|v| address_of(v).contains(':')),
        _ => false,
    }
}

fn address_of(value: &Value) -> &str {
    match value {
        Value::Str(s) => s,
        Value::Inline(entries) => entries
            .iter()
            .find(|(k, _)| k == "address")
            .and_then(|(_, v)| match v {
                Value::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .unwrap_or(""),
        _ => "",
    }
}

/// VIP options without a value.
const VIP_FLAGS: &[&str] = &["no_track", "home", "nodad", "noprefixroute", "autojoin"];

/// `ADDRESS[/LEN] [dev IF] [label L] [scope S] [brd B] ...` per line.
pub fn vips(block: &Stmt, table: &mut Table, key: &str, ctx: &mut Ctx) {
    // An instance without `interface` gets the default one (see instance::complete).
    let interface = match table.get("interface") {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => Some(
            ctx.defaults
                .interface
                .clone()
                .unwrap_or_else(|| "eth0".to_owned()),
        ),
    };
    for line in block.block.iter().flatten() {
        let Some(vip) = vip(line, interface.as_deref(), ctx) else {
            continue;
        };
        let mut key = key;
        let family_differs = is_ipv6_instance(table) != address_of(&vip).contains(':');
        if key == "vips" && table.get("vips").is_some() && family_differs {
            ctx.warn(&line.loc, format!("`{}` is not of the family of the first VIP: moved to excluded_vips (keepvip advertises one family per instance)", address_of(&vip)));
            key = "excluded_vips";
        }
        table.push(key, vip);
    }
}

fn vip(line: &Stmt, interface: Option<&str>, ctx: &mut Ctx) -> Option<Value> {
    let (written, options) = line.words.split_first()?;
    let address = &match vip_address(written) {
        Ok(address) => address,
        Err(problem) => {
            ctx.warn(&line.loc, format!("`{written}`: {problem}: address not carried (keepalived logs \"VRRP parsed invalid IP\" and skips it too)"));
            return None;
        }
    };
    if address != written {
        ctx.warn(&line.loc, format!("`{written}`: the prefix length is not one the family allows: keepalived uses `{address}` (\"Invalid address prefix len\"), written here"));
    }
    let mut entries = vec![("address".to_owned(), Value::str(address))];
    let mut rest = options.iter();
    while let Some(option) = rest.next() {
        let option = option.as_str();
        if VIP_FLAGS.contains(&option) {
            ctx.warn(
                &line.loc,
                format!("`{address}`: `{option}` is not supported by keepvip: not carried"),
            );
            continue;
        }
        let Some(value) = rest.next() else {
            ctx.warn(
                &line.loc,
                format!("`{address}`: `{option}` without a value: not carried"),
            );
            break;
        };
        match option {
            "dev" if Some(value.as_str()) != interface => {
                // Moving it to the instance's interface could break routing: leave it out.
                ctx.warn(&line.loc, format!("`{address} dev {value}`: keepvip puts VIPs on the instance's interface only: address not carried"));
                return None;
            }
            "dev" => {}
            "label" if !address.contains(':') => {
                set_vip_option(&mut entries, "label", value, address, &line.loc, ctx);
            }
            "scope" if ["global", "site", "link", "host"].contains(&value.as_str()) => {
                set_vip_option(&mut entries, "scope", value, address, &line.loc, ctx);
            }
            _ => ctx.warn(
                &line.loc,
                format!("`{address}`: `{option} {value}` is not supported by keepvip: not carried"),
            ),
        }
    }
    Some(if entries.len() == 1 {
        Value::str(address)
    } else {
        Value::Inline(entries)
    })
}

/// Sets a VIP's `key`. Given twice on one line, the last one counts, as in keepalived (each
/// overwrites the one before); TOML refuses a key twice in a table (found by the keepalived_import
/// fuzz target), so the earlier one is dropped, with a warning.
fn set_vip_option(
    entries: &mut Vec<(String, Value)>,
    key: &str,
    value: &str,
    address: &str,
    loc: &Loc,
    ctx: &mut Ctx,
) {
    if given_twice(entries, key) {
        ctx.warn(
            loc,
            format!("`{address}`: `{key}` is given twice: the last one, `{value}`, is carried"),
        );
        entries.retain(|(k, _)| k != key);
    }
    entries.push((key.to_owned(), Value::str(value)));
}

/// `ADDRESS[/LENGTH]` as keepalived reads a VIP: the text to carry (a length that is not a number
/// within the family's becomes the full length, as keepalived makes it), or why it skips the address.
fn vip_address(text: &str) -> Result<String, String> {
    let (address, length) = match text.split_once('/') {
        Some((address, length)) => (address, Some(length)),
        None => (text, None),
    };
    if let Some((first, last)) = address.split_once('-') {
        return Err(range_problem(first, last));
    }
    let Ok(ip) = address.parse::<IpAddr>() else {
        return Err("not an IPv4 or IPv6 address".to_owned());
    };
    let max = if ip.is_ipv6() { 128 } else { 32 };
    match length.map(str::parse::<u8>) {
        Some(Ok(n)) if n <= max => Ok(text.to_owned()),
        Some(_) => Ok(format!("{address}/{max}")),
        None => Ok(text.to_owned()),
    }
}

/// keepalived takes address ranges (`192.0.2.10-20`, the last IPv4 octet in decimal; `2001:db8::a-1f`,
/// the last IPv6 group in hex) in `virtual_server_group` only; `virtual_ipaddress` reads them as
/// invalid addresses (keepalived 2.2.7, and its current source).
fn range_problem(first: &str, last: &str) -> String {
    let count = match first.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => last
            .parse::<u8>()
            .ok()
            .map(|end| i32::from(end) - i32::from(v4.octets()[3]) + 1),
        Ok(IpAddr::V6(v6)) => u16::from_str_radix(last, 16)
            .ok()
            .map(|end| i32::from(end) - i32::from(v6.segments()[7]) + 1),
        Err(_) => None,
    };
    let list = match count {
        Some(n) if n > 0 => format!("write its {n} addresses one per line to have them"),
        _ => "list the addresses one per line".to_owned(),
    };
    format!(
        "an address range, which keepalived reads only in virtual_server_group, not as a VIP; {list}"
    )
}

/// Route and rule tables take a number; keepalived also reads the three names iproute2 reserves.
fn table_id(text: &str) -> Option<i64> {
    match text {
        "main" => Some(254),
        "local" => Some(255),
        "default" => Some(253),
        _ => text
            .parse()
            .ok()
            .filter(|n| (1..=4_294_967_295).contains(n)),
    }
}

/// `[src S] [to] DEST [via|gw G] [dev IF] [table T] [metric M]`, or `blackhole|unreachable|prohibit DEST`.
pub fn routes(block: &Stmt, table: &mut Table, ctx: &mut Ctx) {
    for line in block.block.iter().flatten() {
        if let Some(route) = route(&line.words, &line.loc, ctx) {
            table.push("routes", Value::Inline(route));
        }
    }
}

fn route(words: &[String], loc: &Loc, ctx: &mut Ctx) -> Option<Vec<(String, Value)>> {
    let text = words.join(" ");
    let mut to = None;
    let mut kind = None;
    let mut fields: Vec<(String, Value)> = Vec::new();
    let mut rest = words.iter();
    while let Some(word) = rest.next() {
        let word = word.as_str();
        match word {
            "to" => to = rest.next().cloned(),
            "blackhole" | "unreachable" | "prohibit" => kind = Some(word),
            "src" | "via" | "gw" | "dev" => {
                let key = if word == "gw" { "via" } else { word };
                if given_twice(&fields, key) {
                    ctx.warn(loc, format!("route `{text}`: `{word}` is given twice: route not carried"));
                    return None;
                }
                fields.push((key.to_owned(), Value::str(rest.next()?.as_str())));
            }
            "table" | "metric" | "preference" | "priority" => {
                let value = rest.next()?;
                let number = if word == "table" { table_id(value) } else { value.parse().ok() };
                let Some(number) = number else {
                    ctx.warn(loc, format!("route `{text}`: `{word} {value}` needs a number: route not carried"));
                    return None;
                };
                let key = if word == "table" { "table" } else { "metric" };
                if given_twice(&fields, key) {
                    ctx.warn(loc, format!("route `{text}`: `{word}` is given twice: route not carried"));
                    return None;
                }
                fields.push((key.to_owned(), Value::Int(number)));
            }
            "no_track" => ctx.warn(loc, format!("route `{text}`: `no_track` is not supported: keepvip always removes it when the instance leaves MASTER")),
            "scope" => {
                let scope = rest.next()?;
                ctx.warn(loc, format!("route `{text}`: `scope {scope}` is not carried: the kernel chooses the scope (link for a route without a gateway)"));
            }
            _ if to.is_none() && !word.is_empty() => to = Some(word.to_owned()),
            _ => {
                ctx.warn(loc, format!("route `{text}`: `{word}` is not supported by keepvip: route not carried"));
                return None;
            }
        }
    }
    let Some(to) = to else {
        ctx.warn(
            loc,
            format!("route `{text}` has no destination: not carried"),
        );
        return None;
    };
    let ipv6 = to.contains(':')
        || fields
            .iter()
            .any(|(_, v)| matches!(v, Value::Str(s) if s.contains(':')));
    let to = match to.as_str() {
        "default" | "any" | "all" if ipv6 => "::/0".to_owned(),
        "default" | "any" | "all" => "0.0.0.0/0".to_owned(),
        _ => to,
    };
    let mut route = vec![("to".to_owned(), Value::Str(to))];
    route.extend(fields);
    if let Some(kind) = kind {
        route.push(("type".to_owned(), Value::str(kind)));
    }
    Some(route)
}

/// `from PREFIX [to PREFIX] table T [preference P]`.
pub fn rules(block: &Stmt, table: &mut Table, ctx: &mut Ctx) {
    'lines: for line in block.block.iter().flatten() {
        let text = line.words.join(" ");
        let mut rule: Vec<(String, Value)> = Vec::new();
        let mut rest = line.words.iter();
        while let Some(word) = rest.next() {
            let value = rest.next();
            let entry = match (word.as_str(), value) {
                ("from" | "to", Some(prefix)) => Some((word.clone(), Value::str(prefix.as_str()))),
                ("table" | "lookup", Some(t)) => {
                    table_id(t).map(|t| ("table".to_owned(), Value::Int(t)))
                }
                ("preference" | "priority" | "prio", Some(p)) => p
                    .parse()
                    .ok()
                    .map(|p| ("priority".to_owned(), Value::Int(p))),
                _ => None,
            };
            match entry {
                // TOML refuses a key twice in a table (found by the keepalived_import fuzz target).
                Some((key, _)) if given_twice(&rule, &key) => {
                    ctx.warn(
                        &line.loc,
                        format!("rule `{text}`: `{word}` is given twice: rule not carried"),
                    );
                    continue 'lines;
                }
                Some(entry) => rule.push(entry),
                None => {
                    ctx.warn(&line.loc, format!("rule `{text}`: `{word}` is not supported by keepvip (it takes from, to, table, preference): rule not carried"));
                    continue 'lines;
                }
            }
        }
        table.push("rules", Value::Inline(rule));
    }
}

/// Whether `key` is already among the `fields` of a route or rule being built.
fn given_twice(fields: &[(String, Value)], key: &str) -> bool {
    fields.iter().any(|(k, _)| k == key)
}

/// `unicast_peer { ADDRESS [min_ttl N] [max_ttl N] ... }`.
pub fn unicast_peers(block: &Stmt, table: &mut Table, ctx: &mut Ctx) {
    for line in block.block.iter().flatten() {
        let Some((address, options)) = line.words.split_first() else {
            continue;
        };
        if !options.is_empty() {
            ctx.warn(
                &line.loc,
                format!(
                    "unicast peer `{address}`: `{}` is not supported by keepvip: not carried",
                    options.join(" ")
                ),
            );
        }
        table.push("unicast_peers", Value::str(address));
    }
}

/// The VIP without its `label`; `dropped` is set if it had one.
pub fn without_label(vip: Value, dropped: &mut bool) -> Value {
    let Value::Inline(entries) = vip else {
        return vip;
    };
    let before = entries.len();
    let entries: Vec<(String, Value)> = entries.into_iter().filter(|(k, _)| k != "label").collect();
    *dropped |= entries.len() != before;
    match entries.as_slice() {
        [(_, address)] => address.clone(),
        _ => Value::Inline(entries),
    }
}
