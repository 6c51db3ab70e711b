//! keepvip without root: started through `setpriv` as an unprivileged user with only CAP_NET_RAW and
//! CAP_NET_ADMIN (ambient), as the shipped systemd unit runs it. It elects, installs its VIP, fails
//! over, keeps exactly those two capabilities, serves its control socket 0660 to `control_group`,
//! and talks systemd's notify protocol (READY, WATCHDOG from the loop, STOPPING). Without one of the
//! capabilities it refuses to start and says which. `startup_delay` keeps a booting node from taking
//! the VIP early, its link brought up late. Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use netns_tests::Lab;
use netns_tests::daemon::running::{Keepvip, Launch};
use netns_tests::daemon::scenario::{BACKUP, MASTER, expect_vip, has_vip, start_keepvip};
use netns_tests::daemon::{InstanceSpec, Interval, config_toml, keepvip_bin};

const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));
const VIP_CIDR: &str = "192.0.2.100/24";
/// nobody / nogroup on Debian: an unprivileged user that exists everywhere.
const UID: u32 = 65534;
const GID: u32 = 65534;
const GROUP: &str = "nogroup";
const CAP_NET_ADMIN_RAW: u64 = (1 << 12) | (1 << 13);

/// A directory the unprivileged daemon can use: its config and socket go there.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("keepvip-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::chown(&dir, Some(UID), Some(GID)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `setpriv` to the unprivileged user with `caps`, `env` set; a shell first exports its own pid as
/// WATCHDOG_PID (systemd's rule: the watchdog is for that pid only) and execs the rest, so it holds.
fn setpriv(caps: &str, env: &[String]) -> Vec<String> {
    let mut argv: Vec<String> = vec![
        "sh".into(),
        "-c".into(),
        "export WATCHDOG_PID=$$; exec \"$0\" \"$@\"".into(),
        "env".into(),
    ];
    argv.extend(env.iter().cloned());
    argv.extend([
        "setpriv".to_owned(),
        format!("--reuid={UID}"),
        format!("--regid={GID}"),
        "--clear-groups".into(),
        format!("--inh-caps={caps}"),
        format!("--ambient-caps={caps}"),
    ]);
    argv
}

fn capability_set(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(key)).unwrap();
    u64::from_str_radix(line[key.len() + 1..].trim(), 16).unwrap()
}

/// Every notify message received so far, in order.
fn notifications(socket: &UnixDatagram) -> Vec<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while let Ok(n) = socket.recv(&mut buf) {
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    got
}

/// `keepvip status` as `uid`/`gid`: whether it was answered.
fn status_as(socket: &Path, uid: u32, gid: u32) -> std::process::Output {
    Command::new("setpriv")
        .args([
            format!("--reuid={uid}"),
            format!("--regid={gid}"),
            "--clear-groups".into(),
        ])
        .arg(keepvip_bin())
        .arg("--control-socket")
        .arg(socket)
        .args(["status", "--json"])
        .output()
        .unwrap()
}

