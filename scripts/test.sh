#!/usr/bin/env bash
# The project's test command (README "Run the tests"; .ci/run calls it).
#   scripts/test.sh          everything: format, lints, unit/integration tests, then the root-only
#                            namespace tests one at a time (timing-sensitive).
#   scripts/test.sh --quick  no root needed: skips the netns-tests crate explicitly.
# Installs the Debian packages the namespace tests need when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

install_missing() {
    local need=()
    command -v ip >/dev/null 2>&1 || need+=(iproute2)
    command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
    command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
    command -v pgrep >/dev/null 2>&1 || need+=(procps)
    # The HAProxy pair test (netns-tests/tests/haproxy_pair.rs) runs Debian's HAProxy, and killall.
    [ -x /usr/sbin/haproxy ] || need+=(haproxy)
    command -v killall >/dev/null 2>&1 || need+=(psmisc)
    # The mixed-mode, vmac, interop matrix and reload tests (netns-tests/tests/daemon_mixed.rs,
    # daemon_vmac.rs, interop_matrix_*.rs, daemon_reload.rs) run Debian's keepalived.
    [ -x /usr/sbin/keepalived ] || need+=(keepalived)
    # The interop tests (netns-tests/tests/interop_ipv6.rs, interop_matrix_*.rs) run Debian's FRR
    # (zebra and vrrpd).
    [ -x /usr/lib/frr/vrrpd ] || need+=(frr)
    # The accept = false test (netns-tests/tests/daemon_accept.rs) reads keepvip's table with nft, and
    # the unicast test's switch drops VRRP multicast with an nftables bridge table.
    command -v nft >/dev/null 2>&1 || need+=(nftables)
    [ ${#need[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "scripts/test.sh: missing ${need[*]}; the namespace tests need root (or use --quick)" >&2
        exit 1
    fi
    echo "scripts/test.sh: installing ${need[*]}"
    # Packages such as haproxy, keepalived and frr start their service on install: deny that (policy-rc.d exit 101) while
    # installing, so the test run starts no daemon in the host's namespace (the tests start their own
    # inside namespaces). An existing policy-rc.d is left as it is.
    local deny_starts=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        deny_starts=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    if [ "$deny_starts" -eq 1 ]; then
        rm -f /usr/sbin/policy-rc.d
        trap - EXIT
    fi
}

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# Includes tests/fuzz_corpus.rs: every committed fuzz input replayed on stable (what CI relies on).
cargo test --workspace --exclude netns-tests

# A short fuzz smoke (scripts/fuzz.sh --smoke: an unoptimized build of every target, then 5 s each
# from the committed corpus). It needs the nightly toolchain; cargo-fuzz is installed from crates.io
# when missing. Without nightly it is skipped loudly, and fails in CI (CI=true), which has nightly.
# KEEPVIP_FUZZ_SMOKE=0 skips it.
if [ "${KEEPVIP_FUZZ_SMOKE:-1}" = "0" ]; then
    echo "scripts/test.sh: FUZZ SMOKE SKIPPED (KEEPVIP_FUZZ_SMOKE=0); the corpus replay ran above" >&2
elif ! cargo +nightly --version >/dev/null 2>&1; then
    echo "scripts/test.sh: FUZZ SMOKE SKIPPED: no nightly toolchain (rustup toolchain install nightly); the corpus replay ran above" >&2
    if [ "${CI:-}" = "true" ]; then exit 1; fi
else
    if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
        echo "scripts/test.sh: installing cargo-fuzz (cargo install cargo-fuzz --locked)"
        cargo install cargo-fuzz --locked
    fi
    scripts/fuzz.sh --smoke
fi

if [ "$quick" -eq 1 ]; then
    echo "scripts/test.sh: --quick: netns-tests skipped"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/test.sh: the namespace tests need root; run as root or pass --quick" >&2
    exit 1
fi
install_missing
# netlab's own root tests (ignored in unprivileged runs), then the namespace tests, which run the
# real daemon binary (target/debug/keepvip).
cargo test -p netlab -- --ignored --test-threads=1
cargo build --bin keepvip
cargo test -p netns-tests -- --test-threads=1
