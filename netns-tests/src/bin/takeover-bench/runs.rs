//! One interval's runs: a lab with a 200/100 pair of real keepvip daemons and a capture; N SIGKILL
//! takeovers and N SIGTERM takeovers, each measured from the capture's kernel timestamps, the master
//! restarted (and preempting back) between runs. A run the pause detector flags (pause.rs, the rules
//! the tests rerun on) is counted apart with its evidence.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use netns_tests::daemon::pause::{AliveWindow, millis, paused_measurement, paused_silence};
use netns_tests::daemon::retry::quiet_limits;
use netns_tests::daemon::takeover::{Takeover, observe_takeover};
use netns_tests::daemon::timing::Tolerance;
use netns_tests::daemon::wire::{adverts, gratuitous_arps, wall_clock};
use netns_tests::daemon::witness::StallWitness;
use netns_tests::daemon::{
    InstanceSpec, Interval, Keepvip, config_toml, master_down_interval, skew_time,
};
use netns_tests::{HarnessError, Host, Lab, Result};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_CIDR: &str = "192.0.2.100/24";
const MASTER_PRIORITY: u8 = 200;
const BACKUP_PRIORITY: u8 = 100;
const POLL: Duration = Duration::from_millis(10);
/// How long a takeover may take to show on the wire before the bench gives up.
const OBSERVE_TIMEOUT: Duration = Duration::from_secs(15);

/// How a run ended the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// SIGKILL: silent; the backup waits its Master_Down_Interval from the last advert.
    Kill,
    /// SIGTERM: a priority-0 advert; the backup waits its Skew_Time from it.
    Term,
}

/// One run's figures (microseconds) or the reason it was left out.
#[derive(Debug, Clone)]
pub enum Outcome {
    Measured { takeover: i64, garp: i64 },
    Paused(String),
}

/// A lab with the pair running, master elected.
pub struct Pair {
    capture: netns_tests::Capture,
    master: Keepvip,
    backup: Keepvip,
    interval: Interval,
    a: Host,
    b: Host,
    restarts: usize,
    /// When the current master was last seen master with the backup listening.
    master_since: Duration,
    /// Last, so that it is dropped last: its cleanup kills the daemons and deletes the namespaces.
    lab: Lab,
}

fn spec(priority: u8, interval: Interval) -> String {
    let label = if priority == MASTER_PRIORITY {
        "h0"
    } else {
        "h1"
    };
    config_toml(label, &[InstanceSpec::new(priority, interval, &[VIP_CIDR])])
}

fn election_timeout(interval: Interval) -> Duration {
    master_down_interval(interval, 1) * 2 + Duration::from_secs(5)
}

fn wait_adverts(daemon: &Keepvip, more: u64, timeout: Duration) -> Result<()> {
    let start = daemon.instance("VI_1")?.adverts_received;
    netns_tests::wait_for_value(
        &format!("{} to accept {more} more adverts", daemon.label()),
        timeout,
        POLL,
        || Ok((daemon.instance("VI_1")?.adverts_received >= start + more).then_some(())),
    )
    .map(|_| ())
}

impl Pair {
    /// Build the lab, start the capture and the 200 (master), then the 100 (backup).
    pub fn start(interval: Interval) -> Result<Self> {
        let lab = Lab::builder("bench").hosts(2).build()?;
        let capture = lab.capture("vrrp", &["ip", "proto", "112", "or", "arp"])?;
        let master = Keepvip::start(&lab, 0, "h0", &spec(MASTER_PRIORITY, interval))?;
        master.wait_state("VI_1", "MASTER", election_timeout(interval))?;
        let backup = Keepvip::start(&lab, 1, "h1", &spec(BACKUP_PRIORITY, interval))?;
        backup.wait_state("VI_1", "BACKUP", election_timeout(interval))?;
        let (a, b) = (lab.host(0).clone(), lab.host(1).clone());
        Ok(Self {
            capture,
            master,
            backup,
            interval,
            a,
            b,
            restarts: 0,
            master_since: wall_clock(),
            lab,
        })
    }

    /// Ready for a run: the master is master, the backup backup and has heard two more adverts (so its
    /// timer was last started by the master's advert).
    fn settle(&mut self) -> Result<()> {
        let timeout = election_timeout(self.interval);
        self.master.wait_state("VI_1", "MASTER", timeout)?;
        self.backup.wait_state("VI_1", "BACKUP", timeout)?;
        self.master_since = wall_clock();
        wait_adverts(&self.backup, 2, timeout)
    }

