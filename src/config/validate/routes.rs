//! An instance's `routes` and `rules` (keepalived's `virtual_routes` / `virtual_rules`): each entry
//! checked on its own, every error reported.

use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::Range;

use toml::Spanned;

use super::identity::Identity;
use super::values::int_in;
use crate::config::diagnostic::Sink;
use crate::config::names::check_interface_name;
use crate::config::raw::{Int, RawRoute, RawRule};
use crate::config::types::{Family, MAIN_TABLE, Prefix, RouteKind, VirtualRoute, VirtualRule};

const PREFIX_EXPECTED: &str = "an address with an optional prefix length, such as \"0.0.0.0/0\", \"198.51.100.0/24\" or \"2001:db8::/32\"";
const TABLE_EXPECTED: &str = "a routing table number 1..=4294967295 (254 is main; names from /etc/iproute2/rt_tables are not read)";

/// Every route of the list; `None` if any is bad (each reported).
pub(crate) fn routes(
    sink: &mut Sink<'_>,
    list: Option<&Spanned<Vec<Spanned<RawRoute>>>>,
) -> Option<Vec<VirtualRoute>> {
    let Some(list) = list else {
        return Some(Vec::new());
    };
    let parsed: Vec<Option<VirtualRoute>> = list
        .get_ref()
        .iter()
        .map(|entry| route(sink, entry.get_ref(), &entry.span()))
        .collect();
    let routes: Option<Vec<VirtualRoute>> = parsed.into_iter().collect();
    let routes = routes?;
    for (i, later) in routes.iter().enumerate() {
        let same = |r: &VirtualRoute| {
            r.to == later.to && r.table == later.table && r.metric == later.metric
        };
        if let Some(first) = routes[..i].iter().position(same) {
            let line = sink.line_of(list.get_ref()[first].span().start);
            let span = list.get_ref()[i].span();
            sink.error(
                &span,
                format!(
                    "route {later}: expected each destination once per table and metric (the kernel \
                     holds one; line {line} has it already)"
                ),
            );
            return None;
        }
    }
    Some(routes)
}

/// Every rule of the list; `None` if any is bad (each reported).
pub(crate) fn rules(
    sink: &mut Sink<'_>,
    list: Option<&Spanned<Vec<Spanned<RawRule>>>>,
) -> Option<Vec<VirtualRule>> {
    let Some(list) = list else {
        return Some(Vec::new());
    };
    let parsed: Vec<Option<VirtualRule>> = list
        .get_ref()
        .iter()
        .map(|entry| rule(sink, entry.get_ref(), &entry.span()))
        .collect();
    parsed.into_iter().collect()
}

fn route(sink: &mut Sink<'_>, raw: &RawRoute, span: &Range<usize>) -> Option<VirtualRoute> {
    let Some(to_value) = &raw.to else {
        sink.error(
            span,
            "route without `to`: expected the destination, e.g. { to = \"0.0.0.0/0\", via = \"203.0.113.1\" }",
        );
        return None;
    };
    let to = prefix(sink, "to", to_value);
    let family = to.map(|p| Family::of(&p.addr));
    let via = raw
        .via
        .as_ref()
        .map(|v| address(sink, "via", v, family))
        .transpose();
    let src = raw
        .src
        .as_ref()
        .map(|v| address(sink, "src", v, family))
        .transpose();
    let dev = raw.dev.as_ref().map(|d| {
        check_interface_name(d.get_ref())
            .map(|()| d.get_ref().clone())
            .map_err(|e| sink.expected("dev", &d.span(), e))
            .ok()
    });
    let table = table(sink, raw.table.as_ref(), Some(MAIN_TABLE));
    let metric = raw
        .metric
        .as_ref()
        .map(|m| u32_value(sink, "metric", m, 0))
        .transpose();
    let kind = kind(sink, raw, span);
    if let (Ok(Some(IpAddr::V6(gateway))), None, Some(value)) = (&via, &raw.dev, &raw.via)
        && gateway.segments()[0] & 0xffc0 == 0xfe80
    {
        sink.expected(
            "via",
            &value.span(),
            "a `dev` beside a link-local gateway: fe80::/10 is on every link",
        );
        return None;
    }
    Some(VirtualRoute {
        to: to?,
        via: via.ok()?,
        dev: dev.map_or(Some(None), |d| d.map(Some))?,
        table: table?,
        metric: metric.ok()?,
        src: src.ok()?,
        kind: kind?,
    })
}

