//! Real FRR (Debian's `frr` package: zebra and vrrpd) as a VRRP peer in a lab namespace: VRRPv3 over
//! IPv6 or IPv4, or VRRPv2 (IPv4; FRR has no VRRPv2 authentication).
//!
//! FRR's vrrpd does not create the virtual-MAC interface itself: it looks for a macvlan on the base
//! interface carrying the virtual MAC (00-00-5E-00-02-{VRID} for IPv6, 00-00-5E-00-01-{VRID} for
//! IPv4) and the VIPs, in bridge mode (so adverts
//! arriving on `eth0` still reach it), with a random rather than EUI-64 link-local address (its adverts
//! leave from that address; two routers deriving it from the shared MAC would tie). `Frr::start`
//! creates that macvlan, then runs zebra and vrrpd in the foreground with their config, pid files,
//! vty sockets and zebra's API socket in a directory of the lab, logging to stdout. A master keeps the
//! macvlan up; a backup sets it `protodown` (the VIP stays on it, unusable).

use std::net::{IpAddr, Ipv6Addr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::cmd::ip;
use crate::error::{HarnessError, Result};
use crate::kernel;
use crate::lab::{HOST_IF, Lab};
use crate::process::Proc;
use crate::wait::wait_for_value;

/// Where Debian's `frr` package installs the daemons.
pub const ZEBRA_BIN: &str = "/usr/lib/frr/zebra";
pub const VRRPD_BIN: &str = "/usr/lib/frr/vrrpd";
const POLL: Duration = Duration::from_millis(10);

/// The FRR daemons; panics with what to do when they are missing (the FRR tests fail loudly, never
/// skip).
pub fn require_frr() -> (&'static str, &'static str) {
    for bin in [ZEBRA_BIN, VRRPD_BIN] {
        if !Path::new(bin).is_file() {
            panic!(
                "FRR is not installed ({bin} is missing): the FRR interop tests need the real \
                 zebra and vrrpd. Install it with `apt-get install frr` with service starts denied \
                 (scripts/test.sh does both)."
            );
        }
    }
    (ZEBRA_BIN, VRRPD_BIN)
}

/// One virtual router on `eth0`, of one address family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrrSpec {
    /// `vrrp N version`: 2 (IPv4 only) or 3.
    pub version: u8,
    /// IPv6 VIPs (`vrrp N ipv6`), else IPv4 (`vrrp N ip`).
    pub ipv6: bool,
    pub vrid: u8,
    /// 1..=254 (FRR refuses 255).
    pub priority: u8,
    /// `advertisement-interval`, milliseconds, a multiple of 10.
    pub interval_ms: u32,
    /// `"ADDRESS/PREFIX"` strings: put on the macvlan, and each a `vrrp N ipv6 ADDRESS` line.
    pub vips: Vec<String>,
}

impl FrrSpec {
    /// VRID 1, 1 s adverts (FRR's default), preempting (its default too).
    pub fn v3_ipv6(priority: u8, vips: &[&str]) -> Self {
        Self {
            version: 3,
            ipv6: true,
            vrid: 1,
            priority,
            interval_ms: 1000,
            vips: vips.iter().map(|vip| (*vip).to_owned()).collect(),
        }
    }

    /// VRRPv3 over IPv4, VRID 1, 1 s adverts, preempting.
    pub fn v3_ipv4(priority: u8, vips: &[&str]) -> Self {
        Self {
            ipv6: false,
            ..Self::v3_ipv6(priority, vips)
        }
    }

    /// VRRPv2 (IPv4), VRID 1, 1 s adverts, preempting.
    pub fn v2(priority: u8, vips: &[&str]) -> Self {
        Self {
            version: 2,
            ..Self::v3_ipv4(priority, vips)
        }
    }

    /// `ms` between adverts (a multiple of 10; whole seconds for VRRPv2).
    pub fn interval_ms(mut self, ms: u32) -> Self {
        self.interval_ms = ms;
        self
    }

    /// The macvlan's name (any name works: vrrpd finds it by its MAC and parent).
    pub fn macvlan(&self) -> String {
        format!("vrrp{}-{}", if self.ipv6 { 6 } else { 4 }, self.vrid)
    }

