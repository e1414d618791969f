#!/usr/bin/env bash
# Copies every rwf source of the repository (examples, the standard library and the UI cases)
# into the corpus of each fuzz target. The corpora are not committed; run this before fuzzing.
# Usage: fuzz/seed.sh [TARGET...]   (default: parse build_yaml check)
set -euo pipefail
cd "$(dirname "$0")"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse build_yaml check)
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  # Flattened names keep cases of different folders apart (tests/ui/check/x.rwf -> tests_ui_check_x.rwf).
  # The limit cases are left out: they are built to reach the size bounds, which takes seconds
  # under the sanitizer, past libFuzzer's timeout (tests/limits.rs and the UI suite cover them).
  find ../examples ../stdlib ../tests/ui -name '*.rwf' -type f -not -path '*/ui/limits/*' | sort | while read -r file; do
    name=${file#../}
    cp "$file" "corpus/$target/${name//\//_}"
  done
  echo "corpus/$target: $(find "corpus/$target" -type f | wc -l) files"
done
