//! Random scenarios from a seed: 2 to 16 hosts with mixed priorities (ties, sometimes an owner),
//! preempt on/off and delays, fast handover or RFC-exact, VRRPv3 IPv4 mostly (some IPv6, and VRRPv2
//! segments where some routers are VRRPv3 in mixed mode),
//! then up to five faults with their recoveries, and a stable tail long enough for every check.

use std::fmt::Write as _;

use vrrp_core::{Config, Instant, Micros, TrackerConfig};
use vrrp_wire::{Centisecs, Version};

mod timeline;

use crate::model::{Event, HostSpec, NetParams, router_config};
use crate::rng::Rng;
use crate::sim::{Sim, SimError};
use crate::trace::time;

use timeline::Timeline;

/// Everything one seed runs: hosts, network, scheduled events and the instant the run ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub seed: u64,
    pub hosts: Vec<HostSpec>,
    pub net: NetParams,
    pub events: Vec<(Instant, Event)>,
    pub end: Instant,
}

/// Queue entries one seed may use before it counts as a livelock.
pub const EVENT_BUDGET: u64 = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handover {
    Fast,
    RfcExact,
    Mixed,
}

/// The choices shared by every router of a scenario.
#[derive(Debug, Clone, Copy)]
struct Shape {
    version: Version,
    ipv6: bool,
    base_interval: u16,
    mixed_intervals: bool,
    handover: Handover,
    sync_group: bool,
}

impl Scenario {
    pub fn generate(seed: u64) -> Scenario {
        let mut rng = Rng::new(seed);
        let count = host_count(&mut rng);
        let vrids: u8 = if rng.chance(150) { 2 } else { 1 };
        let shape = shape(&mut rng, vrids);
        let mut numbers: Vec<u8> = (1..=16).collect();
        rng.shuffle(&mut numbers);
        // Half the sync-group scenarios follow one preference order for all VRIDs of a host; the
        // other half draw each router's priority (and owner) on its own, so hosts may prefer each
        // other for different VRIDs. Those crossed preferences settle by the core's sync-group
        // tie-break, within twice the sync-group settle time (oracle::crossed_sync_groups; README).
        let mut owners: Vec<Option<usize>> = (0..vrids)
            .map(|_| rng.chance(150).then(|| rng.below(count as u64) as usize))
            .collect();
        let crossed = shape.sync_group && rng.chance(500);
        if shape.sync_group && !crossed {
            let first = owners.first().copied().flatten();
            owners.iter_mut().for_each(|o| *o = first);
        }
        let mut hosts = Vec::with_capacity(count);
        for (host, &number) in numbers.iter().take(count).enumerate() {
            let shared_priority = priority(&mut rng);
            let routers = (1..=vrids)
                .map(|vrid| {
                    let owner = owners.get(usize::from(vrid - 1)).copied().flatten() == Some(host);
                    let p = match (owner, shape.sync_group) {
                        (true, _) => 255,
                        (false, true) if !crossed => shared_priority,
                        (false, _) => priority(&mut rng),
                    };
                    router(&mut rng, &shape, vrid, number, p)
                })
                .collect();
            hosts.push(HostSpec {
                routers,
                sync_group: shape.sync_group,
            });
        }
        let shortest = shortest_interval(&hosts);
        let delay_max = if rng.chance(400) {
            Micros::ZERO
        } else {
            Micros::from_micros(rng.between(1, (shortest / 4).max(1)))
        };
        let mut timeline = Timeline::new(&hosts, delay_max, vrids, shape.sync_group);
        let weather = timeline.initial_weather(&mut rng);
        timeline.starts(&mut rng, count);
        timeline.faults(&mut rng, count);
        let (events, end) = timeline.finish();
        // Drawn last, so the scenarios of every other seed stay as they were.
        if rng.chance(150) {
            unicast_mesh(&mut hosts);
        }
        Scenario {
            seed,
            hosts,
            net: NetParams { delay_max, weather },
            events,
            end,
        }
    }

    /// A simulator with this scenario's hosts and events queued.
    pub fn sim(&self) -> Result<Sim, SimError> {
        let mut sim = Sim::new(self.hosts.clone(), self.net, self.seed)?;
        sim.set_event_budget(EVENT_BUDGET);
        for (at, event) in &self.events {
            sim.schedule(*at, event.clone());
        }
        Ok(sim)
    }

    /// The schedule, one line per event.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "seed {}: {} hosts, {} VRID(s), delay 0..={}us, runs until {}\n",
            self.seed,
            self.hosts.len(),
            self.hosts.first().map_or(0, |h| h.routers.len()),
            self.net.delay_max.as_micros(),
            time(self.end)
        );
        for (at, event) in &self.events {
            let _ = writeln!(text, "{:>12} {event}", time(*at));
        }
        text
    }
}

