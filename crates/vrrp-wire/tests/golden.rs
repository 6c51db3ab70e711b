//! The golden vectors of docs/protocol.md §Golden vectors (recomputed independently with Python before
//! use), each through the four-test pattern: deconstruct (accessors), construct (setters), parse
//! (bytes -> Repr), emit (Repr -> bytes).

// Test helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DST4, DST6, SRC4, SRC6, VIP4, VIP6_GLOBAL, VIP6_LL, hex, internet_checksum};
use vrrp_wire::{Addresses, Auth, Centisecs, ChecksumMode, Family, Packet, Repr, Version};

fn interval(centiseconds: u16) -> Centisecs {
    Centisecs::new(centiseconds).unwrap()
}

mod v3_ipv4 {
    use super::*;

    const MESSAGE_ONLY: &str = "310164010064a834c0000264";
    const PSEUDO_HEADER: &str = "31016401006405a4c0000264";

    fn repr() -> Repr {
        Repr {
            version: Version::V3,
            vrid: 1,
            priority: 100,
            max_adver_int: interval(100),
            addresses: Addresses::V4(vec![VIP4]),
            auth: Auth::None,
        }
    }

    #[test]
    fn deconstruct() {
        let bytes = hex(PSEUDO_HEADER);
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.version(), 3);
        assert_eq!(packet.msg_type(), 1);
        assert_eq!(packet.vrid(), 1);
        assert_eq!(packet.priority(), 100);
        assert_eq!(packet.address_count(), 1);
        assert_eq!(packet.v3_reserved(), 0);
        assert_eq!(packet.max_adver_int(), 100);
        assert_eq!(packet.checksum(), 0x05a4);
        assert_eq!(packet.needed_len(Family::Ipv4), 12);
        assert_eq!(
            packet.address_bytes(Family::Ipv4),
            Some(&[192, 0, 2, 100][..])
        );
        assert_eq!(packet.address(Family::Ipv4, 0), Some(VIP4.into()));
        assert_eq!(packet.address(Family::Ipv4, 1), None);
        // The same bytes read as IPv6 need 24 bytes the buffer does not have.
        assert_eq!(packet.address_bytes(Family::Ipv6), None);
    }

    #[test]
    fn construct() {
        let mut bytes = vec![0xff; 12];
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_version(3);
        packet.set_msg_type(1);
        packet.set_vrid(1);
        packet.set_priority(100);
        packet.set_address_count(1);
        packet.set_max_adver_int(100);
        packet.set_checksum(0xa834);
        packet
            .address_bytes_mut(Family::Ipv4)
            .unwrap()
            .copy_from_slice(&VIP4.octets());
        assert_eq!(bytes, hex(MESSAGE_ONLY));
    }

    #[test]
    fn parse_message_only() {
        let bytes = hex(MESSAGE_ONLY);
        let parsed = Repr::parse(&Packet::new_checked(&bytes[..]).unwrap(), SRC4, DST4);
        assert_eq!(parsed, Ok((repr(), ChecksumMode::MessageOnly)));
    }

    #[test]
    fn parse_pseudo_header() {
        let bytes = hex(PSEUDO_HEADER);
        let parsed = Repr::parse_bytes(&bytes, SRC4, DST4);
        assert_eq!(parsed, Ok((repr(), ChecksumMode::PseudoHeader)));
    }

    #[test]
    fn emit_message_only() {
        assert_eq!(repr().buffer_len(), 12);
        let bytes = repr()
            .to_bytes(SRC4, DST4, ChecksumMode::MessageOnly)
            .unwrap();
        assert_eq!(bytes, hex(MESSAGE_ONLY));
    }

    #[test]
    fn emit_pseudo_header_into_larger_buffer_writes_only_buffer_len() {
        let mut buffer = [0xee; 20];
        let mut packet = Packet::new_unchecked(&mut buffer[..]);
        repr()
            .emit(&mut packet, SRC4, DST4, ChecksumMode::PseudoHeader)
            .unwrap();
        assert_eq!(&buffer[..12], &hex(PSEUDO_HEADER)[..]);
        assert_eq!(&buffer[12..], &[0xee; 8]);
    }

    #[test]
    fn reserved_bits_are_ignored_on_receive_and_zeroed_on_send() {
        // RFC 5798 §5.2.6. Byte 4 gets 0xf0; the checksum is recomputed for the changed byte.
        let mut bytes = hex(MESSAGE_ONLY);
        bytes[4] = 0xf0;
        bytes[6..8].copy_from_slice(&[0, 0]);
        let checksum = internet_checksum(&[&bytes]);
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_checksum(checksum);
        assert_eq!(packet.v3_reserved(), 0xf);
        assert_eq!(packet.max_adver_int(), 100);
        let (parsed, _) = Repr::parse_bytes(&bytes, SRC4, DST4).unwrap();
        assert_eq!(parsed, repr());
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_max_adver_int(100);
        assert_eq!(packet.v3_reserved(), 0);
    }
}

