//! The snapshot the checks look at, rebuilt after every event.

use vrrp_core::StateKind;

use super::Sim;
use crate::check::{Invariant, RouterView};
use crate::trace;

impl Sim {
    /// Builds the snapshot and runs every check that applies now.
    pub(super) fn check(&mut self) {
        if self.violation.is_some() {
            return;
        }
        let mut views = std::mem::take(&mut self.views);
        views.clear();
        let settle = self.checker.settle();
        let mut wrong_priority = None;
        for (id, host) in self.hosts.iter().enumerate() {
            for (slot_id, slot) in host.slots.iter().enumerate() {
                let Some(router) = host.router(slot_id) else {
                    continue;
                };
                let priority = router.effective_priority();
                if priority != slot.modeled_priority() && wrong_priority.is_none() {
                    wrong_priority = Some(format!(
                        "{} reports effective priority {priority}, the model says {}",
                        trace::router(id, slot.config.vrid),
                        slot.modeled_priority()
                    ));
                }
                views.push(RouterView {
                    host: id,
                    vrid: slot.config.vrid,
                    side: self.net.side(id),
                    address: slot.config.primary_address,
                    state: if host.running() {
                        router.state().kind()
                    } else {
                        StateKind::Initialize
                    },
                    priority,
                    preempting: slot
                        .preempt_from
                        .is_some_and(|from| self.now >= from + settle),
                    sync_group: host.sync_group,
                    vips: host.holding(slot_id),
                });
            }
        }
        views.sort_by_key(|v| (v.vrid, v.side, v.host));
        let mut masters = 0;
        let mut previous = None;
        for view in views.iter().filter(|v| v.state == StateKind::Master) {
            masters = if previous == Some(view.vrid) {
                masters + 1
            } else {
                1
            };
            previous = Some(view.vrid);
            self.stats.max_masters = self.stats.max_masters.max(masters);
        }
        let result = self.checker.check(self.now, &views);
        self.views = views;
        if let Some(detail) = wrong_priority {
            self.fail(Invariant::EffectivePriority, detail);
        }
        if let Err(violation) = result {
            self.fail_with(violation);
        }
        self.check_takeover_deadlines();
    }
}
