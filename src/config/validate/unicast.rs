//! `unicast_peers` and `unicast_source` (keepalived's `unicast_peer { }` and `unicast_src_ip`): plain
//! addresses of the instance's family, none a VIP of the instance, each peer once.

use std::net::IpAddr;
use std::ops::Range;

use toml::Spanned;

use crate::config::diagnostic::Sink;
use crate::config::raw::RawInstance;
use crate::config::types::Family;

const PEER_EXPECTED: &str =
    "an IP address without a prefix length, such as \"192.0.2.2\" or \"fe80::2\"";

/// The checked peers and source; `None` when one of them was bad (and reported).
pub(crate) struct Unicast {
    pub peers: Vec<IpAddr>,
    pub source: Option<IpAddr>,
}

/// What the checks compare against: the instance's family and every VIP written, with its span.
pub(crate) struct Context<'a> {
    pub family: Option<Family>,
    pub vips: &'a [(IpAddr, Range<usize>)],
}

pub(crate) fn unicast(sink: &mut Sink<'_>, raw: &RawInstance, cx: &Context<'_>) -> Option<Unicast> {
    let peers = match &raw.unicast_peers {
        None => Some(Vec::new()),
        Some(list) => peers(sink, list, cx),
    };
    let source = match &raw.unicast_source {
        None => Some(None),
        Some(text) => source(sink, raw, text, cx).map(Some),
    };
    let (peers, source) = (peers?, source?);
    if let (Some(list), None) = (&raw.unicast_peers, source)
        && peers.iter().any(is_global_ipv6)
    {
        sink.error(
            &list.span(),
            "unicast_peers lists a global IPv6 address: set unicast_source to this node's global \
             address on the interface too (IPv6 adverts leave from the link-local address by \
             default, which such a peer does not list)",
        );
        return None;
    }
    Some(Unicast { peers, source })
}

fn peers(
    sink: &mut Sink<'_>,
    list: &Spanned<Vec<Spanned<String>>>,
    cx: &Context<'_>,
) -> Option<Vec<IpAddr>> {
    if list.get_ref().is_empty() {
        let what = "at least one peer address (leave unicast_peers out for multicast)";
        sink.expected("unicast_peers", &list.span(), what);
        return None;
    }
    let mut peers: Vec<(IpAddr, usize)> = Vec::new();
    let mut good = true;
    for entry in list.get_ref() {
        let Some(peer) = address(sink, "unicast_peers", entry, cx) else {
            good = false;
            continue;
        };
        if let Some((_, first)) = peers.iter().find(|(p, _)| *p == peer) {
            let line = sink.line_of(*first);
            let what = format!("each peer once ({peer} is already listed on line {line})");
            sink.expected("unicast_peers", &entry.span(), what);
            good = false;
            continue;
        }
        peers.push((peer, entry.span().start));
    }
    good.then(|| peers.into_iter().map(|(peer, _)| peer).collect())
}

fn source(
    sink: &mut Sink<'_>,
    raw: &RawInstance,
    text: &Spanned<String>,
    cx: &Context<'_>,
) -> Option<IpAddr> {
    let source = address(sink, "unicast_source", text, cx)?;
    let Some(peers) = &raw.unicast_peers else {
        let what = "unicast_peers beside it (the source is only for unicast adverts)";
        sink.expected("unicast_source", &text.span(), what);
        return None;
    };
    let is_peer = peers
        .get_ref()
        .iter()
        .any(|p| p.get_ref().parse::<IpAddr>() == Ok(source));
    if is_peer {
        let what = "an address of this node, not one of its unicast_peers";
        sink.expected("unicast_source", &text.span(), what);
        return None;
    }
    Some(source)
}

/// One address: parses, is unicast, of the instance's family, and not a VIP of the instance.
fn address(
    sink: &mut Sink<'_>,
    key: &str,
    text: &Spanned<String>,
    cx: &Context<'_>,
) -> Option<IpAddr> {
    let span = text.span();
    let Ok(addr) = text.get_ref().parse::<IpAddr>() else {
        sink.expected(key, &span, PEER_EXPECTED);
        return None;
    };
    if addr.is_unspecified() || addr.is_multicast() || addr == IpAddr::from([255, 255, 255, 255]) {
        let what = "a unicast address (not unspecified, multicast or broadcast)";
        sink.expected(key, &span, what);
        return None;
    }
    if let Some(family) = cx.family
        && Family::of(&addr) != family
    {
        let what = format!("an {family} address, the family of the instance's vips");
        sink.expected(key, &span, what);
        return None;
    }
    if let Some((_, at)) = cx.vips.iter().find(|(vip, _)| *vip == addr) {
        let line = sink.line_of(at.start);
        let what = format!(
            "a node's own address, not a VIP of this instance ({addr} is listed on line {line})"
        );
        sink.expected(key, &span, what);
        return None;
    }
    Some(addr)
}

fn is_link_local_v6(addr: &IpAddr) -> bool {
    matches!(addr, IpAddr::V6(v6) if v6.is_unicast_link_local())
}

fn is_global_ipv6(addr: &IpAddr) -> bool {
    addr.is_ipv6() && !is_link_local_v6(addr)
}