    /// Start a new master daemon on host 0 (its VIP left by a SIGKILL goes at startup); it preempts.
    fn restart_master(&mut self) -> Result<()> {
        self.restarts += 1;
        let label = format!("h0-{}", self.restarts);
        let config = config_toml(
            &label,
            &[InstanceSpec::new(
                MASTER_PRIORITY,
                self.interval,
                &[VIP_CIDR],
            )],
        );
        self.master = Keepvip::start(&self.lab, 0, &label, &config)?;
        Ok(())
    }

    /// One run: end the master as `ending` says, measure the takeover and the ARP, restart it.
    pub fn run(&mut self, ending: Ending, witness: &StallWitness) -> Result<Outcome> {
        self.settle()?;
        let (a_ip, b_ip) = (IpAddr::V4(self.a.ipv4), IpAddr::V4(self.b.ipv4));
        let ended_at = wall_clock();
        match ending {
            Ending::Kill => {
                self.master.kill()?;
            }
            Ending::Term => {
                self.master.terminate()?;
                self.master.wait_exit(Duration::from_secs(5))?;
            }
        }
        // Waiting on the capture, not polling the daemons: no `keepvip status` processes compete
        // with the takeover for the two cores.
        let b_mac = self.b.mac;
        let takeover = observe_takeover(
            &self.capture,
            a_ip,
            b_ip,
            ended_at,
            OBSERVE_TIMEOUT,
            |advert| ending == Ending::Kill || advert.priority == Some(0),
            |frames| {
                gratuitous_arps(frames, VIP)
                    .iter()
                    .any(|arp| arp.timestamp > ended_at && arp.eth_src == b_mac)
            },
        );
        self.backup
            .wait_state("VI_1", "MASTER", election_timeout(self.interval))?;
        let outcome = self.judge(ending, &takeover, ended_at, witness)?;
        self.restart_master()?;
        Ok(outcome)
    }

    /// The run's figures, unless the pause detector flags it.
    fn judge(
        &self,
        ending: Ending,
        takeover: &Takeover,
        ended_at: Duration,
        witness: &StallWitness,
    ) -> Result<Outcome> {
        let stalls = witness.stalls();
        let limits = quiet_limits(self.interval, BACKUP_PRIORITY);
        let expected = bound(ending, self.interval);
        let a_ip = IpAddr::V4(self.a.ipv4);
        let stamps: Vec<Duration> = adverts(&takeover.frames)
            .iter()
            .filter(|advert| advert.src == a_ip)
            .map(|advert| advert.timestamp)
            .collect();
        let window = AliveWindow {
            from: self.master_since,
            until: Some(ended_at),
        };
        if let Some(silence) = paused_silence(&stamps, window, limits, &stalls) {
            return Ok(Outcome::Paused(format!(
                "the master went silent for {} (> MDI {}) before the run; the machine stood \
                 still for {} of it",
                millis(silence.gap.length()),
                millis(limits.mdi),
                millis(silence.stopped)
            )));
        }
        let late = Tolerance::takeover(self.interval).late;
        if let Some(stopped) = paused_measurement(takeover.span(), expected + late, &stalls) {
            return Ok(Outcome::Paused(format!(
                "the takeover took {} (> {} + {}) while the machine stood still for {}",
                millis(takeover.delay),
                millis(expected),
                millis(late),
                millis(stopped)
            )));
        }
        let garp = takeover
            .garps(VIP, self.b.mac)
            .first()
            .map(|arp| arp.timestamp)
            .ok_or_else(|| HarnessError::new("no gratuitous ARP from the new master"))?;
        let micros = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        let garp_delay = micros(garp) - micros(takeover.first.timestamp);
        Ok(Outcome::Measured {
            takeover: micros(takeover.delay),
            garp: garp_delay,
        })
    }
}

/// The RFC 5798 §6.1 figure a run is measured against: the backup's Master_Down_Interval after a
/// silent master, its Skew_Time after a priority-0 advert.
pub fn bound(ending: Ending, interval: Interval) -> Duration {
    match ending {
        Ending::Kill => master_down_interval(interval, BACKUP_PRIORITY),
        Ending::Term => skew_time(interval, BACKUP_PRIORITY),
    }
}

/// `runs` runs of each ending on a fresh pair; stops early (with what it has) once `stop` is set.
pub fn measure_interval(
    interval: Interval,
    runs: usize,
    witness: &StallWitness,
    stop: &AtomicBool,
) -> Result<Vec<(Ending, Outcome)>> {
    let mut pair = Pair::start(interval)?;
    let mut outcomes = Vec::new();
    for ending in [Ending::Kill, Ending::Term] {
        for _ in 0..runs {
            if stop.load(Ordering::Relaxed) {
                return Ok(outcomes);
            }
            outcomes.push((ending, pair.run(ending, witness)?));
        }
    }
    pair.capture.stop()?;
    Ok(outcomes)
}
