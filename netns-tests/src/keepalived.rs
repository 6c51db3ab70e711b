//! Real keepalived (Debian's `/usr/sbin/keepalived`) as a VRRP peer in a lab namespace: one VRRP
//! instance on the lab interface, run in the foreground with only its VRRP subsystem, pid files and
//! log in the lab directory (no syslog, no dbus, no SNMP, no scripts), and its state read from its log.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{HarnessError, Result};
use crate::lab::Lab;
use crate::process::Proc;
use crate::wait::wait_for_value;

/// Where Debian's `keepalived` package installs the binary.
pub const KEEPALIVED_BIN: &str = "/usr/sbin/keepalived";
const POLL: Duration = Duration::from_millis(10);

/// The keepalived binary; panics with what to do when it is missing (a missing keepalived must fail
/// the test loudly, never skip it).
pub fn require_keepalived() -> &'static str {
    if !Path::new(KEEPALIVED_BIN).is_file() {
        panic!(
            "keepalived is not installed ({KEEPALIVED_BIN} is missing): the mixed-mode tests need the \
             real one as a VRRPv2 peer. Install it with `apt-get install keepalived` with service \
             starts denied (scripts/test.sh does both)."
        );
    }
    KEEPALIVED_BIN
}

/// One `vrrp_instance VI_1` on `eth0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepalivedSpec {
    /// `vrrp_version`: 2 or 3.
    pub version: u8,
    pub vrid: u8,
    pub priority: u8,
    /// `advert_int`, whole seconds.
    pub advert_int: u8,
    pub preempt: bool,
    /// `"ADDRESS/PREFIX"` strings for `virtual_ipaddress`.
    pub vips: Vec<String>,
    /// `use_vmac` (its default macvlan name, `vrrp.<VRID>`).
    pub use_vmac: bool,
}

impl KeepalivedSpec {
    /// VRRPv2 (keepalived's default), VRID 1, preempting, 1 s adverts.
    pub fn v2(priority: u8, vips: &[&str]) -> Self {
        Self {
            version: 2,
            vrid: 1,
            priority,
            advert_int: 1,
            preempt: true,
            vips: vips.iter().map(|vip| (*vip).to_owned()).collect(),
            use_vmac: false,
        }
    }

    /// VRRPv3 (`vrrp_version 3`), VRID 1, preempting, 1 s adverts; IPv6 when the VIPs are.
    pub fn v3(priority: u8, vips: &[&str]) -> Self {
        Self {
            version: 3,
            ..Self::v2(priority, vips)
        }
    }

    /// The keepalived.conf text. One gratuitous ARP per takeover and no delayed second burst, as the
    /// keepvip lab configs; `state BACKUP` so the priorities alone decide the election.
    pub fn config(&self, router_id: &str) -> String {
        let vips: String = self
            .vips
            .iter()
            .map(|vip| format!("        {vip}\n"))
            .collect();
        let preempt = if self.preempt { "" } else { "    nopreempt\n" };
        let vmac = if self.use_vmac { "    use_vmac\n" } else { "" };
        format!(
            "global_defs {{\n    router_id {router_id}\n    vrrp_version {}\n    \
             vrrp_garp_master_repeat 1\n    vrrp_garp_master_delay 0\n}}\n\n\
             vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    \
             virtual_router_id {}\n    priority {}\n    advert_int {}\n{preempt}{vmac}    \
             virtual_ipaddress {{\n{vips}    }}\n}}\n",
            self.version, self.vrid, self.priority, self.advert_int
        )
    }
}

/// A keepalived process in a lab namespace.
pub struct Keepalived {
    proc: Proc,
    label: String,
    vrrp_pid_file: PathBuf,
}

impl Keepalived {
    /// Write `<label>.conf`, check it (`keepalived -t`), and start `keepalived -n -l -D -G -P` with
    /// that file and pid files `<label>.pid` / `<label>.vrrp.pid` in the lab directory, in host
    /// `index`'s namespace; returns once its VRRP child has written its pid file (bounded).
    pub fn start(lab: &Lab, index: usize, label: &str, spec: &KeepalivedSpec) -> Result<Self> {
        let config = lab.dir().join(format!("{label}.conf"));
        std::fs::write(&config, spec.config(label))
            .map_err(|err| HarnessError::new(format!("write {}: {err}", config.display())))?;
        Self::start_file(lab, index, label, &config)
    }

