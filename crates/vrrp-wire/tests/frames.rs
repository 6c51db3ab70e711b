//! Gratuitous ARP and unsolicited NA frames through the four-test pattern. The expected bytes were
//! computed with Python (checksum included); pnet_packet's views give a second, independent reading
//! (deconstruct) and writing (construct) of the same bytes, and its ICMPv6 checksum a second sum.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};

use common::hex;
use pnet_packet::Packet as _;
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet_packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::icmpv6::ndp::{
    MutableNeighborAdvertPacket, NdpOption, NdpOptionTypes, NeighborAdvertFlags,
    NeighborAdvertPacket,
};
use pnet_packet::icmpv6::{self, Icmpv6Code, Icmpv6Packet, Icmpv6Types};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv6::{Ipv6Packet, MutableIpv6Packet};
use vrrp_wire::{FrameError, GratuitousArp, MacAddr, UnsolicitedNa};

/// pnet's MacAddr lives in pnet_base, which this crate does not depend on: get one from a parsed
/// Ethernet header instead of naming the type.
macro_rules! pnet_mac {
    ($bytes:expr) => {{
        let mut raw = [0u8; 14];
        raw[..6].copy_from_slice(&$bytes);
        EthernetPacket::new(&raw).unwrap().get_destination()
    }};
}

const VRRP_MAC_V4: MacAddr = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x01];
const VRRP_MAC_V6: MacAddr = [0x00, 0x00, 0x5e, 0x00, 0x02, 0x01];
const VIP4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);

mod garp {
    use super::*;

    const FRAME: &str = "ffffffffffff 00005e000101 0806 0001 0800 06 04 0001 00005e000101 c0000264 \
                         000000000000 c0000264";

    fn garp() -> GratuitousArp {
        GratuitousArp {
            sender_mac: VRRP_MAC_V4,
            vip: VIP4,
        }
    }

    #[test]
    fn deconstruct() {
        let frame = hex(FRAME);
        let ethernet = EthernetPacket::new(&frame).unwrap();
        assert_eq!(ethernet.get_destination().octets(), [0xff; 6]);
        assert_eq!(ethernet.get_source().octets(), VRRP_MAC_V4);
        assert_eq!(ethernet.get_ethertype(), EtherTypes::Arp);
        let arp = ArpPacket::new(ethernet.payload()).unwrap();
        assert_eq!(arp.get_hardware_type(), ArpHardwareTypes::Ethernet);
        assert_eq!(arp.get_protocol_type(), EtherTypes::Ipv4);
        assert_eq!((arp.get_hw_addr_len(), arp.get_proto_addr_len()), (6, 4));
        assert_eq!(arp.get_operation(), ArpOperations::Request);
        assert_eq!(arp.get_sender_hw_addr().octets(), VRRP_MAC_V4);
        assert_eq!(arp.get_sender_proto_addr(), VIP4);
        assert_eq!(arp.get_target_hw_addr().octets(), [0; 6]);
        assert_eq!(arp.get_target_proto_addr(), VIP4);
    }

    #[test]
    fn construct() {
        let mut frame = vec![0xaa; GratuitousArp::FRAME_LEN];
        let mut ethernet = MutableEthernetPacket::new(&mut frame).unwrap();
        ethernet.set_destination(pnet_mac!([0xff; 6]));
        ethernet.set_source(pnet_mac!(VRRP_MAC_V4));
        ethernet.set_ethertype(EtherTypes::Arp);
        let mut arp = MutableArpPacket::new(&mut frame[14..]).unwrap();
        arp.set_hardware_type(ArpHardwareTypes::Ethernet);
        arp.set_protocol_type(EtherTypes::Ipv4);
        arp.set_hw_addr_len(6);
        arp.set_proto_addr_len(4);
        arp.set_operation(ArpOperations::Request);
        arp.set_sender_hw_addr(pnet_mac!(VRRP_MAC_V4));
        arp.set_sender_proto_addr(VIP4);
        arp.set_target_hw_addr(pnet_mac!([0; 6]));
        arp.set_target_proto_addr(VIP4);
        assert_eq!(frame, hex(FRAME));
    }

