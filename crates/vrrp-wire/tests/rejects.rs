//! One negative test per `WireError` variant (with a valid checksum wherever the rule comes after the
//! checksum, so the test hits the rule it names), and the order of the checks.

// Test helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::net::IpAddr;

use common::*;
use vrrp_wire::{
    Addresses, ChecksumMode, FamilyMismatchKind, Packet, Repr, WireError, check_hop_limit,
};

/// The v3 IPv4 message-only vector of docs/protocol.md §Golden vectors: VRID 1, prio 100, 100 cs, VIP
/// 192.0.2.100.
fn v3_ipv4() -> Vec<u8> {
    hex("310164010064a834c0000264")
}

fn v3_ipv6() -> Vec<u8> {
    hex("3101640200643e2f fe800000000000000000000000000100 20010db8000000000000000000000100")
}

fn v2() -> Vec<u8> {
    hex("210164010001b897c00002640000000000000000")
}

fn parse4(bytes: &[u8]) -> Result<(Repr, ChecksumMode), WireError> {
    Repr::parse_bytes(bytes, SRC4, DST4)
}

fn parse6(bytes: &[u8]) -> Result<(Repr, ChecksumMode), WireError> {
    Repr::parse_bytes(bytes, SRC6, DST6)
}

#[test]
fn bad_hop_limit_is_anything_but_255() {
    assert_eq!(check_hop_limit(255), Ok(()));
    assert_eq!(
        check_hop_limit(254),
        Err(WireError::BadHopLimit { received: 254 })
    );
    assert_eq!(
        check_hop_limit(1),
        Err(WireError::BadHopLimit { received: 1 })
    );
}

#[test]
fn truncated_below_the_8_byte_header() {
    let bytes = v3_ipv4();
    assert_eq!(parse4(&bytes[..7]), Err(WireError::Truncated { len: 7 }));
    assert_eq!(parse4(&[]), Err(WireError::Truncated { len: 0 }));
    assert_eq!(
        Packet::new_checked(&bytes[..7]).map(|_| ()),
        Err(WireError::Truncated { len: 7 })
    );
}

#[test]
fn bad_version_other_than_2_and_3() {
    for version in [0u8, 1, 4, 15] {
        let mut bytes = v3_ipv4();
        bytes[0] = version << 4 | 1;
        assert_eq!(parse4(&bytes), Err(WireError::BadVersion { version }));
    }
}

#[test]
fn bad_type_other_than_advertisement() {
    let mut bytes = v3_ipv4();
    bytes[0] = 0x32;
    fix_checksum_message_only(&mut bytes);
    assert_eq!(parse4(&bytes), Err(WireError::BadType { msg_type: 2 }));
}

#[test]
fn too_short_for_the_address_count() {
    let mut bytes = v3_ipv4();
    bytes[3] = 2;
    assert_eq!(
        parse4(&bytes),
        Err(WireError::TooShort {
            needed: 16,
            len: 12
        })
    );
    // v2 without its 8 bytes of authentication data.
    assert_eq!(
        parse4(&v2()[..12]),
        Err(WireError::TooShort {
            needed: 20,
            len: 12
        })
    );
    // IPv6 with one of its two addresses cut off.
    assert_eq!(
        parse6(&v3_ipv6()[..24]),
        Err(WireError::TooShort {
            needed: 40,
            len: 24
        })
    );
}

#[test]
fn bad_checksum() {
    let mut bytes = v3_ipv4();
    bytes[2] = 101;
    assert_eq!(
        parse4(&bytes),
        Err(WireError::BadChecksum { received: 0xa834 })
    );
    // The pseudo-header vector sent to another group does not verify either way.
    let pseudo = hex("31016401006405a4c0000264");
    let other_dst: IpAddr = "224.0.0.19".parse().unwrap();
    assert_eq!(
        Repr::parse_bytes(&pseudo, SRC4, other_dst),
        Err(WireError::BadChecksum { received: 0x05a4 })
    );
}

