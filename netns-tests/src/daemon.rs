//! End-to-end helpers for tests of the real `keepvip run` daemon in a lab: config files, the daemon
//! process and its control socket, the adverts it puts on the wire, RFC 5798 timer arithmetic, and a raw
//! injector for malformed packets.
//!
//! The binary is `$KEEPVIP_BIN`, or `keepvip` in the target directory the test executable was built in
//! (`target/debug/deps/<test>` -> `target/debug/keepvip`): `cargo build --bin keepvip` first.

pub mod config;
pub mod inject;
pub mod running;
pub mod scenario;
pub mod takeover;
pub mod timing;
pub mod wire;

use std::path::PathBuf;

pub use config::{InstanceSpec, config_toml};
pub use running::{Keepvip, Transition};
pub use timing::{Interval, master_down_interval, skew_time};
pub use wire::{Advert, adverts};

/// The keepvip binary the tests run; panics with what to do when it is missing.
pub fn keepvip_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("KEEPVIP_BIN") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            panic!("KEEPVIP_BIN={} is not a file", path.display());
        }
        return path;
    }
    let beside_target = std::env::current_exe().ok().and_then(|exe| {
        // <target>/debug/deps/<test> -> <target>/debug/keepvip
        Some(exe.parent()?.parent()?.join("keepvip"))
    });
    match beside_target {
        Some(path) if path.is_file() => path,
        other => panic!(
            "the keepvip binary is missing (looked for {}): run `cargo build --bin keepvip` with the \
             same CARGO_TARGET_DIR first, or set KEEPVIP_BIN",
            other
                .map(|path| path.display().to_string())
                .unwrap_or_else(|| "<no current_exe>".into())
        ),
    }
}
