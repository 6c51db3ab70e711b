//! From the serde shape (`raw`) to the validated `Config`: `[global]`, each instance, then the rules
//! across instances. Every error is reported; the result is `None` if there was any.

mod identity;
mod instance;
mod interop;
mod notify;
mod operations;
mod routes;
mod sync_group;
mod track;
mod unicast;
mod values;
mod vips;
mod vmac;

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use toml::Spanned;

use self::identity::Identity;
use self::values::{millis_in, optional_duration, u8_or};
use super::diagnostic::Sink;
use super::names::check_router_id;
use super::raw::{DurationText, Int, RawFile, RawGlobal};
use super::types::{Config, Family, GarpTiming, Global};

/// Checks a parsed file. `interface_exists` only produces warnings.
pub(crate) fn validate(
    sink: &mut Sink<'_>,
    raw: &RawFile,
    interface_exists: &dyn Fn(&str) -> bool,
) -> Option<Config> {
    let global = match &raw.global {
        Some(g) => global(sink, g.get_ref()),
        None => Some(Global::default()),
    };
    // Instances are checked against the defaults when [global] itself is broken, so their own errors
    // still show up in the same run.
    let defaults = global.clone().unwrap_or_else(Global::default);
    let trackers = (track::trackers(sink, raw), track::Declared::of(raw));
    let (instances, identities): (Vec<_>, Vec<_>) = raw
        .instance
        .iter()
        .map(|i| instance::validate(sink, &defaults, &trackers, i))
        .unzip();
    across_instances(sink, &identities, interface_exists);
    routes::shared_across_instances(sink, &identities);
    if raw.instance.is_empty() {
        sink.warning(
            &(0..0),
            "no [[instance]] defined: keepvip would have nothing to do",
        );
    }
    let mut instances: Vec<_> = instances.into_iter().flatten().collect();
    let written: Vec<String> = identities
        .iter()
        .filter_map(|i| i.name.as_ref().map(|(name, _)| name.clone()))
        .collect();
    let groups =
        sync_group::sync_groups(sink, &raw.sync_group, &mut instances, &written, &trackers);
    let global = global?;
    if sink.has_errors() {
        return None;
    }
    Some(Config {
        global,
        instances,
        trackers: trackers.0,
        sync_groups: groups?,
    })
}

fn global(sink: &mut Sink<'_>, raw: &RawGlobal) -> Option<Global> {
    let defaults = Global::default();
    let router_id = match &raw.router_id {
        None => Some(defaults.router_id.clone()),
        Some(id) => check_router_id(id.get_ref())
            .map_err(|e| sink.expected("router_id", &id.span(), e))
            .ok()
            .map(|()| id.get_ref().clone()),
    };
    let checksum_mode = match &raw.checksum_mode {
        None => Some(defaults.checksum_mode),
        Some(m) => values::checksum_mode(sink, m),
    };
    let log_format = match &raw.log_format {
        None => Some(defaults.log_format),
        Some(f) => values::log_format(sink, f),
    };
    let keys = GarpKeys {
        repeat: raw.garp_repeat.as_ref(),
        interval: raw.garp_interval.as_ref(),
        delay: raw.garp_delay.as_ref(),
        refresh: raw.garp_refresh.as_ref(),
    };
    let garp = garp_overrides(sink, &defaults.garp, &keys);
    let scripts = notify::global_script_keys(sink, raw, &defaults);
    let metrics_listen = match &raw.metrics_listen {
        None => Some(None),
        Some(text) => values::metrics_listen(sink, text).map(Some),
    };
    let service = operations::global_service_keys(sink, raw);
    Some(Global {
        router_id: router_id?,
        checksum_mode: checksum_mode?,
        garp: garp?,
        log_format: log_format?,
        notify_fifo: scripts.notify_fifo?,
        notify_timeout: scripts.notify_timeout?,
        script_user: scripts.script_user?,
        allow_insecure_scripts: scripts.allow_insecure_scripts,
        metrics_listen: metrics_listen?,
        control_group: service.control_group?,
        startup_delay: service.startup_delay?,
        rt_priority: service.rt_priority?,
    })
}

/// The GARP/NA keys, shared by `[global]` and each instance.
pub(crate) struct GarpKeys<'a> {
    pub repeat: Option<&'a Spanned<Int>>,
    pub interval: Option<&'a Spanned<DurationText>>,
    pub delay: Option<&'a Spanned<DurationText>>,
    pub refresh: Option<&'a Spanned<DurationText>>,
}

