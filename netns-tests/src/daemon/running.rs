//! A `keepvip run` process in a lab host: started with a config file and its own control socket,
//! queried with `keepvip status --json`, signalled, and its JSON log read back. When a test panics, the
//! log of every daemon still in scope is printed (the lab keeps the files too).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use keepvip::control::{InstanceStatus, Status};
use serde_json::Value;

use super::keepvip_bin;
use crate::error::{HarnessError, Result};
use crate::lab::Lab;
use crate::process::Proc;
use crate::wait::wait_for_value;

/// How long a daemon may take to answer on its control socket (IPv6 startup waits out DAD, ~2 s).
const START_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(10);

/// One state change, from the daemon's `transition` log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub instance: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub priority: u64,
}

/// Where a daemon's config and control socket go, and what starts it.
pub struct Launch {
    pub dir: PathBuf,
    /// Words before the keepvip binary.
    pub prefix: Vec<String>,
}

/// A running (or exited) `keepvip run`.
pub struct Keepvip {
    proc: Proc,
    label: String,
    socket: PathBuf,
}

impl Keepvip {
    /// Write `<label>.toml` into the lab directory and start `keepvip -c FILE --control-socket
    /// <label>.sock --log-format json run` in host `index`'s namespace; returns once the control socket
    /// answers (bounded), or with an error quoting the daemon's stderr.
    pub fn start(lab: &Lab, index: usize, label: &str, config: &str) -> Result<Self> {
        let launch = Launch {
            dir: lab.dir().to_path_buf(),
            prefix: Vec::new(),
        };
        Self::start_with(lab, index, label, config, &launch)
    }

    /// As [`Keepvip::start`], with the config and socket in `launch.dir` and the daemon started
    /// through `launch.prefix` (say `setpriv --reuid=...`).
    pub fn start_with(
        lab: &Lab,
        index: usize,
        label: &str,
        config: &str,
        launch: &Launch,
    ) -> Result<Self> {
        let daemon = Self::spawn_with(lab, index, label, config, launch)?;
        daemon.wait_answering()?;
        Ok(daemon)
    }

    /// As [`Keepvip::start`] without waiting for the control socket: several daemons started at the
    /// same instant. Call [`Keepvip::wait_answering`] on each afterwards.
    pub fn spawn(lab: &Lab, index: usize, label: &str, config: &str) -> Result<Self> {
        let launch = Launch {
            dir: lab.dir().to_path_buf(),
            prefix: Vec::new(),
        };
        Self::spawn_with(lab, index, label, config, &launch)
    }

    fn spawn_with(
        lab: &Lab,
        index: usize,
        label: &str,
        config: &str,
        launch: &Launch,
    ) -> Result<Self> {
        let config_path = launch.dir.join(format!("{label}.toml"));
        std::fs::write(&config_path, config)
            .map_err(|err| HarnessError::new(format!("write {}: {err}", config_path.display())))?;
        let socket = launch.dir.join(format!("{label}.sock"));
        let bin = keepvip_bin();
        let mut argv = launch.prefix.clone();
        argv.extend([
            bin.to_string_lossy().into_owned(),
            "-c".into(),
            config_path.to_string_lossy().into_owned(),
            "--control-socket".into(),
            socket.to_string_lossy().into_owned(),
            "--log-format".into(),
            "json".into(),
            "run".into(),
        ]);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        Ok(Self {
            proc: lab.spawn_on(index, label, &argv)?,
            label: label.to_owned(),
            socket,
        })
    }

