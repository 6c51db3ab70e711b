//! Gratuitous ARP, request form: RFC 5798 §6.4.1 (120) "Broadcast a gratuitous ARP request
//! containing the virtual router MAC address", laid out as RFC 5227 §2.3's ARP Announcement.

use std::net::Ipv4Addr;

use super::{FrameError, MacAddr, array, check_len, expect};

const BROADCAST: MacAddr = [0xff; 6];
const ETHERTYPE_ARP: [u8; 2] = [0x08, 0x06];
/// htype 1 (Ethernet), ptype 0x0800 (IPv4), hlen 6, plen 4, oper 1 (request).
const ARP_FIXED: [u8; 8] = [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01];

mod offset {
    pub const ETH_DST: usize = 0;
    pub const ETH_SRC: usize = 6;
    pub const ETHERTYPE: usize = 12;
    /// Right after the 14-byte Ethernet header.
    pub const ARP_FIXED: usize = 14;
    pub const SENDER_MAC: usize = 22;
    pub const SENDER_IP: usize = 28;
    pub const TARGET_MAC: usize = 32;
    pub const TARGET_IP: usize = 38;
}

/// "I am `vip`, at `sender_mac`": an ARP request broadcast with the sender and target IP both set to
/// the virtual address, so every host on the link updates its cache entry for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GratuitousArp {
    /// Ethernet source and ARP sender hardware address: the interface (or virtual) MAC.
    pub sender_mac: MacAddr,
    pub vip: Ipv4Addr,
}

impl GratuitousArp {
    /// Ethernet header (14) + ARP (28). NICs pad to the 60-byte minimum on send.
    pub const FRAME_LEN: usize = 42;

    /// The frame: Ethernet to ff:ff:ff:ff:ff:ff from `sender_mac`, EtherType 0x0806; ARP htype 1,
    /// ptype 0x0800, hlen 6, plen 4, oper 1; sender `sender_mac`/`vip`; target MAC zero ("SHOULD be
    /// set to all zeroes", RFC 5227 §2.1.1) and target IP `vip`.
    pub fn to_frame(&self) -> [u8; Self::FRAME_LEN] {
        let mut frame = [0u8; Self::FRAME_LEN];
        let mut put = |at: usize, bytes: &[u8]| frame[at..at + bytes.len()].copy_from_slice(bytes);
        put(offset::ETH_DST, &BROADCAST);
        put(offset::ETH_SRC, &self.sender_mac);
        put(offset::ETHERTYPE, &ETHERTYPE_ARP);
        put(offset::ARP_FIXED, &ARP_FIXED);
        put(offset::SENDER_MAC, &self.sender_mac);
        put(offset::SENDER_IP, &self.vip.octets());
        put(offset::TARGET_MAC, &[0; 6]);
        put(offset::TARGET_IP, &self.vip.octets());
        frame
    }

    /// Reads back a frame of exactly the form `to_frame` builds (Ethernet padding after it is
    /// ignored); anything else, including ARP replies and ordinary requests, is an error.
    pub fn parse(frame: &[u8]) -> Result<GratuitousArp, FrameError> {
        check_len(frame, Self::FRAME_LEN)?;
        expect(frame, offset::ETH_DST, &BROADCAST, "Ethernet destination")?;
        expect(frame, offset::ETHERTYPE, &ETHERTYPE_ARP, "EtherType")?;
        expect(
            frame,
            offset::ARP_FIXED,
            &ARP_FIXED,
            "ARP htype/ptype/hlen/plen/oper",
        )?;
        let truncated = FrameError::Truncated {
            len: frame.len(),
            needed: Self::FRAME_LEN,
        };
        let sender_mac: MacAddr = array(frame, offset::SENDER_MAC).ok_or(truncated)?;
        expect(
            frame,
            offset::ETH_SRC,
            &sender_mac,
            "Ethernet source (differs from sender MAC)",
        )?;
        expect(frame, offset::TARGET_MAC, &[0; 6], "target MAC")?;
        let vip: [u8; 4] = array(frame, offset::SENDER_IP).ok_or(truncated)?;
        expect(
            frame,
            offset::TARGET_IP,
            &vip,
            "target IP (differs from sender IP)",
        )?;
        Ok(GratuitousArp {
            sender_mac,
            vip: Ipv4Addr::from(vip),
        })
    }
}
