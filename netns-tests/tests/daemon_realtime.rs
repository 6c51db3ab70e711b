//! `rt_priority`: the protocol thread (the daemon's main thread, which runs the current-thread
//! runtime) is SCHED_RR at the configured priority with SCHED_RESET_ON_FORK, every other thread and a
//! notify script it starts are SCHED_OTHER, and without CAP_SYS_NICE (taken out of the bounding set,
//! RLIMIT_RTPRIO 0) the daemon warns, naming the capability, and runs at the ordinary policy. Root
//! only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use netns_tests::Lab;
use netns_tests::daemon::running::{Keepvip, Launch};
use netns_tests::daemon::scenario::MASTER;

const PRIORITY: u8 = 40;

fn config(globals: &str, extra: &str) -> String {
    format!(
        r#"[global]
router_id = "rt"
garp_repeat = 1
garp_delay = "0s"
{globals}
[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 9
priority = 200
advert_interval = "10ms"
vips = ["192.0.2.90/24"]
{extra}
"#
    )
}

/// `chrt -p PID` (util-linux): policy and priority as chrt prints them.
fn chrt(pid: u32) -> String {
    let out = Command::new("chrt")
        .arg("-p")
        .arg(pid.to_string())
        .output()
        .expect("chrt (util-linux) is needed");
    assert!(out.status.success(), "chrt -p {pid}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `policy` from /proc/PID/task/TID/sched: 0 SCHED_OTHER, 2 SCHED_RR.
fn task_policies(pid: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let tid: u32 = entry
            .unwrap()
            .file_name()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let sched = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/sched")).unwrap();
        let policy = sched
            .lines()
            .find(|l| l.starts_with("policy"))
            .and_then(|l| l.split(':').nth(1))
            .map(|v| v.trim().parse().unwrap())
            .unwrap();
        out.push((tid, policy));
    }
    out
}

fn wait_for(what: &str, timeout: Duration, done: impl Fn() -> Option<String>) -> String {
    let start = Instant::now();
    loop {
        if let Some(found) = done() {
            return found;
        }
        assert!(start.elapsed() < timeout, "no {what} within {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn protocol_thread_runs_sched_rr_and_a_notify_script_does_not() {
    let lab = Lab::builder("rtprio").hosts(1).build().unwrap();
    let dir = lab.dir();
    let out = dir.join("notify-sched");
    let script = dir.join("became-master.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nchrt -p $$ > {}.tmp\nmv {0}.tmp {0}\n",
            out.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let globals = format!("rt_priority = {PRIORITY}\n");
    let extra = format!("notify_master = \"{}\"\n", script.display());
    let daemon = Keepvip::start(&lab, 0, "rt", &config(&globals, &extra)).unwrap();
    daemon
        .wait_state("VI_1", MASTER, Duration::from_secs(10))
        .unwrap();

    let pid = daemon.proc().pid();
    let main = chrt(pid);
    assert!(
        main.contains("SCHED_RR|SCHED_RESET_ON_FORK")
            && main.contains(&format!("priority: {PRIORITY}")),
        "protocol thread: {main}"
    );
    // Only the protocol thread is real-time; the log writer and any blocking-pool thread are not.
    let policies = task_policies(pid);
    assert!(policies.contains(&(pid, 2)), "{policies:?}");
    assert!(
        policies
            .iter()
            .all(|&(tid, policy)| tid == pid || policy == 0),
        "{policies:?}"
    );

    let script_sched = wait_for("notify_master run", Duration::from_secs(5), || {
        std::fs::read_to_string(&out).ok()
    });
    assert!(
        script_sched.contains("SCHED_OTHER") && script_sched.contains("priority: 0"),
        "notify script: {script_sched}"
    );
    let log = daemon.proc().stderr();
    assert!(log.contains("event loop under SCHED_RR"), "{log}");
}

#[test]
fn without_cap_sys_nice_it_warns_and_runs_at_normal_priority() {
    let lab = Lab::builder("rtnocap").hosts(1).build().unwrap();
    let globals = format!("rt_priority = {PRIORITY}\n");
    // Root without CAP_SYS_NICE and with RLIMIT_RTPRIO 0: neither a capability nor a limit allows it.
    let launch = Launch {
        dir: lab.dir().to_path_buf(),
        prefix: [
            "prlimit",
            "--rtprio=0:0",
            "setpriv",
            "--bounding-set=-sys_nice",
            "--inh-caps=-sys_nice",
        ]
        .map(String::from)
        .to_vec(),
    };
    let daemon = Keepvip::start_with(&lab, 0, "rtnocap", &config(&globals, ""), &launch).unwrap();
    daemon
        .wait_state("VI_1", MASTER, Duration::from_secs(10))
        .unwrap();
    let pid = daemon.proc().pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains("keepvip"), "{status}");
    let main = chrt(pid);
    assert!(main.contains("SCHED_OTHER"), "protocol thread: {main}");
    let log = daemon.proc().stderr();
    assert!(
        log.contains("CAP_SYS_NICE")
            && log.contains("running under the ordinary scheduling policy"),
        "{log}"
    );
    assert!(Path::new(&format!("/proc/{pid}")).exists());
}
