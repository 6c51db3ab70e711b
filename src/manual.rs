//! Man pages and shell completions, generated from the clap definitions in `cli.rs` so they say what
//! `--help` says: `keepvip man [--dir DIR]` writes `keepvip.8` and one page per subcommand
//! (`keepvip-run.8`, ...); `keepvip completions SHELL` prints a completion script. Packagers run both
//! at build time (README.md "Packaging").

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::exit;

/// Section 8: system administration commands and daemons.
pub const MAN_SECTION: &str = "8";

/// The program name pages and completions use.
const NAME: &str = "keepvip";

/// Every man page: (file name, roff text). The main page first, then one per visible subcommand.
pub fn man_pages() -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut cli = Cli::command();
    cli.build();
    let mut main = render(cli.clone())?;
    main.extend_from_slice(MAIN_PAGE_SECTIONS.as_bytes());
    let mut pages = vec![(format!("{NAME}.{MAN_SECTION}"), main)];
    for sub in cli.get_subcommands() {
        if sub.is_hide_set() {
            continue;
        }
        let name = format!("{NAME}-{}", sub.get_name());
        // The page's NAME and SYNOPSIS say `keepvip-run`; its usage line still reads `keepvip run`.
        let page = sub.clone().display_name(name.clone());
        pages.push((format!("{name}.{MAN_SECTION}"), render(page)?));
    }
    Ok(pages)
}

/// What `--help` does not say: exit codes, files, environment, where the rest is documented.
const MAIN_PAGE_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
0
success (check: the config is valid)
.TP
1
the config is invalid; every error is printed as file:line:column (reload: the daemon refused the new config and keeps the running one)
.TP
2
usage error
.TP
3
the config file cannot be read
.TP
4
run or demo: the daemon or the demo could not start or failed; man: the directory cannot be written; reload: applied in part (an instance could not be built)
.TP
5
status, watch, reload: no daemon answers on the control socket (watch: or it went away)
.TP
6
reload: not permitted (root and the daemon's own user only; control_group members may read status)
.SH FILES
.TP
/etc/keepvip/keepvip.toml
the config file (\-c)
.TP
/run/keepvip/keepvip.sock
the control socket (\-\-control\-socket), mode 0660, group [global] control_group
.SH SIGNALS
.TP
SIGTERM, SIGINT
stop: masters send a priority\-0 advert and remove their VIPs
.TP
SIGHUP
reload the config file, as keepvip reload does (errors go to the log)
.SH ENVIRONMENT
.TP
RUST_LOG
the log filter, e.g. debug or keepvip=debug (default: info)
.TP
JOURNAL_STREAM
set by systemd; when it names stderr, text log lines carry a <N> priority prefix and no timestamp
.SH "SEE ALSO"
keepalived(8), systemd.exec(5), journalctl(1); README.md and conf/README.md in the keepvip sources
"#;

fn render(command: clap::Command) -> io::Result<Vec<u8>> {
    let mut text = Vec::new();
    clap_mangen::Man::new(command)
        .section(MAN_SECTION)
        .manual("keepvip manual")
        .render(&mut text)?;
    Ok(text)
}

/// Writes every man page into `dir` (created if missing); returns the paths written.
pub fn write_man_pages(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (file, text) in man_pages()? {
        let path = dir.join(file);
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

/// The completion script for `shell`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), NAME, out);
}
/// `keepvip completions SHELL`: the completion script on stdout.
pub fn completions_command(shell: clap_complete::Shell) -> ExitCode {
    completions(shell, &mut std::io::stdout());
    ExitCode::from(exit::OK)
}

/// `keepvip man --dir DIR`: every man page into DIR, one path per line on stdout.
pub fn man_command(dir: &std::path::Path) -> ExitCode {
    match write_man_pages(dir) {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("keepvip man: {}: {e}", dir.display());
            ExitCode::from(exit::DAEMON_FAILED)
        }
    }
}
