#!/usr/bin/env bash
# Embedding speed side by side: resemblyzer 0.1.4 on PyTorch (1 and 2 threads) and
# this crate's front end (1 and 2 threads), one minute of audio each, in one run on
# this machine. Run it on an otherwise idle machine.
#
#   PYTHON=/path/to/python benches/reference/compare_embedding.sh [RUNS]
#
# PYTHON must have `resemblyzer==0.1.4` (which brings torch, librosa, webrtcvad).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3}"
RUNS="${1:-5}"
cargo build --release --quiet --example embed_speed
OURS="${CARGO_TARGET_DIR:-target}/release/examples/embed_speed"
for threads in 1 2; do
  printf 'resemblyzer  '; "$PYTHON" benches/reference/embed_speed.py --threads "$threads" --runs "$RUNS"
  printf 'uisrnn       '; RAYON_NUM_THREADS="$threads" "$OURS" "$RUNS"
done
