//! The opt-in HTTP listener (`metrics_listen` in `[global]`): `/metrics` for Prometheus and
//! `/health[/<instance>]` for health checks that follow mastership. Every request asks the protocol
//! loop for a status snapshot, the way `keepvip status` does, so nothing is computed per event and a
//! slow client never holds up the loop. Minimal HTTP/1.x: one request per connection, a bounded head,
//! timeouts, a cap on connections at once.

mod exposition;
mod health;
mod request;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};

use crate::control::{self, StatusRequest};
pub use exposition::{ListenerCounts, render, state_number};
pub use request::{MAX_HEAD, Refusal, Request, head_end, parse};

/// Connections served at once; more are closed unanswered (and counted).
const MAX_CONNECTIONS: usize = 16;
/// A client must send its whole request within this.
const READ_LIMIT: Duration = Duration::from_secs(5);
/// And take the answer within this.
const WRITE_LIMIT: Duration = Duration::from_secs(5);
/// What is read and thrown away after refusing a request, before closing.
const DRAIN_LIMIT: usize = 64 * 1024;

#[derive(Default)]
struct Counts {
    bad_requests: AtomicU64,
    refused_connections: AtomicU64,
}

impl Counts {
    fn snapshot(&self) -> ListenerCounts {
        ListenerCounts {
            bad_requests: self.bad_requests.load(Ordering::Relaxed),
            refused_connections: self.refused_connections.load(Ordering::Relaxed),
        }
    }
}

/// Binds `address` (before the daemon starts its instances, so a bad address stops the start).
/// IP_FREEBIND: the address may come up on its interface after keepvip starts (boot order).
pub fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    match address {
        SocketAddr::V4(_) => socket.set_freebind_v4(true)?,
        SocketAddr::V6(_) => {
            socket.set_freebind_v6(true)?;
            socket.set_only_v6(true)?;
        }
    }
    socket.bind(&address.into())?;
    socket.listen(64)?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

/// Answers connections on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, requests: mpsc::Sender<StatusRequest>) {
    let counts = Arc::new(Counts::default());
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "metrics listener accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            counts.refused_connections.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let (requests, counts) = (requests.clone(), counts.clone());
        tokio::spawn(async move {
            answer(stream, &requests, &counts).await;
            drop(slot);
        });
    }
}

async fn answer(mut stream: TcpStream, requests: &mpsc::Sender<StatusRequest>, counts: &Counts) {
    let mut refused = false;
    let (code, content_type, body, head_only) = match read_request(&mut stream).await {
        Ok(Some(request)) => {
            let (code, content_type, body) = route(&request.path, requests, counts).await;
            (code, content_type, body, request.head_only)
        }
        // The client went away or was too slow: nobody to answer.
        Ok(None) => return,
        Err(refusal) => {
            refused = true;
            counts.bad_requests.fetch_add(1, Ordering::Relaxed);
            let body = format!("{}\n", refusal.reason);
            (refusal.status, "text/plain; charset=utf-8", body, false)
        }
    };
    let head = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        reason_phrase(code),
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        if !head_only {
            stream.write_all(body.as_bytes()).await?;
        }
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(WRITE_LIMIT, write).await;
    if refused {
        // Closing with unread bytes makes the kernel send a RST, which can destroy the answer
        // before the client reads it: read what is left first (bounded).
        let mut sink = [0u8; 1024];
        let drain = async {
            let mut left = DRAIN_LIMIT;
            while left > 0 {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => left = left.saturating_sub(n),
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    }
}

/// Reads the request head: `Ok(None)` when the client closed or stalled before finishing it.
async fn read_request(stream: &mut TcpStream) -> Result<Option<Request>, Refusal> {
    let mut buffer = Vec::with_capacity(1024);
    let read = async {
        let mut chunk = [0u8; 1024];
        loop {
            if let Some(end) = head_end(&buffer) {
                return Ok(Some(end));
            }
            if buffer.len() > MAX_HEAD {
                return Err(Refusal {
                    status: 431,
                    reason: "request head too large",
                });
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return Ok(None),
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
    };
    match tokio::time::timeout(READ_LIMIT, read).await {
        Ok(Ok(Some(end))) => parse(&buffer[..end]).map(Some),
        Ok(Ok(None)) | Err(_) => Ok(None),
        Ok(Err(refusal)) => Err(refusal),
    }
}

async fn route(
    path: &str,
    requests: &mpsc::Sender<StatusRequest>,
    counts: &Counts,
) -> (u16, &'static str, String) {
    const JSON: &str = "application/json";
    const TEXT: &str = "text/plain; charset=utf-8";
    let instance = match path {
        "/metrics" | "/health" => None,
        _ => match path.strip_prefix("/health/") {
            Some(name) if !name.is_empty() => Some(name),
            _ => {
                return (
                    404,
                    TEXT,
                    "try /metrics, /health or /health/<instance>\n".into(),
                );
            }
        },
    };
    let Some(status) = control::snapshot(requests).await else {
        return (503, TEXT, "the daemon did not answer\n".into());
    };
    if path == "/metrics" {
        return (
            200,
            exposition::CONTENT_TYPE,
            render(&status, counts.snapshot()),
        );
    }
    match health::answer(&status, instance) {
        Some((code, body)) => (code, JSON, body),
        None => (404, JSON, "{\"error\":\"no such instance\"}".into()),
    }
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    }
}