fn host_count(rng: &mut Rng) -> usize {
    let n = match rng.below(100) {
        0..=29 => 2,
        30..=54 => 3,
        55..=69 => 4,
        70..=91 => rng.between(5, 8),
        _ => rng.between(9, 16),
    };
    usize::try_from(n).unwrap_or(2)
}

fn shape(rng: &mut Rng, vrids: u8) -> Shape {
    let family = rng.below(100);
    let version = if family >= 90 {
        Version::V2
    } else {
        Version::V3
    };
    let ipv6 = (75..90).contains(&family);
    let base_interval = match version {
        Version::V2 => 100,
        Version::V3 => *rng
            .pick(&[100, 100, 100, 100, 50, 200, 1, 37])
            .unwrap_or(&100),
    };
    let handover = match rng.below(100) {
        0..=59 => Handover::Fast,
        60..=84 => Handover::RfcExact,
        _ => Handover::Mixed,
    };
    Shape {
        version,
        ipv6,
        base_interval,
        // VRRPv3 learns the master's interval (RFC 5798 §6.4.2 (450)); v2 requires equal intervals.
        mixed_intervals: version == Version::V3 && rng.chance(200),
        handover,
        sync_group: vrids == 2 && rng.chance(300),
    }
}

/// Mostly from a small set, so ties are common; sometimes anything in 1..=254.
pub(crate) fn priority(rng: &mut Rng) -> u8 {
    let p = if rng.chance(600) {
        *rng.pick(&[100, 100, 150, 200, 50, 254, 1]).unwrap_or(&100)
    } else {
        rng.between(1, 254)
    };
    u8::try_from(p).unwrap_or(100)
}

fn router(rng: &mut Rng, shape: &Shape, vrid: u8, number: u8, priority: u8) -> Config {
    let mut c = router_config(shape.version, shape.ipv6, vrid, number, priority);
    // A VRRPv2 segment half migrated: some routers are VRRPv3 in mixed mode (RFC 5798 §8.4). Drawn
    // only in VRRPv2 scenarios, so the others' seeds stay as they were.
    if shape.version == Version::V2 && rng.chance(500) {
        c.version = Version::V3;
        c.v2_interop = true;
    }
    let base = shape.base_interval;
    let interval = if shape.mixed_intervals {
        *rng.pick(&[
            base,
            base,
            base.saturating_mul(2).min(4095),
            (base / 2).max(1),
        ])
        .unwrap_or(&base)
    } else {
        base
    };
    c.advert_interval = Centisecs::new(interval).unwrap_or(c.advert_interval);
    c.preempt = rng.chance(850);
    if rng.chance(100) {
        let base_us = Centisecs::new(base).map_or(1_000_000, |b| b.as_micros());
        c.preempt_delay = Micros::from_micros(base_us * rng.between(1, 4));
    }
    let rfc_exact = match shape.handover {
        Handover::Fast => false,
        Handover::RfcExact => true,
        Handover::Mixed => rng.chance(500),
    };
    if rfc_exact {
        c = c.rfc_exact();
    }
    c.readvertise_on_lower_priority = rng.chance(900);
    if rng.chance(300) {
        // keepalived advice for sync groups: weight 0 (FAULT) moves the whole group; weights do not.
        let weights: &[i16] = if shape.sync_group {
            &[0]
        } else {
            &[-60, -20, 0, 30, 60]
        };
        c.trackers = vec![TrackerConfig {
            weight: *rng.pick(weights).unwrap_or(&0),
            initially_ok: rng.chance(850),
            reverse: false,
        }];
    }
    c
}

/// keepalived's unicast peers: every router sends its adverts to each other host's address instead
/// of the multicast group (and accepts adverts from those addresses only).
fn unicast_mesh(hosts: &mut [HostSpec]) {
    let addresses: Vec<Option<std::net::IpAddr>> = hosts
        .iter()
        .map(|h| h.routers.first().map(|c| c.primary_address))
        .collect();
    for (index, host) in hosts.iter_mut().enumerate() {
        let peers: Vec<std::net::IpAddr> = addresses
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
            .filter_map(|(_, address)| *address)
            .collect();
        for config in &mut host.routers {
            config.unicast_peers = peers.clone();
        }
    }
}

fn shortest_interval(hosts: &[HostSpec]) -> u64 {
    hosts
        .iter()
        .flat_map(|h| h.routers.iter())
        .map(|c| c.advert_interval.as_micros())
        .min()
        .unwrap_or(1_000_000)
}

pub(crate) fn rng_u16(rng: &mut Rng, low: u64, high: u64) -> u16 {
    u16::try_from(rng.between(low, high)).unwrap_or(0)
}
