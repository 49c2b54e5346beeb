"""Python against the CLI on the same work: `fit` against `uisrnn train`,
`predict` against `uisrnn predict` (reference preset, toy data, same seed, so
both compute the same model and the same labels; the tests check that).

    python python/benchmarks/compare_cli.py target/release/uisrnn

Each figure is the best of `--repeats` runs; the CLI's include starting the
process and reading the npz file, Python's the conversion of the arrays.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import uisrnn_rs as uisrnn

REPO = Path(__file__).resolve().parents[2]


def toy(part):
    data = np.load(REPO / "data" / f"toy_{part}_data.npz")
    cuts = np.cumsum(data["lengths"])[:-1]
    sequences = np.split(data["sequences"].astype(np.float64), cuts)
    return sequences, [list(ids) for ids in np.split(data["cluster_ids"], cuts)]


def best(work, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cli", help="the uisrnn binary (a release build)")
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--train-iteration", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp())
    model_path = tmp / "cli.safetensors"
    train_cli = [args.cli, "--quiet", "train", "--data", str(REPO / "data" / "toy_training_data.npz"),
                 "--model", str(model_path), "--preset", "reference", "--hidden-size",
                 str(args.hidden_size), "--train-iteration", str(args.train_iteration),
                 "--learning-rate", "0.01", "--seed", "0", "--device", "cpu"]
    predict_cli = [args.cli, "--quiet", "predict", "--model", str(model_path), "--data",
                   str(REPO / "data" / "toy_testing_data.npz"), "--output", str(tmp / "labels.json"),
                   "--device", "cpu"]

    model_args, training_args, inference_args = uisrnn.parse_arguments(args=[])
    model_args.rnn_hidden_size, model_args.verbosity = args.hidden_size, 0
    training_args.train_iteration, training_args.learning_rate = args.train_iteration, 0.01
    train, test = toy("training"), toy("testing")
    model = uisrnn.UISRNN(model_args)

    def fit():
        fresh = uisrnn.UISRNN(model_args)
        fresh.fit(*train, training_args)

    model.fit(*train, training_args)
    rows = [
        ("fit / train", best(fit, args.repeats),
         best(lambda: subprocess.run(train_cli, check=True), args.repeats)),
        ("predict 25 sequences", best(lambda: model.predict(test[0], inference_args), args.repeats),
         best(lambda: subprocess.run(predict_cli, check=True), args.repeats)),
    ]
    print(f"hidden {args.hidden_size}, {args.train_iteration} iterations, toy data; best of {args.repeats}")
    print("| work | Python | CLI | Python / CLI |")
    print("|---|---|---|---|")
    for name, python, cli in rows:
        print(f"| {name} | {python:.3f} s | {cli:.3f} s | {python / cli:.3f} |")


if __name__ == "__main__":
    sys.exit(main())
