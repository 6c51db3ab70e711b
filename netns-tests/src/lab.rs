//! The namespace lab: a switch namespace with a Linux bridge, N host namespaces each wired to it by a
//! veth pair (`eth0` inside the host), and an observer namespace on the same bridge for captures.
//! Documentation addresses only. Everything it creates is deleted when it is dropped, also on panic.
//!
//! The namespaces, bridge, veth pairs, processes and their cleanup are netlab's (shared with
//! `keepvip demo`); what is added here is test-only: the hub bridge, fixed MACs, IPv6 modes, the
//! capturing observer, per-test output directories and the sweep of stale labs.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use netlab::{Switch, Veth};

use crate::capture::Capture;
use crate::error::{HarnessError, Result};
use crate::frames::Mac;
use crate::kernel::set_link;
use crate::netns::{in_netns, sweep_stale_labs};
use crate::process::Proc;
use crate::root::require_root;

/// The interface name inside every host and the observer.
pub const HOST_IF: &str = "eth0";
const BRIDGE: &str = "br0";
/// A hub, so the observer sees everything: no MAC learning (ageing 0 floods unicast to every port) and
/// no multicast snooping (every group, VRRP's ff02::12 too, is flooded).
const HUB_OPTIONS: [&str; 4] = ["ageing_time", "0", "mcast_snooping", "0"];
const OBSERVER_PORT: &str = "obs";
const OBSERVER_MAC: Mac = [0x02, 0x6b, 0x76, 0, 0, 0xfe];
/// Longest test-name part of a prefix, so that names stay short and readable.
const NAME_PART_MAX: usize = 10;

static LAB_SEQUENCE: AtomicU32 = AtomicU32::new(0);

/// IPv6 on the host links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Mode {
    /// IPv6 disabled on the hosts (no link-local, no MLD/RS noise in captures).
    Off,
    /// IPv6 on, `accept_dad = 0`: the link-local address is usable as soon as the link is up.
    NoDad,
    /// IPv6 on with Duplicate Address Detection: the link-local address is tentative for a while.
    Dad,
}

/// One host namespace.
#[derive(Debug, Clone)]
pub struct Host {
    pub index: usize,
    pub ns: String,
    /// `eth0`.
    pub ifname: String,
    /// The veth peer in the switch namespace (a bridge port).
    pub switch_port: String,
    pub mac: Mac,
    /// `192.0.2.<index + 1>/24`.
    pub ipv4: Ipv4Addr,
    /// `2001:db8::<index + 1>/64` unless IPv6 is off.
    pub ipv6: Option<Ipv6Addr>,
    /// The EUI-64 link-local address the kernel derives from `mac`, unless IPv6 is off.
    pub link_local: Option<Ipv6Addr>,
}

/// Builder for a `Lab`.
#[derive(Debug, Clone)]
pub struct LabBuilder {
    test_name: String,
    hosts: usize,
    ipv6: Ipv6Mode,
    drop_vrrp_multicast: bool,
}

impl LabBuilder {
    /// Number of host namespaces (default 2, at most 200).
    pub fn hosts(mut self, count: usize) -> Self {
        self.hosts = count;
        self
    }

    pub fn ipv6(mut self, mode: Ipv6Mode) -> Self {
        self.ipv6 = mode;
        self
    }

    /// The switch drops VRRP multicast (224.0.0.18, ff02::12) between its ports, as a cloud subnet
    /// does (`netlab::Switch::drop_vrrp_multicast`); the observer sees none of it either.
    pub fn drop_vrrp_multicast(mut self) -> Self {
        self.drop_vrrp_multicast = true;
        self
    }

