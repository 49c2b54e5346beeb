#!/usr/bin/env bash
# The shipped model against spectral clustering, on voices neither was tuned on:
#   - the real-voice test split (50 LibriSpeech speakers that training never saw),
#     from CORPUS_DIR (benches/accuracy/real_voice_corpus.sh builds it);
#   - the dev test split (data/dev/test.npz: 10 synthetic espeak-ng voices);
#   - DER from audio: the three dev conversations (data/dev/audio/) and pyannote.audio's
#     real two-speaker sample (data/real/sample.wav), missed speech, false alarm and
#     confusion apart (seconds), collar 0.25.
# Accuracy: mean sequence-match accuracy; DER on the embeddings: each window's
# central 0.4 s given its label; speakers: predicted / true per conversation.
#
#   benches/accuracy/pretrained_table.sh CORPUS_DIR [MODEL]
#
# The "told each conversation's speaker count" rows use `evaluate --oracle-speakers`.
# MODEL: a model file to score instead of the shipped one (e.g. a candidate from
# benches/accuracy/train_pretrained.sh); FINETUNE=1 adds the model fine-tuned on
# data/dev/train.npz (`train --from`, 1000 iterations). About 20 s on 2 cores; 6 min
# with FINETUNE=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPUS="${1:?usage: pretrained_table.sh CORPUS_DIR [MODEL]}"
MODEL="${2:-}"
if [ -z "${UISRNN:-}" ]; then # UISRNN=path/to/uisrnn uses that binary instead
  cargo build --release --quiet --locked -p uisrnn-cli --bin uisrnn
  UISRNN="${CARGO_TARGET_DIR:-target}/release/uisrnn"
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

embeddings() { # data, rttm, label flags...: "accuracy / DER / speakers"
  local data=$1 rttm=$2 out
  shift 2
  out=$("$UISRNN" evaluate "$@" --data "$data" --reference-rttm "$rttm" \
    --central 0.4 --device cpu -q)
  printf '%.3f / %.3f / %.2f' \
    "$(echo "$out" | sed -n 's/^mean accuracy \([0-9.]*\)/\1/p')" \
    "$(echo "$out" | sed -n 's/^der \([0-9.]*\) .*/\1/p')" \
    "$(echo "$out" | sed -n 's/^mean speakers \([0-9.]*\) predicted.*/\1/p')"
}

audio() { # label flags..., then the audio files after --audio ... --reference-rttm R
  local line
  line=$("$UISRNN" diarize "$@" --rttm "$OUT/turns.rttm" --device cpu -q | grep '^der ')
  # der D (missed M s, false alarm F s, confusion C s, of T s; ...)
  set -- $(echo "$line" | tr -c '0-9.\n' ' ')
  printf '%.3f (%.1f / %.1f / %.1f of %.1f s)' "$1" "$2" "$3" "$4" "$5"
}

row() { # name, label flags...
  local name=$1; shift
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" \
    "$(embeddings "$CORPUS/test.npz" "$CORPUS/test.rttm" "$@")" \
    "$(embeddings data/dev/test.npz data/dev/test.rttm "$@")" \
    "$(audio "$@" --audio data/dev/audio/dte00{0,1,2}.wav --reference-rttm data/dev/test.rttm)" \
    "$(audio "$@" --audio data/real/sample.wav --reference-rttm data/real/sample.rttm)" \
    "$(audio "$@" --num-speakers 2 --audio data/real/sample.wav --reference-rttm data/real/sample.rttm)"
}

oracle_row() { # name, label flags...: each conversation told its true speaker count
  local name=$1; shift
  printf '| %s | %s | %s | | | |\n' "$name" \
    "$(embeddings "$CORPUS/test.npz" "$CORPUS/test.rttm" "$@" --oracle-speakers)" \
    "$(embeddings data/dev/test.npz data/dev/test.rttm "$@" --oracle-speakers)"
}

SHIPPED=()
if [ -n "$MODEL" ]; then SHIPPED=(--model "$MODEL"); fi
echo "| method | real-voice test: accuracy / DER / speakers ($(
  "$UISRNN" evaluate --method spectral --data "$CORPUS/test.npz" -q --device cpu |
    sed -n 's/^mean speakers [0-9.]* predicted, \([0-9.]*\) true/\1/p' | cut -c1-4) true) | dev test (2.48 true) | dev audio DER (missed / FA / confusion) | real sample DER | real sample, --num-speakers 2 |"
echo "|---|---|---|---|---|---|"
row "spectral clustering" --method spectral
row "UIS-RNN, ${MODEL:-the shipped model} (no flag)" "${SHIPPED[@]}"
oracle_row "spectral clustering, told each conversation's speaker count" --method spectral
oracle_row "UIS-RNN, ${MODEL:-the shipped model}, told each conversation's speaker count" "${SHIPPED[@]}"
if [ -n "${FINETUNE:-}" ]; then
  start=$(date +%s)
  "$UISRNN" train --from "${MODEL:-crates/uisrnn-model/models/uisrnn-librispeech.safetensors}" --data data/dev/train.npz --model "$OUT/tuned.safetensors" \
    --train-iteration 1000 --seed 0 --device cpu -q --validation-split sequences --refit false
  row "+ fine-tuned on dev/train.npz (1000 iterations, $(($(date +%s) - start)) s)" --model "$OUT/tuned.safetensors"
fi
