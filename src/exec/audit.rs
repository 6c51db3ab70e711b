//! Every script a config would run (track scripts and notify scripts), checked before anything runs:
//! a script a non-root user could change, that would run as root, is refused unless the config says
//! `allow_insecure_scripts = true` (keepalived checks the same, for scripts run as root), and so is a
//! script user that does not exist; a script that is missing or not executable is reported (`check`
//! warns, as it may be deployed later; `run` starts, logs it and counts it as a failure every time
//! it is due).

use std::fmt;

use super::RunAs;
use super::security::{Problem, check_command};
use crate::config::{CommandLine, Config, ScriptUser};

/// One script that will not run as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptProblem {
    /// Where the config uses it, e.g. `track_script "chk_haproxy"` or `instance "VI_1" notify_master`.
    pub used_by: String,
    /// What the check found (it names the path).
    pub detail: String,
    /// Refused at startup (a security problem, or a user that does not exist), not merely a missing
    /// or unrunnable script.
    pub insecure: bool,
}

impl fmt::Display for ScriptProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.used_by, self.detail)?;
        if self.insecure && !self.detail.contains("does not exist") {
            write!(
                f,
                " (refused: scripts that run as root must be changeable by root only; set allow_insecure_scripts = true in [global] to run it anyway)"
            )?;
        }
        Ok(())
    }
}

/// Checks every script of `config`. `daemon_is_root`: whether scripts without a user run as root.
pub fn audit(config: &Config, daemon_is_root: bool) -> Vec<ScriptProblem> {
    let mut problems = Vec::new();
    let global_user = config.global.script_user.as_ref();
    let allow = config.global.allow_insecure_scripts;
    problems.extend(unknown_user("script_user", global_user));
    for script in &config.trackers.scripts {
        let used = config
            .instances
            .iter()
            .any(|i| i.trackers.iter().any(|t| t.name == script.name));
        if !used {
            continue;
        }
        let used_by = format!("track_script \"{}\"", script.name);
        problems.extend(unknown_user(&used_by, script.user.as_ref()));
        let user = script.user.as_ref().or(global_user);
        problems.extend(check(
            &used_by,
            &script.command,
            runs_as_root(user, daemon_is_root) && !allow,
        ));
    }
    let subjects = config
        .instances
        .iter()
        .map(|i| (format!("instance \"{}\"", i.name), &i.notify))
        .chain(
            config
                .sync_groups
                .iter()
                .map(|g| (format!("sync_group \"{}\"", g.name), &g.notify)),
        );
    for (subject, n) in subjects {
        let scripts = [
            ("notify", &n.any),
            ("notify_master", &n.master),
            ("notify_backup", &n.backup),
            ("notify_fault", &n.fault),
            ("notify_stop", &n.stop),
        ];
        for (key, script) in scripts {
            if let Some(command) = script {
                let used_by = format!("{subject} {key}");
                let strict = runs_as_root(global_user, daemon_is_root) && !allow;
                problems.extend(check(&used_by, command, strict));
            }
        }
    }
    problems
}

/// Whether a script run as `user` (or as the daemon, without one) runs with uid 0.
fn runs_as_root(user: Option<&ScriptUser>, daemon_is_root: bool) -> bool {
    match user {
        // Group root is as good as root for changing root's files.
        Some(u) => {
            RunAs::resolve(&u.user, u.group.as_deref()).is_ok_and(|r| r.uid == 0 || r.gid == 0)
        }
        None => daemon_is_root,
    }
}

/// A user or group that does not exist on this host: `run` would refuse to start.
fn unknown_user(used_by: &str, user: Option<&ScriptUser>) -> Option<ScriptProblem> {
    let user = user?;
    let error = RunAs::resolve(&user.user, user.group.as_deref()).err()?;
    Some(ScriptProblem {
        used_by: used_by.to_owned(),
        detail: error.to_string(),
        insecure: true,
    })
}

