//! A tiny HTTP/1.x server and client for the HAProxy lab (std only). The server (`serve`, run by the
//! `http-responder` binary inside a backend namespace) answers `GET /health` and `GET /` with 200 and
//! its name; the client (`RequestLoop`) sends one request every few milliseconds from a thread that
//! entered a lab namespace, and records each outcome. Both are bounded: the server stops itself after
//! a lifetime, the loop after a count and a duration.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};

use crate::daemon::wire::wall_clock;
use crate::error::{HarnessError, Result};
use crate::netns::NETNS_DIR;

/// The longest request head the server reads.
const MAX_HEAD: usize = 8 * 1024;
/// How long the server waits for a request head or to write its answer.
const SERVER_IO_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest response the client reads.
const MAX_RESPONSE: usize = 64 * 1024;

/// The response to a request whose head is `head`: 200 with `name` for `GET|HEAD /health` and `/`,
/// 404 for another path, 405 for another method, 400 when the request line does not parse.
pub fn response_for(head: &str, name: &str) -> String {
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, path, version) = (words.next(), words.next(), words.next());
    let (status, body) = match (method, path, version) {
        (Some(method), Some(path), Some(version)) if version.starts_with("HTTP/1.") => {
            let path = path.split('?').next().unwrap_or_default();
            match (method, path) {
                ("GET" | "HEAD", "/health" | "/") => ("200 OK", format!("{name}\n")),
                ("GET" | "HEAD", _) => ("404 Not Found", "not found\n".to_owned()),
                _ => ("405 Method Not Allowed", "GET only\n".to_owned()),
            }
        }
        _ => ("400 Bad Request", "bad request\n".to_owned()),
    };
    // HEAD gets GET's headers (the same Content-Length) without the body.
    let sent_body = if method == Some("HEAD") { "" } else { &body };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{sent_body}",
        body.len()
    )
}

/// Serve `listener` as backend `name` until `deadline`: one thread per connection, one request per
/// connection. Returns at the deadline (the caller exits; connections in flight end with it).
pub fn serve(listener: &TcpListener, name: &str, deadline: Instant) -> Result<()> {
    // Non-blocking accept, so the deadline is checked even when nobody connects.
    listener.set_nonblocking(true)?;
    while Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                let name = name.to_owned();
                std::thread::spawn(move || {
                    // A client that goes away mid-request is its own business.
                    let _ = answer(stream, &name);
                });
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(HarnessError::new(format!("accept: {err}"))),
        }
    }
    Ok(())
}

/// Read one request head from `stream` and write the response.
fn answer(mut stream: TcpStream, name: &str) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(SERVER_IO_TIMEOUT))?;
    stream.set_write_timeout(Some(SERVER_IO_TIMEOUT))?;
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..read]);
    }
    let response = response_for(&String::from_utf8_lossy(&head), name);
    stream.write_all(response.as_bytes())?;
    stream.shutdown(std::net::Shutdown::Write)
}

/// One `GET path` to `target` with `timeout` for the connect and for the whole exchange: the status
/// code and the body.
pub fn get(target: SocketAddr, path: &str, timeout: Duration) -> Result<(u16, String)> {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&target, timeout)
        .map_err(|err| HarnessError::new(format!("connect {target}: {err}")))?;
    let left = timeout
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(1));
    stream.set_read_timeout(Some(left))?;
    stream.set_write_timeout(Some(left))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        target.ip()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|err| HarnessError::new(format!("send to {target}: {err}")))?;
    let mut response = Vec::new();
    stream
        .take(MAX_RESPONSE as u64)
        .read_to_end(&mut response)
        .map_err(|err| HarnessError::new(format!("read from {target}: {err}")))?;
    parse_response(&String::from_utf8_lossy(&response))
}

/// The status code and body of a whole HTTP/1.x response.
pub fn parse_response(text: &str) -> Result<(u16, String)> {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| HarnessError::new(format!("incomplete response: {text:?}")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| HarnessError::new(format!("bad status line: {head:?}")))?;
    Ok((status, body.to_owned()))
}

/// One request of a `RequestLoop`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOutcome {
    /// When it was started, on the wall clock captures are stamped with (`wire::wall_clock`).
    pub sent_at: Duration,
    pub took: Duration,
    /// The backend's name (the body of a 200), or why the request failed.
    pub result: std::result::Result<String, String>,
}

impl RequestOutcome {
    pub fn succeeded(&self) -> bool {
        self.result.is_ok()
    }
}

/// The client's view of one switch (see `SwitchReport::of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchReport {
    pub total: usize,
    pub failed: usize,
    /// From the first failed request's start to the last one's.
    pub failure_window: Duration,
    /// The backends that answered the requests sent from the end of the switch on, sorted.
    pub served_after: Vec<String>,
}

/// Fewest requests after a switch for its report to say anything.
const MIN_REQUESTS_AFTER: usize = 10;

impl SwitchReport {
    /// Every request that ended before the trigger `before` and every one sent from `after` on must
    /// have succeeded (an error lists those that did not); the failures in between are counted (a
    /// request in flight at the trigger may fail: the proxy died under it).
    pub fn of(outcomes: &[RequestOutcome], before: Duration, after: Duration) -> Result<Self> {
        let failed: Vec<&RequestOutcome> = outcomes.iter().filter(|o| !o.succeeded()).collect();
        let outside = |o: &&RequestOutcome| o.sent_at + o.took < before || o.sent_at >= after;
        let unexpected: Vec<&RequestOutcome> = failed.iter().copied().filter(outside).collect();
        if !unexpected.is_empty() {
            return Err(HarnessError::new(format!(
                "{} requests failed outside the switch [{before:?}, {after:?}): {unexpected:?}",
                unexpected.len()
            )));
        }
        let after_switch: Vec<&RequestOutcome> =
            outcomes.iter().filter(|o| o.sent_at >= after).collect();
        if after_switch.len() < MIN_REQUESTS_AFTER {
            return Err(HarnessError::new(format!(
                "only {} of {} requests were sent after the switch",
                after_switch.len(),
                outcomes.len()
            )));
        }
        let mut served_after: Vec<String> = after_switch
            .iter()
            .filter_map(|o| o.result.clone().ok())
            .collect();
        served_after.sort();
        served_after.dedup();
        let failure_window = match (failed.first(), failed.last()) {
            (Some(first), Some(last)) => last.sent_at.saturating_sub(first.sent_at),
            _ => Duration::ZERO,
        };
        Ok(Self {
            total: outcomes.len(),
            failed: failed.len(),
            failure_window,
            served_after,
        })
    }
}

