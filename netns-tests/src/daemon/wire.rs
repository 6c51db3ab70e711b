//! The VRRP adverts in a capture, decoded with vrrp-wire the way a receiver would (the IP source and
//! destination feed the checksum), plus the announcements a new master sends.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use vrrp_wire::{ChecksumMode, Repr, WireError};

use crate::frames::{
    ArpFrame, IpFrame, Mac, NeighborAdvertisement, arp_frames, neighbor_advertisements, vrrp_frames,
};
use crate::pcap::Frame;

/// One VRRP packet seen on the lab link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    pub timestamp: Duration,
    pub eth_src: Mac,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TTL or hop limit.
    pub ttl: u8,
    /// The VRID and priority bytes, readable even when the packet does not parse.
    pub vrid: Option<u8>,
    pub priority: Option<u8>,
    /// vrrp-wire's verdict: the parsed advert and the checksum form it used, or the rule it broke.
    pub parsed: Result<(Repr, ChecksumMode), WireError>,
    pub payload: Vec<u8>,
}

impl Advert {
    fn from_ip(packet: IpFrame) -> Self {
        Self {
            timestamp: packet.timestamp,
            eth_src: packet.eth_src,
            src: packet.src,
            dst: packet.dst,
            ttl: packet.ttl,
            vrid: packet.payload.get(1).copied(),
            priority: packet.payload.get(2).copied(),
            parsed: Repr::parse_bytes(&packet.payload, packet.src, packet.dst),
            payload: packet.payload,
        }
    }

    /// The parsed advert; panics with the packet in the message when vrrp-wire rejects it.
    pub fn repr(&self) -> &Repr {
        match &self.parsed {
            Ok((repr, _)) => repr,
            Err(err) => panic!("vrrp-wire rejects the advert {self:?}: {err}"),
        }
    }
}

/// Every VRRP packet in `frames`, in capture order.
pub fn adverts(frames: &[Frame]) -> Vec<Advert> {
    vrrp_frames(frames)
        .into_iter()
        .map(Advert::from_ip)
        .collect()
}

/// The adverts from `src`.
pub fn adverts_from(all: &[Advert], src: IpAddr) -> Vec<Advert> {
    all.iter().filter(|a| a.src == src).cloned().collect()
}

/// The first advert from `src` stamped after `after`.
pub fn first_advert_after(all: &[Advert], src: IpAddr, after: Duration) -> Option<&Advert> {
    all.iter().find(|a| a.src == src && a.timestamp > after)
}

/// The last advert from `src` stamped before `before`.
pub fn last_advert_before(all: &[Advert], src: IpAddr, before: Duration) -> Option<&Advert> {
    all.iter()
        .rev()
        .find(|a| a.src == src && a.timestamp < before)
}

/// Gratuitous ARPs for `vip`: sender IP = target IP = `vip` (RFC 5227 §3 announcement form).
pub fn gratuitous_arps(frames: &[Frame], vip: Ipv4Addr) -> Vec<ArpFrame> {
    arp_frames(frames)
        .into_iter()
        .filter(|arp| arp.sender_ip == vip && arp.target_ip == vip)
        .collect()
}

/// Unsolicited Neighbor Advertisements (RFC 4861 §7.2.6) for `target`.
pub fn unsolicited_nas(frames: &[Frame], target: Ipv6Addr) -> Vec<NeighborAdvertisement> {
    neighbor_advertisements(frames)
        .into_iter()
        .filter(|na| na.target == target && !na.solicited)
        .collect()
}

/// Now, as the wall clock the kernel stamps captured packets with (CLOCK_REALTIME since the epoch).
pub fn wall_clock() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}
