#!/usr/bin/env bash
# DER from audio with each speech detector and each labelling method, on the dev
# audio (data/dev/audio/, three synthetic conversations, truth in data/dev/test.rttm)
# and on real speech (data/real/sample.wav, pyannote.audio's two-speaker sample,
# truth in data/real/sample.rttm). One table row per (data, detector, method):
# DER (collar 0.25, overlap scored), then missed speech, false alarm and confusion as
# fractions of the scored speech. "true turns" takes the speech from the truth
# itself (--speech-rttm): the same pipeline with a perfect detector. "recording
# level" measures the volume on the whole file (--level recording) instead of on the
# speech found.
#
#   benches/accuracy/vad_table.sh MODEL     # MODEL: a UIS-RNN model file
#
# A model trained on data/dev/train.npz with the recommended preset:
#   uisrnn train --data data/dev/train.npz --model dev.safetensors --seed 0 \
#     --validation-split sequences --refit false   # the README rows' model
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL="${1:?usage: vad_table.sh MODEL}"
if [ -z "${UISRNN:-}" ]; then # UISRNN=path/to/uisrnn uses that binary instead
  cargo build --release --quiet -p uisrnn-cli --bin uisrnn
  UISRNN="${CARGO_TARGET_DIR:-target}/release/uisrnn"
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

row() { # data, detector, method, diarize output
  echo "$4" | sed -n 's/^der \([0-9.]*\) (missed \([0-9.]*\) s, false alarm \([0-9.]*\) s, confusion \([0-9.]*\) s, of \([0-9.]*\) s.*/\1 \2 \3 \4 \5/p' |
    awk -v d="$1" -v v="$2" -v m="$3" '{ printf "| %s | %s | %s | %.3f | %.3f | %.3f | %.3f |\n", d, v, m, $1, $2/$5, $3/$5, $4/$5 }'
}

echo "| audio | speech | method | DER | missed | false alarm | confusion |"
echo "|---|---|---|---|---|---|---|"
for data in dev real; do
  if [ "$data" = dev ]; then
    AUDIO=(data/dev/audio/dte000.wav data/dev/audio/dte001.wav data/dev/audio/dte002.wav)
    TRUTH=data/dev/test.rttm
  else
    AUDIO=(data/real/sample.wav)
    TRUTH=data/real/sample.rttm
  fi
  for speech in silero "silero, recording level" webrtc "true turns"; do
    case "$speech" in
      "true turns") SPEECH=(--speech-rttm "$TRUTH") ;;
      "silero, recording level") SPEECH=(--vad silero --level recording) ;;
      *) SPEECH=(--vad "$speech") ;;
    esac
    for method in spectral uisrnn; do
      case "$method" in
        spectral) METHOD=(--method spectral) ;;
        uisrnn) METHOD=(--model "$MODEL") ;;
      esac
      output=$("$UISRNN" diarize -q "${METHOD[@]}" --audio "${AUDIO[@]}" "${SPEECH[@]}" \
        --rttm "$OUT/out.rttm" --reference-rttm "$TRUTH")
      row "$data" "$speech" "$method" "$output"
    done
  done
done
