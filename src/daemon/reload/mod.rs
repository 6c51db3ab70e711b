//! SIGHUP and `keepvip reload`: the config file `run` was started with is read again, checked like
//! `keepvip check` (and like startup: scripts audited, users resolved), compared with the config in
//! force (`plan`), and the difference applied (`apply`) without touching what did not change:
//! - an unchanged instance keeps its state and timers (no advert, no GARP, no notify);
//! - a changed one goes through the core's `reconfigure`: in place for VIPs, priority, trackers,
//!   preempt (a master swaps only the VIPs that changed and announces only the new ones), a restart
//!   for the rest (interval, version, authentication, unicast peers, accept);
//! - one whose identity changed (interface, VRID, family, vmac, unicast_source, sync group) and a
//!   removed one resign as at shutdown; new ones start as at startup (without `startup_delay`);
//! - trackers and notify scripts follow (`Registry::reload`, `Notifier::reload`).
//!
//! A config that does not load is refused with its `file:line:column` errors and nothing changes.

mod apply;
pub mod plan;

use tracing::{error, info, warn};

use super::privileges::Privileges;
use super::state::{Daemon, Inbox};
use super::tracker_setup;
use crate::config::{self, Config, LoadError};
use crate::control::ReloadOutcome;

/// A refusal: the running config stays.
pub fn refused(error: &str) -> ReloadOutcome {
    ReloadOutcome {
        applied: false,
        error: Some(error.to_owned()),
        ..ReloadOutcome::default()
    }
}

impl Daemon {
    /// Reloads the config file, telling systemd (RELOADING=1 ... READY=1); logs and returns what it did.
    pub async fn reload(&mut self, inbox: &mut Inbox) -> ReloadOutcome {
        self.service.reloading();
        let outcome = match self.load_new() {
            Ok((new, users)) => self.apply(new, users, inbox).await,
            Err(outcome) => outcome,
        };
        if outcome.applied {
            info!(changes = ?outcome.changes, needs_restart = ?outcome.needs_restart, "reload applied");
            for setting in &outcome.needs_restart {
                warn!(setting = %setting, "reload: needs a restart");
            }
        } else {
            error!(
                error = outcome.error.as_deref().unwrap_or(""),
                "reload refused: the running config stays"
            );
        }
        self.service.reloaded();
        outcome
    }

    /// The new config, checked as at startup; a refusal otherwise.
    fn load_new(&self) -> Result<(Config, tracker_setup::ScriptUsers), ReloadOutcome> {
        let path = &self.reload.path;
        let new = match config::load(path) {
            Ok(new) => new,
            Err(LoadError::Invalid(errors)) => {
                let n = errors.errors().count();
                let plural = if n == 1 { "" } else { "s" };
                let text = format!("{errors}\n{}: invalid ({n} error{plural})", path.display());
                return Err(refused(&text));
            }
            Err(unreadable) => return Err(refused(&unreadable.to_string())),
        };
        let users = Privileges::of_this_process()
            .and_then(|p| tracker_setup::prepare_scripts(&new, &p))
            .map_err(|e| refused(&format!("{}: {e}", path.display())))?;
        let needs_filter = new
            .instances
            .iter()
            .find(|i| !i.accept && i.priority != vrrp_core::OWNER_PRIORITY);
        if let Some(instance) = needs_filter
            && !self.reload.filter_active
        {
            return Err(refused(&format!(
                "{}: instance {}: accept = false needs the nf_tables table keepvip creates at \
                 startup, and this daemon started without it: restart keepvip to use it",
                path.display(),
                instance.name
            )));
        }
        Ok((new, users))
    }
}
