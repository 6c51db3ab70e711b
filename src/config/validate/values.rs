//! Typed checks for single values: each reports `key = value: expected ...` at the value and returns
//! `None` on failure, so the caller keeps going and the operator sees every error in one run.

use std::ops::RangeInclusive;
use std::time::Duration;

use toml::Spanned;
use vrrp_wire::ChecksumMode;

use crate::config::diagnostic::Sink;
use crate::config::duration::{self, format_millis};
use crate::config::raw::{DurationText, Int};
use crate::config::types::LogFormat;

pub(crate) fn int_in(
    sink: &mut Sink<'_>,
    key: &str,
    value: &Spanned<Int>,
    range: RangeInclusive<i64>,
) -> Option<i64> {
    let Int(n) = *value.get_ref();
    if range.contains(&n) {
        Some(n)
    } else {
        sink.expected(
            key,
            &value.span(),
            format!("an integer {}..={}", range.start(), range.end()),
        );
        None
    }
}

/// A u8 in `range`, or `default` when the key is absent.
pub(crate) fn u8_or(
    sink: &mut Sink<'_>,
    key: &str,
    value: Option<&Spanned<Int>>,
    range: RangeInclusive<u8>,
    default: u8,
) -> Option<u8> {
    let Some(value) = value else {
        return Some(default);
    };
    let wide = i64::from(*range.start())..=i64::from(*range.end());
    int_in(sink, key, value, wide).and_then(|n| u8::try_from(n).ok())
}

/// Milliseconds in `min..=max` (both in ms), per the duration grammar.
pub(crate) fn millis_in(
    sink: &mut Sink<'_>,
    key: &str,
    value: &Spanned<DurationText>,
    min: u64,
    max: u64,
) -> Option<u64> {
    let span = value.span();
    match duration::parse_millis(&value.get_ref().0) {
        Err(e) => {
            sink.expected(key, &span, e);
            None
        }
        Ok(ms) if ms < min || ms > max => {
            let range = format!("a duration {}..={}", format_millis(min), format_millis(max));
            sink.expected(key, &span, range);
            None
        }
        Ok(ms) => Some(ms),
    }
}

/// A duration where zero means "off": `None` for zero, otherwise `min..=max` ms.
pub(crate) fn optional_duration(
    sink: &mut Sink<'_>,
    key: &str,
    value: &Spanned<DurationText>,
    min: u64,
    max: u64,
) -> Option<Option<Duration>> {
    let span = value.span();
    match duration::parse_millis(&value.get_ref().0) {
        Err(e) => {
            sink.expected(key, &span, e);
            None
        }
        Ok(0) => Some(None),
        Ok(ms) if ms < min || ms > max => {
            let range = format!(
                "\"0s\" (off) or a duration {}..={}",
                format_millis(min),
                format_millis(max)
            );
            sink.expected(key, &span, range);
            None
        }
        Ok(ms) => Some(Some(Duration::from_millis(ms))),
    }
}

pub(crate) fn checksum_mode(sink: &mut Sink<'_>, value: &Spanned<String>) -> Option<ChecksumMode> {
    match value.get_ref().as_str() {
        "pseudo-header" => Some(ChecksumMode::PseudoHeader),
        "message-only" => Some(ChecksumMode::MessageOnly),
        _ => {
            sink.expected(
                "checksum_mode",
                &value.span(),
                "\"pseudo-header\" or \"message-only\"",
            );
            None
        }
    }
}

pub(crate) fn log_format(sink: &mut Sink<'_>, value: &Spanned<String>) -> Option<LogFormat> {
    match value.get_ref().as_str() {
        "text" => Some(LogFormat::Text),
        "json" => Some(LogFormat::Json),
        _ => {
            sink.expected("log_format", &value.span(), "\"text\" or \"json\"");
            None
        }
    }
}

/// `metrics_listen`: one `address:port` (IPv6 in brackets), a port other than 0 (the operator's
/// scraper must know where to look).
pub(crate) fn metrics_listen(
    sink: &mut Sink<'_>,
    value: &Spanned<String>,
) -> Option<std::net::SocketAddr> {
    match value.get_ref().parse::<std::net::SocketAddr>() {
        Ok(addr) if addr.port() != 0 => Some(addr),
        _ => {
            sink.expected(
                "metrics_listen",
                &value.span(),
                "an address and a port other than 0, e.g. \"192.0.2.1:9650\" or \"[2001:db8::1]:9650\"",
            );
            None
        }
    }
}
