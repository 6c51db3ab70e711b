//! Replays every committed fuzz input (fuzz/corpus/TARGET and fuzz/regressions/TARGET) through the
//! entry function its cargo-fuzz target calls (keepvip::fuzzing), on the stable toolchain: what the
//! campaigns found stays tested on every push, in seconds, without nightly or cargo-fuzz.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::path::{Path, PathBuf};

type Entry = fn(&[u8]);

const TARGETS: [(&str, Entry); 5] = [
    ("config_file", keepvip::fuzzing::config_file),
    ("keepalived_import", keepvip::fuzzing::keepalived_import),
    ("control_request", keepvip::fuzzing::control_request),
    ("metrics_request", keepvip::fuzzing::metrics_request),
    ("netlink_datagram", keepvip::fuzzing::netlink_datagram),
];

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str, entry: Entry) -> usize {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = inputs(&fuzz.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target} is empty or missing: the replay would test nothing"
    );
    let regressions = inputs(&fuzz.join("regressions").join(target));
    for path in corpus.iter().chain(&regressions) {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| entry(&data));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
    }
    corpus.len() + regressions.len()
}

#[test]
fn every_committed_fuzz_input_passes_its_targets_properties() {
    for (target, entry) in TARGETS {
        let count = replay(target, entry);
        eprintln!("{target}: {count} inputs replayed");
    }
}

#[test]
fn every_fuzz_target_is_replayed() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .unwrap();
    let declared: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|name| *name != "keepvip-fuzz")
        .collect();
    let replayed: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(declared, replayed);
}
