#!/usr/bin/env bash
# End-to-end benchmark of `rwfc check` and `rwfc build` on generated workloads
# (tools/generate.rs), printed as a markdown table with the machine it ran on.
#
#   benches/bench.sh                 # N = 100, 1000, 10000, 100000
#   benches/bench.sh 1000 10000      # chosen sizes
#   SHAPES=0 benches/bench.sh 10000  # one workflow of 10,000 tasks only
#
# Environment:
#   RUNS=5            runs per measurement for N < 100000
#   RUNS_LARGE=3      runs per measurement for N >= 100000
#   SHAPES="100 0"    task calls per generated workflow, one shape after the other (0: one
#                     workflow with every call); PER_WORKFLOW=K is SHAPES=K
#   RWFC=path         benchmark this binary instead of building the release one
#   BENCH_DIR=dir     where programs and outputs go (default: /dev/shm when it is writable,
#                     else $TMPDIR or /tmp)
#   KEEP=1            keep the generated programs and outputs (their directory is printed)
#
# Each figure is the median wall time of the runs, time per task is that median divided by
# N, and memory is the largest peak RSS of the runs. `build -` writes the RayJobs to stdout
# (/dev/null); `build DIR` writes the output folder, each run into a directory of its own, and
# is followed by `cp -r` of that folder to a new one: the `cp -r` column is the median of those,
# and the ratio is `build DIR` over it, on the same file system and in the same minute.
# Outputs of a size are deleted only after all its runs: on ext4, creating thousands of files
# soon after deleting thousands makes inode allocation slow (the kernel skips recently deleted
# inodes), which would measure the file system rather than rwfc. They go to a tmpfs by default.

set -euo pipefail

cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 10000 100000)
runs=${RUNS:-5}
runs_large=${RUNS_LARGE:-3}
read -r -a shapes <<<"${SHAPES:-${PER_WORKFLOW:-100 0}}"

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
echo "Workload: tools/generate.rs, ${shapes[*]} task calls per workflow (0: one workflow); median of $runs runs ($runs_large from N = 100000)"
echo "Files in: $BENCH_DIR ($(df -PT "$work" | awk 'NR == 2 { print $2 }'))"
echo
echo "| N tasks | per workflow | source | command | median wall | per task | peak RSS | cp -r | ratio |"
echo "|---:|---:|---:|---|---:|---:|---:|---:|---:|"

for n in "${sizes[@]}"; do
  for per_workflow in "${shapes[@]}"; do
    shape=$per_workflow
    [ "$shape" != 0 ] || shape=all
    prefix="$work/w$n-$shape"
    program="$prefix.rwf"
    "$generate" "$n" "$program" --per-workflow "$per_workflow"
    # The workload must be clean: no error and no warning.
    "$RWFC" check --deny-warnings "$program" >/dev/null
    size=$(wc -c <"$program" | awk '{ printf "%.1f MB", $1 / 1e6 }')
    count=$runs
    [ "$n" -lt 100000 ] || count=$runs_large
    for command in check build-stdout build-dir; do
        results=""
        copies=""
        for run in $(seq "$count"); do
            case $command in
                check) results+="$(measure "$RWFC" check "$program")"$'\n' ;;
                build-stdout) results+="$(measure "$RWFC" build "$program" -o -)"$'\n' ;;
                build-dir)
                    results+="$(measure "$RWFC" build "$program" -o "$prefix.out$run")"$'\n'
                    copies+="$(measure cp -r "$prefix.out$run" "$prefix.copy$run")"$'\n' ;;
            esac
        done
        read -r median rss < <(printf '%s' "$results" | summarise)
        copy=""
        [ -z "$copies" ] || read -r copy _ < <(printf '%s' "$copies" | summarise)
        label=${command/build-stdout/build -}
        label=${label/build-dir/build DIR}
        awk -v n="$n" -v k="$shape" -v size="$size" -v c="$label" -v t="$median" -v m="$rss" -v cp="$copy" 'BEGIN {
            printf "| %d | %s | %s | %s | %.3f s | %.0f µs | %.0f MB |", n, k, size, c, t, t / n * 1e6, m / 1024
            if (cp != "") printf " %.3f s | %.1f× |\n", cp, t / cp; else printf " | |\n" }'
    done
    [ -n "${KEEP:-}" ] || rm -rf "$prefix".*
  done
done
