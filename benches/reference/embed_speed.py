"""Seconds resemblyzer 0.1.4 (PyTorch, CPU) takes to embed one minute of audio the
way `examples/embed_speed.rs` does: the first 60 s of data/dev/audio/dte000.wav,
normalize_volume, the WebRTC VAD mask (webrtcvad, as trim_long_silences computes
it), the mel spectrogram (librosa), and the encoder over 1.2 s windows every 0.4 s,
all windows in one batch. The median of several runs after a warm-up.

    python benches/reference/embed_speed.py --threads 1 [--runs 5]
"""
import argparse
import struct
import time
import wave

import numpy as np
import torch
import webrtcvad
from resemblyzer import VoiceEncoder, audio, hparams


def vad_mask(wav):
    samples_per_window = (hparams.vad_window_length * hparams.sampling_rate) // 1000
    wav = wav[: len(wav) - (len(wav) % samples_per_window)]
    pcm = struct.pack("%dh" % len(wav), *(np.round(wav * 32767)).astype(np.int16))
    vad = webrtcvad.Vad(mode=3)
    flags = [
        vad.is_speech(pcm[i * 2 : (i + samples_per_window) * 2], sample_rate=16000)
        for i in range(0, len(wav), samples_per_window)
    ]
    return np.array(flags)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with wave.open("data/dev/audio/dte000.wav") as f:
        x = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16) / 32768.0
    minute = x[: 60 * 16000].astype(np.float32)
    encoder = VoiceEncoder(device="cpu", verbose=False)

    def embed():
        start = time.perf_counter()
        wav = audio.normalize_volume(minute, hparams.audio_norm_target_dBFS, increase_only=True)
        vad_mask(wav)
        mel = audio.wav_to_mel_spectrogram(wav)
        starts = range(0, len(mel) - 120 + 1, 40)
        mels = torch.from_numpy(np.stack([mel[s : s + 120] for s in starts]))
        with torch.no_grad():
            _, (hidden, _) = encoder.lstm(mels)
            projection = encoder.linear(hidden[-1])
            d_vectors = projection / torch.norm(projection, dim=1, keepdim=True)
        return time.perf_counter() - start, len(d_vectors)

    embed()
    results = [embed() for _ in range(args.runs)]
    times = sorted(t for t, _ in results)
    print(
        f"RESULT threads={args.threads} windows={results[0][1]} seconds={times[len(times) // 2]:.4f} "
        f"(median of {args.runs}; min {times[0]:.4f}, max {times[-1]:.4f})"
    )


if __name__ == "__main__":
    main()
