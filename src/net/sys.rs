//! The two socket calls no safe wrapper offers, isolated here so the rest of `net` stays free of
//! `unsafe`:
//! - `IPV6_CHECKSUM` (RFC 3542 §3.1): neither socket2 nor nix wraps it, so `libc::setsockopt` it is.
//! - a `sockaddr_ll` for `sendto` on an AF_PACKET socket: socket2 can only build one from raw storage.
//! - `AsyncFd::register`: tokio 1.54 deprecated the safe `AsyncFd::new` (I/O safety) for this (the
//!   raw sockets and the protocol loop's timerfd).
//! - `recvmmsg`: nix's wrapper keeps its message headers between calls but resets only their iovecs,
//!   so the control-buffer and address lengths the kernel shortened on one call stay short on the
//!   next, and a later datagram with one more control message (SO_RXQ_OVFL once the kernel dropped
//!   something) fails the whole batch with MSG_CTRUNC. Here every header is built afresh per call.
#![allow(unsafe_code)]

use std::io;
use std::net::Ipv6Addr;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use nix::sys::timerfd::TimerFd;
use socket2::{SockAddr, SockAddrStorage, Socket};
use tokio::io::unix::AsyncFd;

/// Make the kernel compute (on send) and verify (on receive) the checksum at byte `offset` of the payload
/// of an IPv6 raw socket, over the IPv6 pseudo-header plus the payload.
pub(crate) fn set_ipv6_checksum_offset(
    socket: &impl AsRawFd,
    offset: libc::c_int,
) -> io::Result<()> {
    let len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the fd is a live socket borrowed for the call; the option value points to a c_int that
    // lives across the call and `len` is its size, which is what IPV6_CHECKSUM reads.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_CHECKSUM,
            (&offset as *const libc::c_int).cast(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The link-layer destination for sending a complete Ethernet frame out of `ifindex`: `sll_protocol`
/// is the frame's EtherType (network byte order, as in the frame), `sll_addr` its destination MAC.
pub(crate) fn packet_destination(
    ifindex: u32,
    ethertype_be: [u8; 2],
    dst_mac: [u8; 6],
) -> io::Result<SockAddr> {
    let ifindex = libc::c_int::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "ifindex out of range"))?;
    let mut storage = SockAddrStorage::zeroed();
    // SAFETY: sockaddr_ll is one of this platform's sockaddr types and fits in sockaddr_storage
    // (view_as asserts the size); storage is zeroed, so every field not set below is valid (zero).
    let address = unsafe { storage.view_as::<libc::sockaddr_ll>() };
    address.sll_family = libc::AF_PACKET as libc::sa_family_t;
    address.sll_protocol = u16::from_ne_bytes(ethertype_be);
    address.sll_ifindex = ifindex;
    address.sll_halen = 6;
    address.sll_addr[..6].copy_from_slice(&dst_mac);
    let len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: the family is AF_PACKET and the first `len` bytes hold the sockaddr_ll written above.
    Ok(unsafe { SockAddr::new(storage, len) })
}

/// Register `socket` with the current tokio runtime's reactor (panics outside a runtime).
pub(crate) fn register(socket: Socket) -> io::Result<AsyncFd<Socket>> {
    // SAFETY: `Socket` owns its fd (an OwnedFd inside) and `as_raw_fd` always returns that same fd
    // until the socket is dropped, which happens only when the AsyncFd is dropped or unwrapped.
    unsafe { AsyncFd::register(socket) }.map_err(|err| err.into_parts().1)
}

/// A timerfd as tokio's reactor takes it (`AsRawFd`, which nix's `TimerFd` does not implement).
#[derive(Debug)]
pub(crate) struct Timer(pub TimerFd);

impl AsRawFd for Timer {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// Register `timer` with the current tokio runtime's reactor (panics outside a runtime).
pub(crate) fn register_timer(timer: TimerFd) -> io::Result<AsyncFd<Timer>> {
    // SAFETY: `TimerFd` owns its fd (an OwnedFd inside) and `as_raw_fd` returns that same fd until the
    // timer is dropped, which happens only when the AsyncFd is dropped or unwrapped.
    unsafe { AsyncFd::register(Timer(timer)) }.map_err(|err| err.into_parts().1)
}

/// Room for one datagram's control messages (IPV6_PKTINFO, IPV6_HOPLIMIT, SO_RXQ_OVFL), aligned as
/// `cmsghdr` wants.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(8))]
pub(crate) struct Control([u8; 128]);

impl Default for Control {
    fn default() -> Self {
        Control([0; 128])
    }
}

/// What `recv_many` learnt of one datagram besides its bytes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DatagramInfo {
    /// Its real length (MSG_TRUNC), also when longer than its buffer.
    pub len: usize,
    pub truncated: bool,
    /// The sender, when the socket is IPv6.
    pub from_v6: Option<Ipv6Addr>,
    /// IPV6_PKTINFO: destination address and arrival interface.
    pub pktinfo: Option<(Ipv6Addr, u32)>,
    pub hop_limit: Option<i32>,
    /// SO_RXQ_OVFL: the socket's cumulative drop count (absent while zero).
    pub kernel_drops: u32,
}

