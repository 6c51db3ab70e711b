//! The client probe: a thread in the client namespace sends one UDP request to the VIP every
//! `PROBE_EVERY` and records who answered and when. Each router namespace runs a responder thread
//! bound to the VIP with IP_FREEBIND, so the kernel hands it a request only while the VIP is local
//! there, and it answers from the VIP with its router number: the answer names the host the request
//! reached on the wire. Both threads belong to the test process (a fault on a keepvip daemon leaves
//! them alone) and stop when dropped; the client is bounded by a request count.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};

use crate::daemon::wire::wall_clock;
use crate::error::{HarnessError, Result};
use crate::netns::NETNS_DIR;

/// One request every 10 ms, as the fault matrix asks.
pub const PROBE_EVERY: Duration = Duration::from_millis(10);
/// A request unanswered after this failed (it covers a 50 ms delay each way on the segment).
pub const REPLY_TIMEOUT: Duration = Duration::from_millis(250);
/// The probe's UDP port on the VIP.
pub const PROBE_PORT: u16 = 7007;
/// The most requests one probe sends (an hour at 10 ms), so it is bounded even if nobody stops it.
const MAX_REQUESTS: u64 = 360_000;
const POLL: Duration = Duration::from_millis(20);

/// One request and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub sent_at: Duration,
    /// The router that answered and when the answer arrived; `None`: no answer (yet).
    pub answer: Option<(usize, Duration)>,
}

impl Request {
    /// Answered within `REPLY_TIMEOUT`.
    pub fn succeeded(&self) -> bool {
        self.answer
            .is_some_and(|(_, at)| at.saturating_sub(self.sent_at) <= REPLY_TIMEOUT)
    }
}

/// A thread that entered namespace `ns` running `body` until `stop` is set.
fn spawn_in<T: Send + 'static>(
    ns: &str,
    name: String,
    body: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<JoinHandle<Result<T>>> {
    let path = Path::new(NETNS_DIR).join(ns);
    let handle = File::open(&path)
        .map_err(|err| HarnessError::new(format!("open {}: {err}", path.display())))?;
    let ns = ns.to_owned();
    Ok(std::thread::Builder::new().name(name).spawn(move || {
        setns(&handle, CloneFlags::CLONE_NEWNET)
            .map_err(|err| HarnessError::new(format!("setns into {ns}: {err}")))?;
        body()
    })?)
}

/// A UDP socket bound to `vip:PROBE_PORT` whether or not the VIP is local yet (IP_FREEBIND).
fn bind_freely(vip: Ipv4Addr) -> Result<UdpSocket> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    socket.set_freebind_v4(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(vip, PROBE_PORT)).into())?;
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(POLL))?;
    Ok(socket)
}

/// The responders (one per router) and the client, running until dropped or `stop`ped.
pub struct Probe {
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Request>>>,
    threads: Vec<JoinHandle<Result<()>>>,
}

impl Probe {
    /// Responders in `routers` (router `i` answers `i`), the client in `client_ns`.
    pub fn start(routers: &[String], client_ns: &str, vip: Ipv4Addr) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let mut probe = Self {
            stop: Arc::clone(&stop),
            requests: Arc::clone(&requests),
            threads: Vec::new(),
        };
        for (router, ns) in routers.iter().enumerate() {
            let stop = Arc::clone(&stop);
            let body = move || respond(&bind_freely(vip)?, router, &stop);
            probe
                .threads
                .push(spawn_in(ns, format!("responder-{router}"), body)?);
        }
        let body = move || ask(vip, &stop, &requests);
        probe
            .threads
            .push(spawn_in(client_ns, "probe-client".into(), body)?);
        Ok(probe)
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The requests from number `from` on (all of them from 0), oldest first: a long run (the soak)
    /// reads only what is new instead of copying hours of requests.
    pub fn requests_since(&self, from: usize) -> Vec<Request> {
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        requests
            .get(from..)
            .map(<[Request]>::to_vec)
            .unwrap_or_default()
    }

    /// Stop every thread; an error if one of them failed.
    pub fn stop(mut self) -> Result<Vec<Request>> {
        self.finish()?;
        Ok(self.requests())
    }

    fn finish(&mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        let mut failure = Ok(());
        for thread in self.threads.drain(..) {
            let outcome = thread
                .join()
                .map_err(|_| HarnessError::new("a probe thread panicked"))
                .and_then(|result| result);
            if outcome.is_err() && failure.is_ok() {
                failure = outcome;
            }
        }
        failure
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// The responder: echo the request's sequence number with our router number.
fn respond(socket: &UdpSocket, router: usize, stop: &AtomicBool) -> Result<()> {
    let mut buffer = [0u8; 64];
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buffer) {
            Ok((8, from)) => {
                let mut answer = [0u8; 9];
                answer[..8].copy_from_slice(&buffer[..8]);
                answer[8] = u8::try_from(router).unwrap_or(u8::MAX);
                // A lost answer is the client's to count.
                let _ = socket.send_to(&answer, from);
            }
            Ok(_) => {}
            Err(err) if is_timeout(&err) => {}
            Err(err) => return Err(HarnessError::new(format!("responder {router}: {err}"))),
        }
    }
    Ok(())
}

fn is_timeout(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// The client: a request on a fixed 10 ms grid (never a burst to catch up), answers read between
/// sends and matched to their request by sequence number; only answers from the VIP count.
fn ask(vip: Ipv4Addr, stop: &AtomicBool, requests: &Mutex<Vec<Request>>) -> Result<()> {
    let socket = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
    let target = SocketAddr::V4(SocketAddrV4::new(vip, PROBE_PORT));
    let mut next = Instant::now();
    let mut sequence: u64 = 0;
    let mut buffer = [0u8; 64];
    while !stop.load(Ordering::Relaxed) && sequence < MAX_REQUESTS {
        let sent_at = wall_clock();
        // No route or a full queue is a failed request, counted as unanswered.
        let _ = socket.send_to(&sequence.to_be_bytes(), target);
        lock(requests).push(Request {
            sent_at,
            answer: None,
        });
        sequence += 1;
        next = (next + PROBE_EVERY).max(Instant::now());
        loop {
            let left = next.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket.set_read_timeout(Some(left))?;
            match socket.recv_from(&mut buffer) {
                Ok((9, from)) if from == target => {
                    let mut number = [0u8; 8];
                    number.copy_from_slice(&buffer[..8]);
                    let index = usize::try_from(u64::from_be_bytes(number)).unwrap_or(usize::MAX);
                    if let Some(request) = lock(requests).get_mut(index) {
                        request
                            .answer
                            .get_or_insert((usize::from(buffer[8]), wall_clock()));
                    }
                }
                Ok(_) => {}
                Err(err) if is_timeout(&err) => break,
                Err(err) => return Err(HarnessError::new(format!("probe client: {err}"))),
            }
        }
    }
    Ok(())
}

fn lock(requests: &Mutex<Vec<Request>>) -> std::sync::MutexGuard<'_, Vec<Request>> {
    requests
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_succeeds_only_when_answered_in_time() {
        let at = Duration::from_secs(100);
        let mut request = Request {
            sent_at: at,
            answer: None,
        };
        assert!(!request.succeeded());
        request.answer = Some((1, at + Duration::from_millis(3)));
        assert!(request.succeeded());
        request.answer = Some((1, at + REPLY_TIMEOUT + Duration::from_millis(1)));
        assert!(!request.succeeded());
    }
}
