//! Trackers and notify scripts on real daemons: a weighted track script moves the VIP when it fails
//! and back when it recovers; the notify scripts and the FIFO see every transition in order.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use netns_tests::Lab;
use netns_tests::daemon::Keepvip;
use netns_tests::daemon::scenario::{BACKUP, MASTER, expect_state, has_vip};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

/// A pair member at 100 ms adverts with `trackers` (TOML: definitions) and `uses` (the instance's
/// `track_*` keys).
fn tracked_config(label: &str, priority: u8, trackers: &str, uses: &str) -> String {
    format!(
        r#"[global]
router_id = "{label}"
garp_repeat = 1
garp_delay = "0s"
{trackers}
[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 1
priority = {priority}
advert_interval = "100ms"
vips = ["192.0.2.100/24"]
{uses}
"#
    )
}

/// a (200, tracking) and b (150, no trackers) elect a; returns both.
fn tracked_pair(lab: &Lab, trackers: &str, uses: &str) -> (Keepvip, Keepvip) {
    let a = Keepvip::start(lab, 0, "a", &tracked_config("a", 200, trackers, uses)).unwrap();
    expect_state(&a, MASTER, Duration::from_secs(10));
    let b = Keepvip::start(lab, 1, "b", &tracked_config("b", 150, "", "")).unwrap();
    expect_state(&b, BACKUP, Duration::from_secs(10));
    (a, b)
}

/// The VIP is on b only, and a says why: its effective priority.
fn expect_moved_to_b(lab: &Lab, a: &Keepvip, b: &Keepvip) {
    expect_state(b, MASTER, Duration::from_secs(3));
    expect_state(a, BACKUP, Duration::from_secs(1));
    let vip = IpAddr::V4(VIP);
    assert!(
        has_vip(lab, 1, vip) && !has_vip(lab, 0, vip),
        "{}",
        a.describe()
    );
}

fn expect_back_on_a(lab: &Lab, a: &Keepvip, b: &Keepvip) {
    expect_state(a, MASTER, Duration::from_secs(3));
    expect_state(b, BACKUP, Duration::from_secs(1));
    assert!(has_vip(lab, 0, IpAddr::V4(VIP)), "{}", a.describe());
}

#[test]
fn a_write_to_a_tracked_file_moves_the_vip() {
    let lab = Lab::builder("trkfile").hosts(2).build().unwrap();
    let file = lab.dir().join("weight");
    std::fs::write(&file, "0\n").unwrap();
    let trackers = format!(
        "[[track_file]]\nname = \"w\"\npath = \"{}\"\nweight = -1\n",
        file.display()
    );
    let (a, b) = tracked_pair(&lab, &trackers, "track_file = [\"w\"]");
    std::fs::write(&file, "60\n").unwrap();
    expect_moved_to_b(&lab, &a, &b);
    let status = a.instance("VI_1").unwrap();
    assert_eq!(
        (status.effective_priority, status.trackers[0].state.as_str()),
        (140, "60")
    );
    // Replaced by rename, as editors do.
    let tmp = lab.dir().join("weight.tmp");
    std::fs::write(&tmp, "0\n").unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    expect_back_on_a(&lab, &a, &b);
}

#[test]
fn a_killed_tracked_process_moves_the_vip() {
    let lab = Lab::builder("trkproc").hosts(2).build().unwrap();
    // A process only host 0's namespace runs; same_netns keeps host 1's processes out.
    let service = lab.spawn_on(0, "service", &["sleep", "3000.25"]).unwrap();
    let trackers = "[[track_process]]\nname = \"svc\"\nprocess = \"sleep\"\nargs = \"3000.25\"\nweight = -60\nsame_netns = true\n";
    let (a, b) = tracked_pair(&lab, trackers, "track_process = [\"svc\"]");
    assert_eq!(a.instance("VI_1").unwrap().trackers[0].state, "OK");
    service.kill_and_wait().unwrap();
    expect_moved_to_b(&lab, &a, &b);
    let _again = lab.spawn_on(0, "service2", &["sleep", "3000.25"]).unwrap();
    expect_back_on_a(&lab, &a, &b);
}

#[test]
fn a_tracked_interface_going_down_moves_the_vip() {
    let lab = Lab::builder("trkif").hosts(2).build().unwrap();
    let ns = lab.host(0).ns.clone();
    netns_tests::cmd::ip(&[
        "-n", &ns, "link", "add", "up0", "type", "veth", "peer", "name", "up0p",
    ])
    .unwrap();
    netns_tests::cmd::ip(&["-n", &ns, "link", "set", "up0p", "up"]).unwrap();
    netns_tests::cmd::ip(&["-n", &ns, "link", "set", "up0", "up"]).unwrap();
    // No weight: down is FAULT, as keepalived's track_interface.
    let (a, b) = tracked_pair(&lab, "", "track_interface = [\"up0\"]");
    netns_tests::cmd::ip(&["-n", &ns, "link", "set", "up0", "down"]).unwrap();
    expect_state(&b, MASTER, Duration::from_secs(3));
    expect_state(&a, "FAULT", Duration::from_secs(1));
    assert!(!has_vip(&lab, 0, IpAddr::V4(VIP)));
    netns_tests::cmd::ip(&["-n", &ns, "link", "set", "up0", "up"]).unwrap();
    expect_back_on_a(&lab, &a, &b);
}

#[test]
fn a_hanging_track_script_is_killed_counts_as_ko_and_a_missing_one_is_reported() {
    let lab = Lab::builder("trkhang").hosts(2).build().unwrap();
    let dir = lab.dir();
    script(&dir.join("hang.sh"), "sleep 61.75");
    let trackers = format!(
        "[[track_script]]\nname = \"hang\"\ncommand = \"{}\"\ninterval = \"200ms\"\ntimeout = \"300ms\"\nweight = -60\n\
         [[track_script]]\nname = \"gone\"\ncommand = \"{}/no-such-check.sh\"\ninterval = \"200ms\"\nweight = 1\n",
        dir.join("hang.sh").display(),
        dir.display()
    );
    let config = tracked_config("a", 200, &trackers, "track_script = [\"hang\", \"gone\"]");
    // `check` reports the missing script, naming its path (a warning: it may be deployed later).
    let config_path = dir.join("check.toml");
    std::fs::write(&config_path, &config).unwrap();
    let check = std::process::Command::new(netns_tests::daemon::keepvip_bin())
        .args(["-c", &config_path.display().to_string(), "check"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: track_script \"gone\": "),
        "{stderr}"
    );
    assert!(stderr.contains("no-such-check.sh"), "{stderr}");
    // `run` starts anyway: the hanging script is KO after its timeout, the missing one KO too.
    let a = Keepvip::start(&lab, 0, "a", &config).unwrap();
    let b = Keepvip::start(&lab, 1, "b", &tracked_config("b", 150, "", "")).unwrap();
    expect_state(&b, MASTER, Duration::from_secs(10));
    expect_state(&a, BACKUP, Duration::from_secs(1));
    let status = a.instance("VI_1").unwrap();
    assert_eq!(status.effective_priority, 140, "{status:?}");
    let states: Vec<(&str, Option<&str>)> = status
        .trackers
        .iter()
        .map(|t| (t.state.as_str(), t.last_run.as_deref()))
        .collect();
    assert_eq!(
        states[0],
        ("KO", Some("killed after timeout 300ms")),
        "{status:?}"
    );
    assert_eq!(states[1].0, "KO");
    assert!(
        states[1].1.is_some_and(|r| r.contains("no-such-check.sh")),
        "{status:?}"
    );
    assert!(
        a.logs().contains("no-such-check.sh"),
        "the log names the missing script"
    );
    // Every run was killed with its process group: no `sleep 61.75` survives.
    let leftovers = std::process::Command::new("pgrep")
        .args(["-f", "sleep 61.75"])
        .output()
        .unwrap();
    let running = String::from_utf8_lossy(&leftovers.stdout);
    let running: Vec<&str> = running.lines().collect();
    // At most the run in progress right now.
    assert!(running.len() <= 1, "leftover hanging scripts: {running:?}");
}

#[test]
fn a_hanging_notify_script_delays_no_advert_and_is_killed_at_its_timeout() {
    let lab = Lab::builder("ntfhang").hosts(1).build().unwrap();
    let dir = lab.dir();
    script(
        &dir.join("hang.sh"),
        "echo started >> \"$0.log\"; sleep 62.5",
    );
    let capture = lab.capture("vrrp", &["ip", "proto", "112"]).unwrap();
    let hang = dir.join("hang.sh").display().to_string();
    // The "trackers" slot lands in [global]: that is where notify_timeout goes.
    let config = tracked_config(
        "a",
        200,
        "notify_timeout = \"1500ms\"\n",
        &format!("notify = \"{hang}\""),
    );
    let a = Keepvip::start(&lab, 0, "a", &config).unwrap();
    expect_state(&a, MASTER, Duration::from_secs(10));
    // BACKUP's notify hangs first; MASTER's waits behind it; adverts go on regardless.
    std::thread::sleep(Duration::from_millis(2500));
    let frames = capture.stop().unwrap();
    let from_a: Vec<Duration> = netns_tests::daemon::adverts(&frames)
        .iter()
        .filter(|advert| advert.src == IpAddr::V4(lab.host(0).ipv4))
        .map(|advert| advert.timestamp)
        .collect();
    assert!(from_a.len() >= 15, "adverts every 100 ms: {}", from_a.len());
    let largest = from_a.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    // 100 ms adverts; a loaded 2-core machine may add tens of milliseconds, never a notify timeout.
    assert!(
        largest < Duration::from_millis(180),
        "largest advert gap {largest:?}"
    );
    let log = a.logs();
    assert!(
        log.contains("killed after timeout 1.5s"),
        "{}",
        a.describe()
    );
    let started = std::fs::read_to_string(dir.join("hang.sh.log")).unwrap();
    assert_eq!(
        started.lines().count(),
        2,
        "BACKUP, then MASTER after BACKUP's was killed"
    );
}

#[test]
fn twenty_rapid_transitions_reach_notify_and_the_fifo_in_order_with_their_arguments() {
    let lab = Lab::builder("ntf20").hosts(2).build().unwrap();
    let dir = lab.dir();
    script(
        &dir.join("notify.sh"),
        "log=$1; shift; echo \"$*\" >> \"$log\"",
    );
    let file = dir.join("weight");
    std::fs::write(&file, "0\n").unwrap();
    let global = format!(
        "notify_fifo = \"{dir}/a.fifo\"\n[[track_file]]\nname = \"w\"\npath = \"{}\"\nweight = -1\n",
        file.display(),
        dir = dir.display()
    );
    let uses = format!(
        "track_file = [\"w\"]\nnotify = \"{dir}/notify.sh {dir}/a.notify\"",
        dir = dir.display()
    );
    let (a, b) = tracked_pair(&lab, &global, &uses);
    // Ten times: 200 - 60 = 140 < 150 (b takes over), then 200 again (a preempts back).
    for _ in 0..10 {
        std::fs::write(&file, "60\n").unwrap();
        expect_state(&a, BACKUP, Duration::from_secs(3));
        std::fs::write(&file, "0\n").unwrap();
        expect_state(&a, MASTER, Duration::from_secs(3));
    }
    expect_state(&b, BACKUP, Duration::from_secs(1));
    // The daemon's own transition log is the order of record.
    let transitions = a.transitions();
    assert_eq!(transitions.len(), 22, "{}", a.describe());
    let expected: Vec<String> = transitions
        .iter()
        .map(|t| format!("INSTANCE VI_1 {} {}", t.to, t.priority))
        .collect();
    let notify_log = dir.join("a.notify");
    let waited = netns_tests::wait_for_value(
        "every notify run",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || {
            let text = std::fs::read_to_string(&notify_log).unwrap_or_default();
            let lines: Vec<String> = text.lines().map(String::from).collect();
            Ok((lines.len() >= expected.len()).then_some(lines))
        },
    );
    let (lines, _) = waited.unwrap();
    assert_eq!(lines, expected);
    let fifo = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(dir.join("a.fifo"))
        .unwrap();
    let mut text = String::new();
    let _ = std::io::Read::read_to_string(&mut &fifo, &mut text);
    let fifo_expected: Vec<String> = transitions
        .iter()
        .map(|t| format!("INSTANCE \"VI_1\" {} {}", t.to, t.priority))
        .collect();
    assert_eq!(text.lines().collect::<Vec<_>>(), fifo_expected);
}

/// keepalived waits a whole Master_Down_Interval after a weighted failure (4.9 s measured with advert
/// 1 s, script interval 1 s, fall 2); keepvip's master advertises its lower priority at once and the
/// backup takes over after its Skew_Time.
#[test]
fn a_weighted_failure_at_1s_moves_the_vip_within_detection_plus_one_interval_plus_skew() {
    let lab = Lab::builder("trk1s").hosts(2).build().unwrap();
    let dir = lab.dir();
    script(&dir.join("check.sh"), "test ! -e \"$1\"");
    let pair = |label: &str, priority: u8| {
        let trackers = format!(
            "[[track_script]]\nname = \"chk\"\ncommand = \"{dir}/check.sh {dir}/{label}.down\"\ninterval = \"1s\"\nfall = 2\nweight = -60\n",
            dir = dir.display()
        );
        tracked_config(label, priority, &trackers, "track_script = [\"chk\"]")
            .replace("advert_interval = \"100ms\"", "advert_interval = \"1s\"")
    };
    let a = Keepvip::start(&lab, 0, "a", &pair("a", 200)).unwrap();
    expect_state(&a, MASTER, Duration::from_secs(10));
    let b = Keepvip::start(&lab, 1, "b", &pair("b", 150)).unwrap();
    expect_state(&b, BACKUP, Duration::from_secs(10));
    let capture = lab.capture("arp", &["arp"]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let failed_at = netns_tests::daemon::wire::wall_clock();
    std::fs::write(dir.join("a.down"), "").unwrap();
    expect_state(&b, MASTER, Duration::from_secs(6));
    std::thread::sleep(Duration::from_millis(200));
    let frames = capture.stop().unwrap();
    let garp = netns_tests::daemon::wire::gratuitous_arps(&frames, VIP)
        .into_iter()
        .find(|arp| arp.sender_mac == lab.host(1).mac && arp.timestamp > failed_at)
        .expect("b's gratuitous ARP");
    let handover = garp.timestamp - failed_at;
    // Detection: at most fall x interval (2 s, the first failing run is up to 1 s away); then the
    // master's lower-priority advert goes out at once and b waits its Skew_Time, (256-150)/256 s.
    let skew = Duration::from_micros(414_063);
    let bound = Duration::from_secs(2) + skew;
    eprintln!(
        "MEASURE weighted_failover_1s_fall2 handover_ms={} bound_ms={} (keepalived 2.2.7: 4900 ms)",
        handover.as_millis(),
        bound.as_millis()
    );
    // One advert interval of slack on top for a loaded 2-core machine.
    assert!(
        handover <= bound + Duration::from_secs(1),
        "handover {handover:?} over {bound:?} + 1 s"
    );
}

#[test]
fn startup_waits_for_the_first_check_and_a_sigterm_meanwhile_stops_it_cleanly() {
    let lab = Lab::builder("trkwait").hosts(1).build().unwrap();
    let dir = lab.dir();
    script(&dir.join("slow.sh"), "sleep 4");
    let trackers = format!(
        "[[track_script]]\nname = \"slow\"\ncommand = \"{}\"\ninterval = \"5s\"\ntimeout = \"10s\"\n",
        dir.join("slow.sh").display()
    );
    let a = Keepvip::start(
        &lab,
        0,
        "a",
        &tracked_config("a", 200, &trackers, "track_script = [\"slow\"]"),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // Still waiting for the first result: the instance has not started.
    assert_eq!(
        a.instance("VI_1").unwrap().state,
        "INIT",
        "{}",
        a.describe()
    );
    let stopped = std::time::Instant::now();
    a.terminate().unwrap();
    let status = a.wait_exit(Duration::from_secs(5)).unwrap();
    assert!(status.success(), "{status:?}\n{}", a.describe());
    assert!(
        stopped.elapsed() < Duration::from_secs(3),
        "stopped in {:?}",
        stopped.elapsed()
    );
    assert!(!has_vip(&lab, 0, IpAddr::V4(VIP)));
    assert!(
        a.transitions().is_empty(),
        "never started: {:?}",
        a.transitions()
    );
}

/// A router pair: LAN (VRID 1) and WAN (VRID 2) in one sync group that tracks the uplink `wan0`.
fn router_config(lab: &Lab, label: &str, priority: u8) -> String {
    let dir = lab.dir().display().to_string();
    let instance = |name: &str, vrid: u8, vip: &str| {
        format!(
            "[[instance]]\nname = \"{name}\"\ninterface = \"eth0\"\nvrid = {vrid}\npriority = {priority}\n\
             advert_interval = \"100ms\"\nvips = [\"{vip}\"]\n"
        )
    };
    format!(
        "[global]\nrouter_id = \"{label}\"\ngarp_repeat = 1\ngarp_delay = \"0s\"\nnotify_fifo = \"{dir}/{label}.fifo\"\n\n{}\n{}\n\
         [[sync_group]]\nname = \"VG\"\nmembers = [\"VI_LAN\", \"VI_WAN\"]\ntrack_interface = [\"wan0\"]\n\
         notify = \"{dir}/notify.sh {dir}/{label}.group\"\n",
        instance("VI_LAN", 1, "192.0.2.100/24"),
        instance("VI_WAN", 2, "192.0.2.101/24"),
    )
}

#[test]
fn the_uplink_of_a_sync_group_going_down_moves_both_vips_and_notifies_the_group() {
    let lab = Lab::builder("syncgrp").hosts(2).build().unwrap();
    let dir = lab.dir();
    script(
        &dir.join("notify.sh"),
        "log=$1; shift; echo \"$*\" >> \"$log\"",
    );
    for index in 0..2 {
        let ns = lab.host(index).ns.clone();
        let ip = |args: &[&str]| netns_tests::cmd::ip(&[&["-n", &ns], args].concat()).unwrap();
        ip(&[
            "link", "add", "wan0", "type", "veth", "peer", "name", "wan0p",
        ]);
        ip(&["link", "set", "wan0p", "up"]);
        ip(&["link", "set", "wan0", "up"]);
    }
    let a = Keepvip::start(&lab, 0, "a", &router_config(&lab, "a", 200)).unwrap();
    for name in ["VI_LAN", "VI_WAN"] {
        a.wait_state(name, MASTER, Duration::from_secs(10)).unwrap();
    }
    let b = Keepvip::start(&lab, 1, "b", &router_config(&lab, "b", 150)).unwrap();
    for name in ["VI_LAN", "VI_WAN"] {
        b.wait_state(name, BACKUP, Duration::from_secs(10)).unwrap();
    }
    let (lan, wan) = (IpAddr::V4(VIP), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 101)));
    let a_ns = lab.host(0).ns.clone();
    netns_tests::cmd::ip(&["-n", &a_ns, "link", "set", "wan0", "down"]).unwrap();
    for name in ["VI_LAN", "VI_WAN"] {
        b.wait_state(name, MASTER, Duration::from_secs(3)).unwrap();
        a.wait_state(name, "FAULT", Duration::from_secs(1)).unwrap();
    }
    assert!(
        has_vip(&lab, 1, lan) && has_vip(&lab, 1, wan),
        "{}",
        b.describe()
    );
    assert!(
        !has_vip(&lab, 0, lan) && !has_vip(&lab, 0, wan),
        "{}",
        a.describe()
    );
    netns_tests::cmd::ip(&["-n", &a_ns, "link", "set", "wan0", "up"]).unwrap();
    for name in ["VI_LAN", "VI_WAN"] {
        a.wait_state(name, MASTER, Duration::from_secs(3)).unwrap();
        b.wait_state(name, BACKUP, Duration::from_secs(1)).unwrap();
    }
    let expected = [
        "GROUP VG BACKUP 0",
        "GROUP VG MASTER 0",
        "GROUP VG FAULT 0",
        "GROUP VG BACKUP 0",
        "GROUP VG MASTER 0",
    ];
    let log = dir.join("a.group");
    let (lines, _) = netns_tests::wait_for_value(
        "the group's notify lines",
        Duration::from_secs(5),
        Duration::from_millis(20),
        || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<String> = text.lines().map(String::from).collect();
            Ok((lines.len() >= expected.len()).then_some(lines))
        },
    )
    .unwrap();
    assert_eq!(lines, expected, "{}", a.describe());
    // The FIFO has the members' lines and the group's, keepalived's way.
    let fifo = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(dir.join("a.fifo"))
        .unwrap();
    let mut text = String::new();
    let _ = std::io::Read::read_to_string(&mut &fifo, &mut text);
    let group_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("GROUP")).collect();
    assert!(group_lines.len() >= 3, "{text}\n{}", a.describe());
    assert_eq!(
        group_lines[..3],
        [
            "GROUP \"VG\" BACKUP 0",
            "GROUP \"VG\" MASTER 0",
            "GROUP \"VG\" FAULT 0"
        ]
    );
    assert!(text.contains("INSTANCE \"VI_WAN\" FAULT 200"), "{text}");
}

