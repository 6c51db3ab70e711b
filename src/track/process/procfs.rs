//! Reading /proc for the process tracker: which PIDs exist, and for one PID whether it is a live
//! process that a [`Pattern`] matches (and, with `same_netns`, in our network namespace). These
//! reads block (a `cmdline` read takes the process's memory lock), so the tracker runs them on
//! tokio's blocking pool.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::matching::Pattern;

/// Flag of a task in `do_exit` (the kernel's `PF_EXITING`), set before the proc connector's exit
/// event is sent: such a task is no longer counted, so a scan racing the exit cannot count it.
const PF_EXITING: u64 = 0x4;

/// How much of /proc/PID/cmdline is read: the configured name and arguments are far shorter, and
/// a longer command line still fails an exact comparison when cut here.
const CMDLINE_LIMIT: u64 = 64 * 1024;

/// Decides, from /proc, whether a PID is a process to count.
#[derive(Debug, Clone)]
pub(super) struct Matcher {
    pattern: Pattern,
    /// Our network namespace (`/proc/self/ns/net`'s link text), when only processes in it count.
    netns: Option<OsString>,
}

impl Matcher {
    pub(super) fn new(pattern: Pattern, netns: Option<OsString>) -> Matcher {
        Matcher { pattern, netns }
    }

    /// Every PID that matches now.
    pub(super) fn scan(&self) -> HashSet<i32> {
        pids()
            .into_iter()
            .filter(|pid| self.matches(*pid))
            .collect()
    }

    /// Whether `pid` is a live (not zombie, not exiting) process that matches. A process gone
    /// meanwhile does not match.
    pub(super) fn matches(&self, pid: i32) -> bool {
        let dir = Path::new("/proc").join(pid.to_string());
        let Some(stat) = read_limited(&dir.join("stat"), 4096) else {
            return false;
        };
        let Some(stat) = parse_stat(&stat) else {
            return false;
        };
        if !stat.alive {
            return false;
        }
        let cmdline = if self.pattern.needs_cmdline() {
            match read_limited(&dir.join("cmdline"), CMDLINE_LIMIT) {
                Some(c) => c,
                None => return false,
            }
        } else {
            Vec::new()
        };
        if !self.pattern.matches(&stat.comm, &cmdline) {
            return false;
        }
        match &self.netns {
            None => true,
            Some(ours) => std::fs::read_link(dir.join("ns/net")).is_ok_and(|ns| ns == *ours),
        }
    }
}

/// Our network namespace's identity, as /proc/self/ns/net's link text (`net:[4026531840]`).
pub(super) fn own_netns() -> std::io::Result<OsString> {
    std::fs::read_link("/proc/self/ns/net").map(|p| p.into_os_string())
}

/// The PIDs of all processes (thread-group leaders; /proc lists no other threads at its top).
fn pids() -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

fn read_limited(path: &Path, limit: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    File::open(path)
        .ok()?
        .take(limit)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// What the tracker needs of /proc/PID/stat.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Stat {
    pub comm: Vec<u8>,
    /// Neither a zombie nor dead nor exiting (keepalived skips zombies too: they do not run).
    pub alive: bool,
}

/// Parses `PID (COMM) STATE PPID PGRP SESSION TTY TPGID FLAGS ...`. `comm` may hold spaces and
/// parentheses, so it ends at the last `)`.
pub(super) fn parse_stat(text: &[u8]) -> Option<Stat> {
    let open = text.iter().position(|b| *b == b'(')?;
    let close = text.iter().rposition(|b| *b == b')')?;
    let comm = text.get(open + 1..close)?.to_vec();
    let rest = std::str::from_utf8(text.get(close + 1..)?).ok()?;
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    let state = *fields.first()?;
    let flags: u64 = fields.get(6)?.parse().ok()?;
    let alive = !matches!(state, "Z" | "X" | "x") && flags & PF_EXITING == 0;
    Some(Stat { comm, alive })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::process::ParamMatch;

    #[test]
    fn stat_comm_may_hold_spaces_and_parens() {
        let s = parse_stat(b"42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0\n").unwrap();
        assert_eq!(s.comm, b"a (b) c");
        assert!(s.alive);
    }

    #[test]
    fn zombies_and_exiting_tasks_are_not_alive() {
        let z = parse_stat(b"42 (sleep) Z 1 42 42 0 -1 4194316 0 0 0 0\n").unwrap();
        assert!(!z.alive);
        // 4194564 = 0x400104: PF_EXITING (0x4) set on a running task.
        let exiting = parse_stat(b"42 (sleep) R 1 42 42 0 -1 4194564 0 0 0 0\n").unwrap();
        assert!(!exiting.alive);
        assert_eq!(parse_stat(b"42 sleep S"), None);
    }

    #[test]
    fn our_own_process_is_found() {
        let me = i32::try_from(std::process::id()).unwrap();
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        let pattern = Pattern::new(comm.trim_end(), None, ParamMatch::Exact);
        let netns = own_netns().unwrap();
        assert!(Matcher::new(pattern.clone(), Some(netns)).matches(me));
        assert!(Matcher::new(pattern.clone(), None).scan().contains(&me));
        let elsewhere = OsString::from("net:[1]");
        assert!(!Matcher::new(pattern, Some(elsewhere)).matches(me));
    }
}