/// `type`, and what each type allows: a unicast route needs somewhere to go, the others drop.
fn kind(sink: &mut Sink<'_>, raw: &RawRoute, span: &Range<usize>) -> Option<RouteKind> {
    let kind = match &raw.kind {
        None => RouteKind::Unicast,
        Some(value) => match value.get_ref().as_str() {
            "unicast" => RouteKind::Unicast,
            "blackhole" => RouteKind::Blackhole,
            "unreachable" => RouteKind::Unreachable,
            "prohibit" => RouteKind::Prohibit,
            _ => {
                let what =
                    "\"unicast\" (the default), \"blackhole\", \"unreachable\" or \"prohibit\"";
                sink.expected("type", &value.span(), what);
                return None;
            }
        },
    };
    if kind == RouteKind::Unicast {
        if raw.via.is_none() && raw.dev.is_none() {
            sink.error(
                span,
                "route without `via` or `dev`: expected a gateway (via = \"203.0.113.1\"), an interface \
                 (dev = \"eth1\"), or a type = \"blackhole\", \"unreachable\" or \"prohibit\"",
            );
            return None;
        }
        return Some(kind);
    }
    let forwarding = [("via", &raw.via), ("dev", &raw.dev), ("src", &raw.src)];
    let mut ok = true;
    for (key, value) in forwarding {
        if let Some(value) = value {
            let type_text = raw.kind.as_ref().map_or("", |k| k.get_ref().as_str());
            sink.expected(
                key,
                &value.span(),
                format!("no `{key}` on a {type_text} route: it forwards nothing"),
            );
            ok = false;
        }
    }
    ok.then_some(kind)
}

fn rule(sink: &mut Sink<'_>, raw: &RawRule, span: &Range<usize>) -> Option<VirtualRule> {
    let from = raw.from.as_ref().map(|v| prefix(sink, "from", v));
    let to = raw.to.as_ref().map(|v| prefix(sink, "to", v));
    if from.is_none() && to.is_none() {
        sink.error(
            span,
            "rule without `from` or `to`: expected what it matches, e.g. { from = \"198.51.100.0/24\", table = 100 }",
        );
        return None;
    }
    let Some(table_value) = &raw.table else {
        sink.error(
            span,
            "rule without `table`: expected the table it sends matching packets to, e.g. table = 100",
        );
        return None;
    };
    let table = table(sink, Some(table_value), None);
    let priority = raw
        .priority
        .as_ref()
        .map(|p| u32_value(sink, "priority", p, 0))
        .transpose();
    let from = from.map_or(Some(None), |p| p.map(Some))?;
    let to = to.map_or(Some(None), |p| p.map(Some))?;
    if let (Some(from_prefix), Some(to_prefix), Some(to_value)) = (from, to, &raw.to)
        && Family::of(&from_prefix.addr) != Family::of(&to_prefix.addr)
    {
        let family = Family::of(&from_prefix.addr);
        sink.expected(
            "to",
            &to_value.span(),
            format!("an {family} prefix like `from`: a rule is of one family"),
        );
        return None;
    }
    Some(VirtualRule {
        from,
        to,
        table: table?,
        priority: priority.ok()?,
    })
}