/// A shell script, root-owned and 0755 (the daemon refuses scripts others could change).
fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A pair member at 100 ms adverts whose track script fails while `<dir>/<label>.down` exists.
fn config(lab: &Lab, label: &str, priority: u8) -> String {
    let dir = lab.dir().display().to_string();
    let check = format!("{dir}/check.sh");
    let notify = format!("{dir}/notify.sh");
    format!(
        r#"[global]
router_id = "{label}"
garp_repeat = 1
garp_delay = "0s"
notify_fifo = "{dir}/{label}.fifo"

[[track_script]]
name = "chk"
command = "{check} {dir}/{label}.down"
interval = "100ms"
fall = 2
rise = 2
weight = -60

[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 1
priority = {priority}
advert_interval = "100ms"
vips = ["192.0.2.100/24"]
track_script = ["chk"]
notify = "{notify} {dir}/{label}.notify"
notify_master = "{notify} {dir}/{label}.notify per-state"
"#
    )
}

#[test]
fn a_failing_weighted_track_script_moves_the_vip_and_notify_sees_every_transition_in_order() {
    let lab = Lab::builder("track").hosts(2).build().unwrap();
    let dir = lab.dir();
    script(&dir.join("check.sh"), "test ! -e \"$1\"");
    script(
        &dir.join("notify.sh"),
        "log=$1; shift; echo \"$*\" >> \"$log\"",
    );
    let vip = IpAddr::V4(VIP);
    let a = Keepvip::start(&lab, 0, "a", &config(&lab, "a", 200)).unwrap();
    expect_state(&a, MASTER, Duration::from_secs(10));
    let b = Keepvip::start(&lab, 1, "b", &config(&lab, "b", 150)).unwrap();
    expect_state(&b, BACKUP, Duration::from_secs(10));
    let status = a.instance("VI_1").unwrap();
    assert_eq!(status.trackers.len(), 1, "{status:?}");
    assert_eq!(status.trackers[0].state, "OK");
    assert_eq!(status.effective_priority, 200);

    // The script fails on a: 200 - 60 = 140 < 150, and b takes over.
    std::fs::write(dir.join("a.down"), "").unwrap();
    expect_state(&b, MASTER, Duration::from_secs(3));
    expect_state(&a, BACKUP, Duration::from_secs(1));
    let status = a.instance("VI_1").unwrap();
    assert_eq!(status.effective_priority, 140);
    assert_eq!(status.trackers[0].state, "KO");
    assert_eq!(
        status.trackers[0].last_run.as_deref(),
        Some("exited with status 1")
    );
    assert!(has_vip(&lab, 1, vip) && !has_vip(&lab, 0, vip));

    // It recovers: a preempts back.
    std::fs::remove_file(dir.join("a.down")).unwrap();
    expect_state(&a, MASTER, Duration::from_secs(3));
    expect_state(&b, BACKUP, Duration::from_secs(1));
    assert!(has_vip(&lab, 0, vip));

    // Notify on a: BACKUP (startup), MASTER, BACKUP, MASTER; per-state script before the generic one.
    let notify_log = dir.join("a.notify");
    let (log, _) = netns_tests::wait_for_value(
        "six notify lines",
        Duration::from_secs(5),
        Duration::from_millis(20),
        || {
            let text = std::fs::read_to_string(&notify_log).unwrap_or_default();
            Ok((text.lines().count() >= 6).then_some(text))
        },
    )
    .unwrap();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "INSTANCE VI_1 BACKUP 200",
            "per-state",
            "INSTANCE VI_1 MASTER 200",
            "INSTANCE VI_1 BACKUP 140",
            "per-state",
            "INSTANCE VI_1 MASTER 200",
        ],
        "{}",
        a.describe()
    );
    // The FIFO holds the same transitions in keepalived's format (nobody read it yet).
    let fifo = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(dir.join("a.fifo"))
        .unwrap();
    let mut text = String::new();
    let _ = std::io::Read::read_to_string(&mut &fifo, &mut text);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "INSTANCE \"VI_1\" BACKUP 200",
            "INSTANCE \"VI_1\" MASTER 200",
            "INSTANCE \"VI_1\" BACKUP 140",
            "INSTANCE \"VI_1\" MASTER 200",
        ]
    );
}
