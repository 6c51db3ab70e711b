//! The kernel's process events connector (`NETLINK_CONNECTOR`, `CN_IDX_PROC`): a netlink socket
//! that, once subscribed with `PROC_CN_MCAST_LISTEN`, receives one datagram per fork, exec, comm
//! change and exit on the whole system. This module owns the socket, the subscription, and the
//! decoding of datagrams into [`ProcEvent`]s; what to do with an event is the tracker's business.
//!
//! Layout (linux/netlink.h, linux/connector.h, linux/cn_proc.h): `nlmsghdr` (16 bytes), `cn_msg`
//! (20 bytes: idx, val, seq, ack, len, flags), then `proc_event`: `what` u32, `cpu` u32,
//! `timestamp_ns` u64, and at offset 16 the event's pids as u32s in host order. Decoding reads
//! bytes at offsets, so the kernel's 4-byte misalignment of `proc_event` does not matter.
//!
//! The connector exists only in the initial network namespace: elsewhere (a namespace lab, most
//! containers) the subscription is refused and the tracker polls. Older kernels also require
//! CAP_NET_ADMIN to subscribe (Linux 6.18, where this was tested, lets any user listen).
//! Built with socket2 for the socket (nix has no `NETLINK_CONNECTOR` protocol) and nix for
//! `bind`/`send`/`recvfrom` on its descriptor (no raw `sockaddr_nl`); registering it with tokio
//! goes through `net::sys::register`, the crate's one home of that `unsafe` call.

use std::io;
use std::os::fd::AsRawFd;

use nix::sys::socket::{MsgFlags, NetlinkAddr, bind, getsockname, recvfrom, send};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::unix::AsyncFd;

/// `sizeof(struct nlmsghdr)`.
const NLMSG_HDRLEN: usize = 16;
/// `sizeof(struct cn_msg)`.
const CN_MSG_LEN: usize = 20;
/// Where `proc_event.event_data` starts inside `proc_event`.
const EVENT_DATA: usize = 16;
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// Room for bursts of events before the kernel drops them (ENOBUFS); the kernel caps it at
/// `net.core.rmem_max`.
const RECV_BUFFER: usize = 1024 * 1024;

/// One process event, by the pids it names (`tgid` is the process, `pid` the thread).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ProcEvent {
    Fork {
        parent_tgid: i32,
        child_pid: i32,
        child_tgid: i32,
    },
    Exec {
        tgid: i32,
    },
    Comm {
        pid: i32,
        tgid: i32,
    },
    Exit {
        pid: i32,
        tgid: i32,
    },
    /// The kernel's answer to a subscription: `seq` is the request's, `err` an errno or 0.
    Ack {
        seq: u32,
        err: u32,
    },
}

/// A subscribed proc connector socket. Dropping it unsubscribes.
pub(super) struct Connector {
    fd: AsyncFd<Socket>,
    /// Our socket's netlink port id, sent as the subscription's `seq`: acks are multicast to
    /// every listener, and only ours says whether our subscription was refused.
    port: u32,
}

impl Connector {
    /// Opens, binds to the proc group and subscribes. Fails outside the initial network
    /// namespace (the subscription is refused, ECONNREFUSED), on a kernel without
    /// `CONFIG_PROC_EVENTS`, and on older kernels without CAP_NET_ADMIN (the bind is refused, or
    /// the subscription acknowledged with EPERM: then [`Connector::recv`] fails).
    pub(super) fn open() -> io::Result<Connector> {
        let ty = Type::DGRAM.nonblocking().cloexec();
        let protocol = Protocol::from(libc::NETLINK_CONNECTOR);
        let socket = Socket::new(Domain::from(libc::AF_NETLINK), ty, Some(protocol))?;
        // Best effort: a smaller buffer only makes overflows (and so rescans) likelier.
        let _ = socket.set_recv_buffer_size(RECV_BUFFER);
        let fd = socket.as_raw_fd();
        bind(fd, &NetlinkAddr::new(0, libc::CN_IDX_PROC))?;
        let port = getsockname::<NetlinkAddr>(fd)?.pid();
        let listen = mcast_op(libc::PROC_CN_MCAST_LISTEN, port);
        send(fd, &listen, MsgFlags::empty())?;
        Ok(Connector {
            fd: crate::net::sys::register(socket)?,
            port,
        })
    }

