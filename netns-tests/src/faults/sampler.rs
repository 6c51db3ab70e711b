//! The VIP-holder sampler: one thread asks the kernel of every router namespace, every
//! `SAMPLE_EVERY`, whether the VIP is on one of its interfaces (an RTM_GETADDR dump on a netlink
//! socket opened inside that namespace: no `ip` process per sample), and keeps the changes as a
//! timeline on the wall clock the captures and the client probe use (`wire::wall_clock`).

use std::fs::File;
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sched::{CloneFlags, setns};
use socket2::{Domain, Protocol, Socket, Type};

use super::timeline::{Holders, Timeline};
use crate::daemon::wire::wall_clock;
use crate::error::{HarnessError, Result};
use crate::netns::NETNS_DIR;

/// How often every namespace is asked. A dump of a few addresses takes tens of microseconds.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(2);

const NLMSG_HDR: usize = 16;
const IFADDRMSG: usize = 8;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const NLMSG_DONE: u16 = 3;
const NLMSG_ERROR: u16 = 2;
const IFA_LOCAL: u16 = 2;

/// A running sampler; stops when dropped.
pub struct HolderSampler {
    stop: Arc<AtomicBool>,
    shared: Arc<Mutex<Timeline>>,
    thread: Option<JoinHandle<()>>,
}

impl HolderSampler {
    /// Start sampling whether `vip` is in the kernel of each of `namespaces` (router `i` is
    /// `namespaces[i]`, at most 8). Returns once the first sample is in the timeline.
    pub fn start(namespaces: &[String], vip: Ipv4Addr) -> Result<Self> {
        if namespaces.len() > 8 {
            return Err(HarnessError::new("the sampler watches at most 8 routers"));
        }
        let sockets = namespaces
            .iter()
            .map(|ns| netlink_socket_in(ns))
            .collect::<Result<Vec<Socket>>>()?;
        let first = sample(&sockets, vip)?;
        let shared = Arc::new(Mutex::new(Timeline::new(
            namespaces.len(),
            wall_clock(),
            first,
        )));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("vip-sampler".into())
            .spawn({
                let stop = Arc::clone(&stop);
                let shared = Arc::clone(&shared);
                move || run(&sockets, vip, &stop, &shared)
            })?;
        Ok(Self {
            stop,
            shared,
            thread: Some(thread),
        })
    }

