//! Ethernet frames a new master sends so that hosts and switches learn where the virtual addresses
//! now live (RFC 5798 §6.4.1 (115)-(130) and the same steps in §6.4.2; RFC 3768 §6.4.1): gratuitous
//! ARP for IPv4, unsolicited Neighbor Advertisement for IPv6. Built by hand into fixed-size arrays (every offset is a constant,
//! so nothing can fail); `parse` reads back exactly the form built here, for tests and captures.

mod arp;
mod na;

use std::fmt;

pub use arp::GratuitousArp;
pub use na::UnsolicitedNa;

/// A 48-bit Ethernet address.
pub type MacAddr = [u8; 6];

/// Why a frame is not one this module builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameError {
    /// Shorter than the frame's fixed length.
    Truncated { len: usize, needed: usize },
    /// A fixed field holds something else than the frame form requires; names the field.
    Unexpected { field: &'static str },
    /// The ICMPv6 checksum does not verify (RFC 4443 §2.3).
    BadChecksum,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Truncated { len, needed } => {
                write!(f, "frame of {len} bytes, needs {needed}")
            }
            FrameError::Unexpected { field } => write!(f, "unexpected {field}"),
            FrameError::BadChecksum => write!(f, "bad ICMPv6 checksum"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Reads `N` bytes at `at`; `parse` checks the frame length first, so `None` never reaches a caller.
fn array<const N: usize>(frame: &[u8], at: usize) -> Option<[u8; N]> {
    frame.get(at..at + N)?.try_into().ok()
}

/// Checks that `frame[at..]` starts with `expected`, naming `field` if not.
fn expect(frame: &[u8], at: usize, expected: &[u8], field: &'static str) -> Result<(), FrameError> {
    if frame.get(at..at + expected.len()) == Some(expected) {
        Ok(())
    } else {
        Err(FrameError::Unexpected { field })
    }
}

fn check_len(frame: &[u8], needed: usize) -> Result<(), FrameError> {
    if frame.len() < needed {
        Err(FrameError::Truncated {
            len: frame.len(),
            needed,
        })
    } else {
        Ok(())
    }
}
