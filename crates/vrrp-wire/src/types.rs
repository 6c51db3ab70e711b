//! Small value types shared by the packet view, the representation and the checksum code.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::Centisecs;

/// VRRP protocol version, the high nibble of byte 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// RFC 3768: IPv4 only, interval in whole seconds, optional authentication data.
    V2,
    /// RFC 5798 / RFC 9568: IPv4 and IPv6, interval in centiseconds.
    V3,
}

/// The virtual addresses an advertisement carries: all of one family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Addresses {
    V4(Vec<Ipv4Addr>),
    V6(Vec<Ipv6Addr>),
}

/// VRRPv2 authentication (RFC 3768 §5.3.6). VRRPv3 has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Auth {
    /// Type 0: the eight authentication bytes are zero.
    None,
    /// Type 1: a plain-text password, zero padded to eight bytes.
    SimplePassword([u8; 8]),
}

/// Which bytes a VRRPv3-over-IPv4 checksum covers. IPv6 always uses its pseudo-header; VRRPv2 always
/// covers the message only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumMode {
    /// IPv4 pseudo-header (source, destination, zero, protocol 112, length) plus the message: what
    /// keepalived and FRR send by default.
    PseudoHeader,
    /// The VRRP message alone, as RFC 9568 specifies for IPv4.
    MessageOnly,
}

/// Pseudo-header, for interop with today's keepalived and FRR (docs/protocol.md §Checksums).
impl Default for ChecksumMode {
    fn default() -> Self {
        ChecksumMode::PseudoHeader
    }
}

/// A VRRP advertisement as values, independent of its bytes. `parse` and `emit` convert; the field set is
/// the contract between the wire layer, the protocol core and the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repr {
    pub version: Version,
    pub vrid: u8,
    /// 255: address owner; 1..=254: backup; 0: the master is resigning.
    pub priority: u8,
    /// Max Adver Int. VRRPv2 carries whole seconds: a multiple of 100 centiseconds.
    pub max_adver_int: Centisecs,
    pub addresses: Addresses,
    /// Always `Auth::None` for VRRPv3.
    pub auth: Auth,
}

/// The IP family an advertisement travels in. VRRP bytes do not say which: the IP header does, which
/// is why `Repr::parse` takes the source and destination addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub const fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    /// Bytes per address in the packet's address list.
    pub const fn address_len(self) -> usize {
        match self {
            Family::Ipv4 => 4,
            Family::Ipv6 => 16,
        }
    }
}

impl Addresses {
    pub fn family(&self) -> Family {
        match self {
            Addresses::V4(_) => Family::Ipv4,
            Addresses::V6(_) => Family::Ipv6,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Addresses::V4(list) => list.len(),
            Addresses::V6(list) => list.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
