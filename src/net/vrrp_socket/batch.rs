//! Batched receive: one `recvmmsg` fills up to [`BATCH`] preallocated slots, so a backup hearing
//! hundreds of masters makes one system call per burst rather than one per advert, and nothing is
//! allocated per packet (the slots, headers and control buffers live as long as the batch).

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};

use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, MultiHeaders, RecvMsg, SockaddrIn, SockaddrIn6, SockaddrLike,
    recvmmsg,
};
use socket2::Socket;
use vrrp_wire::MAX_MESSAGE_LEN;

use super::{RecvError, VrrpSocket, ipv4_header};

/// Datagrams per `recvmmsg`.
pub const BATCH: usize = 32;

/// The longest IPv4 header (60 bytes), the longest advert and one byte more: a longer datagram is cut
/// there, still one byte too long for the core to discard it as such.
const SLOT: usize = 60 + MAX_MESSAGE_LEN + 1;

/// What one datagram's header and control messages said, before its bytes are looked at.
#[derive(Debug, Clone, Copy, Default)]
struct Meta {
    len: usize,
    truncated: bool,
    from: Option<Ipv6Addr>,
    /// IPV6_PKTINFO: destination and arrival interface.
    to: Option<(Ipv6Addr, u32)>,
    hop_limit: Option<i32>,
    kernel_drops: u32,
}

/// One received datagram, borrowed from its batch slot: the VRRP bytes (without an IPv4 header, cut
/// to one byte past the longest advert) and what the IP header or control messages said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    pub payload: &'a [u8],
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    /// The socket's cumulative kernel drop counter as of this datagram (SO_RXQ_OVFL).
    pub kernel_drops: u32,
}

/// Preallocated buffers for `recvmmsg` on either family; reused for every batch.
pub struct RecvBatch {
    slots: Box<[[u8; SLOT]; BATCH]>,
    v4: MultiHeaders<SockaddrIn>,
    v6: MultiHeaders<SockaddrIn6>,
    meta: [Meta; BATCH],
    count: usize,
    ipv6: bool,
}

impl Default for RecvBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl RecvBatch {
    pub fn new() -> RecvBatch {
        // IPV6_PKTINFO, IPV6_HOPLIMIT and SO_RXQ_OVFL; IPv4 only uses the last.
        // (Each its own: `preallocate` reads the capacity, which a clone of the empty vector lacks.)
        let v4_cmsg = nix::cmsg_space!(u32);
        let v6_cmsg = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int, u32);
        RecvBatch {
            slots: Box::new([[0u8; SLOT]; BATCH]),
            v4: MultiHeaders::preallocate(BATCH, Some(v4_cmsg)),
            v6: MultiHeaders::preallocate(BATCH, Some(v6_cmsg)),
            meta: [Meta::default(); BATCH],
            count: 0,
            ipv6: false,
        }
    }

    /// How many datagrams the last receive filled.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Datagram `index` of the last receive; an error for one the kernel delivered without what the
    /// receive path needs (no IPv6 packet info, a malformed IPv4 header).
    pub fn get(&self, index: usize) -> Result<Packet<'_>, RecvError> {
        let (Some(meta), Some(slot)) = (self.meta.get(index), self.slots.get(index)) else {
            return Err(RecvError::Malformed("no such datagram in the batch"));
        };
        let delivered = slot.get(..meta.len.min(SLOT)).unwrap_or(&[]);
        if self.ipv6 {
            return ipv6_packet(meta, delivered);
        }
        let cut = meta.truncated || meta.len > SLOT;
        let header = ipv4_header::parse(delivered, cut)?;
        let end = header
            .payload
            .end
            .min(header.payload.start + MAX_MESSAGE_LEN + 1);
        Ok(Packet {
            payload: delivered.get(header.payload.start..end).unwrap_or(&[]),
            src: IpAddr::V4(header.src),
            dst: IpAddr::V4(header.dst),
            ttl: header.ttl,
            kernel_drops: meta.kernel_drops,
        })
    }

    /// One `recvmmsg` on `socket` (non-blocking): how many datagrams arrived.
    fn fill(&mut self, socket: &Socket, ipv6: bool) -> io::Result<usize> {
        self.ipv6 = ipv6;
        self.count = 0;
        let fd = socket.as_raw_fd();
        let mut iovs = self.slots.each_mut().map(|slot| [IoSliceMut::new(slot)]);
        // MSG_TRUNC: each datagram's real length, also when longer than its slot.
        let flags = MsgFlags::MSG_TRUNC;
        let meta = &mut self.meta;
        let count = if ipv6 {
            let results = recvmmsg(fd, &mut self.v6, iovs.iter_mut(), flags, None)?;
            record(results, meta, |from: &SockaddrIn6| from.ip())?
        } else {
            let results = recvmmsg(fd, &mut self.v4, iovs.iter_mut(), flags, None)?;
            record(results, meta, |_: &SockaddrIn| Ipv6Addr::UNSPECIFIED)?
        };
        self.count = count;
        Ok(count)
    }
}

