#!/usr/bin/env bash
# End-to-end benchmark of `rwfc check` and `rwfc build` on generated workloads
# (tools/generate.rs), printed as a markdown table with the machine it ran on.
#
#   benches/bench.sh                 # N = 100, 1000, 10000, 100000
#   benches/bench.sh 1000 10000      # chosen sizes
#
# Environment:
#   RUNS=5            runs per measurement for N < 100000
#   RUNS_LARGE=3      runs per measurement for N >= 100000
#   PER_WORKFLOW=100  task calls per generated workflow (0: one workflow with every call)
#   RWFC=path         benchmark this binary instead of building the release one
#   BENCH_DIR=dir     where programs and outputs go (default: /dev/shm when it is writable,
#                     else $TMPDIR or /tmp)
#   KEEP=1            keep the generated programs and outputs (their directory is printed)
#
# Each figure is the median wall time of the runs, time per task is that median divided by
# N, and memory is the largest peak RSS of the runs. Every build starts from an empty output
# directory, so the time includes writing every file but not deleting an earlier output.
# Outputs go to a tmpfs by default: on ext4, creating thousands of files right after deleting
# the previous run's thousands makes inode allocation slow (the kernel skips recently deleted
# inodes), which would measure the file system rather than rwfc.

set -euo pipefail

cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 10000 100000)
runs=${RUNS:-5}
runs_large=${RUNS_LARGE:-3}
per_workflow=${PER_WORKFLOW:-100}

# --- binaries ----------------------------------------------------------------------------------
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
RWFC_GIVEN=${RWFC:-}
if [ -z "${RWFC:-}" ]; then
    cargo build --release --quiet --bin rwfc
    RWFC="$target_dir/release/rwfc"
fi
cargo build --release --quiet --example generate
generate="$target_dir/release/examples/generate"

if [ -z "${BENCH_DIR:-}" ]; then
    BENCH_DIR=${TMPDIR:-/tmp}
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        BENCH_DIR=/dev/shm
    fi
fi
work=$(mktemp -d "$BENCH_DIR/rwfc-bench.XXXXXX")
if [ -n "${KEEP:-}" ]; then
    echo "keeping $work" >&2
else
    trap 'rm -rf "$work"' EXIT
fi

# --- measuring one run: prints "SECONDS PEAK_RSS_KB" --------------------------------------------
# python3 gives a nanosecond clock and the child's own rusage (wait4); GNU time is the fallback
# (10 ms resolution); without either, only the time is measured.
if command -v python3 >/dev/null; then
    measure() {
        python3 - "$@" <<'PY'
import os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
elapsed = time.perf_counter() - start
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit(f"failed: {' '.join(sys.argv[1:])}")
print(f"{elapsed:.6f} {usage.ru_maxrss}")
PY
    }
elif /usr/bin/time -f %M true >/dev/null 2>&1; then
    measure() {
        local out
        out=$( { /usr/bin/time -f "%e %M" "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -n 1)
        echo "$out"
    }
else
    measure() {
        local start end
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s%N)
        echo "$(( (end - start) / 1000 ))e-6 0"
    }
fi

# Median of the times and largest RSS of the lines "SECONDS KB" on stdin: "SECONDS KB".
summarise() {
    sort -g | awk '{ t[NR] = $1; if ($2 > m) m = $2 } END {
        if (NR % 2) med = t[(NR + 1) / 2]; else med = (t[NR / 2] + t[NR / 2 + 1]) / 2
        printf "%s %d\n", med, m }'
}

# --- the machine -------------------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
mem_kb=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/meminfo 2>/dev/null)
echo "Machine: $(nproc) CPUs (${cpu:-unknown CPU}), $(( ${mem_kb:-0} / 1024 / 1024 )) GiB RAM, $(uname -sr)"
if [ -n "${RWFC_GIVEN:-}" ]; then
    echo "rwfc: $RWFC ($("$RWFC" --version)), $(rustc --version)"
else
    echo "rwfc: $("$RWFC" --version) at $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(rustc --version)"
fi
echo "Workload: tools/generate.rs, $per_workflow task calls per workflow; median of $runs runs ($runs_large from N = 100000)"
echo "Files in: $BENCH_DIR ($(df -PT "$work" | awk 'NR == 2 { print $2 }'))"
echo
echo "| N tasks | source | command | median wall | per task | peak RSS |"
echo "|---:|---:|---|---:|---:|---:|"

for n in "${sizes[@]}"; do
    program="$work/w$n.rwf"
    "$generate" "$n" "$program" --per-workflow "$per_workflow"
    # The workload must be clean: no error and no warning.
    "$RWFC" check --deny-warnings "$program" >/dev/null
    size=$(wc -c <"$program" | awk '{ printf "%.1f MB", $1 / 1e6 }')
    count=$runs
    [ "$n" -lt 100000 ] || count=$runs_large
    for command in check build; do
        results=""
        for _ in $(seq "$count"); do
            rm -rf "$work/out"
            if [ "$command" = check ]; then
                results+="$(measure "$RWFC" check "$program")"$'\n'
            else
                results+="$(measure "$RWFC" build "$program" -o "$work/out")"$'\n'
            fi
        done
        read -r median rss < <(printf '%s' "$results" | summarise)
        awk -v n="$n" -v size="$size" -v c="$command" -v t="$median" -v m="$rss" 'BEGIN {
            printf "| %d | %s | %s | %.3f s | %.0f µs | %.0f MB |\n", n, size, c, t, t / n * 1e6, m / 1024 }'
    done
    [ -n "${KEEP:-}" ] || rm -rf "$work/out" "$program"
done
