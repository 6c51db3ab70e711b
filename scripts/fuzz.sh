#!/usr/bin/env bash
# Fuzz campaigns (README "Fuzzing"). Needs the nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz --locked
#
#   scripts/fuzz.sh                      every target, 10 million executions each (or 2 h), niced
#   scripts/fuzz.sh --runs N --time S    N executions or S seconds per target, whichever ends first
#   scripts/fuzz.sh --minimize           afterwards, merge what was found into the committed corpus
#                                        (a set cover: the fewest inputs keeping the edge coverage)
#   scripts/fuzz.sh --smoke              scripts/test.sh's smoke: an unoptimized build (--dev, cheaper
#                                        than the optimized one), then 5 s of fuzzing per target from an
#                                        empty corpus (the committed corpora are replayed by cargo test)
#   scripts/fuzz.sh --sanitizer address  with AddressSanitizer (default: none; own target dir)
#   scripts/fuzz.sh TARGET...            only these (names below)
#
# The targets of each fuzz directory are built first, in one cargo invocation, then each runs for its
# count. New inputs go to fuzz/work/TARGET (not committed), crashes to fuzz/artifacts/TARGET; the run
# stops at the first crash and the script fails. One line per target at the end: executions, seconds,
# crashes.
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
sanitizer=none
chosen=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --time) seconds="$2"; shift 2 ;;
        --minimize) minimize=1; shift ;;
        --smoke) smoke=1; runs=100000000; seconds=5; shift ;;
        --sanitizer) sanitizer="$2"; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
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

# The longest input libFuzzer makes: what keepvip reads at most where that is short (a control request
# is one line of at most 256 bytes: the rest is never read), else libFuzzer's default.
max_len_of() {
    case "$1" in
        control_request) echo 256 ;;
        *) echo 4096 ;;
    esac
}

# Optimized with debug assertions and overflow checks (cargo-fuzz's default), by default without
# AddressSanitizer: the code under test is safe Rust (README "Fuzzing" has both rates). The smoke
# builds unoptimized: it runs seconds, and the optimized build takes many minutes.
build_flags=(-s "$sanitizer")
if [ "$smoke" -eq 1 ]; then build_flags+=(--dev); fi
# One target directory for every fuzz directory: the second build reuses libFuzzer and the shared
# dependencies (same versions in both lock files) instead of compiling them again.
target_dir_of() {
    if [ "$sanitizer" = none ]; then echo fuzz/target; else echo "fuzz/target-$sanitizer"; fi
}
binary_of() {
    local profile=release
    if [ "$smoke" -eq 1 ]; then profile=debug; fi
    echo "$(target_dir_of "$1")/x86_64-unknown-linux-gnu/$profile/$2"
}

# Every chosen target of a fuzz directory in one cargo invocation.
built=()
for entry in "${targets[@]}"; do
    dir="${entry%%:*}"
    if [[ " ${built[*]} " == *" $dir "* ]]; then continue; fi
    built+=("$dir")
    names=()
    for other in "${targets[@]}"; do
        if [ "${other%%:*}" = "$dir" ]; then names+=("${other##*:}"); fi
    done
    echo "== building ${names[*]} ($dir, sanitizer $sanitizer)"
    if [ ${#names[@]} -eq 1 ]; then which=("${names[0]}"); else which=(); fi
    nice -n 19 cargo +nightly fuzz build --fuzz-dir "$dir" --target-dir "$(target_dir_of "$dir")" \
        "${build_flags[@]}" "${which[@]}"
done

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
    mkdir -p "$dir/artifacts/$name"
    corpora=("$work" "$corpus")
    if [ "$smoke" -eq 1 ]; then
        # An unoptimized build needs longer than the smoke's seconds only to load a corpus that
        # tests/fuzz_corpus.rs replays anyway: fuzz from nothing instead.
        corpora=("$(mktemp -d)")
    fi
    nice -n 19 "$(binary_of "$dir" "$name")" "${corpora[@]}" -artifact_prefix="$dir/artifacts/$name/" \
        -max_len="$(max_len_of "$name")" -runs="$runs" -max_total_time="$seconds" \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    if [ "$smoke" -eq 1 ]; then rm -rf "${corpora[0]}"; fi
    executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    took="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)"
    crashes=0
    # Interrupted (SIGINT: libFuzzer exits 72 after its final stats): the count so far, no crash.
    if [ "$status" -eq 72 ] && grep -q 'libFuzzer: run interrupted' "$log"; then
        echo "   $name interrupted"
        status=0
    fi
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
        nice -n 19 "$(binary_of "$dir" "$name")" "$merged" "$corpus" "$work" -max_len="$(max_len_of "$name")" \
            -set_cover_merge=1 -use_cmp=0 -use_counters=0 >>"$log" 2>&1
        rm -rf "$corpus" && mv "$merged" "$corpus"
        echo "   $corpus: $(ls "$corpus" | wc -l) inputs after the merge"
    fi
done
printf '%s\n' "${summary[@]}"
exit "$failed"
