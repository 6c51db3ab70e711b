//! What the node counts per instance and before dispatch: the numbers `keepvip status` and metrics
//! read. Labels are the stable ones of `vrrp_wire::WireError::reason` and [`crate::Discard::label`].

use std::collections::BTreeMap;

use crate::input::{Action, Reason, Report, StateKind};
use crate::time::Instant;

/// Per instance, since it was added to the node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams dispatched to this instance (valid on the wire and for its VRID), accepted or not.
    pub adverts_received: u64,
    /// Adverts the instance asked to send (the shell counts what the socket refused).
    pub adverts_emitted: u64,
    /// State changes.
    pub transitions: u64,
    /// Datagrams aimed at this instance (its link, family and VRID) that were dropped, by reason.
    pub discards: BTreeMap<&'static str, u64>,
    /// Split-brain episodes: another master heard for a few intervals while master
    /// (`Report::SplitBrain`).
    pub split_brain_episodes: u64,
    /// The latest state change, when it happened.
    pub last_transition: Option<Transition>,
}

/// One state change as [`Action::StateChanged`] reported it, at the `now` of the call that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: StateKind,
    pub to: StateKind,
    pub reason: Reason,
    pub at: Instant,
}

impl Counters {
    pub(crate) fn discard(&mut self, label: &'static str) {
        *self.discards.entry(label).or_default() += 1;
    }

    /// Counts what one action, decided at `now`, says about the instance.
    pub(crate) fn count(&mut self, now: Instant, action: &Action) {
        match action {
            Action::SendAdvert(_) | Action::SendAdvertTo { .. } => self.adverts_emitted += 1,
            Action::StateChanged {
                from, to, reason, ..
            } => {
                self.transitions += 1;
                self.last_transition = Some(Transition {
                    from: *from,
                    to: *to,
                    reason: *reason,
                    at: now,
                });
            }
            Action::Discard(discard) => self.discard(discard.label()),
            Action::Report(Report::SplitBrain(_)) => self.split_brain_episodes += 1,
            Action::AddVips(_)
            | Action::RemoveVips(_)
            | Action::AnnounceVips(_)
            | Action::Report(_) => {}
        }
    }
}
