//! One side of a matrix pair: keepvip, keepalived or FRR on a lab host, started (again), frozen,
//! resumed, stopped or killed the same way whichever it is, and asked whether it serves the VIP.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::{Mode, PeerKind};
use crate::daemon::Keepvip;
use crate::frr::{Frr, FrrSpec};
use crate::keepalived::{Keepalived, KeepalivedSpec, KeepalivedTuning};
use crate::kernel;
use crate::lab::{HOST_IF, Lab};

/// Which implementation a side runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    Keepvip,
    Peer(PeerKind),
}

enum Running {
    Keepvip(Keepvip),
    Keepalived(Keepalived),
    Frr(Frr),
}

/// A side of the pair and its current process (none before the first start or after a stop).
pub struct Side {
    pub imp: Impl,
    pub index: usize,
    pub priority: u8,
    mode: Mode,
    /// Extra keepvip instance keys (say `checksum_mode`).
    keepvip_extra: String,
    starts: usize,
    running: Option<Running>,
    /// The logs of every process this side ran, the current one last.
    old_logs: Vec<String>,
}

impl Side {
    pub fn new(imp: Impl, index: usize, priority: u8, mode: Mode) -> Self {
        Self {
            imp,
            index,
            priority,
            mode,
            keepvip_extra: String::new(),
            starts: 0,
            running: None,
            old_logs: Vec::new(),
        }
    }

    /// Extra lines for keepvip's `[[instance]]`.
    pub fn keepvip_extra(mut self, extra: &str) -> Self {
        self.keepvip_extra = extra.to_owned();
        self
    }

