//! The fault lab: the test harness's `Lab` (a switch namespace with a hub bridge) with 2 or 3 router
//! namespaces running the real keepvip for one VRRPv3 IPv4 instance (VRID 1, VIP 192.0.2.100/24,
//! priorities 200, 150, 100: router 0 is the master when all are up) and a client namespace; the
//! VIP-holder sampler and the client probe run from the start. Faults that take a daemon down
//! (kill, stop) are noted as `Excused` spans, which the verdict reads.

use std::net::Ipv4Addr;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::probe::{Probe, Request};
use super::report::explain;
use super::sampler::HolderSampler;
use super::table;
use super::timeline::{Excused, Timeline};
use super::verdict::{Bounds, Verdict};
use crate::daemon::PauseWatch;
use crate::daemon::pause::Span;
use crate::daemon::scenario::{BACKUP, MASTER, election_timeout};
use crate::daemon::wire::wall_clock;
use crate::daemon::{Interval, Keepvip};
use crate::error::{HarnessError, Result};
use crate::lab::Lab;

pub const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
pub const VIP_CIDR: &str = "192.0.2.100/24";
/// Router `i`'s priority.
pub const PRIORITIES: [u8; 3] = [200, 150, 100];
/// The instance name every router's config uses.
pub const INSTANCE: &str = "VI_1";
/// How long a SIGTERMed daemon may take to resign and exit.
const EXIT_TIMEOUT: Duration = Duration::from_secs(5);

/// How the routers are started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Router 0 first and MASTER, then the others, each BACKUP before the next starts.
    InTurn,
    /// Every daemon spawned at once (none waits for another), then each waited for.
    AtOnce,
}

/// What to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabPlan {
    /// 2 or 3.
    pub routers: usize,
    pub interval: Interval,
    pub start: Start,
}

impl LabPlan {
    pub fn new(routers: usize, interval: Interval) -> Self {
        Self {
            routers,
            interval,
            start: Start::InTurn,
        }
    }
}

/// One router: its daemon while it runs, and how many times it was started.
struct Router {
    daemon: Option<Keepvip>,
    runs: usize,
    /// Set while a fault keeps this daemon down: since when.
    down_since: Option<Duration>,
}

/// Router `index`'s config for a daemon labelled `label` (see `FaultLab::set_config`).
pub type ConfigWriter = Box<dyn Fn(usize, &str) -> String + Send + Sync>;

/// A running fault lab; everything stops and is deleted when it is dropped.
pub struct FaultLab {
    // Field order is drop order: the threads before the namespaces they use.
    probe: Probe,
    sampler: HolderSampler,
    routers: Vec<Router>,
    excused: Vec<Excused>,
    plan: LabPlan,
    config_writer: Option<ConfigWriter>,
    pub lab: Lab,
}

impl FaultLab {
    /// Build the lab for test `name`, start the sampler, the probe and the daemons (as `plan.start`
    /// says) and wait until router 0 is MASTER and the others BACKUP.
    pub fn start(name: &str, plan: LabPlan) -> Result<Self> {
        if !(2..=3).contains(&plan.routers) {
            return Err(HarnessError::new("a fault lab has 2 or 3 routers"));
        }
        let lab = Lab::builder(name).hosts(plan.routers + 1).build()?;
        let namespaces: Vec<String> = (0..plan.routers)
            .map(|index| lab.host(index).ns.clone())
            .collect();
        let sampler = HolderSampler::start(&namespaces, VIP)?;
        let probe = Probe::start(&namespaces, &lab.host(plan.routers).ns, VIP)?;
        let mut faults = Self {
            probe,
            sampler,
            routers: Vec::new(),
            excused: Vec::new(),
            plan,
            config_writer: None,
            lab,
        };
        match plan.start {
            Start::InTurn => {
                for index in 0..plan.routers {
                    faults.routers.push(Router {
                        daemon: Some(faults.launch(index, 0, true)?),
                        runs: 1,
                        down_since: None,
                    });
                    let state = if index == 0 { MASTER } else { BACKUP };
                    faults.wait_state(index, state)?;
                }
            }
            Start::AtOnce => {
                for index in 0..plan.routers {
                    faults.routers.push(Router {
                        daemon: Some(faults.launch(index, 0, false)?),
                        runs: 1,
                        down_since: None,
                    });
                }
                for router in &faults.routers {
                    router
                        .daemon
                        .as_ref()
                        .map(Keepvip::wait_answering)
                        .transpose()?;
                }
            }
        }
        Ok(faults)
    }