    /// RFC 5798 §7.3: the virtual MAC of the family.
    pub fn virtual_mac(&self) -> String {
        let family = if self.ipv6 { 2 } else { 1 };
        format!("00:00:5e:00:0{family}:{:02x}", self.vrid)
    }

    /// How vrrpd tags the family in its log lines.
    pub fn family_tag(&self) -> &'static str {
        if self.ipv6 { "[IPv6]" } else { "[IPv4]" }
    }

    /// vrrpd's config: protocol debugging on (its state changes are logged only then).
    pub fn vrrpd_config(&self, hostname: &str) -> String {
        let vrid = self.vrid;
        let keyword = if self.ipv6 { "ipv6" } else { "ip" };
        let addresses: String = self
            .vips
            .iter()
            .map(|vip| {
                let address = vip.split('/').next().unwrap_or(vip);
                format!(" vrrp {vrid} {keyword} {address}\n")
            })
            .collect();
        format!(
            "hostname {hostname}\nlog stdout debugging\ndebug vrrp protocol\n!\n\
             interface {HOST_IF}\n vrrp {vrid} version {}\n vrrp {vrid} priority {}\n \
             vrrp {vrid} advertisement-interval {}\n{addresses}!\n",
            self.version, self.priority, self.interval_ms
        )
    }
}

/// zebra and vrrpd in a lab namespace.
pub struct Frr {
    zebra: Proc,
    vrrpd: Proc,
    label: String,
    ns: String,
    macvlan: String,
    family_tag: &'static str,
}

impl Frr {
    /// Create the macvlan for `spec` in host `index`'s namespace, then start zebra and vrrpd with
    /// everything in `<lab dir>/<label>/`; returns once vrrpd's router of the spec's family has left
    /// Initialize.
    pub fn start(lab: &Lab, index: usize, label: &str, spec: &FrrSpec) -> Result<Self> {
        create_macvlan(&lab.host(index).ns, spec)?;
        Self::restart(lab, index, label, spec)
    }

    /// As `start`, on a host whose macvlan an earlier `start` made (FRR started again after it was
    /// stopped or killed); `label` must be new.
    pub fn restart(lab: &Lab, index: usize, label: &str, spec: &FrrSpec) -> Result<Self> {
        let (zebra_bin, vrrpd_bin) = require_frr();
        let ns = lab.host(index).ns.clone();
        let dir = state_dir(lab.dir(), label)?;
        let text = |path: PathBuf| path.to_string_lossy().into_owned();
        let write = |name: &str, content: String| -> Result<String> {
            let path = dir.join(name);
            std::fs::write(&path, content)
                .map_err(|err| HarnessError::new(format!("write {}: {err}", path.display())))?;
            Ok(text(path))
        };
        let zebra_conf = write("zebra.conf", format!("hostname {label}\n"))?;
        let vrrpd_conf = write("vrrpd.conf", spec.vrrpd_config(label))?;
        let socket = text(dir.join("zserv.api"));
        let dir_text = text(dir.clone());
        let argv = |bin: &'static str, conf: &str, name: &str| -> Vec<String> {
            let pid = text(dir.join(format!("{name}.pid")));
            [
                bin,
                "-f",
                conf,
                "-i",
                &pid,
                "-z",
                &socket,
                "--vty_socket",
                &dir_text,
                "-A",
                "127.0.0.1",
                "-P",
                "0",
                "--log",
                "stdout",
                "--log-level",
                "debug",
            ]
            .iter()
            .map(|word| (*word).to_owned())
            .collect()
        };
        let spawn = |name: &str, words: Vec<String>| {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            lab.spawn_on(index, &format!("{label}-{name}"), &words)
        };
        let zebra = spawn("zebra", argv(zebra_bin, &zebra_conf, "zebra"))?;
        wait_file(&dir.join("zserv.api"), &zebra, "zebra's API socket")?;
        let vrrpd = spawn("vrrpd", argv(vrrpd_bin, &vrrpd_conf, "vrrpd"))?;
        let frr = Self {
            zebra,
            vrrpd,
            label: label.to_owned(),
            ns,
            macvlan: spec.macvlan(),
            family_tag: spec.family_tag(),
        };
        let left_initialize = format!("{} Initialize -> ", frr.family_tag);
        frr.wait_log(&left_initialize, 1, Duration::from_secs(10))?;
        Ok(frr)
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// The macvlan's link-local address: the source of FRR's IPv6 adverts.
    pub fn link_local(&self) -> Result<Ipv6Addr> {
        kernel::addresses(&self.ns, &self.macvlan)?
            .iter()
            .find_map(|entry| match entry.address {
                IpAddr::V6(v6) if v6.is_unicast_link_local() => Some(v6),
                _ => None,
            })
            .ok_or_else(|| HarnessError::new(format!("no link-local address on {}", self.macvlan)))
    }

