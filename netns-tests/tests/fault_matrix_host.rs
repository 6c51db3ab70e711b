//! The fault matrix, host cells (issue 13): faults of the router's host rather than of the daemon or
//! the network (netlink refusing a VIP, a VIP removed or added by hand, hanging track and notify
//! scripts, a bad reload, a full disk, a memory limit), on a two-router lab (priorities 200/150, one
//! VIP, 100 ms adverts) while a client sends a request to the VIP every 10 ms and a sampler watches
//! both kernels for the VIP. Each cell records its row in the fault-matrix table
//! (`target/fault-matrix/table.md`, group `host`) and asserts the behaviour behind it. Root only;
//! run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::IpAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use netns_tests::daemon::scenario::{BACKUP, MASTER, has_vip};
use netns_tests::daemon::wire::wall_clock;
use netns_tests::daemon::{Interval, Keepvip, keepvip_bin};
use netns_tests::faults::host_inject::{
    MemoryCgroup, PrivateTmpfs, add_address, remove_address, resident_bytes, set_ipv6,
};
use netns_tests::faults::host_lab::{HostLab, HostRouter, steady_bounds};
use netns_tests::faults::{Bounds, INSTANCE, PRIORITIES, VIP, VIP_CIDR, Verdict};
use netns_tests::frames::arp_frames;
use netns_tests::lab::{Ipv6Mode, Lab};

const INTERVAL: Interval = Interval::from_millis(100);
/// An excluded IPv6 VIP beside the IPv4 one: what the EACCES cell has refused.
const VIP6: &str = "2001:db8::100";

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn plain_pair() -> [HostRouter; 2] {
    [HostRouter::plain(), HostRouter::plain()]
}

fn expect_passed(host: &HostLab, verdict: &Verdict) {
    assert!(verdict.passed(), "{verdict}\n{}", host.describe());
}

/// No transition since startup: INIT -> BACKUP -> MASTER on router 0, INIT -> BACKUP on router 1.
fn expect_no_transition(host: &HostLab) {
    for (index, expected) in [(0, 2), (1, 1)] {
        let status = host.daemon(index).unwrap().instance(INSTANCE).unwrap();
        assert_eq!(status.transitions, expected, "router {index}: {status:?}");
    }
}

fn log_lines<'a>(log: &'a str, needle: &str) -> Vec<&'a str> {
    log.lines().filter(|line| line.contains(needle)).collect()
}

/// The VIP deleted with `ip addr del` on the master: keepvip adds it back at once (no transition)
/// and announces it again. (keepalived 2.2.7 resigns instead: priority 0, VIPs removed, the backup
/// or itself takes over after Skew_Time; docs/linux.md.)
fn removed_by_hand(interval: Interval) {
    let host = HostLab::start("fhdel", interval, &plain_pair()).unwrap();
    std::thread::sleep(host.steady());
    let capture = host.lab.capture("arp", &["arp"]).unwrap();
    let from = wall_clock();
    remove_address(host.ns(0), VIP_CIDR).unwrap();
    std::thread::sleep(host.steady());
    let frames = capture.stop().unwrap();
    let verdict = host
        .judge(
            "VIP removed by hand on the master",
            from,
            steady_bounds(interval),
        )
        .unwrap();
    expect_passed(&host, &verdict);
    expect_no_transition(&host);
    let log = host.daemon(0).unwrap().logs();
    assert_eq!(log_lines(&log, "vips_restored").len(), 1, "{log}");
    let mac = host.lab.host(0).mac;
    let announced = arp_frames(&frames)
        .iter()
        .any(|arp| arp.timestamp > from && arp.sender_ip == VIP && arp.sender_mac == mac);
    assert!(announced, "no gratuitous ARP for the VIP after its removal");
}