    /// As `start`, with the config file `config` already written.
    pub fn start_file(lab: &Lab, index: usize, label: &str, config: &Path) -> Result<Self> {
        let bin = require_keepalived();
        let dir = lab.dir();
        let pid_file = dir.join(format!("{label}.pid"));
        let vrrp_pid_file = dir.join(format!("{label}.vrrp.pid"));
        for stale in [&pid_file, &vrrp_pid_file] {
            let _ = std::fs::remove_file(stale);
        }
        let text = |path: &Path| path.to_string_lossy().into_owned();
        let (config, pid, vrrp_pid) = (text(config), text(&pid_file), text(&vrrp_pid_file));
        check_config(lab, index, &format!("{label}-check"), bin, &config)?;
        let argv = [
            bin, "-n", "-l", "-D", "-G", "-P", "-f", &config, "-p", &pid, "-r", &vrrp_pid,
        ];
        let proc = lab.spawn_on(index, label, &argv)?;
        let keepalived = Self {
            proc,
            label: label.to_owned(),
            vrrp_pid_file,
        };
        keepalived.wait_vrrp_child()?;
        Ok(keepalived)
    }

    fn wait_vrrp_child(&self) -> Result<()> {
        wait_for_value(
            &format!("{}'s VRRP child to start", self.label),
            Duration::from_secs(10),
            POLL,
            || {
                if let Some(status) = self.proc.try_status()? {
                    return Err(HarnessError::new(format!(
                        "{} exited ({status}) during startup:\n{}",
                        self.label,
                        self.logs()
                    )));
                }
                Ok(self.vrrp_pid().filter(|pid| process_exists(*pid)))
            },
        )
        .map(|_| ())
        .map_err(|err| err.context(format!("log of {}:\n{}", self.label, self.logs())))
    }

    /// The VRRP child's pid, from its pid file.
    pub fn vrrp_pid(&self) -> Option<u32> {
        std::fs::read_to_string(&self.vrrp_pid_file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// SIGKILL the whole process group (parent and VRRP child: a crash, no priority-0 advert) and
    /// reap; fails if the VRRP child outlives it.
    pub fn kill(&self) -> Result<()> {
        let child = self.vrrp_pid();
        self.proc.kill_and_wait()?;
        if let Some(pid) = child {
            wait_for_value(
                &format!("{}'s VRRP child {pid} to die", self.label),
                Duration::from_secs(5),
                POLL,
                || Ok((!process_exists(pid)).then_some(())),
            )?;
        }
        Ok(())
    }

    /// Everything it logged (`-l` logs to the console: stdout and stderr).
    pub fn logs(&self) -> String {
        format!("{}{}", self.proc.stdout(), self.proc.stderr())
    }

    /// How many log lines contain `text`.
    pub fn log_count(&self, text: &str) -> usize {
        self.logs()
            .lines()
            .filter(|line| line.contains(text))
            .count()
    }

    /// Wait until the log has at least `count` lines containing `text`; the time it took.
    pub fn wait_log(&self, text: &str, count: usize, timeout: Duration) -> Result<Duration> {
        wait_for_value(
            &format!("{} to log {text:?} {count} time(s)", self.label),
            timeout,
            POLL,
            || Ok((self.log_count(text) >= count).then_some(())),
        )
        .map(|(_, took)| took)
        .map_err(|err| err.context(format!("log of {}:\n{}", self.label, self.logs())))
    }
}

/// What `KeepalivedSpec` leaves out, for the interop matrix: a sub-second `advert_int` (VRRPv3
/// takes a fraction of a second) and VRRPv2's `authentication { auth_type PASS }`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeepalivedTuning {
    /// `advert_int` in milliseconds, written as seconds with a fraction; `None`: the spec's.
    pub advert_int_ms: Option<u32>,
    /// `auth_pass` with `auth_type PASS`.
    pub auth_pass: Option<String>,
}

impl KeepalivedSpec {
    /// `config`, with `tuning` applied.
    pub fn config_tuned(&self, router_id: &str, tuning: &KeepalivedTuning) -> String {
        let mut text = self.config(router_id);
        if let Some(ms) = tuning.advert_int_ms {
            let seconds = format!("{}.{:03}", ms / 1000, ms % 1000);
            let seconds = seconds.trim_end_matches('0').trim_end_matches('.');
            text = text.replace(
                &format!("    advert_int {}\n", self.advert_int),
                &format!("    advert_int {seconds}\n"),
            );
        }
        if let Some(pass) = &tuning.auth_pass {
            text = text.replace(
                "    virtual_ipaddress {\n",
                &format!(
                    "    authentication {{\n        auth_type PASS\n        auth_pass {pass}\n    \
                     }}\n    virtual_ipaddress {{\n"
                ),
            );
        }
        text
    }
}

impl Keepalived {
    /// `start`, with the config `spec.config_tuned(label, tuning)`.
    pub fn start_tuned(
        lab: &Lab,
        index: usize,
        label: &str,
        spec: &KeepalivedSpec,
        tuning: &KeepalivedTuning,
    ) -> Result<Self> {
        let config = lab.dir().join(format!("{label}.conf"));
        std::fs::write(&config, spec.config_tuned(label, tuning))
            .map_err(|err| HarnessError::new(format!("write {}: {err}", config.display())))?;
        Self::start_file(lab, index, label, &config)
    }

