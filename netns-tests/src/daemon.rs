//! End-to-end helpers for tests of the real `keepvip run` daemon in a lab: config files, the daemon
//! process and its control socket, the adverts it puts on the wire, RFC 5798 timer arithmetic, and a raw
//! injector for malformed packets.
//!
//! The binary is `$KEEPVIP_BIN`, or `keepvip` in the target directory the test executable was built in
//! (`target/debug/deps/<test>` -> `target/debug/keepvip`; see `keepvip_candidates`): `cargo build
//! --bin keepvip` first.

pub mod config;
pub mod inject;
pub mod pause;
pub mod retry;
pub mod running;
pub mod scenario;
pub mod takeover;
pub mod timing;
pub mod wire;
pub mod witness;

use std::path::{Path, PathBuf};

pub use config::{InstanceSpec, config_toml};
pub use retry::{PauseWatch, retry_on_machine_pause};
pub use running::{Keepvip, Transition};
pub use timing::{Interval, master_down_interval, skew_time};
pub use wire::{Advert, adverts};

/// The keepvip binary the tests run; panics with what to do when it is missing.
pub fn keepvip_bin() -> PathBuf {
    match find_keepvip_bin() {
        Ok(path) => path,
        Err(why) => panic!("{why}"),
    }
}

/// `$KEEPVIP_BIN`, else the first of `keepvip_candidates` that exists; or what to do about it.
pub fn find_keepvip_bin() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("KEEPVIP_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("KEEPVIP_BIN={} is not a file", path.display()))
        };
    }
    let candidates = std::env::current_exe()
        .map(|exe| keepvip_candidates(&exe))
        .unwrap_or_default();
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .ok_or_else(|| {
            format!(
                "the keepvip binary is missing (looked for {candidates:?}): run `cargo build --bin \
                 keepvip` with the same CARGO_TARGET_DIR first, or set KEEPVIP_BIN"
            )
        })
}

/// Where keepvip is looked for, in order, for the executable `exe`: beside it (a binary such as
/// `target/release/bench`), one level up (a test: `target/debug/deps/<test>`), and the debug
/// build beside a binary's profile directory (`target/debug/keepvip` for a release bench).
pub fn keepvip_candidates(exe: &Path) -> Vec<PathBuf> {
    let Some(dir) = exe.parent() else {
        return Vec::new();
    };
    let mut candidates = vec![dir.join("keepvip")];
    if let Some(up) = dir.parent() {
        candidates.push(up.join("keepvip"));
        candidates.push(up.join("debug").join("keepvip"));
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepvip_is_looked_for_beside_binaries_and_above_tests() {
        let bench = keepvip_candidates(Path::new("/t/release/bench"));
        assert_eq!(
            bench,
            ["/t/release/keepvip", "/t/keepvip", "/t/debug/keepvip"].map(PathBuf::from)
        );
        let test = keepvip_candidates(Path::new("/t/debug/deps/daemon_link-0123"));
        assert_eq!(test[1], PathBuf::from("/t/debug/keepvip"));
    }
}
