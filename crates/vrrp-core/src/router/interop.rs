//! RFC 5798 §8.4 VRRPv3 and VRRPv2 interoperation ("mixed mode", [`Config::v2_interop`]), for
//! migrating a VRRPv2 segment to VRRPv3. The one home of these rules:
//!
//! - §8.4.2 "An implementation MAY implement a configuration flag that tells it to listen for and
//!   send both VRRPv2 and VRRPv3 advertisements." Sending: [`Router::send_advert`]; listening:
//!   [`Router::accepts_version`] in the receive checks.
//! - §8.4.2 "When a virtual router is configured this way and is the Master, it MUST send both types
//!   at the configured rate": every advert, priority 0 included, goes out as VRRPv3 and then as a
//!   VRRPv2 copy. The interval is whole seconds (`Config::validate`), so both carry the same one.
//! - §8.4.2 "[a Backup] should time out based on the rate advertised by the Master; in the case of a
//!   VRRPv2 Master, this means it must translate the timeout value it receives (in seconds) into
//!   centiseconds": the wire layer gives a VRRPv2 interval in centiseconds, learned like a VRRPv3 one
//!   (RFC 3768 §7.1's equal-interval rule is not applied).
//! - §8.4.2 "a Backup should ignore VRRPv2 advertisements from the current Master if it is also
//!   receiving VRRPv3 packets from it": [`Router::interop_filter`], `Discard::V2ShadowedByV3`.
//! - §8.4.2 "It MAY report when a VRRPv3 Master is *not* sending VRRPv2 packets":
//!   `Report::MasterSendsNoV2`.
//!
//! The election is the ordinary one across both versions (priority, then address, §6.4.3 (735));
//! §8.4 makes no exception for a VRRPv2 master. [`Config::v2_interop`]: crate::Config::v2_interop

use std::net::IpAddr;

use vrrp_wire::{Centisecs, Repr, Version};

use crate::input::{Action, Discard, Report};
use crate::time::{Instant, Micros};

use super::{Router, State};

/// VRRPv3 adverts without a VRRPv2 one from the followed master before it is reported.
const V3_WITHOUT_V2_REPORTED_AFTER: u32 = 3;

/// What mixed mode remembers about the last router it heard VRRPv3 from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct InteropMemory {
    /// The last sender of an accepted VRRPv3 advert, when it arrived, and the interval it carried.
    last_v3: Option<(IpAddr, Instant, Centisecs)>,
    /// VRRPv3 adverts from that sender since its last VRRPv2 one.
    v3_without_v2: u32,
    /// `Report::MasterSendsNoV2` was emitted for that sender.
    reported: bool,
}

impl Router {
    /// Emits the advert this router sends with `priority` and, in mixed mode, its VRRPv2 copy right
    /// after (§8.4.2: "it MUST send both types").
    pub(super) fn send_advert(&self, priority: u8, out: &mut Vec<Action>) {
        let advert = self.advert(priority);
        let copy = self.config.v2_interop.then(|| Repr {
            version: Version::V2,
            ..advert.clone()
        });
        out.push(Action::SendAdvert(advert));
        if let Some(copy) = copy {
            out.push(Action::SendAdvert(copy));
        }
    }

    /// RFC 5798 §7.1: the version must be ours; in mixed mode VRRPv2 too (§8.4.2 "listen for ...
    /// both").
    pub(super) fn accepts_version(&self, version: Version) -> bool {
        version == self.config.version || (self.config.v2_interop && version == Version::V2)
    }

    /// Mixed mode, after the §7.1 checks: drops the VRRPv2 copy of a router that also sends VRRPv3,
    /// and reports a followed master that sends no copies. A copy is a VRRPv2 advert less than one
    /// advert interval (the one its VRRPv3 advert carried) after that sender's last VRRPv3 advert: a
    /// mixed-mode sender sends both back to back, so a VRRPv2 advert a whole interval later means
    /// the sender stopped sending VRRPv3, and it counts again. The RFC says it of the Backup and its
    /// current Master; keepvip drops copies from any sender in either state, so a mixed-mode peer's
    /// advert is acted on once (one re-advert, one Skew_Time for a priority-0 pair), never twice.
    pub(super) fn interop_filter(
        &mut self,
        now: Instant,
        source: IpAddr,
        repr: &Repr,
        out: &mut Vec<Action>,
    ) -> Result<(), Discard> {
        if !self.config.v2_interop {
            return Ok(());
        }
        let memory = &mut self.interop;
        let same_sender = memory.last_v3.is_some_and(|(sender, ..)| sender == source);
        match repr.version {
            Version::V3 => {
                if !same_sender {
                    *memory = InteropMemory::default();
                }
                memory.last_v3 = Some((source, now, repr.max_adver_int));
                memory.v3_without_v2 = memory.v3_without_v2.saturating_add(1);
                let following = matches!(self.state, State::Backup { .. })
                    && self.known_master.is_some_and(|m| m.address == source);
                if following
                    && !memory.reported
                    && memory.v3_without_v2 >= V3_WITHOUT_V2_REPORTED_AFTER
                {
                    memory.reported = true;
                    out.push(Action::Report(Report::MasterSendsNoV2 { from: source }));
                }
                Ok(())
            }
            Version::V2 if same_sender => {
                memory.v3_without_v2 = 0;
                memory.reported = false;
                let copy_until = memory.last_v3.map_or(now, |(_, at, interval)| {
                    at + Micros::from_centisecs(interval)
                });
                if now < copy_until {
                    Err(Discard::V2ShadowedByV3)
                } else {
                    Ok(())
                }
            }
            Version::V2 => Ok(()),
        }
    }
}
