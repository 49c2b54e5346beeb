#!/usr/bin/env bash
# Speech-detector speed side by side: the silero-vad package (PyTorch) and this
# crate's Silero VAD (and WebRTC's), one minute of audio each, 1 and 2 threads, in
# one run on this machine. Run it on an otherwise idle machine.
#
#   PYTHON=/path/to/python benches/reference/compare_vad.sh [RUNS]
#
# PYTHON must have `silero-vad==6.2.3` (which brings torch).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3}"
RUNS="${1:-5}"
cargo build --release --quiet --example vad_speed
OURS="${CARGO_TARGET_DIR:-target}/release/examples/vad_speed"
for threads in 1 2; do
  printf 'silero-vad   '; "$PYTHON" benches/reference/vad_speed.py --threads "$threads" --runs "$RUNS"
  RAYON_NUM_THREADS="$threads" "$OURS" "$RUNS" | sed 's/^/uisrnn       /'
done
