//! One `[[instance]]`: every key checked on its own, then the rules that tie keys together
//! (version vs family, interval vs version, auth vs version).

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use vrrp_wire::{Auth, Centisecs, ChecksumMode, Version};

use super::identity::Identity;
use super::unicast::{self, Context, Unicast};
use super::values::{self, millis_in, u8_or};
use super::vips::{self, SpannedVip};
use super::{GarpKeys, garp_overrides};
use super::{interop, notify, routes, track, vmac};
use crate::config::diagnostic::Sink;
use crate::config::names::{check_instance_name, check_interface_name};
use crate::config::raw::{DurationText, RawInstance};
use crate::config::types::{
    Family, GarpTiming, Global, Instance, Notify, TrackerKind, TrackerRef, Trackers, VirtualRoute,
    VirtualRule,
};

/// Checks one instance, reporting every error. The instance is `None` when it has errors.
pub(crate) fn validate(
    sink: &mut Sink<'_>,
    global: &Global,
    trackers: &(Trackers, track::Declared),
    raw: &Spanned<RawInstance>,
) -> (Option<Instance>, Identity) {
    let header = raw.span();
    let raw = raw.get_ref();
    report_missing_keys(sink, &header, raw);
    let (name, interface) = names(sink, raw);
    let settings = settings(sink, global, raw);
    let vips = vip_lists(sink, raw, interface.as_deref(), &header);
    let version = version_for_family(sink, raw, settings.version, vips.family);
    let advert_interval =
        version.and_then(|v| advert_interval(sink, v, raw.advert_interval.as_ref()));
    let checksum_mode = checksum_mode(sink, global, raw, version, vips.family);
    let auth = version.and_then(|v| auth(sink, v, raw.auth_pass.as_ref()));
    let v2_interop = interop::v2_interop(sink, raw, version, vips.family, advert_interval);
    let addresses = check_duplicates(sink, &vips.advertised, &vips.excluded);
    let unicast = unicast::unicast(
        sink,
        raw,
        &Context {
            family: vips.family,
            vips: &addresses,
        },
    );
    let tracking = tracking(sink, raw, trackers, settings.priority);
    let notify = notify::instance_notify(sink, raw);
    let routes = routes::routes(sink, raw.routes.as_ref());
    let rules = routes::rules(sink, raw.rules.as_ref());
    let vmac_context = vmac::Context {
        interface: interface.as_deref(),
        vrid: settings.vrid,
        family: vips.family,
        priority: settings.priority,
        vips: &vips.advertised,
        excluded: &vips.excluded,
    };
    let (vmac, vmac_name) = vmac::vmac(sink, raw, &vmac_context);

    let identity = Identity {
        name: name.clone().map(|n| (n, span_of(&raw.name))),
        interface: interface.clone().map(|i| (i, span_of(&raw.interface))),
        vrid: settings
            .vrid
            .zip(vips.family)
            .map(|(v, f)| (v, span_of(&raw.vrid), f)),
        addresses,
        routes: with_spans(routes.as_deref(), raw.routes.as_ref()),
        rules: with_spans(rules.as_deref(), raw.rules.as_ref()),
        vmac_name,
    };
    let instance = build(
        sink,
        Parts {
            name,
            interface,
            vrid: settings.vrid,
            version,
            priority: settings.priority,
            advert_interval,
            preempt: settings.preempt,
            preempt_delay: settings.preempt_delay,
            accept: settings.accept,
            checksum_mode,
            auth,
            v2_interop,
            garp: settings.garp,
            trackers: tracking,
            notify,
            routes,
            rules,
            vmac,
            unicast,
        },
        vips.advertised,
        vips.excluded,
        &vips.span,
    );
    (instance, identity)
}

/// The required keys, each reported at the `[[instance]]` header when absent.
fn report_missing_keys(sink: &mut Sink<'_>, header: &Range<usize>, raw: &RawInstance) {
    let mut missing = |key: &str, what: &str| {
        sink.error(
            header,
            format!("[[instance]] without `{key}`: expected {what}"),
        );
    };
    if raw.name.is_none() {
        missing("name", "a name such as \"VI_1\"");
    }
    if raw.interface.is_none() {
        missing("interface", "the interface name such as \"eth0\"");
    }
    if raw.vrid.is_none() {
        missing("vrid", "an integer 1..=255");
    }
    if raw.vips.is_none() {
        missing(
            "vips",
            "a list of virtual addresses such as [\"192.0.2.10/24\"]",
        );
    }
}