    /// The events of the datagrams queued now (at most a batch), waiting for at least one datagram. An error of
    /// kind ENOBUFS means events were lost (the caller rescans); others are the socket failing.
    pub(super) async fn recv(&self) -> io::Result<Vec<ProcEvent>> {
        let mut buf = [0u8; 4096];
        loop {
            let mut guard = self.fd.readable().await?;
            let mut events = Vec::new();
            let drained = guard.try_io(|fd| {
                // A bounded batch per wakeup: a fork storm must not hold the shared runtime thread
                // (the protocol loop's) for long; the rest waits for the next turn.
                for _ in 0..MAX_DATAGRAMS_PER_WAKEUP {
                    match recvfrom::<NetlinkAddr>(fd.as_raw_fd(), &mut buf) {
                        Ok((len, from)) => {
                            // Only the kernel (port 0) speaks for the connector.
                            if from.is_some_and(|a| a.pid() == 0) {
                                decode(&buf[..len], &mut events);
                                if let Some(errno) = take_refusal(self.port, &mut events) {
                                    return Err(io::Error::from_raw_os_error(errno));
                                }
                            }
                        }
                        Err(nix::errno::Errno::EAGAIN) if !events.is_empty() => return Ok(()),
                        Err(e) => return Err(io::Error::from(e)),
                    }
                }
                Ok(())
            });
            match drained {
                // A batch of nothing but others' datagrams: keep waiting for an event.
                Ok(Ok(())) if events.is_empty() => continue,
                Ok(Ok(())) => return Ok(events),
                Ok(Err(e)) => return Err(e),
                // Nothing queued after all: readiness is cleared, wait again.
                Err(_would_block) => continue,
            }
        }
    }
}

/// Removes the kernel's acks from `events`; the errno if one refused the subscription `seq`.
fn take_refusal(seq: u32, events: &mut Vec<ProcEvent>) -> Option<i32> {
    let mut refusal = None;
    events.retain(|e| match *e {
        ProcEvent::Ack { seq: s, err } => {
            if s == seq && err != 0 {
                refusal = i32::try_from(err).ok();
            }
            false
        }
        _ => true,
    });
    refusal
}

impl Drop for Connector {
    fn drop(&mut self) {
        // The kernel counts listeners and sends events while any remain.
        let _ = send(
            self.fd.get_ref().as_raw_fd(),
            &mcast_op(libc::PROC_CN_MCAST_IGNORE, self.port),
            MsgFlags::empty(),
        );
    }
}

/// Registers `socket` with the runtime's reactor (panics outside a runtime).
/// Datagrams read per wakeup at most (each a few events).
const MAX_DATAGRAMS_PER_WAKEUP: usize = 64;

/// The subscription message: `nlmsghdr` + `cn_msg` (with `seq` as given) + the
/// `proc_cn_mcast_op`.
fn mcast_op(op: u32, seq: u32) -> Vec<u8> {
    let total = NLMSG_HDRLEN + CN_MSG_LEN + 4;
    let mut msg = Vec::with_capacity(total);
    msg.extend_from_slice(&(total as u32).to_ne_bytes()); // nlmsg_len
    msg.extend_from_slice(&NLMSG_DONE.to_ne_bytes()); // nlmsg_type
    msg.extend_from_slice(&0u16.to_ne_bytes()); // nlmsg_flags
    msg.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_seq
    msg.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: the kernel fills it in
    msg.extend_from_slice(&libc::CN_IDX_PROC.to_ne_bytes());
    msg.extend_from_slice(&libc::CN_VAL_PROC.to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes()); // seq, echoed in the kernel's ack
    msg.extend_from_slice(&0u32.to_ne_bytes()); // ack
    msg.extend_from_slice(&4u16.to_ne_bytes()); // len of the data
    msg.extend_from_slice(&0u16.to_ne_bytes()); // flags
    msg.extend_from_slice(&op.to_ne_bytes());
    msg
}

/// Appends the events of one datagram (the kernel sends one message per datagram, but a chain
/// of netlink messages is walked anyway).
pub(super) fn decode(mut datagram: &[u8], out: &mut Vec<ProcEvent>) {
    while datagram.len() >= NLMSG_HDRLEN {
        let Some(len) = u32_at(datagram, 0).map(|l| l as usize) else {
            return;
        };
        if len < NLMSG_HDRLEN || len > datagram.len() {
            return;
        }
        let kind = u16::from_ne_bytes([datagram[4], datagram[5]]);
        if kind != NLMSG_ERROR
            && kind != NLMSG_NOOP
            && let Some(event) = decode_payload(&datagram[NLMSG_HDRLEN..len])
        {
            out.push(event);
        }
        // NLMSG_ALIGN: messages start on 4-byte boundaries.
        let next = (len + 3) & !3;
        datagram = datagram.get(next..).unwrap_or_default();
    }
}

