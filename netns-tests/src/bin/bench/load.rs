//! Many instances on one pair: the master's and the backup's CPU (utime + stime of the protocol
//! process over the window, as a share of one core) and resident memory, and on the wire: the
//! master's adverts later than 1.5 intervals after the previous one of the same instance, instances
//! that sent none, and adverts from the backup (an instance of it that took over while the master is
//! alive). Each interface beyond the first is a segment of its own with an observer capturing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use netns_tests::daemon::wire::{Advert, adverts, wall_clock};
use netns_tests::{Capture, Ipv6Mode, Lab, Result};

use crate::configs::Layout;
use crate::peers::{Kind, Peer, Usage};

const MASTER: u8 = 200;
const BACKUP: u8 = 100;
const VRRP_ONLY: [&str; 7] = ["ip", "proto", "112", "or", "ip6", "proto", "112"];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadFigures {
    /// Percent of one core.
    pub master_cpu: f64,
    pub backup_cpu: f64,
    pub master_rss_mib: f64,
    pub backup_rss_mib: f64,
    /// Master adverts more than 1.5 intervals after the previous one of their instance (or the
    /// window's start), and instances with no advert in the window.
    pub late: usize,
    pub missing: usize,
    /// Adverts the backup sent in the window.
    pub backup_adverts: usize,
    /// Packets the captures lost (the wire figures are a lower bound of the truth when not zero).
    pub capture_drops: u64,
}

/// A lab of two hosts with `layout.interfaces` links each, a capture on every link.
pub fn lab_for(layout: &Layout) -> Result<(Lab, Vec<Capture>)> {
    let mut lab = Lab::builder("benchload")
        .hosts(2)
        .ipv6(Ipv6Mode::NoDad)
        .build()?;
    let observer = lab.observer_ns().to_owned();
    let mut captures = vec![lab.capture_in(&observer, "eth0", "link0", &VRRP_ONLY)?];
    for link in 1..layout.interfaces {
        let segment = lab.add_segment(&format!("s{link}"))?;
        for index in 0..2 {
            let ns = lab.host(index).ns.clone();
            let v4 = format!("198.51.100.{}/24", 251 + index);
            let v6 = format!("2001:db8:{link}::{}/64", index + 1);
            let (ifname, port) = (format!("eth{link}"), format!("h{index}l{link}"));
            lab.plug(&segment, &ns, &ifname, &port, &[&v4, &v6])?;
        }
        let observer = lab.add_namespace(&format!("o{link}"))?;
        lab.plug(&segment, &observer, "eth0", &format!("o{link}"), &[])?;
        captures.push(lab.capture_in(&observer, "eth0", &format!("link{link}"), &VRRP_ONLY)?);
    }
    Ok((lab, captures))
}

fn percent(before: Usage, after: Usage, wall: Duration) -> f64 {
    let used = after.cpu.saturating_sub(before.cpu).as_secs_f64();
    used / wall.as_secs_f64().max(1e-9) * 100.0
}

fn mib(usage: Usage) -> f64 {
    usage.rss_kib as f64 / 1024.0
}

/// Runs `layout` on a fresh lab with `kind` for `window` after everything settled.
pub fn measure(kind: Kind, bin: &Path, layout: &Layout, window: Duration) -> Result<LoadFigures> {
    let (lab, captures) = lab_for(layout)?;
    let master = Peer::start(&lab, kind, bin, 0, "m", MASTER, layout)?;
    // The master elects itself (Master_Down_Interval), then the backup joins and stays backup.
    std::thread::sleep(layout.interval * 4 + Duration::from_millis(500));
    let backup = Peer::start(&lab, kind, bin, 1, "b", BACKUP, layout)?;
    std::thread::sleep(layout.interval * 10 + Duration::from_secs(2));
    let (m0, b0, from) = (master.usage()?, backup.usage()?, wall_clock());
    std::thread::sleep(window);
    let (m1, b1, until) = (master.usage()?, backup.usage()?, wall_clock());
    let mut all = Vec::new();
    let mut capture_drops = 0;
    for (link, capture) in captures.iter().enumerate() {
        let frames = capture.stop()?;
        capture_drops += capture.dropped_by_kernel().unwrap_or(0);
        all.extend(
            adverts(&frames)
                .into_iter()
                .filter(|a| a.timestamp >= from && a.timestamp <= until)
                .map(|a| (link, a)),
        );
    }
    let wire = judge_wire(&all, layout, from, until);
    let wall = until.saturating_sub(from);
    Ok(LoadFigures {
        master_cpu: percent(m0, m1, wall),
        backup_cpu: percent(b0, b1, wall),
        master_rss_mib: mib(m1),
        backup_rss_mib: mib(b1),
        late: wire.late,
        missing: wire.missing,
        backup_adverts: wire.backup_adverts,
        capture_drops,
    })
}

