//! `keepvip import-keepalived` as operators run it: the binary on the importer's fixtures, its output
//! validated by the config checker `run` uses, and `keepvip check` on a converted file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_keepvip");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const FIXTURES: &str = "crates/keepalived-conf/tests/data";

fn keepvip(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(ROOT)
        .output()
        .unwrap_or_else(|e| panic!("run {BIN}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixtures() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(Path::new(ROOT).join(FIXTURES))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .map(|p| format!("{FIXTURES}/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    files
}

#[test]
fn every_fixture_converts_to_a_valid_config() {
    let files = fixtures();
    assert!(files.len() >= 10, "{files:?}");
    for file in &files {
        let out = keepvip(&["import-keepalived", file]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", text(&out.stderr));
        let toml = text(&out.stdout);
        match keepvip::config::check_str(&toml, file, &|_| true) {
            Ok(checked) => assert!(!checked.config.instances.is_empty(), "{file}: no instance"),
            Err(errors) => panic!("{file}: the converted config is invalid:\n{errors}\n{toml}"),
        }
    }
}

#[test]
fn warnings_go_to_stderr_with_file_and_line() {
    let file = format!("{FIXTURES}/v2_auth.conf");
    let out = keepvip(&["import-keepalived", &file]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{file}:32: warning: `auth_type AH`")),
        "{stderr}"
    );
    assert!(!text(&out.stdout).contains("warning"));
}

fn converted(name: &str) -> PathBuf {
    let out = keepvip(&["import-keepalived", &format!("{FIXTURES}/{name}.conf")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("imported-{name}.toml"));
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// Errors `check` may give on this machine only because a user the config names (keepalived's
/// `keepalived_script`, created on the target host as its docs say) does not exist here.
fn only_missing_users(stderr: &str) -> bool {
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains(": error: ")).collect();
    !errors.is_empty()
        && errors
            .iter()
            .all(|l| l.contains("user \"keepalived_script\" does not exist"))
}

#[test]
fn keepvip_check_accepts_every_converted_fixture() {
    let files = fixtures();
    for file in &files {
        let name = Path::new(file).file_stem().unwrap().to_string_lossy();
        let path = converted(&name);
        let out = keepvip(&["check", "-c", path.to_str().unwrap()]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        match out.status.code() {
            Some(0) => assert!(stdout.contains(": OK ("), "{name}: {stdout}"),
            Some(1) if only_missing_users(&stderr) => {}
            code => panic!("{name}: keepvip check exited {code:?}:\n{stdout}{stderr}"),
        }
    }
}

#[test]
fn script_commands_keep_keepalived_words_and_ranges_are_refused() {
    let path = converted("ranges_escapes");
    let toml = std::fs::read_to_string(&path).unwrap();
    let checked = keepvip::config::check_str(&toml, "ranges_escapes", &|_| true)
        .unwrap_or_else(|e| panic!("{e}\n{toml}"));
    let config = checked.config;
    let script = |name: &str| {
        let tracker = config
            .trackers
            .scripts
            .iter()
            .find(|t| t.name == name)
            .unwrap();
        tracker.command.words.clone()
    };
    // keepalived decodes `\t` inside single quotes (a shell would not) and passes `#` as a word.
    assert_eq!(script("chk_escapes"), ["/usr/bin/printf", "a\tb"]);
    assert_eq!(
        script("chk_hash"),
        ["/usr/bin/grep", "-q", "#", "/etc/hosts"]
    );
    assert_eq!(
        script("chk_single_quotes"),
        ["/usr/bin/test", "-e", "/run/with space"]
    );
    // Only the addresses keepalived itself reads as VIPs.
    let vips: Vec<String> = config.instances[0]
        .vips
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert!(vips.iter().all(|v| !v.contains("192.0.2.9")), "{vips:?}");
    assert_eq!(vips.len(), 3, "{vips:?}");
}

#[test]
fn syntax_error_exits_1_naming_file_and_line() {
    let file = format!("{FIXTURES}/errors/unclosed_brace.conf");
    let out = keepvip(&["import-keepalived", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        format!(
            "{file}:5: error: this `{{` is never closed: expected `}}` before the end of the input\n"
        )
    );
}

#[test]
fn missing_file_exits_3() {
    let out = keepvip(&["import-keepalived", "no/such/keepalived.conf"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("no/such/keepalived.conf"));
}

#[test]
fn config_id_flag_selects_conditional_lines() {
    let file = format!("{FIXTURES}/syntax.conf");
    let out = keepvip(&["import-keepalived", "--config-id", "lb1", &file]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("\npriority = 200\n"));
    assert!(!text(&out.stderr).contains("config id"));
}