    pub fn interval(&self) -> Interval {
        self.plan.interval
    }

    pub fn router_count(&self) -> usize {
        self.plan.routers
    }

    /// From now on routers start (`restart`) with the config `writer(index, label)` returns instead
    /// of the lab's own (the soak's: trackers, `rt_priority`), so a restarted daemon runs it from its
    /// first instant.
    pub fn set_config(&mut self, writer: ConfigWriter) {
        self.config_writer = Some(writer);
    }

    /// The config router `index` runs: one instance on `eth0`, preempting, with keepvip's GARP
    /// defaults (5 at once on becoming master, 5 more 5 s later), as an operator runs it; a single
    /// gratuitous ARP lost on a lossy segment would leave the client on the wrong MAC. A writer given
    /// to `set_config` replaces it.
    pub fn config(&self, index: usize, run: usize) -> String {
        if let Some(writer) = &self.config_writer {
            return writer(index, &label(index, run));
        }
        format!(
            "[global]\nrouter_id = \"{}\"\n\n[[instance]]\nname = \"{INSTANCE}\"\n\
             interface = \"eth0\"\nvrid = 1\npriority = {}\nadvert_interval = \"{}ms\"\n\
             preempt = true\nvips = [\"{VIP_CIDR}\"]\n",
            label(index, run),
            PRIORITIES[index],
            self.plan.interval.as_millis()
        )
    }

    fn launch(&self, index: usize, run: usize, wait: bool) -> Result<Keepvip> {
        let config = self.config(index, run);
        let label = label(index, run);
        if wait {
            Keepvip::start(&self.lab, index, &label, &config)
        } else {
            Keepvip::spawn(&self.lab, index, &label, &config)
        }
    }

    /// Router `index`'s running daemon; an error if a fault took it down.
    pub fn daemon(&self, index: usize) -> Result<&Keepvip> {
        self.routers
            .get(index)
            .and_then(|router| router.daemon.as_ref())
            .ok_or_else(|| HarnessError::new(format!("router {index} has no running daemon")))
    }

    /// Wait until router `index`'s instance is in `state` (bounded by the election timeout).
    pub fn wait_state(&self, index: usize, state: &str) -> Result<Duration> {
        let timeout = election_timeout(self.plan.interval);
        self.daemon(index)?.wait_state(INSTANCE, state, timeout)
    }

    /// Wait until `master` is MASTER and every other running router BACKUP.
    pub fn wait_settled(&self, master: usize) -> Result<()> {
        self.wait_state(master, MASTER)?;
        for index in (0..self.plan.routers).filter(|index| *index != master) {
            if self.daemon(index).is_ok() {
                self.wait_state(index, BACKUP)?;
            }
        }
        Ok(())
    }

    /// Send `signal` to router `index`'s daemon. SIGSTOP excuses the router (see `Excused`) until
    /// SIGCONT; SIGKILL until the next `restart`.
    pub fn signal(&mut self, index: usize, signal: Signal) -> Result<Duration> {
        let at = wall_clock();
        self.daemon(index)?.proc().signal(signal)?;
        match signal {
            Signal::SIGSTOP | Signal::SIGKILL => self.excuse_from(index, at),
            Signal::SIGCONT => self.excuse_until(index, wall_clock()),
            _ => {}
        }
        Ok(at)
    }

    /// SIGKILL router `index` and reap it: its VIP stays in its kernel until `restart`.
    pub fn kill(&mut self, index: usize) -> Result<Duration> {
        let at = self.signal(index, Signal::SIGKILL)?;
        if let Some(daemon) = self.routers.get_mut(index).and_then(|r| r.daemon.take()) {
            daemon.kill()?;
        }
        Ok(at)
    }

    /// SIGTERM router `index` and wait for it to exit (it resigns: priority 0, VIP removed).
    pub fn terminate(&mut self, index: usize) -> Result<Duration> {
        let at = wall_clock();
        let daemon = self
            .routers
            .get_mut(index)
            .and_then(|router| router.daemon.take())
            .ok_or_else(|| HarnessError::new(format!("router {index} is not running")))?;
        daemon.terminate()?;
        let status = daemon.wait_exit(EXIT_TIMEOUT)?;
        if !status.success() {
            return Err(HarnessError::new(format!(
                "router {index} exited {status} on SIGTERM:\n{}",
                daemon.logs()
            )));
        }
        Ok(at)
    }

