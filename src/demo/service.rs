//! `keepvip demo-service`: the demo's own web service and its health check, so the demo needs
//! nothing installed. Hidden from `--help`: `main` hands it the command line before clap sees it.
//!
//! - `keepvip demo-service --listen ADDR:PORT --name NAME` answers any request with `200` and
//!   NAME, one connection at a time, until killed (or [`MAX_LIFETIME`], or its parent's death).
//! - `keepvip demo-service --check ADDR:PORT` is the track script: exit 0 if a GET on ADDR:PORT
//!   is answered with `200` within [`CHECK_TIMEOUT`], 1 otherwise.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

/// The subcommand's name, as the demo invokes it.
pub const SUBCOMMAND: &str = "demo-service";
/// What the service prints once it listens; the demo waits for it.
pub const LISTENING: &str = "listening on";
/// A service the demo forgot (it cannot: netlab kills it) still ends.
const MAX_LIFETIME: Duration = Duration::from_secs(600);
/// How long a client may take to send its request.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(200);
/// Shorter than the track script's timeout, so a hung check fails by itself rather than being killed.
pub const CHECK_TIMEOUT: Duration = Duration::from_millis(80);

enum Mode {
    Serve { listen: SocketAddr, name: String },
    Check { target: SocketAddr },
}

/// `Some(exit code)` when the command line is `keepvip demo-service ...`, `None` otherwise.
pub fn main_if_requested() -> Option<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != SUBCOMMAND {
        return None;
    }
    let code = match parse(args) {
        Ok(Mode::Serve { listen, name }) => serve(listen, &name),
        Ok(Mode::Check { target }) => {
            if check(target) {
                0
            } else {
                1
            }
        }
        Err(e) => {
            eprintln!("keepvip {SUBCOMMAND}: {e}");
            eprintln!(
                "usage: keepvip {SUBCOMMAND} --listen ADDR:PORT --name NAME | --check ADDR:PORT"
            );
            crate::exit::USAGE
        }
    };
    Some(ExitCode::from(code))
}

fn parse(mut args: impl Iterator<Item = OsString>) -> Result<Mode, String> {
    let (mut listen, mut name, mut check) = (None, None, None);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .and_then(|v| v.into_string().ok())
            .ok_or_else(|| format!("{} needs a value", flag.to_string_lossy()))?;
        let address = || {
            value
                .parse::<SocketAddr>()
                .map_err(|_| format!("not an ADDR:PORT: {value}"))
        };
        match flag.to_str() {
            Some("--listen") => listen = Some(address()?),
            Some("--check") => check = Some(address()?),
            Some("--name") => name = Some(value),
            _ => return Err(format!("unknown flag {}", flag.to_string_lossy())),
        }
    }
    match (listen, name, check) {
        (Some(listen), Some(name), None) => Ok(Mode::Serve { listen, name }),
        (None, None, Some(target)) => Ok(Mode::Check { target }),
        _ => Err("expected --listen with --name, or --check alone".into()),
    }
}

fn serve(listen: SocketAddr, name: &str) -> u8 {
    // The demo starts it through `ip netns exec`, which execs: the parent is the demo itself.
    if nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).is_err()
        || nix::unistd::getppid().as_raw() == 1
    {
        eprintln!("keepvip {SUBCOMMAND}: the demo is gone");
        return 1;
    }
    let listener = match TcpListener::bind(listen) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("keepvip {SUBCOMMAND}: cannot listen on {listen}: {e}");
            return 1;
        }
    };
    std::thread::spawn(|| {
        std::thread::sleep(MAX_LIFETIME);
        std::process::exit(0);
    });
    println!("{name}: {LISTENING} {listen}");
    let _ = std::io::stdout().flush();
    let body = format!("{name}\n");
    for stream in listener.incoming().flatten() {
        let _ = answer(stream, &body);
    }
    0
}

/// Reads the request head (any method, any path) and answers `200` with `body`.
fn answer(mut stream: TcpStream, body: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 4096 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let response = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())
}

/// Whether `target` answers a GET with `200`.
fn check(target: SocketAddr) -> bool {
    get(target, CHECK_TIMEOUT).is_some()
}

/// One `GET /` to `target`: the body of a `200` answer, `None` for anything else or no answer
/// within about `timeout` per step (connect, send, receive).
pub fn get(target: SocketAddr, timeout: Duration) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&target, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    let request = format!("GET / HTTP/1.0\r\nHost: {}\r\n\r\n", target.ip());
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.take(4096).read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?;
    (status == "200").then(|| body.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> impl Iterator<Item = OsString> {
        words
            .iter()
            .map(OsString::from)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn serve_and_check_parse_and_mixing_them_is_refused() {
        assert!(matches!(
            parse(args(&["--listen", "0.0.0.0:80", "--name", "r1"])),
            Ok(Mode::Serve { name, .. }) if name == "r1"
        ));
        assert!(matches!(
            parse(args(&["--check", "127.0.0.1:80"])),
            Ok(Mode::Check { .. })
        ));
        assert!(parse(args(&["--check", "127.0.0.1:80", "--name", "r1"])).is_err());
        assert!(parse(args(&["--listen", "nowhere", "--name", "r1"])).is_err());
        assert!(parse(args(&["--name"])).is_err());
    }

    #[test]
    fn a_get_reads_the_name_from_a_served_answer() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            answer(stream, "r7\n").unwrap();
        });
        assert_eq!(get(target, Duration::from_secs(2)).as_deref(), Some("r7"));
        server.join().unwrap();
    }
}