#[test]
fn bad_checksum_when_ipv6_omits_its_pseudo_header() {
    let mut bytes = v3_ipv6();
    fix_checksum_message_only(&mut bytes);
    let received = u16::from_be_bytes([bytes[6], bytes[7]]);
    assert_eq!(parse6(&bytes), Err(WireError::BadChecksum { received }));
}

#[test]
fn bad_checksum_when_v2_includes_a_pseudo_header() {
    let mut bytes = v2();
    fix_checksum_ipv4_pseudo(&mut bytes, v4(SRC4), v4(DST4));
    let received = u16::from_be_bytes([bytes[6], bytes[7]]);
    assert_eq!(parse4(&bytes), Err(WireError::BadChecksum { received }));
}

#[test]
fn address_count_zero() {
    let mut bytes = v3_ipv4()[..8].to_vec();
    bytes[3] = 0;
    fix_checksum_message_only(&mut bytes);
    assert_eq!(parse4(&bytes), Err(WireError::AddressCountZero));
}

#[test]
fn interval_zero_v3() {
    let mut bytes = v3_ipv4();
    bytes[4..6].copy_from_slice(&[0xf0, 0]); // reserved bits set, interval 0
    fix_checksum_message_only(&mut bytes);
    assert_eq!(parse4(&bytes), Err(WireError::IntervalZero));
}

#[test]
fn interval_zero_v2() {
    let mut bytes = v2();
    bytes[5] = 0;
    fix_checksum_message_only(&mut bytes);
    assert_eq!(parse4(&bytes), Err(WireError::IntervalZero));
}

#[test]
fn unknown_auth_type() {
    for auth_type in [2u8, 3, 255] {
        let mut bytes = v2();
        bytes[4] = auth_type;
        fix_checksum_message_only(&mut bytes);
        assert_eq!(
            parse4(&bytes),
            Err(WireError::UnknownAuthType { auth_type })
        );
    }
}

/// RFC 5798 §7.1 has no rule on the first IPv6 address: a global-only list (keepalived's and FRR's
/// adverts for `2001:db8::254/64`) or one with the link-local address second is accepted as sent.
#[test]
fn ipv6_list_without_link_local_first_is_accepted() {
    let mut bytes = v3_ipv6();
    let (first, second) = bytes[8..].split_at_mut(16);
    first.swap_with_slice(second);
    fix_checksum_ipv6_pseudo(&mut bytes, v6(SRC6), v6(DST6));
    let (parsed, _) = parse6(&bytes).unwrap();
    assert_eq!(parsed.addresses, Addresses::V6(vec![VIP6_GLOBAL, VIP6_LL]));

    // One global address only, count 1.
    let mut bytes = v3_ipv6();
    bytes[3] = 1;
    bytes.drain(8..24);
    fix_checksum_ipv6_pseudo(&mut bytes, v6(SRC6), v6(DST6));
    let (parsed, _) = parse6(&bytes).unwrap();
    assert_eq!(parsed.addresses, Addresses::V6(vec![VIP6_GLOBAL]));
}

#[test]
fn family_mismatch_mixed_ip_header() {
    let mixed = Err(WireError::FamilyMismatch {
        kind: FamilyMismatchKind::MixedIpHeader,
    });
    assert_eq!(Repr::parse_bytes(&v3_ipv4(), SRC4, DST6), mixed);
    assert_eq!(Repr::parse_bytes(&v3_ipv6(), SRC6, DST4), mixed);
}

#[test]
fn family_mismatch_v2_over_ipv6() {
    // keepalived's non-standard v2 over IPv6: no auth data, kernel-made pseudo-header checksum.
    let mut bytes = v3_ipv6();
    bytes[0] = 0x21;
    bytes[4..6].copy_from_slice(&[0, 1]);
    fix_checksum_ipv6_pseudo(&mut bytes, v6(SRC6), v6(DST6));
    let expected = Err(WireError::FamilyMismatch {
        kind: FamilyMismatchKind::V2OverIpv6,
    });
    assert_eq!(parse6(&bytes), expected);
}

