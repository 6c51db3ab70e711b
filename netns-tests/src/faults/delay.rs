//! A fixed delay on the segment without netem (this kernel has no `sch_netem`): a relay thread in
//! the switch namespace. Each host's switch port leaves the bridge; a veth pair `dN`/`dNr` takes its
//! place (`dN` in the bridge), and the thread moves frames between the port and `dNr`: host to
//! bridge at once, bridge to host after the delay (as netem on each switch port's egress: every
//! host-to-host path is delayed once). `stop` (or drop) puts the ports back into the bridge and
//! deletes the pairs.
//!
//! One AF_PACKET socket per relayed interface, bound to it and skipping the frames it sends itself;
//! binding takes a `sockaddr_ll`, which only a raw `bind(2)` accepts: the one unsafe call here.

use std::collections::VecDeque;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::{CloneFlags, setns};
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, recv, send, setsockopt, socket,
    sockopt,
};

use super::lab::FaultLab;
use crate::cmd::ip;
use crate::daemon::inject::internet_checksum;
use crate::error::{HarnessError, Result};
use crate::netns::NETNS_DIR;

/// The longest the relay waits for a frame: how fast it notices `stop`.
const IDLE: Duration = Duration::from_millis(5);
/// The most frames held at once (bounded memory; beyond it frames are dropped, as a full queue does).
const MAX_HELD: usize = 10_000;

/// One relayed port: the host's switch port and the pair that replaces it in the bridge.
#[derive(Debug, Clone)]
struct Relayed {
    port: String,
    bridged: String,
    inner: String,
}

/// One direction of a relayed port: frames read from `socket` go out through `links[to]`.
struct Link {
    socket: OwnedFd,
    to: usize,
    delayed: bool,
}

/// The running relay; see the module docs.
pub struct Delay {
    switch_ns: String,
    relayed: Vec<Relayed>,
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
    thread: Option<JoinHandle<Result<()>>>,
}

/// Frames the relay passed on at once and after the delay.
#[derive(Debug, Default)]
pub struct Counts {
    pub passed: AtomicU64,
    pub delayed: AtomicU64,
}

impl Delay {
    /// Delay every frame the switch sends toward any host of `lab` by `delay`.
    pub fn start(lab: &FaultLab, delay: Duration) -> Result<Self> {
        let switch_ns = lab.lab.switch_ns().to_owned();
        let relayed: Vec<Relayed> = lab
            .lab
            .hosts()
            .iter()
            .map(|host| Relayed {
                port: host.switch_port.clone(),
                bridged: format!("d{}", host.index),
                inner: format!("d{}r", host.index),
            })
            .collect();
        let mut running = Self {
            switch_ns,
            relayed,
            stop: Arc::new(AtomicBool::new(false)),
            counts: Arc::new(Counts::default()),
            thread: None,
        };
        let ns = running.switch_ns.clone();
        for pair in &running.relayed {
            let (bridged, inner) = (pair.bridged.as_str(), pair.inner.as_str());
            ip(&[
                "-n", &ns, "link", "add", bridged, "type", "veth", "peer", "name", inner,
            ])?;
            ip(&["-n", &ns, "link", "set", bridged, "master", "br0", "up"])?;
            ip(&["-n", &ns, "link", "set", inner, "up"])?;
        }
        let links = running.links()?;
        let stop = Arc::clone(&running.stop);
        let counts = Arc::clone(&running.counts);
        running.thread = Some(
            std::thread::Builder::new()
                .name("delay-relay".into())
                .spawn(move || relay(&links, delay, &stop, &counts))?,
        );
        for pair in &running.relayed {
            ip(&["-n", &ns, "link", "set", &pair.port, "nomaster"])?;
        }
        Ok(running)
    }

    /// Both directions of every relayed port.
    fn links(&self) -> Result<Vec<Link>> {
        let ns = self.switch_ns.as_str();
        let mut links = Vec::new();
        for pair in &self.relayed {
            let port = links.len();
            links.push(Link {
                socket: packet_socket_in(ns, ifindex(ns, &pair.port)?)?,
                to: port + 1,
                delayed: false,
            });
            links.push(Link {
                socket: packet_socket_in(ns, ifindex(ns, &pair.inner)?)?,
                to: port,
                delayed: true,
            });
        }
        Ok(links)
    }

    /// (frames passed on at once, frames sent after the delay) so far.
    pub fn frames(&self) -> (u64, u64) {
        (
            self.counts.passed.load(Ordering::Relaxed),
            self.counts.delayed.load(Ordering::Relaxed),
        )
    }

