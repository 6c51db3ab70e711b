//! Notify scripts (`notify`, `notify_master`, `notify_backup`, `notify_fault`, `notify_stop`) and the
//! `[global]` keys for scripts: `notify_fifo`, `notify_timeout`, `script_user` / `script_group`,
//! `allow_insecure_scripts`.

use std::path::PathBuf;
use std::time::Duration;

use super::track::{command, script_user};
use super::values::millis_in;
use crate::config::diagnostic::Sink;
use toml::Spanned;

use crate::config::raw::{RawCommand, RawGlobal, RawInstance, RawSyncGroup};
use crate::config::types::{Global, Notify, ScriptUser};

/// The `[global]` script keys; each `None` where the value was bad (and reported).
pub(crate) struct ScriptKeys {
    pub notify_fifo: Option<Option<PathBuf>>,
    pub notify_timeout: Option<Duration>,
    pub script_user: Option<Option<ScriptUser>>,
    pub allow_insecure_scripts: bool,
}

pub(crate) fn global_script_keys(
    sink: &mut Sink<'_>,
    raw: &RawGlobal,
    defaults: &Global,
) -> ScriptKeys {
    let notify_fifo = match &raw.notify_fifo {
        None => Some(defaults.notify_fifo.clone()),
        Some(p) if p.get_ref().starts_with('/') => Some(Some(PathBuf::from(p.get_ref()))),
        Some(p) => {
            sink.expected(
                "notify_fifo",
                &p.span(),
                "an absolute path such as \"/run/keepvip/notify.fifo\"",
            );
            None
        }
    };
    let notify_timeout = match &raw.notify_timeout {
        None => Some(defaults.notify_timeout),
        Some(v) => millis_in(sink, "notify_timeout", v, 10, 3_600_000).map(Duration::from_millis),
    };
    ScriptKeys {
        notify_fifo,
        notify_timeout,
        script_user: script_user(
            sink,
            ("script_user", &raw.script_user),
            ("script_group", &raw.script_group),
        ),
        allow_insecure_scripts: raw
            .allow_insecure_scripts
            .as_ref()
            .is_some_and(|v| *v.get_ref()),
    }
}

/// The instance's notify scripts; `None` if any is malformed.
pub(crate) fn instance_notify(sink: &mut Sink<'_>, raw: &RawInstance) -> Option<Notify> {
    let keys = [
        &raw.notify_master,
        &raw.notify_backup,
        &raw.notify_fault,
        &raw.notify_stop,
        &raw.notify,
    ];
    notify_keys(sink, keys)
}

/// A sync group's notify scripts; `None` if any is malformed.
pub(crate) fn group_notify(sink: &mut Sink<'_>, raw: &RawSyncGroup) -> Option<Notify> {
    let keys = [
        &raw.notify_master,
        &raw.notify_backup,
        &raw.notify_fault,
        &raw.notify_stop,
        &raw.notify,
    ];
    notify_keys(sink, keys)
}

/// `notify_master`, `notify_backup`, `notify_fault`, `notify_stop` and `notify`, in that order.
fn notify_keys(sink: &mut Sink<'_>, keys: [&Option<Spanned<RawCommand>>; 5]) -> Option<Notify> {
    let [master, backup, fault, stop, any] = keys;
    let mut one = |key: &str, value: &Option<Spanned<RawCommand>>| match value {
        None => Some(None),
        Some(v) => command(sink, key, v, false).map(Some),
    };
    let master = one("notify_master", master);
    let backup = one("notify_backup", backup);
    let fault = one("notify_fault", fault);
    let stop = one("notify_stop", stop);
    let any = one("notify", any);
    Some(Notify {
        master: master?,
        backup: backup?,
        fault: fault?,
        stop: stop?,
        any: any?,
    })
}
