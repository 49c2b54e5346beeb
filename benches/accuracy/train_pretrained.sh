#!/usr/bin/env bash
# Trains the shipped model (crates/uisrnn-model/models/uisrnn-librispeech.safetensors):
# the recommended recipe (`uisrnn train` with no recipe flag: sample-mean loss,
# change-ratio crp_alpha, 3000 iterations, hidden size 512, validation every 500
# iterations keeping the best parameters, then calibration of crp_alpha and sigma2) on
# the real-voice corpus's training speakers, validated and calibrated on its
# validation speakers (--validation-data: voices training never heard).
#
#   benches/accuracy/real_voice_corpus.sh ../shared/voices/librispeech-train-clean-100 CORPUS
#   benches/accuracy/train_pretrained.sh CORPUS MODEL_OUT [extra train flags...]
#
# Seed 0; deterministic (the same corpus gives the same bytes). Time: models/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPUS="${1:?usage: train_pretrained.sh CORPUS_DIR MODEL_OUT [train flags...]}"
MODEL="${2:?usage: train_pretrained.sh CORPUS_DIR MODEL_OUT [train flags...]}"
shift 2
if [ -z "${UISRNN:-}" ]; then # UISRNN=path/to/uisrnn uses that binary instead
  cargo build --release --quiet --locked -p uisrnn-cli --bin uisrnn
  UISRNN="${CARGO_TARGET_DIR:-target}/release/uisrnn"
fi
start=$(date +%s)
"$UISRNN" train --data "$CORPUS/train.npz" --validation-data "$CORPUS/validation.npz" \
  --model "$MODEL" --seed 0 --device cpu "$@"
echo "trained in $(($(date +%s) - start)) s"