    /// Put the ports back into the bridge, stop the thread, delete the pairs.
    pub fn stop(mut self) -> Result<()> {
        self.finish()
    }

    fn finish(&mut self) -> Result<()> {
        let mut result = Ok(());
        for pair in &self.relayed {
            let ns = self.switch_ns.as_str();
            let back = ip(&["-n", ns, "link", "set", &pair.port, "master", "br0"]);
            let gone = ip(&["-n", ns, "link", "del", &pair.bridged]);
            if result.is_ok() {
                result = back.and(gone).map(drop);
            }
        }
        self.relayed.clear();
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let outcome = thread
                .join()
                .map_err(|_| HarnessError::new("the delay relay panicked"))
                .and_then(|outcome| outcome);
            if result.is_ok() {
                result = outcome;
            }
        }
        result
    }
}

impl Drop for Delay {
    fn drop(&mut self) {
        if let Err(err) = self.finish() {
            eprintln!("delay relay: {err}");
        }
    }
}

fn ifindex(ns: &str, name: &str) -> Result<i32> {
    let (index, _) = crate::kernel::link_index_and_mac(ns, name)?;
    i32::try_from(index).map_err(|_| HarnessError::new("ifindex out of range"))
}

/// A non-blocking AF_PACKET socket for every protocol on interface `ifindex` of namespace `ns`.
fn packet_socket_in(ns: &str, ifindex: i32) -> Result<OwnedFd> {
    let path = Path::new(NETNS_DIR).join(ns);
    let handle = File::open(&path)
        .map_err(|err| HarnessError::new(format!("open {}: {err}", path.display())))?;
    std::thread::scope(|scope| {
        scope
            .spawn(move || -> Result<OwnedFd> {
                setns(&handle, CloneFlags::CLONE_NEWNET)
                    .map_err(|err| HarnessError::new(format!("setns into {ns}: {err}")))?;
                let socket = socket(
                    AddressFamily::Packet,
                    SockType::Raw,
                    SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
                    SockProtocol::EthAll,
                )
                .map_err(|err| HarnessError::new(format!("packet socket: {err}")))?;
                setsockopt(&socket, sockopt::RcvBuf, &(4 << 20))
                    .map_err(|err| HarnessError::new(format!("SO_RCVBUF: {err}")))?;
                bind_to_interface(&socket, ifindex)?;
                Ok(socket)
            })
            .join()
            .map_err(|_| HarnessError::new("the packet socket thread panicked"))?
    })
}