/// The instance name and the interface name, each `None` when absent or malformed.
fn names(sink: &mut Sink<'_>, raw: &RawInstance) -> (Option<String>, Option<String>) {
    let name = raw.name.as_ref().and_then(|n| {
        check_instance_name(n.get_ref())
            .map_err(|e| sink.expected("name", &n.span(), e))
            .ok()
            .map(|()| n.get_ref().clone())
    });
    let interface = raw.interface.as_ref().and_then(|i| {
        check_interface_name(i.get_ref())
            .map_err(|e| sink.expected("interface", &i.span(), e))
            .ok()
            .map(|()| i.get_ref().clone())
    });
    (name, interface)
}

/// The keys that stand on their own; `None` where a value was bad (and already reported).
struct Settings {
    vrid: Option<u8>,
    /// Before the check against the VIPs' family (`version_for_family`).
    version: Option<Version>,
    priority: Option<u8>,
    preempt: bool,
    accept: bool,
    preempt_delay: Option<Duration>,
    garp: Option<GarpTiming>,
}

/// The address owner's priority (RFC 5798 §5.2.4).
const OWNER_PRIORITY: u8 = 255;

/// Checks the keys that need no other key to be judged.
fn settings(sink: &mut Sink<'_>, global: &Global, raw: &RawInstance) -> Settings {
    let vrid = raw
        .vrid
        .as_ref()
        .and_then(|v| u8_or(sink, "vrid", Some(v), 1..=255, 0));
    let version = version(sink, raw);
    let priority = u8_or(sink, "priority", raw.priority.as_ref(), 1..=255, 100);
    let preempt = raw.preempt.as_ref().is_none_or(|p| *p.get_ref());
    let accept = raw.accept.as_ref().is_none_or(|a| *a.get_ref());
    if let Some(value) = raw.accept.as_ref().filter(|a| !*a.get_ref())
        && priority == Some(OWNER_PRIORITY)
    {
        sink.warning(
            &value.span(),
            "accept = false has no effect on the address owner (priority 255): it always accepts \
             traffic to its own addresses (RFC 5798 §6.4.3)",
        );
    }
    let preempt_delay = match &raw.preempt_delay {
        None => Some(Duration::ZERO),
        Some(d) => millis_in(sink, "preempt_delay", d, 0, 1_000_000).map(Duration::from_millis),
    };
    let garp = garp_overrides(sink, &global.garp, &garp_keys(raw));
    Settings {
        vrid,
        version,
        priority,
        preempt,
        accept,
        preempt_delay,
        garp,
    }
}

/// The parsed `vips` and `excluded_vips`, and the instance's family.
struct VipLists {
    advertised: Vec<SpannedVip>,
    /// Where `vips` is written (the `[[instance]]` header when it is missing).
    span: Range<usize>,
    excluded: Vec<SpannedVip>,
    /// The family of the first good advertised VIP, `None` when there is none.
    family: Option<Family>,
}

/// Advertised VIPs: one family, which decides the instance's family.
fn vip_lists(
    sink: &mut Sink<'_>,
    raw: &RawInstance,
    interface: Option<&str>,
    header: &Range<usize>,
) -> VipLists {
    let (advertised, span) = match &raw.vips {
        Some(list) => {
            let parsed = vips::parse_list(sink, "vips", list.get_ref(), interface);
            if list.get_ref().is_empty() {
                sink.expected("vips", &list.span(), "at least one virtual address");
            }
            (vips::one_family(sink, parsed), list.span())
        }
        None => (Vec::new(), header.clone()),
    };
    let excluded = match &raw.excluded_vips {
        Some(list) => vips::parse_list(sink, "excluded_vips", list.get_ref(), interface),
        None => Vec::new(),
    };
    let family = advertised.first().map(|v| Family::of(&v.vip.addr));
    VipLists {
        advertised,
        span,
        excluded,
        family,
    }
}

/// VRRPv2 is IPv4 only (RFC 3768): an explicit `version = 2` with IPv6 VIPs is an error.
fn version_for_family(
    sink: &mut Sink<'_>,
    raw: &RawInstance,
    version: Option<Version>,
    family: Option<Family>,
) -> Option<Version> {
    match (version, family, &raw.version) {
        (Some(Version::V2), Some(Family::Ipv6), Some(v)) => {
            let what = "3 for IPv6 VIPs (VRRPv2 is IPv4 only, RFC 3768)";
            sink.expected("version", &v.span(), what);
            None
        }
        _ => version,
    }
}

