//! Processes started inside lab namespaces: output to files, signals to the whole process group, waits
//! with deadlines, and a registry the lab uses to kill everything on cleanup.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::error::{HarnessError, Result};

struct State {
    child: Child,
    /// Set once the leader has been reaped; after that its process group id is never signalled again
    /// (the id could be reused by an unrelated process).
    status: Option<ExitStatus>,
}

struct Inner {
    label: String,
    pgid: Pid,
    stdout: PathBuf,
    stderr: PathBuf,
    state: Mutex<State>,
}

/// A process started in a namespace by `Lab::spawn`. Cloning gives another handle to the same process.
#[derive(Clone)]
pub struct Proc {
    inner: Arc<Inner>,
}

impl Proc {
    /// Start `argv` inside namespace `ns` (via `ip netns exec`) as the leader of its own process group,
    /// with stdout and stderr going to `<dir>/<label>.stdout` / `.stderr`.
    pub(crate) fn spawn(dir: &Path, ns: &str, label: &str, argv: &[&str]) -> Result<Self> {
        let Some((program, args)) = argv.split_first() else {
            return Err(HarnessError::new(format!("spawn {label}: empty command")));
        };
        let stdout = dir.join(format!("{label}.stdout"));
        let stderr = dir.join(format!("{label}.stderr"));
        let child = Command::new("ip")
            .args(["netns", "exec", ns, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout)?)
            .stderr(File::create(&stderr)?)
            .process_group(0)
            .spawn()
            .map_err(|err| HarnessError::new(format!("spawn {label} in {ns}: {err}")))?;
        let pgid = Pid::from_raw(child.id() as i32);
        Ok(Self {
            inner: Arc::new(Inner {
                label: label.to_owned(),
                pgid,
                stdout,
                stderr,
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
        self.inner.pgid.as_raw() as u32
    }

    /// Send `signal` to the whole process group, unless the process has already been reaped.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        let state = self.state();
        if state.status.is_some() {
            return Ok(());
        }
        killpg(self.inner.pgid, signal)
            .or_else(|err| {
                if err == nix::Error::ESRCH {
                    Ok(())
                } else {
                    Err(err)
                }
            })
            .map_err(|err| HarnessError::new(format!("{signal} to {}: {err}", self.label())))
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
                return Err(HarnessError::new(format!(
                    "{} still running after {timeout:?}",
                    self.label()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL the group and reap the leader (bounded).
    pub fn kill_and_wait(&self) -> Result<ExitStatus> {
        self.kill()?;
        self.wait(Duration::from_secs(5))
    }

    pub fn stdout_path(&self) -> &Path {
        &self.inner.stdout
    }

    pub fn stderr_path(&self) -> &Path {
        &self.inner.stderr
    }

    /// Everything written to stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read(&self.inner.stdout)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read(&self.inner.stderr)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }
}

/// Every process a lab started, killed (whole group) and reaped when the lab is dropped.
#[derive(Default)]
pub(crate) struct Registry {
    procs: Mutex<Vec<Proc>>,
}

impl Registry {
    pub(crate) fn track(&self, proc: &Proc) {
        self.procs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(proc.clone());
    }

    /// Kill and reap everything; the failures, as text, for the cleanup report.
    pub(crate) fn kill_all(&self) -> Vec<String> {
        let procs = std::mem::take(
            &mut *self
                .procs
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        procs
            .iter()
            .filter_map(|proc| proc.kill_and_wait().err().map(|err| err.to_string()))
            .collect()
    }
}
