//! The schedule of a random scenario: host starts, up to five faults with their recoveries, and the
//! end of the run.

use vrrp_core::{Instant, Micros};

use super::{priority, rng_u16};
use crate::model::{Event, HostSel, HostSpec, Weather};
use crate::oracle::settle_time;
use crate::rng::Rng;

/// Builds the event list.
pub(super) struct Timeline {
    events: Vec<(Instant, Event)>,
    settle: u64,
    interval: u64,
    longest_delay: u64,
    vrids: u8,
    sync_group: bool,
    now: u64,
    /// When each host's last VIP-set reload is scheduled.
    vip_reloads: Vec<u64>,
}

impl Timeline {
    pub(super) fn new(
        hosts: &[HostSpec],
        delay_max: Micros,
        vrids: u8,
        sync_group: bool,
    ) -> Timeline {
        let configs = || hosts.iter().flat_map(|h| h.routers.iter());
        Timeline {
            events: Vec::new(),
            settle: settle_time(hosts, delay_max).as_micros(),
            interval: configs()
                .map(|c| c.advert_interval.as_micros())
                .max()
                .unwrap_or(1),
            longest_delay: configs()
                .map(|c| c.preempt_delay.as_micros())
                .max()
                .unwrap_or(0),
            vrids,
            sync_group,
            now: 0,
            vip_reloads: Vec::new(),
        }
    }

    fn at(&mut self, at: u64, event: Event) {
        self.events.push((Instant::from_micros(at), event));
    }

    pub(super) fn initial_weather(&mut self, rng: &mut Rng) -> Weather {
        match rng.below(100) {
            0..=74 => Weather::CALM,
            75..=84 => Weather {
                loss_permille: 0,
                dup_permille: rng_u16(rng, 20, 200),
            },
            _ => {
                let calm_at = rng.between(2 * self.interval, 8 * self.interval);
                self.at(calm_at, Event::Weather(Weather::CALM));
                Weather {
                    loss_permille: rng_u16(rng, 50, 400),
                    dup_permille: rng_u16(rng, 0, 100),
                }
            }
        }
    }

    pub(super) fn starts(&mut self, rng: &mut Rng, count: usize) {
        let together = rng.chance(300);
        for host in 0..count {
            let at = if together {
                0
            } else {
                rng.below(2 * self.interval)
            };
            self.now = self.now.max(at);
            let start = Event::Start {
                host: HostSel::Host(host),
                reuse: false,
            };
            self.at(at, start);
        }
    }

    pub(super) fn faults(&mut self, rng: &mut Rng, count: usize) {
        for _ in 0..rng.below(6) {
            self.now += if rng.chance(550) {
                self.settle + rng.below(3 * self.interval)
            } else {
                rng.between(1, self.settle)
            };
            self.fault(rng, count);
        }
    }

    fn fault(&mut self, rng: &mut Rng, count: usize) {
        // The draws common to every kind of fault come first, in this order, so a seed replays.
        let now = self.now;
        let later = now + rng.between(self.interval / 2 + 1, 6 * self.interval);
        let vrid = u8::try_from(rng.between(1, u64::from(self.vrids))).unwrap_or(1);
        let any = HostSel::Host(usize::try_from(rng.below(count as u64)).unwrap_or(0));
        let target = if rng.chance(500) {
            HostSel::MasterOf(vrid)
        } else {
            any
        };
        let restart = Event::Start {
            host: HostSel::FirstDown,
            reuse: rng.chance(500),
        };
        // Some restarts come after the network settled again (preempt-off newcomers are checked then).
        let restart_at = if rng.chance(400) {
            now + self.settle + rng.below(2 * self.interval)
        } else {
            later
        };
        let draw = FaultDraw {
            now,
            later,
            vrid,
            any,
            restart,
            restart_at,
        };
        match rng.below(100) {
            0..=21 => self.host_down(rng, &draw, Event::Crash),
            22..=35 => self.host_down(rng, &draw, Event::Stop),
            36..=47 => self.partition(rng, &draw, count),
            48..=57 => {
                self.at(now, Event::LinkDown(target));
                if rng.chance(850) {
                    self.at(later, Event::LinkUp(HostSel::FirstLinkDown));
                }
            }
            58..=71 if !self.sync_group => {
                let priority = priority(rng);
                // A new priority through the input or through a reload (Node::reconfigure), or a
                // reload removing an instance (maybe adding it back later) or changing its VIPs.
                match rng.below(100) {
                    0..=29 => self.at(
                        now,
                        Event::Reload {
                            host: target,
                            vrid,
                            priority,
                        },
                    ),
                    30..=59 => self.at(
                        now,
                        Event::SetBasePriority {
                            host: target,
                            vrid,
                            priority,
                        },
                    ),
                    60..=84 => self.membership(rng, &draw, target),
                    _ => self.vip_rollout(rng, &draw, count),
                }
            }
            58..=83 => {
                let ok = rng.chance(500);
                if rng.chance(300) {
                    self.tracker_flaps(rng, &draw, ok);
                } else {
                    let event = Event::Tracker {
                        host: target,
                        vrid,
                        tracker: 0,
                        ok,
                    };
                    self.at(now, event);
                }
            }
            84..=95 => self.weather_burst(rng, &draw),
            _ => {
                let dup = Weather {
                    loss_permille: 0,
                    dup_permille: rng_u16(rng, 0, 300),
                };
                self.at(now, Event::Weather(dup));
            }
        }
    }

