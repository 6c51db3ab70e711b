//! Batched receive: one `recvmmsg` fills up to [`BATCH`] preallocated slots, so a backup hearing
//! hundreds of masters makes one system call per burst rather than one per advert, and nothing is
//! allocated per packet (the slots, headers and control buffers live as long as the batch).

use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};

use socket2::Socket;
use vrrp_wire::MAX_MESSAGE_LEN;

use super::{RecvError, VrrpSocket, ipv4_header};
use crate::net::sys::{self, Control, DatagramInfo};

/// Datagrams per `recvmmsg`.
pub const BATCH: usize = 32;

/// The longest IPv4 header (60 bytes), the longest advert and one byte more: a longer datagram is cut
/// there, still one byte too long for the core to discard it as such.
const SLOT: usize = 60 + MAX_MESSAGE_LEN + 1;

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
    controls: Box<[Control; BATCH]>,
    meta: [DatagramInfo; BATCH],
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
        RecvBatch {
            slots: Box::new([[0u8; SLOT]; BATCH]),
            controls: Box::new([Control::default(); BATCH]),
            meta: [DatagramInfo::default(); BATCH],
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
        self.count = sys::recv_many(fd, &mut self.slots, &mut self.controls, &mut self.meta)?;
        Ok(self.count)
    }
}

fn ipv6_packet<'a>(meta: &DatagramInfo, delivered: &'a [u8]) -> Result<Packet<'a>, RecvError> {
    let src = meta
        .from_v6
        .ok_or(RecvError::Malformed("no source address"))?;
    let (dst, _) = meta
        .pktinfo
        .ok_or(RecvError::Malformed("no IPV6_PKTINFO"))?;
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
