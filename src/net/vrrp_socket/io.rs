//! Sending and receiving on a `VrrpSocket`.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, SockaddrIn6, SockaddrLike, recvmsg,
    sendmsg,
};
use socket2::Socket;
use tokio::io::Interest;

use super::{Received, RecvError, SendError, VrrpSocket, ipv4_header};

/// Smallest VRRP header: version/type, VRID, priority, count, interval, checksum.
const VRRP_HEADER_LEN: usize = 8;

/// The parts of one `recvmsg` the receive paths use.
struct Datagram<A> {
    len: usize,
    truncated: bool,
    from: Option<A>,
    pktinfo: Option<libc::in6_pktinfo>,
    hop_limit: Option<i32>,
    kernel_drops: u32,
}

fn receive<A: SockaddrLike + Copy>(
    socket: &Socket,
    buf: &mut [u8],
    cmsg: &mut [u8],
) -> io::Result<Datagram<A>> {
    let mut iov = [IoSliceMut::new(buf)];
    // MSG_TRUNC: return the real length of a packet larger than the buffer.
    let msg = recvmsg::<A>(
        socket.as_raw_fd(),
        &mut iov,
        Some(cmsg),
        MsgFlags::MSG_TRUNC,
    )?;
    let mut datagram = Datagram {
        len: msg.bytes,
        truncated: msg.flags.contains(MsgFlags::MSG_TRUNC),
        from: msg.address,
        pktinfo: None,
        hop_limit: None,
        kernel_drops: 0,
    };
    for control in msg.cmsgs()? {
        match control {
            ControlMessageOwned::Ipv6PacketInfo(info) => datagram.pktinfo = Some(info),
            ControlMessageOwned::Ipv6HopLimit(hops) => datagram.hop_limit = Some(hops),
            // Only present once the counter is non-zero.
            ControlMessageOwned::RxqOvfl(drops) => datagram.kernel_drops = drops,
            _ => {}
        }
    }
    Ok(datagram)
}

impl VrrpSocket {
    /// Send one VRRP message (the bytes after the IP header) to `dst`: the group, or a unicast peer.
    /// IPv4: `payload` goes out as is, so its checksum must already match `source()` and `dst`. IPv6:
    /// the kernel overwrites bytes 6..8 with the right checksum.
    pub async fn send(&self, payload: &[u8], dst: IpAddr) -> Result<(), SendError> {
        self.send_from(payload, self.src, dst).await
    }

    /// `send` from `src`, an address of this interface other than `source()` (an instance's own
    /// advert source, e.g. a unicast instance's `unicast_source`, on a socket the interface's
    /// instances share).
    pub async fn send_from(
        &self,
        payload: &[u8],
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<(), SendError> {
        if payload.len() < VRRP_HEADER_LEN {
            return Err(SendError::PayloadTooShort { len: payload.len() });
        }
        if src.is_ipv4() != self.src.is_ipv4() {
            return Err(SendError::FamilyMismatch);
        }
        let sent = match (src, dst) {
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
            Err(err) if is_source_not_ready(&err, dst) => Err(SendError::SourceNotReady(err)),
            Err(err) => Err(SendError::Io(err)),
        }
    }

    async fn send_v4(&self, payload: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> io::Result<usize> {
        let ifindex = libc::c_int::try_from(self.ifindex)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "ifindex out of range"))?;
        let info = libc::in_pktinfo {
            ipi_ifindex: ifindex,
            ipi_spec_dst: libc::in_addr {
                s_addr: u32::from(src).to_be(),
            },
            ipi_addr: libc::in_addr { s_addr: 0 },
        };
        let to = SockaddrIn::from(SocketAddrV4::new(dst, 0));
        let cmsgs = [ControlMessage::Ipv4PacketInfo(&info)];
        self.send_with(payload, &cmsgs, &to).await
    }

