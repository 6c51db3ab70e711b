//! `keepvip run`: the IO shell around vrrp-core. It turns socket bytes, link and address events, signals
//! and clock ticks into core inputs and executes the actions the core returns. No protocol decision is
//! made here.
//!
//! One tokio current-thread runtime: the protocol loop, one receive task per (interface, family) socket,
//! the link and address monitors, the control socket and the GARP/NA schedules. The loop owns every
//! router; other tasks only send it events, so the protocol never waits on a client, a script or a slow announcer.

mod announce;
mod clock;
mod core_config;
mod effects;
mod event_loop;
mod instance;
mod links;
mod lock;
mod receive;
mod setup;
mod signals;
mod sources;
mod tasks;
mod vips;

use std::path::PathBuf;

pub use core_config::core_config;
pub use event_loop::DaemonError;

use crate::config::Config;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where `keepvip status` finds the daemon.
    pub control_socket: PathBuf,
}

/// Runs the daemon until SIGTERM or SIGINT; then every master resigns (priority-0 advert) and removes its
/// VIPs before this returns. Should the loop panic, the VIPs this config installed are removed before
/// the panic goes on, so a bug never leaves an address on two hosts.
pub fn run(config: Config, options: RunOptions) -> Result<(), DaemonError> {
    let main = runtime()?;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        main.block_on(event_loop::run(config.clone(), options))
    }));
    drop(main);
    match outcome {
        Ok(result) => result,
        Err(panic) => {
            if let Ok(cleanup) = runtime() {
                cleanup.block_on(setup::remove_installed_vips(&config));
            }
            std::panic::resume_unwind(panic)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, DaemonError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DaemonError::Runtime(e.to_string()))
}
