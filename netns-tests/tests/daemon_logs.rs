//! The daemon's log as a program reads it: with JSON logs every line parses, and a failover driven by
//! a tracker leaves one transition line, one tracker-change line and one notify-run line per script
//! (exit code, duration); with text logs on a stream JOURNAL_STREAM names, lines carry journald's
//! `<N>` priority and no timestamp, and without it they start with one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use netns_tests::Lab;
use netns_tests::daemon::scenario::{BACKUP, MASTER, expect_state};
use netns_tests::daemon::{Keepvip, keepvip_bin};
use netns_tests::process::Proc;
use serde_json::Value;

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A pair member at 100 ms adverts; `extra` goes into the instance.
fn config(label: &str, priority: u8, globals: &str, extra: &str) -> String {
    format!(
        r#"[global]
router_id = "{label}"
garp_repeat = 1
garp_delay = "0s"
{globals}
[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 7
priority = {priority}
advert_interval = "100ms"
vips = ["192.0.2.70/24"]
{extra}
"#
    )
}

/// Every line of `log` as JSON; panics naming the first line that is not.
fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// The lines whose `event` is `event`.
fn events<'a>(lines: &'a [Value], event: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["event"] == event).collect()
}

/// Polls `proc`'s stderr until `done` holds (bounded); the text.
fn wait_log(proc: &Proc, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let log = proc.stderr();
        if done(&log) {
            return log;
        }
        assert!(
            start.elapsed() < timeout,
            "no {what} within {timeout:?}:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn json_logs_give_one_line_per_transition_tracker_change_and_notify_run() {
    let lab = Lab::builder("logjson").hosts(2).build().unwrap();
    let dir = lab.dir();
    let weight = dir.join("weight");
    std::fs::write(&weight, "0\n").unwrap();
    let ok = dir.join("became-master.sh");
    script(&ok, "sleep 0.2");
    let failing = dir.join("became-backup.sh");
    script(&failing, "exit 3");
    let globals = format!(
        "[[track_file]]\nname = \"w\"\npath = \"{}\"\nweight = -1\n",
        weight.display()
    );
    let uses = format!(
        "track_file = [\"w\"]\nnotify_master = \"{} up\"\nnotify_backup = \"{}\"\n",
        ok.display(),
        failing.display()
    );
    let a = Keepvip::start(&lab, 0, "a", &config("a", 200, &globals, &uses)).unwrap();
    expect_state(&a, MASTER, Duration::from_secs(10));
    let b = Keepvip::start(&lab, 1, "b", &config("b", 150, "", "")).unwrap();
    expect_state(&b, BACKUP, Duration::from_secs(10));

    // 200 - 60 = 140 < 150: b preempts, a becomes backup and runs its failing notify_backup.
    std::fs::write(&weight, "60\n").unwrap();
    expect_state(&b, MASTER, Duration::from_secs(3));
    expect_state(&a, BACKUP, Duration::from_secs(1));
    // notify_backup ran at startup (INIT -> BACKUP) and now again.
    let log = wait_log(
        a.proc(),
        "second failed notify run",
        Duration::from_secs(5),
        |log| log.matches("notify script failed").count() >= 2,
    );
    let lines = json_lines(&log);

    let transitions = events(&lines, "transition");
    let states: Vec<(&str, &str)> = transitions
        .iter()
        .map(|l| (l["from"].as_str().unwrap(), l["to"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("INIT", "BACKUP"),
            ("BACKUP", "MASTER"),
            ("MASTER", "BACKUP")
        ]
    );
    let line = transitions[2];
    assert_eq!(line["instance"], "VI_1");
    assert_eq!(line["priority"], 140, "{line}");
    assert!(
        line["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{line}"
    );
    assert_eq!(line["level"], "INFO");

    let changes = events(&lines, "tracker_change");
    let change = changes
        .iter()
        .find(|l| l["to"] == "60")
        .expect("a tracker_change to 60");
    assert_eq!(
        (
            change["tracker"].as_str(),
            change["kind"].as_str(),
            change["from"].as_str()
        ),
        (Some("w"), Some("file"), Some("0"))
    );
    assert_eq!(change["instances"], "VI_1");

    let runs = events(&lines, "notify_run");
    let master = runs
        .iter()
        .find(|l| l["state"] == "MASTER")
        .expect("MASTER notify run");
    assert_eq!(master["level"], "INFO");
    assert_eq!(master["script"], ok.display().to_string());
    assert_eq!(master["argv"], format!("{} up", ok.display()));
    assert_eq!(master["exit_code"], 0);
    let took = master["duration_ms"].as_u64().unwrap();
    assert!(
        (200..5_000).contains(&took),
        "the script sleeps 0.2 s: {took} ms"
    );
    let backup = runs
        .iter()
        .rfind(|l| l["state"] == "BACKUP")
        .expect("BACKUP notify run");
    assert_eq!(backup["level"], "WARN");
    assert_eq!(backup["script"], failing.display().to_string());
    assert_eq!(
        (backup["status"].as_str(), backup["exit_code"].as_i64()),
        (Some("exited"), Some(3))
    );
    assert!(backup["duration_ms"].as_u64().is_some(), "{backup}");
    // One line per run: BACKUP at startup, MASTER, BACKUP again.
    let order: Vec<&str> = runs.iter().map(|l| l["state"].as_str().unwrap()).collect();
    assert_eq!(order, ["BACKUP", "MASTER", "BACKUP"], "{runs:?}");
}

/// `keepvip run` with text logs in host `index`, its stderr in `<label>.stderr`; with `journal`,
/// JOURNAL_STREAM names that file as systemd would name the journal's socket.
fn start_text(lab: &Lab, index: usize, label: &str, priority: u8, journal: bool) -> Proc {
    let dir = lab.dir();
    let config_path = dir.join(format!("{label}.toml"));
    std::fs::write(&config_path, config(label, priority, "", "")).unwrap();
    // Proc::spawn truncates this file, keeping its inode.
    let stderr = dir.join(format!("{label}.stderr"));
    std::fs::write(&stderr, "").unwrap();
    let meta = std::fs::metadata(&stderr).unwrap();
    let stream = if journal {
        format!("JOURNAL_STREAM={}:{}", meta.dev(), meta.ino())
    } else {
        // Another file's numbers: not our stderr.
        format!("JOURNAL_STREAM={}:{}", meta.dev(), meta.ino() + 1)
    };
    let argv = [
        "env".to_owned(),
        stream,
        keepvip_bin().display().to_string(),
        "-c".to_owned(),
        config_path.display().to_string(),
        "--control-socket".to_owned(),
        dir.join(format!("{label}.sock")).display().to_string(),
        "run".to_owned(),
    ];
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let proc = lab.spawn_on(index, label, &argv).unwrap();
    assert_eq!(
        std::fs::metadata(proc.stderr_path()).unwrap().ino(),
        meta.ino()
    );
    proc
}

fn starts_with_timestamp(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 20 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[10] == b'T'
}

#[test]
fn text_logs_on_the_journal_stream_have_priorities_and_no_timestamps() {
    let lab = Lab::builder("logjrnl").hosts(2).build().unwrap();
    let journal = start_text(&lab, 0, "j", 200, true);
    let plain = start_text(&lab, 1, "p", 100, false);
    let is_transition = |to: &'static str| {
        move |log: &str| {
            log.lines()
                .any(|l| l.contains("event=\"transition\"") && l.contains(&format!("to=\"{to}\"")))
        }
    };
    let timeout = Duration::from_secs(15);
    let journal_log = wait_log(
        &journal,
        "MASTER transition",
        timeout,
        is_transition("MASTER"),
    );
    let plain_log = wait_log(
        &plain,
        "BACKUP transition",
        timeout,
        is_transition("BACKUP"),
    );
    assert!(journal_log.lines().count() >= 2, "{journal_log}");
    for line in journal_log.lines() {
        let prefixed = ["<3>", "<4>", "<6>", "<7>"]
            .iter()
            .any(|p| line.starts_with(p));
        assert!(prefixed, "no priority prefix: {line}");
        let rest = line[3..].trim_start();
        assert!(
            !starts_with_timestamp(rest),
            "timestamp under the journal: {line}"
        );
    }
    let transition = journal_log
        .lines()
        .find(|l| l.contains("event=\"transition\""))
        .unwrap();
    assert!(transition.starts_with("<6>"), "{transition}");
    for line in plain_log.lines() {
        assert!(
            starts_with_timestamp(line),
            "no timestamp without the journal: {line}"
        );
        assert!(!line.starts_with('<'), "{line}");
    }
}
