//! The protocol's two derived timers (RFC 5798 §6.1), computed in microseconds.
//!
//! Rounding: `(256 - Priority) * Master_Adver_Interval / 256` is not always a whole number of
//! microseconds (priority 100 at 1 cs gives 6 093.75 us). We round *up* to the next microsecond, so a
//! Master_Down_Timer never fires before the exact rational time the RFC describes; the error is below
//! 1 us, and the order between priorities is kept (adjacent priorities differ by at least 39 us).

use vrrp_wire::{Centisecs, Version};

use crate::time::Micros;

/// Skew_Time for `priority` (the local effective priority).
///
/// VRRPv3, RFC 5798 §6.1: `((256 - Priority) * Master_Adver_Interval) / 256`.
/// VRRPv2, RFC 3768 §6.1: `(256 - Priority) / 256` seconds, independent of the interval (keepalived
/// computes it the same way for v2).
pub fn skew_time(version: Version, priority: u8, master_adver_interval: Centisecs) -> Micros {
    let weight = 256 - u64::from(priority);
    let base = match version {
        Version::V3 => master_adver_interval.as_micros(),
        Version::V2 => 1_000_000,
    };
    Micros::from_micros((weight * base).div_ceil(256))
}

/// Master_Down_Interval, RFC 5798 §6.1 (and RFC 3768 §6.1): `(3 * Master_Adver_Interval) + Skew_Time`.
pub fn master_down_interval(
    version: Version,
    priority: u8,
    master_adver_interval: Centisecs,
) -> Micros {
    let three = Micros::from_micros(3 * master_adver_interval.as_micros());
    three + skew_time(version, priority, master_adver_interval)
}
