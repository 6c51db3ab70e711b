//! Reload: notify scripts follow the new config. An instance or group whose scripts changed gets a
//! new queue and worker (the old worker finishes what it has queued, then ends); one removed keeps
//! its queue until its STOP notification is queued, then the queue goes; the FIFO is reopened when
//! its path changed. A new notify timeout or script user restarts every worker.

use std::collections::HashMap;

use tokio::sync::mpsc;

use super::{FifoWriter, Notifier, Runner, Subject, has_scripts, work};
use crate::config::{Config, Notify};
use crate::exec::RunAs;

impl Notifier {
    /// Follows `new` (the running config was `old`); `run_as`: the resolved `[global] script_user`.
    pub fn reload(&mut self, old: &Config, new: &Config, run_as: Option<RunAs>) {
        let runner = Runner {
            timeout: new.global.notify_timeout,
            run_as,
            runs: self.runs.clone(),
        };
        let every_worker = old.global.notify_timeout != new.global.notify_timeout
            || old.global.script_user != new.global.script_user;
        let (before, after) = (scripts_of(old), scripts_of(new));
        self.queues.retain(|key, _| after.contains_key(key));
        for (key, notify) in after {
            let unchanged = before.get(&key) == Some(&notify);
            if unchanged && !every_worker && self.queues.contains_key(&key) {
                continue;
            }
            let (queue, inbox) = mpsc::unbounded_channel();
            self.workers.spawn(work(notify, runner.clone(), inbox));
            self.queues.insert(key, queue);
        }
        if old.global.notify_fifo != new.global.notify_fifo {
            self.fifo = new.global.notify_fifo.clone().map(FifoWriter::spawn);
        }
    }
}

/// The notify scripts of every instance and group that has some.
fn scripts_of(config: &Config) -> HashMap<(Subject, String), Notify> {
    let instances = config
        .instances
        .iter()
        .map(|i| ((Subject::Instance, i.name.clone()), &i.notify));
    let groups = config
        .sync_groups
        .iter()
        .map(|g| ((Subject::Group, g.name.clone()), &g.notify));
    instances
        .chain(groups)
        .filter(|(_, notify)| has_scripts(notify))
        .map(|(key, notify)| (key, notify.clone()))
        .collect()
}
