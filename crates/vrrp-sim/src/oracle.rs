//! The numbers the checks compare against, written here from the RFC text instead of being taken from
//! vrrp-core, so a core timer that is wrong shows up as a takeover at the wrong instant.

use std::net::IpAddr;

use vrrp_core::Micros;
use vrrp_wire::{Centisecs, Version};

use crate::model::HostSpec;

/// Skew_Time of a backup with `priority` that learned `interval`.
///
/// RFC 5798 §6.1: `((256 - Priority) * Master_Adver_Interval) / 256`; RFC 3768 §6.1 (v2):
/// `(256 - Priority) / 256` seconds. In microseconds, rounded up (vrrp-core's documented choice: a timer
/// never fires before the exact rational instant).
pub fn skew_time(version: Version, priority: u8, interval: Centisecs) -> Micros {
    let unit = match version {
        Version::V3 => interval.as_micros(),
        Version::V2 => 1_000_000,
    };
    Micros::from_micros(((256 - u64::from(priority)) * unit).div_ceil(256))
}

/// Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time (RFC 5798 §6.1, RFC 3768 §6.1).
pub fn master_down_interval(version: Version, priority: u8, interval: Centisecs) -> Micros {
    Micros::from_micros(3 * interval.as_micros()) + skew_time(version, priority, interval)
}

/// How long the network must be stable (no fault, no loss) before the election invariants must hold:
/// the longest Master_Down_Interval any router can compute (priority 1, the longest configured
/// interval) + one longest interval + 3 × the maximum delay. Twice that with sync groups: a member
/// pulled to Backup by a sibling restarts a full Master_Down_Timer. Four times with crossed
/// preferences between sync groups (see `crossed_sync_groups`). See the README for why.
pub fn settle_time(hosts: &[HostSpec], delay_max: Micros) -> Micros {
    let mut longest_mdi = Micros::ZERO;
    let mut longest_interval = Micros::ZERO;
    let configs = hosts.iter().flat_map(|host| host.routers.iter());
    let intervals: Vec<Centisecs> = configs.clone().map(|c| c.advert_interval).collect();
    let longest = intervals.iter().max().copied();
    for config in configs {
        if let Some(interval) = longest {
            longest_mdi = longest_mdi.max(master_down_interval(config.version, 1, interval));
            longest_interval = longest_interval.max(Micros::from_centisecs(interval));
        }
    }
    let three_delays = Micros::from_micros(3 * delay_max.as_micros());
    let settle = longest_mdi + longest_interval + three_delays;
    if crossed_sync_groups(hosts) {
        settle + settle + settle + settle
    } else if hosts.iter().any(|h| h.sync_group) {
        settle + settle
    } else {
        settle
    }
}

/// Whether two sync-group hosts prefer each other for different VRIDs: one outranks the other
/// (configured priority, then address) for one VRID and is outranked for another. Both may become
/// master at nearly the same moment, each group preempted on one VRID by the other; the core's
/// tie-break settles it, but with random delay it can take more than one round.
pub fn crossed_sync_groups(hosts: &[HostSpec]) -> bool {
    let grouped: Vec<&HostSpec> = hosts.iter().filter(|h| h.sync_group).collect();
    grouped.iter().enumerate().any(|(i, a)| {
        grouped[i + 1..].iter().any(|b| {
            let orders: Vec<bool> = a
                .routers
                .iter()
                .filter_map(|ra| {
                    let rb = b.routers.iter().find(|rb| rb.vrid == ra.vrid)?;
                    Some(
                        rank(ra.priority, ra.primary_address)
                            > rank(rb.priority, rb.primary_address),
                    )
                })
                .collect();
            orders.contains(&true) && orders.contains(&false)
        })
    })
}

/// The order of RFC 5798 §6.4.3 (725)-(735): effective priority, then the primary address as an unsigned
/// integer in network byte order.
pub type Rank = (u8, u128);

pub fn rank(priority: u8, address: IpAddr) -> Rank {
    let number = match address {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    (priority, number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(v: u16) -> Centisecs {
        Centisecs::new(v).unwrap()
    }

    #[test]
    fn rfc_defaults_give_3_609_375_us() {
        let mdi = master_down_interval(Version::V3, 100, cs(100));
        assert_eq!(mdi.as_micros(), 3_609_375);
    }

    #[test]
    fn skew_rounds_up_to_the_next_microsecond() {
        // 156 * 10 000 / 256 = 6 093.75 us.
        assert_eq!(skew_time(Version::V3, 100, cs(1)).as_micros(), 6_094);
    }

    #[test]
    fn v2_skew_ignores_the_interval() {
        assert_eq!(skew_time(Version::V2, 100, cs(300)).as_micros(), 609_375);
    }

    #[test]
    fn rank_compares_addresses_as_unsigned_network_order_integers() {
        let low = rank(100, "192.0.2.9".parse().unwrap());
        let high = rank(100, "192.0.2.10".parse().unwrap());
        assert!(high > low);
        assert!(rank(101, "192.0.2.1".parse().unwrap()) > high);
    }
}
