//! FAULT (keepalived semantics, not in the RFC) and the reactions to tracker, priority, link and source
//! address changes.

use std::net::IpAddr;

use crate::input::{Action, FaultCause, Reason};
use crate::time::Instant;

use super::{Router, State};

impl Router {
    /// Tracker, base priority, link, source address or sync-group fault state changed; `before` is the effective priority
    /// before the change.
    pub(super) fn on_health_changed(&mut self, now: Instant, before: u8, out: &mut Vec<Action>) {
        match (self.state, self.fault_cause()) {
            // Recorded; applied at startup.
            (State::Initialize, _) => {}
            (State::Fault, Some(_)) => {}
            (State::Fault, None) => {
                // Leaving FAULT goes to Backup; the preempt-delay window starts again.
                self.preempt_allowed_at = now + self.config.preempt_delay;
                self.enter_backup(now, Reason::FaultCleared, out);
            }
            (_, Some(cause)) => self.enter_fault(cause, out),
            (State::Master { .. }, None) => {
                // The RFC does not say; keepvip advertises a changed priority at once (keepalived waits for
                // the next interval) so backups react, with fast handover, within Skew_Time.
                if self.config.advertise_on_priority_change && self.effective_priority() != before {
                    self.advertise_now(now, out);
                }
            }
            // A backup's new priority takes effect in the next Master_Down_Interval it computes.
            (State::Backup { .. } | State::BackupAwaitingGroup, None) => {}
        }
    }

    /// A master resigns with one priority-0 advert (unless it cannot send: `FaultCause::can_resign`)
    /// and drops its VIPs, so the backups take over while no host holds them twice; a backup just stops.
    /// In FAULT nothing is sent.
    fn enter_fault(&mut self, cause: FaultCause, out: &mut Vec<Action>) {
        if let State::Master { .. } = self.state {
            if cause.can_resign() {
                self.send_advert(0, out);
            }
            out.push(Action::RemoveVips(self.config.vip_set()));
        }
        self.known_master = None;
        self.transition(State::Fault, Reason::Fault(cause), out);
    }

    /// The interface was renumbered: adverts leave from `address` from now on, and it is the address
    /// compared in ties (RFC 5798 §6.4.3 (735)). A master stays master; the backups see the new source
    /// in its next advert. The other family is not a renumbering and is ignored.
    /// Returns whether the address was taken.
    pub(super) fn change_source(&mut self, address: IpAddr) -> bool {
        if address.is_ipv4() != self.config.primary_address.is_ipv4() {
            return false;
        }
        self.config.primary_address = address;
        if let (State::Master { .. }, Some(known)) = (self.state, self.known_master.as_mut()) {
            known.address = address;
        }
        true
    }

    /// Sync group: a sibling is (or is no longer) in FAULT.
    pub(crate) fn set_group_fault(&mut self, now: Instant, on: bool, out: &mut Vec<Action>) {
        if self.group_fault != on {
            let before = self.effective_priority();
            self.group_fault = on;
            self.on_health_changed(now, before, out);
        }
    }
}
