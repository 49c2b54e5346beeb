"""Builds small validation conversations from real voices (../shared/voices: one
LibriSpeech utterance per speaker, CC BY 4.0) to compare front-end settings on real
speech without touching a test set: N conversations of 2 or 3 speakers, turns of
1.5-5 s cut from each speaker's utterance (no self-repeat, no overlap), pauses of
0.3-2 s, one long pause of 4-8 s, low background noise, and the whole recording at a
random level from -42 to -24 dBFS (quiet recordings are where level normalisation
matters). Deterministic (numpy default_rng(seed)). Writes OUT/cNN.wav and
OUT/truth.rttm.

    python benches/accuracy/real_voice_conversations.py VOICES_DIR OUT [N] [SEED]

Speakers are drawn from the voices whose LibriSpeech id is odd, so a later test split
can take the even ones.
"""
import os
import sys

import numpy as np
import soundfile

voices, out = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 12
rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
folder = os.path.join(voices, "librispeech-train-clean-100")
files = sorted(f for f in os.listdir(folder) if f.endswith(".flac") and int(f.split("-")[0]) % 2 == 1)
os.makedirs(out, exist_ok=True)
rttm = []
rate = 16000
for c in range(count):
    n = int(rng.choice([2, 3]))
    chosen = rng.choice(len(files), n, replace=False)
    audio = []
    for i in chosen:
        x, r = soundfile.read(os.path.join(folder, files[i]), dtype="float32")
        assert r == rate
        audio.append(x / (np.sqrt(np.mean(x**2)) + 1e-9) * 0.05)
    signal, t, last = [], 0.0, -1
    noise = lambda k: rng.normal(0, 1, k).astype(np.float32)
    long_pause_at = int(rng.integers(2, 6))
    for turn in range(int(rng.integers(8, 14))):
        s = int(rng.choice([k for k in range(n) if k != last]))
        last = s
        length = int(rng.uniform(1.5, 5.0) * rate)
        x = audio[s]
        start = int(rng.integers(0, max(1, len(x) - length)))
        piece = x[start : start + length]
        pause = rng.uniform(4, 8) if turn == long_pause_at else rng.uniform(0.3, 2.0)
        gap = np.zeros(int(pause * rate), dtype=np.float32)
        signal += [gap, piece]
        t += len(gap) / rate
        rttm.append(f"SPEAKER c{c:02d} 1 {t:.3f} {len(piece) / rate:.3f} <NA> <NA> {files[chosen[s]].split('-')[0]} <NA> <NA>")
        t += len(piece) / rate
    signal.append(np.zeros(int(rng.uniform(0.5, 2.0) * rate), dtype=np.float32))
    y = np.concatenate(signal)
    y = y + noise(len(y)) * 0.05 * 10 ** (-rng.uniform(25, 40) / 20)
    level = rng.uniform(-42, -24)
    y = y / np.sqrt(np.mean(y**2)) * 10 ** (level / 20)
    soundfile.write(os.path.join(out, f"c{c:02d}.wav"), np.clip(y, -1, 1), rate, subtype="PCM_16")
with open(os.path.join(out, "truth.rttm"), "w") as f:
    f.write("\n".join(rttm) + "\n")
print(f"{count} conversations in {out}")