/// How a `RequestLoop` sends: one `GET /` every `every` to `target`, each with `timeout`, at most
/// `max_requests` requests and for at most `max_duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopPlan {
    pub target: SocketAddr,
    pub every: Duration,
    pub timeout: Duration,
    pub max_requests: usize,
    pub max_duration: Duration,
}

/// A client thread inside a lab namespace sending `GET /` on a fixed schedule until stopped or its plan
/// runs out. Dropping it stops and joins the thread.
pub struct RequestLoop {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Vec<RequestOutcome>>>>,
}

impl RequestLoop {
    /// Start sending from namespace `ns` (a lab namespace: the thread enters it before any socket).
    pub fn start(ns: &str, plan: LoopPlan) -> Result<Self> {
        let path = Path::new(NETNS_DIR).join(ns);
        let handle = File::open(&path)
            .map_err(|err| HarnessError::new(format!("open {}: {err}", path.display())))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let ns = ns.to_owned();
        let thread = std::thread::Builder::new()
            .name(format!("requests-{ns}"))
            .spawn(move || {
                setns(&handle, CloneFlags::CLONE_NEWNET)
                    .map_err(|err| HarnessError::new(format!("setns into {ns}: {err}")))?;
                Ok(send_on_schedule(&plan, &flag))
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stop after the request in flight; every outcome, in order.
    pub fn stop(mut self) -> Result<Vec<RequestOutcome>> {
        self.finish()
    }

    fn finish(&mut self) -> Result<Vec<RequestOutcome>> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| HarnessError::new("the request thread panicked"))?,
            None => Ok(Vec::new()),
        }
    }
}

impl Drop for RequestLoop {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// The loop itself: requests start on a fixed grid of `every` (a request that overruns its slot delays
/// the next one, it never causes a burst).
fn send_on_schedule(plan: &LoopPlan, stop: &AtomicBool) -> Vec<RequestOutcome> {
    let started = Instant::now();
    let mut outcomes = Vec::new();
    let mut next = started;
    while !stop.load(Ordering::Relaxed)
        && outcomes.len() < plan.max_requests
        && started.elapsed() < plan.max_duration
    {
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        let sent_at = wall_clock();
        let begin = Instant::now();
        let result = match get(plan.target, "/", plan.timeout) {
            Ok((200, body)) => Ok(body.trim().to_owned()),
            Ok((status, body)) => Err(format!("status {status}: {}", body.trim())),
            Err(err) => Err(err.to_string()),
        };
        outcomes.push(RequestOutcome {
            sent_at,
            took: begin.elapsed(),
            result,
        });
        next = (next + plan.every).max(Instant::now());
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_and_root_answer_200_with_the_name() {
        for path in ["/health", "/", "/health?x=1"] {
            let response = response_for(&format!("GET {path} HTTP/1.0\r\n\r\n"), "web1");
            assert_eq!(parse_response(&response).unwrap(), (200, "web1\n".into()));
        }
        let head = response_for("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n", "web1");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("Content-Length: 5\r\n") && head.ends_with("\r\n\r\n"));
    }

    #[test]
    fn other_requests_are_refused_with_their_status() {
        let status = |head: &str| parse_response(&response_for(head, "w")).unwrap().0;
        assert_eq!(status("GET /nope HTTP/1.1\r\n\r\n"), 404);
        assert_eq!(status("POST / HTTP/1.1\r\n\r\n"), 405);
        assert_eq!(status("garbage\r\n\r\n"), 400);
        assert_eq!(status(""), 400);
    }

    #[test]
    fn a_switch_report_counts_failures_inside_and_refuses_them_outside() {
        let at = |millis: u64, result: std::result::Result<&str, &str>| RequestOutcome {
            sent_at: Duration::from_millis(millis),
            took: Duration::from_millis(2),
            result: result.map(str::to_owned).map_err(str::to_owned),
        };
        let mut outcomes = vec![at(0, Ok("web1")), at(99, Err("in flight at the trigger"))];
        outcomes.extend((0..3).map(|i| at(110 + 10 * i, Err("refused"))));
        outcomes.extend((0..10).map(|i| at(200 + 10 * i, Ok(["web2", "web1"][i as usize % 2]))));
        let (before, after) = (Duration::from_millis(100), Duration::from_millis(200));
        let report = SwitchReport::of(&outcomes, before, after).unwrap();
        assert_eq!((report.total, report.failed), (15, 4));
        assert_eq!(report.failure_window, Duration::from_millis(31));
        assert_eq!(report.served_after, ["web1", "web2"]);
        outcomes.push(at(300, Err("late")));
        assert!(SwitchReport::of(&outcomes, before, after).is_err());
        assert!(
            SwitchReport::of(&outcomes[..5], before, after).is_err(),
            "too few after"
        );
    }

    #[test]
    fn a_response_without_a_blank_line_is_incomplete() {
        assert!(parse_response("HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response("nonsense\r\n\r\n").is_err());
    }
}
