#!/usr/bin/env bash
# The real-voice corpus: conversations cut from one LibriSpeech utterance per
# speaker (examples/real_voice_corpus.rs says how), embedded as users' audio is,
# with `uisrnn embed --rttm` (Silero VAD, the built-in encoder; each window labelled
# with the speaker who talks most in it). One command, deterministic:
#
#   benches/accuracy/real_voice_corpus.sh VOICES_DIR OUT_DIR [SEED]
#
# VOICES_DIR: the FLAC files (../shared/voices/librispeech-train-clean-100).
# Writes OUT_DIR/{train,validation,test}/*.wav, OUT_DIR/{split}.rttm,
# OUT_DIR/{split}.npz (the canonical layout, cluster ids CONVERSATION_SPEAKER) and
# OUT_DIR/corpus.json. Sizes and time: docs/src/accuracy.md "A corpus of real voices".
set -euo pipefail
cd "$(dirname "$0")/../.."
VOICES="${1:?usage: real_voice_corpus.sh VOICES_DIR OUT_DIR [SEED]}"
OUT="${2:?usage: real_voice_corpus.sh VOICES_DIR OUT_DIR [SEED]}"
SEED="${3:-0}"
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --locked -p uisrnn-cli --bin uisrnn
cargo build --release --quiet --locked --example real_voice_corpus
UISRNN="${UISRNN:-$TARGET/release/uisrnn}"

"$TARGET/release/examples/real_voice_corpus" "$VOICES" "$OUT" --seed "$SEED" \
  --train "${TRAIN:-480}" --validation "${VALIDATION:-60}" --test "${TEST:-60}"
for split in train validation test; do
  "$UISRNN" embed -q --audio "$OUT/$split"/*.wav --rttm "$OUT/$split.rttm" \
    --output "$OUT/$split.npz" --device cpu
done
ls -l "$OUT"/*.npz
