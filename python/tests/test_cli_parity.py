"""The same settings give the same model and the same labels from Python as from
the `uisrnn` CLI."""

import json
import subprocess

import numpy as np

import uisrnn_rs as uisrnn
from test_reference_api import toy_data


def test_python_trains_and_labels_as_the_cli(repo, cli, tmp_path):
    train = repo / "data" / "toy_training_data.npz"
    test = repo / "data" / "toy_testing_data.npz"
    cli_model = tmp_path / "cli.safetensors"
    subprocess.run(
        [cli, "--quiet", "train", "--data", str(train), "--model", str(cli_model),
         "--preset", "reference", "--hidden-size", "32", "--train-iteration", "30",
         "--learning-rate", "0.01", "--seed", "3", "--device", "cpu"],
        check=True,
    )
    model_args, training_args, inference_args = uisrnn.parse_arguments(args=[])
    model_args.rnn_hidden_size, model_args.verbosity = 32, 0
    training_args.train_iteration, training_args.learning_rate = 30, 0.01
    model = uisrnn.UISRNN(model_args, seed=3)
    sequences, cluster_ids = toy_data(repo, "training")
    model.fit(sequences, cluster_ids, training_args)
    model.save(tmp_path / "python.safetensors")
    assert (tmp_path / "python.safetensors").read_bytes() == cli_model.read_bytes()

    labels = tmp_path / "labels.json"
    subprocess.run(
        [cli, "--quiet", "predict", "--model", str(cli_model), "--data", str(test),
         "--output", str(labels), "--device", "cpu"],
        check=True,
    )
    test_sequences, _ = toy_data(repo, "testing")
    assert model.predict(test_sequences, inference_args) == json.loads(labels.read_text())
    assert [model.predict(s, inference_args) for s in test_sequences[:3]] == \
        json.loads(labels.read_text())[:3]
