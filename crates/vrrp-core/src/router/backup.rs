//! RFC 5798 §6.4.2 Backup, with keepalived's preempt delay and keepvip's fast handover.

use std::net::IpAddr;

use vrrp_wire::Repr;

use crate::input::{Action, Discard, Reason};
use crate::time::Instant;

use super::{KnownMaster, Router, State};

impl Router {
    /// Enters Backup with a fresh Master_Down_Timer: 6.4.1 (155)-(165), also used when FAULT clears.
    pub(super) fn enter_backup(&mut self, now: Instant, reason: Reason, out: &mut Vec<Action>) {
        // 6.4.1 (155): Master_Adver_Interval = Advertisement_Interval.
        self.master_adver_interval = self.config.advert_interval;
        self.known_master = None;
        self.master_down_reason = Reason::MasterDown;
        // 6.4.1 (160): Master_Down_Timer = Master_Down_Interval; (165) -> Backup.
        let master_down_at = now + self.master_down_interval();
        self.transition(State::Backup { master_down_at }, reason, out);
    }

    /// 6.4.2 (365)-(410): the Master_Down_Timer fired.
    pub(super) fn master_down(&mut self, now: Instant, out: &mut Vec<Action>) {
        // A sync-group member that yielded to the peer host holds back until the peer had time to take
        // every VRID (see `SyncGroup`): checked here, when the timer fires, because an advert may have
        // re-armed the timer for earlier meanwhile.
        // The same for the startup delay (`Config::startup_delay`).
        let hold = self.sync_hold_until.max(self.startup_hold_until);
        if now < hold {
            self.state = State::Backup {
                master_down_at: hold,
            };
            return;
        }
        self.become_master(now, self.master_down_reason, out);
    }

    /// 6.4.2 (420)-(470): an advert that passed the receive checks, while backup.
    pub(super) fn backup_receives(
        &mut self,
        now: Instant,
        source: IpAddr,
        repr: &Repr,
        out: &mut Vec<Action>,
    ) {
        // (425)-(430): the master resigns: Master_Down_Timer = Skew_Time.
        if repr.priority == 0 {
            self.known_master = None;
            if let State::Backup { .. } = self.state {
                let master_down_at = now + self.skew_time();
                self.state = State::Backup { master_down_at };
                self.master_down_reason = Reason::MasterResigned { by: source };
            }
            // A sync-group member already awaiting the group stays ready: its timer has fired.
            return;
        }
        let ours = self.effective_priority();
        // (445): follow the sender if we do not preempt (yet), or it is at least as good as we are.
        if !self.preempts(now) || repr.priority >= ours {
            // (450) learn Master_Adver_Interval, (455) recompute Master_Down_Interval,
            // (460) reset the Master_Down_Timer.
            self.master_adver_interval = repr.max_adver_int;
            self.known_master = Some(KnownMaster {
                address: source,
                priority: repr.priority,
            });
            let master_down_at = now + self.master_down_interval();
            // A sync-group member that was awaiting the group follows a master again (both are Backup).
            self.state = State::Backup { master_down_at };
            self.master_down_reason = Reason::MasterDown;
            return;
        }
        // keepvip fast handover: the master we follow fell below us (its earlier adverts were at or
        // above our priority, or we followed it during preempt delay). Treat it like priority 0, so the
        // best backup takes over after its Skew_Time, within one advert interval, instead of waiting out
        // a whole Master_Down_Interval. `min` so repeated adverts never push the takeover later.
        let following = self.known_master.is_some_and(|m| m.address == source);
        if self.config.fast_handover
            && following
            && let State::Backup { master_down_at } = self.state
        {
            let fast = now + self.skew_time();
            if fast < master_down_at {
                self.state = State::Backup {
                    master_down_at: fast,
                };
                self.master_down_reason = Reason::MasterPriorityLower {
                    master: source,
                    priority: repr.priority,
                };
            }
            return;
        }
        // (465)-(470): discard. When the timer then fires we take over from that lower master, unless
        // a resignation or fast handover already explains it.
        if self.master_down_reason == Reason::MasterDown {
            self.master_down_reason = Reason::Preempting {
                over: source,
                priority: repr.priority,
            };
        }
        out.push(Action::Discard(Discard::LowerPriority));
    }

    /// Preempt_Mode as it applies now: an owner always preempts; otherwise preempt must be on and the
    /// keepalived preempt_delay window (from startup or leaving FAULT) over.
    fn preempts(&self, now: Instant) -> bool {
        self.config.is_owner() || (self.config.preempt && now >= self.preempt_allowed_at)
    }
}
