//! Notify scripts and the notify FIFO, keepalived's way of telling the rest of the host about
//! transitions: `notify_master` / `notify_backup` / `notify_fault` / `notify_stop` with their own
//! arguments, the generic `notify` with `INSTANCE NAME STATE PRIORITY` appended, and one FIFO line per
//! transition.
//!
//! The promise (keepalived runs them concurrently and out of order, its issue #996): per instance,
//! notifications run in transition order and never two at once; one that hangs past `notify_timeout`
//! is killed with its process group and logged; nothing here ever delays the protocol loop, which
//! only queues.

mod fifo;
mod reload;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::warn;

use crate::config::{CommandLine, Config, Notify};
use crate::exec::{self, RunAs};

pub use fifo::{FifoWriter, fifo_line, instance_line};

/// Whose transition: keepalived's first notify argument and FIFO word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Instance,
    Group,
}

impl Subject {
    pub fn word(self) -> &'static str {
        match self {
            Subject::Instance => "INSTANCE",
            Subject::Group => "GROUP",
        }
    }
}

/// One transition, as notify scripts see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub subject: Subject,
    /// The instance's or the sync group's name.
    pub instance: String,
    /// MASTER, BACKUP, FAULT or STOP (keepalived's names).
    pub state: &'static str,
    /// INIT, BACKUP, MASTER or FAULT.
    pub from: &'static str,
    /// The effective priority (0 for a group, as keepalived says).
    pub priority: u8,
    /// Why (`vrrp_core::Reason::label`).
    pub reason: &'static str,
    pub interface: String,
    pub vrid: u8,
    /// The advertised VIPs, `address/prefix`.
    pub vips: Vec<String>,
}

/// What one instance's queue runs for a transition.
struct Job {
    transition: Transition,
}

/// The notify side of the daemon: a queue and a worker per instance with scripts, and the FIFO.
pub struct Notifier {
    queues: HashMap<(Subject, String), mpsc::UnboundedSender<Job>>,
    fifo: Option<FifoWriter>,
    workers: JoinSet<()>,
    runs: RunCounts,
}

/// Script runs per (subject, name), written by the workers, read for metrics.
type RunCounts = Arc<Mutex<HashMap<(Subject, String), ScriptRuns>>>;

/// How many notify scripts ran for one instance, and how many of them failed (a non-zero exit, a
/// signal, a timeout or a script that could not start).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScriptRuns {
    pub runs: u64,
    pub failures: u64,
}

/// How a worker runs scripts.
#[derive(Clone)]
struct Runner {
    timeout: Duration,
    run_as: Option<RunAs>,
    runs: RunCounts,
}

impl Notifier {
    /// Starts a worker for every instance that has a notify script, and the FIFO writer if one is
    /// configured. `run_as`: the resolved `[global] script_user`.
    pub fn start(config: &Config, run_as: Option<RunAs>) -> Notifier {
        let runs = RunCounts::default();
        let runner = Runner {
            timeout: config.global.notify_timeout,
            run_as,
            runs: runs.clone(),
        };
        let mut queues = HashMap::new();
        let mut workers = JoinSet::new();
        let instances = config
            .instances
            .iter()
            .map(|i| (Subject::Instance, &i.name, &i.notify));
        let groups = config
            .sync_groups
            .iter()
            .map(|g| (Subject::Group, &g.name, &g.notify));
        for (subject, name, notify) in instances.chain(groups) {
            if !has_scripts(notify) {
                continue;
            }
            let (queue, inbox) = mpsc::unbounded_channel();
            workers.spawn(work(notify.clone(), runner.clone(), inbox));
            queues.insert((subject, name.clone()), queue);
        }
        let fifo = config.global.notify_fifo.clone().map(FifoWriter::spawn);
        Notifier {
            queues,
            fifo,
            workers,
            runs,
        }
    }

