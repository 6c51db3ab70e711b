//! keepvip: the Linux daemon and command line around vrrp-core, where every protocol decision lives.
//!
//! | module | owns |
//! |---|---|
//! | `cli` | the command line and its exit codes |
//! | `config` | the TOML schema, validation with `file:line:column` errors |
//! | `daemon` | `keepvip run`: the shell that drives vrrp-core's `Node` and executes its actions |
//! | `net` | raw VRRP sockets, the GARP/NA frame sender, rtnetlink |
//! | `observe` | the counters `status` reads and the status snapshot built from them |
//! | `control` | the control socket and the status schema |
//! | `exit` | the exit codes |
//! | `fuzzing` | the entry points of the fuzz targets and their corpus replay test |
//! | `exec` | running scripts: own process group, timeout kill, minimal environment, run-as user; the script security check |
//! | `demo` | `keepvip demo`, the namespace demonstration |
//! | `logging` | text and JSON logs, the structured event lines, journald detection |
//! | `manual` | man pages and shell completions generated from the command line |
//! | `notify` | notify scripts (ordered per instance) and the notify FIFO |
//! | `track` | trackers: scripts, interfaces, files, processes, reporting readings to the daemon |
pub mod cli;
pub mod config;
pub mod control;
pub mod daemon;
pub mod demo;
pub mod exec;
pub mod exit;
#[doc(hidden)]
pub mod fuzzing;
pub mod logging;
pub mod manual;
pub mod metrics;
pub mod net;
pub mod notify;
pub mod observe;
pub mod track;
