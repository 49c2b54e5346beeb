"""Seconds the silero-vad package (6.2.3, its default TorchScript model, CPU) takes to
find the speech in one minute of audio the way `examples/vad_speed.rs` does: the
first 60 s of data/dev/audio/dte000.wav, `get_speech_timestamps` with its defaults
(one model call per 512-sample chunk, then the post-processing). The median of
several runs after a warm-up.

    python benches/reference/vad_speed.py --threads 1 [--runs 5]
"""
import argparse
import time
import wave

import numpy as np
import torch
from silero_vad import get_speech_timestamps, load_silero_vad


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    model = load_silero_vad()
    torch.set_num_threads(args.threads)
    with wave.open("data/dev/audio/dte000.wav") as f:
        x = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16) / 32768.0
    minute = torch.from_numpy(x[: 60 * 16000].astype(np.float32))

    def detect():
        start = time.perf_counter()
        with torch.no_grad():
            segments = get_speech_timestamps(minute, model)
        return time.perf_counter() - start, len(segments)

    detect()
    runs = sorted(detect() for _ in range(args.runs))
    times = [t for t, _ in runs]
    print(
        f"RESULT detector=silero-vad threads={args.threads} segments={runs[0][1]} "
        f"seconds={times[len(times) // 2]:.5f} (median of {args.runs}; min {times[0]:.5f}, max {times[-1]:.5f})"
    )


if __name__ == "__main__":
    main()
