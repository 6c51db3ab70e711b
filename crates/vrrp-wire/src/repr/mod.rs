//! `Repr` <-> bytes: `parse` (receive rules in order) and `emit` (checked, then written), plus the
//! checksum variants both sides share.

mod emit;
mod parse;

use std::net::IpAddr;

use crate::checksum::{Sum, ipv4_pseudo_header, ipv6_pseudo_header};
use crate::packet::{AUTH_DATA_LEN, HEADER_LEN};
use crate::rules::IP_PROTOCOL_VRRP;
use crate::{ChecksumMode, Family, Repr, Version};

impl Repr {
    /// The IP family the addresses (and so the packet) belong to.
    pub fn family(&self) -> Family {
        self.addresses.family()
    }

    /// Bytes `emit` writes: header, addresses, and for VRRPv2 the authentication data.
    pub fn buffer_len(&self) -> usize {
        let auth = match self.version {
            Version::V2 => AUTH_DATA_LEN,
            Version::V3 => 0,
        };
        HEADER_LEN + self.addresses.len() * self.family().address_len() + auth
    }

    /// The checksum mode this advertisement must use, given the one configured for VRRPv3 over IPv4
    /// (the only case with a choice): IPv6 always covers its pseudo-header, VRRPv2 never does.
    pub fn checksum_mode(&self, configured_v3_ipv4: ChecksumMode) -> ChecksumMode {
        applicable_mode(self.version, self.family()).unwrap_or(configured_v3_ipv4)
    }
}

/// The one mode a version/family pair allows, or `None` for VRRPv3 over IPv4, which may use either.
fn applicable_mode(version: Version, family: Family) -> Option<ChecksumMode> {
    match (version, family) {
        // RFC 3768 §5.3.8: "the entire VRRP message", no pseudo-header.
        (Version::V2, _) => Some(ChecksumMode::MessageOnly),
        // RFC 5798 §5.2.8: the IPv6 pseudo-header (RFC 8200 §8.1) plus the message.
        (Version::V3, Family::Ipv6) => Some(ChecksumMode::PseudoHeader),
        (Version::V3, Family::Ipv4) => None,
    }
}

/// The one's-complement sum of `message` under `mode`, or `None` when the pseudo-header needs
/// addresses of one family and `src`/`dst` are not (or the message is longer than its length field).
fn message_sum(message: &[u8], src: IpAddr, dst: IpAddr, mode: ChecksumMode) -> Option<Sum> {
    let prefix = match (mode, src, dst) {
        (ChecksumMode::MessageOnly, _, _) => Sum::default(),
        (ChecksumMode::PseudoHeader, IpAddr::V4(src), IpAddr::V4(dst)) => {
            let len = u16::try_from(message.len()).ok()?;
            ipv4_pseudo_header(src, dst, IP_PROTOCOL_VRRP, len)
        }
        (ChecksumMode::PseudoHeader, IpAddr::V6(src), IpAddr::V6(dst)) => {
            let len = u32::try_from(message.len()).ok()?;
            ipv6_pseudo_header(src, dst, IP_PROTOCOL_VRRP, len)
        }
        (ChecksumMode::PseudoHeader, _, _) => return None,
    };
    Some(prefix.add_bytes(message))
}
