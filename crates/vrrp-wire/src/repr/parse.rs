//! Receive side: bytes plus the IP header's addresses in, a `Repr` or the first rule broken out.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{applicable_mode, message_sum};
use crate::packet::{AUTH_DATA_LEN, HEADER_LEN, Packet, TYPE_ADVERTISEMENT};
use crate::{
    Addresses, Auth, Centisecs, ChecksumMode, Family, FamilyMismatchKind, Repr, Version, WireError,
};

/// VRRPv2 Auth Type 0: no authentication (RFC 3768 §5.3.6.1).
const AUTH_TYPE_NONE: u8 = 0;
/// VRRPv2 Auth Type 1: simple text password (RFC 2338 §5.3.6.2). RFC 3768 §5.3.6 reserves type 1 for
/// compatibility with it, and keepalived's `auth_type PASS` still sends it.
const AUTH_TYPE_SIMPLE_PASSWORD: u8 = 1;

impl Repr {
    /// Parses the VRRP bytes (the IP payload) of a packet that arrived from `src` to `dst` (the IP
    /// header's addresses, needed for pseudo-header checksums and to know the family). Returns the
    /// advertisement and the checksum variant the sender used: for VRRPv3 over IPv4 either is
    /// accepted (pseudo-header first, so a packet valid both ways, about 1 in 65535, reports
    /// `PseudoHeader`); IPv6 always reports `PseudoHeader`, VRRPv2 `MessageOnly`.
    ///
    /// The TTL / hop limit rule is the caller's, with `check_hop_limit`; the VRID rule is the daemon's.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&T>,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<(Repr, ChecksumMode), WireError> {
        packet.check_len()?;
        // RFC 5798 §7.1: "MUST verify that the VRRP version is 3"; version 2 is RFC 3768's.
        let version = match packet.version() {
            2 => Version::V2,
            3 => Version::V3,
            version => return Err(WireError::BadVersion { version }),
        };
        // RFC 5798 §5.2.2: "A packet with unknown type MUST be discarded."
        if packet.msg_type() != TYPE_ADVERTISEMENT {
            return Err(WireError::BadType {
                msg_type: packet.msg_type(),
            });
        }
        let family = layout_family(version, src, dst)?;
        // RFC 5798 §7.1: "MUST verify that the received packet contains the complete VRRP packet
        // (including fixed fields, and IPvX address(es))".
        let len = packet.len();
        let needed = packet.needed_len(family);
        if len < needed {
            return Err(WireError::TooShort { needed, len });
        }
        // RFC 5798 §7.1: "MUST verify the VRRP checksum."
        let mode = verify_checksum(packet.as_bytes(), version, family, src, dst).ok_or(
            WireError::BadChecksum {
                received: packet.checksum(),
            },
        )?;
        // RFC 5798 §5.2.9: "one or more" addresses.
        if packet.address_count() == 0 {
            return Err(WireError::AddressCountZero);
        }
        let max_adver_int = interval(packet, version).ok_or(WireError::IntervalZero)?;
        let auth = auth(packet, version)?;
        let addresses = addresses(packet, family).ok_or(WireError::TooShort { needed, len })?;
        check_exact_length(packet, family, needed)?;
        let repr = Repr {
            version,
            vrid: packet.vrid(),
            priority: packet.priority(),
            max_adver_int,
            addresses,
            auth,
        };
        Ok((repr, mode))
    }

    /// `parse` over a plain byte slice.
    pub fn parse_bytes(
        bytes: &[u8],
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<(Repr, ChecksumMode), WireError> {
        Repr::parse(&Packet::new_unchecked(bytes), src, dst)
    }
}

/// The family the address list is laid out in. Judged before the length because without it the
/// address size is unknown: the IP header's two addresses must agree, and VRRPv2 exists only for
/// IPv4 (RFC 3768 §1).
fn layout_family(version: Version, src: IpAddr, dst: IpAddr) -> Result<Family, WireError> {
    let family = Family::of(src);
    let kind = if family != Family::of(dst) {
        FamilyMismatchKind::MixedIpHeader
    } else if version == Version::V2 && family == Family::Ipv6 {
        FamilyMismatchKind::V2OverIpv6
    } else {
        return Ok(family);
    };
    Err(WireError::FamilyMismatch { kind })
}

