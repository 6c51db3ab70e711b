//! Every tests/data/NAME.conf converts to exactly tests/data/NAME.toml with exactly the warnings in
//! tests/data/NAME.warnings. `BLESS=1 cargo test -p keepalived-conf` rewrites them (review the diff).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::path::{Path, PathBuf};

use keepalived_conf::{Options, import_file};

fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/data")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .map(|p| Path::new("tests/data").join(p.file_name().unwrap()))
        .collect();
    files.sort();
    files
}

fn compare(path: &Path, actual: &str, bless: bool, failures: &mut Vec<String>) {
    if bless {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{} differs:\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ));
    }
}

#[test]
fn every_fixture_matches_its_golden_toml_and_warnings() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    let files = fixtures();
    assert!(files.len() >= 10, "fixtures: {files:?}");
    for conf in &files {
        let import = import_file(conf, &Options::default())
            .unwrap_or_else(|e| panic!("{}: {e}", conf.display()));
        let warnings: String = import.warnings.iter().map(|w| format!("{w}\n")).collect();
        compare(
            &conf.with_extension("toml"),
            &import.toml,
            bless,
            &mut failures,
        );
        compare(
            &conf.with_extension("warnings"),
            &warnings,
            bless,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn error_of(name: &str) -> String {
    let path = Path::new("tests/data/errors").join(name);
    match import_file(&path, &Options::default()) {
        Ok(import) => panic!("{name} converted:\n{}", import.toml),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unterminated_quote_names_file_and_line() {
    assert_eq!(
        error_of("unterminated_quote.conf"),
        "tests/data/errors/unterminated_quote.conf:3: error: unterminated quote in `notify_master \"/etc/keepalived/notify.sh master`"
    );
}

#[test]
fn unclosed_block_names_the_opening_brace() {
    assert_eq!(
        error_of("unclosed_brace.conf"),
        "tests/data/errors/unclosed_brace.conf:5: error: this `{` is never closed: expected `}` before the end of the input"
    );
}

#[test]
fn extra_closing_brace_is_an_error() {
    assert_eq!(
        error_of("extra_close.conf"),
        "tests/data/errors/extra_close.conf:4: error: `}` closes no block"
    );
}

#[test]
fn brace_without_keyword_is_an_error() {
    assert_eq!(
        error_of("brace_without_keyword.conf"),
        "tests/data/errors/brace_without_keyword.conf:4: error: `{` without a keyword before it"
    );
}

#[test]
fn a_file_including_itself_is_refused() {
    let message = error_of("include_loop.conf");
    assert!(
        message.starts_with(
            "tests/data/errors/include_loop.conf:2: error: tests/data/errors/include_loop.conf includes itself"
        ),
        "{message}"
    );
}

#[test]
fn an_unclosed_block_across_a_failed_include_still_names_its_line() {
    assert_eq!(
        error_of("include_then_unclosed.conf"),
        "tests/data/errors/include_then_unclosed.conf:1: error: this `{` is never closed: expected `}` before the end of the input"
    );
}

#[test]
fn a_missing_file_is_an_error() {
    let message = error_of("no-such-file.conf");
    assert!(
        message.contains("cannot read tests/data/errors/no-such-file.conf"),
        "{message}"
    );
}

#[test]
fn config_id_selects_conditional_lines() {
    let path = Path::new("tests/data/syntax.conf");
    let with = |id: &str| {
        let options = Options {
            config_id: Some(id.to_owned()),
        };
        import_file(path, &options).unwrap()
    };
    let lb1 = with("lb1");
    assert!(lb1.toml.contains("\npriority = 200\n"), "{}", lb1.toml);
    assert!(lb1.toml.contains("\nvrid = 90\n"), "{}", lb1.toml);
    let lb2 = with("lb2");
    assert!(lb2.toml.contains("\npriority = 150\n"), "{}", lb2.toml);
    // A lone `@lb1` is dropped by itself: it does not reach the next line.
    assert!(lb2.toml.contains("\nvrid = 90\n"), "{}", lb2.toml);
    // With an id given, conditional lines draw no warning.
    assert!(
        lb1.warnings
            .iter()
            .all(|w| !w.message.contains("config id"))
    );
}
