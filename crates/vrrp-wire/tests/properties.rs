//! Properties: emit-then-parse round-trips for every valid advertisement (all versions, families and
//! checksum modes), parse never panics and accessors never panic after `check_len` on arbitrary bytes
//! with arbitrary source/destination, and a single flipped bit is never accepted unnoticed.

// Strategies and helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::internet_checksum;
use proptest::prelude::*;
use vrrp_wire::{Addresses, Auth, Centisecs, ChecksumMode, Family, Packet, Repr, Version};

/// A valid advertisement with IP header addresses and a checksum mode that suit it.
#[derive(Debug, Clone)]
struct Case {
    repr: Repr,
    src: IpAddr,
    dst: IpAddr,
    mode: ChecksumMode,
}

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(Ipv6Addr::from)
}

/// fe80::/10 with random low bits.
fn link_local() -> impl Strategy<Value = Ipv6Addr> {
    any::<u128>().prop_map(|bits| Ipv6Addr::from((0xfe80u128 << 112) | (bits >> 10)))
}

fn mode() -> impl Strategy<Value = ChecksumMode> {
    prop_oneof![
        Just(ChecksumMode::PseudoHeader),
        Just(ChecksumMode::MessageOnly)
    ]
}

fn v3_ipv4() -> impl Strategy<Value = Case> {
    let addresses = prop::collection::vec(ipv4(), 1..=16);
    (
        any::<u8>(),
        any::<u8>(),
        1..=4095u16,
        addresses,
        ipv4(),
        ipv4(),
        mode(),
    )
        .prop_map(
            |(vrid, priority, interval, addresses, src, dst, mode)| Case {
                repr: Repr {
                    version: Version::V3,
                    vrid,
                    priority,
                    max_adver_int: Centisecs::new(interval).unwrap(),
                    addresses: Addresses::V4(addresses),
                    auth: Auth::None,
                },
                src: src.into(),
                dst: dst.into(),
                mode,
            },
        )
}

fn v3_ipv6() -> impl Strategy<Value = Case> {
    let rest = prop::collection::vec(ipv6(), 0..=8);
    // Link-local first as RFC 9568 §5.2.9 asks, or any address: §7.1 accepts both.
    let addrs = (prop_oneof![link_local(), ipv6()], ipv6(), ipv6());
    (any::<u8>(), any::<u8>(), 1..=4095u16, rest, addrs).prop_map(
        |(vrid, priority, interval, rest, (first, src, dst))| Case {
            repr: Repr {
                version: Version::V3,
                vrid,
                priority,
                max_adver_int: Centisecs::new(interval).unwrap(),
                addresses: Addresses::V6([vec![first], rest].concat()),
                auth: Auth::None,
            },
            src: src.into(),
            dst: dst.into(),
            mode: ChecksumMode::PseudoHeader,
        },
    )
}

fn v2() -> impl Strategy<Value = Case> {
    let addresses = prop::collection::vec(ipv4(), 1..=16);
    let auth = prop_oneof![
        Just(Auth::None),
        any::<[u8; 8]>().prop_map(Auth::SimplePassword)
    ];
    (
        any::<u8>(),
        any::<u8>(),
        1..=255u16,
        addresses,
        auth,
        ipv4(),
        ipv4(),
    )
        .prop_map(
            |(vrid, priority, seconds, addresses, auth, src, dst)| Case {
                repr: Repr {
                    version: Version::V2,
                    vrid,
                    priority,
                    max_adver_int: Centisecs::new(seconds * 100).unwrap(),
                    addresses: Addresses::V4(addresses),
                    auth,
                },
                src: src.into(),
                dst: dst.into(),
                mode: ChecksumMode::MessageOnly,
            },
        )
}

fn valid_case() -> impl Strategy<Value = Case> {
    prop_oneof![v3_ipv4(), v3_ipv6(), v2()]
}

/// True when the IPv4 pseudo-header alone sums to (negative) zero: then a VRRPv3 message verifies
/// with and without it, and parse reports `PseudoHeader` for both (about 1 in 65535 address pairs).
fn pseudo_header_is_neutral(src: IpAddr, dst: IpAddr, len: usize) -> bool {
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let len = (len as u16).to_be_bytes();
            internet_checksum(&[&src.octets(), &dst.octets(), &[0, 112], &len]) == 0
        }
        _ => false,
    }
}

