//! The `keepvip` binary: parses the command line and dispatches; exit codes are documented in `cli.rs`.

use std::process::ExitCode;

use clap::Parser;
use keepvip::cli::{self, Cli, Command};
use keepvip::manual;

fn main() -> ExitCode {
    // `keepvip demo-service`: the demo's web service and health check, kept out of clap's --help.
    if let Some(code) = keepvip::demo::service::main_if_requested() {
        return code;
    }
    let cli = Cli::parse();
    match cli.command.clone() {
        Command::Check => cli::check(&cli),
        Command::Run => cli::run(&cli),
        Command::Status { json } => cli::status(&cli, json),
        Command::Watch { interval } => cli::watch(&cli, &interval),
        Command::Reload => cli::reload(&cli),
        Command::Demo { interval } => cli::demo(&interval),
        Command::ImportKeepalived { file, config_id } => cli::import_keepalived(&file, config_id),
        Command::Completions { shell } => manual::completions_command(shell),
        Command::Man { dir } => manual::man_command(&dir),
    }
}