    /// Send `signal` to keepalived's process group: the parent and its VRRP child (SIGSTOP and
    /// SIGCONT freeze and resume both; on SIGTERM the child resigns, sending priority 0, and both
    /// exit).
    pub fn signal(&self, signal: nix::sys::signal::Signal) -> Result<()> {
        self.proc.signal(signal)
    }

    /// Wait until the parent has exited (after `signal(SIGTERM)`), and the VRRP child with it.
    pub fn wait_exit(&self, timeout: Duration) -> Result<()> {
        let child = self.vrrp_pid();
        self.proc.wait(timeout)?;
        if let Some(pid) = child {
            wait_for_value(
                &format!("{}'s VRRP child {pid} to exit", self.label),
                timeout,
                POLL,
                || Ok((!process_exists(pid)).then_some(())),
            )?;
        }
        Ok(())
    }
}

/// keepalived's log line for a state entered (`MASTER`, `BACKUP`, `FAULT`).
pub fn entering(state: &str) -> String {
    format!("(VI_1) Entering {state} STATE")
}

/// `keepalived -t -f FILE` in the namespace: a config keepalived rejects fails here, with its words.
fn check_config(lab: &Lab, index: usize, label: &str, bin: &str, config: &str) -> Result<()> {
    let proc = lab.spawn_on(index, label, &[bin, "-t", "-f", config])?;
    let status = proc.wait(Duration::from_secs(10))?;
    if status.success() {
        Ok(())
    } else {
        Err(HarnessError::new(format!(
            "keepalived -t -f {config} exited {status}:\n{}{}",
            proc.stdout(),
            proc.stderr()
        )))
    }
}

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_v2_instance() {
        let spec = KeepalivedSpec {
            preempt: false,
            ..KeepalivedSpec::v2(200, &["192.0.2.100/24"])
        };
        let text = spec.config("ka0");
        assert!(
            text.contains("router_id ka0\n    vrrp_version 2\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "virtual_router_id 1\n    priority 200\n    advert_int 1\n    nopreempt\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("virtual_ipaddress {\n        192.0.2.100/24\n    }\n}\n"),
            "{text}"
        );
    }

    #[test]
    fn tuning_sets_a_fractional_interval_and_a_password() {
        let spec = KeepalivedSpec::v3(100, &["192.0.2.100/24"]);
        let tuning = KeepalivedTuning {
            advert_int_ms: Some(100),
            auth_pass: None,
        };
        let text = spec.config_tuned("ka1", &tuning);
        assert!(text.contains("    advert_int 0.1\n"), "{text}");
        let v2 = KeepalivedSpec::v2(100, &["192.0.2.100/24"]);
        let tuning = KeepalivedTuning {
            advert_int_ms: Some(1000),
            auth_pass: Some("pw".into()),
        };
        let text = v2.config_tuned("ka1", &tuning);
        assert!(text.contains("    advert_int 1\n"), "{text}");
        assert!(
            text.contains(
                "    authentication {\n        auth_type PASS\n        auth_pass pw\n    }\n    \
                 virtual_ipaddress {\n"
            ),
            "{text}"
        );
    }
}
