//! Several routers on an ideal LAN (zero delay, no loss): the end-to-end timing of handovers. The
//! seeded, lossy version of this lives in vrrp-sim.

mod common;

use common::*;
use vrrp_core::{Action, Config, Input, Instant, Router, StateKind, TrackerConfig, TrackerId};

/// Routers on one segment; adverts reach every other router at the instant they are sent.
struct Lan {
    routers: Vec<Router>,
    now: Instant,
}

impl Lan {
    fn start(configs: Vec<Config>) -> Lan {
        let mut lan = Lan {
            routers: configs.into_iter().map(router).collect(),
            now: Instant::ZERO,
        };
        for i in 0..lan.routers.len() {
            lan.input(i, Input::Startup);
        }
        lan
    }

    /// Gives `input` to router `i` and delivers whatever it sends, recursively.
    fn input(&mut self, i: usize, input: Input) {
        let actions = self.routers[i].handle(self.now, input);
        for action in actions {
            if let Action::SendAdvert(repr) = action {
                let source = self.routers[i].config().primary_address;
                for j in 0..self.routers.len() {
                    if j != i {
                        self.input(
                            j,
                            Input::Advert {
                                source,
                                repr: repr.clone(),
                            },
                        );
                    }
                }
            }
        }
    }

    /// Runs timers until `until`.
    fn run_until(&mut self, until: Instant) {
        loop {
            let next = self
                .routers
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.next_deadline().map(|d| (d, i)))
                .min();
            match next {
                Some((deadline, i)) if deadline <= until => {
                    self.now = deadline;
                    self.input(i, Input::Timer);
                }
                _ => break,
            }
        }
        self.now = until;
    }

    fn states(&self) -> Vec<StateKind> {
        self.routers.iter().map(|r| r.state().kind()).collect()
    }
}

fn three(fast: bool) -> Vec<Config> {
    let mut m = config_at(3, 200);
    m.trackers = vec![TrackerConfig {
        weight: -100,
        initially_ok: true,
        reverse: false,
    }];
    let b1 = config_at(2, 150);
    let b2 = config_at(1, 120);
    let configs = vec![m, b1, b2];
    if fast {
        configs
    } else {
        configs.into_iter().map(Config::rfc_exact).collect()
    }
}

fn settled(fast: bool) -> Lan {
    let mut lan = Lan::start(three(fast));
    lan.run_until(ms(10_000));
    assert_eq!(
        lan.states(),
        [StateKind::Master, StateKind::Backup, StateKind::Backup]
    );
    lan
}

#[test]
fn highest_priority_wins_the_election() {
    settled(true);
}

#[test]
fn fast_handover_best_backup_takes_over_within_skew_of_the_priority_drop() {
    let mut lan = settled(true);
    lan.now = ms(10_100);
    lan.input(
        0,
        Input::Tracker {
            tracker: TrackerId(0),
            ok: false,
        },
    );
    // M advertised 100 at once; B1 (150) takes over after its Skew_Time 414 063 us, B2 follows B1.
    lan.run_until(us(10_100_000 + 414_062));
    assert_eq!(
        lan.states(),
        [StateKind::Master, StateKind::Backup, StateKind::Backup]
    );
    lan.run_until(us(10_100_000 + 414_063));
    assert_eq!(
        lan.states(),
        [StateKind::Backup, StateKind::Master, StateKind::Backup]
    );
    lan.run_until(ms(30_000));
    assert_eq!(
        lan.states(),
        [StateKind::Backup, StateKind::Master, StateKind::Backup]
    );
}

#[test]
fn rfc_exact_handover_waits_a_master_down_interval_after_the_last_accepted_advert() {
    let mut lan = settled(false);
    // Let M send its next periodic advert (priority 200), then drop its priority 100 ms later.
    let last_advert = lan.routers[0].next_deadline().unwrap();
    lan.run_until(last_advert);
    lan.now = last_advert + dur(100_000);
    lan.input(
        0,
        Input::Tracker {
            tracker: TrackerId(0),
            ok: false,
        },
    );
    // B1 keeps discarding M's 100s and takes over one MDI (3 414 063 us) after the last 200.
    lan.run_until(last_advert + dur(3_414_062));
    assert_eq!(lan.states()[1], StateKind::Backup);
    lan.run_until(last_advert + dur(3_414_063));
    assert_eq!(
        lan.states(),
        [StateKind::Backup, StateKind::Master, StateKind::Backup]
    );
}

#[test]
fn restored_priority_preempts_back() {
    let mut lan = settled(true);
    lan.now = ms(10_100);
    lan.input(
        0,
        Input::Tracker {
            tracker: TrackerId(0),
            ok: false,
        },
    );
    lan.run_until(ms(20_000));
    lan.input(
        0,
        Input::Tracker {
            tracker: TrackerId(0),
            ok: true,
        },
    );
    // M (backup, 200) discards B1's 150s and takes over after its own MDI (3 s + 56/256 s).
    lan.run_until(ms(30_000));
    assert_eq!(
        lan.states(),
        [StateKind::Master, StateKind::Backup, StateKind::Backup]
    );
}

#[test]
fn master_shutdown_hands_over_after_skew() {
    let mut lan = settled(true);
    lan.now = ms(10_100);
    lan.input(0, Input::Shutdown);
    lan.run_until(us(10_100_000 + 414_063));
    assert_eq!(
        lan.states(),
        [StateKind::Initialize, StateKind::Master, StateKind::Backup]
    );
}
