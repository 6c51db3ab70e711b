//! Picking packets out of captured Ethernet frames: IP packets (VRRP is IP protocol 112), ARP, and
//! ICMPv6 Neighbor Advertisements. Minimal parsing of the headers the tests assert on; anything that does
//! not parse is skipped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::pcap::Frame;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_VRRP: u8 = 112;
const ICMPV6_NEIGHBOR_ADVERTISEMENT: u8 = 136;

pub type Mac = [u8; 6];

/// An IPv4 or IPv6 packet in an Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpFrame {
    pub timestamp: Duration,
    pub eth_src: Mac,
    pub eth_dst: Mac,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6).
    pub ttl: u8,
    /// IPv4 protocol or IPv6 next header (no extension headers are walked).
    pub protocol: u8,
    /// The bytes after the IP header.
    pub payload: Vec<u8>,
}

/// An ARP packet (Ethernet/IPv4 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpFrame {
    pub timestamp: Duration,
    pub eth_src: Mac,
    pub eth_dst: Mac,
    /// 1 request, 2 reply.
    pub operation: u16,
    pub sender_mac: Mac,
    pub sender_ip: Ipv4Addr,
    pub target_mac: Mac,
    pub target_ip: Ipv4Addr,
}

/// An ICMPv6 Neighbor Advertisement (RFC 4861 §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighborAdvertisement {
    pub timestamp: Duration,
    pub eth_src: Mac,
    pub eth_dst: Mac,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    pub router: bool,
    pub solicited: bool,
    pub override_flag: bool,
    pub target: Ipv6Addr,
    /// The Target Link-Layer Address option, if present.
    pub target_mac: Option<Mac>,
}

