//! The Shutdown event of RFC 5798 §6.4.2 (Backup) and §6.4.3 (Master): back to Initialize.

use crate::input::{Action, Reason};

use super::{Router, State};

impl Router {
    /// Shutdown event: 6.4.2 (345)-(355) in Backup, 6.4.3 (655)-(670) in Master.
    pub(super) fn on_shutdown(&mut self, out: &mut Vec<Action>) {
        match self.state {
            State::Initialize => return,
            State::Master { .. } => {
                // 6.4.3 (660) cancel Adver_Timer (by leaving the state), (665) advert with priority 0.
                self.send_advert(0, out);
                out.push(Action::RemoveVips(self.config.vip_set()));
            }
            // 6.4.2 (350): cancel the Master_Down_Timer (by leaving the state); a backup sends nothing.
            State::Backup { .. } | State::BackupAwaitingGroup | State::Fault => {}
        }
        self.known_master = None;
        // 6.4.2 (355) / 6.4.3 (670): transition to Initialize.
        self.transition(State::Initialize, Reason::Shutdown, out);
    }
}
