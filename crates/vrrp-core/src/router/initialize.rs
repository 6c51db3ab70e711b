//! RFC 5798 §6.4.1 Initialize: the Startup event.

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
        // keepalived vrrp_startup_delay: no mastership, the owner's included, until it is over.
        // A router replacing another on reload keeps the hold it inherited, if longer.
        self.startup_hold_until = self.startup_hold_until.max(now + self.config.startup_delay);
        if let Some(cause) = self.fault_cause() {
            self.transition(State::Fault, Reason::Fault(cause), out);
            return;
        }
        // 6.4.1 (105): the address owner becomes master at once...
        if self.config.is_owner() && now >= self.startup_hold_until {
            self.become_master(now, Reason::Startup, out);
        } else {
            // 6.4.1 (150)-(165)
            self.enter_backup(now, Reason::Startup, out);
        }
    }
}
