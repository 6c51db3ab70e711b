//! Lines rendered into a buffer by the daemon's own subscriber, then read back field by field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use super::events::{self, NotifyRun, SplitBrain};
use super::{LogFormat, Style, dispatch, journal};
use crate::exec::{Command, Finished, Outcome};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

/// The lines `emit` logs with `style`.
fn render(style: Style, emit: impl FnOnce()) -> Vec<String> {
    let buffer = Buffer::default();
    let dispatch = dispatch(style, EnvFilter::new("info"), buffer.clone());
    tracing::dispatcher::with_default(&dispatch, emit);
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

const JSON: Style = Style {
    format: LogFormat::Json,
    journal: false,
    ansi: false,
};

const TEXT: Style = Style {
    format: LogFormat::Text,
    journal: false,
    ansi: false,
};

/// The one JSON object `emit` logs.
fn json_line(emit: impl FnOnce()) -> Value {
    let lines = render(JSON, emit);
    assert_eq!(lines.len(), 1, "{lines:?}");
    serde_json::from_str(&lines[0]).unwrap()
}

fn notify_command(argv: &[&str]) -> Command {
    Command {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        shell: false,
        run_as: None,
        env: Vec::new(),
        timeout: Duration::from_secs(10),
    }
}

fn notify_line(outcome: Outcome) -> Value {
    let command = notify_command(&[
        "/etc/keepvip/notify.sh",
        "INSTANCE",
        "VI_1",
        "MASTER",
        "110",
    ]);
    let finished = Finished {
        outcome,
        duration: Duration::from_millis(1234),
    };
    json_line(|| {
        events::notify_run(&NotifyRun {
            subject: "INSTANCE",
            instance: "VI_1",
            state: "MASTER",
            script: "/etc/keepvip/notify.sh",
            command: &command,
            finished: &finished,
        })
    })
}

#[test]
fn a_transition_line_carries_instance_states_reason_and_priority() {
    let line =
        json_line(|| events::transition("VI_1", "BACKUP", "MASTER", "master_down", 110, true));
    assert_eq!(line["event"], "transition");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["instance"], "VI_1");
    assert_eq!(line["from"], "BACKUP");
    assert_eq!(line["to"], "MASTER");
    assert_eq!(line["reason"], "master_down");
    assert_eq!(line["priority"], 110);
    assert!(line["timestamp"].is_string(), "{line}");
}

#[test]
fn a_tracker_change_names_old_and_new_readings_and_the_instances() {
    let line =
        json_line(|| events::tracker_change("chk", "script", Some("OK"), "KO", &["VI_1", "VI_2"]));
    assert_eq!(line["event"], "tracker_change");
    assert_eq!(line["tracker"], "chk");
    assert_eq!(line["kind"], "script");
    assert_eq!(line["from"], "OK");
    assert_eq!(line["to"], "KO");
    assert_eq!(line["instances"], "VI_1,VI_2");
    let first = json_line(|| events::tracker_change("w", "file", None, "60", &["VI_1"]));
    assert_eq!(first["from"], "none");
    assert_eq!(first["to"], "60");
}

#[test]
fn a_notify_run_that_exits_0_is_info_with_its_exit_code_and_duration() {
    let line = notify_line(Outcome::Exited(0));
    assert_eq!(line["event"], "notify_run");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["script"], "/etc/keepvip/notify.sh");
    assert_eq!(
        line["argv"],
        "/etc/keepvip/notify.sh INSTANCE VI_1 MASTER 110"
    );
    assert_eq!(line["status"], "exited");
    assert_eq!(line["exit_code"], 0);
    assert_eq!(line["duration_ms"], 1234);
    assert!(line.get("signal").is_none(), "{line}");
}

#[test]
fn a_failing_notify_run_is_a_warning_with_path_and_exit_status() {
    let line = notify_line(Outcome::Exited(3));
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["script"], "/etc/keepvip/notify.sh");
    assert_eq!(line["exit_code"], 3);
    assert_eq!(line["outcome"], "exited with status 3");
    let killed = notify_line(Outcome::Signalled(15));
    assert_eq!(
        (killed["level"].as_str(), killed["signal"].as_i64()),
        (Some("WARN"), Some(15))
    );
    assert!(killed.get("exit_code").is_none(), "{killed}");
}

#[test]
fn a_timed_out_notify_run_is_a_warning_naming_the_kill() {
    let line = notify_line(Outcome::TimedOut(Duration::from_secs(10)));
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["status"], "timed_out");
    assert_eq!(line["signal"], libc::SIGKILL);
    assert_eq!(line["script"], "/etc/keepvip/notify.sh");
    let never = notify_line(Outcome::NotStarted("/x: No such file".into()));
    assert_eq!(
        (never["level"].as_str(), never["status"].as_str()),
        (Some("WARN"), Some("not_started"))
    );
}