    async fn send_v6(&self, payload: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> io::Result<usize> {
        let info = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: src.octets(),
            },
            ipi6_ifindex: self.ifindex,
        };
        // Link-scoped destinations (ff02::12, fe80::/10 peers) need the zone.
        let scoped = dst.is_multicast() || dst.is_unicast_link_local();
        let zone = if scoped { self.ifindex } else { 0 };
        let to = SockaddrIn6::from(SocketAddrV6::new(dst, 0, 0, zone));
        let cmsgs = [ControlMessage::Ipv6PacketInfo(&info)];
        self.send_with(payload, &cmsgs, &to).await
    }

    async fn send_with(
        &self,
        payload: &[u8],
        cmsgs: &[ControlMessage<'_>],
        to: &impl SockaddrLike,
    ) -> io::Result<usize> {
        let iov = [IoSlice::new(payload)];
        self.fd
            .async_io(Interest::WRITABLE, |socket| {
                Ok(sendmsg(
                    socket.as_raw_fd(),
                    &iov,
                    cmsgs,
                    MsgFlags::empty(),
                    Some(to),
                )?)
            })
            .await
    }

    /// Receive the next VRRP packet into `buf` (1500 bytes hold any advertisement on Ethernet).
    pub async fn recv(&self, buf: &mut [u8]) -> Result<Received, RecvError> {
        match self.src {
            IpAddr::V4(_) => self.recv_v4(buf).await,
            IpAddr::V6(_) => self.recv_v6(buf).await,
        }
    }

    async fn recv_v4(&self, buf: &mut [u8]) -> Result<Received, RecvError> {
        let mut cmsg = nix::cmsg_space!(u32);
        let datagram: Datagram<SockaddrIn> = self
            .fd
            .async_io(Interest::READABLE, |socket| receive(socket, buf, &mut cmsg))
            .await
            .map_err(RecvError::Io)?;
        if datagram.truncated || datagram.len > buf.len() {
            return Err(RecvError::Truncated { len: datagram.len });
        }
        let header = ipv4_header::parse(&buf[..datagram.len], false)?;
        Ok(Received {
            payload: header.payload,
            src: IpAddr::V4(header.src),
            dst: IpAddr::V4(header.dst),
            ttl: header.ttl,
            // SO_BINDTODEVICE: nothing else arrives here.
            ifindex: self.ifindex,
            kernel_drops: datagram.kernel_drops,
        })
    }

    async fn recv_v6(&self, buf: &mut [u8]) -> Result<Received, RecvError> {
        let mut cmsg = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int, u32);
        let datagram: Datagram<SockaddrIn6> = self
            .fd
            .async_io(Interest::READABLE, |socket| receive(socket, buf, &mut cmsg))
            .await
            .map_err(RecvError::Io)?;
        if datagram.truncated || datagram.len > buf.len() {
            return Err(RecvError::Truncated { len: datagram.len });
        }
        let src = datagram
            .from
            .ok_or(RecvError::Malformed("no source address"))?;
        let info = datagram
            .pktinfo
            .ok_or(RecvError::Malformed("no IPV6_PKTINFO"))?;
        let hop_limit = datagram
            .hop_limit
            .and_then(|hops| u8::try_from(hops).ok())
            .ok_or(RecvError::Malformed("no IPV6_HOPLIMIT"))?;
        Ok(Received {
            payload: 0..datagram.len,
            src: IpAddr::V6(src.ip()),
            dst: IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)),
            ttl: hop_limit,
            ifindex: info.ipi6_ifindex,
            kernel_drops: datagram.kernel_drops,
        })
    }
}

/// No usable source address. IPv6 sends fail with EADDRNOTAVAIL while the link-local is tentative
/// when the kernel picks the source; with IPV6_PKTINFO naming a tentative source it answers EINVAL
/// instead (both measured in netns-tests; docs/linux.md §IPv6 DAD). `send` checked the payload length
/// first, so for IPv6 EINVAL has no other cause.
fn is_source_not_ready(err: &io::Error, dst: IpAddr) -> bool {
    match err.raw_os_error() {
        Some(libc::EADDRNOTAVAIL) => true,
        Some(libc::EINVAL) => dst.is_ipv6(),
        _ => false,
    }
}
