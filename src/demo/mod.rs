//! `keepvip demo`: a self-contained failover demonstration. Three routers and an observer in network
//! namespaces of its own (documentation addresses only), real keepvip processes with an embedded config,
//! the master killed, the takeover measured on the wire against the protocol bound, the master brought
//! back, and everything removed on exit, Ctrl-C included.

mod lab;
mod observer;

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, Instant};

use vrrp_wire::{Centisecs, Version};

use crate::control;
use lab::Lab;
use observer::{Observer, Sighting};

const VIP: &str = "192.0.2.100";
const PRIORITIES: [u8; 3] = [150, 100, 50];
const OBSERVER_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 250);
/// How long any one step may take before the demo gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

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
    let mut lab = Lab::build(&PRIORITIES).map_err(|e| format!("building the lab: {e}"))?;
    println!(
        "lab: bridge in {}-sw; routers {} on 192.0.2.0/24; VIP {VIP}; adverts every {} ms",
        lab.dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        lab.routers
            .iter()
            .map(|r| format!("{} ({}, priority {})", r.name, r.address, r.priority))
            .collect::<Vec<_>>()
            .join(", "),
        u32::from(options.interval.get()) * 10
    );
    let outcome = runtime.block_on(async {
        tokio::select! {
            result = scenario(&mut lab, &binary, options.interval) => result,
            _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
        }
    });
    drop(lab);
    println!("lab removed");
    outcome
}

async fn scenario(lab: &mut Lab, binary: &Path, interval: Centisecs) -> Result<(), String> {
    let mut observer = Observer::start(&lab.observer, OBSERVER_ADDRESS)?;
    for (index, router) in lab.routers.iter().enumerate() {
        std::fs::write(&router.config, config_for(index, router.priority, interval))
            .map_err(|e| format!("writing {}: {e}", router.config.display()))?;
    }
    for index in 0..lab.routers.len() {
        lab.start(index, binary)
            .map_err(|e| format!("starting keepvip: {e}"))?;
    }
    // Start-up skew between the processes can let a lower priority win for a moment; the protocol
    // guarantees the highest priority ends up master, so wait for that.
    let first = best_of(lab, None);
    wait_for_specific_master(lab, first).await?;
    println!("\n1. election");
    print_states(lab);

    let dead = lab.routers[first].address.clone();
    println!("\n2. SIGKILL {} (the master)", lab.routers[first].name);
    lab.kill(first);
    let killed_at = Instant::now();
    let second = best_of(lab, Some(first));
    wait_for_specific_master(lab, second).await?;
    let takeover = takeover_on_wire(&mut observer, &dead, killed_at).await?;
    let bound = bound_for(lab.routers[second].priority, interval);
    print_states(lab);
    println!(
        "   {} took over {:.1} ms after {}'s last advert (protocol bound: Master_Down_Interval \
         for priority {} = {:.1} ms; measured on the wire from the observer)",
        lab.routers[second].name,
        ms(takeover),
        lab.routers[first].name,
        lab.routers[second].priority,
        ms(bound)
    );

    println!("\n3. {} comes back and preempts", lab.routers[first].name);
    lab.start(first, binary)
        .map_err(|e| format!("restarting keepvip: {e}"))?;
    wait_for_specific_master(lab, first).await?;
    print_states(lab);
    Ok(())
}

fn config_for(index: usize, priority: u8, interval: Centisecs) -> String {
    format!(
        "[global]\nrouter_id = \"r{}\"\n\n[[instance]]\nname = \"VI_DEMO\"\ninterface = \"eth0\"\n\
         vrid = 51\npriority = {priority}\nadvert_interval = \"{}ms\"\nvips = [\"{VIP}/24\"]\n",
        index + 1,
        u32::from(interval.get()) * 10
    )
}

/// RFC 5798 §6.1 Master_Down_Interval of a backup at `priority`.
fn bound_for(priority: u8, interval: Centisecs) -> Duration {
    let mdi = vrrp_core::timers::master_down_interval(Version::V3, priority, interval);
    Duration::from_micros(mdi.as_micros())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// From the old master's last advert to the first advert of anyone else after the kill.
async fn takeover_on_wire(
    observer: &mut Observer,
    dead: &str,
    killed_at: Instant,
) -> Result<Duration, String> {
    let dead: IpAddr = dead.parse().map_err(|_| format!("bad address {dead}"))?;
    let deadline = Instant::now() + STEP_TIMEOUT;
    while Instant::now() < deadline {
        let seen = observer.sightings();
        let last_old = seen.iter().rev().find(|s| s.src == dead).map(|s| s.at);
        let first_new = seen
            .iter()
            .find(|s: &&Sighting| s.src != dead && s.priority > 0 && s.at >= killed_at);
        if let (Some(last_old), Some(first_new)) = (last_old, first_new) {
            return Ok(first_new.at.saturating_duration_since(last_old));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err("no takeover advert seen on the wire".into())
}

/// The router that should be master: highest priority among those running.
fn best_of(lab: &Lab, excluded: Option<usize>) -> usize {
    (0..lab.routers.len())
        .filter(|&i| Some(i) != excluded)
        .max_by_key(|&i| lab.routers[i].priority)
        .unwrap_or(0)
}

/// Waits until router `index` is MASTER and no other running router is.
async fn wait_for_specific_master(lab: &Lab, index: usize) -> Result<(), String> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    while Instant::now() < deadline {
        let others_backup = (0..lab.routers.len())
            .filter(|&i| i != index)
            .all(|i| state_of(lab, i) != "MASTER");
        if state_of(lab, index) == "MASTER" && others_backup {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!(
        "{} did not become master again",
        lab.routers[index].name
    ))
}

fn state_of(lab: &Lab, index: usize) -> String {
    control::query_status(&lab.routers[index].socket)
        .ok()
        .and_then(|s| s.instances.first().map(|i| i.state.clone()))
        .unwrap_or_else(|| "down".into())
}

fn print_states(lab: &Lab) {
    for (index, router) in lab.routers.iter().enumerate() {
        let state = state_of(lab, index);
        let vip = match (Lab::holds(&router.namespace, VIP), state.as_str()) {
            (false, _) => String::new(),
            // A killed process cannot remove its VIP; the next keepvip start removes it first.
            (true, "down") => {
                format!("still has {VIP}: left by the killed process, removed at restart")
            }
            (true, _) => format!("holds {VIP}"),
        };
        println!(
            "   {:<3} {:<12} priority {:<4} {:<7} {vip}",
            router.name, router.address, router.priority, state
        );
    }
}