/// `base` with whatever `keys` set. Ranges: repeat 1..=255; interval 0..=1 s; delay 0 (off) or
/// 1 ms..=1 h; refresh 0 (off) or 1 s..=24 h (faster would flood the segment).
pub(crate) fn garp_overrides(
    sink: &mut Sink<'_>,
    base: &GarpTiming,
    keys: &GarpKeys<'_>,
) -> Option<GarpTiming> {
    let repeat = u8_or(sink, "garp_repeat", keys.repeat, 1..=255, base.repeat);
    let interval = match keys.interval {
        None => Some(base.interval),
        Some(v) => millis_in(sink, "garp_interval", v, 0, 1_000).map(Duration::from_millis),
    };
    let delay = match keys.delay {
        None => Some(base.delay),
        Some(v) => optional_duration(sink, "garp_delay", v, 1, 3_600_000),
    };
    let refresh = match keys.refresh {
        None => Some(base.refresh),
        Some(v) => optional_duration(sink, "garp_refresh", v, 1_000, 86_400_000),
    };
    Some(GarpTiming {
        repeat: repeat?,
        interval: interval?,
        delay: delay?,
        refresh: refresh?,
    })
}

/// Names are unique. A VRID is used once per (interface, family): RFC 5798 §5.2.3 has the VRID identify
/// the virtual router on its LAN, and its introduction keeps the IPv4 and IPv6 virtual routers "a domain
/// unto themselves". An address shared by two instances only draws a warning.
fn across_instances(
    sink: &mut Sink<'_>,
    identities: &[Identity],
    interface_exists: &dyn Fn(&str) -> bool,
) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut vrids: HashMap<(&str, Family, u8), (&str, usize)> = HashMap::new();
    let mut addresses: HashMap<IpAddr, (&str, usize)> = HashMap::new();
    let mut macvlans: HashMap<&str, (&str, usize)> = HashMap::new();
    for id in identities {
        let name = id.name.as_ref().map_or("?", |(n, _)| n.as_str());
        if let Some((n, span)) = &id.name
            && let Some(first) = names.insert(n, span.start)
        {
            let line = sink.line_of(first);
            let what = format!("a unique instance name (also used on line {line})");
            sink.expected("name", span, what);
        }
        if let (Some((interface, _)), Some((vrid, span, family))) = (&id.interface, &id.vrid) {
            let key = (interface.as_str(), *family, *vrid);
            if let Some((other, first)) = vrids.insert(key, (name, span.start)) {
                let line = sink.line_of(first);
                let what = format!(
                    "a VRID unused on {interface} for {family} (instance \"{other}\" on line {line} has {vrid})"
                );
                sink.expected("vrid", span, what);
            }
        }
        for (addr, span) in &id.addresses {
            if let Some((other, first)) = addresses.insert(*addr, (name, span.start)) {
                let line = sink.line_of(first);
                let message = format!(
                    "{addr} is also a VIP of instance \"{other}\" (line {line}): the two instances will fight over it"
                );
                sink.warning(span, message);
            }
        }
        if let Some((macvlan, span)) = &id.vmac_name {
            // Every later user is reported against the first one.
            if let Some(&(other, first)) = macvlans.get(macvlan.as_str()) {
                let line = sink.line_of(first);
                let message = format!(
                    "the macvlan {macvlan} is already instance \"{other}\"'s (line {line}): expected a \
                     vmac_name no other instance uses"
                );
                sink.error(span, message);
            } else {
                macvlans.insert(macvlan, (name, span.start));
            }
        }
        if let Some((interface, span)) = &id.interface
            && !interface_exists(interface)
        {
            let message = format!(
                "interface = \"{interface}\": no such interface in this network namespace (yet)"
            );
            sink.warning(span, message);
        }
    }
    macvlans_are_not_instance_interfaces(sink, identities);
}

/// An instance's macvlan may not be another instance's interface: keepvip creates and deletes it.
fn macvlans_are_not_instance_interfaces(sink: &mut Sink<'_>, identities: &[Identity]) {
    for id in identities {
        let Some((macvlan, span)) = &id.vmac_name else {
            continue;
        };
        let user = identities.iter().find_map(|other| {
            let (interface, at) = other.interface.as_ref()?;
            let name = other.name.as_ref().map_or("?", |(n, _)| n.as_str());
            (interface == macvlan).then_some((name, at.start))
        });
        if let Some((other, at)) = user {
            let line = sink.line_of(at);
            let message = format!(
                "the macvlan {macvlan} is instance \"{other}\"'s interface (line {line}): expected a \
                 vmac_name that names no instance's interface (keepvip creates and deletes the macvlan)"
            );
            sink.error(span, message);
        }
    }
}