struct Wire {
    late: usize,
    missing: usize,
    backup_adverts: usize,
}

/// Late and missing master adverts, and the backup's, among `all` (link, advert) in [from, until].
fn judge_wire(all: &[(usize, Advert)], layout: &Layout, from: Duration, until: Duration) -> Wire {
    let mut by_instance: HashMap<(usize, bool, u8), Vec<Duration>> = HashMap::new();
    let mut backup_adverts = 0;
    for (link, advert) in all {
        match advert.priority {
            Some(MASTER) => {
                let key = (
                    *link,
                    matches!(advert.src, IpAddr::V6(_)),
                    advert.vrid.unwrap_or(0),
                );
                by_instance.entry(key).or_default().push(advert.timestamp);
            }
            Some(BACKUP) => backup_adverts += 1,
            _ => {}
        }
    }
    let limit = layout.interval.mul_f64(1.5);
    let mut late = 0;
    let mut late_by: HashMap<(usize, bool), (usize, usize, usize)> = HashMap::new();
    for (key, stamps) in by_instance.iter_mut() {
        stamps.sort_unstable();
        let mut previous = from;
        let before = late;
        for &at in stamps.iter() {
            if at.saturating_sub(previous) > limit {
                late += 1;
            }
            previous = at;
        }
        if until.saturating_sub(previous) > limit {
            late += 1;
        }
        let entry = late_by.entry((key.0, key.1)).or_default();
        entry.0 += 1;
        entry.1 += stamps.len();
        entry.2 += late - before;
    }
    if std::env::var_os("BENCH_DEBUG").is_some() {
        eprintln!("(link, ipv6) -> (instances, adverts, late): {late_by:?}");
    }
    eprintln!("master advert bursts: {}", bursts(all));
    let expected = layout.instances().len();
    Wire {
        late,
        missing: expected.saturating_sub(by_instance.len()),
        backup_adverts,
    }
}

/// How bunched the master's adverts are on each link: the share that left within 50 µs of the
/// previous one there, and the longest such run (instances advertising in lockstep make a backup
/// receive them as bursts).
fn bursts(all: &[(usize, Advert)]) -> String {
    let mut by_link: HashMap<usize, Vec<Duration>> = HashMap::new();
    for (link, advert) in all {
        if advert.priority == Some(MASTER) {
            by_link.entry(*link).or_default().push(advert.timestamp);
        }
    }
    let (mut close, mut total, mut longest) = (0usize, 0usize, 0usize);
    for stamps in by_link.values_mut() {
        stamps.sort_unstable();
        total += stamps.len();
        let mut run = 1;
        for pair in stamps.windows(2) {
            if pair[1].saturating_sub(pair[0]) <= Duration::from_micros(50) {
                close += 1;
                run += 1;
                longest = longest.max(run);
            } else {
                run = 1;
            }
        }
    }
    format!(
        "{close} of {total} within 50 µs of the previous one on their link, longest run {longest}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advert(at_ms: u64, priority: u8, vrid: u8) -> Advert {
        Advert {
            timestamp: Duration::from_millis(at_ms),
            eth_src: [0; 6],
            src: IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)),
            dst: IpAddr::V4(std::net::Ipv4Addr::new(224, 0, 0, 18)),
            ttl: 255,
            vrid: Some(vrid),
            priority: Some(priority),
            parsed: Err(vrrp_wire::WireError::Truncated { len: 0 }),
            payload: Vec::new(),
        }
    }

    #[test]
    fn a_gap_over_one_and_a_half_intervals_is_late_and_a_silent_instance_missing() {
        let layout = Layout {
            interfaces: 1,
            vrids: 3,
            ipv6: false,
            interval: Duration::from_millis(100),
            excluded: 0,
            rt_priority: None,
        };
        let all: Vec<(usize, Advert)> = [0, 100, 200, 300, 400, 500]
            .iter()
            .map(|&at| (0, advert(at, MASTER, 1)))
            .chain(
                [0, 100, 300, 400, 500]
                    .iter()
                    .map(|&at| (0, advert(at, MASTER, 2))),
            )
            .chain([(0, advert(250, BACKUP, 3))])
            .collect();
        let wire = judge_wire(&all, &layout, Duration::ZERO, Duration::from_millis(550));
        assert_eq!((wire.late, wire.missing, wire.backup_adverts), (1, 1, 1));
    }
}
