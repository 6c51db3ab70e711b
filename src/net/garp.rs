//! Sending complete Ethernet frames (gratuitous ARP, unsolicited Neighbor Advertisements built by
//! vrrp-wire) through a send-only AF_PACKET socket.
//!
//! Protocol 0 at `socket()` means the socket is bound to no EtherType, so the kernel queues nothing for
//! it to receive (unlike pnet_datalink's channel, which opens an ETH_P_ALL receive side and turns on
//! promiscuous mode). One socket serves every interface: the ifindex is given per frame.
//!
//! The interface's MAC address comes from netlink (`Netlink::link_by_name`), not from
//! /sys/class/net: sysfs shows the network namespace it was mounted in, not the caller's.

use std::fmt;
use std::io;

use socket2::{Domain, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::net::sys::packet_destination;

/// Ethernet header: destination MAC, source MAC, EtherType.
const ETHERNET_HEADER_LEN: usize = 14;

/// Sending a frame failed.
#[derive(Debug)]
pub enum FrameError {
    /// Shorter than an Ethernet header.
    TooShort {
        len: usize,
    },
    /// The kernel sent fewer bytes than given.
    Partial {
        sent: usize,
        len: usize,
    },
    Io(io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len } => {
                write!(f, "frame of {len} bytes is shorter than an Ethernet header")
            }
            Self::Partial { sent, len } => write!(f, "sent {sent} of {len} frame bytes"),
            Self::Io(err) => write!(f, "AF_PACKET send: {err}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// A send-only AF_PACKET socket.
#[derive(Debug)]
pub struct FrameSender {
    fd: AsyncFd<Socket>,
}

impl FrameSender {
    /// Open the socket (needs CAP_NET_RAW and a tokio runtime with IO enabled).
    pub fn open() -> io::Result<Self> {
        let socket = Socket::new(Domain::PACKET, Type::RAW, None)?;
        socket.set_nonblocking(true)?;
        Ok(Self {
            fd: crate::net::sys::register(socket)?,
        })
    }

    /// Send `frame` (a complete Ethernet frame, header included, no FCS) out of interface `ifindex`.
    pub async fn send_frame(&self, ifindex: u32, frame: &[u8]) -> Result<(), FrameError> {
        let header: &[u8; ETHERNET_HEADER_LEN] = frame
            .get(..ETHERNET_HEADER_LEN)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(FrameError::TooShort { len: frame.len() })?;
        let mut dst_mac = [0; 6];
        dst_mac.copy_from_slice(&header[..6]);
        let destination = packet_destination(ifindex, [header[12], header[13]], dst_mac)
            .map_err(FrameError::Io)?;
        let sent = self
            .fd
            .async_io(Interest::WRITABLE, |socket| {
                socket.send_to(frame, &destination)
            })
            .await
            .map_err(FrameError::Io)?;
        if sent == frame.len() {
            Ok(())
        } else {
            Err(FrameError::Partial {
                sent,
                len: frame.len(),
            })
        }
    }
}