/// Any IP address, either family.
fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![ipv4().prop_map(IpAddr::from), ipv6().prop_map(IpAddr::from)]
}

/// Arbitrary bytes, half of them a valid packet with a few bytes overwritten (to get past the
/// checksum sometimes), with arbitrary addresses, half the time those of the valid case.
fn arbitrary_input() -> impl Strategy<Value = (Vec<u8>, IpAddr, IpAddr)> {
    let raw = (prop::collection::vec(any::<u8>(), 0..80), ip(), ip());
    let mutated = (
        valid_case(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        any::<bool>(),
        ip(),
        ip(),
    )
        .prop_map(|(case, edits, keep_addresses, src, dst)| {
            let mut bytes = case.repr.to_bytes(case.src, case.dst, case.mode).unwrap();
            for (index, value) in edits {
                let at = index.index(bytes.len());
                bytes[at] = value;
            }
            if keep_addresses {
                (bytes, case.src, case.dst)
            } else {
                (bytes, src, dst)
            }
        });
    prop_oneof![raw, mutated]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn emit_then_parse_round_trips(case in valid_case()) {
        let Case { repr, src, dst, mode } = case;
        let bytes = repr.to_bytes(src, dst, mode).unwrap();
        prop_assert_eq!(bytes.len(), repr.buffer_len());
        let (parsed, parsed_mode) = Repr::parse_bytes(&bytes, src, dst).unwrap();
        prop_assert_eq!(&parsed, &repr);
        if parsed_mode != mode {
            prop_assert_eq!(mode, ChecksumMode::MessageOnly);
            prop_assert!(pseudo_header_is_neutral(src, dst, bytes.len()));
        }
        // Emit is canonical: the parsed value emits the same bytes again.
        prop_assert_eq!(parsed.to_bytes(src, dst, mode).unwrap(), bytes);
    }

    #[test]
    fn parse_never_panics_and_accepted_packets_reemit((bytes, src, dst) in arbitrary_input()) {
        if let Ok((repr, mode)) = Repr::parse_bytes(&bytes, src, dst) {
            let reemitted = repr.to_bytes(src, dst, mode).unwrap();
            prop_assert_eq!(Repr::parse_bytes(&reemitted, src, dst), Ok((repr, mode)));
        }
    }

    #[test]
    fn accessors_never_panic_after_check_len(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let Ok(packet) = Packet::new_checked(&bytes[..]) else {
            prop_assert!(bytes.len() < 8);
            return Ok(());
        };
        let _ = (packet.version(), packet.msg_type(), packet.vrid(), packet.priority());
        let _ = (packet.max_adver_int(), packet.v3_reserved(), packet.checksum());
        let _ = (packet.v2_auth_type(), packet.v2_adver_int(), packet.v2_auth_data());
        for family in [Family::Ipv4, Family::Ipv6] {
            let auth_len = if packet.version() == 2 { 8 } else { 0 };
            let addresses_end = packet.needed_len(family) - auth_len;
            prop_assert_eq!(packet.address_bytes(family).is_some(), bytes.len() >= addresses_end);
            for index in 0..=usize::from(packet.address_count()) {
                let _ = packet.address(family, index);
            }
        }
        // Setters on a checked buffer never panic either, whatever its length.
        let mut copy = bytes.clone();
        let mut writable = Packet::new_unchecked(&mut copy[..]);
        writable.set_version(3);
        writable.set_max_adver_int(u16::MAX);
        writable.set_checksum(0xffff);
        let _ = writable.address_bytes_mut(Family::Ipv6);
        let _ = writable.set_v2_auth_data([1; 8]);
    }

    #[test]
    fn a_flipped_bit_is_never_accepted_in_the_same_mode(case in valid_case(), bit in any::<prop::sample::Index>()) {
        let Case { repr, src, dst, mode } = case;
        let mut bytes = repr.to_bytes(src, dst, mode).unwrap();
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        match Repr::parse_bytes(&bytes, src, dst) {
            Err(_) => {}
            // Only VRRPv3 over IPv4 has a second mode the flip could happen to satisfy.
            Ok((_, parsed_mode)) => {
                prop_assert_eq!(repr.family(), Family::Ipv4);
                prop_assert_eq!(repr.version, Version::V3);
                prop_assert_ne!(parsed_mode, mode);
            }
        }
    }
}
