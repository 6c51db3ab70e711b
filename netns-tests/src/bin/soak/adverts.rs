//! The adverts on the wire, as they pass: a packet socket in the lab's observer namespace (a port of
//! the hub, so it sees every frame) keeps each VRRP advert's source router, priority and kernel
//! receive time (SO_TIMESTAMPNS: the wall clock the sampler and the probe stamp with, taken when the
//! frame arrived, not when this thread got to it).

use std::fs::File;
use std::io::IoSliceMut;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use netns_tests::netns::NETNS_DIR;
use netns_tests::{HarnessError, Result};
use nix::sched::{CloneFlags, setns};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};

/// VRRP's IP protocol number.
const PROTO_VRRP: u8 = 112;
/// How often the thread looks at its stop flag while the wire is quiet.
const READ_TIMEOUT: Duration = Duration::from_millis(100);

/// One advert seen on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Kernel receive time, since the Unix epoch.
    pub at: Duration,
    pub source: Ipv4Addr,
    pub priority: u8,
}

/// The source address and priority of an IPv4 VRRP packet (`frame` starts at the IP header).
pub fn parse_advert(frame: &[u8]) -> Option<(Ipv4Addr, u8)> {
    let version_ihl = *frame.first()?;
    if version_ihl >> 4 != 4 || *frame.get(9)? != PROTO_VRRP {
        return None;
    }
    let header = usize::from(version_ihl & 0x0f) * 4;
    let source = Ipv4Addr::new(
        *frame.get(12)?,
        *frame.get(13)?,
        *frame.get(14)?,
        *frame.get(15)?,
    );
    // VRRP: version/type, VRID, priority.
    let priority = *frame.get(header + 2)?;
    Some((source, priority))
}

/// The running watcher; stops when dropped.
pub struct AdvertWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl AdvertWatch {
    /// Watch from namespace `ns`; every advert goes to `sink`.
    pub fn start(ns: &str, sink: mpsc::Sender<Seen>) -> Result<Self> {
        let path = Path::new(NETNS_DIR).join(ns);
        let handle = File::open(&path)
            .map_err(|err| HarnessError::new(format!("open {}: {err}", path.display())))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("advert-watch".into())
            .spawn({
                let stop = Arc::clone(&stop);
                move || {
                    let socket = setns(&handle, CloneFlags::CLONE_NEWNET)
                        .map_err(|err| HarnessError::new(format!("setns: {err}")))
                        .and_then(|()| packet_socket());
                    match socket {
                        Ok(socket) => {
                            let _ = ready_tx.send(Ok(()));
                            read_adverts(&socket, &stop, &sink);
                        }
                        Err(err) => {
                            let _ = ready_tx.send(Err(err));
                        }
                    }
                }
            })?;
        ready_rx
            .recv()
            .map_err(|_| HarnessError::new("the advert watcher ended before it started"))??;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for AdvertWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A cooked packet socket for IPv4 frames, with kernel receive stamps and a read timeout.
fn packet_socket() -> Result<socket2::Socket> {
    let eth_p_ip = (libc::ETH_P_IP as u16).to_be();
    let socket = socket2::Socket::new(
        socket2::Domain::PACKET,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::from(i32::from(eth_p_ip))),
    )?;
    socket.set_read_timeout(Some(READ_TIMEOUT))?;
    setsockopt(&socket.as_fd(), sockopt::ReceiveTimestampns, &true)?;
    Ok(socket)
}

fn read_adverts(socket: &socket2::Socket, stop: &AtomicBool, sink: &mpsc::Sender<Seen>) {
    let mut buffer = [0u8; 2048];
    let mut space = nix::cmsg_space!(nix::sys::time::TimeSpec);
    while !stop.load(Ordering::Relaxed) {
        let mut iov = [IoSliceMut::new(&mut buffer)];
        let received = recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::empty(),
        );
        let Ok(message) = received else { continue };
        let stamp = message.cmsgs().ok().and_then(|mut cmsgs| {
            cmsgs.find_map(|cmsg| match cmsg {
                ControlMessageOwned::ScmTimestampns(spec) => Some(Duration::from(spec)),
                _ => None,
            })
        });
        let length = message.bytes;
        let (Some(at), Some((source, priority))) =
            (stamp, parse_advert(&buffer[..length.min(buffer.len())]))
        else {
            continue;
        };
        if sink
            .send(Seen {
                at,
                source,
                priority,
            })
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_vrrp_packet_gives_its_source_and_priority() {
        let mut packet = vec![
            0x45, 0, 0, 28, 0, 0, 0, 0, 255, 112, 0, 0, 192, 0, 2, 2, 224, 0, 0, 18,
        ];
        packet.extend([0x31, 1, 150, 1, 0, 1, 0, 0]);
        assert_eq!(
            parse_advert(&packet),
            Some((Ipv4Addr::new(192, 0, 2, 2), 150))
        );
        packet[9] = 17;
        assert_eq!(parse_advert(&packet), None);
        assert_eq!(parse_advert(&packet[..10]), None);
    }
}
