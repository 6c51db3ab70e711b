//! The lab of the host-fault cells: the fault matrix's switch, VIP-holder sampler, client probe and
//! verdict around keepvip routers whose config and launch each cell writes (track and notify scripts,
//! a notify FIFO, an excluded IPv6 VIP, a private tmpfs, a memory cgroup). Router `i` runs one
//! VRRPv3 IPv4 instance, `INSTANCE`, VRID 1, `VIP_CIDR`, priority `PRIORITIES[i]`; router 0 is
//! started first and is the master, the others BACKUP.

use std::time::Duration;

use super::lab::{INSTANCE, PRIORITIES, VIP, VIP_CIDR};
use super::probe::{Probe, Request};
use super::sampler::HolderSampler;
use super::table;
use super::timeline::Timeline;
use super::verdict::{Bounds, Verdict};
use crate::daemon::pause::Span;
use crate::daemon::running::Launch;
use crate::daemon::scenario::{BACKUP, MASTER, election_timeout};
use crate::daemon::wire::wall_clock;
use crate::daemon::{Interval, Keepvip};
use crate::error::{HarnessError, Result};
use crate::lab::{Lab, LabBuilder};

/// The table group of these cells.
pub const HOST_GROUP: &str = "host";

/// How router `i` runs: extra `[global]` keys, extra keys of its instance, words before the binary.
#[derive(Debug, Clone, Default)]
pub struct HostRouter {
    pub global: String,
    pub instance: String,
    pub prefix: Vec<String>,
}

impl HostRouter {
    pub fn plain() -> Self {
        Self::default()
    }

    pub fn global(mut self, keys: &str) -> Self {
        self.global.push_str(keys);
        self.global.push('\n');
        self
    }

    pub fn instance(mut self, keys: &str) -> Self {
        self.instance.push_str(keys);
        self.instance.push('\n');
        self
    }

    pub fn prefix(mut self, words: Vec<String>) -> Self {
        self.prefix = words;
        self
    }
}

/// Router `index`'s config at `interval` with `router`'s extra keys.
pub fn host_config(index: usize, interval: Interval, router: &HostRouter) -> String {
    format!(
        "[global]\nrouter_id = \"h{index}\"\n{global}\n[[instance]]\nname = \"{INSTANCE}\"\n\
         interface = \"eth0\"\nvrid = 1\npriority = {priority}\nadvert_interval = \"{ms}ms\"\n\
         vips = [\"{VIP_CIDR}\"]\n{instance}",
        global = router.global,
        priority = PRIORITIES[index],
        ms = interval.as_millis(),
        instance = router.instance,
    )
}

/// A running host-fault lab; everything stops and is deleted when it is dropped.
pub struct HostLab {
    // Field order is drop order: the threads before the namespaces they use.
    probe: Probe,
    sampler: HolderSampler,
    daemons: Vec<Keepvip>,
    interval: Interval,
    pub lab: Lab,
}

impl HostLab {
    /// The lab for test `name` with one router per `routers` entry (2 or 3) and a client; router 0
    /// MASTER and the others BACKUP before it returns.
    pub fn start(name: &str, interval: Interval, routers: &[HostRouter]) -> Result<Self> {
        Self::start_in(
            Lab::builder(name).hosts(routers.len() + 1),
            interval,
            routers,
        )
    }

    /// `start` in a lab built by `builder`, which has one host per router and one for the client.
    pub fn start_in(
        builder: LabBuilder,
        interval: Interval,
        routers: &[HostRouter],
    ) -> Result<Self> {
        if !(2..=3).contains(&routers.len()) {
            return Err(HarnessError::new("a host-fault lab has 2 or 3 routers"));
        }
        let lab = builder.build()?;
        let namespaces: Vec<String> = (0..routers.len())
            .map(|index| lab.host(index).ns.clone())
            .collect();
        let sampler = HolderSampler::start(&namespaces, VIP)?;
        let probe = Probe::start(&namespaces, &lab.host(routers.len()).ns, VIP)?;
        let mut host = Self {
            probe,
            sampler,
            daemons: Vec::new(),
            interval,
            lab,
        };
        for (index, router) in routers.iter().enumerate() {
            let launch = Launch {
                dir: host.lab.dir().to_path_buf(),
                prefix: router.prefix.clone(),
            };
            let config = host_config(index, interval, router);
            let label = format!("h{index}");
            host.daemons.push(Keepvip::start_with(
                &host.lab, index, &label, &config, &launch,
            )?);
            let state = if index == 0 { MASTER } else { BACKUP };
            host.wait_state(index, state)?;
        }
        Ok(host)
    }

    pub fn interval(&self) -> Interval {
        self.interval
    }

    /// Router `index`'s daemon.
    pub fn daemon(&self, index: usize) -> Result<&Keepvip> {
        self.daemons
            .get(index)
            .ok_or_else(|| HarnessError::new(format!("no router {index}")))
    }

    /// Router `index`'s network namespace.
    pub fn ns(&self, index: usize) -> &str {
        &self.lab.host(index).ns
    }

    /// Wait until router `index`'s instance is in `state` (bounded by the election timeout).
    pub fn wait_state(&self, index: usize, state: &str) -> Result<Duration> {
        let timeout = election_timeout(self.interval);
        self.daemon(index)?.wait_state(INSTANCE, state, timeout)
    }

    /// Steady time before a fault and after its outcome: enough adverts for a late transition to
    /// show.
    pub fn steady(&self) -> Duration {
        self.interval.duration() * 10 + Duration::from_millis(200)
    }

    pub fn timeline(&self) -> Timeline {
        self.sampler.timeline()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.probe.requests()
    }

    /// Judge the window from `from` to now against `bounds`, record the row under `HOST_GROUP`
    /// and return the verdict (no daemon is excused: none of these faults takes one down).
    pub fn judge(&self, cell: &str, from: Duration, bounds: Bounds) -> Result<Verdict> {
        let window = Span::new(from, wall_clock());
        let verdict = Verdict::judge(
            cell,
            self.interval,
            window,
            &self.timeline(),
            &self.requests(),
            &[],
            bounds,
        );
        table::record(HOST_GROUP, &verdict)?;
        Ok(verdict)
    }

    /// Every daemon's log, for a failure message.
    pub fn describe(&self) -> String {
        self.daemons
            .iter()
            .map(Keepvip::describe)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// No fault of these cells may cost the VIP or put it on two routers: one holder throughout, within
/// the fault matrix's tolerance (a repair, a handover by priority).
pub fn steady_bounds(interval: Interval) -> Bounds {
    let tolerance = super::verdict::tolerance(interval);
    Bounds {
        no_holder: tolerance,
        two_holders: interval.duration() + tolerance,
        split: None,
        outage: Some(tolerance),
        rule: "tol (held throughout)".into(),
    }
}
