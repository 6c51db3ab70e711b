//! Processes started inside a namespace with `ip netns exec`: each the leader of its own process group,
//! so a kill reaches whatever it started too, and never signalled again once reaped.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// How long `kill_and_wait` waits for the group leader to be reaped.
const KILL_WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(10);

struct State {
    child: Child,
    /// Set once the leader has been reaped; after that its process group id is never signalled again
    /// (the id could be reused by an unrelated process).
    status: Option<ExitStatus>,
}

struct Inner {
    label: String,
    pgid: Pid,
    state: Mutex<State>,
}

/// A process running in a namespace. Clones are handles to the same process.
#[derive(Clone)]
pub struct Process {
    inner: Arc<Inner>,
}

impl Process {
    /// Start `argv` inside `namespace` as the leader of a new process group, stdin from /dev/null.
    /// `label` names it in errors. Prefer `Lab::spawn`, which also kills it on cleanup.
    pub fn spawn(
        namespace: &str,
        label: &str,
        argv: &[impl AsRef<OsStr>],
        stdout: Stdio,
        stderr: Stdio,
    ) -> Result<Self> {
        let Some((program, args)) = argv.split_first() else {
            return Err(Error::new(format!("spawn {label}: empty command")));
        };
        let child = Command::new("ip")
            .args(["netns", "exec", namespace])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            // Its own group: a kill reaches its children too, and the terminal's Ctrl-C reaches only
            // the program that owns the lab, which then cleans up.
            .process_group(0)
            .spawn()
            .map_err(|err| Error::new(format!("spawn {label} in {namespace}: {err}")))?;
        let pgid = i32::try_from(child.id())
            .map(Pid::from_raw)
            .map_err(|_| Error::new(format!("spawn {label}: pid {} out of range", child.id())))?;
        Ok(Self {
            inner: Arc::new(Inner {
                label: label.to_owned(),
                pgid,
                state: Mutex::new(State {
                    child,
                    status: None,
                }),
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave State inconsistent: keep going.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// The pid of `ip netns exec`, which execs the command: the command's pid and process group id.
    pub fn pid(&self) -> u32 {
        self.inner.pgid.as_raw().unsigned_abs()
    }

    /// Send `signal` to the whole process group, unless the process has already been reaped.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        let state = self.state();
        if state.status.is_some() {
            return Ok(());
        }
        match killpg(self.inner.pgid, signal) {
            Ok(()) | Err(nix::Error::ESRCH) => Ok(()),
            Err(err) => Err(Error::new(format!("{signal} to {}: {err}", self.label()))),
        }
    }

    pub fn kill(&self) -> Result<()> {
        self.signal(Signal::SIGKILL)
    }

    pub fn terminate(&self) -> Result<()> {
        self.signal(Signal::SIGTERM)
    }

    /// The exit status if the process has exited (reaping it), `None` while it runs.
    pub fn try_status(&self) -> Result<Option<ExitStatus>> {
        let mut state = self.state();
        if let Some(status) = state.status {
            return Ok(Some(status));
        }
        let reaped = state.child.try_wait()?;
        if let Some(status) = reaped {
            // Leftover members of the group go with the leader; the id is still ours at this instant.
            let _ = killpg(self.inner.pgid, Signal::SIGKILL);
            state.status = Some(status);
        }
        Ok(reaped)
    }

    /// Wait until the process exits, at most `timeout`.
    pub fn wait(&self, timeout: Duration) -> Result<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_status()? {
                return Ok(status);
            }
            if start.elapsed() >= timeout {
                return Err(Error::new(format!(
                    "{} still running after {timeout:?}",
                    self.label()
                )));
            }
            std::thread::sleep(POLL);
        }
    }

    /// SIGKILL the group and reap the leader (bounded).
    pub fn kill_and_wait(&self) -> Result<ExitStatus> {
        self.kill()?;
        self.wait(KILL_WAIT)
    }
}
