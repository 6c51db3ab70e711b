//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const SRC4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
pub const DST4: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
pub const VIP4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
pub const SRC6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
pub const DST6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12));
pub const VIP6_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100);
pub const VIP6_GLOBAL: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);

/// Hex string (whitespace ignored) to bytes; panics on bad input, tests only.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd hex length");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// An independent RFC 1071 checksum: sum of big-endian words, folded, complemented.
pub fn internet_checksum(chunks: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = chunks.concat();
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let word = if pair.len() == 2 {
            u32::from(pair[0]) << 8 | u32::from(pair[1])
        } else {
            u32::from(pair[0]) << 8
        };
        sum += word;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Rewrites the checksum field (bytes 6-7) over the message alone.
pub fn fix_checksum_message_only(bytes: &mut [u8]) {
    bytes[6..8].copy_from_slice(&[0, 0]);
    let checksum = internet_checksum(&[bytes]);
    bytes[6..8].copy_from_slice(&checksum.to_be_bytes());
}

/// Rewrites the checksum field over the IPv4 pseudo-header (src, dst, 0, 112, length) and message.
pub fn fix_checksum_ipv4_pseudo(bytes: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) {
    bytes[6..8].copy_from_slice(&[0, 0]);
    let len = (bytes.len() as u16).to_be_bytes();
    let checksum = internet_checksum(&[&src.octets(), &dst.octets(), &[0, 112], &len, bytes]);
    bytes[6..8].copy_from_slice(&checksum.to_be_bytes());
}

/// Rewrites the checksum field over the IPv6 pseudo-header (src, dst, u32 length, 0 0 0 112) and
/// message.
pub fn fix_checksum_ipv6_pseudo(bytes: &mut [u8], src: Ipv6Addr, dst: Ipv6Addr) {
    bytes[6..8].copy_from_slice(&[0, 0]);
    let len = (bytes.len() as u32).to_be_bytes();
    let checksum = internet_checksum(&[&src.octets(), &dst.octets(), &len, &[0, 0, 0, 112], bytes]);
    bytes[6..8].copy_from_slice(&checksum.to_be_bytes());
}

pub fn v4(addr: IpAddr) -> Ipv4Addr {
    match addr {
        IpAddr::V4(addr) => addr,
        IpAddr::V6(_) => panic!("not IPv4"),
    }
}

pub fn v6(addr: IpAddr) -> Ipv6Addr {
    match addr {
        IpAddr::V6(addr) => addr,
        IpAddr::V4(_) => panic!("not IPv6"),
    }
}
