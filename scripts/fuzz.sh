#!/usr/bin/env bash
# Fuzz campaigns (README "Fuzzing"). Needs the nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz --locked
#
#   scripts/fuzz.sh                      every target, 10 million executions each (or 2 h), niced
#   scripts/fuzz.sh --runs N --time S    N executions or S seconds per target, whichever ends first
#   scripts/fuzz.sh --minimize           afterwards, merge what was found into the committed corpus
#                                        (a set cover: the fewest inputs keeping the edge coverage)
#   scripts/fuzz.sh --smoke              10 s per target from the committed corpus (scripts/test.sh)
#   scripts/fuzz.sh TARGET...            only these (names below)
#
# New inputs go to fuzz/work/TARGET (not committed), crashes to fuzz/artifacts/TARGET; the run stops
# at the first crash and the script fails. One line per target at the end: executions, seconds, crashes.
set -euo pipefail
cd "$(dirname "$0")/.."

# "fuzz directory:target". The vrrp-wire packet target lives with its crate.
all_targets=(
    fuzz:config_file
    fuzz:keepalived_import
    fuzz:control_request
    fuzz:metrics_request
    fuzz:netlink_datagram
    crates/vrrp-wire/fuzz:parse_packet
)

runs=10000000
seconds=7200
minimize=0
smoke=0
chosen=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --time) seconds="$2"; shift 2 ;;
        --minimize) minimize=1; shift ;;
        --smoke) smoke=1; runs=100000000; seconds=10; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) chosen+=("$1"); shift ;;
    esac
done

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "scripts/fuzz.sh: needs the nightly toolchain and cargo-fuzz (cargo +nightly fuzz)" >&2
    exit 2
fi

targets=()
for entry in "${all_targets[@]}"; do
    name="${entry##*:}"
    if [ ${#chosen[@]} -eq 0 ] || [[ " ${chosen[*]} " == *" $name "* ]]; then
        targets+=("$entry")
    fi
done
if [ ${#targets[@]} -eq 0 ]; then
    echo "scripts/fuzz.sh: no such target: ${chosen[*]} (have: ${all_targets[*]##*:})" >&2
    exit 2
fi

# The committed corpus of a target: fuzz/corpus/T here, the vrrp-wire crate keeps seeds/T.
corpus_of() {
    if [ -d "$1/corpus/$2" ]; then echo "$1/corpus/$2"; else echo "$1/seeds/$2"; fi
}

summary=()
failed=0
for entry in "${targets[@]}"; do
    dir="${entry%%:*}"
    name="${entry##*:}"
    corpus="$(corpus_of "$dir" "$name")"
    work="$dir/work/$name"
    mkdir -p "$work"
    log="$dir/work/$name.log"
    echo "== $name: up to $runs executions or $seconds s (log: $log)"
    status=0
    # Optimized with debug assertions and overflow checks (cargo-fuzz's default); no AddressSanitizer:
    # the code under test is safe Rust, and the targets run about twice as fast without it.
    nice -n 19 cargo +nightly fuzz run --fuzz-dir "$dir" -s none "$name" "$work" "$corpus" -- \
        -runs="$runs" -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
    executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    took="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)"
    crashes=0
    if [ "$status" -ne 0 ]; then
        crashes=1
        failed=1
        echo "!! $name failed (exit $status): see $log and $dir/artifacts/$name" >&2
        tail -n 30 "$log" >&2
    fi
    summary+=("$(printf '%-18s %12s executions %6s s %d crashes' "$name" "${executions:-?}" "${took:-?}" "$crashes")")
    if [ "$minimize" -eq 1 ] && [ "$status" -eq 0 ]; then
        # The smallest set of inputs keeping the edge coverage of the corpus and of what was found
        # (without comparison and counter features, which would keep thousands of files).
        merged="$dir/work/$name.merged"
        rm -rf "$merged" && mkdir -p "$merged"
        nice -n 19 cargo +nightly fuzz run --fuzz-dir "$dir" -s none "$name" "$merged" "$corpus" "$work" -- \
            -set_cover_merge=1 -use_cmp=0 -use_counters=0 >>"$log" 2>&1
        rm -rf "$corpus" && mv "$merged" "$corpus"
        echo "   $corpus: $(ls "$corpus" | wc -l) inputs after the merge"
    fi
done
printf '%s\n' "${summary[@]}"
exit "$failed"
