//! The Debian package's metadata (`[package.metadata.deb]` in Cargo.toml) against the tree: every asset
//! it names exists, is built by cargo, or is produced by scripts/dist-assets.sh (which this test runs,
//! as scripts/package-deb.sh does); the maintainer scripts create the user the unit runs as. No
//! cargo-deb needed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const KEEPVIP: &str = env!("CARGO_BIN_EXE_keepvip");

fn manifest() -> toml::Table {
    let text = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    text.parse().unwrap()
}

fn deb_metadata(manifest: &toml::Table) -> &toml::Table {
    manifest["package"]["metadata"]["deb"].as_table().unwrap()
}

/// (source, destination, mode) of every asset.
fn assets(deb: &toml::Table) -> Vec<(String, String, String)> {
    deb["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|asset| {
            let fields: Vec<String> = asset
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            assert_eq!(fields.len(), 3, "{fields:?}");
            (fields[0].clone(), fields[1].clone(), fields[2].clone())
        })
        .collect()
}

/// The files `pattern` names: `*` allowed in the last component only (all the metadata uses).
fn matches(pattern: &Path) -> Vec<PathBuf> {
    let name = pattern.file_name().unwrap().to_str().unwrap();
    let dir = pattern.parent().unwrap();
    let Some((prefix, suffix)) = name.split_once('*') else {
        return if pattern.is_file() {
            vec![pattern.to_path_buf()]
        } else {
            Vec::new()
        };
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            p.is_file() && n.starts_with(prefix) && n.ends_with(suffix) && n.len() >= name.len() - 1
        })
        .collect()
}

/// Runs scripts/dist-assets.sh with the test's keepvip into a fresh directory;
/// `tag` keeps the tests, which run in parallel, apart.
fn dist_assets(tag: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!("keepvip-dist-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(Path::new(ROOT).join("scripts/dist-assets.sh"))
        .arg(KEEPVIP)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "dist-assets.sh: {status}");
    out
}

#[test]
fn every_asset_exists_is_built_by_cargo_or_is_produced_by_dist_assets() {
    let manifest = manifest();
    let deb = deb_metadata(&manifest);
    let bins: Vec<&str> = manifest["bin"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    let dist = dist_assets("assets");
    let assets = assets(deb);
    assert!(assets.len() >= 8, "{assets:?}");
    for (source, dest, mode) in &assets {
        assert!(
            u32::from_str_radix(mode, 8).is_ok(),
            "{source}: mode {mode}"
        );
        assert!(
            !dest.starts_with('/'),
            "{source}: cargo-deb wants {dest} relative"
        );
        if let Some(bin) = source.strip_prefix("target/release/") {
            assert!(bins.contains(&bin), "{source}: no [[bin]] {bin}");
            continue;
        }
        let found = match source.strip_prefix("target/dist/") {
            Some(generated) => matches(&dist.join(generated)),
            None => matches(&Path::new(ROOT).join(source)),
        };
        assert!(
            !found.is_empty(),
            "asset {source} is neither in the tree nor generated"
        );
    }
    // What the package must carry: the binary, the unit, a config, man pages, completions.
    let dests: Vec<&str> = assets.iter().map(|(_, d, _)| d.as_str()).collect();
    for needed in [
        "usr/sbin/",
        "usr/lib/systemd/system/keepvip.service",
        "etc/keepvip/keepvip.toml",
        "usr/share/man/man8/",
        "usr/share/bash-completion/completions/keepvip",
        "usr/share/zsh/vendor-completions/_keepvip",
        "usr/share/fish/vendor_completions.d/keepvip.fish",
    ] {
        assert!(dests.contains(&needed), "no asset installs {needed}");
    }
    assert!(dist.join("man/keepvip.8").is_file());
    assert!(dist.join("man/keepvip-run.8").is_file());
    let _ = std::fs::remove_dir_all(&dist);
}

#[test]
fn the_packaged_unit_runs_the_packaged_binary_as_the_user_postinst_creates() {
    let manifest = manifest();
    let deb = deb_metadata(&manifest);
    let dist = dist_assets("unit");
    let unit = std::fs::read_to_string(dist.join("keepvip.service")).unwrap();
    assert!(!unit.contains("/usr/local"), "{unit}");
    let binary_dest = assets(deb)
        .into_iter()
        .find(|(source, _, _)| source == "target/release/keepvip")
        .map(|(_, dest, _)| dest)
        .unwrap();
    let binary = format!("/{binary_dest}keepvip");
    let exec_start = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    assert!(
        exec_start.starts_with(&format!("ExecStart={binary} ")),
        "{exec_start} vs {binary}"
    );
    let user = unit.lines().find_map(|l| l.strip_prefix("User=")).unwrap();
    let scripts = Path::new(ROOT).join(deb["maintainer-scripts"].as_str().unwrap());
    let postinst = std::fs::read_to_string(scripts.join("postinst")).unwrap();
    assert!(
        postinst.contains("adduser --system") && postinst.contains(&format!("--quiet {user}")),
        "postinst does not create {user}:\n{postinst}"
    );
    assert!(deb["depends"].as_str().unwrap().contains("adduser"));
    for script in ["postinst", "prerm", "postrm"] {
        let path = scripts.join(script);
        let mode = std::os::unix::fs::PermissionsExt::mode(&path.metadata().unwrap().permissions());
        assert_eq!(mode & 0o111, 0o111, "{script} is not executable");
        let syntax = Command::new("sh").arg("-n").arg(&path).status().unwrap();
        assert!(syntax.success(), "{script}: sh -n failed");
    }
    let _ = std::fs::remove_dir_all(&dist);
}

#[test]
fn the_packaged_config_passes_check() {
    let output = Command::new(KEEPVIP)
        .args(["-c", &format!("{ROOT}/conf/keepvip.toml"), "check"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}
