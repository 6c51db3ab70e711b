//! `keepvip demo`: a self-contained demonstration of what keepvip is for. Three routers and an
//! observer in network namespaces of its own (documentation addresses only), each router running
//! a web service of the demo's own and a real keepvip that checks it (a weighted track script); a
//! client on the observer requests the VIP every 10 ms. The main act kills the master's web
//! service: the VIP moves to the next router, and the demo prints the handover time measured on
//! the wire against the protocol bound and the requests the switch cost; the service comes back
//! and its router preempts. Then the older act: keepvip itself is SIGKILLed on the master (a
//! crash), the takeover measured against Master_Down_Interval, and the master restarted.
//! Everything is removed on exit, on error, on Ctrl-C and on SIGTERM.
//!
//! | module | owns |
//! |---|---|
//! | `acts` | the scenario, act by act: what happens, what is waited for, what is printed |
//! | `lab` | the namespaces, links, files and processes |
//! | `observer` | adverts and gratuitous ARPs seen on the wire, with their arrival times |
//! | `client` | the requests to the VIP and what they came to |
//! | `service` | `keepvip demo-service`: the web service and its health check |
//!
//! This file holds the parameters, the routers' config and the protocol bounds.

mod acts;
mod client;
mod lab;
mod observer;
pub mod service;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use vrrp_wire::{Centisecs, Version};

use lab::Lab;

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const PRIORITIES: [u8; 3] = [150, 100, 50];
const OBSERVER_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 250);
/// The web services' port; the client requests `http://VIP:PORT/`.
const PORT: u16 = 80;

/// The track script every router runs against its own web service (keepalived's `chk_http`).
const CHECK_NAME: &str = "chk_web";
const CHECK_INTERVAL: Duration = Duration::from_millis(100);
const CHECK_TIMEOUT: Duration = Duration::from_millis(100);
/// Two in a row: one slow run on a loaded machine does not move the VIP.
const CHECK_FALL: u32 = 2;
const CHECK_RISE: u32 = 2;
/// Enough to drop the master (150) below the next router (100), not below the last (50).
const CHECK_WEIGHT: i16 = -100;

pub struct DemoOptions {
    /// Advert interval in centiseconds (10 ms steps).
    pub interval: Centisecs,
}