fn mac_at(bytes: &[u8], at: usize) -> Option<Mac> {
    bytes.get(at..at + 6)?.try_into().ok()
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn ipv4_at(bytes: &[u8], at: usize) -> Option<Ipv4Addr> {
    let octets: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(Ipv4Addr::from(octets))
}

fn ipv6_at(bytes: &[u8], at: usize) -> Option<Ipv6Addr> {
    let octets: [u8; 16] = bytes.get(at..at + 16)?.try_into().ok()?;
    Some(Ipv6Addr::from(octets))
}

/// (dst MAC, src MAC, ethertype, payload) of an untagged Ethernet II frame.
pub fn ethernet(frame: &[u8]) -> Option<(Mac, Mac, u16, &[u8])> {
    Some((
        mac_at(frame, 0)?,
        mac_at(frame, 6)?,
        u16_at(frame, 12)?,
        frame.get(14..)?,
    ))
}

/// Parse the IP packet in a captured frame.
pub fn ip_frame(frame: &Frame) -> Option<IpFrame> {
    let (eth_dst, eth_src, ethertype, packet) = ethernet(&frame.data)?;
    let (src, dst, ttl, protocol, payload) = match ethertype {
        ETHERTYPE_IPV4 => {
            let header_len = usize::from(packet.first()? & 0x0f) * 4;
            let total_len = usize::from(u16_at(packet, 2)?);
            let payload = packet.get(header_len..total_len.min(packet.len()))?;
            let src = IpAddr::V4(ipv4_at(packet, 12)?);
            let dst = IpAddr::V4(ipv4_at(packet, 16)?);
            (src, dst, *packet.get(8)?, *packet.get(9)?, payload)
        }
        ETHERTYPE_IPV6 => {
            let payload_len = usize::from(u16_at(packet, 4)?);
            let payload = packet.get(40..(40 + payload_len).min(packet.len()))?;
            let src = IpAddr::V6(ipv6_at(packet, 8)?);
            let dst = IpAddr::V6(ipv6_at(packet, 24)?);
            (src, dst, *packet.get(7)?, *packet.get(6)?, payload)
        }
        _ => return None,
    };
    Some(IpFrame {
        timestamp: frame.timestamp,
        eth_src,
        eth_dst,
        src,
        dst,
        ttl,
        protocol,
        payload: payload.to_vec(),
    })
}

/// All IP packets with the given protocol / next header.
pub fn ip_frames(frames: &[Frame], protocol: u8) -> Vec<IpFrame> {
    frames
        .iter()
        .filter_map(ip_frame)
        .filter(|packet| packet.protocol == protocol)
        .collect()
}

/// All VRRP packets (IP protocol 112), IPv4 and IPv6.
pub fn vrrp_frames(frames: &[Frame]) -> Vec<IpFrame> {
    ip_frames(frames, IPPROTO_VRRP)
}

/// Parse an ARP frame.
pub fn arp_frame(frame: &Frame) -> Option<ArpFrame> {
    let (eth_dst, eth_src, ethertype, arp) = ethernet(&frame.data)?;
    // Hardware Ethernet (1), protocol IPv4, address lengths 6 and 4.
    if ethertype != ETHERTYPE_ARP || arp.get(..6)? != [0, 1, 8, 0, 6, 4] {
        return None;
    }
    Some(ArpFrame {
        timestamp: frame.timestamp,
        eth_src,
        eth_dst,
        operation: u16_at(arp, 6)?,
        sender_mac: mac_at(arp, 8)?,
        sender_ip: ipv4_at(arp, 14)?,
        target_mac: mac_at(arp, 18)?,
        target_ip: ipv4_at(arp, 24)?,
    })
}

pub fn arp_frames(frames: &[Frame]) -> Vec<ArpFrame> {
    frames.iter().filter_map(arp_frame).collect()
}

/// Parse an ICMPv6 Neighbor Advertisement frame.
pub fn neighbor_advertisement(frame: &Frame) -> Option<NeighborAdvertisement> {
    let packet = ip_frame(frame)?;
    let (IpAddr::V6(src), IpAddr::V6(dst)) = (packet.src, packet.dst) else {
        return None;
    };
    let icmp = &packet.payload;
    if packet.protocol != IPPROTO_ICMPV6 || *icmp.first()? != ICMPV6_NEIGHBOR_ADVERTISEMENT {
        return None;
    }
    let flags = *icmp.get(4)?;
    let target = ipv6_at(icmp, 8)?;
    // Options: type, length in units of 8 bytes, value. Type 2 = Target Link-Layer Address.
    let mut target_mac = None;
    let mut at = 24;
    while let (Some(&kind), Some(&units)) = (icmp.get(at), icmp.get(at + 1)) {
        if units == 0 {
            break;
        }
        if kind == 2 {
            target_mac = mac_at(icmp, at + 2);
        }
        at += usize::from(units) * 8;
    }
    Some(NeighborAdvertisement {
        timestamp: packet.timestamp,
        eth_src: packet.eth_src,
        eth_dst: packet.eth_dst,
        src,
        dst,
        hop_limit: packet.ttl,
        router: flags & 0x80 != 0,
        solicited: flags & 0x40 != 0,
        override_flag: flags & 0x20 != 0,
        target,
        target_mac,
    })
}

pub fn neighbor_advertisements(frames: &[Frame]) -> Vec<NeighborAdvertisement> {
    frames.iter().filter_map(neighbor_advertisement).collect()
}

/// `aa:bb:cc:dd:ee:ff` (the lab's own formatter, so that the MACs it sets read the same here).
pub use netlab::mac_to_string;

/// Parse `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(text: &str) -> Option<Mac> {
    let bytes: Vec<u8> = text
        .split(':')
        .map(|part| u8::from_str_radix(part, 16).ok())
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(data: Vec<u8>) -> Frame {
        Frame {
            timestamp: Duration::from_secs(1),
            orig_len: data.len() as u32,
            data,
        }
    }

    #[test]
    fn parses_an_ipv4_vrrp_frame_with_options() {
        let mut data = vec![
            0x01, 0x00, 0x5e, 0x00, 0x00, 0x12, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
        ];
        // IHL 6 (one word of options), total length 24 + 12, TTL 255, protocol 112.
        data.extend_from_slice(&[0x46, 0, 0, 36, 0, 0, 0, 0, 255, 112, 0, 0]);
        data.extend_from_slice(&[192, 0, 2, 1, 224, 0, 0, 18, 1, 1, 1, 1]);
        data.extend_from_slice(&[0x31, 1, 100, 1, 0, 100, 0, 0, 192, 0, 2, 100]);
        data.extend_from_slice(&[0; 6]); // Ethernet padding is not payload.
        let packets = vrrp_frames(&[frame(data)]);
        assert_eq!(packets.len(), 1);
        let vrrp = &packets[0];
        assert_eq!(vrrp.ttl, 255);
        assert_eq!(vrrp.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(vrrp.dst, IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)));
        assert_eq!(
            vrrp.payload,
            [0x31, 1, 100, 1, 0, 100, 0, 0, 192, 0, 2, 100]
        );
        assert_eq!(mac_to_string(&vrrp.eth_dst), "01:00:5e:00:00:12");
    }

    #[test]
    fn parses_a_gratuitous_arp() {
        let mut data = vec![0xff; 6];
        data.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
        data.extend_from_slice(&[2, 0, 0, 0, 0, 1, 192, 0, 2, 100]);
        data.extend_from_slice(&[0xff; 6]);
        data.extend_from_slice(&[192, 0, 2, 100]);
        let arp = arp_frame(&frame(data)).unwrap();
        assert_eq!(arp.operation, 1);
        assert_eq!(arp.sender_ip, Ipv4Addr::new(192, 0, 2, 100));
        assert_eq!(arp.target_ip, arp.sender_ip);
        assert_eq!(arp.sender_mac, [2, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn mac_text_round_trips() {
        let mac = parse_mac("01:00:5e:00:00:12").unwrap();
        assert_eq!(mac_to_string(&mac), "01:00:5e:00:00:12");
        assert_eq!(parse_mac("01:00"), None);
    }
}