    /// Whether the macvlan is in `protodown` (vrrpd's backup state: its VIPs unusable).
    pub fn protodown(&self) -> Result<bool> {
        let json = ip(&[
            "-j",
            "-d",
            "-n",
            &self.ns,
            "link",
            "show",
            "dev",
            &self.macvlan,
        ])?;
        let links: Value = serde_json::from_str(&json)
            .map_err(|err| HarnessError::new(format!("ip -j link: bad JSON: {err}")))?;
        Ok(links
            .get(0)
            .and_then(|link| link.get("proto_down"))
            .and_then(Value::as_bool)
            .unwrap_or(false))
    }

    /// Whether this host serves `vip`: on the macvlan, which is not in protodown.
    pub fn serves(&self, vip: IpAddr) -> Result<bool> {
        Ok(kernel::has_address(&self.ns, &self.macvlan, vip)? && !self.protodown()?)
    }

    /// SIGKILL vrrpd and zebra (a crash: no priority-0 advert) and reap both.
    pub fn kill(&self) -> Result<()> {
        self.vrrpd.kill_and_wait()?;
        self.zebra.kill_and_wait()?;
        Ok(())
    }

    /// Send `signal` to vrrpd and zebra (SIGSTOP / SIGCONT: the whole router freezes and resumes).
    pub fn signal_all(&self, signal: nix::sys::signal::Signal) -> Result<()> {
        self.vrrpd.signal(signal)?;
        self.zebra.signal(signal)
    }

    /// SIGTERM vrrpd (it shuts its routers down), wait for it to exit, then stop zebra the same way.
    pub fn terminate(&self, timeout: Duration) -> Result<()> {
        self.vrrpd.terminate()?;
        self.vrrpd.wait(timeout)?;
        self.zebra.terminate()?;
        self.zebra.wait(timeout)?;
        Ok(())
    }

    /// Everything vrrpd logged.
    pub fn logs(&self) -> String {
        format!("{}{}", self.vrrpd.stdout(), self.vrrpd.stderr())
    }

    /// How many of vrrpd's log lines contain `text`.
    pub fn log_count(&self, text: &str) -> usize {
        self.logs()
            .lines()
            .filter(|line| line.contains(text))
            .count()
    }

    /// How often the router entered `state` (`Master`, `Backup`): vrrpd logs `[IPv6] FROM -> TO`
    /// (`[IPv4]` for an IPv4 router).
    pub fn times_entered(&self, state: &str) -> usize {
        let suffix = format!(" -> {state}");
        self.logs()
            .lines()
            .filter(|line| line.contains(self.family_tag) && line.trim_end().ends_with(&suffix))
            .count()
    }

    /// Wait until the router has entered `state` at least `count` times.
    pub fn wait_entered(&self, state: &str, count: usize, timeout: Duration) -> Result<Duration> {
        wait_for_value(
            &format!("{} to enter {state} {count} time(s)", self.label),
            timeout,
            POLL,
            || Ok((self.times_entered(state) >= count).then_some(())),
        )
        .map(|(_, took)| took)
        .map_err(|err| err.context(format!("log of {}:\n{}", self.label, self.logs())))
    }

