//! One raw VRRP socket (IP protocol 112) per interface and address family, driven by tokio's `AsyncFd`.
//!
//! Options (docs/linux.md §Raw VRRP sockets), and why:
//! - `SO_BINDTODEVICE`: only this interface's packets, and sends leave through it.
//! - `IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL` off: otherwise the socket also receives every group any
//!   other socket on the host joined.
//! - join 224.0.0.18 / ff02::12 on the ifindex; multicast loop off (our own adverts are not input).
//! - TTL / hop limit 255 for multicast and unicast (RFC 5798 §5.1.1.3, §5.1.2.3).
//! - IPv6: `IPV6_RECVHOPLIMIT` and `IPV6_RECVPKTINFO` (the payload comes without the IP header), and
//!   `IPV6_CHECKSUM` = 6: the kernel writes the pseudo-header checksum on send and verifies it on
//!   receive. A packet with a bad checksum is dropped before it is queued (measured in netns-tests), so
//!   it never reaches `recv`; it only shows in `Received::kernel_drops` (`SO_RXQ_OVFL`).
//!
//! Unicast peers use the same socket: `send_from` sends to a peer's address from the instance's own
//! source, and, not being bound, the socket also receives adverts addressed to the host
//! (docs/linux.md §Unicast adverts).
//!
//! The source address is set per packet with `IP_PKTINFO` / `IPV6_PKTINFO` rather than by `bind()`:
//! an IPv4 raw socket bound to a unicast address no longer receives packets sent to 224.0.0.18 (the
//! kernel matches a raw socket's bound address against the packet's destination; measured), and the
//! explicit source keeps the IPv4 pseudo-header checksum right and keeps an IPv6 link-local VIP from
//! being picked as the source.

mod batch;
mod error;
mod io;
mod ipv4_header;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::io::unix::AsyncFd;
use vrrp_wire::{IP_PROTOCOL_VRRP, VRRP_HOP_LIMIT, VRRP_IPV4_GROUP, VRRP_IPV6_GROUP};

pub use batch::{BATCH, Packet, RecvBatch};
pub use error::{OpenError, RecvError, SendError};

use crate::net::sys;

/// TTL / hop limit on every advertisement we send (RFC 5798 §5.1.1.3, §5.1.2.3), as the socket
/// options take it.
const SEND_HOP_LIMIT: u32 = VRRP_HOP_LIMIT as u32;
/// Offset of the checksum in a VRRP header (RFC 5798 §5.2.8), for `IPV6_CHECKSUM`.
const CHECKSUM_OFFSET: libc::c_int = 6;

/// One received VRRP packet: `payload` indexes the caller's buffer (the VRRP bytes only, without the
/// IPv4 header); the rest comes from the IP header or the control messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub payload: Range<usize>,
    pub src: IpAddr,
    /// The packet's destination: the group, or our own address for unicast VRRP.
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit as received (RFC 5798 §7.1 wants 255; the caller checks).
    pub ttl: u8,
    pub ifindex: u32,
    /// Packets the kernel dropped on this socket so far (IPv6 bad checksum, full receive buffer):
    /// cumulative since the socket was opened.
    pub kernel_drops: u32,
}

/// A raw VRRP socket on one interface, for one address family.
#[derive(Debug)]
pub struct VrrpSocket {
    fd: AsyncFd<Socket>,
    ifname: String,
    ifindex: u32,
    src: IpAddr,
}

/// Run one setup step; on failure name it.
fn step<T>(ifname: &str, what: &'static str, result: std::io::Result<T>) -> Result<T, OpenError> {
    result.map_err(|source| OpenError {
        ifname: ifname.to_owned(),
        step: what,
        source,
    })
}

fn raw_socket(ifname: &str, domain: Domain) -> Result<Socket, OpenError> {
    let protocol = Protocol::from(i32::from(IP_PROTOCOL_VRRP));
    let socket = step(
        ifname,
        "socket(SOCK_RAW, 112)",
        Socket::new(domain, Type::RAW, Some(protocol)),
    )?;
    step(ifname, "O_NONBLOCK", socket.set_nonblocking(true))?;
    step(
        ifname,
        "SO_BINDTODEVICE",
        socket.bind_device(Some(ifname.as_bytes())),
    )?;
    let overflow = setsockopt(&socket, sockopt::RxqOvfl, &1).map_err(std::io::Error::from);
    step(ifname, "SO_RXQ_OVFL", overflow)?;
    Ok(socket)
}

impl VrrpSocket {
    /// Open the IPv4 socket of interface `ifname` (index `ifindex`), sending from `src` (the
    /// interface's primary address). Needs a tokio runtime with IO enabled, and CAP_NET_RAW.
    pub fn open_v4(ifname: &str, ifindex: u32, src: Ipv4Addr) -> Result<Self, OpenError> {
        let socket = raw_socket(ifname, Domain::IPV4)?;
        step(
            ifname,
            "IP_MULTICAST_ALL off",
            socket.set_multicast_all_v4(false),
        )?;
        let link = InterfaceIndexOrAddress::Index(ifindex);
        step(
            ifname,
            "join 224.0.0.18",
            socket.join_multicast_v4_n(&VRRP_IPV4_GROUP, &link),
        )?;
        step(
            ifname,
            "IP_MULTICAST_LOOP off",
            socket.set_multicast_loop_v4(false),
        )?;
        step(
            ifname,
            "IP_MULTICAST_TTL",
            socket.set_multicast_ttl_v4(SEND_HOP_LIMIT),
        )?;
        step(ifname, "IP_TTL", socket.set_ttl_v4(SEND_HOP_LIMIT))?;
        Self::register(socket, ifname, ifindex, IpAddr::V4(src))
    }