#[test]
fn family_mismatch_ipv4_packet_sized_for_ipv6_addresses() {
    // One address, 8 + 16 bytes: the IPv6 layout arriving on IPv4.
    let mut bytes = v3_ipv4();
    bytes.extend_from_slice(&[0; 12]);
    fix_checksum_ipv4_pseudo(&mut bytes, v4(SRC4), v4(DST4));
    let expected = Err(WireError::FamilyMismatch {
        kind: FamilyMismatchKind::Ipv6SizedAddresses,
    });
    assert_eq!(parse4(&bytes), expected);
}

#[test]
fn too_long_with_trailing_bytes() {
    let mut bytes = v3_ipv4();
    bytes.extend_from_slice(&[0, 0]);
    // Zero bytes change no sum, but the pseudo-header length does: message-only still verifies.
    assert_eq!(
        parse4(&bytes),
        Err(WireError::TooLong {
            expected: 12,
            len: 14
        })
    );
    let mut odd = v2();
    odd.push(0x80);
    fix_checksum_message_only(&mut odd);
    assert_eq!(
        parse4(&odd),
        Err(WireError::TooLong {
            expected: 20,
            len: 21
        })
    );
}

#[test]
fn checks_run_in_design_order() {
    // version before checksum: a bad version with a broken checksum reports the version.
    let mut bytes = v3_ipv4();
    bytes[0] = 0x41;
    bytes[2] = 7;
    assert_eq!(parse4(&bytes), Err(WireError::BadVersion { version: 4 }));
    // type before length.
    let mut bytes = v3_ipv4();
    bytes[0] = 0x30;
    bytes[3] = 9;
    assert_eq!(parse4(&bytes), Err(WireError::BadType { msg_type: 0 }));
    // length before checksum.
    let mut bytes = v3_ipv4();
    bytes[3] = 3;
    assert!(matches!(parse4(&bytes), Err(WireError::TooShort { .. })));
    // checksum before count.
    let mut bytes = v3_ipv4()[..8].to_vec();
    bytes[3] = 0;
    assert!(matches!(parse4(&bytes), Err(WireError::BadChecksum { .. })));
    // count before interval.
    bytes[4..6].copy_from_slice(&[0, 0]);
    fix_checksum_message_only(&mut bytes);
    assert_eq!(parse4(&bytes), Err(WireError::AddressCountZero));
    // interval before the final length check.
    let mut bytes = v3_ipv6();
    bytes[4..6].copy_from_slice(&[0, 0]);
    bytes.extend_from_slice(&[0; 4]);
    fix_checksum_ipv6_pseudo(&mut bytes, v6(SRC6), v6(DST6));
    assert_eq!(parse6(&bytes), Err(WireError::IntervalZero));
}

#[test]
fn reasons_are_distinct_and_listed() {
    let errors = [
        WireError::BadHopLimit { received: 1 },
        WireError::Truncated { len: 0 },
        WireError::BadVersion { version: 4 },
        WireError::BadType { msg_type: 2 },
        WireError::TooShort {
            needed: 16,
            len: 12,
        },
        WireError::BadChecksum { received: 0 },
        WireError::AddressCountZero,
        WireError::IntervalZero,
        WireError::UnknownAuthType { auth_type: 2 },
        WireError::FamilyMismatch {
            kind: FamilyMismatchKind::V2OverIpv6,
        },
        WireError::TooLong {
            expected: 12,
            len: 14,
        },
    ];
    let reasons: Vec<&str> = errors.iter().map(WireError::reason).collect();
    assert_eq!(reasons, WireError::ALL_REASONS);
    assert_eq!(reasons.iter().collect::<HashSet<_>>().len(), reasons.len());
    assert_eq!(
        WireError::BadChecksum { received: 0 }.reason(),
        "bad_checksum"
    );
    for reason in reasons {
        assert!(
            reason
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        );
    }
}