    /// A crash or a stop, usually of the master, maybe restarted later.
    fn host_down(&mut self, rng: &mut Rng, draw: &FaultDraw, event: fn(HostSel) -> Event) {
        let host = if rng.chance(700) {
            HostSel::MasterOf(draw.vrid)
        } else {
            draw.any
        };
        self.at(draw.now, event(host));
        if rng.chance(600) {
            self.at(draw.restart_at, draw.restart.clone());
        }
    }

    /// One host's tracker flapping: 3 to 12 changes, each 1 µs to one interval after the last (faster
    /// than adverts at times), starting with `ok`; it ends in either state.
    fn tracker_flaps(&mut self, rng: &mut Rng, draw: &FaultDraw, ok: bool) {
        let mut at = draw.now;
        let mut ok = ok;
        for _ in 0..rng.between(3, 12) {
            let event = Event::Tracker {
                host: draw.any,
                vrid: draw.vrid,
                tracker: 0,
                ok,
            };
            self.at(at, event);
            at += rng.between(1, self.interval);
            ok = !ok;
        }
    }

    /// A reload removing `target`'s router for the VRID, usually added back by another reload later.
    fn membership(&mut self, rng: &mut Rng, draw: &FaultDraw, target: HostSel) {
        let vrid = draw.vrid;
        self.at(draw.now, Event::RemoveInstance { host: target, vrid });
        if rng.chance(800) {
            let host = HostSel::FirstRemoved(vrid);
            let at = if rng.chance(500) {
                draw.later
            } else {
                draw.restart_at
            };
            self.at(at, Event::AddInstance { host, vrid });
        }
    }

    /// A new VIP set for the VRID, reloaded on every host one after the other within one interval,
    /// as an operator rolls a change out. (In VRRPv2 a backup must drop adverts whose address list
    /// differs from its own, RFC 3768 §7.1: the hosts disagree until the last reload.)
    /// Each host's reloads stay in rollout order, so a rollout overlapping the last one still ends
    /// with every host on its set.
    fn vip_rollout(&mut self, rng: &mut Rng, draw: &FaultDraw, count: usize) {
        let set = u8::try_from(rng.below(3)).unwrap_or(0);
        self.vip_reloads.resize(count, 0);
        for host in 0..count {
            let at = (draw.now + rng.below(self.interval)).max(self.vip_reloads[host] + 1);
            self.vip_reloads[host] = at;
            let host = HostSel::Host(host);
            let vrid = draw.vrid;
            self.at(at, Event::ReloadVips { host, vrid, set });
        }
    }

    /// A random split of the hosts, usually healed later.
    fn partition(&mut self, rng: &mut Rng, draw: &FaultDraw, count: usize) {
        let side: Vec<usize> = (0..count).filter(|_| rng.chance(500)).collect();
        if side.is_empty() || side.len() == count {
            return;
        }
        self.at(draw.now, Event::Partition(side));
        if rng.chance(800) {
            self.at(draw.later, Event::Heal);
        }
    }

    /// Loss and duplication now, calm (maybe with some duplication) later.
    fn weather_burst(&mut self, rng: &mut Rng, draw: &FaultDraw) {
        let burst = Weather {
            loss_permille: rng_u16(rng, 50, 500),
            dup_permille: rng_u16(rng, 0, 200),
        };
        self.at(draw.now, Event::Weather(burst));
        let calm = Weather {
            loss_permille: 0,
            dup_permille: if rng.chance(300) {
                rng_u16(rng, 1, 200)
            } else {
                0
            },
        };
        self.at(draw.later, Event::Weather(calm));
    }

    /// Sorted events, and an end leaving the settle time, two intervals and any preempt delay after the
    /// last one.
    pub(super) fn finish(mut self) -> (Vec<(Instant, Event)>, Instant) {
        self.events.sort_by_key(|(at, _)| *at);
        let last = self.events.last().map_or(0, |(at, _)| at.as_micros());
        let end = last + self.settle + 2 * self.interval + self.longest_delay + 1;
        (self.events, Instant::from_micros(end))
    }
}

/// The draws every fault starts with.
struct FaultDraw {
    now: u64,
    later: u64,
    vrid: u8,
    any: HostSel,
    restart: Event,
    restart_at: u64,
}
