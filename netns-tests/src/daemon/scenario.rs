//! Steps the end-to-end tests share: start a daemon on a lab host, wait for its state, and look for its
//! VIPs in the kernel (`ip -j addr`, an observer independent of keepvip's netlink code).

use std::net::IpAddr;
use std::time::Duration;

use super::config::{InstanceSpec, config_toml};
use super::running::Keepvip;
use super::timing::{Interval, master_down_interval};
use crate::error::{HarnessError, Result};
use crate::kernel;
use crate::lab::{HOST_IF, Lab};
use crate::wait::wait_for_value;

pub const MASTER: &str = "MASTER";
pub const BACKUP: &str = "BACKUP";
pub const FAULT: &str = "FAULT";

/// Start keepvip on host `index` with one instance, labelled `h<index>` (`h<index>-<n>` for the
/// `n`-th restart, so every run keeps its own log).
pub fn start_keepvip(lab: &Lab, index: usize, run: usize, spec: &InstanceSpec) -> Keepvip {
    let label = if run == 0 {
        format!("h{index}")
    } else {
        format!("h{index}-{run}")
    };
    let config = config_toml(&label, std::slice::from_ref(spec));
    match Keepvip::start(lab, index, &label, &config) {
        Ok(daemon) => daemon,
        Err(err) => panic!("keepvip on host {index} did not start: {err}\nconfig:\n{config}"),
    }
}

/// A generous bound for a state an election reaches: the longest Master_Down_Interval (priority 1)
/// plus startup and polling slack.
pub fn election_timeout(interval: Interval) -> Duration {
    master_down_interval(interval, 1) * 2 + Duration::from_secs(5)
}

/// Wait for `daemon`'s instance `VI_1` to be in `state`; panics with its status and log otherwise.
pub fn expect_state(daemon: &Keepvip, state: &str, timeout: Duration) -> Duration {
    match daemon.wait_state("VI_1", state, timeout) {
        Ok(took) => took,
        Err(err) => panic!("{err}"),
    }
}

/// Whether `address` is on `eth0` in host `index`'s namespace.
pub fn has_vip(lab: &Lab, index: usize, address: IpAddr) -> bool {
    match kernel::has_address(&lab.host(index).ns, HOST_IF, address) {
        Ok(present) => present,
        Err(err) => panic!("ip addr on host {index}: {err}"),
    }
}

/// Wait until `address` is (`present`) or is not on host `index`'s `eth0`.
pub fn wait_vip(
    lab: &Lab,
    index: usize,
    address: IpAddr,
    present: bool,
    timeout: Duration,
) -> Result<Duration> {
    let ns = lab.host(index).ns.clone();
    wait_for_value(
        &format!(
            "{address} to be {} host {index}",
            if present { "on" } else { "gone from" }
        ),
        timeout,
        Duration::from_millis(10),
        || Ok((kernel::has_address(&ns, HOST_IF, address)? == present).then_some(())),
    )
    .map(|(_, took)| took)
    .map_err(|err| {
        let listing = kernel::addresses(&ns, HOST_IF)
            .map(|addresses| format!("{addresses:?}"))
            .unwrap_or_else(|err| err.to_string());
        HarnessError::new(format!("{err}; host {index} has {listing}"))
    })
}

/// `wait_vip`, panicking with the context on timeout.
pub fn expect_vip(lab: &Lab, index: usize, address: IpAddr, present: bool, timeout: Duration) {
    if let Err(err) = wait_vip(lab, index, address, present, timeout) {
        panic!("{err}");
    }
}

/// Wait until `daemon`'s instance `VI_1` has accepted `more` adverts beyond what it had on entry, so a
/// backup's Master_Down_Timer was last started by a peer's advert (not by its own startup).
pub fn expect_adverts_received(daemon: &Keepvip, more: u64, timeout: Duration) {
    let start = match daemon.instance("VI_1") {
        Ok(instance) => instance.adverts_received,
        Err(err) => panic!("{err}"),
    };
    let waited = wait_for_value(
        &format!("{} to accept {more} more adverts", daemon.label()),
        timeout,
        Duration::from_millis(10),
        || Ok((daemon.instance("VI_1")?.adverts_received >= start + more).then_some(())),
    );
    if let Err(err) = waited {
        panic!("{err}\n{}", daemon.describe());
    }
}

/// Take host `index`'s switch port out of the lab bridge (`attached = false`) or put it back. Unlike a
/// port down, both ends keep their carrier: the host is cut off but its link stays up, so a daemon
/// there stays out of FAULT (a partition, not a link failure).
pub fn attach_to_bridge(lab: &Lab, index: usize, attached: bool) {
    let port = lab.host(index).switch_port.clone();
    // `br0` is the lab's bridge (lab.rs).
    let master: &[&str] = if attached {
        &["master", "br0"]
    } else {
        &["nomaster"]
    };
    let mut args = vec!["-n", lab.switch_ns(), "link", "set", "dev", port.as_str()];
    args.extend_from_slice(master);
    if let Err(err) = crate::cmd::ip(&args) {
        panic!("attach host {index} to the bridge = {attached}: {err}");
    }
}
