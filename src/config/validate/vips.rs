//! Virtual addresses: parsing, one family per advertised list, and the IPv6 link-local-first rule.

use std::net::IpAddr;
use std::ops::Range;

use toml::Spanned;

use crate::config::diagnostic::Sink;
use crate::config::names::check_label;
use crate::config::raw::{RawVip, RawVipTable};
use crate::config::types::{Family, Scope, Vip, virtual_link_local};

const ADDRESS_EXPECTED: &str = "an IP address with an optional prefix length, such as \"192.0.2.10/24\" or \"2001:db8::10/64\"";

/// A parsed VIP and where it was written (for later messages about it).
pub(crate) struct SpannedVip {
    pub vip: Vip,
    pub span: Range<usize>,
}

/// Parses every entry of a `vips` / `excluded_vips` list, reporting each bad one.
pub(crate) fn parse_list(
    sink: &mut Sink<'_>,
    key: &str,
    list: &[Spanned<RawVip>],
    interface: Option<&str>,
) -> Vec<SpannedVip> {
    list.iter()
        .filter_map(|entry| {
            let vip = parse_one(sink, key, entry, interface)?;
            Some(SpannedVip {
                vip,
                span: entry.span(),
            })
        })
        .collect()
}

fn parse_one(
    sink: &mut Sink<'_>,
    key: &str,
    entry: &Spanned<RawVip>,
    interface: Option<&str>,
) -> Option<Vip> {
    match entry.get_ref() {
        RawVip::Text(text) => parse_address(sink, key, text, &entry.span()),
        RawVip::Table(table) => parse_table(sink, table, &entry.span(), interface),
    }
}

fn parse_table(
    sink: &mut Sink<'_>,
    table: &RawVipTable,
    span: &Range<usize>,
    interface: Option<&str>,
) -> Option<Vip> {
    let Some(address) = &table.address else {
        sink.error(
            span,
            "VIP table without `address`: expected e.g. { address = \"192.0.2.10/24\" }",
        );
        return None;
    };
    let parsed = parse_address(sink, "address", address.get_ref(), &address.span());
    let scope = match &table.scope {
        None => None,
        Some(scope) => Some(parse_scope(sink, scope)?),
    };
    let mut vip = parsed?;
    if let Some(scope) = scope {
        vip.scope = scope;
    }
    if let Some(label) = &table.label {
        if vip.addr.is_ipv6() {
            sink.expected(
                "label",
                &label.span(),
                "no label on an IPv6 address (the kernel keeps labels for IPv4 only)",
            );
            return None;
        }
        // A bad interface name is reported on its own key; only check the label against a good one.
        let interface = interface?;
        if let Err(expected) = check_label(label.get_ref(), interface) {
            sink.expected("label", &label.span(), expected);
            return None;
        }
        vip.label = Some(label.get_ref().clone());
    }
    Some(vip)
}

fn parse_scope(sink: &mut Sink<'_>, scope: &Spanned<String>) -> Option<Scope> {
    match scope.get_ref().as_str() {
        "global" => Some(Scope::Global),
        "site" => Some(Scope::Site),
        "link" => Some(Scope::Link),
        "host" => Some(Scope::Host),
        _ => {
            sink.expected(
                "scope",
                &scope.span(),
                "\"global\", \"site\", \"link\" or \"host\"",
            );
            None
        }
    }
}

/// `ADDR` or `ADDR/PREFIX`. Default prefix: the full length. Default scope: link for IPv6 link-local
/// (what the kernel gives fe80::/10 anyway), global otherwise.
fn parse_address(sink: &mut Sink<'_>, key: &str, text: &str, span: &Range<usize>) -> Option<Vip> {
    let (addr_text, prefix_text) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let Ok(addr) = addr_text.parse::<IpAddr>() else {
        sink.expected(key, span, ADDRESS_EXPECTED);
        return None;
    };
    let max_prefix: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix_text {
        None => max_prefix,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if (1..=max_prefix).contains(&n) && !p.starts_with('+') => n,
            _ => {
                sink.expected(
                    key,
                    span,
                    format!("a prefix length 1..={max_prefix} after the '/'"),
                );
                return None;
            }
        },
    };
    if addr.is_unspecified() || addr.is_multicast() || addr == IpAddr::from([255, 255, 255, 255]) {
        sink.expected(
            key,
            span,
            "a unicast address (not unspecified, multicast or broadcast)",
        );
        return None;
    }
    let scope = if is_ipv6_link_local(&addr) {
        Scope::Link
    } else {
        Scope::Global
    };
    Some(Vip {
        addr,
        prefix,
        label: None,
        scope,
    })
}

fn is_ipv6_link_local(addr: &IpAddr) -> bool {
    matches!(addr, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80)
}

/// The advertised list must be one family, the first VIP's: reports every VIP of the other family and
/// drops it.
pub(crate) fn one_family(sink: &mut Sink<'_>, vips: Vec<SpannedVip>) -> Vec<SpannedVip> {
    let Some(first) = vips.first() else {
        return vips;
    };
    let family = Family::of(&first.vip.addr);
    let first_text = sink.source(&first.span);
    let mut kept = Vec::with_capacity(vips.len());
    let mut offending = Vec::new();
    for v in vips {
        if Family::of(&v.vip.addr) == family {
            kept.push(v);
        } else {
            offending.push(v.span);
        }
    }
    for span in offending {
        sink.expected(
            "vips",
            &span,
            format!("an {family} address like the first VIP {first_text}: one family per instance (put the other family in its own [[instance]], or in excluded_vips)"),
        );
    }
    kept
}

/// RFC 9568 §5.2.9: "For IPv6, the first address MUST be the IPv6 link-local address associated with the
/// Virtual Router." A listed link-local VIP is moved to the front (a note says so). None is added
/// when none is listed: keepalived and FRR advertise exactly their configured list and discard adverts
/// whose count differs, so an added address would split a mixed pair (README, Interop). A note says
/// how to follow the RFC instead. IPv4 lists are left alone.
pub(crate) fn put_link_local_first(
    sink: &mut Sink<'_>,
    vips: &mut Vec<Vip>,
    vrid: u8,
    list_span: &Range<usize>,
) {
    if !matches!(vips.first(), Some(v) if v.addr.is_ipv6()) {
        return;
    }
    match vips.iter().position(|v| is_ipv6_link_local(&v.addr)) {
        Some(0) => {}
        Some(i) => {
            let ll = vips.remove(i);
            sink.note(
                list_span,
                format!(
                    "{} goes first in advertisements: RFC 5798 wants the link-local VIP first",
                    ll.addr
                ),
            );
            vips.insert(0, ll);
        }
        None => {
            let ll = virtual_link_local(vrid);
            sink.note(list_span, format!("no link-local VIP: adverts carry the listed VIPs only, as keepalived and FRR send theirs; to put one first as RFC 9568 5.2.9 asks, list {ll}/64 (derived from VRID {vrid}) on every node of the virtual router"));
        }
    }
}
