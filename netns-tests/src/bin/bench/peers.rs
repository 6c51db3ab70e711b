//! A keepvip or a keepalived daemon in a lab host, driven the same way: started with a `Layout`,
//! frozen (SIGSTOP: a crash that cleans nothing up), thawed, terminated; its protocol process's CPU
//! time and resident memory read from /proc.

use std::path::Path;
use std::time::Duration;

use netns_tests::keepalived::KEEPALIVED_BIN;
use netns_tests::process::Proc;
use netns_tests::{HarnessError, Lab, Result, wait_for_value};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::configs::Layout;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keepvip,
    Keepalived,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Keepvip => "keepvip",
            Kind::Keepalived => "keepalived",
        }
    }
}

pub struct Peer {
    proc: Proc,
    /// The process that runs VRRP: keepvip itself, keepalived's VRRP child.
    pub protocol_pid: u32,
}

/// CPU time (user + system) and resident memory of one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub cpu: Duration,
    pub rss_kib: u64,
}

impl Peer {
    /// Writes the config for `layout` into the lab directory and starts the daemon in host `index`.
    pub fn start(
        lab: &Lab,
        kind: Kind,
        keepvip_bin: &Path,
        index: usize,
        label: &str,
        priority: u8,
        layout: &Layout,
    ) -> Result<Peer> {
        Self::start_under(
            lab,
            kind,
            keepvip_bin,
            (index, label, priority),
            layout,
            &[],
        )
    }

    /// [`Peer::start`] with the daemon's command line after `wrapper` (e.g. valgrind and its
    /// options); the waits allow for a slow start there.
    pub fn start_under(
        lab: &Lab,
        kind: Kind,
        keepvip_bin: &Path,
        (index, label, priority): (usize, &str, u8),
        layout: &Layout,
        wrapper: &[&str],
    ) -> Result<Peer> {
        let started_within = if wrapper.is_empty() { 20 } else { 120 };
        let started_within = Duration::from_secs(started_within);
        let dir = lab.dir();
        let text = |path: &Path| path.to_string_lossy().into_owned();
        match kind {
            Kind::Keepvip => {
                let config = dir.join(format!("{label}.toml"));
                std::fs::write(&config, layout.keepvip(label, priority))?;
                let socket = dir.join(format!("{label}.sock"));
                let bin = text(keepvip_bin);
                let (config, socket) = (text(&config), text(&socket));
                let daemon = [
                    bin.as_str(),
                    "-c",
                    &config,
                    "--control-socket",
                    &socket,
                    "--log-format",
                    "json",
                    "run",
                ];
                let argv: Vec<&str> = wrapper.iter().copied().chain(daemon).collect();
                let proc = lab.spawn_on(index, label, &argv)?;
                let protocol_pid = proc.pid();
                wait_for_value(
                    &format!("{label}'s control socket"),
                    started_within,
                    Duration::from_millis(10),
                    || {
                        if let Some(status) = proc.try_status()? {
                            return Err(HarnessError::new(format!(
                                "{label} exited ({status}): {}",
                                proc.stderr()
                            )));
                        }
                        Ok(Path::new(&socket).exists().then_some(()))
                    },
                )?;
                Ok(Peer { proc, protocol_pid })
            }
            Kind::Keepalived => {
                let config = dir.join(format!("{label}.conf"));
                std::fs::write(&config, layout.keepalived(label, priority))?;
                let pid_file = dir.join(format!("{label}.pid"));
                let vrrp_pid_file = dir.join(format!("{label}.vrrp.pid"));
                for stale in [&pid_file, &vrrp_pid_file] {
                    let _ = std::fs::remove_file(stale);
                }
                let (config, pid, vrrp_pid) =
                    (text(&config), text(&pid_file), text(&vrrp_pid_file));
                let daemon = [
                    KEEPALIVED_BIN,
                    "-n",
                    "-l",
                    "-D",
                    "-G",
                    "-P",
                    "-f",
                    &config,
                    "-p",
                    &pid,
                    "-r",
                    &vrrp_pid,
                ];
                let argv: Vec<&str> = wrapper.iter().copied().chain(daemon).collect();
                let proc = lab.spawn_on(index, label, &argv)?;
                let (protocol_pid, _) = wait_for_value(
                    &format!("{label}'s VRRP child"),
                    started_within,
                    Duration::from_millis(10),
                    || {
                        if let Some(status) = proc.try_status()? {
                            return Err(HarnessError::new(format!(
                                "{label} exited ({status}): {}{}",
                                proc.stdout(),
                                proc.stderr()
                            )));
                        }
                        Ok(std::fs::read_to_string(&vrrp_pid_file)
                            .ok()
                            .and_then(|text| text.trim().parse::<u32>().ok())
                            .filter(|pid| Path::new(&format!("/proc/{pid}")).exists()))
                    },
                )?;
                Ok(Peer { proc, protocol_pid })
            }
        }
    }

    fn signal(&self, signal: Signal) -> Result<()> {
        let pid =
            i32::try_from(self.protocol_pid).map_err(|_| HarnessError::new("pid out of range"))?;
        kill(Pid::from_raw(pid), signal)
            .map_err(|err| HarnessError::new(format!("{signal} to {}: {err}", self.protocol_pid)))
    }

    /// SIGSTOP the protocol process: it goes silent and keeps its VIPs, like a crashed or hung host.
    pub fn freeze(&self) -> Result<()> {
        self.signal(Signal::SIGSTOP)
    }

    pub fn thaw(&self) -> Result<()> {
        self.signal(Signal::SIGCONT)
    }

    /// SIGTERM (keepalived's to its parent, which stops the VRRP child): masters resign with priority
    /// 0; waits for the exit.
    pub fn terminate(&self) -> Result<()> {
        self.proc.terminate()?;
        self.proc.wait(Duration::from_secs(10))?;
        Ok(())
    }

    pub fn usage(&self) -> Result<Usage> {
        usage_of(self.protocol_pid)
    }
}

/// utime + stime from /proc/PID/stat (clock ticks of 10 ms: CONFIG_HZ does not matter, USER_HZ is
/// 100) and VmRSS from /proc/PID/status.
fn usage_of(pid: u32) -> Result<Usage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| HarnessError::new(format!("/proc/{pid}/stat: {stat}")))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |index: usize| -> Result<u64> {
        fields
            .get(index)
            .and_then(|field| field.parse().ok())
            .ok_or_else(|| HarnessError::new(format!("/proc/{pid}/stat field {index}: {stat}")))
    };
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
    let cpu = Duration::from_millis((ticks(11)? + ticks(12)?) * 10);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0);
    Ok(Usage { cpu, rss_kib })
}