/// One `recvmmsg(2)` (non-blocking socket, MSG_TRUNC) into `buffers`, at most one datagram each;
/// `info[i]` describes `buffers[i]`. Returns how many arrived.
pub(crate) fn recv_many<const N: usize, const L: usize>(
    fd: RawFd,
    buffers: &mut [[u8; L]; N],
    controls: &mut [Control; N],
    info: &mut [DatagramInfo; N],
) -> io::Result<usize> {
    // SAFETY: all-zero is a valid value of these plain C structs (null pointers, zero lengths).
    let mut names: [libc::sockaddr_in6; N] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut iovecs: [libc::iovec; N] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut headers: [libc::mmsghdr; N] = unsafe { std::mem::zeroed() };
    let slots = buffers
        .iter_mut()
        .zip(controls.iter_mut())
        .zip(names.iter_mut());
    for ((header, iovec), ((buffer, control), name)) in
        headers.iter_mut().zip(&mut iovecs).zip(slots)
    {
        iovec.iov_base = buffer.as_mut_ptr().cast();
        iovec.iov_len = L;
        let msg = &mut header.msg_hdr;
        msg.msg_name = (name as *mut libc::sockaddr_in6).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = iovec;
        msg.msg_iovlen = 1;
        msg.msg_control = control.0.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<Control>() as _;
    }
    // SAFETY: every header points at a name, an iovec over a buffer and a control buffer that live
    // (and are not otherwise touched) until the call returns, with their true sizes; N headers.
    let received = unsafe {
        libc::recvmmsg(
            fd,
            headers.as_mut_ptr(),
            N as libc::c_uint,
            libc::MSG_TRUNC,
            std::ptr::null_mut(),
        )
    };
    let count = usize::try_from(received).map_err(|_| io::Error::last_os_error())?;
    for ((header, name), slot) in headers.iter().zip(&names).zip(info.iter_mut()).take(count) {
        let msg = &header.msg_hdr;
        let mut seen = DatagramInfo {
            len: header.msg_len as usize,
            truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
            ..DatagramInfo::default()
        };
        if name.sin6_family == libc::AF_INET6 as libc::sa_family_t {
            seen.from_v6 = Some(Ipv6Addr::from(name.sin6_addr.s6_addr));
        }
        read_controls(msg, &mut seen);
        *slot = seen;
    }
    Ok(count)
}

/// The control messages of one received `msg` into `seen`.
fn read_controls(msg: &libc::msghdr, seen: &mut DatagramInfo) {
    // SAFETY: `msg` is a header recvmmsg filled: its control pointer and (kernel-set) length describe
    // the control buffer, which outlives this call; CMSG_FIRSTHDR/NXTHDR stay within that length.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(msg) };
    while !cmsg.is_null() {
        // SAFETY: non-null from CMSG_FIRSTHDR/NXTHDR: a whole cmsghdr inside the buffer.
        let header = unsafe { &*cmsg };
        // SAFETY: the data follows the header inside the buffer.
        let data = unsafe { libc::CMSG_DATA(cmsg) };
        let room = header.cmsg_len as usize;
        // SAFETY (each read below): the message's length covers a value of the type read, checked
        // against CMSG_LEN first; read_unaligned, as the data need not be aligned for it.
        let fits = |size: usize| room >= unsafe { libc::CMSG_LEN(size as u32) } as usize;
        match (header.cmsg_level, header.cmsg_type) {
            (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) if fits(size_of::<libc::in6_pktinfo>()) => {
                let info: libc::in6_pktinfo = unsafe { std::ptr::read_unaligned(data.cast()) };
                seen.pktinfo = Some((Ipv6Addr::from(info.ipi6_addr.s6_addr), info.ipi6_ifindex));
            }
            (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) if fits(size_of::<libc::c_int>()) => {
                seen.hop_limit = Some(unsafe { std::ptr::read_unaligned(data.cast()) });
            }
            (libc::SOL_SOCKET, libc::SO_RXQ_OVFL) if fits(size_of::<u32>()) => {
                seen.kernel_drops = unsafe { std::ptr::read_unaligned(data.cast()) };
            }
            _ => {}
        }
        // SAFETY: as CMSG_FIRSTHDR; null after the last one.
        cmsg = unsafe { libc::CMSG_NXTHDR(msg, cmsg) };
    }
}