/// The checksum variant that verifies the whole message, or `None`. The sum covers every byte the IP
/// payload holds ("the entire VRRP message", RFC 5798 §5.2.8), trailing bytes included.
fn verify_checksum(
    message: &[u8],
    version: Version,
    family: Family,
    src: IpAddr,
    dst: IpAddr,
) -> Option<ChecksumMode> {
    let candidates: &[ChecksumMode] = match applicable_mode(version, family) {
        Some(ChecksumMode::PseudoHeader) => &[ChecksumMode::PseudoHeader],
        Some(ChecksumMode::MessageOnly) => &[ChecksumMode::MessageOnly],
        // VRRPv3 over IPv4: keepalived and FRR include the pseudo-header, RFC 9568 does not;
        // accept both and say which (docs/protocol.md §Checksums).
        None => &[ChecksumMode::PseudoHeader, ChecksumMode::MessageOnly],
    };
    candidates
        .iter()
        .copied()
        .find(|mode| message_sum(message, src, dst, *mode).is_some_and(|sum| sum.verifies()))
}

/// The advertisement interval in centiseconds, `None` when zero. VRRPv3: Max Adver Int, 12 bits of
/// centiseconds (RFC 5798 §5.2.7). VRRPv2: Adver Int in whole seconds (RFC 3768 §5.3.7).
fn interval<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>, version: Version) -> Option<Centisecs> {
    match version {
        Version::V3 => Centisecs::new(packet.max_adver_int()),
        Version::V2 => Centisecs::new(u16::from(packet.v2_adver_int()) * 100),
    }
}

/// VRRPv2 authentication (RFC 3768 §5.3.6); VRRPv3 has none. For type 0 the data is zeroed on
/// transmission and ignored on reception (RFC 3768 §5.3.6.1), so it is not looked at. Comparing a
/// password with the configured one is the daemon's job: this only carries it.
fn auth<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>, version: Version) -> Result<Auth, WireError> {
    if version == Version::V3 {
        return Ok(Auth::None);
    }
    match packet.v2_auth_type() {
        AUTH_TYPE_NONE => Ok(Auth::None),
        AUTH_TYPE_SIMPLE_PASSWORD => {
            let len = packet.len();
            let needed = packet.needed_len(Family::Ipv4);
            packet
                .v2_auth_data()
                .map(Auth::SimplePassword)
                .ok_or(WireError::TooShort { needed, len })
        }
        auth_type => Err(WireError::UnknownAuthType { auth_type }),
    }
}

fn addresses<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>, family: Family) -> Option<Addresses> {
    let bytes = packet.address_bytes(family)?;
    let addresses = match family {
        Family::Ipv4 => Addresses::V4(
            bytes
                .chunks_exact(4)
                .filter_map(|chunk| <[u8; 4]>::try_from(chunk).ok().map(Ipv4Addr::from))
                .collect(),
        ),
        Family::Ipv6 => Addresses::V6(
            bytes
                .chunks_exact(16)
                .filter_map(|chunk| <[u8; 16]>::try_from(chunk).ok().map(Ipv6Addr::from))
                .collect(),
        ),
    };
    Some(addresses)
}

/// The last checks: the packet is exactly as long as its count implies. An IPv4 packet whose length
/// matches 16-byte addresses is a family mismatch (an IPv6 layout on an IPv4 socket); any other extra
/// bytes make it too long, which keepalived discards too (see `WireError::TooLong`).
fn check_exact_length<T: AsRef<[u8]> + ?Sized>(
    packet: &Packet<&T>,
    family: Family,
    needed: usize,
) -> Result<(), WireError> {
    let len = packet.len();
    if len == needed {
        return Ok(());
    }
    let auth = if packet.version() == 2 {
        AUTH_DATA_LEN
    } else {
        0
    };
    let ipv6_layout_len =
        HEADER_LEN + usize::from(packet.address_count()) * Family::Ipv6.address_len() + auth;
    if family == Family::Ipv4 && len == ipv6_layout_len {
        return Err(WireError::FamilyMismatch {
            kind: FamilyMismatchKind::Ipv6SizedAddresses,
        });
    }
    Err(WireError::TooLong {
        expected: needed,
        len,
    })
}
