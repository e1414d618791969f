#!/usr/bin/env bash
# Times `rwfc check` on generated hostile inputs: programs built to make a pass quadratic or
# a value exponential. Each must finish quickly (with or without diagnostics) and never crash;
# the script prints a markdown table of wall time, peak RSS and exit code per input.
#
#   benches/hostile.sh               # every input
#   benches/hostile.sh after_chain   # chosen inputs
#
# Environment:
#   RWFC=path       time this binary instead of building the release one
#   BENCH_DIR=dir   where the inputs go (default: /dev/shm when writable, else $TMPDIR or /tmp)
#   TIMEOUT=60      seconds before a run is stopped (reported as `timeout`)

set -euo pipefail

cd "$(dirname "$0")/.."
timeout_s=${TIMEOUT:-60}

if [ -z "${RWFC:-}" ]; then
    cargo build --release --quiet --bin rwfc
    target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    RWFC="$target_dir/release/rwfc"
fi
if [ -z "${BENCH_DIR:-}" ]; then
    BENCH_DIR=${TMPDIR:-/tmp}
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        BENCH_DIR=/dev/shm
    fi
fi
work=$(mktemp -d "$BENCH_DIR/rwfc-hostile.XXXXXX")
trap 'rm -rf "$work"' EXIT

task='task t() { image = "img", entrypoint = "python run.py" }'

# Each generator writes one program to stdout.
gen_duplicate_consts() { awk 'BEGIN { for (i = 0; i < 40000; i++) print "const A = 1" }'; }
gen_unknown_names() { awk 'BEGIN { for (i = 0; i < 8000; i++) printf "const c%d = u%d\n", i, i }'; }
gen_const_chain() { awk 'BEGIN { print "const C0 = 1"; for (i = 1; i < 80000; i++) printf "const C%d = C%d\n", i, i - 1 }'; }
gen_string_doubling() {
    awk 'BEGIN { print "const S0 = \"ab\""; for (i = 1; i <= 40; i++) printf "const S%d = \"${S%d}${S%d}\"\n", i, i - 1, i - 1 }'
}
gen_list_doubling() { awk 'BEGIN { print "const L0 = [1]"; for (i = 1; i <= 40; i++) printf "const L%d = [L%d, L%d]\n", i, i - 1, i - 1 }'; }
gen_record_nesting() { awk 'BEGIN { for (i = 0; i < 10000; i++) printf "const C%d = { a = C%d }\n", i, i + 1; print "const C10000 = 1" }'; }
gen_workflow_doubling() {
    echo "$task"
    echo 'workflow w0() { let a = t() }'
    awk 'BEGIN { for (i = 1; i <= 18; i++) printf "workflow w%d() {\n  let a = w%d()\n  let b = w%d()\n}\n", i, i - 1, i - 1 }'
}
gen_call_chain() {
    echo "$task"
    echo 'workflow w0() { let a = t() }'
    awk 'BEGIN { for (i = 1; i < 5000; i++) printf "workflow w%d() { let a = w%d() }\n", i, i - 1 }'
}
gen_after_chain() {
    echo "$task"
    echo 'workflow w() {'
    echo '  let s0 = t()'
    awk 'BEGIN { for (i = 1; i < 100000; i++) printf "  let s%d = t() after s%d\n", i, i - 1 }'
    echo '}'
}

all=(duplicate_consts unknown_names const_chain string_doubling list_doubling record_nesting
    workflow_doubling call_chain after_chain)
chosen=("$@")
[ ${#chosen[@]} -gt 0 ] || chosen=("${all[@]}")

echo "rwfc: $("$RWFC" --version), $(nproc) CPUs; limit ${timeout_s}s per run"
echo
echo "| input | source | wall | peak RSS | exit |"
echo "|---|---:|---:|---:|---:|"
for name in "${chosen[@]}"; do
    program="$work/$name.rwf"
    "gen_$name" >"$program"
    size=$(wc -c <"$program" | awk '{ printf "%.1f MB", $1 / 1e6 }')
    # The human renderer is the default and the slowest: time it, to a file like a terminal would.
    set +e
    /usr/bin/time -o "$work/time" -f "%e %M" timeout "$timeout_s" "$RWFC" check --color never "$program" \
        >/dev/null 2>"$work/stderr"
    rc=$?
    set -e
    read -r wall rss < <(grep -E '^[0-9.]+ [0-9]+$' "$work/time" | tail -n 1 || true)
    [ "$rc" != 124 ] || rc=timeout
    awk -v n="$name" -v s="$size" -v t="${wall:-0}" -v m="${rss:-0}" -v rc="$rc" 'BEGIN {
        printf "| %s | %s | %.2f s | %.0f MB | %s |\n", n, s, t, m / 1024, rc }'
    rm -f "$program" "$work/stderr" "$work/time"
done