    #[test]
    fn parse() {
        assert_eq!(GratuitousArp::parse(&hex(FRAME)), Ok(garp()));
        // Ethernet padding to the 60-byte minimum, as a capture shows it, is ignored.
        let mut padded = hex(FRAME);
        padded.resize(60, 0);
        assert_eq!(GratuitousArp::parse(&padded), Ok(garp()));
    }

    #[test]
    fn emit() {
        assert_eq!(garp().to_frame().to_vec(), hex(FRAME));
    }

    #[test]
    fn parse_rejects_other_arp() {
        let frame = hex(FRAME);
        assert_eq!(
            GratuitousArp::parse(&frame[..41]),
            Err(FrameError::Truncated {
                len: 41,
                needed: 42
            })
        );
        let mut reply = frame.clone();
        reply[21] = 2;
        assert!(matches!(
            GratuitousArp::parse(&reply),
            Err(FrameError::Unexpected { .. })
        ));
        let mut ordinary_request = frame.clone();
        ordinary_request[41] = 1; // target IP 192.0.2.1: asking for someone else
        assert!(matches!(
            GratuitousArp::parse(&ordinary_request),
            Err(FrameError::Unexpected { .. })
        ));
        let mut unicast = frame;
        unicast[0] = 0x02;
        assert_eq!(
            GratuitousArp::parse(&unicast),
            Err(FrameError::Unexpected {
                field: "Ethernet destination"
            })
        );
    }
}

mod na {
    use super::*;

    /// R and O set, S clear; ICMPv6 checksum 0x4963 (Python).
    const FRAME: &str = "333300000001 00005e000201 86dd \
        60000000 0020 3a ff fe800000000000000000000000000001 ff020000000000000000000000000001 \
        88 00 4963 a0000000 20010db8000000000000000000000100 02 01 00005e000201";
    /// The same with no flags: checksum 0xe963.
    const FRAME_NO_FLAGS: &str = "333300000001 00005e000201 86dd \
        60000000 0020 3a ff fe800000000000000000000000000001 ff020000000000000000000000000001 \
        88 00 e963 00000000 20010db8000000000000000000000100 02 01 00005e000201";

    fn na() -> UnsolicitedNa {
        UnsolicitedNa::for_virtual_router(VRRP_MAC_V6, LINK_LOCAL, VIP6)
    }

    #[test]
    fn deconstruct() {
        let frame = hex(FRAME);
        let ethernet = EthernetPacket::new(&frame).unwrap();
        assert_eq!(
            ethernet.get_destination().octets(),
            [0x33, 0x33, 0, 0, 0, 1]
        );
        assert_eq!(ethernet.get_source().octets(), VRRP_MAC_V6);
        assert_eq!(ethernet.get_ethertype(), EtherTypes::Ipv6);
        let ipv6 = Ipv6Packet::new(ethernet.payload()).unwrap();
        assert_eq!(ipv6.get_version(), 6);
        assert_eq!(ipv6.get_payload_length(), 32);
        assert_eq!(ipv6.get_next_header(), IpNextHeaderProtocols::Icmpv6);
        assert_eq!(ipv6.get_hop_limit(), 255);
        assert_eq!(ipv6.get_source(), LINK_LOCAL);
        assert_eq!(ipv6.get_destination(), ALL_NODES);
        let advert = NeighborAdvertPacket::new(ipv6.payload()).unwrap();
        assert_eq!(advert.get_icmpv6_type(), Icmpv6Types::NeighborAdvert);
        assert_eq!(advert.get_icmpv6_code(), Icmpv6Code(0));
        assert_eq!(
            advert.get_flags(),
            NeighborAdvertFlags::Router | NeighborAdvertFlags::Override
        );
        assert_eq!(advert.get_target_addr(), VIP6);
        let options = advert.get_options();
        assert_eq!(options.len(), 1);
        assert_eq!(options[0].option_type, NdpOptionTypes::TargetLLAddr);
        assert_eq!(options[0].length, 1);
        assert_eq!(options[0].data, VRRP_MAC_V6);
        // pnet's own ICMPv6 checksum agrees with the stored one.
        let icmp = Icmpv6Packet::new(ipv6.payload()).unwrap();
        assert_eq!(advert.get_checksum(), 0x4963);
        assert_eq!(icmpv6::checksum(&icmp, &LINK_LOCAL, &ALL_NODES), 0x4963);
    }