    /// Wait (bounded) until the control socket answers; an error quoting the log if the daemon exits.
    pub fn wait_answering(&self) -> Result<()> {
        wait_for_value(
            &format!("{} to answer on its control socket", self.label),
            START_TIMEOUT,
            POLL,
            || {
                if let Some(status) = self.proc.try_status()? {
                    return Err(HarnessError::new(format!(
                        "{} exited ({status}) during startup:\n{}",
                        self.label,
                        self.logs()
                    )));
                }
                Ok(self.status().ok())
            },
        )
        .map(|_| ())
        .map_err(|err| err.context(format!("log of {}:\n{}", self.label, self.logs())))
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn proc(&self) -> &Proc {
        &self.proc
    }

    pub fn control_socket(&self) -> &Path {
        &self.socket
    }

    /// `keepvip --control-socket SOCK status --json`, parsed. (A unix socket query: no network.)
    pub fn status(&self) -> Result<Status> {
        let output = Command::new(keepvip_bin())
            .arg("--control-socket")
            .arg(&self.socket)
            .args(["status", "--json"])
            .stdin(Stdio::null())
            .output()
            .map_err(|err| HarnessError::new(format!("run keepvip status: {err}")))?;
        if !output.status.success() {
            return Err(HarnessError::new(format!(
                "keepvip status for {} exited {}: {}",
                self.label,
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        serde_json::from_slice(&output.stdout).map_err(|err| {
            HarnessError::new(format!(
                "keepvip status --json for {}: {err}: {}",
                self.label,
                String::from_utf8_lossy(&output.stdout)
            ))
        })
    }

    /// `keepvip --control-socket SOCK status`: the text an operator reads.
    pub fn status_text(&self) -> Result<String> {
        let output = Command::new(keepvip_bin())
            .arg("--control-socket")
            .arg(&self.socket)
            .arg("status")
            .stdin(Stdio::null())
            .output()
            .map_err(|err| HarnessError::new(format!("run keepvip status: {err}")))?;
        if !output.status.success() {
            return Err(HarnessError::new(format!(
                "keepvip status for {} exited {}",
                self.label, output.status
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The status of the instance called `name`.
    pub fn instance(&self, name: &str) -> Result<InstanceStatus> {
        self.status()?
            .instances
            .into_iter()
            .find(|instance| instance.name == name)
            .ok_or_else(|| HarnessError::new(format!("{}: no instance {name}", self.label)))
    }

    /// Poll until instance `name` is in `state` (MASTER, BACKUP, FAULT, INIT); the time it took.
    pub fn wait_state(&self, name: &str, state: &str, timeout: Duration) -> Result<Duration> {
        wait_for_value(
            &format!("{} {name} to be {state}", self.label),
            timeout,
            POLL,
            || Ok((self.instance(name)?.state == state).then_some(())),
        )
        .map(|(_, took)| took)
        .map_err(|err| err.context(self.describe()))
    }

    /// Everything the daemon logged so far (stderr, one JSON object per line).
    pub fn logs(&self) -> String {
        self.proc.stderr()
    }

    /// The `transition` lines of the log, in order.
    pub fn transitions(&self) -> Vec<Transition> {
        transitions_in(&self.logs())
    }

    /// SIGKILL (no resignation, VIPs stay on the interface) and reap.
    pub fn kill(&self) -> Result<ExitStatus> {
        self.proc.kill_and_wait()
    }

    /// SIGTERM: the daemon resigns and exits on its own; see `wait_exit`.
    pub fn terminate(&self) -> Result<()> {
        self.proc.terminate()
    }

    pub fn wait_exit(&self, timeout: Duration) -> Result<ExitStatus> {
        self.proc.wait(timeout)
    }

    /// The label, the last status (or why there is none) and the log, for assertion messages.
    pub fn describe(&self) -> String {
        let status = match self.status() {
            Ok(status) => format!("{status:?}"),
            Err(err) => format!("no status: {err}"),
        };
        format!(
            "--- {} status: {status}\n--- {} log:\n{}",
            self.label,
            self.label,
            self.logs()
        )
    }
}

impl Drop for Keepvip {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- {} log ({}):\n{}",
                self.label,
                self.proc.stderr_path().display(),
                self.logs()
            );
        }
    }
}

/// The `transition` lines of a daemon's JSON log text, in order.
pub fn transitions_in(log: &str) -> Vec<Transition> {
    log.lines().filter_map(parse_transition).collect()
}

fn parse_transition(line: &str) -> Option<Transition> {
    let value: Value = serde_json::from_str(line).ok()?;
    if value.get("message")?.as_str()? != "transition" {
        return None;
    }
    let text = |key: &str| Some(value.get(key)?.as_str()?.to_owned());
    Some(Transition {
        instance: text("instance")?,
        from: text("from")?,
        to: text("to")?,
        reason: text("reason")?,
        priority: value.get("priority")?.as_u64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_json_transition_line() {
        let line = r#"{"timestamp":"2026-01-01T00:00:00Z","level":"INFO","message":"transition","instance":"VI_1","from":"BACKUP","to":"MASTER","reason":"master_down","priority":100,"accept":true}"#;
        assert_eq!(
            parse_transition(line),
            Some(Transition {
                instance: "VI_1".into(),
                from: "BACKUP".into(),
                to: "MASTER".into(),
                reason: "master_down".into(),
                priority: 100,
            })
        );
        assert_eq!(parse_transition(r#"{"message":"keepvip running"}"#), None);
    }
}
