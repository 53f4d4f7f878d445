#!/usr/bin/env bash
# Generated kernels against GStreamer on the same shapes.
#
#   bash benches/gstreamer.sh            # 5 runs per shape and side, 1,000,000 messages per source
#   RUNS=3 MESSAGES=200000 bash benches/gstreamer.sh
#   SHAPES_BIN=/tmp/shapes bash benches/gstreamer.sh   # a prebuilt `shapes`
#   PAYLOADS=frame bash benches/gstreamer.sh           # some payloads only
#
# For each shape and payload, runs `gst-launch-1.0` on the equivalent pipeline
# and this project's `shapes` binary (the generated kernel, its servers
# calling `send`/`recv` per message, and the same kernel with the batch
# calls) in alternation, times each whole process the same way (wall clock,
# start-up included), and prints the medians and the ratios kernel/GStreamer
# per shape. A rate counts
# the messages (buffers) delivered to sinks: N for the chains, 2N for fan-out
# (two sinks) and fan-in (two sources).
#
# GStreamer pipelines (queues bounded at 1024 buffers like the pipes):
#   chain-1   fakesrc ! queue ! fakesink
#   chain-3   fakesrc ! queue ! identity ! queue ! identity ! queue ! fakesink
#   fanout-2  fakesrc ! tee ! (queue ! fakesink) x2
#   fanin-2   (fakesrc ! funnel) x2, funnel ! queue ! fakesink
# Buffers are fixed-size: 8 bytes for `u64`, 1024 for `kib` and `frame`,
# zero-filled (our sources fill their messages too). Our `kib` messages are
# copied by value through every pipe; `frame` messages are 1 KiB pooled
# `kernel::Frame`s, passed by pointer and shared on fan-out, as GStreamer
# passes its reference-counted buffers from a buffer pool.
set -euo pipefail

RUNS=${RUNS:-5}
MESSAGES=${MESSAGES:-1000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v gst-launch-1.0 >/dev/null 2>&1; then
    echo "installing gstreamer1.0-tools ..." >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gstreamer1.0-tools gstreamer1.0-plugins-base >/dev/null
fi

# SHAPES_BIN: a `shapes` binary built beforehand (a copy out of a target
# folder other builds may overwrite meanwhile).
if [ -n "${SHAPES_BIN:-}" ]; then
    SHAPES=$SHAPES_BIN
else
    echo "building the shapes binary ..." >&2
    (cd "$ROOT" && cargo build -q --release -p wiring-benches --bin shapes)
    TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
    SHAPES="$TARGET_DIR/release/shapes"
fi
[ -x "$SHAPES" ] || { echo "error: $SHAPES not found" >&2; exit 1; }

queue="queue max-size-buffers=1024 max-size-bytes=0 max-size-time=0"
sink="fakesink sync=false silent=true"

gst_pipeline() { # shape bytes
    local src="fakesrc num-buffers=$MESSAGES sizetype=fixed sizemax=$2 filltype=zero"
    case $1 in
        chain-1) echo "$src ! $queue ! $sink" ;;
        chain-3) echo "$src ! $queue ! identity silent=true ! $queue ! identity silent=true ! $queue ! $sink" ;;
        fanout-2) echo "$src ! tee name=t t. ! $queue ! $sink t. ! $queue ! $sink" ;;
        fanin-2) echo "funnel name=f ! $queue ! $sink $src ! f. $src ! f." ;;
    esac
}

delivered() { # shape
    case $1 in
        chain-1 | chain-3) echo "$MESSAGES" ;;
        *) echo $((2 * MESSAGES)) ;;
    esac
}

now() { date +%s%N; } # nanoseconds

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "| shape, payload | GStreamer buffers/s | kernel msg/s | ratio kernel/GStreamer | kernel, batch calls msg/s | ratio | runs |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for shape in chain-1 chain-3 fanout-2 fanin-2; do
    for payload in ${PAYLOADS:-u64 kib frame}; do
        bytes=8
        [ "$payload" != u64 ] && bytes=1024
        pipeline=$(gst_pipeline "$shape" "$bytes")
        gst_times=()
        our_times=()
        batched_times=()
        for ((r = 0; r < RUNS; r++)); do
            # Rotate which side goes first.
            case $((r % 3)) in
                0) order="gst kernel kernel-batched" ;;
                1) order="kernel kernel-batched gst" ;;
                *) order="kernel-batched gst kernel" ;;
            esac
            for side in $order; do
                t0=$(now)
                case $side in
                    gst)
                        # shellcheck disable=SC2086
                        gst-launch-1.0 -q $pipeline >/dev/null
                        gst_times+=("$(($(now) - t0))")
                        ;;
                    kernel)
                        "$SHAPES" "$shape" "$payload" "$MESSAGES" kernel >/dev/null
                        our_times+=("$(($(now) - t0))")
                        ;;
                    *)
                        "$SHAPES" "$shape" "$payload" "$MESSAGES" kernel-batched >/dev/null
                        batched_times+=("$(($(now) - t0))")
                        ;;
                esac
            done
        done
        n=$(delivered "$shape")
        gst_median=$(printf '%s\n' "${gst_times[@]}" | median)
        our_median=$(printf '%s\n' "${our_times[@]}" | median)
        batched_median=$(printf '%s\n' "${batched_times[@]}" | median)
        awk -v s="$shape $payload" -v n="$n" -v g="$gst_median" -v o="$our_median" -v b="$batched_median" -v r="$RUNS" 'BEGIN {
            gr = n / (g / 1e9); orate = n / (o / 1e9); brate = n / (b / 1e9)
            printf "| %s | %.2f M | %.2f M | %.1f | %.2f M | %.1f | %d |\n", s, gr / 1e6, orate / 1e6, orate / gr, brate / 1e6, brate / gr, r
        }'
    done
done
echo
echo "$MESSAGES messages per source; wall time of each whole process (start-up included); medians of $RUNS runs per side; $(gst-launch-1.0 --version | sed -n 2p)"