    /// The timeline so far (a copy; the sampler goes on).
    pub fn timeline(&self) -> Timeline {
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Stop the thread; the whole timeline.
    pub fn stop(mut self) -> Timeline {
        self.finish();
        self.timeline()
    }

    fn finish(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for HolderSampler {
    fn drop(&mut self) {
        self.finish();
    }
}

fn run(sockets: &[Socket], vip: Ipv4Addr, stop: &AtomicBool, shared: &Mutex<Timeline>) {
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(SAMPLE_EVERY);
        let at = wall_clock();
        let holders = match sample(sockets, vip) {
            Ok(holders) => holders,
            Err(err) => {
                // A namespace gone (the lab is being torn down) ends the sampling; said once.
                eprintln!("vip sampler stops: {err}");
                return;
            }
        };
        shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .record(at, holders);
    }
}

/// Which routers hold `vip` now.
fn sample(sockets: &[Socket], vip: Ipv4Addr) -> Result<Holders> {
    let mut holders = Holders::NONE;
    for (router, socket) in sockets.iter().enumerate() {
        if has_ipv4_address(socket, vip)? {
            holders = holders.with(router);
        }
    }
    Ok(holders)
}

/// A NETLINK_ROUTE socket created by a thread that entered namespace `ns`: it stays in that
/// namespace for its whole life, whichever thread uses it.
fn netlink_socket_in(ns: &str) -> Result<Socket> {
    let path = Path::new(NETNS_DIR).join(ns);
    let handle = File::open(&path)
        .map_err(|err| HarnessError::new(format!("open {}: {err}", path.display())))?;
    std::thread::scope(|scope| {
        scope
            .spawn(move || -> Result<Socket> {
                setns(&handle, CloneFlags::CLONE_NEWNET)
                    .map_err(|err| HarnessError::new(format!("setns into {ns}: {err}")))?;
                let socket = Socket::new(
                    Domain::from(libc::AF_NETLINK),
                    Type::RAW,
                    Some(Protocol::from(libc::NETLINK_ROUTE)),
                )?;
                socket.set_read_timeout(Some(Duration::from_secs(1)))?;
                Ok(socket)
            })
            .join()
            .map_err(|_| HarnessError::new("the netlink socket thread panicked"))?
    })
}

/// The RTM_GETADDR dump request for IPv4 addresses.
fn dump_request() -> [u8; NLMSG_HDR + IFADDRMSG] {
    let mut request = [0u8; NLMSG_HDR + IFADDRMSG];
    let len = u32::try_from(request.len()).unwrap_or(u32::MAX);
    request[0..4].copy_from_slice(&len.to_ne_bytes());
    request[4..6].copy_from_slice(&RTM_GETADDR.to_ne_bytes());
    let flags = u16::try_from(libc::NLM_F_REQUEST | libc::NLM_F_DUMP).unwrap_or(0);
    request[6..8].copy_from_slice(&flags.to_ne_bytes());
    request[NLMSG_HDR] = u8::try_from(libc::AF_INET).unwrap_or(2);
    request
}

/// Dump the namespace's IPv4 addresses and say whether `vip` is one of them.
fn has_ipv4_address(socket: &Socket, vip: Ipv4Addr) -> Result<bool> {
    let request = dump_request();
    (&*socket).write_all(&request)?;
    let mut found = false;
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        let read = (&*socket).read(&mut buffer)?;
        match scan_dump(&buffer[..read], vip)? {
            Scan::More(seen) => found |= seen,
            Scan::Done(seen) => return Ok(found || seen),
        }
    }
}

enum Scan {
    More(bool),
    Done(bool),
}

/// Walk one datagram of the dump: whether an RTM_NEWADDR in it carries `vip` as IFA_LOCAL, and
/// whether the dump ended in it.
fn scan_dump(datagram: &[u8], vip: Ipv4Addr) -> Result<Scan> {
    let mut found = false;
    let mut rest = datagram;
    while rest.len() >= NLMSG_HDR {
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if len < NLMSG_HDR || len > rest.len() {
            return Err(HarnessError::new("netlink: truncated message in a dump"));
        }
        match kind {
            NLMSG_DONE => return Ok(Scan::Done(found)),
            NLMSG_ERROR => return Err(HarnessError::new("netlink: the address dump failed")),
            RTM_NEWADDR => found |= carries_local(&rest[NLMSG_HDR..len], vip),
            _ => {}
        }
        rest = rest.get(align4(len)..).unwrap_or_default();
    }
    Ok(Scan::More(found))
}

/// Whether an ifaddrmsg with its attributes has IFA_LOCAL = `vip`.
fn carries_local(message: &[u8], vip: Ipv4Addr) -> bool {
    let mut attrs = message.get(IFADDRMSG..).unwrap_or_default();
    while attrs.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([attrs[0], attrs[1]]));
        let kind = u16::from_ne_bytes([attrs[2], attrs[3]]);
        if len < 4 || len > attrs.len() {
            return false;
        }
        if kind == IFA_LOCAL && attrs[4..len] == vip.octets() {
            return true;
        }
        attrs = attrs.get(align4(len)..).unwrap_or_default();
    }
    false
}

fn align4(len: usize) -> usize {
    (len + 3) & !3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, body: &[u8]) -> Vec<u8> {
        let len = u32::try_from(NLMSG_HDR + body.len()).unwrap();
        let mut out = len.to_ne_bytes().to_vec();
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(&[0; 10]);
        out.extend_from_slice(body);
        out.resize(align4(out.len()), 0);
        out
    }

    fn address(local: [u8; 4]) -> Vec<u8> {
        let mut body = vec![2, 24, 0, 0, 2, 0, 0, 0];
        body.extend_from_slice(&8u16.to_ne_bytes());
        body.extend_from_slice(&1u16.to_ne_bytes()); // IFA_ADDRESS: not the one that counts
        body.extend_from_slice(&[192, 0, 2, 100]);
        body.extend_from_slice(&8u16.to_ne_bytes());
        body.extend_from_slice(&IFA_LOCAL.to_ne_bytes());
        body.extend_from_slice(&local);
        body
    }

    #[test]
    fn a_dump_is_scanned_for_the_local_address_until_done() {
        let vip = Ipv4Addr::new(192, 0, 2, 100);
        let mut datagram = message(RTM_NEWADDR, &address([192, 0, 2, 1]));
        assert!(matches!(scan_dump(&datagram, vip), Ok(Scan::More(false))));
        datagram.extend(message(RTM_NEWADDR, &address([192, 0, 2, 100])));
        assert!(matches!(scan_dump(&datagram, vip), Ok(Scan::More(true))));
        datagram.extend(message(NLMSG_DONE, &[0; 4]));
        assert!(matches!(scan_dump(&datagram, vip), Ok(Scan::Done(true))));
        assert!(scan_dump(&datagram[..20], vip).is_err());
    }
}