/// The checked values of one instance; `None` where a value was bad (and already reported).
struct Parts {
    name: Option<String>,
    interface: Option<String>,
    vrid: Option<u8>,
    version: Option<Version>,
    priority: Option<u8>,
    advert_interval: Option<Centisecs>,
    preempt: bool,
    preempt_delay: Option<Duration>,
    accept: bool,
    checksum_mode: Option<ChecksumMode>,
    auth: Option<Auth>,
    v2_interop: Option<bool>,
    garp: Option<GarpTiming>,
    trackers: Option<Vec<TrackerRef>>,
    notify: Option<Notify>,
    routes: Option<Vec<VirtualRoute>>,
    rules: Option<Vec<VirtualRule>>,
    vmac: vmac::Choice,
    unicast: Option<Unicast>,
}

/// The instance, if every part is good. The link-local note comes last so that an instance with errors
/// draws only the errors.
fn build(
    sink: &mut Sink<'_>,
    parts: Parts,
    vips: Vec<SpannedVip>,
    excluded: Vec<SpannedVip>,
    vips_span: &Range<usize>,
) -> Option<Instance> {
    if vips.is_empty() {
        return None;
    }
    let unicast = parts.unicast?;
    let mut instance = Instance {
        name: parts.name?,
        interface: parts.interface?,
        vrid: parts.vrid?,
        version: parts.version?,
        priority: parts.priority?,
        advert_interval: parts.advert_interval?,
        preempt: parts.preempt,
        preempt_delay: parts.preempt_delay?,
        accept: parts.accept,
        checksum_mode: parts.checksum_mode?,
        auth: parts.auth?,
        v2_interop: parts.v2_interop?,
        vips: vips.into_iter().map(|v| v.vip).collect(),
        excluded_vips: excluded.into_iter().map(|v| v.vip).collect(),
        routes: parts.routes?,
        rules: parts.rules?,
        unicast_peers: unicast.peers,
        unicast_source: unicast.source,
        garp: parts.garp?,
        trackers: parts.trackers?,
        notify: parts.notify?,
        vmac: parts.vmac?,
    };
    vips::put_link_local_first(sink, &mut instance.vips, instance.vrid, vips_span);
    Some(instance)
}

/// Checked entries beside the spans of the entries they came from (all of a list, or none).
fn with_spans<T: Clone, R>(
    checked: Option<&[T]>,
    raw: Option<&Spanned<Vec<Spanned<R>>>>,
) -> Vec<(T, Range<usize>)> {
    let (Some(checked), Some(raw)) = (checked, raw) else {
        return Vec::new();
    };
    checked
        .iter()
        .cloned()
        .zip(raw.get_ref().iter().map(Spanned::span))
        .collect()
}

fn span_of<T>(value: &Option<Spanned<T>>) -> Range<usize> {
    value.as_ref().map(Spanned::span).unwrap_or_default()
}

fn version(sink: &mut Sink<'_>, raw: &RawInstance) -> Option<Version> {
    match &raw.version {
        None => Some(Version::V3),
        Some(v) => match v.get_ref().0 {
            2 => Some(Version::V2),
            3 => Some(Version::V3),
            _ => {
                sink.expected("version", &v.span(), "2 or 3");
                None
            }
        },
    }
}

/// VRRPv3 carries centiseconds in 12 bits (RFC 5798 §5.2.7): 10 ms..=40.95 s in 10 ms steps.
/// VRRPv2 carries whole seconds in 8 bits (RFC 3768 §5.3.7): 1..=255 s.
fn advert_interval(
    sink: &mut Sink<'_>,
    version: Version,
    value: Option<&Spanned<DurationText>>,
) -> Option<Centisecs> {
    let Some(value) = value else {
        return Centisecs::new(100);
    };
    let (min, max, step, what) = match version {
        Version::V3 => (
            10,
            40_950,
            10,
            "a duration 10ms..=40.95s in steps of 10ms (VRRPv3 carries centiseconds)",
        ),
        Version::V2 => (
            1_000,
            255_000,
            1_000,
            "whole seconds 1s..=255s (VRRPv2 carries whole seconds)",
        ),
    };
    let ms = millis_in(sink, "advert_interval", value, min, max)?;
    if ms % step != 0 {
        sink.expected("advert_interval", &value.span(), what);
        return None;
    }
    Centisecs::new(u16::try_from(ms / 10).ok()?)
}

