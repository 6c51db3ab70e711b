//! `keepvip man` and `keepvip completions`: the pages and scripts name every command and option the
//! command line has.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use clap::CommandFactory;
use keepvip::cli::Cli;

const KEEPVIP: &str = env!("CARGO_BIN_EXE_keepvip");

/// Commands that exist today; the test also walks whatever clap knows, this list keeps it honest.
const KNOWN: [&str; 7] = [
    "check",
    "run",
    "status",
    "demo",
    "import-keepalived",
    "completions",
    "man",
];

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keepvip-manual-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A page as its reader sees the words: roff's `\-` is a `-`, font changes (`\fB`) go.
fn read_page(path: &std::path::Path) -> String {
    let mut text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .replace("\\-", "-");
    for font in ["\\fB", "\\fI", "\\fR", "\\fP"] {
        text = text.replace(font, "");
    }
    text
}

/// `--long` and `-s` for each option, the value name for each positional.
fn arg_names(command: &clap::Command) -> Vec<String> {
    command
        .get_arguments()
        .filter(|arg| !arg.is_hide_set())
        .flat_map(|arg| {
            let mut names = Vec::new();
            if let Some(long) = arg.get_long() {
                names.push(format!("--{long}"));
            }
            if let Some(short) = arg.get_short() {
                names.push(format!("-{short}"));
            }
            if arg.is_positional() {
                names.push(format!("<{}>", arg.get_id().as_str().to_uppercase()));
            }
            names
        })
        .collect()
}

#[test]
fn man_writes_a_page_naming_every_command_and_option_and_one_page_per_command() {
    let dir = temp_dir("man");
    let output = Command::new(KEEPVIP)
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let main = read_page(&dir.join("keepvip.8"));
    assert!(
        main.starts_with(".ie") || main.contains(".TH keepvip 8"),
        "{main}"
    );
    let mut cli = Cli::command();
    cli.build();
    for option in arg_names(&cli) {
        assert!(main.contains(&option), "keepvip.8 lacks {option}");
    }
    let commands: Vec<&clap::Command> =
        cli.get_subcommands().filter(|c| !c.is_hide_set()).collect();
    for known in KNOWN {
        assert!(
            commands.iter().any(|c| c.get_name() == known),
            "clap lost {known}"
        );
    }
    for command in commands {
        let name = command.get_name();
        assert!(
            main.contains(&format!("keepvip-{name}(8)")),
            "keepvip.8 lacks {name}"
        );
        let page = read_page(&dir.join(format!("keepvip-{name}.8")));
        assert!(page.contains(&format!(".TH keepvip-{name} 8")), "{page}");
        assert!(
            page.contains(&format!("keepvip {name}")),
            "synopsis of {name}: {page}"
        );
        for option in arg_names(command) {
            assert!(page.contains(&option), "keepvip-{name}.8 lacks {option}");
        }
    }
    for section in ["EXIT STATUS", "FILES", "ENVIRONMENT", "JOURNAL_STREAM"] {
        assert!(main.contains(section), "keepvip.8 lacks {section}");
    }
    let written = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        written.lines().count(),
        cli.get_subcommands().count() + 1,
        "{written}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn man_into_an_unwritable_place_exits_4_naming_it() {
    let dir = temp_dir("blocked");
    std::fs::write(&dir, "a file, not a directory").unwrap();
    let output = Command::new(KEEPVIP)
        .args(["man", "--dir"])
        .arg(dir.join("sub"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&dir.display().to_string()), "{stderr}");
    let _ = std::fs::remove_file(&dir);
}

#[test]
fn completions_for_each_shell_offer_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let output = Command::new(KEEPVIP)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}: {output:?}");
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains("keepvip"), "{shell}: {script}");
        for command in KNOWN {
            assert!(
                script.contains(command),
                "{shell} completion lacks {command}"
            );
        }
        for option in ["--config", "--log-format", "--control-socket"] {
            let bare = option.trim_start_matches('-');
            assert!(script.contains(bare), "{shell} completion lacks {option}");
        }
    }
    let bad = Command::new(KEEPVIP)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