    /// Wait until vrrpd's log has at least `count` lines containing `text`; the time it took.
    pub fn wait_log(&self, text: &str, count: usize, timeout: Duration) -> Result<Duration> {
        wait_for_value(
            &format!("{} to log {text:?} {count} time(s)", self.label),
            timeout,
            POLL,
            || {
                if let Some(status) = self.vrrpd.try_status()? {
                    return Err(HarnessError::new(format!("vrrpd exited ({status})")));
                }
                Ok((self.log_count(text) >= count).then_some(()))
            },
        )
        .map(|(_, took)| took)
        .map_err(|err| err.context(format!("log of {}:\n{}", self.label, self.logs())))
    }
}

/// `<lab dir>/<label>/`, writable by the `frr` user the daemons drop to.
fn state_dir(lab_dir: &Path, label: &str) -> Result<PathBuf> {
    let dir = lab_dir.join(label);
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)))
        .map_err(|err| HarnessError::new(format!("create {}: {err}", dir.display())))?;
    Ok(dir)
}

/// The macvlan FRR's documentation describes: bridge mode, the virtual MAC, a random link-local
/// address, no DAD (the lab's hosts run none either), the VIPs, up.
fn create_macvlan(ns: &str, spec: &FrrSpec) -> Result<()> {
    let name = spec.macvlan();
    let mac = spec.virtual_mac();
    ip(&[
        "-n", ns, "link", "add", &name, "link", HOST_IF, "type", "macvlan", "mode", "bridge",
    ])?;
    // `addrgenmode` cannot be given to `link add` for a macvlan (EAFNOSUPPORT): set it before up.
    ip(&[
        "-n",
        ns,
        "link",
        "set",
        "dev",
        &name,
        "addrgenmode",
        "random",
    ])?;
    ip(&["-n", ns, "link", "set", "dev", &name, "address", &mac])?;
    let key = format!("/proc/sys/net/ipv6/conf/{name}/accept_dad");
    crate::netns::in_netns(ns, || std::fs::write(&key, "0"))?
        .map_err(|err| HarnessError::new(format!("{ns}: write {key}: {err}")))?;
    for vip in &spec.vips {
        kernel::add_address(ns, &name, vip, &["nodad"])?;
    }
    kernel::set_link(ns, &name, true)
}

/// Wait (10 s at most) until `path` exists; fails early if `proc` exits.
fn wait_file(path: &Path, proc: &Proc, what: &str) -> Result<()> {
    wait_for_value(what, Duration::from_secs(10), POLL, || {
        if let Some(status) = proc.try_status()? {
            return Err(HarnessError::new(format!(
                "{} exited ({status}):\n{}{}",
                proc.label(),
                proc.stdout(),
                proc.stderr()
            )));
        }
        Ok(path.exists().then_some(()))
    })
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_ipv6_router() {
        let spec = FrrSpec::v3_ipv6(150, &["2001:db8::254/64"]);
        let text = spec.vrrpd_config("frr0");
        assert!(
            text.contains(
                "interface eth0\n vrrp 1 version 3\n vrrp 1 priority 150\n \
                 vrrp 1 advertisement-interval 1000\n vrrp 1 ipv6 2001:db8::254\n!\n"
            ),
            "{text}"
        );
        assert_eq!(spec.virtual_mac(), "00:00:5e:00:02:01");
    }

    #[test]
    fn renders_a_vrrpv2_ipv4_router_and_its_macvlan() {
        let spec = FrrSpec::v2(100, &["192.0.2.100/24"]).interval_ms(1000);
        let text = spec.vrrpd_config("frr1");
        assert!(
            text.contains(
                "interface eth0\n vrrp 1 version 2\n vrrp 1 priority 100\n \
                 vrrp 1 advertisement-interval 1000\n vrrp 1 ip 192.0.2.100\n!\n"
            ),
            "{text}"
        );
        assert_eq!(
            (spec.macvlan(), spec.virtual_mac(), spec.family_tag()),
            (
                "vrrp4-1".to_owned(),
                "00:00:5e:00:01:01".to_owned(),
                "[IPv4]"
            )
        );
        let v3 = FrrSpec::v3_ipv4(200, &["192.0.2.100/24"]).interval_ms(100);
        assert!(v3.vrrpd_config("frr0").contains(" vrrp 1 version 3\n"));
    }
}
