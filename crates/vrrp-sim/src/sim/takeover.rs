//! The takeover timing invariant. When a settled master M silently crashes, loses its link, stops,
//! goes to FAULT or lowers its priority below the best backup B's, the simulator models B's Master_Down_Timer from the
//! adverts B receives from M (RFC 5798 §6.4.2 plus keepvip's fast handover), and B's first advert must
//! come exactly when that model says:
//!
//! - priority 0 arrives: timer = arrival + Skew_Time (425)-(430);
//! - priority >= B's (or B does not preempt): timer = arrival + Master_Down_Interval (445)-(460);
//! - lower priority while B follows M, fast handover on: timer = min(timer, arrival + Skew_Time).
//!
//! Relative to what M sent, the instant lies in `[t, t + delay_max]` with t = M's last advert before the
//! event + MDI (crash, RFC-exact lowering) or the event + Skew_Time (stop, FAULT, fast handover), when
//! the advert that set the timer is that one (a reordered older advert legitimately sets it later).

use vrrp_core::{Instant, Micros, State, StateKind};

use super::Sim;
use crate::check::Invariant;
use crate::model::HostId;
use crate::oracle::{master_down_interval, skew_time};
use crate::trace;

/// What happened to the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaving {
    Crash,
    /// Its link went down: like a crash for everyone else (FAULT, nothing sent).
    LinkDown,
    Stop,
    /// Its priority changed (base priority or tracker): lowered below the best backup, or FAULT.
    Lowered,
}

/// Which kind of advert last set the modelled timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetBy {
    Accepted,
    LowerFollowed,
    Resigned,
}

/// A takeover the simulator will time.
#[derive(Debug, Clone)]
pub(crate) struct Takeover {
    vrid: u8,
    from: HostId,
    kind: Leaving,
    event_at: Instant,
    /// M's last advert before the event.
    last_sent: Instant,
    best: HostId,
    best_slot: usize,
    priority: u8,
    preempts: bool,
    fast: bool,
    skew: Micros,
    mdi: Micros,
    /// The modelled Master_Down_Timer of the best backup.
    deadline: Instant,
    following: bool,
    set_by: SetBy,
    /// When the advert that last set `deadline` was sent.
    set_by_sent: Instant,
    pub(crate) give_up_at: Instant,
}

impl Takeover {
    pub(crate) fn describe(&self) -> String {
        format!(
            "PLAN {:?} of h{}: {} must take over at {} unless adverts still in flight move it \
             (Skew_Time {}us, MDI {}us, fast handover {})",
            self.kind,
            self.from,
            trace::router(self.best, self.vrid),
            trace::time(self.deadline),
            self.skew.as_micros(),
            self.mdi.as_micros(),
            self.fast
        )
    }

    /// M's last advert before the event, when the event itself made M send (a priority change).
    pub(crate) fn set_last_sent(&mut self, before: Option<Instant>) {
        if let Some(before) = before {
            self.last_sent = before;
            if self.set_by == SetBy::Accepted {
                self.set_by_sent = before;
            }
        }
    }

    /// An advert from M reached the best backup: RFC 5798 §6.4.2 (420)-(470) and fast handover.
    fn heard(&mut self, now: Instant, sent: Instant, priority: u8) {
        let (deadline, set_by) = if priority == 0 {
            self.following = false;
            (now + self.skew, SetBy::Resigned)
        } else if priority >= self.priority || !self.preempts {
            self.following = true;
            (now + self.mdi, SetBy::Accepted)
        } else if self.fast && self.following && now + self.skew < self.deadline {
            (now + self.skew, SetBy::LowerFollowed)
        } else {
            return;
        };
        self.deadline = deadline;
        self.set_by = set_by;
        self.set_by_sent = sent;
    }
}

impl Sim {
    /// For a master slot of `host` about to crash or stop (`kind`), or whose priority just changed
    /// (`Lowered`), the backup that must take over — only when the answer is unambiguous: a single best
    /// backup by priority that follows M, is in Backup, and preempts (or there is no delay, so no lower
    /// backup can fire first and be followed); no sync group involved.
    pub(super) fn plan_takeover(
        &self,
        host: HostId,
        slot_id: usize,
        kind: Leaving,
    ) -> Result<Option<Takeover>, String> {
        let Some(plan) = self.candidate(host, slot_id, kind) else {
            return Ok(None);
        };
        let actual = self.hosts[plan.best]
            .router(plan.best_slot)
            .map(|r| r.state());
        match actual {
            Some(State::Backup { master_down_at }) if master_down_at == plan.deadline => {
                Ok(Some(plan))
            }
            // The core's own timer must agree with the model before anything happens.
            Some(State::Backup { master_down_at }) => Err(format!(
                "{}'s Master_Down_Timer is {} but its last advert from h{} + MDI {}us is {}",
                trace::router(plan.best, plan.vrid),
                trace::time(master_down_at),
                plan.from,
                plan.mdi.as_micros(),
                trace::time(plan.deadline)
            )),
            _ => Ok(None),
        }
    }