mod v3_ipv6 {
    use super::*;

    /// src fe80::1, dst ff02::12, VIPs fe80::100 and 2001:db8::100: checksum 0x3e2f (docs/protocol.md
    /// §Golden vectors).
    const PACKET: &str =
        "3101640200643e2f fe800000000000000000000000000100 20010db8000000000000000000000100";

    fn repr() -> Repr {
        Repr {
            version: Version::V3,
            vrid: 1,
            priority: 100,
            max_adver_int: interval(100),
            addresses: Addresses::V6(vec![VIP6_LL, VIP6_GLOBAL]),
            auth: Auth::None,
        }
    }

    #[test]
    fn deconstruct() {
        let bytes = hex(PACKET);
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!((packet.version(), packet.msg_type()), (3, 1));
        assert_eq!((packet.vrid(), packet.priority()), (1, 100));
        assert_eq!(packet.address_count(), 2);
        assert_eq!(packet.max_adver_int(), 100);
        assert_eq!(packet.checksum(), 0x3e2f);
        assert_eq!(packet.needed_len(Family::Ipv6), 40);
        assert_eq!(packet.address(Family::Ipv6, 0), Some(VIP6_LL.into()));
        assert_eq!(packet.address(Family::Ipv6, 1), Some(VIP6_GLOBAL.into()));
        assert_eq!(packet.address(Family::Ipv6, 2), None);
    }

    #[test]
    fn construct() {
        let mut bytes = vec![0; 40];
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_version(3);
        packet.set_msg_type(1);
        packet.set_vrid(1);
        packet.set_priority(100);
        packet.set_address_count(2);
        packet.set_max_adver_int(100);
        packet.set_checksum(0x3e2f);
        let slots = packet.address_bytes_mut(Family::Ipv6).unwrap();
        slots[..16].copy_from_slice(&VIP6_LL.octets());
        slots[16..].copy_from_slice(&VIP6_GLOBAL.octets());
        assert_eq!(bytes, hex(PACKET));
    }

    #[test]
    fn parse() {
        let parsed = Repr::parse_bytes(&hex(PACKET), SRC6, DST6);
        assert_eq!(parsed, Ok((repr(), ChecksumMode::PseudoHeader)));
    }

    #[test]
    fn emit() {
        assert_eq!(repr().buffer_len(), 40);
        let bytes = repr()
            .to_bytes(SRC6, DST6, ChecksumMode::PseudoHeader)
            .unwrap();
        assert_eq!(bytes, hex(PACKET));
    }

    #[test]
    fn checksum_mode_is_forced_to_pseudo_header() {
        assert_eq!(
            repr().checksum_mode(ChecksumMode::MessageOnly),
            ChecksumMode::PseudoHeader
        );
    }
}

mod v2_no_auth {
    use super::*;

    const PACKET: &str = "210164010001b897c00002640000000000000000";

    fn repr() -> Repr {
        Repr {
            version: Version::V2,
            vrid: 1,
            priority: 100,
            max_adver_int: interval(100),
            addresses: Addresses::V4(vec![VIP4]),
            auth: Auth::None,
        }
    }

    #[test]
    fn deconstruct() {
        let bytes = hex(PACKET);
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!((packet.version(), packet.msg_type()), (2, 1));
        assert_eq!((packet.vrid(), packet.priority()), (1, 100));
        assert_eq!(packet.address_count(), 1);
        assert_eq!(packet.v2_auth_type(), 0);
        assert_eq!(packet.v2_adver_int(), 1);
        assert_eq!(packet.checksum(), 0xb897);
        assert_eq!(packet.needed_len(Family::Ipv4), 20);
        assert_eq!(packet.address(Family::Ipv4, 0), Some(VIP4.into()));
        assert_eq!(packet.v2_auth_data(), Some([0; 8]));
    }

