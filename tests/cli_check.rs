//! `keepvip check` as operators run it: the real binary, real files, exit codes and output streams.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_keepvip");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn keepvip(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(ROOT)
        .output()
        .unwrap_or_else(|e| panic!("run {BIN}: {e}"))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn valid_config_exits_0_and_says_ok_on_stdout() {
    let out = keepvip(&["check", "-c", "conf/haproxy-lb1.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "conf/haproxy-lb1.toml: OK (1 instance)\n");
}

#[test]
fn config_flag_is_accepted_before_the_command_too() {
    let out = keepvip(&["-c", "conf/router-pair/rtr1.toml", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "conf/router-pair/rtr1.toml: OK (2 instances)\n"
    );
}

#[test]
fn every_example_config_passes_check() {
    // Scripts they name under /etc/keepvip are not installed here: `check` warns, exit 0.
    for dir in ["conf", "conf/haproxy-pair", "conf/router-pair"] {
        for entry in std::fs::read_dir(format!("{ROOT}/{dir}")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".toml") {
                let path = format!("{dir}/{name}");
                let out = keepvip(&["check", "--config", &path]);
                assert_eq!(out.status.code(), Some(0), "{path}: {}", stderr(&out));
            }
        }
    }
}

#[test]
fn invalid_config_exits_1_with_every_error_on_stderr() {
    let out = keepvip(&["check", "-c", "tests/data/bad/many_errors.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.contains(
            "tests/data/bad/many_errors.toml:8:8: vrid = 0: expected an integer 1..=255\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("tests/data/bad/many_errors.toml:14:16: garp_refresh = \"100ms\""),
        "{err}"
    );
    assert!(
        err.ends_with("tests/data/bad/many_errors.toml: invalid (10 errors)\n"),
        "{err}"
    );
}

#[test]
fn syntax_error_exits_1_with_its_position() {
    let out = keepvip(&["check", "-c", "tests/data/bad/syntax_error.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("tests/data/bad/syntax_error.toml:2:13: invalid basic string"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unreadable_config_exits_3_and_names_the_file() {
    let out = keepvip(&["check", "-c", "/nonexistent/keepvip.toml"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "keepvip: /nonexistent/keepvip.toml: cannot read config: No such file or directory (os error 2)\n"
    );
    let dir = keepvip(&["check", "-c", "conf"]);
    assert_eq!(dir.status.code(), Some(3), "{}", stderr(&dir));
}

#[test]
fn default_config_path_is_etc_keepvip() {
    let out = keepvip(&["check"]);
    if std::path::Path::new("/etc/keepvip/keepvip.toml").exists() {
        return; // a real install: its outcome is not ours to assert
    }
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("/etc/keepvip/keepvip.toml: cannot read config"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_interface_is_a_warning_not_an_error() {
    // lan0 and wan0 do not exist in the test's network namespace (if they do, there is nothing to see).
    let out = keepvip(&["check", "-c", "conf/router-pair/rtr1.toml"]);
    assert_eq!(out.status.code(), Some(0));
    if !std::path::Path::new("/sys/class/net/lan0").exists() {
        assert!(
            stderr(&out).contains(
                "conf/router-pair/rtr1.toml:25:13: warning: interface = \"lan0\": no such interface in this network namespace (yet)"
            ),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(keepvip(&["bogus"]).status.code(), Some(2));
    assert_eq!(keepvip(&[]).status.code(), Some(2));
    assert_eq!(
        keepvip(&["--log-format", "xml", "check"]).status.code(),
        Some(2)
    );
}

#[test]
fn log_format_flag_is_accepted() {
    let out = keepvip(&[
        "--log-format",
        "json",
        "check",
        "-c",
        "conf/haproxy-lb1.toml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn run_with_an_unreadable_config_exits_3_naming_the_file() {
    let out = keepvip(&["run", "-c", "/nonexistent/keepvip.toml"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("/nonexistent/keepvip.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn run_with_an_invalid_config_exits_1_before_touching_the_network() {
    let out = keepvip(&["run", "-c", "tests/data/bad/vrid_out_of_range.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("vrid_out_of_range.toml:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn status_without_a_daemon_exits_5_naming_the_socket() {
    let out = keepvip(&["status", "--control-socket", "/nonexistent/kv.sock"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        stderr(&out).contains("/nonexistent/kv.sock"),
        "{}",
        stderr(&out)
    );
}
