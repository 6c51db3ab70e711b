//! The takeover timing invariant: after a settled master's silent crash (or graceful stop), the best
//! backup's first advert comes exactly when its timer must fire — the last advert it got from the
//! master + its Master_Down_Interval (after a stop: the priority-0 advert + its Skew_Time) — which lies
//! within `[last advert sent + MDI, last advert sent + MDI + delay_max]`.

use vrrp_core::{Instant, Micros, State, StateKind};

use super::Sim;
use crate::check::Invariant;
use crate::model::HostId;
use crate::oracle::{master_down_interval, skew_time};
use crate::trace;

/// How the master left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaving {
    Crash,
    Stop,
}

/// A takeover the simulator will time.
#[derive(Debug, Clone)]
pub(crate) struct Takeover {
    vrid: u8,
    from: HostId,
    kind: Leaving,
    left_at: Instant,
    /// The master's last advert before it left.
    last_sent: Instant,
    best: HostId,
    best_slot: usize,
    skew: Micros,
    mdi: Micros,
    pub(crate) give_up_at: Instant,
}

impl Takeover {
    pub(crate) fn describe(&self) -> String {
        let (base, at, wait) = match self.kind {
            Leaving::Crash => ("last advert", self.last_sent, self.mdi),
            Leaving::Stop => ("priority-0 advert", self.left_at, self.skew),
        };
        format!(
            "PLAN {} must take over at h{}'s {} (sent {}) + {}us (+ up to the max delay)",
            trace::router(self.best, self.vrid),
            self.from,
            base,
            trace::time(at),
            wait.as_micros()
        )
    }
}

impl Sim {
    /// Before `host` crashes or stops: for each VRID it is the settled master of, the backup that must
    /// take over. Only when the answer is unambiguous: a single best backup by priority, following this
    /// master, that preempts now (or there is no delay, so no lower backup can fire first and be
    /// followed), no sync group involved.
    pub(super) fn plan_takeovers(&self, host: HostId, kind: Leaving) -> Vec<Takeover> {
        let mut plans = Vec::new();
        if !self.checker.is_settled(self.now) {
            return plans;
        }
        let h = &self.hosts[host];
        if h.sync_group {
            return plans;
        }
        let side = self.net.side(host);
        for (slot_id, slot) in h.slots.iter().enumerate() {
            let is_master = h
                .router(slot_id)
                .is_some_and(|r| r.state().kind() == StateKind::Master);
            let Some(last_sent) = slot.last_sent.filter(|_| is_master) else {
                continue;
            };
            let vrid = slot.config.vrid;
            let mut best: Option<(HostId, usize, u8)> = None;
            let mut tied = false;
            let mut grouped = false;
            for other in self.running_hosts() {
                let o = &self.hosts[other];
                if other == host || self.net.side(other) != side {
                    continue;
                }
                let Some((os, router)) = o.slot_of(vrid).and_then(|s| Some((s, o.router(s)?)))
                else {
                    continue;
                };
                if !matches!(router.state().kind(), StateKind::Backup | StateKind::Master) {
                    continue;
                }
                grouped |= o.sync_group;
                let p = router.effective_priority();
                match best {
                    Some((_, _, bp)) if p < bp => {}
                    Some((_, _, bp)) if p == bp => tied = true,
                    _ => {
                        best = Some((other, os, p));
                        tied = false;
                    }
                }
            }
            let Some((b, bs, priority)) = best.filter(|_| !tied && !grouped) else {
                continue;
            };
            let Some(router) = self.hosts[b].router(bs) else {
                continue;
            };
            let follows =
                router.known_master().map(|m| m.address) == Some(slot.config.primary_address);
            let preempts = self.hosts[b].slots[bs]
                .preempt_from
                .is_some_and(|from| self.now >= from);
            let no_delay = self.net.delay_max() == Micros::ZERO;
            if !matches!(router.state(), State::Backup { .. })
                || !follows
                || !(preempts || no_delay)
            {
                continue;
            }
            let version = self.hosts[b].slots[bs].config.version;
            let interval = slot.config.advert_interval;
            let skew = skew_time(version, priority, interval);
            let mdi = master_down_interval(version, priority, interval);
            plans.push(Takeover {
                vrid,
                from: host,
                kind,
                left_at: self.now,
                last_sent,
                best: b,
                best_slot: bs,
                skew,
                mdi,
                give_up_at: self.now + mdi + self.net.delay_max() + Micros::from_micros(1),
            });
        }
        plans
    }

