//! `keepvip run`: the IO shell around vrrp-core's `Node`. It owns the sockets, netlink, the frame
//! sender and the worker tasks; it turns socket bytes, link and address events, signals and clock ticks
//! into node inputs and executes the actions the node returns. No protocol decision is made here, and
//! no copy of protocol state is kept: what the shell needs to know (a router's state, source address,
//! link state) it reads from the node.
//!
//! One tokio current-thread runtime: the protocol loop (`event_loop`), one receive task per
//! (interface, family) socket, the netlink monitors and periodic re-reads (`tasks`), the control
//! socket, the VIP worker (`vips`) and the GARP/NA schedules (`announce`). The loop owns the node;
//! other tasks only send it events, so the protocol never waits on a client, a script or netlink.
//!
//! | module | owns |
//! |---|---|
//! | `event_loop` | startup, the loop and shutdown |
//! | `state` | the `Daemon` (node, instance table, IO, counters, clock), its `Inbox`, the re-read lists, the reload state |
//! | `groups` | sync groups into the node, and their GROUP notifications |
//! | `setup` | startup: interfaces, source addresses, stale VIPs, sockets, instances into the node |
//! | `effects` | executing the node's actions from their payloads |
//! | `interfaces`, `links`, `sources`, `link_local`, `watch` | link and address events into node inputs; interfaces followed by name (missing, deleted, re-created); source addresses followed (lost, back, renumbered); IPv6 link-local readiness; their bookkeeping |
//! | `io`, `tasks`, `vips`, `vip_repair`, `announce` | what talks to the kernel, and the tasks that feed the loop; a master's VIPs put back when removed or refused |
//! | `accept_filter` | Accept_Mode False: the nf_tables drop sets of the VIPs of masters that must not accept |
//! | `trackers`, `tracker_setup` | tracker readings into node inputs; scripts audited, users resolved, tracker tasks watched |
//! | `table` | the shell's per-instance facts (name, config, interface, socket) |
//! | `vmac` | the macvlans of `vmac` instances: built at startup, up only while master, deleted at exit |
//! | `clock` | the one clock |
//! | `privileges` | running without root: the two capabilities checked, the ambient set cleared, script users |
//! | `service_manager` | systemd's notify protocol: READY, RELOADING, STOPPING, the watchdog pinged from the loop |
//! | `reload` | SIGHUP and `keepvip reload`: the new config compared with the running one and the difference applied |
//! | `core_config`, `error`, `event`, `lock`, `signals` | translation, errors, events, single instance, signals |

mod accept_filter;
mod announce;
mod clock;
mod core_config;
mod effects;
mod error;
mod event;
mod event_loop;
mod groups;
mod interfaces;
mod io;
mod link_local;
mod links;
mod lock;
mod privileges;
mod realtime;
mod receive;
mod reload;
mod routes;
mod service_manager;
mod setup;
mod signals;
mod sources;
mod state;
mod table;
mod tasks;
mod timer;
mod tracker_setup;
mod trackers;
mod vip_repair;
mod vips;
mod vmac;
mod vmac_transitions;
mod watch;

use std::path::PathBuf;

pub use core_config::core_config;
pub(crate) use core_config::micros;
pub use error::DaemonError;
pub(crate) use setup::placeholder;

use crate::config::Config;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where `keepvip status` finds the daemon.
    pub control_socket: PathBuf,
    /// The config file `run` read, read again on reload.
    pub config_path: PathBuf,
}

/// Runs the daemon until SIGTERM or SIGINT; then every master resigns (priority-0 advert) and removes its
/// VIPs before this returns, and the vmac macvlans are deleted. Should the loop panic, the VIPs this
/// config installed and its macvlans are removed before the panic goes on, so a bug never leaves an
/// address on two hosts.
pub fn run(config: Config, options: RunOptions) -> Result<(), DaemonError> {
    let main = runtime()?;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        main.block_on(event_loop::run(config.clone(), options))
    }));
    drop(main);
    match outcome {
        Ok(result) => {
            // Whatever ended the run, keepvip's macvlans go; a daemon refused by the lock touches
            // nothing (they are the running daemon's).
            if !matches!(result, Err(DaemonError::Lock { .. }))
                && let Ok(cleanup) = runtime()
            {
                cleanup.block_on(remove_macvlans(&config));
            }
            result
        }
        Err(panic) => {
            if let Ok(cleanup) = runtime() {
                cleanup.block_on(async {
                    setup::remove_installed_vips(&config).await;
                    accept_filter::remove_leftover().await;
                    remove_macvlans(&config).await;
                });
            }
            std::panic::resume_unwind(panic)
        }
    }
}

/// Deletes the vmac macvlans of `config` (those that are keepvip's), with their VIPs.
async fn remove_macvlans(config: &Config) {
    if config.instances.iter().all(|i| i.vmac.is_none()) {
        return;
    }
    if let Ok(netlink) = crate::net::Netlink::connect() {
        vmac::remove_all(config, &netlink).await;
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, DaemonError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DaemonError::Runtime(e.to_string()))
}
