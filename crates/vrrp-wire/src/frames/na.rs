//! Unsolicited Neighbor Advertisement (RFC 4861 §4.4, §7.2.6; RFC 5798 §6.4.1 (130)).

use std::net::Ipv6Addr;

use super::{FrameError, MacAddr, array, check_len, expect};
use crate::checksum::{Sum, ipv6_pseudo_header};

/// All-nodes multicast ff02::1 and its Ethernet mapping 33:33:00:00:00:01 (RFC 2464 §7).
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const ALL_NODES_MAC: MacAddr = [0x33, 0x33, 0, 0, 0, 1];
const ETHERTYPE_IPV6: [u8; 2] = [0x86, 0xdd];
const NEXT_HEADER_ICMPV6: u8 = 58;
/// RFC 4861 §7.1.2: ND messages are sent with, and must arrive with, hop limit 255.
const HOP_LIMIT: u8 = 255;
const ICMPV6_NEIGHBOR_ADVERTISEMENT: u8 = 136;
/// ICMPv6 NA (type, code, checksum, flags + reserved, target: 24) + one Target Link-Layer Address
/// option (type 2, length 1 unit of 8 bytes, MAC: 8).
const ICMPV6_LEN: u16 = 32;
const OPTION_TARGET_LINK_LAYER_ADDRESS: u8 = 2;

const FLAG_ROUTER: u8 = 0x80;
const FLAG_SOLICITED: u8 = 0x40;
const FLAG_OVERRIDE: u8 = 0x20;

mod offset {
    pub const ETH_DST: usize = 0;
    pub const ETH_SRC: usize = 6;
    pub const ETHERTYPE: usize = 12;
    pub const IPV6: usize = 14;
    pub const PAYLOAD_LEN: usize = 18;
    pub const NEXT_HEADER: usize = 20;
    pub const HOP_LIMIT: usize = 21;
    pub const SRC: usize = 22;
    pub const DST: usize = 38;
    pub const ICMPV6: usize = 54;
    pub const CHECKSUM: usize = 56;
    pub const FLAGS: usize = 58;
    pub const TARGET: usize = 62;
    pub const OPTION: usize = 78;
    pub const OPTION_MAC: usize = 80;
}

/// "`vip` is at `src_mac`", multicast to all nodes so their neighbor caches follow the new master.
///
/// The Solicited flag is not a field: RFC 4861 §7.2.6 says an unsolicited advertisement has it
/// zero, and this type builds nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnsolicitedNa {
    /// Ethernet source and Target Link-Layer Address: the interface (or virtual) MAC.
    pub src_mac: MacAddr,
    /// IPv6 source: the interface's link-local address.
    pub src_ip: Ipv6Addr,
    /// Target address: the virtual address being announced.
    pub vip: Ipv6Addr,
    /// R flag: the sender is a router.
    pub router: bool,
    /// O flag: override existing cache entries (what a takeover needs).
    pub override_flag: bool,
}

impl UnsolicitedNa {
    /// Ethernet (14) + IPv6 (40) + ICMPv6 NA with one option (32).
    pub const FRAME_LEN: usize = 86;

    /// The advertisement RFC 5798 §6.4.1 (130) prescribes for a new master: "Router Flag (R) set,
    /// the Solicited Flag (S) unset, the Override flag (O) set".
    pub fn for_virtual_router(src_mac: MacAddr, src_ip: Ipv6Addr, vip: Ipv6Addr) -> UnsolicitedNa {
        UnsolicitedNa {
            src_mac,
            src_ip,
            vip,
            router: true,
            override_flag: true,
        }
    }

    fn flags(&self) -> u8 {
        let router = if self.router { FLAG_ROUTER } else { 0 };
        let override_flag = if self.override_flag { FLAG_OVERRIDE } else { 0 };
        router | override_flag
    }

