"""Diarize many recordings on a Ray cluster (or a laptop) with Ray Data.

Each worker builds one ``uisrnn_rs.Diarizer`` (the model and encoder load once
per worker, in the callable class's constructor) and diarizes the files of its
batches, writing one RTTM file per recording; the driver writes a summary table.

    python examples/ray_diarize.py data/dev/audio --out rttm/ --workers 2

The input is a directory (its audio files) or a manifest (a text file with one
path per line). ``ray.init()`` starts a local Ray, or joins the cluster named by
``RAY_ADDRESS`` (e.g. ``RAY_ADDRESS=ray://head:10001``); on a cluster the paths
and ``--out`` must be visible to every node (a shared file system).
"""

import argparse
import os
import time
import wave
from pathlib import Path

import ray

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".mp4"}


def audio_paths(source):
    """The audio files of a directory, or the paths listed in a manifest."""
    source = Path(source)
    if source.is_dir():
        return sorted(str(p) for p in source.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    lines = source.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def seconds_of(path, diarization):
    """The recording's length: a WAV's header, else the end of its last window."""
    if path.lower().endswith(".wav"):
        try:
            with wave.open(path) as file:
                return file.getnframes() / file.getframerate()
        except (wave.Error, EOFError):
            pass
    _, _, ends = diarization.windows
    return float(ends[-1]) if len(ends) else 0.0


class DiarizeFiles:
    """Ray Data's callable class: one diarizer per worker, reused for every batch."""

    def __init__(self, out_dir, model=None, method="uisrnn"):
        import uisrnn_rs  # imported on the worker

        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.diarizer = uisrnn_rs.Diarizer(model, method)

    def __call__(self, batch):
        rows = {"path": [], "file_id": [], "seconds": [], "speakers": [], "turns": [],
                "elapsed": [], "rttm": []}
        for path in batch["path"]:
            path = str(path)
            started = time.perf_counter()
            diarization = self.diarizer.diarize(path)
            rttm = self.out_dir / f"{diarization.file_id}.rttm"
            diarization.write_rttm(str(rttm))
            rows["path"].append(path)
            rows["file_id"].append(diarization.file_id)
            rows["seconds"].append(seconds_of(path, diarization))
            rows["speakers"].append(diarization.speakers)
            rows["turns"].append(len(diarization.turns))
            rows["elapsed"].append(time.perf_counter() - started)
            rows["rttm"].append(str(rttm))
        return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a directory of audio files, or a manifest of paths")
    parser.add_argument("--out", required=True, help="directory for the RTTM files")
    parser.add_argument("--workers", type=int, default=2, help="diarizers running at once")
    parser.add_argument("--model", help="a model file (default: the shipped model)")
    parser.add_argument("--method", default="uisrnn", choices=["uisrnn", "spectral"])
    parser.add_argument("--summary", help="summary table (default: OUT/summary.tsv)")
    args = parser.parse_args()

    paths = audio_paths(args.source)
    if not paths:
        parser.error(f"{args.source}: no audio files")
    out_dir = os.path.abspath(args.out)
    model = os.path.abspath(args.model) if args.model else None
    # Local Ray, or the cluster of RAY_ADDRESS when it is set.
    ray.init(address=os.environ.get("RAY_ADDRESS"))
    started = time.perf_counter()
    dataset = ray.data.from_items([{"path": os.path.abspath(p)} for p in paths])
    results = dataset.map_batches(
        DiarizeFiles,
        fn_constructor_args=(out_dir, model, args.method),
        batch_size=1,
        concurrency=args.workers,
        num_cpus=1,
    ).take_all()
    wall = time.perf_counter() - started
    results.sort(key=lambda row: row["file_id"])

    lines = ["file_id\tseconds\tspeakers\tturns\telapsed_s\trttm"]
    lines += [
        f"{r['file_id']}\t{r['seconds']:.2f}\t{r['speakers']}\t{r['turns']}\t"
        f"{r['elapsed']:.2f}\t{r['rttm']}"
        for r in results
    ]
    audio_seconds = sum(r["seconds"] for r in results)
    summary = Path(args.summary or Path(out_dir) / "summary.tsv")
    summary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(
        f"{len(results)} files, {audio_seconds / 3600:.4f} h of audio in {wall:.1f} s "
        f"with {args.workers} workers: {audio_seconds / wall:.1f} audio hours per hour"
    )
    ray.shutdown()


if __name__ == "__main__":
    main()
