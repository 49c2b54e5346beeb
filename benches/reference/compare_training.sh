#!/usr/bin/env bash
# Training speed side by side: the reference (uisrnn 0.1.2 on PyTorch, 1 and 2
# threads) and this port (1 and 2 threads), at the reference's settings (hidden 512,
# batch 10, 10 permutations, learning rate 1e-3), on the toy data and the dev set,
# in one run on this machine. Prints every RESULT line, then a summary table.
#
#   PYTHON=/work/venv-ref/bin/python benches/reference/compare_training.sh [HIDDEN]
#
# PYTHON must have `uisrnn==0.1.2 numpy torch` (see README.md here). Run it on an
# otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3}"
HIDDEN="${1:-512}"
ITERATIONS="${ITERATIONS:-20,120}"

cargo build --release --quiet --example training_speed
OURS=target/release/examples/training_speed
if [ -n "${CARGO_TARGET_DIR:-}" ]; then OURS="$CARGO_TARGET_DIR/release/examples/training_speed"; fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for data in toy dev; do
  for threads in 1 2; do
    "$PYTHON" benches/reference/train_speed.py --data "$data" --hidden "$HIDDEN" \
      --threads "$threads" --iterations "$ITERATIONS" | grep '^RESULT' \
      | sed 's/^RESULT/REFERENCE/' | tee -a "$results"
    RAYON_NUM_THREADS="$threads" "$OURS" --data "$data" --hidden "$HIDDEN" \
      --iterations "$ITERATIONS" | grep -E '^(RESULT|BOUND)' \
      | sed 's/^RESULT/OURS/' | tee -a "$results"
  done
done

echo
echo "data  threads  reference_s_per_iter  ours_s_per_iter  speed-up  ours/bound"
for data in toy dev; do
  for threads in 1 2; do
    ref=$(grep "^REFERENCE data=$data .*threads=$threads " "$results" | sed 's/.*s_per_iter=\([0-9.]*\).*/\1/')
    line=$(grep "^OURS data=$data .*threads=$threads " "$results")
    ours=$(echo "$line" | sed 's/.*s_per_iter=\([0-9.]*\).*/\1/')
    ratio=$(echo "$line" | sed 's/.*bound_ratio=\([0-9.]*\).*/\1/')
    speedup=$(awk -v r="$ref" -v o="$ours" 'BEGIN { printf "%.2f", r / o }')
    printf '%-5s %-8s %-21s %-16s %-9s %s\n' "$data" "$threads" "$ref" "$ours" "${speedup}x" "$ratio"
  done
done