    /// Create the lab. Panics if not root or `ip`/`tcpdump` are missing; sweeps stale labs of earlier
    /// interrupted runs first. On error, whatever was created is deleted again.
    pub fn build(self) -> Result<Lab> {
        require_root();
        if self.hosts > 200 {
            return Err(HarnessError::new("a lab holds at most 200 hosts"));
        }
        sweep_stale_labs()?;
        let name_part: String = self
            .test_name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .take(NAME_PART_MAX)
            .collect();
        let sequence = LAB_SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("kv{}t{sequence}{name_part}", std::process::id());
        let dir = std::env::temp_dir().join("keepvip-netns").join(&prefix);
        std::fs::create_dir_all(&dir)
            .map_err(|err| HarnessError::new(format!("create {}: {err}", dir.display())))?;
        let mut lab = Lab {
            switch: Switch::new(format!("{prefix}-sw"), BRIDGE),
            observer_ns: format!("{prefix}-obs"),
            net: netlab::Lab::new(prefix),
            dir,
            hosts: Vec::new(),
            ipv6: self.ipv6,
        };
        lab.wire(self.hosts)?;
        if self.drop_vrrp_multicast {
            lab.switch.drop_vrrp_multicast()?;
        }
        Ok(lab)
    }
}

/// A built lab; see the module docs.
pub struct Lab {
    /// The namespaces and processes, deleted and killed on cleanup.
    net: netlab::Lab,
    dir: PathBuf,
    switch: Switch,
    observer_ns: String,
    hosts: Vec<Host>,
    ipv6: Ipv6Mode,
}

/// Write `/proc/sys/net/<key>` inside namespace `ns`.
fn sysctl(ns: &str, key: &str, value: &str) -> Result<()> {
    let path = format!("/proc/sys/net/{key}");
    in_netns(ns, || std::fs::write(&path, value))?
        .map_err(|err| HarnessError::new(format!("{ns}: write {path}: {err}")))
}

/// The modified EUI-64 link-local address for `mac` (RFC 4291 appendix A).
pub fn eui64_link_local(mac: &Mac) -> Ipv6Addr {
    Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        u16::from_be_bytes([mac[0] ^ 0x02, mac[1]]),
        u16::from_be_bytes([mac[2], 0xff]),
        u16::from_be_bytes([0xfe, mac[3]]),
        u16::from_be_bytes([mac[4], mac[5]]),
    )
}

/// Host `host`'s veth pair into the switch.
fn host_veth(host: &Host, with_addresses: bool) -> Veth {
    let mut link = Veth::new(&host.ns, HOST_IF, &host.switch_port).mac(host.mac);
    if with_addresses {
        link = link.address(format!("{}/24", host.ipv4));
        if let Some(ipv6) = host.ipv6 {
            link = link.address(format!("{ipv6}/64"));
        }
    }
    link
}

impl Lab {
    /// Start building a lab for the test `test_name` (its letters and digits go into the prefix).
    pub fn builder(test_name: &str) -> LabBuilder {
        LabBuilder {
            test_name: test_name.to_owned(),
            hosts: 2,
            ipv6: Ipv6Mode::Off,
            drop_vrrp_multicast: false,
        }
    }

    /// Namespace `<prefix>-<suffix>` with IPv6 on or off; returns its name.
    fn add_netns(&mut self, suffix: &str, ipv6_on: bool) -> Result<String> {
        let name = self.net.add_namespace(suffix)?;
        let disable = if ipv6_on { "0" } else { "1" };
        // `default` applies to interfaces created in or moved into the namespace later.
        sysctl(&name, "ipv6/conf/all/disable_ipv6", disable)?;
        sysctl(&name, "ipv6/conf/default/disable_ipv6", disable)?;
        if ipv6_on {
            let dad = if self.ipv6 == Ipv6Mode::Dad { "1" } else { "0" };
            sysctl(&name, "ipv6/conf/all/accept_dad", dad)?;
            sysctl(&name, "ipv6/conf/default/accept_dad", dad)?;
        }
        Ok(name)
    }

    fn wire(&mut self, host_count: usize) -> Result<()> {
        self.add_netns("sw", false)?;
        self.switch.create(&HUB_OPTIONS)?;
        let observer_ns = self.add_netns("obs", false)?;
        self.switch
            .plug(&Veth::new(observer_ns, HOST_IF, OBSERVER_PORT).mac(OBSERVER_MAC))?;
        for index in 0..host_count {
            let host = self.add_host(index)?;
            self.hosts.push(host);
        }
        Ok(())
    }