    /// Open the IPv6 socket of interface `ifname`, sending from `src` (the interface's own link-local
    /// address, RFC 5798 §5.1.2.1).
    pub fn open_v6(ifname: &str, ifindex: u32, src: Ipv6Addr) -> Result<Self, OpenError> {
        let socket = raw_socket(ifname, Domain::IPV6)?;
        step(
            ifname,
            "IPV6_MULTICAST_ALL off",
            socket.set_multicast_all_v6(false),
        )?;
        step(
            ifname,
            "join ff02::12",
            socket.join_multicast_v6(&VRRP_IPV6_GROUP, ifindex),
        )?;
        step(
            ifname,
            "IPV6_MULTICAST_IF",
            socket.set_multicast_if_v6(ifindex),
        )?;
        step(
            ifname,
            "IPV6_MULTICAST_LOOP off",
            socket.set_multicast_loop_v6(false),
        )?;
        step(
            ifname,
            "IPV6_MULTICAST_HOPS",
            socket.set_multicast_hops_v6(SEND_HOP_LIMIT),
        )?;
        step(
            ifname,
            "IPV6_UNICAST_HOPS",
            socket.set_unicast_hops_v6(SEND_HOP_LIMIT),
        )?;
        step(
            ifname,
            "IPV6_RECVHOPLIMIT",
            socket.set_recv_hoplimit_v6(true),
        )?;
        let pktinfo =
            setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true).map_err(std::io::Error::from);
        step(ifname, "IPV6_RECVPKTINFO", pktinfo)?;
        let checksum = sys::set_ipv6_checksum_offset(&socket, CHECKSUM_OFFSET);
        step(ifname, "IPV6_CHECKSUM", checksum)?;
        Self::register(socket, ifname, ifindex, IpAddr::V6(src))
    }

    /// Open a send-only socket on a vmac macvlan `ifname` (index `ifindex`): adverts leave it with the
    /// virtual router MAC as their Ethernet source, from `src`, the base interface's own address
    /// (docs/linux.md §Virtual MAC). It joins no group, so nothing arrives on it (adverts are received
    /// on the base interface's socket), and its receive buffer is the kernel's minimum. IPv6 needs
    /// `IPV6_FREEBIND`: the kernel refuses a link-local source that is not on the sending interface.
    pub fn open_sender(ifname: &str, ifindex: u32, src: IpAddr) -> Result<Self, OpenError> {
        let domain = match src {
            IpAddr::V4(_) => Domain::IPV4,
            IpAddr::V6(_) => Domain::IPV6,
        };
        let socket = raw_socket(ifname, domain)?;
        step(ifname, "SO_RCVBUF", socket.set_recv_buffer_size(0))?;
        if src.is_ipv4() {
            let off = socket.set_multicast_all_v4(false);
            step(ifname, "IP_MULTICAST_ALL off", off)?;
            let off = socket.set_multicast_loop_v4(false);
            step(ifname, "IP_MULTICAST_LOOP off", off)?;
            let ttl = socket.set_multicast_ttl_v4(SEND_HOP_LIMIT);
            step(ifname, "IP_MULTICAST_TTL", ttl)?;
            step(ifname, "IP_TTL", socket.set_ttl_v4(SEND_HOP_LIMIT))?;
        } else {
            let off = socket.set_multicast_all_v6(false);
            step(ifname, "IPV6_MULTICAST_ALL off", off)?;
            let link = socket.set_multicast_if_v6(ifindex);
            step(ifname, "IPV6_MULTICAST_IF", link)?;
            let off = socket.set_multicast_loop_v6(false);
            step(ifname, "IPV6_MULTICAST_LOOP off", off)?;
            let hops = socket.set_multicast_hops_v6(SEND_HOP_LIMIT);
            step(ifname, "IPV6_MULTICAST_HOPS", hops)?;
            let hops = socket.set_unicast_hops_v6(SEND_HOP_LIMIT);
            step(ifname, "IPV6_UNICAST_HOPS", hops)?;
            let checksum = sys::set_ipv6_checksum_offset(&socket, CHECKSUM_OFFSET);
            step(ifname, "IPV6_CHECKSUM", checksum)?;
            step(ifname, "IPV6_FREEBIND", socket.set_freebind_v6(true))?;
        }
        Self::register(socket, ifname, ifindex, src)
    }

    fn register(
        socket: Socket,
        ifname: &str,
        ifindex: u32,
        src: IpAddr,
    ) -> Result<Self, OpenError> {
        let fd = step(ifname, "register with tokio", sys::register(socket))?;
        Ok(Self {
            fd,
            ifname: ifname.to_owned(),
            ifindex,
            src,
        })
    }

    pub fn ifname(&self) -> &str {
        &self.ifname
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The address advertisements are sent from.
    pub fn source(&self) -> IpAddr {
        self.src
    }

    /// Change the source (the interface's primary address or link-local changed). The family stays.
    pub fn set_source(&mut self, src: IpAddr) -> Result<(), SendError> {
        if src.is_ipv4() != self.src.is_ipv4() {
            return Err(SendError::FamilyMismatch);
        }
        self.src = src;
        Ok(())
    }
}
