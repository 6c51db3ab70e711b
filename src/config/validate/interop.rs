//! `v2_interop`: RFC 5798 §8.4 mixed mode, a VRRPv3 IPv4 instance that also sends a VRRPv2 copy of
//! every advert and accepts VRRPv2 adverts, for migrating a VRRPv2 segment. Both copies carry one
//! interval, so it must be whole seconds (RFC 3768 §5.3.7); authentication stays none (`auth_pass`
//! is already refused with version 3).

use vrrp_wire::{Centisecs, Version};

use crate::config::diagnostic::Sink;
use crate::config::raw::RawInstance;
use crate::config::types::Family;

/// The checked `v2_interop`: `Some(false)` when absent, `None` when set where it cannot work (each
/// reason reported).
pub(super) fn v2_interop(
    sink: &mut Sink<'_>,
    raw: &RawInstance,
    version: Option<Version>,
    family: Option<Family>,
    interval: Option<Centisecs>,
) -> Option<bool> {
    let Some(value) = raw.v2_interop.as_ref().filter(|v| *v.get_ref()) else {
        return Some(false);
    };
    let mut usable = true;
    if version == Some(Version::V2) {
        let what = "only with version = 3 (mixed mode is a VRRPv3 instance that also speaks VRRPv2, \
                    RFC 5798 §8.4)";
        sink.expected("v2_interop", &value.span(), what);
        usable = false;
    }
    if family == Some(Family::Ipv6) {
        let what = "only with IPv4 VIPs (VRRPv2 is IPv4 only, RFC 3768)";
        sink.expected("v2_interop", &value.span(), what);
        usable = false;
    }
    let whole_seconds = interval.is_none_or(|i| i.get().is_multiple_of(100));
    if version == Some(Version::V3)
        && !whole_seconds
        && let Some(written) = &raw.advert_interval
    {
        let what = "whole seconds 1s..=40s with v2_interop = true (the VRRPv2 copy carries whole \
                    seconds, RFC 3768 §5.3.7)";
        sink.expected("advert_interval", &written.span(), what);
        usable = false;
    }
    usable.then_some(true)
}
