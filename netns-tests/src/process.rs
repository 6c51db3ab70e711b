//! Processes started inside lab namespaces, with their stdout and stderr in files of the lab directory.
//! Starting, signalling, waiting and the kill on cleanup are netlab's `Process` and `Lab`; this adds the
//! output files and harness errors.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::error::Result;

struct Output {
    stdout: PathBuf,
    stderr: PathBuf,
}

/// A process started in a namespace by `Lab::spawn`. Cloning gives another handle to the same process.
#[derive(Clone)]
pub struct Proc {
    process: netlab::Process,
    output: Arc<Output>,
}

impl Proc {
    /// Start `argv` inside namespace `ns` (via `ip netns exec`) as the leader of its own process group,
    /// with stdout and stderr going to `<dir>/<label>.stdout` / `.stderr`; `lab` kills it on cleanup.
    pub(crate) fn spawn(
        lab: &netlab::Lab,
        dir: &Path,
        ns: &str,
        label: &str,
        argv: &[&str],
    ) -> Result<Self> {
        let stdout = dir.join(format!("{label}.stdout"));
        let stderr = dir.join(format!("{label}.stderr"));
        let process = lab.spawn(
            ns,
            label,
            argv,
            File::create(&stdout)?.into(),
            File::create(&stderr)?.into(),
        )?;
        Ok(Self {
            process,
            output: Arc::new(Output { stdout, stderr }),
        })
    }

    pub fn label(&self) -> &str {
        self.process.label()
    }

    /// The pid of `ip netns exec`, which execs the command: the command's pid and process group id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Send `signal` to the whole process group, unless the process has already been reaped.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        Ok(self.process.signal(signal)?)
    }

    pub fn kill(&self) -> Result<()> {
        Ok(self.process.kill()?)
    }

    pub fn terminate(&self) -> Result<()> {
        Ok(self.process.terminate()?)
    }

    /// The exit status if the process has exited (reaping it), `None` while it runs.
    pub fn try_status(&self) -> Result<Option<ExitStatus>> {
        Ok(self.process.try_status()?)
    }

    /// Wait until the process exits, at most `timeout`.
    pub fn wait(&self, timeout: Duration) -> Result<ExitStatus> {
        Ok(self.process.wait(timeout)?)
    }

    /// SIGKILL the group and reap the leader (bounded).
    pub fn kill_and_wait(&self) -> Result<ExitStatus> {
        Ok(self.process.kill_and_wait()?)
    }

    pub fn stdout_path(&self) -> &Path {
        &self.output.stdout
    }

    pub fn stderr_path(&self) -> &Path {
        &self.output.stderr
    }

    /// Everything written to stdout so far.
    pub fn stdout(&self) -> String {
        read_lossy(&self.output.stdout)
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        read_lossy(&self.output.stderr)
    }
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}