    fn candidate(&self, host: HostId, slot_id: usize, kind: Leaving) -> Option<Takeover> {
        let h = &self.hosts[host];
        let slot = &h.slots[slot_id];
        if h.sync_group {
            return None;
        }
        let vrid = slot.config.vrid;
        let side = self.net.side(host);
        // After a priority change M is still master (lowered) or in FAULT (resigned).
        let remaining = match (kind, h.router(slot_id).map(|r| (r.state().kind(), r))) {
            (Leaving::Lowered, Some((StateKind::Master, r))) => r.effective_priority(),
            (Leaving::Lowered, Some((StateKind::Fault, _))) => 0,
            (Leaving::Lowered, _) => return None,
            (_, Some((StateKind::Master, _))) => 0,
            _ => return None,
        };
        let mut best: Option<(HostId, usize, u8)> = None;
        let mut tied = false;
        for other in self.running_hosts() {
            let o = &self.hosts[other];
            if other == host || self.net.side(other) != side || o.sync_group {
                continue;
            }
            let Some((os, router)) = o.slot_of(vrid).and_then(|s| Some((s, o.router(s)?))) else {
                continue;
            };
            if !matches!(router.state().kind(), StateKind::Backup | StateKind::Master) {
                continue;
            }
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
        let (b, bs, priority) = best.filter(|&(_, _, p)| !tied && p > remaining)?;
        let router = self.hosts[b].router(bs)?;
        let b_slot = &self.hosts[b].slots[bs];
        if !matches!(router.state(), State::Backup { .. }) {
            return None;
        }
        let follows = router.known_master().map(|m| m.address) == Some(slot.config.primary_address);
        let preempts = b_slot.preempt_from.is_some_and(|from| self.now >= from);
        let no_delay = self.net.delay_max() == Micros::ZERO;
        let last_heard = b_slot.last_arrival.get(host).copied().flatten()?;
        // A lowered master keeps advertising: only a preempting backup takes over.
        let may_fire_first = preempts || (no_delay && kind != Leaving::Lowered);
        if !follows || !may_fire_first {
            return None;
        }
        let version = b_slot.config.version;
        let interval = slot.config.advert_interval;
        let mdi = master_down_interval(version, priority, interval);
        Some(Takeover {
            vrid,
            from: host,
            kind,
            event_at: self.now,
            last_sent: slot.last_sent?,
            best: b,
            best_slot: bs,
            priority,
            preempts,
            fast: b_slot.config.fast_handover,
            skew: skew_time(version, priority, interval),
            mdi,
            // Settled: the last advert B got from M was accepted.
            deadline: last_heard.at + mdi,
            following: true,
            set_by: SetBy::Accepted,
            set_by_sent: slot.last_sent?,
            give_up_at: self.now + mdi + self.net.delay_max() + Micros::from_micros(1),
        })
    }

    /// An advert from `from` reached `to`: moves the model of any takeover it concerns.
    pub(super) fn takeover_heard(
        &mut self,
        from: HostId,
        to: HostId,
        vrid: u8,
        sent: Instant,
        priority: u8,
    ) {
        let now = self.now;
        for plan in &mut self.takeovers {
            if plan.from == from && plan.best == to && plan.vrid == vrid {
                plan.heard(now, sent, priority);
            }
        }
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
            // After a crash or stop every backup waits MDI or Skew_Time from the same instant, so the
            // best fires first. A lowering is different: a fast-handover backup may beat an RFC-exact
            // best one, which then preempts it at its own instant.
            && plan.kind != Leaving::Lowered
            && self.net.delay_max() == Micros::ZERO
            && self.net.side(host) == self.net.side(plan.best)
        {
            let detail = format!(
                "h{host} sent first after h{}'s {:?}, but the best backup h{} must fire first",
                plan.from, plan.kind, plan.best
            );
            self.fail(Invariant::TakeoverTime, detail);
        }
    }

    fn verify(&mut self, plan: &Takeover) {
        let who = trace::router(plan.best, plan.vrid);
        if self.now != plan.deadline {
            let detail = format!(
                "{who} took over at {} after h{}'s {:?}, its timer (modelled from what it heard) says {} \
                 ({:?} advert sent at {})",
                trace::time(self.now),
                plan.from,
                plan.kind,
                trace::time(plan.deadline),
                plan.set_by,
                trace::time(plan.set_by_sent)
            );
            return self.fail(Invariant::TakeoverTime, detail);
        }
        let earliest = match plan.set_by {
            SetBy::Accepted => Some(plan.last_sent + plan.mdi),
            _ if plan.set_by_sent == plan.event_at => Some(plan.event_at + plan.skew),
            _ => None,
        };
        if let Some(earliest) = earliest {
            let latest = earliest + self.net.delay_max();
            if self.now < earliest || self.now > latest {
                let detail = format!(
                    "{who} took over at {}, outside [{}, {}]",
                    trace::time(self.now),
                    trace::time(earliest),
                    trace::time(latest)
                );
                return self.fail(Invariant::TakeoverTime, detail);
            }
        }
        self.stats.takeovers_verified += 1;
        let line = format!(
            "CHECK takeover by {who} at its modelled timer ({:?}): exact{}",
            plan.set_by,
            if earliest.is_some() {
                ", within the delay bound"
            } else {
                ""
            }
        );
        self.note(|| line);
    }

    /// A planned takeover that did not happen by its deadline.
    pub(super) fn check_takeover_deadlines(&mut self) {
        let Some(late) = self.takeovers.iter().find(|t| self.now >= t.give_up_at) else {
            return;
        };
        let detail = format!(
            "h{}'s {:?} at {}: the best backup h{} did not take over by {}",
            late.from,
            late.kind,
            trace::time(late.event_at),
            late.best,
            trace::time(late.give_up_at)
        );
        self.fail(Invariant::TakeoverTime, detail);
    }
}
