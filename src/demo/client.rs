//! The demo's client: from the observer namespace, a `GET /` to the VIP every [`PERIOD`], each
//! recorded with its start time and which router answered (or that it failed). The demo reads
//! the record to say how many requests a switch cost. Bounded: it stops when dropped, after
//! [`MAX_REQUESTS`] or after [`MAX_RUN`], whichever comes first.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::lab;
use super::service;

/// How often a request starts (unless the previous one is still running).
pub const PERIOD: Duration = Duration::from_millis(10);
/// Per step of a request (connect, send, receive): a request that waits longer counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_millis(100);
/// Hard caps, far above what the demo needs (it ends well within a minute).
const MAX_REQUESTS: usize = 18_000;
const MAX_RUN: Duration = Duration::from_secs(180);

/// One request: when it started, and the name in the answer (`None`: it failed).
#[derive(Debug, Clone)]
pub struct Request {
    pub at: Instant,
    pub answer: Option<String>,
}

/// What the requests of a time window came to.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub sent: usize,
    pub failed: usize,
    /// When the last failed request of the window started.
    pub last_failure: Option<Instant>,
}

pub struct Client {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    requests: mpsc::Receiver<Request>,
    seen: Vec<Request>,
}

impl Client {
    /// Starts requesting `http://target/` from `namespace`.
    pub fn start(namespace: &str, target: SocketAddr) -> Result<Client, String> {
        let handle = lab::netns_handle(namespace)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, requests) = mpsc::channel();
        let (ready_tx, ready) = mpsc::channel();
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let entered = lab::enter_netns(&handle);
            let ok = entered.is_ok();
            let _ = ready_tx.send(entered);
            if ok {
                run(target, &stop_flag, &tx);
            }
        });
        match ready.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => Ok(Client {
                stop,
                thread: Some(thread),
                requests,
                seen: Vec::new(),
            }),
            Ok(Err(e)) => Err(format!("client: {e}")),
            Err(_) => Err("client did not start".into()),
        }
    }

    /// Every request so far, oldest first.
    pub fn requests(&mut self) -> &[Request] {
        self.seen.extend(self.requests.try_iter());
        &self.seen
    }

    /// Whether the client stopped on its own (a cap reached): its record no longer grows.
    pub fn stopped(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// The first request started at or after `since` that `name` answered.
    pub fn first_answer(&mut self, name: &str, since: Instant) -> Option<Instant> {
        self.requests()
            .iter()
            .find(|r| r.at >= since && r.answer.as_deref() == Some(name))
            .map(|r| r.at)
    }

    /// The requests started in `from..=to`.
    pub fn tally(&mut self, from: Instant, to: Instant) -> Tally {
        let mut tally = Tally::default();
        for request in self
            .requests()
            .iter()
            .filter(|r| r.at >= from && r.at <= to)
        {
            tally.sent += 1;
            if request.answer.is_none() {
                tally.failed += 1;
                tally.last_failure = Some(request.at);
            }
        }
        tally
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The request loop: one at a time, starting every [`PERIOD`]; a late start does not bunch up the
/// next ones.
fn run(target: SocketAddr, stop: &AtomicBool, tx: &mpsc::Sender<Request>) {
    let started = Instant::now();
    let mut next = started;
    for _ in 0..MAX_REQUESTS {
        if stop.load(Ordering::Relaxed) || started.elapsed() > MAX_RUN {
            return;
        }
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let at = Instant::now();
        let answer = service::get(target, REQUEST_TIMEOUT);
        if tx.send(Request { at, answer }).is_err() {
            return;
        }
        next = (next + PERIOD).max(Instant::now());
    }
}