    #[test]
    fn construct() {
        let mut frame = vec![0; UnsolicitedNa::FRAME_LEN];
        let mut ethernet = MutableEthernetPacket::new(&mut frame).unwrap();
        ethernet.set_destination(pnet_mac!([0x33, 0x33, 0, 0, 0, 1]));
        ethernet.set_source(pnet_mac!(VRRP_MAC_V6));
        ethernet.set_ethertype(EtherTypes::Ipv6);
        let mut ipv6 = MutableIpv6Packet::new(&mut frame[14..]).unwrap();
        ipv6.set_version(6);
        ipv6.set_payload_length(32);
        ipv6.set_next_header(IpNextHeaderProtocols::Icmpv6);
        ipv6.set_hop_limit(255);
        ipv6.set_source(LINK_LOCAL);
        ipv6.set_destination(ALL_NODES);
        let mut advert = MutableNeighborAdvertPacket::new(&mut frame[54..]).unwrap();
        advert.set_icmpv6_type(Icmpv6Types::NeighborAdvert);
        advert.set_icmpv6_code(Icmpv6Code(0));
        advert.set_flags(NeighborAdvertFlags::Router | NeighborAdvertFlags::Override);
        advert.set_target_addr(VIP6);
        advert.set_options(&[NdpOption {
            option_type: NdpOptionTypes::TargetLLAddr,
            length: 1,
            data: VRRP_MAC_V6.to_vec(),
        }]);
        let checksum = icmpv6::checksum(
            &Icmpv6Packet::new(&frame[54..]).unwrap(),
            &LINK_LOCAL,
            &ALL_NODES,
        );
        MutableNeighborAdvertPacket::new(&mut frame[54..])
            .unwrap()
            .set_checksum(checksum);
        assert_eq!(frame, hex(FRAME));
    }

    #[test]
    fn parse() {
        assert_eq!(UnsolicitedNa::parse(&hex(FRAME)), Ok(na()));
        let no_flags = UnsolicitedNa {
            router: false,
            override_flag: false,
            ..na()
        };
        assert_eq!(UnsolicitedNa::parse(&hex(FRAME_NO_FLAGS)), Ok(no_flags));
    }

    #[test]
    fn emit() {
        assert_eq!(na().to_frame().to_vec(), hex(FRAME));
        let no_flags = UnsolicitedNa {
            router: false,
            override_flag: false,
            ..na()
        };
        assert_eq!(no_flags.to_frame().to_vec(), hex(FRAME_NO_FLAGS));
    }

    #[test]
    fn emitted_checksum_agrees_with_pnet_for_other_addresses() {
        let other = UnsolicitedNa {
            src_mac: [0x02, 0x42, 0xac, 0x11, 0x00, 0x07],
            src_ip: "fe80::42:acff:fe11:7".parse().unwrap(),
            vip: "2001:db8:ffff::beef".parse().unwrap(),
            router: false,
            override_flag: true,
        };
        let frame = other.to_frame();
        let icmp = Icmpv6Packet::new(&frame[54..]).unwrap();
        let stored = u16::from_be_bytes([frame[56], frame[57]]);
        assert_eq!(icmpv6::checksum(&icmp, &other.src_ip, &ALL_NODES), stored);
        assert_eq!(UnsolicitedNa::parse(&frame), Ok(other));
    }

    #[test]
    fn parse_rejects_solicited_corrupt_and_routed_frames() {
        let frame = hex(FRAME);
        assert_eq!(
            UnsolicitedNa::parse(&frame[..85]),
            Err(FrameError::Truncated {
                len: 85,
                needed: 86
            })
        );
        // RFC 4861 §7.2.6: an unsolicited advertisement has S clear.
        let mut solicited = frame.clone();
        solicited[58] |= 0x40;
        assert_eq!(
            UnsolicitedNa::parse(&solicited),
            Err(FrameError::Unexpected {
                field: "Solicited flag"
            })
        );
        let mut corrupt = frame.clone();
        corrupt[70] ^= 1;
        assert_eq!(UnsolicitedNa::parse(&corrupt), Err(FrameError::BadChecksum));
        // RFC 4861 §7.1.2: hop limit 255, or it crossed a router.
        let mut routed = frame;
        routed[21] = 254;
        assert_eq!(
            UnsolicitedNa::parse(&routed),
            Err(FrameError::Unexpected { field: "hop limit" })
        );
    }
}
