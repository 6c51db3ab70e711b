//! Typed failures of the VRRP socket, so the daemon can tell "wait for the address" and "count and drop
//! this packet" from "the socket is broken".

use std::fmt;
use std::io;

/// Opening or configuring a VRRP socket failed at `step` (the option or call named).
#[derive(Debug)]
pub struct OpenError {
    pub ifname: String,
    pub step: &'static str,
    pub source: io::Error,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "VRRP socket on {}: {}: {}",
            self.ifname, self.step, self.source
        )
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Sending an advertisement failed.
#[derive(Debug)]
pub enum SendError {
    /// The source address cannot be used yet: IPv6 link-local still tentative (DAD running), or the
    /// address is gone from the interface. Wait for it (`Netlink::wait_ipv6_link_local_ready`) and send
    /// again; do not retry blindly.
    SourceNotReady(io::Error),
    /// Destination of the other family than the socket.
    FamilyMismatch,
    /// Shorter than a VRRP header (8 bytes): never an advertisement, and the IPv6 kernel checksum
    /// offset (6) needs at least 8 bytes.
    PayloadTooShort {
        len: usize,
    },
    /// The kernel sent fewer bytes than given (should not happen on a raw socket).
    Partial {
        sent: usize,
        len: usize,
    },
    Io(io::Error),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SourceNotReady(err) => write!(
                f,
                "source address not usable (tentative, or gone with the link): {err}"
            ),
            Self::FamilyMismatch => f.write_str("destination family differs from the socket's"),
            Self::PayloadTooShort { len } => {
                write!(f, "payload of {len} bytes is shorter than a VRRP header")
            }
            Self::Partial { sent, len } => write!(f, "sent {sent} of {len} bytes"),
            Self::Io(err) => write!(f, "send: {err}"),
        }
    }
}

impl std::error::Error for SendError {}

/// Receiving failed. `Truncated` and `Malformed` concern one packet (count it, receive the next);
/// `Io` concerns the socket.
#[derive(Debug)]
pub enum RecvError {
    /// The packet did not fit the buffer: `len` is its real length.
    Truncated {
        len: usize,
    },
    /// The delivered bytes or control data do not make a packet we can attribute (bad IPv4 header,
    /// missing packet info / hop limit).
    Malformed(&'static str),
    Io(io::Error),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { len } => {
                write!(f, "packet of {len} bytes truncated by the receive buffer")
            }
            Self::Malformed(what) => write!(f, "malformed packet: {what}"),
            Self::Io(err) => write!(f, "recv: {err}"),
        }
    }
}

impl std::error::Error for RecvError {}
