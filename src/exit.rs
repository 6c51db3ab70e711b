//! keepvip's exit codes (the table is in `cli.rs` and conf/README.md); their own module so that
//! any command (the demo's helper service too) uses them without depending on the command line.

pub const OK: u8 = 0;
pub const CONFIG_INVALID: u8 = 1;
/// clap exits with 2 on its own for usage errors.
pub const USAGE: u8 = 2;
pub const CONFIG_UNREADABLE: u8 = 3;
pub const DAEMON_FAILED: u8 = 4;
pub const NO_DAEMON: u8 = 5;
/// `reload`: the daemon refused the request (a peer that may only read status).
pub const REFUSED: u8 = 6;
