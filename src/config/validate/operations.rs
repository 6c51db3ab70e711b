//! `[global]` keys for running as a service: `control_group` (who may read `keepvip status`),
//! `startup_delay` (keepalived's `vrrp_startup_delay`) and `rt_priority` (keepalived's
//! `vrrp_rt_priority`).

use std::time::Duration;

use toml::Spanned;

use super::values::{millis_in, u8_or};
use crate::config::diagnostic::Sink;
use crate::config::raw::{DurationText, RawGlobal};

/// The longest `startup_delay`: beyond an hour a node would sit out too long to be a failover peer.
const STARTUP_DELAY_MAX_MS: u64 = 3_600_000;

/// The `[global]` service keys; each `None` where the value was bad (and reported).
pub(crate) struct ServiceKeys {
    pub control_group: Option<Option<String>>,
    pub startup_delay: Option<Duration>,
    pub rt_priority: Option<Option<u8>>,
}

pub(crate) fn global_service_keys(sink: &mut Sink<'_>, raw: &RawGlobal) -> ServiceKeys {
    ServiceKeys {
        control_group: raw
            .control_group
            .as_ref()
            .map_or(Some(None), |g| group_name(sink, g).map(Some)),
        startup_delay: raw
            .startup_delay
            .as_ref()
            .map_or(Some(Duration::ZERO), |d| startup_delay(sink, d)),
        // SCHED_RR's priorities (sched_get_priority_min/max).
        rt_priority: raw.rt_priority.as_ref().map_or(Some(None), |p| {
            u8_or(sink, "rt_priority", Some(p), 1..=99, 1).map(Some)
        }),
    }
}

fn group_name(sink: &mut Sink<'_>, value: &Spanned<String>) -> Option<String> {
    let name = value.get_ref();
    let ok = !name.is_empty()
        && name.len() <= 32
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !ok {
        let what = "a group name such as \"keepvip\" (letters, digits, '_', '-', '.')";
        sink.expected("control_group", &value.span(), what);
        return None;
    }
    Some(name.clone())
}

fn startup_delay(sink: &mut Sink<'_>, value: &Spanned<DurationText>) -> Option<Duration> {
    millis_in(sink, "startup_delay", value, 0, STARTUP_DELAY_MAX_MS).map(Duration::from_millis)
}
