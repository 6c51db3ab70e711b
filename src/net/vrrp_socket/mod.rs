//! One raw VRRP socket (IP protocol 112) per interface and address family, driven by tokio's `AsyncFd`.
//!
//! Options (design.md §3), and why:
//! - `SO_BINDTODEVICE`: only this interface's packets, and sends leave through it.
//! - `IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL` off: otherwise the socket also receives every group any
//!   other socket on the host joined.
//! - join 224.0.0.18 / ff02::12 on the ifindex; multicast loop off (our own adverts are not input).
//! - TTL / hop limit 255 for multicast and unicast (RFC 5798 §5.1.1.3, §5.1.2.3).
//! - IPv6: `IPV6_RECVHOPLIMIT` and `IPV6_RECVPKTINFO` (the payload comes without the IP header), and
//!   `IPV6_CHECKSUM` = 6: the kernel writes the pseudo-header checksum on send and verifies it on
//!   receive (a packet with a bad checksum never reaches `recv`; netns-tests measures this).
//!
//! The source address is set per packet with `IP_PKTINFO` / `IPV6_PKTINFO` rather than by `bind()`:
//! an IPv4 raw socket bound to a unicast address no longer receives packets sent to 224.0.0.18 (the
//! kernel matches a raw socket's bound address against the packet's destination; measured), and the
//! explicit source keeps the IPv4 pseudo-header checksum right and keeps an IPv6 link-local VIP from
//! being picked as the source.

mod error;
mod ipv4_header;

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::ops::Range;
use std::os::fd::AsRawFd;

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, SockaddrIn6, recvmsg, sendmsg,
    setsockopt, sockopt,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

pub use error::{OpenError, RecvError, SendError};

/// IP protocol number of VRRP (RFC 5798 §5.1.1.4).
pub const IPPROTO_VRRP: u8 = 112;
/// 224.0.0.18 (RFC 5798 §5.1.1.2).
pub const VRRP_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// ff02::12 (RFC 5798 §5.1.2.2).
pub const VRRP_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// TTL / hop limit on every advertisement we send (RFC 5798 §5.1.1.3, §5.1.2.3).
const SEND_HOP_LIMIT: u8 = 255;
/// Offset of the checksum in a VRRP header (RFC 5798 §5.2.8), for `IPV6_CHECKSUM`.
const CHECKSUM_OFFSET: libc::c_int = 6;
/// How many kernel-dropped (bad checksum) IPv6 packets one `recv` call skips before yielding.
const MAX_DROPPED_PER_RECV: usize = 64;
/// Smallest VRRP header: version/type, VRID, priority, count, interval, checksum.
const VRRP_HEADER_LEN: usize = 8;

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
}

/// A raw VRRP socket on one interface, for one address family.
#[derive(Debug)]
pub struct VrrpSocket {
    fd: AsyncFd<Socket>,
    ifname: String,
    ifindex: u32,
    src: IpAddr,
}

fn step<T>(ifname: &str, step: &'static str, result: io::Result<T>) -> Result<T, OpenError> {
    result.map_err(|source| OpenError {
        ifname: ifname.to_owned(),
        step,
        source,
    })
}

fn raw_socket(ifname: &str, domain: Domain) -> Result<Socket, OpenError> {
    let protocol = Protocol::from(i32::from(IPPROTO_VRRP));
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
    Ok(socket)
}