    /// The notify script runs of one instance so far.
    pub fn runs(&self, instance: &str) -> ScriptRuns {
        let runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        runs.get(&(Subject::Instance, instance.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    /// Queues the notifications of one transition; returns at once.
    pub fn transition(&self, transition: Transition) {
        if let Some(fifo) = &self.fifo {
            fifo.send(fifo_line(
                transition.subject,
                &transition.instance,
                transition.state,
                transition.priority,
            ));
        }
        let key = (transition.subject, transition.instance.clone());
        if let Some(queue) = self.queues.get(&key) {
            let _ = queue.send(Job { transition });
        }
    }

    /// For shutdown: lets the queued notifications (the STOP ones last) finish, within `limit`.
    pub async fn finish(mut self, limit: Duration) {
        self.queues.clear();
        let drained = async { while self.workers.join_next().await.is_some() {} };
        if tokio::time::timeout(limit, drained).await.is_err() {
            warn!("notify scripts still running at shutdown were abandoned");
        }
    }
}

fn has_scripts(notify: &Notify) -> bool {
    [
        &notify.master,
        &notify.backup,
        &notify.fault,
        &notify.stop,
        &notify.any,
    ]
    .iter()
    .any(|script| script.is_some())
}

/// One instance's worker: its transitions, one at a time, in order.
async fn work(notify: Notify, runner: Runner, mut inbox: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = inbox.recv().await {
        let t = &job.transition;
        let per_state = match t.state {
            "MASTER" => notify.master.as_ref(),
            "BACKUP" => notify.backup.as_ref(),
            "FAULT" => notify.fault.as_ref(),
            "STOP" => notify.stop.as_ref(),
            _ => None,
        };
        if let Some(script) = per_state {
            runner.run(script, &[], t).await;
        }
        if let Some(script) = &notify.any {
            // keepalived's four arguments: INSTANCE|GROUP NAME STATE PRIORITY.
            let extra = [
                t.subject.word().to_owned(),
                t.instance.clone(),
                t.state.to_owned(),
                t.priority.to_string(),
            ];
            runner.run(script, &extra, t).await;
        }
    }
}

impl Runner {
    async fn run(&self, script: &CommandLine, extra: &[String], t: &Transition) {
        let command = exec::Command {
            argv: command_words(script, extra),
            shell: script.shell,
            run_as: self.run_as,
            env: environment(t),
            timeout: self.timeout,
        };
        let finished = exec::run(&command).await;
        self.count(t, finished.outcome.is_success());
        crate::logging::events::notify_run(&crate::logging::events::NotifyRun {
            subject: t.subject.word(),
            instance: &t.instance,
            state: t.state,
            script: script.words.first().map_or("", String::as_str),
            command: &command,
            finished: &finished,
        });
    }
}

impl Runner {
    fn count(&self, t: &Transition, success: bool) {
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = runs.entry((t.subject, t.instance.clone())).or_default();
        entry.runs += 1;
        entry.failures += u64::from(!success);
    }
}

/// The command's words with `extra` appended (for a shell script, appended to its text, quoted).
fn command_words(script: &CommandLine, extra: &[String]) -> Vec<String> {
    if script.shell {
        let mut text = script.words.join(" ");
        for word in extra {
            text.push(' ');
            text.push_str(&shell_words::quote(word));
        }
        vec![text]
    } else {
        script.words.iter().chain(extra).cloned().collect()
    }
}

/// What a notify script finds in its environment besides the minimal one.
fn environment(t: &Transition) -> Vec<(String, String)> {
    [
        ("KEEPVIP_SUBJECT", t.subject.word().to_owned()),
        ("KEEPVIP_INSTANCE", t.instance.clone()),
        ("KEEPVIP_STATE", t.state.to_owned()),
        ("KEEPVIP_FROM_STATE", t.from.to_owned()),
        ("KEEPVIP_PRIORITY", t.priority.to_string()),
        ("KEEPVIP_REASON", t.reason.to_owned()),
        ("KEEPVIP_INTERFACE", t.interface.clone()),
        ("KEEPVIP_VRID", t.vrid.to_string()),
        ("KEEPVIP_VIPS", t.vips.join(" ")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transition(n: usize) -> Transition {
        let states = ["MASTER", "BACKUP", "FAULT"];
        Transition {
            subject: Subject::Instance,
            instance: "VI_1".into(),
            state: states[n % 3],
            from: states[(n + 2) % 3],
            priority: u8::try_from(100 + n).unwrap(),
            reason: "test",
            interface: "eth0".into(),
            vrid: 51,
            vips: vec!["192.0.2.10/24".into()],
        }
    }

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("keepvip-notify-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn notify_config(script: &str, timeout: Duration) -> Config {
        let text = format!(
            "[global]\nnotify_timeout = \"{}ms\"\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\nvips = [\"192.0.2.10/24\"]\nnotify = {script:?}\nnotify_master = \"{script} per-state-master\"\n",
            timeout.as_millis()
        );
        crate::config::parse_str(&text, "t.toml").unwrap()
    }

    #[test]
    fn twenty_rapid_transitions_run_in_order_one_at_a_time_with_their_arguments() {
        let dir = temp_dir("order");
        let log = dir.join("log");
        let script = dir.join("notify.sh");
        // Each run checks nobody else is inside, sleeps a little, and logs its arguments and state.
        let body = format!(
            "#!/bin/sh\nif ! mkdir {lock} 2>/dev/null; then echo OVERLAP >> {log}; fi\nsleep 0.0$(( $$ % 5 ))\necho \"$* $KEEPVIP_STATE\" >> {log}\nrmdir {lock}\n",
            lock = dir.join("lock").display(),
            log = log.display()
        );
        std::fs::write(&script, body).unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let config = notify_config(&script.display().to_string(), Duration::from_secs(5));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let notifier = Notifier::start(&config, None);
            for n in 0..20 {
                notifier.transition(transition(n));
            }
            notifier.finish(Duration::from_secs(30)).await;
        });
        let lines: Vec<String> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        let mut expected = Vec::new();
        for n in 0..20 {
            let t = transition(n);
            if t.state == "MASTER" {
                expected.push("per-state-master MASTER".to_owned());
            }
            expected.push(format!(
                "INSTANCE VI_1 {} {} {}",
                t.state, t.priority, t.state
            ));
        }
        assert_eq!(lines, expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_hanging_notify_script_is_killed_at_its_timeout_and_the_next_one_runs() {
        let dir = temp_dir("hang");
        let log = dir.join("log");
        let script = dir.join("notify.sh");
        let body = format!(
            "#!/bin/sh\necho \"start $3\" >> {log}\n[ \"$3\" = MASTER ] && sleep 60\necho \"end $3\" >> {log}\n",
            log = log.display()
        );
        std::fs::write(&script, body).unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut config = notify_config(&script.display().to_string(), Duration::from_millis(300));
        config.instances[0].notify.master = None;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        rt.block_on(async {
            let notifier = Notifier::start(&config, None);
            notifier.transition(transition(0));
            notifier.transition(transition(1));
            notifier.finish(Duration::from_secs(10)).await;
        });
        let elapsed = started.elapsed();
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(text, "start MASTER\nstart BACKUP\nend BACKUP\n");
        assert!(
            elapsed < Duration::from_secs(5),
            "killed at the timeout, not after 60 s: {elapsed:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
