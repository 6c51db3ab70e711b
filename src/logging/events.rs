//! The log lines other programs parse, one function per kind and one line per occurrence. Each
//! carries `event` (its kind) and fixed field names, the same in text (`key=value`) and JSON;
//! README.md "Logs" lists them. A field that does not apply is left out (JSON: no key), never
//! written as an empty value.

use std::net::IpAddr;

use tracing::{info, warn};

use crate::exec::{Command, Finished, Outcome, SHELL};

/// The longest `argv` summary a notify-run line carries, in characters.
const ARGV_SUMMARY_MAX: usize = 200;

/// An instance changed state (`event=transition`).
pub fn transition(instance: &str, from: &str, to: &str, reason: &str, priority: u8, accept: bool) {
    info!(
        event = "transition",
        instance, from, to, reason, priority, accept, "transition"
    );
}

/// A sync group's state moved (`event=group_transition`).
pub fn group_transition(group: &str, from: &str, to: &str) {
    info!(
        event = "group_transition",
        group, from, to, "sync group transition"
    );
}

/// A tracker's reading changed (`event=tracker_change`): `from` is `none` before its first reading;
/// `instances` are the instances that track it, comma-separated.
pub fn tracker_change(tracker: &str, kind: &str, from: Option<&str>, to: &str, instances: &[&str]) {
    info!(
        event = "tracker_change",
        tracker,
        kind,
        from = from.unwrap_or("none"),
        to,
        instances = %instances.join(","),
        "tracker changed"
    );
}

/// One notify script run, as [`notify_run`] logs it.
pub struct NotifyRun<'a> {
    /// `INSTANCE` or `GROUP`.
    pub subject: &'a str,
    /// The instance's or the sync group's name.
    pub instance: &'a str,
    /// The state notified (MASTER, BACKUP, FAULT, STOP).
    pub state: &'a str,
    /// The script's path (for shell text, its first word).
    pub script: &'a str,
    /// What ran.
    pub command: &'a Command,
    pub finished: &'a Finished,
}

/// A notify script ran (`event=notify_run`): info when it exited 0, warn otherwise. `status` is
/// `exited`, `signalled`, `timed_out` (killed with SIGKILL: `signal=9`) or `not_started`;
/// `exit_code` and `signal` appear when they apply; `outcome` says it in words.
pub fn notify_run(run: &NotifyRun<'_>) {
    let (status, exit_code, signal) = match &run.finished.outcome {
        Outcome::Exited(code) => ("exited", Some(*code), None),
        Outcome::Signalled(number) => ("signalled", None, Some(*number)),
        Outcome::TimedOut(_) => ("timed_out", None, Some(libc::SIGKILL)),
        Outcome::NotStarted(_) => ("not_started", None, None),
    };
    let duration_ms = u64::try_from(run.finished.duration.as_millis()).unwrap_or(u64::MAX);
    let argv = argv_summary(run.command);
    let outcome = &run.finished.outcome;
    if outcome.is_success() {
        info!(
            event = "notify_run",
            subject = run.subject,
            instance = run.instance,
            state = run.state,
            script = run.script,
            argv,
            status,
            exit_code,
            signal,
            duration_ms,
            %outcome,
            "notify script ran"
        );
    } else {
        warn!(
            event = "notify_run",
            subject = run.subject,
            instance = run.instance,
            state = run.state,
            script = run.script,
            argv,
            status,
            exit_code,
            signal,
            duration_ms,
            %outcome,
            "notify script failed"
        );
    }
}

/// The command line as a shell would need it quoted (shell text as `/bin/sh -c 'TEXT'`), cut at
/// [`ARGV_SUMMARY_MAX`] characters.
pub fn argv_summary(command: &Command) -> String {
    let joined = if command.shell {
        shell_words::join([SHELL, "-c", command.name()])
    } else {
        shell_words::join(&command.argv)
    };
    if joined.chars().count() <= ARGV_SUMMARY_MAX {
        return joined;
    }
    let mut cut: String = joined.chars().take(ARGV_SUMMARY_MAX).collect();
    cut.push_str("...");
    cut
}

/// What a split-brain line says about the peer and the cause.
pub struct SplitBrain<'a> {
    pub instance: &'a str,
    pub peer: IpAddr,
    pub peer_priority: u8,
    pub our_priority: u8,
    /// Each difference as `label: ours X, theirs Y`, `; `-separated.
    pub differences: &'a str,
    /// The likely cause's stable label.
    pub cause: &'a str,
    /// The likely cause in a sentence.
    pub explanation: &'a str,
}

/// A split-brain episode began (`event=split_brain`, warn).
pub fn split_brain(split: &SplitBrain<'_>) {
    warn!(
        event = "split_brain",
        instance = split.instance,
        peer = %split.peer,
        peer_priority = split.peer_priority,
        our_priority = split.our_priority,
        differences = split.differences,
        cause = split.cause,
        "split brain: {} keeps advertising as master while we are master; likely cause: {}",
        split.peer,
        split.explanation
    );
}

/// A split-brain episode ended (`event=split_brain_end`).
pub fn split_brain_end(instance: &str, peer: IpAddr) {
    info!(
        event = "split_brain_end",
        instance,
        %peer,
        "split brain ended: {peer} no longer advertises as master to us"
    );
}
