//! Whether one process is one that a `track_process` counts, from what /proc says of it (its
//! `comm` and its `cmdline`). Pure functions: reading /proc is `procfs`'s job.
//!
//! keepalived (`check_process`, `check_params` in `keepalived/core/track_process.c`, the parser in
//! `vrrp_parser.c`) compares the configured name with `comm` unless parameters (or
//! `param_match`, or `full_command`) are configured; then it compares it with `argv[0]`, verbatim,
//! and the parameters with the rest of the command line. keepvip does the same, with these
//! choices:
//!
//! - A name with a `/` is a path: compared with `argv[0]` exactly (keepalived's `full_command`;
//!   keepvip's config says a name with a `/` is a path).
//! - Otherwise, with `args`, the name is compared with the last component of `argv[0]`, so
//!   `haproxy` matches a process started as `/usr/sbin/haproxy` (keepalived would need the path;
//!   everything keepalived matches still matches).
//! - Otherwise the name is compared with `comm`, which the kernel cuts to 15 bytes: a longer
//!   name is compared by its first 15 bytes (keepalived compares it whole and so never matches).
//! - `args` is compared with `argv[1..]` joined by single spaces, the configured text with its
//!   whitespace runs collapsed to one space (keepalived splits its config line into words and
//!   compares NUL-joined words, which is the same unless an argument itself holds spaces):
//!   `Exact` equal; `Partial` the configured words are the first words of the process's
//!   (whole words); `Initial` the configured text starts the process's, so its last word may be
//!   the start of a longer one (`3000` matches `3000.123`).
//! - `args = ""` with `Exact` means "no arguments at all" (keepalived's `param_match` without
//!   parameters); with `Partial` or `Initial` it matches any arguments.

use super::ParamMatch;

/// The kernel's `TASK_COMM_LEN` less its NUL: the most `comm` holds.
pub(super) const COMM_MAX: usize = 15;

/// What a tracker's process looks like, prepared once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pattern {
    name: Vec<u8>,
    by: By,
    /// The configured arguments, whitespace runs collapsed to one space.
    args: Option<Vec<u8>>,
    param_match: ParamMatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    /// `comm`, the name cut to 15 bytes.
    Comm,
    /// `argv[0]` exactly (a path).
    Argv0,
    /// The last `/`-separated component of `argv[0]`.
    Argv0Base,
}

impl Pattern {
    pub(super) fn new(name: &str, args: Option<&str>, param_match: ParamMatch) -> Pattern {
        let by = if name.contains('/') {
            By::Argv0
        } else if args.is_some() {
            By::Argv0Base
        } else {
            By::Comm
        };
        let mut name = name.as_bytes().to_vec();
        if by == By::Comm {
            name.truncate(COMM_MAX);
        }
        let args = args.map(|a| {
            a.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .into_bytes()
        });
        Pattern {
            name,
            by,
            args,
            param_match,
        }
    }

    /// Whether [`Pattern::matches`] needs the command line (otherwise `comm` decides).
    pub(super) fn needs_cmdline(&self) -> bool {
        self.by != By::Comm || self.args.is_some()
    }

    /// Whether a process with this `comm` and raw `cmdline` (NUL-separated, as in
    /// /proc/PID/cmdline; ignored when not [`Pattern::needs_cmdline`]) is one to count.
    pub(super) fn matches(&self, comm: &[u8], cmdline: &[u8]) -> bool {
        let argv = split_cmdline(cmdline);
        let argv0 = argv.first().copied().unwrap_or_default();
        let name_ok = match self.by {
            By::Comm => comm == self.name.as_slice(),
            By::Argv0 => argv0 == self.name.as_slice(),
            By::Argv0Base => basename(argv0) == self.name.as_slice(),
        };
        name_ok
            && self
                .args
                .as_deref()
                .is_none_or(|want| args_match(self.param_match, want, &argv[1.min(argv.len())..]))
    }
}

/// The arguments of a command line: NUL-separated, the final NUL ending the last one.
fn split_cmdline(cmdline: &[u8]) -> Vec<&[u8]> {
    let body = cmdline.strip_suffix(b"\0").unwrap_or(cmdline);
    if body.is_empty() {
        return Vec::new();
    }
    body.split(|b| *b == 0).collect()
}

fn basename(path: &[u8]) -> &[u8] {
    path.rsplit(|b| *b == b'/').next().unwrap_or(path)
}