/// Runs the demo; `Err` carries a message for the operator. Needs root.
pub fn run(options: &DemoOptions) -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err(
            "keepvip demo creates network namespaces and needs root: run it with sudo".into(),
        );
    }
    let binary = std::env::current_exe().map_err(|e| format!("cannot find keepvip itself: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(build_and_play(&binary, options.interval))
}

/// Builds the lab, plays the scenario until it ends, fails, or a signal stops it, and removes the
/// lab in every case.
async fn build_and_play(binary: &Path, interval: Centisecs) -> Result<(), String> {
    // Registered before the lab exists: Ctrl-C or SIGTERM while it is being built is acted on once
    // the build returns (the lab is then removed) instead of ending the demo with namespaces left.
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT: {e}"))?;
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    let mut lab = Lab::build(&PRIORITIES).map_err(|e| format!("building the lab: {e}"))?;
    print_header(&lab, interval);
    let (outcome, by_signal) = tokio::select! {
        result = prepare_and_play(&mut lab, binary, interval) => (result, false),
        _ = interrupt.recv() => (Err("interrupted".to_string()), true),
        _ = terminate.recv() => (Err("terminated (SIGTERM)".to_string()), true),
    };
    let logs = lab.log_tails(8);
    if outcome.is_err() && !by_signal && !logs.is_empty() {
        eprintln!("the routers' last log lines:\n{logs}");
    }
    drop(lab);
    println!("lab removed");
    outcome
}

fn print_header(lab: &Lab, interval: Centisecs) {
    let routers = lab
        .routers
        .iter()
        .map(|r| format!("{} ({}, priority {})", r.name, r.address, r.priority))
        .collect::<Vec<_>>()
        .join(", ");
    let switch = lab
        .dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    println!(
        "lab: bridge in {switch}-sw; routers {routers} on 192.0.2.0/24; VIP {VIP}; adverts every {} ms",
        ms(interval_of(interval))
    );
    println!(
        "     each router runs a web service on port {PORT}, checked by its keepvip every {} ms \
         ({CHECK_NAME}, weight {CHECK_WEIGHT}); a client in {} GETs http://{VIP}/ every {} ms",
        CHECK_INTERVAL.as_millis(),
        lab.observer,
        client::PERIOD.as_millis()
    );
}

/// Installs the binary, writes the configs, starts services and daemons, then plays the acts.
async fn prepare_and_play(lab: &mut Lab, binary: &Path, interval: Centisecs) -> Result<(), String> {
    lab.install(binary)
        .map_err(|e| format!("copying {} into the lab: {e}", binary.display()))?;
    let check = lab.binary.display().to_string();
    for (index, router) in lab.routers.iter().enumerate() {
        std::fs::write(
            &router.config,
            config_for(index, router.priority, interval, &check),
        )
        .map_err(|e| format!("writing {}: {e}", router.config.display()))?;
    }
    acts::play(lab, interval).await
}

fn config_for(index: usize, priority: u8, interval: Centisecs, keepvip: &str) -> String {
    format!(
        "[global]\nrouter_id = \"r{}\"\n\n\
         [[track_script]]\nname = \"{CHECK_NAME}\"\n\
         command = [\"{keepvip}\", \"{}\", \"--check\", \"127.0.0.1:{PORT}\"]\n\
         interval = \"{}ms\"\ntimeout = \"{}ms\"\nfall = {CHECK_FALL}\nrise = {CHECK_RISE}\n\
         weight = {CHECK_WEIGHT}\n\n\
         [[instance]]\nname = \"VI_DEMO\"\ninterface = \"eth0\"\n\
         vrid = 51\npriority = {priority}\nadvert_interval = \"{}ms\"\nvips = [\"{VIP}/24\"]\n\
         track_script = [\"{CHECK_NAME}\"]\n",
        index + 1,
        service::SUBCOMMAND,
        CHECK_INTERVAL.as_millis(),
        CHECK_TIMEOUT.as_millis(),
        ms(interval_of(interval))
    )
}

fn interval_of(interval: Centisecs) -> Duration {
    Duration::from_micros(interval.as_micros())
}

/// RFC 5798 §6.1 Master_Down_Interval of a backup at `priority`.
fn master_down_interval(priority: u8, interval: Centisecs) -> Duration {
    let mdi = vrrp_core::timers::master_down_interval(Version::V3, priority, interval);
    Duration::from_micros(mdi.as_micros())
}

/// RFC 5798 §6.1 Skew_Time of a backup at `priority`.
fn skew_time(priority: u8, interval: Centisecs) -> Duration {
    Duration::from_micros(vrrp_core::timers::skew_time(Version::V3, priority, interval).as_micros())
}

/// The longest a check takes to see a change: `runs` runs in a row, the last of which may start a
/// whole interval after the change (the run just before it saw the old state) and take up to the
/// timeout.
fn check_detection(runs: u32) -> Duration {
    CHECK_INTERVAL * runs + CHECK_TIMEOUT
}

/// The protocol bound on a handover caused by the check: detection, then at most one advert
/// interval until the router whose priority changed advertises it (keepvip advertises at once;
/// RFC 5798 and keepalived wait for the next advert), then the Skew_Time of the new master
/// (keepvip's fast handover; without it a whole Master_Down_Interval).
fn handover_bound(runs: u32, interval: Centisecs, new_master_priority: u8) -> Duration {
    check_detection(runs) + interval_of(interval) + skew_time(new_master_priority, interval)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(n: u16) -> Centisecs {
        Centisecs::new(n).unwrap()
    }

    #[test]
    fn the_handover_bound_adds_detection_one_interval_and_the_new_masters_skew() {
        // fall 2 x 100 ms + 100 ms timeout + 100 ms advert + (256 - 100) / 256 x 100 ms.
        let bound = handover_bound(CHECK_FALL, cs(10), 100);
        assert!((ms(bound) - 460.9375).abs() < 0.001, "{bound:?}");
        assert!((ms(master_down_interval(100, cs(10))) - 360.9375).abs() < 0.001);
    }

    #[test]
    fn the_config_is_valid_and_tracks_the_check_with_its_weight() {
        let text = config_for(0, 150, cs(10), "/tmp/kvdemo1/keepvip");
        let checked = crate::config::check_str(&text, "demo.toml", &|_| true);
        let Ok(checked) = checked else {
            panic!("{text}\n{checked:?}");
        };
        assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
        assert!(text.contains("weight = -100") && text.contains("\"--check\""));
    }
}
