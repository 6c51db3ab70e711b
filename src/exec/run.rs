//! Starting a [`Command`] and ending it: the process group, the environment, the timeout kill.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Instant;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Child;

use super::{BASE_ENV, Command, Finished, Outcome, SHELL};

/// Runs `command` to its end or its timeout. Never fails: a spawn error is
/// [`Outcome::NotStarted`].
///
/// The script leads a new process group, so at the timeout SIGKILL reaches it and every child it
/// started (unless one moved itself to another group or session, which only a cgroup could
/// catch). A script that exits on its own keeps its background children: a notify script may
/// start something on purpose. If the returned future is dropped mid-run, the group is killed
/// too, and tokio reaps the script.
pub async fn run(command: &Command) -> Finished {
    let started = Instant::now();
    let outcome = match spawn(command) {
        Err(message) => Outcome::NotStarted(message),
        Ok(child) => wait_or_kill(Group::new(child), command).await,
    };
    Finished {
        outcome,
        duration: started.elapsed(),
    }
}

/// Spawns the script; the error message names the program.
fn spawn(command: &Command) -> Result<Child, String> {
    let Some(first) = command.argv.first() else {
        return Err("empty command".to_owned());
    };
    let (program, args) = if command.shell {
        (SHELL, vec!["-c", first.as_str()])
    } else {
        (
            first.as_str(),
            command.argv.iter().skip(1).map(String::as_str).collect(),
        )
    };
    let mut process = tokio::process::Command::new(program);
    process
        .args(args)
        .env_clear()
        .envs(BASE_ENV)
        .envs(command.env.iter().map(|(k, v)| (k, v)))
        // The daemon's working directory is none of the script's business.
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        // Only the leader: `Group`'s drop kills the rest; this makes tokio reap the leader.
        .kill_on_drop(true);
    if let Some(run_as) = command.run_as {
        // std does setgid, then setgroups(0) (as root), then setuid, in the child before exec.
        process.uid(run_as.uid).gid(run_as.gid);
    }
    process.spawn().map_err(|err| format!("{program}: {err}"))
}

/// Waits for the script; at the timeout kills its group and reaps it.
async fn wait_or_kill(mut group: Group, command: &Command) -> Outcome {
    let waited = tokio::time::timeout(command.timeout, group.child.wait()).await;
    // Past here the group is never killed again: either the leader is reaped, or waiting failed
    // (ECHILD: someone else reaped it), and then its pid may already name another group.
    group.reaped = true;
    match waited {
        Ok(Ok(status)) => exit_outcome(status),
        Ok(Err(err)) => {
            Outcome::NotStarted(format!("{}: waiting for it failed: {err}", command.name()))
        }
        Err(_elapsed) => {
            // The leader is not reaped yet, so its pid still names our group: the kill cannot
            // hit a group that reused the number.
            group.kill();
            // The leader dies of SIGKILL; its status says nothing more than "timed out".
            let _ = group.child.wait().await;
            Outcome::TimedOut(command.timeout)
        }
    }
}

fn exit_outcome(status: ExitStatus) -> Outcome {
    match (status.code(), status.signal()) {
        (Some(code), _) => Outcome::Exited(code),
        (None, Some(signal)) => Outcome::Signalled(signal),
        // wait() reports only exits and deaths by signal; keep the raw status if that changes.
        (None, None) => Outcome::Exited(status.into_raw()),
    }
}

/// A spawned script and its process group, killed if dropped before the script is reaped.
struct Group {
    child: Child,
    /// The group id: the leader's pid (`process_group(0)`).
    pgid: Option<Pid>,
    reaped: bool,
}

impl Group {
    fn new(child: Child) -> Group {
        let pgid = child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .map(Pid::from_raw);
        Group {
            child,
            pgid,
            reaped: false,
        }
    }

