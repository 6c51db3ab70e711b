//! `keepvip status --json` and `keepvip watch` on a real pair (priorities 200 and 100, 100 ms
//! adverts): the JSON of both daemons follows the schema docs/status.md documents (every field there,
//! none undocumented, the documented types) with the right state, priorities, master and last
//! transition; `keepvip watch` piped into a file on the backup records the failover when the master
//! stops (BACKUP -> MASTER master_resigned) and the preemption when it comes back (MASTER -> BACKUP
//! preempted), and exits 5 with the error when its daemon goes away. Root only; run with
//! `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keepvip::control::schema::Schema;
use serde_json::Value;

use netns_tests::Lab;
use netns_tests::daemon::scenario::{
    BACKUP, MASTER, election_timeout, expect_state, start_keepvip,
};
use netns_tests::daemon::{InstanceSpec, Interval, Keepvip, keepvip_bin};

const VIP_CIDR: &str = "192.0.2.100/24";
const INTERVAL: Interval = Interval::from_millis(100);

/// `keepvip status --json` as the daemon printed it, unparsed into keepvip's own types.
fn raw_status(daemon: &Keepvip) -> Value {
    let output = Command::new(keepvip_bin())
        .arg("--control-socket")
        .arg(daemon.control_socket())
        .args(["status", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The documented schema, checked both ways against `status`; returns VI_1.
fn checked_instance(schema: &Schema, daemon: &Keepvip) -> Value {
    let status = raw_status(daemon);
    let problems = schema.check(&status).problems;
    assert!(
        problems.is_empty(),
        "{}: docs/status.md vs the output:\n{}\n{status:#}",
        daemon.label(),
        problems.join("\n")
    );
    assert_eq!(status["schema_version"], 1, "{status:#}");
    status["instances"][0].clone()
}

/// Expects VI_1's state, priorities, master and last transition.
fn expect_instance(
    instance: &Value,
    state: &str,
    priority: u64,
    master: (Ipv4Addr, u64, bool),
    last: (&str, &str, &str, Option<Ipv4Addr>),
) {
    let text = format!("{instance:#}");
    assert_eq!(instance["state"], state, "{text}");
    assert_eq!(instance["base_priority"], priority, "{text}");
    assert_eq!(instance["effective_priority"], priority, "{text}");
    assert_eq!(instance["master"], master.0.to_string(), "{text}");
    assert_eq!(instance["master_priority"], master.1, "{text}");
    assert_eq!(instance["master_is_self"], master.2, "{text}");
    let t = &instance["last_transition"];
    assert_eq!(
        (&t["from"], &t["to"], &t["reason"]),
        (&last.0.into(), &last.1.into(), &last.2.into()),
        "{text}"
    );
    let peer = last.3.map_or(Value::Null, |a| a.to_string().into());
    assert_eq!(t["peer"], peer, "{text}");
    // The change happened in this test, within the last minute.
    assert!(t["age_ms"].as_u64().is_some_and(|ms| ms < 60_000), "{text}");
}

/// `keepvip watch` with its stdout in `path` (a file: the plain line view), killed if still running.
struct Watch(Child);

impl Watch {
    fn start(daemon: &Keepvip, path: &Path) -> Watch {
        let child = Command::new(keepvip_bin())
            .arg("--control-socket")
            .arg(daemon.control_socket())
            .args(["watch", "--interval", "50ms"])
            .stdin(Stdio::null())
            .stdout(File::create(path).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Watch(child)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines of `path` with a transition: (instance, from, to, reason).
fn transitions(path: &Path) -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [_, instance, from, "->", to, reason, ..] if reason.ends_with(':') => Some((
                    (*instance).to_owned(),
                    (*from).to_owned(),
                    (*to).to_owned(),
                    reason.trim_end_matches(':').to_owned(),
                )),
                _ => None,
            }
        })
        .collect()
}

/// Waits (bounded) until `path` has a line containing `needle`: watch saw it, whatever the load.
fn wait_for_line(path: &Path, needle: &str) {
    let start = Instant::now();
    while !std::fs::read_to_string(path).is_ok_and(|text| text.contains(needle)) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{needle:?} never in {}: {:?}",
            path.display(),
            std::fs::read_to_string(path)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn status_json_follows_the_schema_and_watch_records_a_failover() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/status.md");
    let schema = Schema::from_markdown(&std::fs::read_to_string(docs).unwrap()).unwrap();
    let lab = Lab::builder("watch").hosts(2).build().unwrap();
    let (a, b) = (lab.host(0).ipv4, lab.host(1).ipv4);
    let high = InstanceSpec::new(200, INTERVAL, &[VIP_CIDR]);
    let low = InstanceSpec::new(100, INTERVAL, &[VIP_CIDR]);
    let master = start_keepvip(&lab, 0, 0, &high);
    expect_state(&master, MASTER, election_timeout(INTERVAL));
    let backup = start_keepvip(&lab, 1, 0, &low);
    expect_state(&backup, BACKUP, election_timeout(INTERVAL));
    std::thread::sleep(INTERVAL.duration() * 3);

    // A pair as it settled: the 200 became master alone, the 100 follows it.
    let on_master = checked_instance(&schema, &master);
    let startup_master = (a, 200, true);
    expect_instance(
        &on_master,
        MASTER,
        200,
        startup_master,
        ("BACKUP", MASTER, "master_down", None),
    );
    let on_backup = checked_instance(&schema, &backup);
    expect_instance(
        &on_backup,
        BACKUP,
        100,
        (a, 200, false),
        ("INIT", BACKUP, "startup", None),
    );

    let log = lab.dir().join("watch-h1.log");
    let mut watch = Watch::start(&backup, &log);
    wait_for_line(&log, "VI_1 is BACKUP");
    // The master stops: its priority-0 advert hands over after the backup's Skew_Time.
    master.proc().terminate().unwrap();
    master.proc().wait(Duration::from_secs(5)).unwrap();
    expect_state(&backup, MASTER, election_timeout(INTERVAL));
    let on_backup = checked_instance(&schema, &backup);
    println!("status of the backup after the takeover:\n{on_backup:#}");
    expect_instance(
        &on_backup,
        MASTER,
        100,
        (b, 100, true),
        ("BACKUP", MASTER, "master_resigned", Some(a)),
    );
    // It comes back and preempts.
    let master = start_keepvip(&lab, 0, 1, &high);
    expect_state(&master, MASTER, election_timeout(INTERVAL));
    expect_state(&backup, BACKUP, election_timeout(INTERVAL));
    let on_master = checked_instance(&schema, &master);
    expect_instance(
        &on_master,
        MASTER,
        200,
        (a, 200, true),
        ("BACKUP", MASTER, "preempting", Some(b)),
    );
    let on_backup = checked_instance(&schema, &backup);
    expect_instance(
        &on_backup,
        BACKUP,
        100,
        (a, 200, false),
        ("MASTER", BACKUP, "preempted", Some(a)),
    );
    wait_for_line(&log, "preempted:");

    // The watched daemon goes away: watch says so and exits 5.
    backup.proc().terminate().unwrap();
    let stopped = Instant::now();
    let exit = loop {
        if let Some(status) = watch.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "keepvip watch still runs after its daemon stopped"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut watch.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(exit.code(), Some(5), "{stderr}");
    assert!(stderr.contains("the daemon went away"), "{stderr}");

    let text = std::fs::read_to_string(&log).unwrap();
    println!("keepvip watch on the backup recorded:\n{text}");
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.ends_with(&format!("VI_1 is BACKUP priority 100 master {a} (200)")),
        "{text}"
    );
    let seen = transitions(&log);
    let expected: Vec<(String, String, String, String)> = [
        (BACKUP, MASTER, "master_resigned"),
        (MASTER, BACKUP, "preempted"),
    ]
    .iter()
    .map(|(from, to, why)| ("VI_1".into(), (*from).into(), (*to).into(), (*why).into()))
    .collect();
    // Its own stop may show as the last line (MASTER or BACKUP -> INIT shutdown) when a poll caught it.
    let before_stop: Vec<_> = seen.iter().filter(|t| t.3 != "shutdown").cloned().collect();
    assert_eq!(before_stop, expected, "{text}");
    assert!(
        text.contains(&format!("master {a} resigned (priority-0 advert)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{a} advertised priority 200, above ours")),
        "{text}"
    );
    // Each line starts with its UTC time, in order.
    let times: Vec<&str> = text.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(
        times.iter().all(|t| t.len() == 24 && t.ends_with('Z')),
        "{text}"
    );
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{text}");
    drop(master);
}