/// `ADDRESS` (a host prefix) or `ADDRESS/LENGTH`, 0 allowed; no bits set past the length.
fn prefix(sink: &mut Sink<'_>, key: &str, value: &Spanned<String>) -> Option<Prefix> {
    let text = value.get_ref();
    let (address_text, length_text) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text.as_str(), None),
    };
    let Ok(addr) = address_text.parse::<IpAddr>() else {
        sink.expected(key, &value.span(), PREFIX_EXPECTED);
        return None;
    };
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let len = match length_text {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max && !l.starts_with('+') => n,
            _ => {
                let what = format!("a prefix length 0..={max} after the '/'");
                sink.expected(key, &value.span(), what);
                return None;
            }
        },
    };
    let network = network_of(addr, len);
    if network != addr {
        sink.expected(
            key,
            &value.span(),
            format!("a network address: {addr} has bits set past /{len} (write {network}/{len})"),
        );
        return None;
    }
    Some(Prefix { addr, len })
}

fn network_of(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::from((u32::from(a) & mask).to_be_bytes())
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::from((u128::from(a) & mask).to_be_bytes())
        }
    }
}

/// A unicast address of `family` (the route's, when known).
fn address(
    sink: &mut Sink<'_>,
    key: &str,
    value: &Spanned<String>,
    family: Option<Family>,
) -> Result<IpAddr, ()> {
    let Ok(addr) = value.get_ref().parse::<IpAddr>() else {
        sink.expected(key, &value.span(), "an IP address without a prefix length");
        return Err(());
    };
    if addr.is_unspecified() || addr.is_multicast() {
        sink.expected(key, &value.span(), "a unicast address");
        return Err(());
    }
    match family {
        Some(family) if Family::of(&addr) != family => {
            sink.expected(
                key,
                &value.span(),
                format!("an {family} address like `to`: a route is of one family"),
            );
            Err(())
        }
        _ => Ok(addr),
    }
}

/// A table number, or `default` when absent (`None`: required, checked by the caller).
fn table(sink: &mut Sink<'_>, value: Option<&Spanned<Int>>, default: Option<u32>) -> Option<u32> {
    let Some(value) = value else {
        return default;
    };
    match u32::try_from(value.get_ref().0) {
        Ok(n) if n > 0 => Some(n),
        _ => {
            sink.expected("table", &value.span(), TABLE_EXPECTED);
            None
        }
    }
}

fn u32_value(sink: &mut Sink<'_>, key: &str, value: &Spanned<Int>, min: u32) -> Result<u32, ()> {
    int_in(sink, key, value, i64::from(min)..=i64::from(u32::MAX))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(())
}

/// A route (same destination, table and metric) or a rule in two instances: the kernel holds one, and
/// the first instance to leave master would remove it from under the other (removal goes by keepvip's
/// marker, which both share).
pub(crate) fn shared_across_instances(sink: &mut Sink<'_>, identities: &[Identity]) {
    let mut routes: HashMap<(Prefix, u32, Option<u32>), (&str, usize)> = HashMap::new();
    let mut rules: HashMap<&VirtualRule, (&str, usize)> = HashMap::new();
    for id in identities {
        let name = id.name.as_ref().map_or("?", |(n, _)| n.as_str());
        for (route, span) in &id.routes {
            let key = (route.to, route.table, route.metric);
            match routes.get(&key) {
                Some(&(other, first)) if other != name => {
                    let line = sink.line_of(first);
                    let message = format!(
                        "route {route}: expected a route of this instance only (instance \"{other}\" on \
                         line {line} has this destination, table and metric; the kernel holds one)"
                    );
                    sink.error(span, message);
                }
                Some(_) => {}
                None => {
                    routes.insert(key, (name, span.start));
                }
            }
        }
        for (rule, span) in &id.rules {
            match rules.get(rule) {
                Some(&(other, first)) if other != name => {
                    let line = sink.line_of(first);
                    let message = format!(
                        "rule {rule}: expected a rule of this instance only (instance \"{other}\" on \
                         line {line} has it; the kernel holds one)"
                    );
                    sink.error(span, message);
                }
                Some(_) => {}
                None => {
                    rules.insert(rule, (name, span.start));
                }
            }
        }
    }
}