    /// Start router `index` again (after `kill` or `terminate`) and wait for its control socket;
    /// ends its excuse once it answers (keepvip clears a crash's stale VIP at startup).
    pub fn restart(&mut self, index: usize) -> Result<Duration> {
        let run = self.routers.get(index).map_or(0, |router| router.runs);
        let at = wall_clock();
        let daemon = self.launch(index, run, true)?;
        let answered = wall_clock();
        if let Some(router) = self.routers.get_mut(index) {
            router.daemon = Some(daemon);
            router.runs += 1;
        }
        self.excuse_until(index, answered);
        Ok(at)
    }

    fn excuse_from(&mut self, index: usize, at: Duration) {
        if let Some(router) = self.routers.get_mut(index) {
            router.down_since.get_or_insert(at);
        }
    }

    fn excuse_until(&mut self, index: usize, at: Duration) {
        if let Some(since) = self
            .routers
            .get_mut(index)
            .and_then(|r| r.down_since.take())
        {
            self.excused.push(Excused {
                router: index,
                span: Span::new(since, at),
            });
        }
    }

    /// Every excuse so far; one still open runs to the end of time.
    pub fn excused(&self) -> Vec<Excused> {
        let open = self
            .routers
            .iter()
            .enumerate()
            .filter_map(|(index, router)| {
                router.down_since.map(|since| Excused {
                    router: index,
                    span: Span::new(since, Duration::MAX),
                })
            });
        self.excused.iter().copied().chain(open).collect()
    }

    pub fn timeline(&self) -> Timeline {
        self.sampler.timeline()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.probe.requests()
    }

    /// The verdict of the window from `from` to now.
    pub fn verdict(&self, cell: &str, from: Duration, bounds: Bounds) -> Verdict {
        let window = Span::new(from, wall_clock());
        Verdict::judge(
            cell,
            self.plan.interval,
            window,
            &self.timeline(),
            &self.requests(),
            &self.excused(),
            bounds,
        )
    }

    /// A matrix cell's end: judge the window from `from` to now, record the row under `group` in
    /// the table (printed), and panic (the test's assertion) with what happened if it failed.
    pub fn check_cell(&self, group: &str, cell: &str, from: Duration, bounds: Bounds) -> Verdict {
        self.check_cell_watched(group, cell, from, bounds, None)
    }

    /// `check_cell` inside `retry_on_machine_pause`: before failing, the episodes past their bound
    /// are handed to `watch`, so a failure that a stall of the whole machine explains (the stall
    /// witness stood still for the excess) is run again instead (retry.rs, rule 2).
    pub fn check_cell_watched(
        &self,
        group: &str,
        cell: &str,
        from: Duration,
        bounds: Bounds,
        watch: Option<&PauseWatch>,
    ) -> Verdict {
        let verdict = self.verdict(cell, from, bounds);
        if let Err(err) = table::record(group, &verdict) {
            panic!("fault-matrix table: {err}");
        }
        if !verdict.passed() {
            if let Some(watch) = watch {
                let resolution = self.timeline().longest_sample_gap;
                if let Some(episode) = verdict.no_holder_episode {
                    let bound = verdict.bounds.no_holder + resolution;
                    watch.measured("no VIP holder", episode, bound);
                }
                if let Some((episode, allowed)) = verdict.two_holders_episode {
                    watch.measured("two VIP holders", episode, allowed);
                }
            }
            let window = Span::new(from, wall_clock());
            panic!(
                "{verdict}\n{}\n{}",
                explain(window, &self.timeline(), &self.requests()),
                self.describe()
            );
        }
        verdict
    }

    /// The probe's requests from number `from` on (see `Probe::requests_since`).
    pub fn requests_since(&self, from: usize) -> Vec<Request> {
        self.probe.requests_since(from)
    }

    /// Every daemon's log, for a failure message.
    pub fn describe(&self) -> String {
        self.routers
            .iter()
            .filter_map(|router| router.daemon.as_ref().map(Keepvip::describe))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `r<index>` for the first run, `r<index>-<run>` after.
fn label(index: usize, run: usize) -> String {
    if run == 0 {
        format!("r{index}")
    } else {
        format!("r{index}-{run}")
    }
}