    /// "keepvip" / "keepalived" / "frr".
    pub fn name(&self) -> &'static str {
        match self.imp {
            Impl::Keepvip => "keepvip",
            Impl::Peer(kind) => kind.name(),
        }
    }

    /// Start a new process (the first, or one after a stop or kill); returns once it runs (keepvip
    /// answers on its socket, keepalived's VRRP child is up, FRR's router left Initialize).
    pub fn start(&mut self, lab: &Lab) {
        if let Some(old) = self.running.take() {
            self.old_logs.push(logs_of(&old));
        }
        let label = format!("{}{}-{}", self.name(), self.index, self.starts);
        let first = self.starts == 0;
        self.starts += 1;
        let mode = self.mode;
        let vip = mode.vip_cidr();
        let running = match self.imp {
            Impl::Keepvip => {
                let config = mode.keepvip_config(&label, self.priority, &self.keepvip_extra);
                Keepvip::start(lab, self.index, &label, &config)
                    .map(Running::Keepvip)
                    .map_err(|err| format!("{err}\nconfig:\n{config}"))
            }
            Impl::Peer(PeerKind::Keepalived) => {
                let spec = KeepalivedSpec {
                    version: mode.version(),
                    ..KeepalivedSpec::v2(self.priority, &[&vip])
                };
                let tuning = KeepalivedTuning {
                    advert_int_ms: u32::try_from(mode.interval().as_millis()).ok(),
                    auth_pass: mode.auth_pass().map(str::to_owned),
                };
                Keepalived::start_tuned(lab, self.index, &label, &spec, &tuning)
                    .map(Running::Keepalived)
                    .map_err(|err| err.to_string())
            }
            Impl::Peer(PeerKind::Frr) => {
                let spec = frr_spec(mode, self.priority);
                let started = if first {
                    Frr::start(lab, self.index, &label, &spec)
                } else {
                    Frr::restart(lab, self.index, &label, &spec)
                };
                started.map(Running::Frr).map_err(|err| err.to_string())
            }
        };
        match running {
            Ok(running) => self.running = Some(running),
            Err(err) => panic!("{label} did not start: {err}"),
        }
    }

    fn running(&self) -> &Running {
        match &self.running {
            Some(running) => running,
            None => panic!("{} on host {} is not running", self.name(), self.index),
        }
    }

    /// The keepvip daemon, when this side is keepvip and runs.
    pub fn keepvip(&self) -> Option<&Keepvip> {
        match &self.running {
            Some(Running::Keepvip(daemon)) => Some(daemon),
            _ => None,
        }
    }

    /// SIGSTOP (`true`) or SIGCONT (`false`) every process of the side: a frozen router, nothing
    /// cleaned up, as a VM pause.
    pub fn freeze(&self, frozen: bool) {
        let signal = if frozen {
            Signal::SIGSTOP
        } else {
            Signal::SIGCONT
        };
        let sent = match self.running() {
            Running::Keepvip(daemon) => daemon.proc().signal(signal),
            Running::Keepalived(ka) => ka.signal(signal),
            Running::Frr(frr) => frr.signal_all(signal),
        };
        if let Err(err) = sent {
            panic!("{signal} to {}: {err}", self.name());
        }
    }

    /// SIGTERM, and wait (bounded) until the side has exited: a master resigns on the way out.
    pub fn terminate(&mut self) {
        let timeout = Duration::from_secs(10);
        let stopped = match self.running() {
            Running::Keepvip(daemon) => daemon
                .terminate()
                .and_then(|()| daemon.wait_exit(timeout).map(|_| ())),
            Running::Keepalived(ka) => ka
                .signal(Signal::SIGTERM)
                .and_then(|()| ka.wait_exit(timeout)),
            Running::Frr(frr) => frr.terminate(timeout),
        };
        if let Err(err) = stopped {
            panic!("SIGTERM to {}: {err}\n{}", self.name(), self.logs());
        }
    }

    /// SIGKILL every process of the side (a crash) and reap them.
    pub fn kill(&mut self) {
        let killed = match self.running() {
            Running::Keepvip(daemon) => daemon.kill().map(|_| ()),
            Running::Keepalived(ka) => ka.kill(),
            Running::Frr(frr) => frr.kill(),
        };
        if let Err(err) = killed {
            panic!("SIGKILL to {}: {err}", self.name());
        }
    }

    /// Whether this host serves the VIP: on `eth0` (keepvip, keepalived), on FRR's macvlan out of
    /// protodown.
    pub fn serves_vip(&self, lab: &Lab) -> bool {
        let vip = self.mode.vip();
        let served = match (&self.running, self.imp) {
            (Some(Running::Frr(frr)), _) => frr.serves(vip),
            (None, Impl::Peer(PeerKind::Frr)) => Ok(false),
            _ => kernel::has_address(&lab.host(self.index).ns, HOST_IF, vip),
        };
        served.unwrap_or_else(|err| panic!("VIP on host {}: {err}", self.index))
    }

    /// Every log line this side's processes wrote, oldest process first.
    pub fn logs(&self) -> String {
        let mut all = self.old_logs.join("\n");
        if let Some(running) = &self.running {
            all.push_str(&logs_of(running));
        }
        all
    }

    /// How many log lines of all its processes contain `text`.
    pub fn log_count(&self, text: &str) -> usize {
        self.logs().lines().filter(|l| l.contains(text)).count()
    }
}

fn logs_of(running: &Running) -> String {
    match running {
        Running::Keepvip(daemon) => daemon.logs(),
        Running::Keepalived(ka) => ka.logs(),
        Running::Frr(frr) => frr.logs(),
    }
}

/// FRR's router for the mode (FRR has no VRRPv2 authentication: `Mode::V2Auth` is not run with it).
pub fn frr_spec(mode: Mode, priority: u8) -> FrrSpec {
    let vip = mode.vip_cidr();
    let spec = match mode {
        Mode::V3Ipv6 => FrrSpec::v3_ipv6(priority, &[&vip]),
        Mode::V3Ipv4 => FrrSpec::v3_ipv4(priority, &[&vip]),
        Mode::V2 | Mode::V2Auth => FrrSpec::v2(priority, &[&vip]),
    };
    spec.interval_ms(u32::try_from(mode.interval().as_millis()).unwrap_or(1000))
}
