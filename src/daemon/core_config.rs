//! Turns a validated config instance into the protocol core's view of it. The only translation layer
//! between the two: units (Duration -> Micros) and the primary address the daemon found on the interface.

use std::net::IpAddr;

use vrrp_core::Micros;
use vrrp_wire::Addresses;

use crate::config::{self, Vip};

/// The advertised addresses, in wire order, as the core and the wire crate hold them.
pub fn advertised(vips: &[Vip]) -> Addresses {
    let v4 = vips
        .iter()
        .filter_map(|vip| match vip.addr {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        })
        .collect::<Vec<_>>();
    if !v4.is_empty() {
        return Addresses::V4(v4);
    }
    Addresses::V6(
        vips.iter()
            .filter_map(|vip| match vip.addr {
                IpAddr::V6(a) => Some(a),
                IpAddr::V4(_) => None,
            })
            .collect(),
    )
}

pub fn micros(duration: std::time::Duration) -> Micros {
    Micros::from_micros(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX))
}

/// The core config for `instance`, whose adverts leave from `primary_address` (IPv4: the interface's
/// primary address; IPv6: its link-local address), with `trackers` (the instance's, in its order).
pub fn core_config(
    instance: &config::Instance,
    primary_address: IpAddr,
    trackers: Vec<vrrp_core::TrackerConfig>,
) -> vrrp_core::Config {
    let mut core =
        vrrp_core::Config::new(instance.vrid, primary_address, advertised(&instance.vips));
    core.version = instance.version;
    core.priority = instance.priority;
    core.advert_interval = instance.advert_interval;
    core.preempt = instance.preempt;
    core.preempt_delay = micros(instance.preempt_delay);
    core.accept_mode = instance.accept;
    core.auth = instance.auth;
    core.v2_interop = instance.v2_interop;
    core.excluded_addresses = instance.excluded_vips.iter().map(|vip| vip.addr).collect();
    core.trackers = trackers;
    core.unicast_peers = instance.unicast_peers.clone();
    core.checksum_mode = instance.checksum_mode;
    core
}
