#!/bin/sh
# Generates what a package ships besides the binary, from that binary: the man pages, the bash, zsh
# and fish completions, and the systemd unit with the packaged binary's path.
#   scripts/dist-assets.sh BINARY OUTDIR      (package-deb.sh runs it; tests/packaging.rs too)
# OUTDIR/man/*.8, OUTDIR/completions/{keepvip.bash,_keepvip,keepvip.fish}, OUTDIR/keepvip.service
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 BINARY OUTDIR" >&2
    exit 2
fi
bin=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)

rm -rf "$out/man" "$out/completions" "$out/keepvip.service"
mkdir -p "$out/man" "$out/completions"
"$bin" man --dir "$out/man" >/dev/null
"$bin" completions bash >"$out/completions/keepvip.bash"
"$bin" completions zsh >"$out/completions/_keepvip"
"$bin" completions fish >"$out/completions/keepvip.fish"
# dist/systemd/keepvip.service runs a hand-installed /usr/local/sbin/keepvip; a package installs
# /usr/sbin/keepvip.
sed 's|/usr/local/sbin/keepvip|/usr/sbin/keepvip|g' \
    "$root/dist/systemd/keepvip.service" >"$out/keepvip.service"
