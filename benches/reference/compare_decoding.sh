#!/usr/bin/env bash
# Decoding speed side by side: the reference (uisrnn 0.1.2 on PyTorch, 1 thread)
# labels the first toy test sequences with a hidden-512 model it trained and
# saved, and this library loads that file and labels the same sequences (1 and 2
# threads), checking that the labels are the reference's. One run on this machine;
# run it on an otherwise idle machine.
#
#   PYTHON=/path/to/python benches/reference/compare_decoding.sh [SEQUENCES]
#
# PYTHON must have `uisrnn==0.1.2` (which brings torch).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3}"
SEQUENCES="${1:-5}"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
cargo build --release --quiet --example decode_speed
OURS="${CARGO_TARGET_DIR:-target}/release/examples/decode_speed"
"$PYTHON" benches/reference/decode_speed.py --out "$DIR" --threads 1 --sequences "$SEQUENCES"
for threads in 1 2; do
  RAYON_NUM_THREADS="$threads" "$OURS" "$DIR"
done
