//! Fault injectors for the matrix and the soak, beside the daemon faults `FaultLab` itself offers
//! (`signal`, `kill`, `terminate`, `restart`): link flaps, random loss on the segment, a partition.
//! Each is bounded in count and time, acts only inside the lab's namespaces, and the ones that leave
//! something in place (loss, partition) undo it when their guard is dropped.

use std::time::{Duration, Instant};

use netlab::Switch;

use super::lab::FaultLab;
use crate::daemon::pause::Span;
use crate::daemon::wire::wall_clock;
use crate::error::{HarnessError, Result};

/// `flaps` times: router `index`'s switch port down for `period / 2`, then up for `period / 2` (the
/// router sees carrier loss, as with a pulled cable). The time span it took.
pub fn flap_storm(lab: &FaultLab, index: usize, flaps: u32, period: Duration) -> Result<Span> {
    let start = wall_clock();
    let begun = Instant::now();
    for flap in 0..flaps {
        let down_at = begun + period * flap;
        std::thread::sleep(down_at.saturating_duration_since(Instant::now()));
        lab.lab.set_switch_port(index, false)?;
        std::thread::sleep((down_at + period / 2).saturating_duration_since(Instant::now()));
        lab.lab.set_switch_port(index, true)?;
    }
    Ok(Span::new(start, wall_clock()))
}

/// `nft` words inside namespace `ns`.
fn nft(ns: &str, words: &[&str]) -> Result<String> {
    let mut argv = vec!["netns", "exec", ns, "nft"];
    argv.extend_from_slice(words);
    crate::cmd::run("ip", &argv)
}

const LOSS_TABLE: &str = "faults_loss";

/// Random loss on the whole segment: the switch drops `percent` % of the frames it forwards, each
/// direction drawn on its own (an nftables bridge rule with `numgen random`: this kernel has no
/// netem). Removed when dropped.
pub struct Loss {
    switch_ns: String,
}

impl Loss {
    pub fn start(lab: &FaultLab, percent: u32) -> Result<Self> {
        if percent > 100 {
            return Err(HarnessError::new("loss is a percentage"));
        }
        let switch_ns = lab.lab.switch_ns().to_owned();
        let rules = format!(
            "add table bridge {LOSS_TABLE}; \
             add chain bridge {LOSS_TABLE} forward {{ type filter hook forward priority 0; policy accept; }}; \
             add rule bridge {LOSS_TABLE} forward numgen random mod 100 < {percent} counter drop"
        );
        nft(&switch_ns, &[&rules])?;
        Ok(Self { switch_ns })
    }

    /// Frames dropped so far.
    pub fn dropped(&self) -> Result<u64> {
        let listing = nft(&self.switch_ns, &["list", "table", "bridge", LOSS_TABLE])?;
        Ok(listing
            .split("counter packets ")
            .skip(1)
            .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .sum())
    }

    /// Stop dropping (also on drop).
    pub fn stop(self) -> Result<()> {
        nft(&self.switch_ns, &["delete", "table", "bridge", LOSS_TABLE]).map(drop)
    }
}

impl Drop for Loss {
    fn drop(&mut self) {
        // Already deleted by `stop`, or the lab is going: an error here changes nothing.
        let _ = nft(&self.switch_ns, &["delete", "table", "bridge", LOSS_TABLE]);
    }
}

/// Router `index` cut off on the switch (frames from and to its port dropped; its link stays up,
/// so its daemon stays out of FAULT). Healed when `heal`ed or dropped. It holds only names, so the
/// lab stays free for other faults (a kill while split) meanwhile.
pub struct Partition {
    switch: Switch,
    port: String,
    started: Duration,
    healed: bool,
}

impl Partition {
    pub fn start(lab: &FaultLab, index: usize) -> Result<Self> {
        // The lab's bridge (lab.rs): isolate_port only names its namespace and the port.
        let switch = Switch::new(lab.lab.switch_ns(), "br0");
        let port = lab.lab.host(index).switch_port.clone();
        let started = wall_clock();
        switch.isolate_port(&port)?;
        Ok(Self {
            switch,
            port,
            started,
            healed: false,
        })
    }

    /// End the partition; the span it lasted, to the moment the heal was asked for (the command
    /// returns a few milliseconds after the kernel applied it, later still on a loaded machine).
    pub fn heal(mut self) -> Result<Span> {
        let asked = wall_clock();
        self.switch.heal_port(&self.port)?;
        self.healed = true;
        Ok(Span::new(self.started, asked))
    }
}

impl Drop for Partition {
    fn drop(&mut self) {
        if !self.healed {
            let _ = self.switch.heal_port(&self.port);
        }
    }
}