/// keepalived's `check_params`, with the process's arguments joined by spaces.
fn args_match(how: ParamMatch, want: &[u8], args: &[&[u8]]) -> bool {
    let have = args.join(&b' ');
    match how {
        ParamMatch::Exact => have == want,
        ParamMatch::Partial => {
            want.is_empty()
                || (have.starts_with(want) && matches!(have.get(want.len()), None | Some(b' ')))
        }
        ParamMatch::Initial => have.starts_with(want),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, args: Option<&str>, how: ParamMatch) -> Pattern {
        Pattern::new(name, args, how)
    }

    const SLEEP: &[u8] = b"sleep\x003000.123\0";

    #[test]
    fn name_alone_is_compared_with_comm() {
        let pat = p("sleep", None, ParamMatch::Exact);
        assert!(!pat.needs_cmdline());
        assert!(pat.matches(b"sleep", b""));
        assert!(!pat.matches(b"sleeper", b""));
        assert!(!pat.matches(b"slee", b""));
        // Exact names, as pgrep '^name$': `ssh` is not `sshd`.
        assert!(!p("ssh", None, ParamMatch::Exact).matches(b"sshd", b""));
    }

    #[test]
    fn long_names_compare_their_first_15_bytes_with_comm() {
        let pat = p("keepvip-health-checker", None, ParamMatch::Exact);
        assert!(pat.matches(b"keepvip-health-", b""));
        assert!(!pat.matches(b"keepvip-health", b""));
        assert!(p("exactly15chars_", None, ParamMatch::Exact).matches(b"exactly15chars_", b""));
    }

    #[test]
    fn a_path_is_compared_with_argv0() {
        let pat = p("/usr/sbin/haproxy", None, ParamMatch::Exact);
        assert!(pat.needs_cmdline());
        assert!(pat.matches(b"haproxy", b"/usr/sbin/haproxy\0-f\0/etc/h.cfg\0"));
        assert!(!pat.matches(b"haproxy", b"haproxy\0-f\0/etc/h.cfg\0"));
        assert!(!pat.matches(b"haproxy", b"/usr/local/sbin/haproxy\0"));
        // A kernel thread has an empty command line.
        assert!(!pat.matches(b"haproxy", b""));
    }

    #[test]
    fn with_args_the_name_is_argv0_or_its_last_component() {
        let pat = p("sleep", Some("3000.123"), ParamMatch::Exact);
        assert!(pat.needs_cmdline());
        assert!(pat.matches(b"sleep", SLEEP));
        assert!(pat.matches(b"whatever", b"/bin/sleep\x003000.123\0"));
        assert!(!pat.matches(b"sleep", b"/bin/sleepy\x003000.123\0"));
    }

    #[test]
    fn exact_args() {
        let pat = p("haproxy", Some(" -f   /etc/h.cfg "), ParamMatch::Exact);
        assert!(pat.matches(b"", b"haproxy\0-f\0/etc/h.cfg\0"));
        assert!(!pat.matches(b"", b"haproxy\0-f\0/etc/h.cfg\0-D\0"));
        assert!(!pat.matches(b"", b"haproxy\0-f\0/etc/h.cf\0"));
        assert!(!pat.matches(b"", b"haproxy\0-f\0"));
        // No trailing NUL (a process that rewrote its command line) changes nothing.
        assert!(pat.matches(b"", b"haproxy\0-f\0/etc/h.cfg"));
        let none = p("sleep", Some(""), ParamMatch::Exact);
        assert!(none.matches(b"", b"sleep\0"));
        assert!(!none.matches(b"", SLEEP));
    }

    #[test]
    fn partial_args_are_the_first_whole_words() {
        let pat = p("haproxy", Some("-f /etc/h.cfg"), ParamMatch::Partial);
        assert!(pat.matches(b"", b"haproxy\0-f\0/etc/h.cfg\0"));
        assert!(pat.matches(b"", b"haproxy\0-f\0/etc/h.cfg\0-D\0"));
        assert!(!pat.matches(b"", b"haproxy\0-f\0/etc/h.cfg.bak\0"));
        assert!(!pat.matches(b"", b"haproxy\0-D\0-f\0/etc/h.cfg\0"));
        assert!(!pat.matches(b"", b"haproxy\0"));
        assert!(p("haproxy", Some(""), ParamMatch::Partial).matches(b"", b"haproxy\0-D\0"));
    }

    #[test]
    fn initial_args_may_end_inside_a_word() {
        let pat = p("sleep", Some("3000"), ParamMatch::Initial);
        assert!(pat.matches(b"", SLEEP));
        assert!(pat.matches(b"", b"sleep\x003000\0"));
        assert!(pat.matches(b"", b"sleep\x003000\x001\0"));
        assert!(!pat.matches(b"", b"sleep\x00300\0"));
        assert!(!pat.matches(b"", b"sleep\x00x3000\0"));
        let two = p("a", Some("-x 1"), ParamMatch::Initial);
        assert!(two.matches(b"", b"a\0-x\x0012\0"));
        assert!(!two.matches(b"", b"a\0-xy\x001\0"));
    }

    #[test]
    fn arguments_holding_spaces_join_with_spaces() {
        let pat = p("sh", Some("-c sleep 5"), ParamMatch::Exact);
        assert!(pat.matches(b"", b"sh\0-c\0sleep 5\0"));
    }
}
