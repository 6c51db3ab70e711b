//! Advertisements for root tests, built with vrrp-wire (the same bytes the daemon will send).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_wire::{
    Addresses, Auth, Centisecs, ChecksumMode, EmitError, Repr, VRRP_IPV4_GROUP, VRRP_IPV6_GROUP,
    Version,
};

/// 100 cs, checked at compile time.
const DEFAULT_INTERVAL: Centisecs = match Centisecs::new(100) {
    Some(interval) => interval,
    None => panic!("100 cs is a valid interval"),
};

/// A VRRPv3 advertisement at the default interval (100 cs).
pub fn advert(vrid: u8, priority: u8, addresses: Addresses) -> Repr {
    Repr {
        version: Version::V3,
        vrid,
        priority,
        max_adver_int: DEFAULT_INTERVAL,
        addresses,
        auth: Auth::None,
    }
}

/// VRRPv3 over IPv4 from `src` to 224.0.0.18 with `mode`'s checksum: the bytes after the IP header.
pub fn advert_v4_bytes(
    vrid: u8,
    priority: u8,
    vips: &[Ipv4Addr],
    src: Ipv4Addr,
    mode: ChecksumMode,
) -> Result<Vec<u8>, EmitError> {
    advert(vrid, priority, Addresses::V4(vips.to_vec())).to_bytes(
        IpAddr::V4(src),
        IpAddr::V4(VRRP_IPV4_GROUP),
        mode,
    )
}

/// VRRPv3 over IPv6 from `src` to ff02::12 (the first VIP must be link-local).
pub fn advert_v6_bytes(
    vrid: u8,
    priority: u8,
    vips: &[Ipv6Addr],
    src: Ipv6Addr,
) -> Result<Vec<u8>, EmitError> {
    advert(vrid, priority, Addresses::V6(vips.to_vec())).to_bytes(
        IpAddr::V6(src),
        IpAddr::V6(VRRP_IPV6_GROUP),
        ChecksumMode::PseudoHeader,
    )
}

/// Bytes as lowercase hex, for readable assertions against golden vectors.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