impl VrrpSocket {
    /// Open the IPv4 socket of interface `ifname` (index `ifindex`), sending from `src` (the interface's
    /// primary address). Needs a tokio runtime with IO enabled; needs CAP_NET_RAW.
    pub fn open_v4(ifname: &str, ifindex: u32, src: Ipv4Addr) -> Result<Self, OpenError> {
        let socket = raw_socket(ifname, Domain::IPV4)?;
        step(
            ifname,
            "IP_MULTICAST_ALL off",
            socket.set_multicast_all_v4(false),
        )?;
        let on_link = InterfaceIndexOrAddress::Index(ifindex);
        step(
            ifname,
            "join 224.0.0.18",
            socket.join_multicast_v4_n(&VRRP_GROUP_V4, &on_link),
        )?;
        step(
            ifname,
            "IP_MULTICAST_LOOP off",
            socket.set_multicast_loop_v4(false),
        )?;
        let hops = u32::from(SEND_HOP_LIMIT);
        step(
            ifname,
            "IP_MULTICAST_TTL 255",
            socket.set_multicast_ttl_v4(hops),
        )?;
        step(ifname, "IP_TTL 255", socket.set_ttl_v4(hops))?;
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
            socket.join_multicast_v6(&VRRP_GROUP_V6, ifindex),
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
        let hops = u32::from(SEND_HOP_LIMIT);
        step(
            ifname,
            "IPV6_MULTICAST_HOPS 255",
            socket.set_multicast_hops_v6(hops),
        )?;
        step(
            ifname,
            "IPV6_UNICAST_HOPS 255",
            socket.set_unicast_hops_v6(hops),
        )?;
        step(
            ifname,
            "IPV6_RECVHOPLIMIT",
            socket.set_recv_hoplimit_v6(true),
        )?;
        let pktinfo =
            setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true).map_err(io::Error::from);
        step(ifname, "IPV6_RECVPKTINFO", pktinfo)?;
        step(
            ifname,
            "IPV6_CHECKSUM 6",
            crate::net::sys::set_ipv6_checksum_offset(&socket, CHECKSUM_OFFSET),
        )?;
        Self::register(socket, ifname, ifindex, IpAddr::V6(src))
    }

    fn register(
        socket: Socket,
        ifname: &str,
        ifindex: u32,
        src: IpAddr,
    ) -> Result<Self, OpenError> {
        let fd = step(
            ifname,
            "register with tokio",
            crate::net::sys::register(socket),
        )?;
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

    /// Change the source (the interface's primary address or link-local changed). The family must stay.
    pub fn set_source(&mut self, src: IpAddr) -> Result<(), SendError> {
        if src.is_ipv4() != self.src.is_ipv4() {
            return Err(SendError::FamilyMismatch);
        }
        self.src = src;
        Ok(())
    }

    /// Send one VRRP message (the bytes after the IP header) to `dst`: the group, or a unicast peer.
    /// IPv4: `payload` goes out as is, so its checksum must already match `source()` and `dst`. IPv6:
    /// the kernel overwrites bytes 6..8 with the right checksum.
    pub async fn send(&self, payload: &[u8], dst: IpAddr) -> Result<(), SendError> {
        if payload.len() < VRRP_HEADER_LEN {
            return Err(SendError::PayloadTooShort { len: payload.len() });
        }
        let sent = match (self.src, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => self.send_v4(payload, src, dst).await,
            (IpAddr::V6(src), IpAddr::V6(dst)) => self.send_v6(payload, src, dst).await,
            _ => return Err(SendError::FamilyMismatch),
        };
        match sent {
            Ok(sent) if sent == payload.len() => Ok(()),
            Ok(sent) => Err(SendError::Partial {
                sent,
                len: payload.len(),
            }),
            // No usable source: IPv6 sends fail so while the link-local is tentative (design.md §3);
            // with IPV6_PKTINFO naming a tentative source the kernel says EINVAL instead (measured in
            // netns-tests). The payload length is checked above, so EINVAL has no other cause here.
            Err(err) if is_source_not_ready(&err, dst) => Err(SendError::SourceNotReady(err)),
            Err(err) => Err(SendError::Io(err)),
        }
    }

    async fn send_v4(&self, payload: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> io::Result<usize> {
        let info = libc::in_pktinfo {
            ipi_ifindex: libc::c_int::try_from(self.ifindex).unwrap_or_default(),
            ipi_spec_dst: libc::in_addr {
                s_addr: u32::from(src).to_be(),
            },
            ipi_addr: libc::in_addr { s_addr: 0 },
        };
        let to = SockaddrIn::from(SocketAddrV4::new(dst, 0));
        let iov = [IoSlice::new(payload)];
        let cmsgs = [ControlMessage::Ipv4PacketInfo(&info)];
        self.fd
            .async_io(Interest::WRITABLE, |socket| {
                sendmsg(
                    socket.as_raw_fd(),
                    &iov,
                    &cmsgs,
                    MsgFlags::empty(),
                    Some(&to),
                )
                .map_err(io::Error::from)
            })
            .await
    }

    async fn send_v6(&self, payload: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> io::Result<usize> {
        let info = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: src.octets(),
            },
            ipi6_ifindex: self.ifindex,
        };
        // Link-scoped destinations (ff02::12, fe80::/10 peers) need the zone.
        let zone = if dst.is_multicast() || dst.is_unicast_link_local() {
            self.ifindex
        } else {
            0
        };
        let to = SockaddrIn6::from(SocketAddrV6::new(dst, 0, 0, zone));
        let iov = [IoSlice::new(payload)];
        let cmsgs = [ControlMessage::Ipv6PacketInfo(&info)];
        self.fd
            .async_io(Interest::WRITABLE, |socket| {
                sendmsg(
                    socket.as_raw_fd(),
                    &iov,
                    &cmsgs,
                    MsgFlags::empty(),
                    Some(&to),
                )
                .map_err(io::Error::from)
            })
            .await
    }

    /// Receive the next VRRP packet into `buf` (1500 bytes suffice for any advertisement on Ethernet).
    pub async fn recv(&self, buf: &mut [u8]) -> Result<Received, RecvError> {
        match self.src {
            IpAddr::V4(_) => self.recv_v4(buf).await,
            IpAddr::V6(_) => self.recv_v6(buf).await,
        }
    }

    async fn recv_v4(&self, buf: &mut [u8]) -> Result<Received, RecvError> {
        let (len, truncated) = self
            .fd
            .async_io(Interest::READABLE, |socket| {
                let mut iov = [IoSliceMut::new(&mut *buf)];
                let msg =
                    recvmsg::<SockaddrIn>(socket.as_raw_fd(), &mut iov, None, MsgFlags::MSG_TRUNC)
                        .map_err(io::Error::from)?;
                Ok((msg.bytes, msg.flags.contains(MsgFlags::MSG_TRUNC)))
            })
            .await
            .map_err(RecvError::Io)?;
        if truncated || len > buf.len() {
            return Err(RecvError::Truncated { len });
        }
        let header = ipv4_header::parse(&buf[..len])?;
        Ok(Received {
            payload: header.payload,
            src: IpAddr::V4(header.src),
            dst: IpAddr::V4(header.dst),
            ttl: header.ttl,
            ifindex: self.ifindex,
        })
    }

    async fn recv_v6(&self, buf: &mut [u8]) -> Result<Received, RecvError> {
        let mut cmsg_buf = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int);
        let (len, truncated, src, info, hop_limit) = self
            .fd
            .async_io(Interest::READABLE, |socket| {
                let mut iov = [IoSliceMut::new(&mut *buf)];
                let mut attempts = 0;
                let msg = loop {
                    match recvmsg::<SockaddrIn6>(
                        socket.as_raw_fd(),
                        &mut iov,
                        Some(&mut cmsg_buf),
                        MsgFlags::MSG_TRUNC,
                    ) {
                        // EAGAIN with data still queued: the kernel dropped a packet with a bad
                        // checksum (IPV6_CHECKSUM); take the next one now, edge-triggered readiness
                        // would not announce it again. Bounded against a flood of bad packets.
                        Err(nix::Error::EAGAIN)
                            if attempts < MAX_DROPPED_PER_RECV
                                && crate::net::sys::readable_now(socket) =>
                        {
                            attempts += 1;
                        }
                        other => break other.map_err(io::Error::from)?,
                    }
                };
                let (mut info, mut hop_limit) = (None, None);
                for cmsg in msg.cmsgs().map_err(io::Error::from)? {
                    match cmsg {
                        ControlMessageOwned::Ipv6PacketInfo(pktinfo) => info = Some(pktinfo),
                        ControlMessageOwned::Ipv6HopLimit(hops) => hop_limit = Some(hops),
                        _ => {}
                    }
                }
                let src = msg.address.map(|address| address.ip());
                Ok((
                    msg.bytes,
                    msg.flags.contains(MsgFlags::MSG_TRUNC),
                    src,
                    info,
                    hop_limit,
                ))
            })
            .await
            .map_err(RecvError::Io)?;
        if truncated || len > buf.len() {
            return Err(RecvError::Truncated { len });
        }
        let src = src.ok_or(RecvError::Malformed("no source address"))?;
        let info = info.ok_or(RecvError::Malformed("no IPV6_PKTINFO"))?;
        let hop_limit = hop_limit
            .and_then(|hops| u8::try_from(hops).ok())
            .ok_or(RecvError::Malformed("no IPV6_HOPLIMIT"))?;
        Ok(Received {
            payload: 0..len,
            src: IpAddr::V6(src),
            dst: IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)),
            ttl: hop_limit,
            ifindex: info.ipi6_ifindex,
        })
    }
}

fn is_source_not_ready(err: &io::Error, dst: IpAddr) -> bool {
    match err.raw_os_error() {
        Some(libc::EADDRNOTAVAIL) => true,
        Some(libc::EINVAL) => dst.is_ipv6(),
        _ => false,
    }
}
