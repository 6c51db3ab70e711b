//! The command line: `keepvip [-c FILE] [--log-format text|json] <COMMAND>`.
//!
//! Exit codes (also in conf/README.md):
//!
//! | code | meaning                                                        |
//! |------|----------------------------------------------------------------|
//! | 0    | success (`check`: the config is valid; warnings may be printed) |
//! | 1    | the config is invalid; every error is printed to stderr          |
//! | 2    | usage error: unknown command or flag (from clap)                |
//! | 3    | the config file cannot be read (missing, permissions, ...)      |
//! | 4    | `run`/`demo`: the daemon or the demo could not start or failed; `reload`: applied in part |
//! | 5    | `status`, `watch`, `reload`: no daemon answers on the control socket (or, for `watch`, it went away) |
//! | 6    | `reload`: refused (the caller may only read status)             |
//!
//! `import-keepalived` exits 1 on a syntax error and 3 when the file it is given cannot be read;
//! `man` exits 4 when its directory cannot be written.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{self, DEFAULT_CONFIG_PATH, LoadError, LogFormat};

pub use crate::exit;

#[derive(Debug, Parser)]
#[command(
    name = "keepvip",
    version,
    about = "VRRPv3 virtual-IP failover daemon for Linux"
)]
pub struct Cli {
    /// Config file.
    #[arg(short = 'c', long = "config", global = true, default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Log format; overrides `log_format` in [global].
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormatArg>,
    /// The daemon's control socket (`run` listens on it, `status` asks it).
    #[arg(long, global = true, default_value = crate::control::DEFAULT_SOCKET)]
    pub control_socket: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Validate the config file and exit (0 valid, 1 invalid, 3 unreadable).
    Check,
    /// Run the daemon.
    Run,
    /// Show the state of every instance of the running daemon.
    Status {
        /// Print the snapshot as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Follow the running daemon live: on a terminal a table redrawn when it changes, otherwise one
    /// line per change (time, instance, from -> to, reason). Ctrl-C quits; exits 5 when no daemon
    /// answers or it goes away.
    Watch {
        /// How often to ask the daemon, e.g. 250ms or 1s (10ms..=60s).
        #[arg(long, default_value = "250ms")]
        interval: String,
    },
    /// Make the running daemon re-read its config file and apply the difference (0 applied, 1 the
    /// new config is invalid and the running one stays, 5 no daemon, 6 not permitted).
    Reload,
    /// Run a self-contained failover demonstration in network namespaces (root).
    Demo {
        /// Advert interval, e.g. 100ms or 1s (10 ms steps, 10ms..=40.95s).
        #[arg(long, default_value = "100ms")]
        interval: String,
    },
    /// Convert a keepalived.conf to keepvip TOML: the TOML on stdout, a warning per keyword that
    /// cannot be carried on stderr (1 on syntax keepalived's grammar does not allow, 3 unreadable).
    ImportKeepalived {
        /// The keepalived.conf to read (files it includes are read too).
        file: PathBuf,
        /// keepalived's config id (`-i`, default: the host name) for `@ID` conditional lines; without
        /// it no id matches and each conditional line draws a warning.
        #[arg(long)]
        config_id: Option<String>,
    },
    /// Print a shell completion script to stdout (bash: /usr/share/bash-completion/completions/keepvip).
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages: keepvip.8 and one per command (keepvip-run.8, ...); 4 if DIR cannot be
    /// written.
    Man {
        /// The directory to write them into (created if missing).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(arg: LogFormatArg) -> Self {
        match arg {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

/// `keepvip check`: validates the config, printing warnings, notes and errors to stderr
/// (`file:line:column: message`) and `FILE: OK (N instances)` to stdout when valid.
pub fn check(cli: &Cli) -> ExitCode {
    let path = cli.config.display();
    match config::check_file(&cli.config, &config::interface_exists_in_sysfs) {
        Ok(checked) => {
            for diagnostic in &checked.diagnostics {
                eprintln!("{diagnostic}");
            }
            // A missing script may be deployed later (like an interface that does not exist yet):
            // a warning. One that is insecure, or a user that does not exist, would stop `run`.
            let is_root = nix::unistd::geteuid().is_root();
            let scripts = crate::exec::audit::audit(&checked.config, is_root);
            let (refused, missing): (Vec<_>, Vec<_>) = scripts.iter().partition(|p| p.insecure);
            for problem in &missing {
                eprintln!("{path}: warning: {problem}");
            }
            if !refused.is_empty() {
                for problem in &refused {
                    eprintln!("{path}: error: {problem}");
                }
                let n = refused.len();
                let plural = if n == 1 { "" } else { "s" };
                eprintln!("{path}: invalid ({n} script error{plural})");
                return ExitCode::from(exit::CONFIG_INVALID);
            }
            let n = checked.config.instances.len();
            let plural = if n == 1 { "" } else { "s" };
            println!("{path}: OK ({n} instance{plural})");
            ExitCode::from(exit::OK)
        }
        Err(LoadError::Invalid(errors)) => {
            eprintln!("{errors}");
            let n = errors.errors().count();
            let plural = if n == 1 { "" } else { "s" };
            eprintln!("{path}: invalid ({n} error{plural})");
            ExitCode::from(exit::CONFIG_INVALID)
        }
        Err(unreadable @ LoadError::Unreadable { .. }) => {
            eprintln!("keepvip: {unreadable}");
            ExitCode::from(exit::CONFIG_UNREADABLE)
        }
    }
}

/// `keepvip run`: loads the config and runs the daemon until SIGTERM / SIGINT.
pub fn run(cli: &Cli) -> ExitCode {
    let config = match config::load(&cli.config) {
        Ok(config) => config,
        Err(LoadError::Invalid(errors)) => {
            eprintln!("{errors}");
            return ExitCode::from(exit::CONFIG_INVALID);
        }
        Err(unreadable @ LoadError::Unreadable { .. }) => {
            eprintln!("keepvip: {unreadable}");
            return ExitCode::from(exit::CONFIG_UNREADABLE);
        }
    };
    let format = cli
        .log_format
        .map(LogFormat::from)
        .unwrap_or(config.global.log_format);
    let _log_guard = crate::logging::init(format);
    let options = crate::daemon::RunOptions {
        control_socket: cli.control_socket.clone(),
        config_path: cli.config.clone(),
    };
    match crate::daemon::run(config, options) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            tracing::error!(error = %e, "keepvip stopped");
            eprintln!("keepvip: {e}");
            ExitCode::from(exit::DAEMON_FAILED)
        }
    }
}

/// `keepvip status`: one snapshot from the running daemon, as a table or JSON.
pub fn status(cli: &Cli, json: bool) -> ExitCode {
    match crate::control::query_status(&cli.control_socket) {
        Ok(status) if json => match serde_json::to_string_pretty(&status) {
            Ok(text) => {
                println!("{text}");
                ExitCode::from(exit::OK)
            }
            Err(e) => {
                eprintln!("keepvip status: {e}");
                ExitCode::from(exit::NO_DAEMON)
            }
        },
        Ok(status) => {
            print!("{status}");
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("keepvip status: {e}");
            ExitCode::from(exit::NO_DAEMON)
        }
    }
}

/// `keepvip reload`: the daemon re-reads the file it was started with; prints what changed, what
/// needs a restart, or why the new config was refused.
pub fn reload(cli: &Cli) -> ExitCode {
    match crate::control::request_reload(&cli.control_socket) {
        Ok(outcome) if outcome.applied => {
            println!("reloaded");
            for change in &outcome.changes {
                println!("  {change}");
            }
            for setting in &outcome.needs_restart {
                println!("  needs a restart: {setting}");
            }
            match &outcome.error {
                Some(error) => {
                    eprintln!("keepvip reload: {error}");
                    ExitCode::from(exit::DAEMON_FAILED)
                }
                None => ExitCode::from(exit::OK),
            }
        }
        Ok(outcome) => {
            let error = outcome.error.as_deref().unwrap_or("refused");
            eprintln!("{error}");
            eprintln!("keepvip reload: the new config was refused; the running config stays");
            ExitCode::from(exit::CONFIG_INVALID)
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            eprintln!("keepvip reload: {e}");
            ExitCode::from(exit::REFUSED)
        }
        Err(e) => {
            eprintln!("keepvip reload: {e}");
            ExitCode::from(exit::NO_DAEMON)
        }
    }
}

/// `keepvip demo`: three routers in namespaces tracking a web service; the service killed on the master,
/// then the master itself, each handover measured on the wire.
pub fn demo(interval: &str) -> ExitCode {
    let interval = config::parse_duration(interval)
        .ok()
        .and_then(|d| {
            u16::try_from(d.as_millis() / 10)
                .ok()
                .filter(|_| d.as_millis() % 10 == 0)
        })
        .and_then(vrrp_wire::Centisecs::new)
        .filter(|cs| cs.get() <= vrrp_wire::Centisecs::V3_MAX);
    let Some(interval) = interval else {
        eprintln!("keepvip demo: --interval expects 10ms..40.95s in 10 ms steps, e.g. 100ms or 1s");
        return ExitCode::from(exit::USAGE);
    };
    match crate::demo::run(&crate::demo::DemoOptions { interval }) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("keepvip demo: {e}");
            ExitCode::from(exit::DAEMON_FAILED)
        }
    }
}

