#!/bin/sh
# Builds the Debian package target/debian/keepvip_VERSION-1_ARCH.deb: the release binary, the assets
# it generates (scripts/dist-assets.sh into target/dist), then `cargo deb --no-build`. Needs
# cargo-deb (`cargo install cargo-deb`); extra arguments go to cargo deb (e.g. --maintainer).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked --bin keepvip
scripts/dist-assets.sh "$target/release/keepvip" target/dist
cargo deb --no-build -p keepvip "$@"
