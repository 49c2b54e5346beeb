#!/usr/bin/env bash
# Embedding speed side by side: resemblyzer 0.1.4 on PyTorch (1 and 2 threads) and
# this crate's front end (1 and 2 threads), one minute of audio each, in one run on
# this machine. Run it on an otherwise idle machine.
#
#   PYTHON=/path/to/python benches/reference/compare_embedding.sh [RUNS] [ROUNDS]
#
# Each side reports the median of RUNS timed runs after a warm-up. The two sides
# alternate ROUNDS times (default 1) at each thread count, so that a shared or
# throttled machine slows both alike; the summary gives each side's median over the
# rounds and their ratio, and the ratio of the rounds' fastest runs.
#
# PYTHON must have `resemblyzer==0.1.4` (which brings torch, librosa, webrtcvad).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3}"
RUNS="${1:-5}"
ROUNDS="${2:-1}"
cargo build --release --quiet --example embed_speed
OURS="${CARGO_TARGET_DIR:-target}/release/examples/embed_speed"

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((round = 1; round <= ROUNDS; round++)); do
  for threads in 1 2; do
    "$PYTHON" benches/reference/embed_speed.py --threads "$threads" --runs "$RUNS" \
      | grep '^RESULT' | sed 's/^RESULT/RESEMBLYZER/' | tee -a "$results"
    RAYON_NUM_THREADS="$threads" "$OURS" "$RUNS" | grep -E '^(RESULT|STAGES)' \
      | sed 's/^RESULT/UISRNN/' | tee -a "$results"
  done
done

echo
echo "threads  rounds  resemblyzer_s  uisrnn_s  speed-up  (fastest runs: resemblyzer_s  uisrnn_s  speed-up)"
for threads in 1 2; do
  awk -v threads="$threads" '
    function median(values, n,    i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
        if (values[j] < values[i]) { t = values[i]; values[i] = values[j]; values[j] = t }
      return n % 2 ? values[(n + 1) / 2] : (values[n / 2] + values[n / 2 + 1]) / 2
    }
    $2 == "threads=" threads {
      match($0, /seconds=[0-9.]+/); s = substr($0, RSTART + 8, RLENGTH - 8)
      match($0, /min [0-9.]+/); m = substr($0, RSTART + 4, RLENGTH - 4)
      if ($1 == "RESEMBLYZER") { r[++nr] = s; if (!rm || m < rm) rm = m }
      if ($1 == "UISRNN") { u[++nu] = s; if (!um || m < um) um = m }
    }
    END {
      a = median(r, nr); b = median(u, nu)
      printf "%7d  %6d  %13.4f  %8.4f  %7.2fx  (%.4f  %.4f  %.2fx)\n", threads, nr, a, b, a / b, rm, um, rm / um
    }' "$results"
done
