//! Skew_Time and Master_Down_Interval in exact microseconds (RFC 5798 §6.1, RFC 3768 §6.1).

mod common;

use common::*;
use vrrp_core::timers::{master_down_interval, skew_time};
use vrrp_wire::Version;

#[test]
fn mdi_exact_for_priority_100_at_1s() {
    assert_eq!(skew_time(Version::V3, 100, cs(100)), dur(609_375));
    assert_eq!(
        master_down_interval(Version::V3, 100, cs(100)),
        dur(3_609_375)
    );
}

#[test]
fn skew_rounds_up_to_the_next_microsecond_at_10ms() {
    // 156 * 10 000 / 256 = 6 093.75 us: rounded up so the timer never fires early.
    assert_eq!(skew_time(Version::V3, 100, cs(1)), dur(6_094));
    assert_eq!(master_down_interval(Version::V3, 100, cs(1)), dur(36_094));
}

#[test]
fn skew_scales_with_the_learned_interval_in_v3() {
    assert_eq!(skew_time(Version::V3, 200, cs(50)), dur(109_375)); // 56 * 500 000 / 256
    assert_eq!(
        master_down_interval(Version::V3, 200, cs(50)),
        dur(1_609_375)
    );
}

#[test]
fn owner_skew_is_one_256th_of_the_interval() {
    assert_eq!(skew_time(Version::V3, 255, cs(100)), dur(3_907)); // 3 906.25 rounded up
}

#[test]
fn v2_skew_ignores_the_interval() {
    // RFC 3768: (256 - Priority) / 256 seconds, whatever Advertisement_Interval is.
    assert_eq!(skew_time(Version::V2, 100, cs(300)), dur(609_375));
    assert_eq!(
        master_down_interval(Version::V2, 100, cs(300)),
        dur(9_609_375)
    );
}

#[test]
fn higher_priority_always_has_the_shorter_skew_at_the_shortest_interval() {
    for priority in 1..255u8 {
        assert!(
            skew_time(Version::V3, priority + 1, cs(1)) < skew_time(Version::V3, priority, cs(1))
        );
    }
}