    /// The frame: Ethernet to 33:33:00:00:00:01 from `src_mac`, EtherType 0x86dd; IPv6 from `src_ip`
    /// to ff02::1, hop limit 255, next header 58; ICMPv6 type 136 code 0 with the flags, target
    /// `vip`, and a Target Link-Layer Address option carrying `src_mac`; checksum over the IPv6
    /// pseudo-header (RFC 4443 §2.3).
    pub fn to_frame(&self) -> [u8; Self::FRAME_LEN] {
        let mut frame = [0u8; Self::FRAME_LEN];
        let mut put = |at: usize, bytes: &[u8]| frame[at..at + bytes.len()].copy_from_slice(bytes);
        put(offset::ETH_DST, &ALL_NODES_MAC);
        put(offset::ETH_SRC, &self.src_mac);
        put(offset::ETHERTYPE, &ETHERTYPE_IPV6);
        // Version 6, traffic class 0, flow label 0.
        put(offset::IPV6, &[0x60, 0, 0, 0]);
        put(offset::PAYLOAD_LEN, &ICMPV6_LEN.to_be_bytes());
        put(offset::NEXT_HEADER, &[NEXT_HEADER_ICMPV6, HOP_LIMIT]);
        put(offset::SRC, &self.src_ip.octets());
        put(offset::DST, &ALL_NODES.octets());
        put(offset::ICMPV6, &[ICMPV6_NEIGHBOR_ADVERTISEMENT, 0]);
        put(offset::FLAGS, &[self.flags(), 0, 0, 0]);
        put(offset::TARGET, &self.vip.octets());
        put(offset::OPTION, &[OPTION_TARGET_LINK_LAYER_ADDRESS, 1]);
        put(offset::OPTION_MAC, &self.src_mac);
        let checksum = icmpv6_sum(self.src_ip, &frame[offset::ICMPV6..]).checksum();
        frame[offset::CHECKSUM..offset::CHECKSUM + 2].copy_from_slice(&checksum.to_be_bytes());
        frame
    }

    /// Reads back a frame of exactly the form `to_frame` builds, checksum verified. A solicited
    /// advertisement, other options, or another hop limit are errors.
    pub fn parse(frame: &[u8]) -> Result<UnsolicitedNa, FrameError> {
        check_len(frame, Self::FRAME_LEN)?;
        let truncated = FrameError::Truncated {
            len: frame.len(),
            needed: Self::FRAME_LEN,
        };
        expect(
            frame,
            offset::ETH_DST,
            &ALL_NODES_MAC,
            "Ethernet destination",
        )?;
        expect(frame, offset::ETHERTYPE, &ETHERTYPE_IPV6, "EtherType")?;
        expect(
            frame,
            offset::IPV6,
            &[0x60, 0, 0, 0],
            "IPv6 version/class/flow",
        )?;
        expect(
            frame,
            offset::PAYLOAD_LEN,
            &ICMPV6_LEN.to_be_bytes(),
            "IPv6 payload length",
        )?;
        expect(
            frame,
            offset::NEXT_HEADER,
            &[NEXT_HEADER_ICMPV6],
            "next header",
        )?;
        expect(frame, offset::HOP_LIMIT, &[HOP_LIMIT], "hop limit")?;
        expect(frame, offset::DST, &ALL_NODES.octets(), "IPv6 destination")?;
        expect(
            frame,
            offset::ICMPV6,
            &[ICMPV6_NEIGHBOR_ADVERTISEMENT, 0],
            "ICMPv6 type/code",
        )?;
        let [flags, reserved @ ..]: [u8; 4] = array(frame, offset::FLAGS).ok_or(truncated)?;
        if flags & FLAG_SOLICITED != 0 {
            return Err(FrameError::Unexpected {
                field: "Solicited flag",
            });
        }
        if flags & !(FLAG_ROUTER | FLAG_OVERRIDE) != 0 || reserved != [0; 3] {
            return Err(FrameError::Unexpected {
                field: "reserved bits",
            });
        }
        expect(
            frame,
            offset::OPTION,
            &[OPTION_TARGET_LINK_LAYER_ADDRESS, 1],
            "option",
        )?;
        let src_mac: MacAddr = array(frame, offset::ETH_SRC).ok_or(truncated)?;
        expect(
            frame,
            offset::OPTION_MAC,
            &src_mac,
            "link-layer address (differs from source)",
        )?;
        let src_ip = Ipv6Addr::from(array::<16>(frame, offset::SRC).ok_or(truncated)?);
        let icmpv6 = frame
            .get(offset::ICMPV6..Self::FRAME_LEN)
            .ok_or(truncated)?;
        if !icmpv6_sum(src_ip, icmpv6).verifies() {
            return Err(FrameError::BadChecksum);
        }
        Ok(UnsolicitedNa {
            src_mac,
            src_ip,
            vip: Ipv6Addr::from(array::<16>(frame, offset::TARGET).ok_or(truncated)?),
            router: flags & FLAG_ROUTER != 0,
            override_flag: flags & FLAG_OVERRIDE != 0,
        })
    }
}

/// RFC 4443 §2.3: the ICMPv6 checksum covers the IPv6 pseudo-header (next header 58) and the message.
fn icmpv6_sum(src: Ipv6Addr, icmpv6: &[u8]) -> Sum {
    ipv6_pseudo_header(src, ALL_NODES, NEXT_HEADER_ICMPV6, u32::from(ICMPV6_LEN)).add_bytes(icmpv6)
}
