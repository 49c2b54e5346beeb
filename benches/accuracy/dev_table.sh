#!/usr/bin/env bash
# Accuracy on the dev test split: trains each recipe on data/dev/train.npz (80
# conversations, 22 speakers), labels data/dev/test.npz (25 conversations, 10 other
# speakers) and prints one table row per recipe: mean sequence-match accuracy, DER
# (collar 0.25, each window's central 0.4 s, against data/dev/test.rttm), predicted
# and true speakers per conversation, training seconds. Spectral clustering needs no
# training. Nothing here is tuned on the test split: calibration holds out training
# conversations (--validation-fraction; the recommended preset's are those of whole
# training speakers, --validation-split auto, and it then trains on all of them
# again, --refit).
#
#   benches/accuracy/dev_table.sh [ITERATIONS]      # default 3000
#
# Takes about 5-8 minutes per trained recipe on a 2-core machine. ONLY=PATTERN runs
# the rows whose name contains PATTERN (and spectral clustering).
set -euo pipefail
cd "$(dirname "$0")/../.."
ITERATIONS="${1:-3000}"
if [ -z "${UISRNN:-}" ]; then # UISRNN=path/to/uisrnn uses that binary instead
  cargo build --release --quiet -p uisrnn-cli --bin uisrnn
  UISRNN="${CARGO_TARGET_DIR:-target}/release/uisrnn"
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
COMMON=(--data data/dev/train.npz --train-iteration "$ITERATIONS" --seed 0 -q)
# Every option alone is added to the reference preset (H 512, lr 1e-3, like the
# reference's defaults but 3000 iterations).
REFERENCE=(--preset reference)
EVAL=(--data data/dev/test.npz --reference-rttm data/dev/test.rttm --central 0.4 -q)

row() { # name, evaluate output, training seconds
  local accuracy der speakers
  accuracy=$(echo "$2" | sed -n 's/^mean accuracy \(.*\)/\1/p')
  speakers=$(echo "$2" | sed -n 's/^mean speakers \([0-9.]*\) predicted, \([0-9.]*\) true/\1 \/ \2/p')
  der=$(echo "$2" | sed -n 's/^der \([0-9.]*\) .*/\1/p')
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$accuracy" "$der" "$speakers" "$3"
}

train_and_score() { # name, extra train flags...
  local name=$1; shift
  if [ -n "${ONLY:-}" ] && [[ "$name" != *"$ONLY"* ]]; then return; fi
  local start end
  start=$(date +%s)
  "$UISRNN" train "${COMMON[@]}" --model "$OUT/$name.safetensors" "$@"
  end=$(date +%s)
  row "$name" "$("$UISRNN" evaluate --model "$OUT/$name.safetensors" "${EVAL[@]}")" "$((end - start))"
}

echo "| recipe | accuracy | DER | speakers predicted / true | training s |"
echo "|---|---|---|---|---|"
row "spectral clustering (ICASSP 2018)" "$("$UISRNN" evaluate --method spectral "${EVAL[@]}")" 0
train_and_score "reference preset (H 512, lr 1e-3)" "${REFERENCE[@]}"
train_and_score "+ sample-mean loss (N 2)" "${REFERENCE[@]}" --sample-mean-loss 2
train_and_score "+ crp_alpha change ratio" "${REFERENCE[@]}" --crp-alpha change-ratio
train_and_score "+ calibration (20 % held out)" "${REFERENCE[@]}" --validation-fraction 0.2
train_and_score "+ rotations (pool of 32)" "${REFERENCE[@]}" --rotations 32
train_and_score "+ substitution and sub-sequences (2 copies, p 0.5, >= 0.5)" "${REFERENCE[@]}" \
  --augmented-copies 2 --speaker-substitution 0.5 --subsequence-min-fraction 0.5
train_and_score "+ calibration + validation every 500 (keep best)" "${REFERENCE[@]}" \
  --validation-fraction 0.2 --validate-every 500
train_and_score "sample-mean loss + change ratio + calibration" "${REFERENCE[@]}" \
  --sample-mean-loss 2 --crp-alpha change-ratio --validation-fraction 0.2
train_and_score "recommended preset, sequences held out, no refit (the default before)" \
  --validation-split sequences --refit false
train_and_score "recommended preset, speakers held out, no refit" --refit false
train_and_score "recommended preset (the default: no flags)"
