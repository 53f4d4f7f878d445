#!/usr/bin/env bash
# Build time and runtime scale of generated kernels of 100 and 1,000 servers.
#
#   bash benches/build-time.sh                 # sizes 100 1000, 3 runs each
#   SIZES="100 1000 10000" RUNS=5 bash benches/build-time.sh
#   SIZES="1000 10000" BUILD_RUNS=0 bash benches/build-time.sh   # runtime only
#   IDLE_MS=5000 SIZES="1000 10000" BUILD_RUNS=0 bash benches/build-time.sh
#   SHAPE=transforms SIZES="1000 10000" BUILD_RUNS=0 bash benches/build-time.sh
#
# For each size, writes the synthetic crate `synth-<n>` (see
# benches/src/synth.rs: chains with fan-out and fan-in, every source sending
# 1000 messages once all servers run) under the target folder, builds it once
# to cache the dependencies, then measures:
#   - `cargo build` and `cargo build --release` of the crate alone, after
#     `cargo clean -p synth-<n>`: compiling build.rs, running it (scan, lint,
#     generate) and compiling the crate with its generated kernel;
#   - the release binary: time to build the kernel (`wiring::kernel()`, all
#     pipes), boot time (start of `main` until every server runs), whole run,
#     and VmRSS before, after building and while all servers run, and VmHWM.
# Prints medians. BUILD_RUNS (default RUNS) sets how many timed builds per
# size; 0 skips them (a 10,000-server crate takes minutes to compile).
# IDLE_MS (default 0) keeps every server idle 5 s to settle after the boot,
# then IDLE_MS longer, and reports what the kernel used meanwhile: CPU (ms per
# s idle) and wake-ups (threads going to sleep, per s idle).
# SHAPE (default mixed) picks the synthetic wiring: `mixed` (fan-out and
# fan-in, a thread per server, crate synth-<n>) or `transforms` (a source,
# eight fused transforms and a sink per ten servers, crate
# synth-transforms-<n>).
set -euo pipefail

SIZES=${SIZES:-"100 1000"}
RUNS=${RUNS:-3}
BUILD_RUNS=${BUILD_RUNS:-$RUNS}
IDLE_MS=${IDLE_MS:-0}
SHAPE=${SHAPE:-mixed}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
SYNTH_DIR="$TARGET_DIR/synth"

echo "building the generator ..." >&2
(cd "$ROOT" && cargo build -q --release -p wiring-benches --bin synth)
SYNTH="$TARGET_DIR/release/synth"

# The synthetic crates share one target folder of their own.
export CARGO_TARGET_DIR="$SYNTH_DIR/target"

seconds() { # command...: runs it, prints its wall time in seconds
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo "error: $* failed" >&2; return 1; }
    t1=$(date +%s%N)
    awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f\n", d / 1e9 }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

build_rows=()
run_rows=()
for n in $SIZES; do
    if [[ $SHAPE == mixed ]]; then name="synth-$n"; else name="synth-$SHAPE-$n"; fi
    dir="$SYNTH_DIR/$name"
    WIRING_WORKSPACE="$ROOT" "$SYNTH" crate "$dir" "$n" 1000 "$SHAPE"
    echo "$name: caching dependencies ..." >&2
    (cd "$dir" && cargo build -q --release)
    if ((BUILD_RUNS > 0)); then
        (cd "$dir" && cargo build -q)
        dev=()
        release=()
        for ((r = 0; r < BUILD_RUNS; r++)); do
            (cd "$dir" && cargo clean -q -p "$name")
            dev+=("$(cd "$dir" && seconds cargo build)")
            (cd "$dir" && cargo clean -q --release -p "$name")
            release+=("$(cd "$dir" && seconds cargo build --release)")
        done
        build_rows+=("| $n | $(printf '%s\n' "${dev[@]}" | median) | $(printf '%s\n' "${release[@]}" | median) | $BUILD_RUNS |")
    fi
    bin="$CARGO_TARGET_DIR/release/$name"
    lines=()
    for ((r = 0; r < RUNS; r++)); do
        lines+=("$(SYNTH_IDLE_MS=$IDLE_MS "$bin")")
    done
    per_idle_second() {
        if ((IDLE_MS > 0)); then
            awk -v n="$(field "$1")" -v idle="$IDLE_MS" 'BEGIN { printf "%.0f", n * 1000 / idle }'
        else
            echo -
        fi
    }
    field() { printf '%s\n' "${lines[@]}" | tr ' ' '\n' | sed -n "s/^$1=//p" | median; }
    run_rows+=("| $(field servers) | $(field pipes) | $(field build_ms) | $(field boot_ms) | $(field run_ms) | $(field rss_start_kib) | $(field rss_built_kib) | $(field rss_running_kib) | $(field threads) | $(field hwm_kib) | $(field delivered) | $(per_idle_second idle_cpu_ms) | $(per_idle_second idle_wake_ups) |")

done

if ((${#build_rows[@]} > 0)); then
    echo "| servers | cargo build (dev) s | cargo build --release s | runs |"
    echo "|---:|---:|---:|---:|"
    printf '%s\n' "${build_rows[@]}"
    echo
fi
echo "| servers | pipes | kernel() ms | boot ms | run ms | VmRSS start KiB | VmRSS built KiB | VmRSS running KiB | threads | VmHWM KiB | delivered | idle CPU ms/s | idle wake-ups/s |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${run_rows[@]}"
echo
if ((BUILD_RUNS > 0)); then
    echo "runs: medians of $RUNS; builds: medians of $BUILD_RUNS after \`cargo clean -p synth-<n>\` with dependencies cached; $(rustc --version)"
else
    echo "medians of $RUNS runs; $(rustc --version)"
fi
