//! `soak`: three keepvip routers at 10 ms adverts in network namespaces for N minutes, with random
//! faults from the fault matrix every few seconds (seeded and replayable), and the invariants checked
//! continuously: never two VIP holders past the protocol's bound (faults excepted as `checker` says),
//! never none past it, every daemon alive unless the schedule killed it, no late advert from a steady
//! master, the client's requests to the VIP answered. Prints a summary; exits 1 on any violation.
//!
//! `soak --minutes N [--seed S]`, as root. Ctrl-C or SIGTERM stops it early; either way every
//! namespace and process it started is removed (the lab's guard).

mod adverts;
mod checker;
mod cli;
mod config;
mod driver;
mod exec;
mod realtime;
mod rng;
mod schedule;
mod summary;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use netns_tests::cmd::on_path;
use netns_tests::daemon::find_keepvip_bin;

/// Set by SIGINT or SIGTERM: the run stops at its next step and cleans up.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// SIGINT and SIGTERM set `STOP` (the default action would kill the soak before its lab is removed).
fn catch_stop_signals() -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("stop-signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    let _ = ready_tx.send(Err(format!("tokio runtime: {err}")));
                    return;
                }
            };
            runtime.block_on(async move {
                let handlers = signal(SignalKind::interrupt())
                    .and_then(|int| Ok((int, signal(SignalKind::terminate())?)));
                let (mut interrupt, mut terminate) = match handlers {
                    Ok(pair) => pair,
                    Err(err) => {
                        let _ = ready_tx.send(Err(format!("signal handlers: {err}")));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                loop {
                    let name = tokio::select! {
                        _ = interrupt.recv() => "SIGINT",
                        _ = terminate.recv() => "SIGTERM",
                    };
                    STOP.store(true, Ordering::Relaxed);
                    eprintln!("soak: {name}: stopping after the current step, then cleaning up");
                }
            });
        })
        .map_err(|err| format!("signal thread: {err}"))?;
    ready_rx
        .recv()
        .map_err(|_| "signal thread ended".to_owned())?
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let options = match cli::parse(&argv) {
        Ok(options) => options,
        Err(text) => {
            eprintln!("{text}");
            return ExitCode::from(2);
        }
    };
    if !nix::unistd::geteuid().is_root() {
        eprintln!("soak: needs root (network namespaces)");
        return ExitCode::from(2);
    }
    for tool in ["ip", "tc"] {
        if !on_path(tool) {
            eprintln!("soak: `{tool}` is not on PATH");
            return ExitCode::from(2);
        }
    }
    let bin = match find_keepvip_bin() {
        Ok(bin) => bin,
        Err(why) => {
            eprintln!("soak: {why}");
            return ExitCode::from(2);
        }
    };
    if let Err(err) = catch_stop_signals() {
        eprintln!("soak: {err}: an interrupt would skip the cleanup");
        return ExitCode::from(3);
    }
    let seed = options.seed.unwrap_or_else(rng::fresh_seed);
    println!(
        "soak: seed {seed} (replay: --seed {seed}); keepvip {}",
        bin.display()
    );
    match driver::run(&options, seed) {
        Ok((facts, checker)) => {
            print!("{}", summary::render(&facts, &checker));
            if !checker.violations().is_empty() {
                ExitCode::FAILURE
            } else if !facts.lab_errors.is_empty() {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => {
            eprintln!("soak: the lab failed: {err} (seed {seed})");
            ExitCode::from(3)
        }
    }
}
