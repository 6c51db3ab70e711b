//! RFC 5798 §6.4.1 Initialize, and the Shutdown event of §6.4.2 / §6.4.3.

use crate::input::{Action, Reason};
use crate::time::Instant;

use super::{Router, State};

impl Router {
    /// Startup event in Initialize (ignored in any other state).
    pub(super) fn on_startup(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.state != State::Initialize {
            return;
        }
        // keepalived preempt_delay: the window starts at startup.
        self.preempt_allowed_at = now + self.config.preempt_delay;
        if let Some(cause) = self.fault_cause() {
            self.transition(State::Fault, Reason::Fault(cause), out);
            return;
        }
        // 6.4.1 (105): the address owner becomes master at once...
        if self.config.is_owner() {
            self.become_master(now, Reason::Startup, out);
        } else {
            // 6.4.1 (150)-(165)
            self.enter_backup(now, Reason::Startup, out);
        }
    }

    /// Shutdown event: 6.4.2 (345)-(355) in Backup, 6.4.3 (655)-(670) in Master.
    pub(super) fn on_shutdown(&mut self, out: &mut Vec<Action>) {
        match self.state {
            State::Initialize => return,
            State::Master { .. } => {
                // 6.4.3 (660) cancel Adver_Timer (by leaving the state), (665) advert with priority 0.
                out.push(Action::SendAdvert(self.advert(0)));
                out.push(Action::RemoveVips(self.config.vip_set()));
            }
            // 6.4.2 (350): cancel the Master_Down_Timer (by leaving the state); a backup sends nothing.
            State::Backup { .. } | State::BackupAwaitingGroup | State::Fault => {}
        }
        self.known_master = None;
        // 6.4.2 (355) / 6.4.3 (670): transition to Initialize.
        self.transition(State::Initialize, Reason::Shutdown, out);
    }

    /// Enters Backup with a fresh Master_Down_Timer: 6.4.1 (155)-(165), also used when FAULT clears.
    pub(super) fn enter_backup(&mut self, now: Instant, reason: Reason, out: &mut Vec<Action>) {
        // 6.4.1 (155): Master_Adver_Interval = Advertisement_Interval.
        self.master_adver_interval = self.config.advert_interval;
        self.known_master = None;
        // 6.4.1 (160): Master_Down_Timer = Master_Down_Interval; (165) -> Backup.
        let master_down_at = now + self.master_down_interval();
        self.transition(State::Backup { master_down_at }, reason, out);
    }
}