/// Whether the script can run; with `strict`, also whether only root can change it.
fn check(used_by: &str, command: &CommandLine, strict: bool) -> Option<ScriptProblem> {
    let error = check_command(&command.words, command.shell).err()?;
    let insecure = matches!(error.problem, Problem::Writable { .. });
    if insecure && !strict {
        return None;
    }
    Some(ScriptProblem {
        used_by: used_by.to_owned(),
        detail: error.to_string(),
        insecure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_world_writable_script_is_refused_as_root_and_a_missing_one_reported() {
        let dir = std::env::temp_dir().join(format!("keepvip-audit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let script = dir.join("check.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let text = format!(
            "[[track_script]]\nname = \"chk\"\ncommand = \"{}\"\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"192.0.2.10/24\"]\ntrack_script = [\"chk\"]\nnotify_master = \"/nonexistent/keepvip-notify.sh master\"\n",
            script.display()
        );
        let config = crate::config::parse_str(&text, "t.toml").unwrap();
        let problems = audit(&config, true);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].insecure);
        assert!(
            problems[0].to_string().contains(&dir.display().to_string()),
            "{}",
            problems[0]
        );
        assert!(
            problems[0]
                .to_string()
                .starts_with("track_script \"chk\": ")
        );
        assert!(!problems[1].insecure);
        assert!(
            problems[1]
                .to_string()
                .contains("/nonexistent/keepvip-notify.sh"),
            "{}",
            problems[1]
        );
        // Not root, or explicitly allowed: only the missing script is left.
        assert_eq!(audit(&config, false).len(), 1);
        let mut allowed = config.clone();
        allowed.global.allow_insecure_scripts = true;
        assert_eq!(audit(&allowed, true).len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_script_user_that_does_not_exist_is_refused() {
        let text = "[global]\nscript_user = \"keepvip-no-such-user\"\n[[track_script]]\nname = \"chk\"\ncommand = \"/bin/true\"\nuser = \"nobody\"\ngroup = \"keepvip-no-such-group\"\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"192.0.2.10/24\"]\ntrack_script = [\"chk\"]\n";
        let config = crate::config::parse_str(text, "t.toml").unwrap();
        let problems = audit(&config, true);
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{text:?}");
        assert!(problems.iter().all(|p| p.insecure), "both stop `run`");
        assert!(
            text[0].starts_with("script_user: ") && text[0].contains("keepvip-no-such-user"),
            "{text:?}"
        );
        assert!(
            text[1].starts_with("track_script \"chk\": ")
                && text[1].contains("keepvip-no-such-group"),
            "{text:?}"
        );
    }

    #[test]
    fn a_file_others_can_change_is_refused_wherever_the_command_names_it() {
        use super::super::security::check_command;
        let dir = std::env::temp_dir().join(format!("keepvip-audit-words-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let evil = dir.join("evil.sh");
        std::fs::write(&evil, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o755)).unwrap();
        let evil = evil.display().to_string();
        let words = |text: &str| vec![text.to_owned()];
        for text in [
            format!("LC_ALL=C {evil}"),
            format!("exec {evil}"),
            format!(". {evil}"),
            format!("env FOO=1 {evil} --flag"),
        ] {
            assert!(
                check_command(&words(&text), true).is_err(),
                "shell text {text:?} accepted"
            );
        }
        let argv = vec!["/bin/sh".to_owned(), evil.clone()];
        assert!(
            check_command(&argv, false).is_err(),
            "sh with an insecure script argument"
        );
        let argv = vec!["/bin/sh".to_owned(), format!("--rcfile={evil}")];
        assert!(
            check_command(&argv, false).is_err(),
            "an insecure file after ="
        );
        // Root's files, and words that name no file, are fine.
        let argv = vec![
            "/bin/cat".to_owned(),
            "/etc/hostname".to_owned(),
            "-x".to_owned(),
        ];
        assert!(check_command(&argv, false).is_ok());
        assert!(check_command(&words("test -e /nonexistent && exit 1"), true).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