#[test]
fn unprivileged_daemon_elects_fails_over_and_keeps_only_two_capabilities() {
    let lab = Lab::builder("unpriv").hosts(2).build().unwrap();
    let scratch = Scratch::new("unpriv");
    let notify_path = scratch.0.join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify.set_nonblocking(true).unwrap();
    std::fs::set_permissions(&notify_path, std::fs::Permissions::from_mode(0o777)).unwrap();
    let interval = Interval::from_millis(100);
    let mut config = config_toml("h0", &[InstanceSpec::new(200, interval, &[VIP_CIDR])]);
    config = config.replacen(
        "[global]\n",
        &format!("[global]\ncontrol_group = \"{GROUP}\"\n"),
        1,
    );
    let env = [
        format!("NOTIFY_SOCKET={}", notify_path.display()),
        "WATCHDOG_USEC=400000".to_owned(),
    ];
    let launch = Launch {
        dir: scratch.0.clone(),
        prefix: setpriv("+net_raw,+net_admin", &env),
    };
    let started = Instant::now();
    let master = Keepvip::start_with(&lab, 0, "h0", &config, &launch).unwrap();
    let backup = start_keepvip(&lab, 1, 0, &InstanceSpec::new(100, interval, &[VIP_CIDR]));
    master
        .wait_state("VI_1", MASTER, Duration::from_secs(10))
        .unwrap();
    backup
        .wait_state("VI_1", BACKUP, Duration::from_secs(10))
        .unwrap();
    expect_vip(&lab, 0, VIP, true, Duration::from_secs(5));
    assert!(!has_vip(&lab, 1, VIP));

    // Only the two capabilities, none in the ambient set (scripts would inherit those).
    let pid = master.proc().pid();
    assert_eq!(capability_set(pid, "CapEff"), CAP_NET_ADMIN_RAW);
    assert_eq!(capability_set(pid, "CapPrm"), CAP_NET_ADMIN_RAW);
    assert_eq!(capability_set(pid, "CapAmb"), 0, "ambient set cleared");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains(&format!("\nUid:\t{UID}\t")), "{status}");

    // The control socket: 0660, group control_group; a member reads status, a stranger cannot connect.
    let meta = std::fs::metadata(master.control_socket()).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o660);
    assert_eq!((meta.uid(), meta.gid()), (UID, GID));
    let member = status_as(master.control_socket(), 4321, GID);
    assert!(member.status.success(), "{member:?}");
    let stranger = status_as(master.control_socket(), 4321, 4321);
    assert!(!stranger.status.success());
    assert!(
        String::from_utf8_lossy(&stranger.stderr).contains("ermission denied"),
        "{stranger:?}"
    );

    // systemd's notify protocol: READY once, then watchdog pings at half of 400 ms.
    let ready_at = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let got = notifications(&notify);
    assert!(
        got.first().is_some_and(|m| m.contains("READY=1")),
        "{got:?} (ready by {ready_at:?})"
    );
    let pings = got.iter().filter(|m| m.contains("WATCHDOG=1")).count();
    assert!(
        (6..=14).contains(&pings),
        "{pings} watchdog pings in 2 s: {got:?}"
    );

    // Failover: SIGTERM the unprivileged master; it resigns, removes its VIP (CAP_NET_ADMIN) and
    // says STOPPING; the backup takes over.
    master.terminate().unwrap();
    let exit = master.wait_exit(Duration::from_secs(10)).unwrap();
    assert!(exit.success(), "{exit:?}\n{}", master.logs());
    backup
        .wait_state("VI_1", MASTER, Duration::from_secs(5))
        .unwrap();
    expect_vip(&lab, 1, VIP, true, Duration::from_secs(5));
    assert!(
        !has_vip(&lab, 0, VIP),
        "the unprivileged master removed its VIP"
    );
    let got = notifications(&notify);
    assert!(got.iter().any(|m| m.contains("STOPPING=1")), "{got:?}");
}

