//! Takeover figures on one pair (priorities 200 and 100, one VRRPv3 IPv4 instance): a crash (the
//! master SIGSTOPped: silent, cleaning nothing up) measured as the backup's first advert minus the
//! master's last, less Master_Down_Interval; a resignation (SIGTERM: a priority-0 advert) measured as
//! the backup's first advert minus the priority-0 one, less Skew_Time; and the gratuitous ARP after
//! the new master's first advert. Kernel capture timestamps on the lab bridge.

use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use netns_tests::daemon::wire::{Advert, adverts, gratuitous_arps, wall_clock};
use netns_tests::daemon::{Interval, master_down_interval, skew_time};
use netns_tests::{Capture, HarnessError, Lab, Result};

use crate::configs::Layout;
use crate::peers::{Kind, Peer};

const MASTER: u8 = 200;
const BACKUP: u8 = 100;
const OBSERVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Every run's figures, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Takeovers {
    /// Crash: first advert − last advert − MDI.
    pub crash: Vec<f64>,
    /// Resignation: first advert − priority-0 advert − Skew_Time.
    pub handover: Vec<f64>,
    /// Gratuitous ARP − the new master's first advert.
    pub garp: Vec<f64>,
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn signed_ms(later: Duration, earlier: Duration) -> f64 {
    ms(later) - ms(earlier)
}

struct Pair<'a> {
    lab: &'a Lab,
    capture: Capture,
    kind: Kind,
    bin: &'a Path,
    layout: Layout,
    master: Peer,
    restarts: usize,
}

/// `runs` crash runs and `runs` resignation runs of `kind` at `interval`, on a lab of its own.
pub fn measure(
    kind: Kind,
    bin: &Path,
    interval: Interval,
    runs: usize,
    stop: &AtomicBool,
) -> Result<Takeovers> {
    let lab = Lab::builder("bench").hosts(2).build()?;
    let capture = lab.capture("vrrp", &["ip", "proto", "112", "or", "arp"])?;
    let layout = Layout::single(interval.duration());
    let master = Peer::start(&lab, kind, bin, 0, "m", MASTER, &layout)?;
    let _backup = Peer::start(&lab, kind, bin, 1, "b", BACKUP, &layout)?;
    let mut pair = Pair {
        lab: &lab,
        capture,
        kind,
        bin,
        layout,
        master,
        restarts: 0,
    };
    let mut out = Takeovers::default();
    for _ in 0..runs {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let (crash, garp) = pair.crash(interval)?;
        out.crash.push(crash);
        out.garp.push(garp);
        out.handover.push(pair.handover(interval)?);
    }
    pair.capture.stop()?;
    Ok(out)
}

impl Pair<'_> {
    fn addresses(&self) -> (IpAddr, IpAddr) {
        let host = |index: usize| IpAddr::V4(self.lab.host(index).ipv4);
        (host(0), host(1))
    }

    /// Waits until the master has advertised alone for MDI + 3 intervals (the backup silent, its
    /// timer restarted by the master's adverts).
    fn settle(&self, interval: Interval) -> Result<()> {
        let (master, backup) = self.addresses();
        let quiet = master_down_interval(interval, BACKUP) + interval.duration() * 3;
        let started = wall_clock();
        self.capture.wait_for_frames(
            "the master alone on the wire",
            OBSERVE_TIMEOUT + quiet,
            |frames| {
                let now = wall_clock();
                let all = adverts(frames);
                let last =
                    |src: IpAddr| all.iter().rev().find(|a| a.src == src).map(|a| a.timestamp);
                let master_recent =
                    last(master).is_some_and(|at| at + interval.duration() * 2 > now);
                let backup_quiet = last(backup).is_none_or(|at| at + quiet < now);
                master_recent && backup_quiet && started + quiet < now
            },
        )?;
        Ok(())
    }

    /// The backup's first advert after `since` (and its gratuitous ARP, when `with_garp`).
    fn first_from_backup(&self, since: Duration, with_garp: bool) -> Result<(Vec<Advert>, Advert)> {
        let (_, backup) = self.addresses();
        let backup_mac = self.lab.host(1).mac;
        let vip = vip_v4(&self.layout)?;
        let frames = self.capture.wait_for_frames(
            "the backup's first advert as master",
            OBSERVE_TIMEOUT,
            |frames| {
                let first = adverts(frames)
                    .into_iter()
                    .find(|a| a.src == backup && a.timestamp > since);
                first.is_some_and(|first| {
                    !with_garp
                        || gratuitous_arps(frames, vip)
                            .iter()
                            .any(|arp| arp.eth_src == backup_mac && arp.timestamp > since)
                            && first.timestamp > since
                })
            },
        )?;
        let all = adverts(&frames);
        let first = all
            .iter()
            .find(|a| a.src == backup && a.timestamp > since)
            .cloned()
            .ok_or_else(|| HarnessError::new("no advert from the backup"))?;
        Ok((all, first))
    }

    /// Freeze the master; returns (crash overhead over MDI, GARP delay), then thaws it.
    fn crash(&mut self, interval: Interval) -> Result<(f64, f64)> {
        self.settle(interval)?;
        let (master, _) = self.addresses();
        let since = wall_clock();
        self.master.freeze()?;
        let measured = self.first_from_backup(since, true);
        self.master.thaw()?;
        let (all, first) = measured?;
        let last = all
            .iter()
            .rev()
            .find(|a| a.src == master && a.timestamp < first.timestamp)
            .ok_or_else(|| HarnessError::new("no advert from the master before the takeover"))?;
        let mdi = master_down_interval(interval, BACKUP);
        let overhead = signed_ms(first.timestamp, last.timestamp) - ms(mdi);
        let frames = self.capture.frames()?;
        let backup_mac = self.lab.host(1).mac;
        let garp = gratuitous_arps(&frames, vip_v4(&self.layout)?)
            .into_iter()
            .find(|arp| arp.eth_src == backup_mac && arp.timestamp > since)
            .ok_or_else(|| HarnessError::new("no gratuitous ARP from the new master"))?;
        Ok((overhead, signed_ms(garp.timestamp, first.timestamp)))
    }

    /// Terminate the master; returns the handover's overhead over Skew_Time, then restarts it.
    fn handover(&mut self, interval: Interval) -> Result<f64> {
        self.settle(interval)?;
        let (master, _) = self.addresses();
        let since = wall_clock();
        self.master.terminate()?;
        let (all, first) = self.first_from_backup(since, false)?;
        let resign = all
            .iter()
            .rev()
            .find(|a| a.src == master && a.timestamp < first.timestamp && a.priority == Some(0))
            .ok_or_else(|| HarnessError::new("no priority-0 advert before the takeover"))?;
        let overhead =
            signed_ms(first.timestamp, resign.timestamp) - ms(skew_time(interval, BACKUP));
        self.restarts += 1;
        let label = format!("m{}", self.restarts);
        self.master = Peer::start(
            self.lab,
            self.kind,
            self.bin,
            0,
            &label,
            MASTER,
            &self.layout,
        )?;
        Ok(overhead)
    }
}

fn vip_v4(layout: &Layout) -> Result<std::net::Ipv4Addr> {
    let first = layout
        .instances()
        .into_iter()
        .next()
        .ok_or_else(|| HarnessError::new("empty layout"))?;
    let address = first.vip.split('/').next().unwrap_or_default();
    address
        .parse()
        .map_err(|_| HarnessError::new(format!("not an IPv4 VIP: {}", first.vip)))
}
