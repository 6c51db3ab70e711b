//! The two socket calls no safe wrapper offers, isolated here so the rest of `net` stays free of
//! `unsafe`:
//! - `IPV6_CHECKSUM` (RFC 3542 §3.1): neither socket2 nor nix wraps it, so `libc::setsockopt` it is.
//! - a `sockaddr_ll` for `sendto` on an AF_PACKET socket: socket2 can only build one from raw storage.
//! - `AsyncFd::register`: tokio 1.54 deprecated the safe `AsyncFd::new` (I/O safety) for this (the
//!   raw sockets and the protocol loop's timerfd).
#![allow(unsafe_code)]

use std::io;
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