/// The per-instance override, else the global default. It only changes what VRRPv3 over IPv4 sends, so
/// setting it elsewhere is worth a warning.
fn checksum_mode(
    sink: &mut Sink<'_>,
    global: &Global,
    raw: &RawInstance,
    version: Option<Version>,
    family: Option<Family>,
) -> Option<ChecksumMode> {
    let Some(value) = &raw.checksum_mode else {
        return Some(global.checksum_mode);
    };
    let mode = values::checksum_mode(sink, value)?;
    let ignored_because = match (version, family) {
        (Some(Version::V2), _) => Some("VRRPv2 checksums cover the message only"),
        (_, Some(Family::Ipv6)) => Some("IPv6 checksums always include the pseudo-header"),
        _ => None,
    };
    if let Some(reason) = ignored_because {
        sink.warning(
            &value.span(),
            format!("checksum_mode has no effect here: {reason}"),
        );
    }
    Some(mode)
}

/// RFC 3768 §5.3.6.1 simple text password: up to 8 octets, zero padded. keepalived silently keeps the
/// first 8 characters of a longer one; keepvip refuses it so both ends visibly agree.
fn auth(sink: &mut Sink<'_>, version: Version, value: Option<&Spanned<String>>) -> Option<Auth> {
    let Some(value) = value else {
        return Some(Auth::None);
    };
    let pass = value.get_ref();
    if version == Version::V3 {
        sink.expected(
            "auth_pass",
            &value.span(),
            "no auth_pass with version = 3 (VRRPv3 has no authentication, RFC 5798 §9)",
        );
        return None;
    }
    let printable = pass.bytes().all(|b| (0x20..=0x7e).contains(&b));
    if pass.is_empty() || pass.len() > 8 || !printable {
        sink.expected(
            "auth_pass",
            &value.span(),
            "1..=8 printable ASCII characters",
        );
        return None;
    }
    let mut bytes = [0u8; 8];
    bytes[..pass.len()].copy_from_slice(pass.as_bytes());
    Some(Auth::SimplePassword(bytes))
}

/// The instance's `track_*` lists. An owner (priority 255) never changes priority, as in keepalived:
/// weighted trackers on it draw a warning.
fn tracking(
    sink: &mut Sink<'_>,
    raw: &RawInstance,
    (trackers, declared): &(Trackers, track::Declared),
    priority: Option<u8>,
) -> Option<Vec<TrackerRef>> {
    let lists = [
        (TrackerKind::Script, raw.track_script.as_ref()),
        (TrackerKind::File, raw.track_file.as_ref()),
        (TrackerKind::Process, raw.track_process.as_ref()),
        (TrackerKind::Interface, raw.track_interface.as_ref()),
    ];
    let refs = track::instance_refs(sink, lists, trackers, declared)?;
    if priority == Some(255)
        && refs.iter().any(|r| r.weight != 0)
        && let Some(list) = [
            &raw.track_script,
            &raw.track_file,
            &raw.track_process,
            &raw.track_interface,
        ]
        .into_iter()
        .flatten()
        .next()
    {
        sink.warning(
            &list.span(),
            "priority 255 (the address owner) ignores tracker weights: its priority never changes \
             (a weight-0 tracker still puts it in FAULT)",
        );
    }
    Some(refs)
}

/// An address may appear once per instance, advertised or excluded.
fn check_duplicates(
    sink: &mut Sink<'_>,
    vips: &[SpannedVip],
    excluded: &[SpannedVip],
) -> Vec<(std::net::IpAddr, Range<usize>)> {
    let mut seen: Vec<(std::net::IpAddr, Range<usize>)> = Vec::new();
    for (key, v) in vips
        .iter()
        .map(|v| ("vips", v))
        .chain(excluded.iter().map(|v| ("excluded_vips", v)))
    {
        if let Some((_, first)) = seen.iter().find(|(addr, _)| *addr == v.vip.addr) {
            let line = sink.line_of(first.start);
            sink.expected(
                key,
                &v.span,
                format!(
                    "each address once per instance ({} is already listed on line {line})",
                    v.vip.addr
                ),
            );
        } else {
            seen.push((v.vip.addr, v.span.clone()));
        }
    }
    seen
}

fn garp_keys(raw: &RawInstance) -> GarpKeys<'_> {
    GarpKeys {
        repeat: raw.garp_repeat.as_ref(),
        interval: raw.garp_interval.as_ref(),
        delay: raw.garp_delay.as_ref(),
        refresh: raw.garp_refresh.as_ref(),
    }
}
