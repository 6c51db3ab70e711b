//! The simulator's own model of which adverts a router acts on when VRRPv2 and VRRPv3 share a
//! segment (RFC 5798 §8.4), so the takeover model counts only those: a VRRPv2 router drops VRRPv3
//! adverts (and a VRRPv3 router without `v2_interop` VRRPv2 ones); a router in mixed mode drops a
//! sender's VRRPv2 copy that arrives less than one advert interval (the one its VRRPv3 advert carried)
//! after the last VRRPv3 advert it took, remembering one sender, the last.

use vrrp_core::{Instant, Micros, StateKind};
use vrrp_wire::{Centisecs, Repr, Version};

use super::Sim;
use crate::model::HostId;

/// The last VRRPv3 advert a mixed-mode router took: sender, arrival, interval.
pub(crate) type LastV3 = Option<(HostId, Instant, Centisecs)>;

impl Sim {
    /// Whether router `slot` of `to` acts on `repr` from `from` arriving now (and remembers a VRRPv3
    /// advert it takes in mixed mode).
    pub(super) fn acts_on(&mut self, to: HostId, slot: usize, from: HostId, repr: &Repr) -> bool {
        let now = self.now;
        let Some(host) = self.hosts.get_mut(to) else {
            return false;
        };
        // Only a running router past its FAULT check gets as far as the version rules.
        let running = host
            .router(slot)
            .is_some_and(|r| matches!(r.state().kind(), StateKind::Backup | StateKind::Master));
        let Some(model) = host.slots.get_mut(slot) else {
            return false;
        };
        let config = &model.config;
        match (config.version, repr.version, config.v2_interop) {
            (Version::V2, Version::V3, _) | (Version::V3, Version::V2, false) => false,
            (Version::V3, Version::V3, true) => {
                if running {
                    model.last_v3 = Some((from, now, repr.max_adver_int));
                }
                true
            }
            (Version::V3, Version::V2, true) => {
                !model.last_v3.is_some_and(|(sender, at, interval)| {
                    sender == from && now < at + Micros::from_centisecs(interval)
                })
            }
            _ => true,
        }
    }
}