/// IPv6 disabled on the master's interface: the kernel drops the excluded IPv6 VIP and refuses it
/// back (EACCES); keepvip reports it and keeps the IPv4 VIP and its state. Enabled again, the
/// refused VIP is back within the 5 s address re-read.
#[test]
fn a_vip_refused_by_the_kernel_permission_denied() {
    let router = HostRouter::plain().instance(&format!("excluded_vips = [\"{VIP6}/64\"]"));
    let lab = Lab::builder("fhacc").hosts(3).ipv6(Ipv6Mode::NoDad);
    let host = HostLab::start_in(lab, INTERVAL, &[router.clone(), router]).unwrap();
    let vip6: IpAddr = VIP6.parse().unwrap();
    assert!(has_vip(&host.lab, 0, vip6));
    std::thread::sleep(host.steady());
    let from = wall_clock();
    set_ipv6(&host.lab, host.ns(0), false).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let log = host.daemon(0).unwrap().logs();
    let refused = log_lines(&log, "vip_refused");
    assert!(
        refused
            .iter()
            .any(|line| line.contains("Permission denied") && line.contains(VIP6)),
        "{log}"
    );
    assert!(!has_vip(&host.lab, 0, vip6));
    set_ipv6(&host.lab, host.ns(0), true).unwrap();
    let enabled = Instant::now();
    while !has_vip(&host.lab, 0, vip6) {
        assert!(
            enabled.elapsed() < Duration::from_secs(7),
            "the refused VIP is not back 7 s after IPv6 came back\n{}",
            host.describe()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "refused IPv6 VIP back {:?} after IPv6 was enabled",
        enabled.elapsed()
    );
    std::thread::sleep(host.steady());
    let verdict = host
        .judge(
            "netlink refuses a VIP (EACCES)",
            from,
            steady_bounds(INTERVAL),
        )
        .unwrap();
    expect_passed(&host, &verdict);
    expect_no_transition(&host);
}

/// The VIP added by hand on the backup (an address keepvip did not install): two holders until
/// keepvip removes it, within the tolerance; nothing else changes.
fn present_on_the_backup(interval: Interval) {
    let host = HostLab::start("fhpre", interval, &plain_pair()).unwrap();
    std::thread::sleep(host.steady());
    let from = wall_clock();
    add_address(host.ns(1), VIP_CIDR).unwrap();
    std::thread::sleep(host.steady());
    let verdict = host
        .judge(
            "VIP already present (added by hand on the backup)",
            from,
            steady_bounds(interval),
        )
        .unwrap();
    expect_passed(&host, &verdict);
    expect_no_transition(&host);
    assert!(!has_vip(&host.lab, 1, IpAddr::V4(VIP)));
    let log = host.daemon(1).unwrap().logs();
    assert_eq!(log_lines(&log, "vip_adopted").len(), 1, "{log}");
}

/// The master's track script starts hanging: killed at its 300 ms timeout, counted a failure (KO,
/// weight -60: 140 < 150), so router 1 takes over by priority; the master's loop keeps answering.
fn hanging_track_script(interval: Interval) {
    let dir = std::env::temp_dir().join(format!("keepvip-fhtrk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let check = dir.join("check.sh");
    let hang = dir.join("hang");
    script(
        &check,
        &format!("[ -e {} ] && exec sleep 61.25\nexit 0", hang.display()),
    );
    let tracked = HostRouter::plain()
        .global(&format!(
            "[[track_script]]\nname = \"chk\"\ncommand = \"{}\"\ninterval = \"200ms\"\n\
             timeout = \"300ms\"\nweight = -60",
            check.display()
        ))
        .instance("track_script = [\"chk\"]");
    let host = HostLab::start("fhtrk", interval, &[tracked, HostRouter::plain()]).unwrap();
    std::thread::sleep(host.steady());
    let from = wall_clock();
    std::fs::write(&hang, "").unwrap();
    let took = host.wait_state(1, MASTER).unwrap();
    host.wait_state(0, BACKUP).unwrap();
    // The loop never waits for the script: status answers at once while it hangs.
    let asked = Instant::now();
    let status = host.daemon(0).unwrap().instance(INSTANCE).unwrap();
    let answered = asked.elapsed();
    std::thread::sleep(host.steady());
    let verdict = host
        .judge(
            "hanging track script (timeout, weight)",
            from,
            steady_bounds(interval),
        )
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    expect_passed(&host, &verdict);
    println!("handover {took:?} after the script began hanging; status answered in {answered:?}");
    assert!(answered < Duration::from_millis(500), "{answered:?}");
    assert_eq!(status.effective_priority, PRIORITIES[0] - 60, "{status:?}");
    let tracker = &status.trackers[0];
    assert_eq!(
        (tracker.state.as_str(), tracker.last_run.as_deref()),
        ("KO", Some("killed after timeout 300ms")),
        "{status:?}"
    );
    let log = host.daemon(0).unwrap().logs();
    assert!(
        log_lines(&log, "track script failed")
            .iter()
            .any(|line| line.contains(&check.display().to_string())),
        "the log names the script's path\n{log}"
    );
}

/// Router 1's notify scripts hang (60 s); router 0 resigns (SIGTERM): router 1 takes over within
/// Skew_Time regardless, and each hanging script is killed at notify_timeout (1 s) and logged.
fn hanging_notify_script(interval: Interval) {
    let dir = std::env::temp_dir().join(format!("keepvip-fhntf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hang = dir.join("notify.sh");
    script(&hang, "sleep 62.25");
    let notified = HostRouter::plain()
        .global("notify_timeout = \"1s\"")
        .instance(&format!("notify = \"{}\"", hang.display()));
    let host = HostLab::start("fhntf", interval, &[HostRouter::plain(), notified]).unwrap();
    std::thread::sleep(host.steady());
    let from = wall_clock();
    host.daemon(0).unwrap().terminate().unwrap();
    host.daemon(0)
        .unwrap()
        .wait_exit(Duration::from_secs(5))
        .unwrap();
    host.wait_state(1, MASTER).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let verdict = host
        .judge(
            "hanging notify script (master SIGTERM)",
            from,
            Bounds::resign(interval, PRIORITIES[1]),
        )
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    expect_passed(&host, &verdict);
    let log = host.daemon(1).unwrap().logs();
    let killed = log_lines(&log, "killed after timeout 1s");
    assert!(
        killed.len() >= 2,
        "BACKUP's and MASTER's runs killed\n{log}"
    );
}

/// A config that does not parse, by `keepvip reload` and by SIGHUP: refused with its position, the
/// running config kept, no transition, the VIP held throughout.
fn bad_reload(interval: Interval) {
    let host = HostLab::start("fhrld", interval, &plain_pair()).unwrap();
    std::thread::sleep(host.steady());
    let from = wall_clock();
    let master = host.daemon(0).unwrap();
    let path = host.lab.dir().join("h0.toml");
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, good.replace("priority = 200", "priority = 2000")).unwrap();
    let reload = std::process::Command::new(keepvip_bin())
        .arg("--control-socket")
        .arg(master.control_socket())
        .arg("reload")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&reload.stderr);
    assert_eq!(reload.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("h0.toml:") && stderr.contains("priority"),
        "{stderr}"
    );
    master
        .proc()
        .signal(nix::sys::signal::Signal::SIGHUP)
        .unwrap();
    std::thread::sleep(host.steady());
    let verdict = host
        .judge(
            "bad reload (keepvip reload, SIGHUP)",
            from,
            steady_bounds(interval),
        )
        .unwrap();
    expect_passed(&host, &verdict);
    expect_no_transition(&host);
    let log = master.logs();
    assert_eq!(log_lines(&log, "reload refused").len(), 2, "{log}");
    assert_eq!(master.instance(INSTANCE).unwrap().effective_priority, 200);
}

/// Router 1 runs with its notify FIFO, its notify output and its log on a tmpfs of 16 KiB in its
/// own mount namespace, filled up; router 0 resigns: router 1 takes over within Skew_Time, the FIFO
/// still gets its line (a pipe needs no disk), the notify script's failure is counted.
#[test]
fn a_full_disk_under_the_fifo_and_the_logs() {
    let dir = std::env::temp_dir().join(format!("keepvip-fhdsk-{}", std::process::id()));
    let disk = dir.join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    let notify = dir.join("notify.sh");
    // Each run appends more than a page: on the full tmpfs it fails (ENOSPC).
    script(
        &notify,
        &format!(
            "{{ echo \"$@\"; head -c 5000 /dev/zero; }} >> {}/notify.out",
            disk.display()
        ),
    );
    let tmpfs = PrivateTmpfs {
        dir: disk.clone(),
        size_kib: 16,
    };
    let full = HostRouter::plain()
        .global(&format!("notify_fifo = \"{}/notify.fifo\"", disk.display()))
        .instance(&format!("notify = \"{}\"", notify.display()))
        .prefix(tmpfs.launch_prefix());
    let host = HostLab::start("fhdsk", INTERVAL, &[HostRouter::plain(), full]).unwrap();
    let pid = host.daemon(1).unwrap().proc().pid();
    let filled = tmpfs.fill(pid).unwrap();
    let fifo = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(tmpfs.path_in(pid, "notify.fifo"))
        .unwrap();
    drain(&fifo);
    std::thread::sleep(host.steady());
    let from = wall_clock();
    host.daemon(0).unwrap().terminate().unwrap();
    host.daemon(0)
        .unwrap()
        .wait_exit(Duration::from_secs(5))
        .unwrap();
    host.wait_state(1, MASTER).unwrap();
    std::thread::sleep(host.steady());
    let verdict = host
        .judge(
            "full disk under the FIFO and the log (master SIGTERM)",
            from,
            Bounds::resign(INTERVAL, PRIORITIES[1]),
        )
        .unwrap();
    let lines = drain(&fifo);
    let status = host.daemon(1).unwrap().instance(INSTANCE).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    expect_passed(&host, &verdict);
    println!("tmpfs filled with {filled} bytes; FIFO lines after the takeover: {lines:?}");
    assert!(lines.contains("INSTANCE \"VI_1\" MASTER 150"), "{lines}");
    assert!(status.notify_failures >= 1, "{status:?}");
    assert!(
        host.daemon(1)
            .unwrap()
            .proc()
            .try_status()
            .unwrap()
            .is_none()
    );
}

/// What the FIFO holds now (non-blocking reads).
fn drain(fifo: &std::fs::File) -> String {
    use std::io::Read;
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    let mut reader = fifo;
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// The master's daemon under a memory limit of its resident set + 24 MiB, and a process of the same
/// cgroup growing without bound three times: the kernel's OOM killer takes the grower each time,
/// keepvip keeps running, MASTER, with its VIP.
#[test]
fn memory_pressure_under_a_cgroup_limit() {
    let host = HostLab::start("fhmem", INTERVAL, &plain_pair()).unwrap();
    let master: &Keepvip = host.daemon(0).unwrap();
    let pid = master.proc().pid();
    let cgroup = MemoryCgroup::create(&format!("keepvip-fhmem-{}", std::process::id())).unwrap();
    let rss = resident_bytes(pid).unwrap();
    cgroup.add(pid).unwrap();
    cgroup.set_limit(rss + (24 << 20)).unwrap();
    std::thread::sleep(host.steady());
    let from = wall_clock();
    // `tail` keeps a line without end in memory; the shell joins the cgroup while it sleeps (under
    // `ip netns exec` the namespace's /sys has no cgroup tree to join from inside).
    let grow = "sleep 0.5; for i in 1 2 3; do head -c 1G /dev/zero | tail; done";
    let grower = host.lab.spawn_on(0, "grower", &["sh", "-c", grow]).unwrap();
    cgroup.add(grower.pid()).unwrap();
    grower.wait(Duration::from_secs(30)).unwrap();
    std::thread::sleep(host.steady());
    let verdict = host
        .judge(
            &format!("memory pressure ({}, OOM)", cgroup.kind()),
            from,
            steady_bounds(INTERVAL),
        )
        .unwrap();
    let kills = cgroup.oom_kills().unwrap();
    println!(
        "keepvip RSS {} KiB, limit +24 MiB via {}; OOM kills {kills}",
        rss >> 10,
        cgroup.kind()
    );
    expect_passed(&host, &verdict);
    assert!(kills >= 3, "the grower was not OOM-killed 3 times: {kills}");
    assert!(
        master.proc().try_status().unwrap().is_none(),
        "keepvip died"
    );
    expect_no_transition(&host);
    drop(cgroup);
}

#[test]
fn vip_removed_by_hand_on_the_master_100ms() {
    removed_by_hand(Interval::from_millis(100));
}

#[test]
fn the_vip_already_present_on_the_backup_100ms() {
    present_on_the_backup(Interval::from_millis(100));
}

#[test]
fn a_hanging_track_script_100ms() {
    hanging_track_script(Interval::from_millis(100));
}

#[test]
fn a_hanging_notify_script_100ms() {
    hanging_notify_script(Interval::from_millis(100));
}

#[test]
fn a_bad_reload_100ms() {
    bad_reload(Interval::from_millis(100));
}
