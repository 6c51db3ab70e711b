//! The nfnetlink socket: sends a batch and waits for the kernel's answer to each of its messages.

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recv, sendto,
    setsockopt, socket, sockopt,
};
use nix::sys::time::TimeVal;

use super::message::Batch;

/// NLMSG_ERROR: the kernel's answer (error 0 = acknowledgement).
const NLMSG_ERROR: u16 = 2;
/// How long one answer may take; nf_tables answers in microseconds unless its mutex is held long.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// An nf_tables change failed.
#[derive(Debug)]
pub enum NftError {
    /// The socket could not be opened, or sending / receiving failed.
    Io(io::Error),
    /// The kernel refused the batch (nothing of it was applied).
    Refused(io::Error),
    /// No complete answer within the timeout.
    Timeout,
}

impl NftError {
    /// The errno of a refusal (e.g. `libc::ENOENT`).
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Refused(e) => e.raw_os_error(),
            _ => None,
        }
    }
}

impl fmt::Display for NftError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "nfnetlink: {e}"),
            Self::Refused(e) => write!(f, "nf_tables refused the change: {e}"),
            Self::Timeout => write!(f, "nf_tables did not answer within {ANSWER_TIMEOUT:?}"),
        }
    }
}

impl std::error::Error for NftError {}

#[derive(Debug)]
pub struct NftSocket {
    fd: OwnedFd,
    next_seq: u32,
}

impl NftSocket {
    pub fn open() -> Result<NftSocket, NftError> {
        let io_error = |e: nix::Error| NftError::Io(io::Error::from(e));
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkNetFilter,
        )
        .map_err(io_error)?;
        // Port 0: the kernel picks a unique one.
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(io_error)?;
        let timeout = TimeVal::new(ANSWER_TIMEOUT.as_secs() as i64, 0);
        setsockopt(&fd, sockopt::ReceiveTimeout, &timeout).map_err(io_error)?;
        Ok(NftSocket { fd, next_seq: 1 })
    }

    pub fn batch(&self) -> Batch {
        Batch::new(self.next_seq)
    }

    /// Sends the batch and waits for every message's answer; the first refusal is the error.
    pub fn apply(&mut self, batch: Batch) -> Result<(), NftError> {
        self.next_seq = batch.next_seq();
        let (bytes, acked) = batch.finish();
        let Some(&first) = acked.first() else {
            return Ok(());
        };
        sendto(
            self.fd.as_raw_fd(),
            &bytes,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )
        .map_err(|e| NftError::Io(e.into()))?;
        // BATCH_BEGIN has the sequence number before the first message: a refused batch as a whole
        // (no CAP_NET_ADMIN, no nf_tables) is answered there.
        let begin = first.wrapping_sub(1);
        let mut waiting: HashSet<u32> = acked.into_iter().collect();
        let mut refusal = None;
        let mut buffer = vec![0u8; 64 * 1024];
        while !waiting.is_empty() {
            let len = match recv(self.fd.as_raw_fd(), &mut buffer, MsgFlags::empty()) {
                Ok(len) => len,
                Err(nix::Error::EAGAIN) => return Err(NftError::Timeout),
                Err(nix::Error::EINTR) => continue,
                Err(e) => return Err(NftError::Io(e.into())),
            };
            for (seq, error) in answers(&buffer[..len]) {
                if seq == begin && error != 0 {
                    return Err(NftError::Refused(io::Error::from_raw_os_error(-error)));
                }
                if waiting.remove(&seq) && error != 0 && refusal.is_none() {
                    refusal = Some(io::Error::from_raw_os_error(-error));
                }
            }
        }
        refusal.map_or(Ok(()), |e| Err(NftError::Refused(e)))
    }
}

/// (sequence number, error) of each NLMSG_ERROR message in a datagram; error is 0 or a negative errno.
pub(crate) fn answers(datagram: &[u8]) -> Vec<(u32, i32)> {
    let mut found = Vec::new();
    let mut rest = datagram;
    while rest.len() >= 16 {
        let word =
            |at: usize| u32::from_ne_bytes([rest[at], rest[at + 1], rest[at + 2], rest[at + 3]]);
        let len = word(0) as usize;
        if len < 16 || len > rest.len() {
            break;
        }
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if kind == NLMSG_ERROR && len >= 20 {
            found.push((word(8), word(16) as i32));
        }
        // Messages are aligned to 4 bytes.
        rest = &rest[len.next_multiple_of(4).min(rest.len())..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::answers;

    fn error_message(seq: u32, error: i32) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&36u32.to_ne_bytes()); // header + error + the request's header
        bytes.extend_from_slice(&2u16.to_ne_bytes()); // NLMSG_ERROR
        bytes.extend_from_slice(&0x100u16.to_ne_bytes()); // NLM_F_CAPPED
        bytes.extend_from_slice(&seq.to_ne_bytes());
        bytes.extend_from_slice(&1234u32.to_ne_bytes());
        bytes.extend_from_slice(&error.to_ne_bytes());
        bytes.extend_from_slice(&[0; 16]);
        bytes
    }

    #[test]
    fn reads_each_acknowledgement_and_error_of_a_datagram() {
        let mut datagram = error_message(7, 0);
        datagram.extend(error_message(8, -libc::ENOENT));
        assert_eq!(answers(&datagram), vec![(7, 0), (8, -libc::ENOENT)]);
    }

    #[test]
    fn stops_at_a_truncated_or_bogus_length() {
        let mut datagram = error_message(7, 0);
        datagram.extend(&error_message(8, 0)[..20]);
        assert_eq!(answers(&datagram), vec![(7, 0)]);
        let mut zero = error_message(9, 0);
        zero[..4].copy_from_slice(&0u32.to_ne_bytes());
        assert!(answers(&zero).is_empty());
    }
}