    /// A router sent an advert: if it is the awaited takeover, check its instant.
    pub(super) fn takeover_on_send(&mut self, host: HostId, slot: usize, priority: u8) {
        if self.takeovers.is_empty() || priority == 0 {
            return;
        }
        let vrid = self.vrid_of(host, slot);
        let Some(index) = self.takeovers.iter().position(|t| t.vrid == vrid) else {
            return;
        };
        let plan = self.takeovers[index].clone();
        if host == plan.best {
            self.takeovers.remove(index);
            self.verify(&plan);
        } else if host != plan.from
            && self.net.delay_max() == Micros::ZERO
            && self.net.side(host) == self.net.side(plan.best)
        {
            let detail = format!(
                "h{host} sent first after h{} left, but the best backup h{} must fire first",
                plan.from, plan.best
            );
            self.fail(Invariant::TakeoverTime, detail);
        }
    }

    fn verify(&mut self, plan: &Takeover) {
        let arrival = self.hosts[plan.best].slots[plan.best_slot]
            .last_arrival
            .get(plan.from)
            .copied()
            .flatten();
        let Some(arrival) = arrival else {
            let detail = format!(
                "h{} took over without ever hearing h{}",
                plan.best, plan.from
            );
            return self.fail(Invariant::TakeoverTime, detail);
        };
        let (wait, name) = if arrival.priority == 0 {
            (plan.skew, "Skew_Time")
        } else {
            (plan.mdi, "Master_Down_Interval")
        };
        let expected = arrival.at + wait;
        let who = trace::router(plan.best, plan.vrid);
        if self.now != expected {
            let detail = format!(
                "{who} took over at {}, expected {}: last advert from h{} (prio {}) arrived at {} + {name} {}us",
                trace::time(self.now),
                trace::time(expected),
                plan.from,
                arrival.priority,
                trace::time(arrival.at),
                wait.as_micros()
            );
            return self.fail(Invariant::TakeoverTime, detail);
        }
        // Relative to what the master sent: exact without delay, at most delay_max late with it. After a
        // stop this holds when the priority-0 advert was the last thing heard (a reordered duplicate of
        // an older advert legitimately restarts the full Master_Down_Interval).
        let (base, window) = match plan.kind {
            Leaving::Crash => (plan.last_sent, plan.mdi),
            Leaving::Stop => (plan.left_at, plan.skew),
        };
        let bound_applies = plan.kind == Leaving::Crash || arrival.priority == 0;
        let earliest = base + window;
        let latest = earliest + self.net.delay_max();
        if bound_applies && !(earliest <= self.now && self.now <= latest) {
            let detail = format!(
                "{who} took over at {}, outside [{}, {}]",
                trace::time(self.now),
                trace::time(earliest),
                trace::time(latest)
            );
            return self.fail(Invariant::TakeoverTime, detail);
        }
        self.stats.takeovers_verified += 1;
        let line = format!(
            "CHECK takeover by {who} at last advert from h{} ({}) + {name}: exact",
            plan.from,
            trace::time(arrival.at)
        );
        self.note(|| line);
    }

    /// A planned takeover that did not happen by its deadline.
    pub(super) fn check_takeover_deadlines(&mut self) {
        let Some(late) = self.takeovers.iter().find(|t| self.now >= t.give_up_at) else {
            return;
        };
        let detail = format!(
            "h{} left at {} but the best backup h{} did not take over by {}",
            late.from,
            trace::time(late.left_at),
            late.best,
            trace::time(late.give_up_at)
        );
        self.fail(Invariant::TakeoverTime, detail);
    }
}