#[test]
fn argv_summaries_quote_words_show_shell_text_and_stop_at_200_characters() {
    let quoted = notify_command(&["/bin/echo", "two words", "it's"]);
    assert_eq!(
        events::argv_summary(&quoted),
        r#"/bin/echo 'two words' 'it'\''s'"#
    );
    let shell = Command {
        shell: true,
        ..notify_command(&["logger -t keepvip up"])
    };
    assert_eq!(
        events::argv_summary(&shell),
        "/bin/sh -c 'logger -t keepvip up'"
    );
    let long = "x".repeat(500);
    let summary = events::argv_summary(&notify_command(&["/bin/echo", &long]));
    assert_eq!(summary.chars().count(), 203);
    assert!(summary.ends_with("..."));
}

#[test]
fn split_brain_lines_name_the_peer_and_the_cause_with_stable_fields() {
    let peer = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
    let line = json_line(|| {
        events::split_brain(&SplitBrain {
            instance: "VI_1",
            peer,
            peer_priority: 100,
            our_priority: 110,
            differences: "checksum: ours message_only, theirs pseudo_header",
            cause: "checksum_variant",
            explanation: "the peer drops our adverts",
        })
    });
    assert_eq!(line["event"], "split_brain");
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["instance"], "VI_1");
    assert_eq!(line["peer"], "192.0.2.2");
    assert_eq!(
        (
            line["peer_priority"].as_u64(),
            line["our_priority"].as_u64()
        ),
        (Some(100), Some(110))
    );
    assert_eq!(line["cause"], "checksum_variant");
    let end = json_line(|| events::split_brain_end("VI_1", peer));
    assert_eq!(
        (end["event"].as_str(), end["peer"].as_str()),
        (Some("split_brain_end"), Some("192.0.2.2"))
    );
}

#[test]
fn text_lines_carry_the_same_fields_as_key_value_pairs() {
    let lines = render(TEXT, || {
        events::transition("VI_1", "BACKUP", "MASTER", "master_down", 110, true)
    });
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    for field in [
        "event=\"transition\"",
        "instance=\"VI_1\"",
        "from=\"BACKUP\"",
        "to=\"MASTER\"",
        "reason=\"master_down\"",
        "priority=110",
    ] {
        assert!(line.contains(field), "{field} missing from {line}");
    }
}

/// Text lines start with a timestamp (`2026-12-01T13:07:02.123456Z`) unless they go to the journal,
/// where they start with the priority prefix instead.
#[test]
fn journal_text_lines_have_a_priority_prefix_and_no_timestamp() {
    let emit = || {
        events::transition("VI_1", "BACKUP", "MASTER", "master_down", 110, true);
        tracing::warn!("careful");
        tracing::error!("broken");
    };
    let plain = render(TEXT, emit);
    assert_eq!(plain.len(), 3);
    for line in &plain {
        assert!(starts_with_timestamp(line), "no timestamp: {line}");
    }
    let journal = render(
        Style {
            journal: true,
            ..TEXT
        },
        emit,
    );
    assert_eq!(journal.len(), 3);
    for (line, prefix) in journal.iter().zip(["<6> INFO", "<4> WARN", "<3>ERROR"]) {
        assert!(
            line.starts_with(prefix),
            "{line} should start with {prefix}"
        );
        assert!(
            !contains_timestamp(line),
            "timestamp in a journal line: {line}"
        );
    }
}

#[test]
fn json_lines_keep_their_timestamp_under_the_journal() {
    let lines = render(
        Style {
            journal: true,
            ..JSON
        },
        || tracing::info!("x"),
    );
    let line: Value = serde_json::from_str(&lines[0]).unwrap();
    assert!(line["timestamp"].is_string(), "{line}");
}

fn starts_with_timestamp(line: &str) -> bool {
    let year = &line[..4.min(line.len())];
    year.len() == 4 && year.chars().all(|c| c.is_ascii_digit()) && contains_timestamp(line)
}

/// An RFC 3339 date and time: `DDDD-DD-DDTDD:DD`.
fn contains_timestamp(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.windows(16).any(|w| {
        let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15];
        digits.iter().all(|&i| w[i].is_ascii_digit())
            && w[4] == b'-'
            && w[7] == b'-'
            && w[10] == b'T'
            && w[13] == b':'
    })
}

#[test]
fn journal_stream_matches_only_the_device_and_inode_of_that_stream() {
    let dir = std::env::temp_dir().join(format!("keepvip-journal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("stream");
    let file = std::fs::File::create(&path).unwrap();
    let meta = file.metadata().unwrap();
    let stream = format!("{}:{}", meta.dev(), meta.ino());
    assert!(journal::is_stream(&stream, file.as_fd()));
    let other = format!("{}:{}", meta.dev(), meta.ino() + 1);
    assert!(!journal::is_stream(&other, file.as_fd()));
    for bad in ["", ":", "1", "a:b", &format!("{}:", meta.dev())] {
        assert!(!journal::is_stream(bad, file.as_fd()), "{bad:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