/// `keepvip import-keepalived FILE`: the equivalent keepvip TOML on stdout, warnings on stderr.
pub fn import_keepalived(file: &std::path::Path, config_id: Option<String>) -> ExitCode {
    if let Err(e) = std::fs::metadata(file) {
        eprintln!("keepvip import-keepalived: {}: {e}", file.display());
        return ExitCode::from(exit::CONFIG_UNREADABLE);
    }
    let options = keepalived_conf::Options { config_id };
    match keepalived_conf::import_file(file, &options) {
        Ok(import) => {
            for warning in &import.warnings {
                eprintln!("{warning}");
            }
            print!("{}", import.toml);
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(exit::CONFIG_INVALID)
        }
    }
}

/// `keepvip watch`: follows the daemon until Ctrl-C (exit 0) or until it is gone (exit 5).
pub fn watch(cli: &Cli, interval: &str) -> ExitCode {
    let interval = config::parse_duration(interval).ok().filter(|d| {
        (std::time::Duration::from_millis(10)..=std::time::Duration::from_secs(60)).contains(d)
    });
    let Some(interval) = interval else {
        eprintln!("keepvip watch: --interval expects 10ms..60s, e.g. 250ms or 1s");
        return ExitCode::from(exit::USAGE);
    };
    match crate::control::watch(&cli.control_socket, interval) {
        crate::control::Stopped::Interrupted => ExitCode::from(exit::OK),
        crate::control::Stopped::Daemon(e) => {
            eprintln!("keepvip watch: {e}");
            ExitCode::from(exit::NO_DAEMON)
        }
        // A reader that went away (`keepvip watch | head`) is not an error worth a message.
        crate::control::Stopped::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(exit::OK)
        }
        crate::control::Stopped::Output(e) => {
            eprintln!("keepvip watch: {e}");
            ExitCode::from(exit::DAEMON_FAILED)
        }
    }
}