    /// Host `index`: namespace `<prefix>-h<index>`, switch port `h<index>`, MAC and addresses numbered
    /// `index + 1`.
    fn add_host(&mut self, index: usize) -> Result<Host> {
        let ipv6_on = self.ipv6 != Ipv6Mode::Off;
        let ns = self.add_netns(&format!("h{index}"), ipv6_on)?;
        let port = format!("h{index}");
        let number = u8::try_from(index + 1).map_err(|_| HarnessError::new("too many hosts"))?;
        let mac = [0x02, 0x6b, 0x76, 0, 0, number];
        let ipv4 = Ipv4Addr::new(192, 0, 2, number);
        let ipv6 = ipv6_on.then(|| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(number)));
        let host = Host {
            index,
            ns,
            ifname: HOST_IF.to_owned(),
            switch_port: port,
            mac,
            ipv4,
            ipv6,
            link_local: ipv6_on.then(|| eui64_link_local(&mac)),
        };
        self.switch.plug(&host_veth(&host, true))?;
        Ok(host)
    }

    /// Delete host `index`'s `eth0`; its switch port goes with it (a veth pair dies whole).
    pub fn unplug_host(&self, index: usize) -> Result<()> {
        crate::cmd::ip(&["-n", &self.host(index).ns, "link", "del", HOST_IF]).map(|_| ())
    }

    /// Create host `index`'s veth pair again as the lab built it (same names and MAC; its addresses
    /// unless `with_addresses` is false): a new interface, with a new ifindex.
    pub fn replug_host(&self, index: usize, with_addresses: bool) -> Result<()> {
        Ok(self
            .switch
            .plug(&host_veth(self.host(index), with_addresses))?)
    }

    /// `replug_host` with its addresses but MAC `mac`: a new EUI-64 link-local address too.
    pub fn replug_host_with_mac(&self, index: usize, mac: Mac) -> Result<()> {
        Ok(self
            .switch
            .plug(&host_veth(self.host(index), true).mac(mac))?)
    }

    /// `kv<pid>t<seq><name>`: every namespace of this lab starts with it.
    pub fn prefix(&self) -> &str {
        self.net.prefix()
    }

    /// The per-test directory for process output and captures (kept after a failing test).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// Host `index`; panics (a test bug) if there is no such host.
    pub fn host(&self, index: usize) -> &Host {
        match self.hosts.get(index) {
            Some(host) => host,
            None => panic!(
                "lab {} has {} hosts, no host {index}",
                self.prefix(),
                self.hosts.len()
            ),
        }
    }

    pub fn switch_ns(&self) -> &str {
        &self.switch.namespace
    }

    /// VRRP multicast packets the switch dropped so far (a lab built with `drop_vrrp_multicast`).
    pub fn vrrp_multicast_dropped(&self) -> Result<u64> {
        Ok(self.switch.vrrp_multicast_dropped()?)
    }

    pub fn observer_ns(&self) -> &str {
        &self.observer_ns
    }

    pub fn ipv6_mode(&self) -> Ipv6Mode {
        self.ipv6
    }

    /// Every namespace this lab created, in creation order.
    pub fn namespaces(&self) -> &[String] {
        self.net.namespaces()
    }

    /// Start `argv` inside namespace `ns`; output goes to `<dir>/<label>.stdout|stderr`. The process is
    /// killed (with its process group) when the lab is dropped.
    pub fn spawn(&self, ns: &str, label: &str, argv: &[&str]) -> Result<Proc> {
        Proc::spawn(&self.net, &self.dir, ns, label, argv)
    }

    /// `spawn` in host `index`'s namespace.
    pub fn spawn_on(&self, index: usize, label: &str, argv: &[&str]) -> Result<Proc> {
        let ns = self.host(index).ns.clone();
        self.spawn(&ns, label, argv)
    }

    /// Start a capture of everything on the lab link, seen from the observer; `filter` is an optional
    /// pcap filter expression split into words (e.g. `["ip", "proto", "112"]`).
    pub fn capture(&self, label: &str, filter: &[&str]) -> Result<Capture> {
        let path = self.dir.join(format!("{label}.pcap"));
        let argv = Capture::tcpdump_argv(HOST_IF, &path, filter);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let proc = self.spawn(&self.observer_ns, label, &argv)?;
        Capture::started(proc, path)
    }

    /// `capture` on interface `ifname` of namespace `ns` (say an observer plugged into a segment of
    /// `add_segment`), with a 32 MiB capture buffer so that thousands of packets a second on a loaded
    /// machine are not dropped by the kernel before tcpdump reads them.
    pub fn capture_in(
        &self,
        ns: &str,
        ifname: &str,
        label: &str,
        filter: &[&str],
    ) -> Result<Capture> {
        let path = self.dir.join(format!("{label}.pcap"));
        let mut argv = Capture::tcpdump_argv(ifname, &path, &["-B", "32768"]);
        argv.extend(filter.iter().map(|word| (*word).to_owned()));
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let proc = self.spawn(ns, label, &argv)?;
        Capture::started(proc, path)
    }

    /// Partition host `index` on the switch: every frame from or to its port is dropped, its link
    /// stays up (`netlab::Switch::isolate_port`).
    pub fn isolate_host(&self, index: usize) -> Result<()> {
        Ok(self.switch.isolate_port(&self.host(index).switch_port)?)
    }

    /// End `isolate_host`'s partition.
    pub fn heal_host(&self, index: usize) -> Result<()> {
        Ok(self.switch.heal_port(&self.host(index).switch_port)?)
    }

    /// Set host `index`'s own `eth0` administratively up or down.
    pub fn set_host_link(&self, index: usize, up: bool) -> Result<()> {
        set_link(&self.host(index).ns, HOST_IF, up)
    }

    /// Set host `index`'s switch port up or down: the host sees carrier loss (a pulled cable).
    pub fn set_switch_port(&self, index: usize, up: bool) -> Result<()> {
        set_link(&self.switch.namespace, &self.host(index).switch_port, up)
    }

    /// A second broadcast segment (say a WAN beside the lab's LAN): namespace `<prefix>-<suffix>` with a
    /// plain learning bridge, deleted with the lab. Wire namespaces into it with `plug`.
    pub fn add_segment(&mut self, suffix: &str) -> Result<Switch> {
        let ns = self.add_netns(suffix, false)?;
        let switch = Switch::new(ns, BRIDGE);
        switch.create(&[])?;
        Ok(switch)
    }

    /// A namespace `<prefix>-<suffix>` with IPv6 off and only its loopback, deleted with the lab (a host
    /// that is on a `add_segment` segment only).
    pub fn add_namespace(&mut self, suffix: &str) -> Result<String> {
        self.add_netns(suffix, false)
    }

    /// Wire namespace `ns` into `segment`: interface `ifname` inside, bridge port `port`, with the
    /// addresses `cidrs`.
    pub fn plug(
        &self,
        segment: &Switch,
        ns: &str,
        ifname: &str,
        port: &str,
        cidrs: &[&str],
    ) -> Result<()> {
        let link = cidrs
            .iter()
            .fold(Veth::new(ns, ifname, port), |link, cidr| {
                link.address(*cidr)
            });
        Ok(segment.plug(&link)?)
    }

    /// Write `/proc/sys/net/<key>` inside namespace `ns` (one of this lab's).
    pub fn sysctl(&self, ns: &str, key: &str, value: &str) -> Result<()> {
        sysctl(ns, key, value)
    }

    /// Kill every process and delete every namespace this lab created. Idempotent; `Drop` calls it.
    pub fn cleanup(&mut self) -> Result<()> {
        Ok(self.net.cleanup()?)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Err(err) = self.cleanup() {
            eprintln!("{err}");
        }
        if std::thread::panicking() {
            eprintln!(
                "lab {}: output kept in {}",
                self.prefix(),
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eui64_link_local_flips_the_universal_bit() {
        let mac = [0x02, 0x6b, 0x76, 0, 0, 1];
        assert_eq!(
            eui64_link_local(&mac),
            "fe80::6b:76ff:fe00:1".parse::<Ipv6Addr>().unwrap()
        );
    }
}