/// Bind packet socket `socket` to interface `ifindex` for every protocol, and have it skip the
/// frames it sends (PACKET_IGNORE_OUTGOING, Linux 4.20).
#[allow(unsafe_code)]
fn bind_to_interface(socket: &OwnedFd, ifindex: i32) -> Result<()> {
    let address = libc::sockaddr_ll {
        sll_family: u16::try_from(libc::AF_PACKET).unwrap_or(17),
        sll_protocol: u16::try_from(libc::ETH_P_ALL).unwrap_or(3).to_be(),
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    let on: libc::c_int = 1;
    // SAFETY: bind(2) and setsockopt(2) on a descriptor we own, each given a pointer to a value of
    // the size passed beside it, alive for the whole call.
    let failed = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            std::ptr::from_ref(&address).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        ) < 0
            || libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_IGNORE_OUTGOING,
                std::ptr::from_ref(&on).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ) < 0
    };
    if failed {
        return Err(HarnessError::new(format!(
            "bind a packet socket to ifindex {ifindex}: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// The relay loop: read every link's frames, pass them on or hold them, send held ones once due,
/// until `stop`.
fn relay(links: &[Link], delay: Duration, stop: &AtomicBool, counts: &Counts) -> Result<()> {
    let mut held: VecDeque<(Instant, usize, Vec<u8>)> = VecDeque::new();
    let mut buffer = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        while held
            .front()
            .is_some_and(|(due, _, _)| *due <= Instant::now())
        {
            if let Some((_, to, frame)) = held.pop_front() {
                forward(links, to, &frame);
                counts.delayed.fetch_add(1, Ordering::Relaxed);
            }
        }
        let wait = held
            .front()
            .map_or(IDLE, |(due, _, _)| {
                due.saturating_duration_since(Instant::now())
            })
            .min(IDLE);
        let mut polled: Vec<PollFd> = links
            .iter()
            .map(|link| PollFd::new(link.socket.as_fd(), PollFlags::POLLIN))
            .collect();
        let timeout = PollTimeout::try_from(wait.as_millis().max(1)).unwrap_or(PollTimeout::ZERO);
        match poll(&mut polled, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(err) => return Err(HarnessError::new(format!("delay relay poll: {err}"))),
        }
        let ready: Vec<bool> = polled
            .iter()
            .map(|fd| {
                fd.revents()
                    .is_some_and(|ev| ev.contains(PollFlags::POLLIN))
            })
            .collect();
        drop(polled);
        for (link, ready) in links.iter().zip(ready) {
            // Drain what is queued (the socket does not block).
            while ready
                && let Ok(len) = recv(link.socket.as_raw_fd(), &mut buffer, MsgFlags::empty())
            {
                let frame = buffer.get(..len).unwrap_or_default();
                if !link.delayed {
                    forward(links, link.to, frame);
                    counts.passed.fetch_add(1, Ordering::Relaxed);
                } else if held.len() < MAX_HELD {
                    held.push_back((Instant::now() + delay, link.to, frame.to_vec()));
                }
            }
        }
    }
    Ok(())
}

/// Send `frame` out of `links[to]`'s interface; a refused frame is a lost frame.
fn forward(links: &[Link], to: usize, frame: &[u8]) {
    let mut frame = frame.to_vec();
    fill_l4_checksum(&mut frame);
    if let Some(link) = links.get(to) {
        let _ = send(link.socket.as_raw_fd(), &frame, MsgFlags::empty());
    }
}

const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];
const TCP: u8 = 6;
const UDP: u8 = 17;

/// Write the whole UDP or TCP checksum of an IPv4 `frame`. A veth leaves it to "the hardware"
/// (checksum offload: the field holds only the pseudo-header's part) and a packet socket hands the
/// frame over as it is, so a frame relayed unchanged would be dropped by the receiver.
fn fill_l4_checksum(frame: &mut [u8]) {
    if frame.get(12..14) != Some(&ETHERTYPE_IPV4[..]) {
        return;
    }
    let Some(&version_ihl) = frame.get(14) else {
        return;
    };
    let header = usize::from(version_ihl & 0x0f) * 4;
    let (Some(&protocol), Some(total)) = (frame.get(23), frame.get(16..18)) else {
        return;
    };
    let total = usize::from(u16::from_be_bytes([total[0], total[1]]));
    let field = match protocol {
        UDP => 6,
        TCP => 16,
        _ => return,
    };
    let (start, end) = (14 + header, 14 + total);
    if end > frame.len() || start + field + 2 > end {
        return;
    }
    let segment_len = u16::try_from(end - start).unwrap_or(u16::MAX);
    let mut summed = Vec::with_capacity(12 + end - start);
    summed.extend_from_slice(&frame[26..34]);
    summed.extend_from_slice(&[0, protocol]);
    summed.extend_from_slice(&segment_len.to_be_bytes());
    summed.extend_from_slice(&frame[start..end]);
    summed[12 + field] = 0;
    summed[12 + field + 1] = 0;
    let mut checksum = internet_checksum(&summed);
    if checksum == 0 && protocol == UDP {
        checksum = 0xffff;
    }
    frame[start + field..start + field + 2].copy_from_slice(&checksum.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_udp_checksum_left_to_offload_is_completed() {
        // Ethernet, IPv4 192.0.2.4 -> 192.0.2.100, UDP 40000 -> 7007 carrying 8 bytes.
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&ETHERTYPE_IPV4);
        frame.extend_from_slice(&[0x45, 0, 0, 36, 0, 0, 0x40, 0, 64, UDP, 0, 0]);
        frame.extend_from_slice(&[192, 0, 2, 4, 192, 0, 2, 100]);
        frame.extend_from_slice(&[0x9c, 0x40, 0x1b, 0x5f, 0, 16, 0x12, 0x34]);
        frame.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        fill_l4_checksum(&mut frame);
        // The receiver's check: the sum over the pseudo-header and the segment is all ones.
        let mut summed = frame[26..34].to_vec();
        summed.extend_from_slice(&[0, UDP, 0, 16]);
        summed.extend_from_slice(&frame[34..]);
        assert_eq!(internet_checksum(&summed), 0);
        assert_ne!(&frame[40..42], &[0x12, 0x34]);
        // Not IPv4 or not UDP/TCP: untouched.
        let mut arp = frame.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        let before = arp.clone();
        fill_l4_checksum(&mut arp);
        assert_eq!(arp, before);
    }
}