/// Copies what `results` says of each datagram into `meta`; returns how many there were.
fn record<'a, S: SockaddrLike + Copy + 'a>(
    results: impl Iterator<Item = RecvMsg<'a, 'a, S>>,
    meta: &mut [Meta; BATCH],
    address: impl Fn(&S) -> Ipv6Addr,
) -> io::Result<usize> {
    let mut count = 0;
    for (slot, msg) in meta.iter_mut().zip(results) {
        let mut seen = Meta {
            len: msg.bytes,
            truncated: msg.flags.contains(MsgFlags::MSG_TRUNC),
            from: msg.address.as_ref().map(&address),
            ..Meta::default()
        };
        for control in msg.cmsgs()? {
            match control {
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    seen.to = Some((Ipv6Addr::from(info.ipi6_addr.s6_addr), info.ipi6_ifindex));
                }
                ControlMessageOwned::Ipv6HopLimit(hops) => seen.hop_limit = Some(hops),
                // Only present once the counter is non-zero.
                ControlMessageOwned::RxqOvfl(drops) => seen.kernel_drops = drops,
                _ => {}
            }
        }
        *slot = seen;
        count += 1;
    }
    Ok(count)
}

fn ipv6_packet<'a>(meta: &Meta, delivered: &'a [u8]) -> Result<Packet<'a>, RecvError> {
    let src = meta.from.ok_or(RecvError::Malformed("no source address"))?;
    let (dst, _) = meta.to.ok_or(RecvError::Malformed("no IPV6_PKTINFO"))?;
    let ttl = meta
        .hop_limit
        .and_then(|hops| u8::try_from(hops).ok())
        .ok_or(RecvError::Malformed("no IPV6_HOPLIMIT"))?;
    let end = delivered.len().min(MAX_MESSAGE_LEN + 1);
    Ok(Packet {
        payload: delivered.get(..end).unwrap_or(&[]),
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        ttl,
        kernel_drops: meta.kernel_drops,
    })
}

impl VrrpSocket {
    /// Receives one batch into `batch` once the socket is readable (tokio's edge-triggered
    /// readiness); `Pending` registers `cx` for the next datagram. A short batch means the queue is
    /// empty, so readiness is cleared without the extra `recvmmsg` that would say EAGAIN (a datagram
    /// arriving meanwhile raises a new edge). A full one keeps it: the caller comes back for more.
    pub fn poll_recv_batch(
        &self,
        cx: &mut Context<'_>,
        batch: &mut RecvBatch,
    ) -> Poll<io::Result<usize>> {
        let ipv6 = self.src.is_ipv6();
        loop {
            let mut ready = match self.fd.poll_read_ready(cx) {
                Poll::Ready(Ok(ready)) => ready,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match ready.try_io(|socket| batch.fill(socket.get_ref(), ipv6)) {
                Ok(Ok(count)) => {
                    if count < BATCH {
                        ready.clear_ready();
                    }
                    return Poll::Ready(Ok(count));
                }
                Ok(Err(e)) => {
                    // Not EAGAIN: waiting for the next edge beats spinning on a broken socket.
                    ready.clear_ready();
                    return Poll::Ready(Err(e));
                }
                // EAGAIN: the readiness was stale and is cleared; wait for the next edge.
                Err(_stale) => continue,
            }
        }
    }
}