/// A `cn_msg` carrying a `proc_event`, if it is one of the events the tracker uses.
fn decode_payload(payload: &[u8]) -> Option<ProcEvent> {
    if u32_at(payload, 0)? != libc::CN_IDX_PROC || u32_at(payload, 4)? != libc::CN_VAL_PROC {
        return None;
    }
    let event = payload.get(CN_MSG_LEN..)?;
    let what = u32_at(event, 0)?;
    let pid = |n: usize| u32_at(event, EVENT_DATA + 4 * n).map(|v| v as i32);
    Some(match what {
        libc::PROC_EVENT_FORK => ProcEvent::Fork {
            parent_tgid: pid(1)?,
            child_pid: pid(2)?,
            child_tgid: pid(3)?,
        },
        libc::PROC_EVENT_EXEC => ProcEvent::Exec { tgid: pid(1)? },
        libc::PROC_EVENT_COMM => ProcEvent::Comm {
            pid: pid(0)?,
            tgid: pid(1)?,
        },
        libc::PROC_EVENT_EXIT => ProcEvent::Exit {
            pid: pid(0)?,
            tgid: pid(1)?,
        },
        libc::PROC_EVENT_NONE => ProcEvent::Ack {
            seq: u32_at(payload, 8)?,
            err: u32_at(event, EVENT_DATA)?,
        },
        _ => return None,
    })
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A datagram as the kernel builds it: one message, `what`, then the pids.
    fn datagram(what: u32, pids: &[u32]) -> Vec<u8> {
        let mut event = Vec::new();
        event.extend_from_slice(&what.to_ne_bytes());
        event.extend_from_slice(&3u32.to_ne_bytes()); // cpu
        event.extend_from_slice(&123u64.to_ne_bytes()); // timestamp
        for p in pids {
            event.extend_from_slice(&p.to_ne_bytes());
        }
        let mut msg = mcast_op(0, 77);
        msg.truncate(NLMSG_HDRLEN + CN_MSG_LEN);
        msg.extend_from_slice(&event);
        let len = msg.len() as u32;
        msg[..4].copy_from_slice(&len.to_ne_bytes());
        msg
    }

    fn one(d: &[u8]) -> Vec<ProcEvent> {
        let mut out = Vec::new();
        decode(d, &mut out);
        out
    }

    #[test]
    fn decodes_the_events_the_tracker_uses() {
        let fork = datagram(libc::PROC_EVENT_FORK, &[10, 10, 11, 11]);
        assert_eq!(
            one(&fork),
            [ProcEvent::Fork {
                parent_tgid: 10,
                child_pid: 11,
                child_tgid: 11
            }]
        );
        let exec = datagram(libc::PROC_EVENT_EXEC, &[12, 12]);
        assert_eq!(one(&exec), [ProcEvent::Exec { tgid: 12 }]);
        let comm = datagram(libc::PROC_EVENT_COMM, &[13, 12, 0x6f6f66, 0]);
        assert_eq!(one(&comm), [ProcEvent::Comm { pid: 13, tgid: 12 }]);
        let exit = datagram(libc::PROC_EVENT_EXIT, &[12, 12, 9, 9, 1, 1]);
        assert_eq!(one(&exit), [ProcEvent::Exit { pid: 12, tgid: 12 }]);
        let two = [exit.clone(), exec.clone()].concat();
        assert_eq!(one(&two).len(), 2);
    }

    #[test]
    fn ignores_other_events_and_garbage() {
        assert_eq!(one(&datagram(libc::PROC_EVENT_UID, &[1, 1, 0, 0])), []);
        assert_eq!(
            one(&datagram(libc::PROC_EVENT_NONE, &[1, 0])),
            [ProcEvent::Ack { seq: 77, err: 1 }]
        );
        let short = datagram(libc::PROC_EVENT_FORK, &[10, 10]);
        assert_eq!(one(&short), []);
        assert_eq!(one(&[1, 2, 3]), []);
        let mut lying = datagram(libc::PROC_EVENT_EXEC, &[12, 12]);
        lying[..4].copy_from_slice(&1000u32.to_ne_bytes());
        assert_eq!(one(&lying), []);
        let mut other_idx = datagram(libc::PROC_EVENT_EXEC, &[12, 12]);
        other_idx[NLMSG_HDRLEN] = 7;
        assert_eq!(one(&other_idx), []);
    }

    #[test]
    fn only_a_refusal_of_our_subscription_counts() {
        let exec = ProcEvent::Exec { tgid: 5 };
        let ack = |seq, err| ProcEvent::Ack { seq, err };
        let mut events = vec![ack(9, 1), exec, ack(77, 0)];
        assert_eq!(take_refusal(77, &mut events), None);
        assert_eq!(events, [exec]);
        let mut events = vec![exec, ack(77, libc::EPERM as u32)];
        assert_eq!(take_refusal(77, &mut events), Some(libc::EPERM));
    }
}