#[test]
fn a_missing_capability_stops_startup_with_its_name() {
    let lab = Lab::builder("nocap").hosts(1).build().unwrap();
    let scratch = Scratch::new("nocap");
    let interval = Interval::from_millis(100);
    let config = config_toml("h0", &[InstanceSpec::new(200, interval, &[VIP_CIDR])]);
    for (caps, missing) in [
        ("+net_raw", "lacks CAP_NET_ADMIN"),
        ("+net_admin", "lacks CAP_NET_RAW:"),
    ] {
        let launch = Launch {
            dir: scratch.0.clone(),
            prefix: setpriv(caps, &[]),
        };
        let err = match Keepvip::start_with(&lab, 0, "h0", &config, &launch) {
            Ok(_) => panic!("keepvip started with only {caps}"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains(missing), "{caps}: {err}");
        assert!(err.contains("exit status: 4"), "{caps}: {err}");
        assert!(!has_vip(&lab, 0, VIP));
    }
}

#[test]
fn startup_delay_keeps_a_late_link_from_preempting_early() {
    let lab = Lab::builder("bootrace").hosts(2).build().unwrap();
    let interval = Interval::from_millis(100);
    let low = start_keepvip(&lab, 1, 0, &InstanceSpec::new(100, interval, &[VIP_CIDR]));
    low.wait_state("VI_1", MASTER, Duration::from_secs(10))
        .unwrap();
    // The booting node: its link is down when keepvip starts and comes up a second later.
    lab.set_host_link(0, false).unwrap();
    let delay = Duration::from_secs(3);
    let config = config_toml("h0", &[InstanceSpec::new(200, interval, &[VIP_CIDR])]).replacen(
        "[global]\n",
        "[global]\nstartup_delay = \"3s\"\n",
        1,
    );
    let started = Instant::now();
    let high = Keepvip::start(&lab, 0, "h0", &config).unwrap();
    high.wait_state("VI_1", "FAULT", Duration::from_secs(2))
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    lab.set_host_link(0, true).unwrap();
    high.wait_state("VI_1", BACKUP, Duration::from_secs(2))
        .unwrap();
    // Until the delay is over the old master keeps the VIP (priority 200 would preempt at once).
    while started.elapsed() < delay - Duration::from_millis(300) {
        assert_eq!(
            low.instance("VI_1").unwrap().state,
            MASTER,
            "at {:?}",
            started.elapsed()
        );
        assert!(
            !has_vip(&lab, 0, VIP),
            "VIP on the booting node at {:?}",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    high.wait_state("VI_1", MASTER, Duration::from_secs(3))
        .unwrap();
    let took = started.elapsed();
    assert!(
        took >= delay,
        "master after {took:?}, before the {delay:?} delay"
    );
    assert!(
        took < delay + Duration::from_secs(2),
        "master only after {took:?}"
    );
    expect_vip(&lab, 0, VIP, true, Duration::from_secs(2));
    low.wait_state("VI_1", BACKUP, Duration::from_secs(2))
        .unwrap();
}

fn in_ns(ns: &str, argv: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(argv)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What needs CAP_NET_ADMIN beyond addresses: the vmac macvlan and its sysctls, and the nf_tables
/// table of `accept = false`, all done by the unprivileged daemon and undone at exit.
#[test]
fn unprivileged_daemon_builds_vmac_sysctls_and_the_accept_filter() {
    let lab = Lab::builder("unprivnet").hosts(1).build().unwrap();
    let scratch = Scratch::new("unprivnet");
    let interval = Interval::from_millis(100);
    let config = config_toml("h0", &[InstanceSpec::new(200, interval, &[VIP_CIDR])])
        + "vmac = true\naccept = false\n";
    let launch = Launch {
        dir: scratch.0.clone(),
        prefix: setpriv("+net_raw,+net_admin", &[]),
    };
    let daemon = Keepvip::start_with(&lab, 0, "h0", &config, &launch).unwrap();
    daemon
        .wait_state("VI_1", MASTER, Duration::from_secs(10))
        .unwrap();
    let ns = lab.host(0).ns.clone();
    let on_macvlan = in_ns(&ns, &["ip", "-o", "addr", "show", "dev", "vrrp.1"]);
    assert!(on_macvlan.contains("192.0.2.100/24"), "{on_macvlan}");
    let arp_ignore = in_ns(&ns, &["cat", "/proc/sys/net/ipv4/conf/eth0/arp_ignore"]);
    assert_eq!(arp_ignore.trim(), "1", "{}", daemon.logs());
    let table = in_ns(&ns, &["nft", "list", "table", "inet", "keepvip"]);
    assert!(table.contains("192.0.2.100"), "{table}\n{}", daemon.logs());
    daemon.terminate().unwrap();
    assert!(daemon.wait_exit(Duration::from_secs(10)).unwrap().success());
    assert_eq!(in_ns(&ns, &["ip", "-o", "link", "show", "vrrp.1"]), "");
    assert_eq!(in_ns(&ns, &["nft", "list", "table", "inet", "keepvip"]), "");
}
