//! The node's deadline index: after any sequence of inputs (adverts of every priority, priority 0,
//! timers, link changes, a sync group, reconfiguration, removal), `next_deadline` is the earliest
//! deadline of any instance and a timer fires exactly the instances that are due.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use vrrp_core::{Input, InstanceId, LinkId, Node, NodeInput};

/// A small deterministic generator (64-bit LCG): the sequence is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

fn scanned(node: &Node) -> Option<vrrp_core::Instant> {
    node.instances()
        .filter_map(|i| i.router.next_deadline())
        .min()
}

fn due(node: &Node, now: vrrp_core::Instant) -> Vec<InstanceId> {
    node.instances()
        .filter(|i| i.router.next_deadline().is_some_and(|at| at <= now))
        .map(|i| i.id)
        .collect()
}

#[test]
fn the_merged_deadline_always_matches_a_scan_of_every_instance() {
    let links = [LinkId(2), LinkId(3)];
    let mut node = Node::new();
    let mut ids = Vec::new();
    for (index, vrid) in (1..=12u8).enumerate() {
        let mut config = config_at(1, [50, 100, 150, 254][index % 4]);
        config.vrid = vrid;
        config.advert_interval = cs([10, 25, 100][index % 3]);
        ids.push(node.add_instance(links[index % 2], config).unwrap());
    }
    node.add_sync_group(&[ids[0], ids[5]]).unwrap();
    let mut rng = Lcg(7);
    let mut now = ms(0);
    node.handle(now, NodeInput::Startup);
    for step in 0..5_000 {
        now = now + dur(rng.next(40_000));
        let id = ids[rng.next(ids.len() as u64) as usize];
        let Some(vrid) = node.router(id).map(|r| r.config().vrid) else {
            continue;
        };
        let link = links[usize::from(vrid - 1) % 2];
        match rng.next(10) {
            0..=4 => {
                let mut repr = advert([0, 100, 120, 200, 254][rng.next(5) as usize], 100);
                repr.vrid = vrid;
                let source = v4(2 + rng.next(3) as u8);
                node.handle(now, NodeInput::Advert { link, source, repr });
            }
            5 => {
                let input = if rng.next(2) == 0 {
                    Input::InterfaceDown
                } else {
                    Input::InterfaceUp
                };
                node.handle(
                    now,
                    NodeInput::Link {
                        link,
                        family: None,
                        input,
                    },
                );
            }
            6 if step % 997 == 0 => {
                let mut config = node.router(id).unwrap().config().clone();
                config.priority = 1 + rng.next(250) as u8;
                node.reconfigure(now, id, config).unwrap();
            }
            _ => {
                if let Some(at) = node.next_deadline().filter(|&at| at <= now) {
                    let expected = due(&node, at);
                    let fired: Vec<InstanceId> = node
                        .handle(at, NodeInput::Timer)
                        .iter()
                        .map(|(id, _)| *id)
                        .collect();
                    assert!(
                        fired.iter().all(|id| expected.contains(id)
                            || node.instance(*id).unwrap().group.is_some()),
                        "step {step}: fired {fired:?}, due {expected:?}"
                    );
                }
            }
        }
        if step == 2_500 {
            node.remove_instance(now, ids[3]).unwrap();
            ids.remove(3);
        }
        assert_eq!(node.next_deadline(), scanned(&node), "step {step}");
    }
}

/// Instances that become master together do not advertise together: each one's first Adver_Timer is
/// shortened by its phase (up to half an interval, never lengthened), so 200 of them spread over
/// half an interval, and from then on each keeps an exact interval.
#[test]
fn masters_that_took_over_together_advertise_at_spread_phases() {
    let mut node = Node::new();
    let mut ids = Vec::new();
    for index in 0..200u32 {
        let mut config = config_at(1, 200);
        config.vrid = u8::try_from(index % 200 + 1).unwrap();
        config.advert_interval = cs(1);
        let link = LinkId(2 + index / 200);
        ids.push(node.add_instance(link, config).unwrap());
    }
    let start = ms(0);
    node.handle(start, NodeInput::Startup);
    // Master_Down_Interval of silence: every instance takes over at the same instant.
    let down = node.next_deadline().unwrap();
    node.handle(down, NodeInput::Timer);
    let interval = 10_000u64;
    let mut firsts: Vec<u64> = ids
        .iter()
        .map(|&id| node.router(id).unwrap().next_deadline().unwrap())
        .map(|at| at.saturating_since(down).as_micros())
        .collect();
    for &after in &firsts {
        assert!(after > interval / 2 && after <= interval, "{after} µs");
    }
    assert_eq!(
        firsts[0], interval,
        "a lone instance keeps the plain interval"
    );
    firsts.sort_unstable();
    let closest = firsts.windows(2).map(|w| w[1] - w[0]).min().unwrap();
    assert!(closest >= 1, "two instances share a phase");
    let spread = firsts[firsts.len() - 1] - firsts[0];
    assert!(spread >= interval / 2 - 100, "spread over {spread} µs only");
    // The next advert of each comes one exact interval after its first.
    let first_of_0 = node.router(ids[1]).unwrap().next_deadline().unwrap();
    node.handle(first_of_0, NodeInput::Timer);
    let next = node.router(ids[1]).unwrap().next_deadline().unwrap();
    assert_eq!(next.saturating_since(first_of_0).as_micros(), interval);
}