    fn kill(&self) {
        if let Some(pgid) = self.pgid {
            // ESRCH (everyone already gone) is fine; nothing else can fail for root or the owner.
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::exec::RunAs;
    use crate::exec::test_dir::TempDir;

    fn shell(text: &str, timeout: Duration) -> Command {
        Command {
            argv: vec![text.to_owned()],
            shell: true,
            run_as: None,
            env: Vec::new(),
            timeout,
        }
    }

    fn argv(args: &[&str]) -> Command {
        Command {
            argv: args.iter().map(|s| (*s).to_owned()).collect(),
            shell: false,
            run_as: None,
            env: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }

    fn read_trimmed(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap().trim().to_owned()
    }

    /// Whether `pid` is a live process (a zombie waiting for its reaper counts as dead).
    fn alive(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => false,
            Ok(stat) => stat_state(&stat) != Some('Z'),
        }
    }

    /// The state field of /proc/PID/stat, after the parenthesised command name.
    fn stat_state(stat: &str) -> Option<char> {
        stat.rsplit_once(')')?.1.trim_start().chars().next()
    }

    /// Live processes whose process group is `pgid`.
    fn live_members(pgid: i32) -> Vec<i32> {
        let mut members = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let Some((_, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            // After the name: state, ppid, pgrp.
            let fields: Vec<&str> = rest.split_whitespace().collect();
            if fields.get(2) == Some(&pgid.to_string().as_str()) && fields[0] != "Z" {
                members.push(pid);
            }
        }
        members
    }

    #[tokio::test]
    async fn exit_statuses_are_reported() {
        let ok = run(&argv(&["true"])).await;
        assert_eq!(ok.outcome, Outcome::Exited(0));
        assert!(ok.outcome.is_success());
        let failed = run(&shell("exit 1", Duration::from_secs(10))).await;
        assert_eq!(failed.outcome, Outcome::Exited(1));
        assert!(!failed.outcome.is_success());
        assert_eq!(failed.outcome.to_string(), "exited with status 1");
        let with_args = run(&argv(&["sh", "-c", "exit \"$0\"", "3"])).await;
        assert_eq!(with_args.outcome, Outcome::Exited(3));
    }

    #[tokio::test]
    async fn a_death_by_signal_is_reported() {
        let finished = run(&shell("kill -TERM $$", Duration::from_secs(10))).await;
        assert_eq!(finished.outcome, Outcome::Signalled(15));
        assert!(!finished.outcome.is_success());
    }

    #[tokio::test]
    async fn a_hanging_script_and_its_children_are_killed_at_the_timeout() {
        let dir = TempDir::new("hang");
        let leader = dir.file("leader");
        let background = dir.file("background");
        let text = format!(
            "echo $$ > {}; sleep 60 & echo $! > {}; sleep 60",
            leader.display(),
            background.display()
        );
        let timeout = Duration::from_millis(200);
        let started = Instant::now();
        let finished = run(&shell(&text, timeout)).await;
        let took = started.elapsed();

        assert_eq!(finished.outcome, Outcome::TimedOut(timeout));
        assert_eq!(finished.outcome.to_string(), "killed after timeout 200ms");
        assert!(took < Duration::from_secs(1), "took {took:?}");
        assert!(finished.duration >= timeout, "{:?}", finished.duration);
        let leader: i32 = read_trimmed(&leader).parse().unwrap();
        let background: i32 = read_trimmed(&background).parse().unwrap();
        // SIGKILL is delivered by the time killpg returns, but give the kernel a moment to tear
        // the processes down.
        for _ in 0..50 {
            if !alive(background) && live_members(leader).is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive(leader), "the script {leader} survived");
        assert!(
            !alive(background),
            "its background child {background} survived"
        );
        assert_eq!(live_members(leader), Vec::<i32>::new());
    }

    #[tokio::test]
    async fn a_dropped_run_kills_the_group() {
        let dir = TempDir::new("drop");
        let background = dir.file("background");
        let text = format!("sleep 60 & echo $! > {}; sleep 60", background.display());
        let command = shell(&text, Duration::from_secs(60));
        let cut_short = tokio::time::timeout(Duration::from_millis(300), run(&command)).await;
        assert!(cut_short.is_err(), "the script ended on its own");
        let background: i32 = read_trimmed(&background).parse().unwrap();
        for _ in 0..50 {
            if !alive(background) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            !alive(background),
            "its background child {background} survived"
        );
    }

    #[tokio::test]
    async fn a_missing_program_is_not_started_and_named() {
        let path = "/nonexistent/keepvip-no-such-script";
        let finished = run(&argv(&[path])).await;
        let Outcome::NotStarted(message) = &finished.outcome else {
            panic!("{:?}", finished.outcome);
        };
        assert!(message.starts_with(path), "{message}");
        assert!(message.contains("No such file or directory"), "{message}");
        assert!(!finished.outcome.is_success());
        assert!(
            finished
                .outcome
                .to_string()
                .starts_with(&format!("could not be run: {path}: "))
        );

        let by_name = run(&argv(&["keepvip-no-such-program"])).await;
        assert!(matches!(&by_name.outcome,
            Outcome::NotStarted(m) if m.starts_with("keepvip-no-such-program: ")));
        let empty = run(&argv(&[])).await;
        assert_eq!(empty.outcome, Outcome::NotStarted("empty command".into()));
    }

    #[tokio::test]
    async fn shell_statuses_126_and_127_are_could_not_run() {
        let finished = run(&shell("exit 127", Duration::from_secs(10))).await;
        assert_eq!(finished.outcome, Outcome::Exited(127));
        assert!(!finished.outcome.is_success());
        assert!(finished.outcome.to_string().starts_with("could not be run"));
        let not_found = run(&shell("keepvip-no-such-program", Duration::from_secs(10))).await;
        assert_eq!(not_found.outcome, Outcome::Exited(127));
        assert!(not_found.outcome.could_not_run());
    }

    #[tokio::test]
    async fn the_environment_is_minimal() {
        let dir = TempDir::new("env");
        let out = dir.file("env");
        let mut command = shell(
            &format!("/usr/bin/env > {}; pwd >> {}", out.display(), out.display()),
            Duration::from_secs(10),
        );
        command.env = vec![("FOO".into(), "bar baz".into())];
        let finished = run(&command).await;
        assert!(finished.outcome.is_success(), "{}", finished.outcome);

        let text = std::fs::read_to_string(&out).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.pop(), Some("/"), "the working directory");
        // What the shell adds itself (dash exports PWD) is allowed; nothing from our environment.
        let expected = [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME=/",
            "LANG=C",
            "FOO=bar baz",
        ];
        for line in expected {
            assert!(lines.contains(&line), "{line} missing from {lines:?}");
        }
        for line in &lines {
            let key = line.split('=').next().unwrap();
            assert!(
                expected.iter().any(|e| e.starts_with(&format!("{key}=")))
                    || ["PWD", "OLDPWD", "SHLVL", "_"].contains(&key),
                "unexpected {line}"
            );
        }
        // cargo test sets CARGO_* in our environment: none may leak.
        assert!(std::env::vars().any(|(key, _)| key.starts_with("CARGO")));
        assert!(!text.contains("CARGO"), "{text}");
    }

    #[tokio::test]
    async fn run_as_switches_user_and_drops_groups() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("runas");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let out = dir.file("id");
        let mut command = shell(
            &format!("id -u > {0}; id -g >> {0}; id -G >> {0}", out.display()),
            Duration::from_secs(10),
        );
        command.run_as = Some(RunAs::resolve("nobody", None).unwrap());
        let gid = command.run_as.unwrap().gid;
        let finished = run(&command).await;
        assert!(finished.outcome.is_success(), "{}", finished.outcome);
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, ["65534", &gid.to_string(), &gid.to_string()]);
    }
}
