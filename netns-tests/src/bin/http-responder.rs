//! `http-responder NAME ADDRESS:PORT [LIFETIME_SECONDS]`: a backend for the HAProxy lab. Answers
//! `GET /health` and `GET /` with 200 and NAME (netns_tests::http::serve), and exits by itself after
//! LIFETIME_SECONDS (default 300) even if nobody stops it. Started by the tests inside a backend's
//! network namespace; it only listens, it never sends first.

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: http-responder NAME ADDRESS:PORT [LIFETIME_SECONDS]";
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

fn parse(args: &[String]) -> Result<(String, SocketAddr, Duration), String> {
    let [name, address, rest @ ..] = args else {
        return Err(USAGE.to_owned());
    };
    let address = address
        .parse()
        .map_err(|err| format!("{address}: {err}\n{USAGE}"))?;
    let lifetime = match rest {
        [] => DEFAULT_LIFETIME,
        [seconds] => Duration::from_secs(
            seconds
                .parse()
                .map_err(|err| format!("lifetime {seconds}: {err}\n{USAGE}"))?,
        ),
        _ => return Err(USAGE.to_owned()),
    };
    Ok((name.clone(), address, lifetime))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (name, address, lifetime) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(address) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("http-responder {name}: bind {address}: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The tests wait for this line before they count on the backend.
    eprintln!("http-responder {name}: listening on {address}");
    match netns_tests::http::serve(&listener, &name, Instant::now() + lifetime) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("http-responder {name}: {err}");
            ExitCode::FAILURE
        }
    }
}