    #[test]
    fn construct() {
        let mut bytes = vec![0x55; 20];
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_version(2);
        packet.set_msg_type(1);
        packet.set_vrid(1);
        packet.set_priority(100);
        packet.set_address_count(1);
        packet.set_v2_auth_type(0);
        packet.set_v2_adver_int(1);
        packet.set_checksum(0xb897);
        packet
            .address_bytes_mut(Family::Ipv4)
            .unwrap()
            .copy_from_slice(&VIP4.octets());
        packet.set_v2_auth_data([0; 8]).unwrap();
        assert_eq!(bytes, hex(PACKET));
    }

    #[test]
    fn parse() {
        let parsed = Repr::parse_bytes(&hex(PACKET), SRC4, DST4);
        assert_eq!(parsed, Ok((repr(), ChecksumMode::MessageOnly)));
    }

    #[test]
    fn emit() {
        assert_eq!(repr().buffer_len(), 20);
        let bytes = repr()
            .to_bytes(SRC4, DST4, ChecksumMode::MessageOnly)
            .unwrap();
        assert_eq!(bytes, hex(PACKET));
    }

    #[test]
    fn auth_data_of_type_0_is_ignored_on_receive() {
        // RFC 3768 §5.3.6.1: junk in the auth data of a type-0 packet, checksum recomputed.
        let mut bytes = hex(PACKET);
        bytes[18] = 0xab;
        bytes[6..8].copy_from_slice(&[0, 0]);
        let checksum = internet_checksum(&[&bytes]);
        bytes[6..8].copy_from_slice(&checksum.to_be_bytes());
        let parsed = Repr::parse_bytes(&bytes, SRC4, DST4);
        assert_eq!(parsed, Ok((repr(), ChecksumMode::MessageOnly)));
    }
}

mod v2_password {
    use super::*;

    /// Auth type 1, password "secret", zero padded; checksum from Python.
    const PACKET: &str = "2101640101017b4bc00002647365637265740000";
    const PASSWORD: [u8; 8] = *b"secret\0\0";

    fn repr() -> Repr {
        Repr {
            version: Version::V2,
            vrid: 1,
            priority: 100,
            max_adver_int: interval(100),
            addresses: Addresses::V4(vec![VIP4]),
            auth: Auth::SimplePassword(PASSWORD),
        }
    }

    #[test]
    fn deconstruct() {
        let bytes = hex(PACKET);
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.version(), 2);
        assert_eq!(packet.v2_auth_type(), 1);
        assert_eq!(packet.v2_adver_int(), 1);
        assert_eq!(packet.checksum(), 0x7b4b);
        assert_eq!(packet.v2_auth_data(), Some(PASSWORD));
    }

    #[test]
    fn construct() {
        let mut bytes = vec![0; 20];
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_version(2);
        packet.set_msg_type(1);
        packet.set_vrid(1);
        packet.set_priority(100);
        packet.set_address_count(1);
        packet.set_v2_auth_type(1);
        packet.set_v2_adver_int(1);
        packet.set_checksum(0x7b4b);
        packet
            .address_bytes_mut(Family::Ipv4)
            .unwrap()
            .copy_from_slice(&VIP4.octets());
        packet.set_v2_auth_data(PASSWORD).unwrap();
        assert_eq!(bytes, hex(PACKET));
    }

    #[test]
    fn parse() {
        let parsed = Repr::parse_bytes(&hex(PACKET), SRC4, DST4);
        assert_eq!(parsed, Ok((repr(), ChecksumMode::MessageOnly)));
    }

    #[test]
    fn emit() {
        let bytes = repr()
            .to_bytes(SRC4, DST4, ChecksumMode::MessageOnly)
            .unwrap();
        assert_eq!(bytes, hex(PACKET));
    }

    #[test]
    fn a_different_password_is_carried_not_judged() {
        // Comparing passwords is the daemon's job; the checksum still covers the auth data.
        let mut other = repr();
        other.auth = Auth::SimplePassword(*b"other\0\0\0");
        let bytes = other
            .to_bytes(SRC4, DST4, ChecksumMode::MessageOnly)
            .unwrap();
        assert_ne!(bytes, hex(PACKET));
        assert_eq!(
            Repr::parse_bytes(&bytes, SRC4, DST4),
            Ok((other, ChecksumMode::MessageOnly))
        );
    }
}
