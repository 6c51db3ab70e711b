//! `vmac` and `vmac_name` (keepalived's `use_vmac`): the instance's VIPs live on a macvlan carrying the
//! virtual router MAC (RFC 5798 §7.3). One instance's keys are checked here; that no two instances end
//! up with the same macvlan name is checked across instances (`validate::across_instances`).

use std::ops::Range;

use toml::Spanned;

use super::vips::SpannedVip;
use crate::config::diagnostic::Sink;
use crate::config::names::check_interface_name;
use crate::config::raw::RawInstance;
use crate::config::types::{Family, Vmac, default_vmac_name};

/// What the instance asked for: `Some(Some(_))` a macvlan, `Some(None)` none, `None` an error (reported).
pub(crate) type Choice = Option<Option<Vmac>>;

/// The macvlan name and where the operator chose it (`vmac_name`, else `vmac`), for the check across
/// instances; `None` without `vmac = true` or when the name is unknown.
pub(crate) type NameSpan = Option<(String, Range<usize>)>;

/// What `vmac` needs to know about the rest of the instance.
pub(crate) struct Context<'a> {
    pub interface: Option<&'a str>,
    pub vrid: Option<u8>,
    pub family: Option<Family>,
    pub priority: Option<u8>,
    pub vips: &'a [SpannedVip],
    pub excluded: &'a [SpannedVip],
}

/// Checks `vmac` and `vmac_name`.
pub(crate) fn vmac(
    sink: &mut Sink<'_>,
    raw: &RawInstance,
    context: &Context<'_>,
) -> (Choice, NameSpan) {
    let enabled = raw.vmac.as_ref().filter(|v| *v.get_ref());
    let Some(enabled) = enabled else {
        if let Some(name) = &raw.vmac_name {
            sink.expected(
                "vmac_name",
                &name.span(),
                "vmac = true beside it (vmac_name names the macvlan vmac creates)",
            );
            return (None, None);
        }
        return (Some(None), None);
    };
    let mut good = true;
    if context.priority == Some(255) {
        let what = "vmac = false with priority 255: the address owner answers with its own interface \
                    address, which stays on that interface (vmac is not supported for an owner)";
        sink.expected("vmac", &enabled.span(), what);
        good = false;
    }
    for vip in context.vips.iter().chain(context.excluded) {
        if vip.vip.label.is_some() {
            let message = format!(
                "{}: no label with vmac = true (the VIPs go on the macvlan, whose name the label would have to start with)",
                vip.vip.addr
            );
            sink.error(&vip.span, message);
            good = false;
        }
    }
    let (name, span) = match name(sink, raw.vmac_name.as_ref(), enabled, context) {
        Some(chosen) => chosen,
        None => return (None, None),
    };
    if context.interface == Some(name.as_str()) {
        let what = "a macvlan name other than the instance's own interface";
        sink.expected(key_of(raw), &span, what);
        good = false;
    }
    let name_span = Some((name.clone(), span));
    if good {
        (Some(Some(Vmac { name })), name_span)
    } else {
        (None, name_span)
    }
}

/// The key the macvlan name comes from, for messages.
fn key_of(raw: &RawInstance) -> &'static str {
    if raw.vmac_name.is_some() {
        "vmac_name"
    } else {
        "vmac"
    }
}

/// `vmac_name` as written, else the default for the family and VRID (unknown when those are bad).
fn name(
    sink: &mut Sink<'_>,
    written: Option<&Spanned<String>>,
    enabled: &Spanned<bool>,
    context: &Context<'_>,
) -> Option<(String, Range<usize>)> {
    if let Some(written) = written {
        return match check_interface_name(written.get_ref()) {
            Ok(()) => Some((written.get_ref().clone(), written.span())),
            Err(what) => {
                sink.expected("vmac_name", &written.span(), what);
                None
            }
        };
    }
    let (vrid, family) = (context.vrid?, context.family?);
    Some((default_vmac_name(family, vrid), enabled.span()))
}
