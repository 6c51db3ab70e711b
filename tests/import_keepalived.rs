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

#[test]
fn keepvip_check_accepts_the_converted_files() {
    for name in ["ipv6", "include_glob", "router_sync_group"] {
        let path = converted(name);
        let out = keepvip(&["check", "-c", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(": OK ("),
            "{}",
            text(&out.stdout)
        );
    }
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
