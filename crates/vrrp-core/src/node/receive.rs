//! The receive path, in one ordered place: RFC 5798 §7.1's checks (and RFC 3768 §7.1's for VRRPv2)
//! from the bytes a socket delivered to the router that acts on the advert. Each failed check is a
//! counted discard with a stable label; README's "Receive checklist" table lists them in order.
//!
//! 1. TTL / hop limit is 255 (here, `vrrp_wire::check_hop_limit`).
//! 2. No longer than any VRRP message can be (here).
//! 3. The wire rules, in `vrrp_wire::Repr::parse`'s order: complete header, version, type, family
//!    layout, complete addresses, checksum, count, interval, v2 auth type, IPv6 first address
//!    link-local, exact length.
//! 4. The VRID is configured on this link and family (here, by dispatch).
//! 5. The router's own rules (`Router::check` in router/receive.rs): running, not in FAULT, version,
//!    owner, family, not our own advert, a listed unicast peer (when the router has peers), and
//!    VRRPv2's auth, interval and address list.

use std::net::IpAddr;

use vrrp_wire::{ChecksumMode, Family, MAX_MESSAGE_LEN, Repr, WireError, check_hop_limit};

use super::{InstanceId, LinkId, Node, NodeAction};
use crate::input::{Action, Input};
use crate::time::Instant;

/// Label for a VRID no instance on this link and family is configured with (RFC 5798 §7.1).
pub const UNKNOWN_VRID: &str = "vrid_not_configured";

/// A datagram as a raw socket delivered it: the IP header's fields the checks need and the VRRP bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    pub link: LinkId,
    pub source: IpAddr,
    pub destination: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub hop_limit: u8,
    pub payload: &'a [u8],
}

/// Steps 1-3 of the checklist: what can be judged from the datagram alone.
fn check_datagram(datagram: &Datagram<'_>) -> Result<(Repr, ChecksumMode), &'static str> {
    // 1. RFC 5798 §7.1: "MUST verify that the IPvX TTL/Hop Limit is 255."
    check_hop_limit(datagram.hop_limit).map_err(|e| e.reason())?;
    // 2. Nothing longer than the longest advertisement is worth parsing.
    if datagram.payload.len() > MAX_MESSAGE_LEN {
        return Err(WireError::TooLong {
            expected: MAX_MESSAGE_LEN,
            len: datagram.payload.len(),
        }
        .reason());
    }
    // 3. RFC 5798 §7.1 version, length, checksum; §5.2 fields (vrrp-wire, in its order).
    Repr::parse_bytes(datagram.payload, datagram.source, datagram.destination)
        .map_err(|e| e.reason())
}

impl Node {
    pub(super) fn receive_datagram(
        &mut self,
        now: Instant,
        datagram: &Datagram<'_>,
        out: &mut Vec<NodeAction>,
    ) {
        match check_datagram(datagram) {
            Ok((repr, checksum)) => {
                let (link, source) = (datagram.link, datagram.source);
                self.receive_parsed(now, link, source, repr, Some(checksum), out)
            }
            Err(label) => {
                // Counted against the instance the datagram was aimed at, when its VRID byte names one.
                let family = Family::of(datagram.source);
                let aimed_at = datagram
                    .payload
                    .get(1)
                    .and_then(|&vrid| self.find(datagram.link, family, vrid));
                self.count_drop(aimed_at, label);
            }
        }
    }

    /// Step 4 (dispatch) and step 5 (the router), for an advert that passed the wire checks.
    pub(super) fn receive_parsed(
        &mut self,
        now: Instant,
        link: LinkId,
        source: IpAddr,
        repr: Repr,
        checksum: Option<ChecksumMode>,
        out: &mut Vec<NodeAction>,
    ) {
        // 4. RFC 5798 §7.1: "MUST verify that the VRID is configured on the receiving interface".
        let Some(id) = self.find(link, Family::of(source), repr.vrid) else {
            return self.count_drop(None, UNKNOWN_VRID);
        };
        if let Some(entry) = self.entry_mut(id) {
            entry.counters.adverts_received += 1;
            // Split-brain diagnosis compares the variant with ours (router/split_brain.rs).
            entry.router.received_checksum = checksum;
        }
        // 5. The router's checks and the state machine.
        let first_new = out.len();
        self.deliver(now, id, Input::Advert { source, repr }, out);
        // A dropped advert says nothing about the master (a mixed-mode peer's VRRPv2 copy, whose
        // checksum never has the pseudo-header, included).
        let dropped = out[first_new..]
            .iter()
            .any(|(to, action)| *to == id && matches!(action, Action::Discard(_)));
        if let Some(entry) = self.entry_mut(id) {
            let from_master = entry
                .router
                .known_master()
                .is_some_and(|m| m.address == source);
            if from_master && !dropped && checksum.is_some() {
                entry.master_checksum = checksum;
            }
        }
    }

    fn count_drop(&mut self, aimed_at: Option<InstanceId>, label: &'static str) {
        match aimed_at.and_then(|id| self.entry_mut(id)) {
            Some(entry) => entry.counters.discard(label),
            None => *self.undispatched.entry(label).or_default() += 1,
        }
    }
}
