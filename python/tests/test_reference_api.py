"""google/uis-rnn's API: its README flow, its integration test, its model files."""

import json
import pickle
import random

import numpy as np
import pytest

import uisrnn_rs as uisrnn


def test_parse_arguments_has_the_reference_flags_and_defaults():
    model_args, training_args, inference_args = uisrnn.parse_arguments(args=[])
    assert vars(model_args) == {
        "observation_dim": 256, "rnn_hidden_size": 512, "rnn_depth": 1, "rnn_dropout": 0.2,
        "transition_bias": None, "crp_alpha": 1.0, "sigma2": None, "verbosity": 3,
        "enable_cuda": True,
    }
    reference_training = {
        "optimizer": "adam", "learning_rate": 1e-3, "train_iteration": 20000, "batch_size": 10,
        "num_permutations": 10, "sigma_alpha": 1.0, "sigma_beta": 1.0,
        "regularization_weight": 1e-5, "grad_max_norm": 5.0,
        "enforce_cluster_id_uniqueness": True,
    }
    assert {k: vars(training_args)[k] for k in reference_training} == reference_training
    assert training_args.sample_mean_loss is None
    assert (inference_args.beam_size, inference_args.look_ahead, inference_args.test_iteration) == (10, 1, 2)
    parsed, training, _ = uisrnn.parse_arguments(args=["--rnn_hidden_size", "64", "-t", "5"])
    assert (parsed.rnn_hidden_size, training.train_iteration) == (64, 5)
    recommended, training, _ = uisrnn.parse_arguments(args=["--preset", "recommended"])
    assert (recommended.crp_alpha, training.sample_mean_loss, training.train_iteration) == (
        "change_ratio", 2, 3000)
    with pytest.raises(SystemExit):
        uisrnn.parse_arguments(args=["--no_such_flag", "1"])


def toy_data(repo, part):
    """The toy set's sequences and cluster ids (this project's npz layout)."""
    data = np.load(repo / "data" / f"toy_{part}_data.npz")
    cuts = np.cumsum(data["lengths"])[:-1]
    sequences = np.split(data["sequences"].astype(np.float64), cuts)
    return sequences, [list(ids) for ids in np.split(data["cluster_ids"], cuts)]


def test_readme_fit_predict_flow(repo, tmp_path, monkeypatch):
    """The reference README's (and demo.py's) flow on the toy data, import changed only."""
    monkeypatch.chdir(tmp_path)
    model_args, training_args, inference_args = uisrnn.parse_arguments(args=[])
    model_args.verbosity = 1
    model_args.rnn_hidden_size = 128
    training_args.train_iteration = 200
    training_args.learning_rate = 0.01
    train_sequences, train_cluster_ids = toy_data(repo, "training")
    test_sequences, test_cluster_ids = toy_data(repo, "testing")
    model = uisrnn.UISRNN(model_args)
    model.fit(train_sequences, train_cluster_ids, training_args)
    model.save("saved_model.uisrnn")
    test_record = []
    for sequence, truth in zip(test_sequences[:4], test_cluster_ids[:4]):
        predicted = model.predict(sequence, inference_args)
        assert all(isinstance(label, int) for label in predicted)
        test_record.append((uisrnn.compute_sequence_match_accuracy(list(truth), predicted),
                            len(truth)))
    text = uisrnn.output_result(model_args, training_args, test_record)
    assert "averaged accuracy" in text
    assert (tmp_path / "layer_128_1_0.2_result.txt").read_text() == text
    # (200 iterations are too few to separate the toy speakers: the demo trains
    # 2000; accuracy is asserted by the integration scenario below.)
    assert all(0.0 < accuracy <= 1.0 for accuracy, _ in test_record)
    loaded = uisrnn.UISRNN(model_args)
    loaded.load("saved_model.uisrnn")
    sequences = test_sequences[:4]
    assert loaded.predict(sequences, inference_args) == model.predict(sequences, inference_args)
    assert uisrnn.parallel_predict(loaded, sequences, inference_args, num_processes=2) == \
        loaded.predict(sequences, inference_args)
    copy = pickle.loads(pickle.dumps(model))
    assert copy.predict(sequences[0], inference_args) == model.predict(sequences[0], inference_args)


def _random_sequence(cluster_id, label_to_center, sigma):
    result = np.vstack([label_to_center[label] for label in cluster_id])
    return result + np.random.rand(*result.shape) * sigma


def test_reference_integration_scenario():
    """google/uis-rnn's tests/integration_test.py: four clusters on the vertices of
    a square, depth 2, hidden 8, 200 iterations, accuracy 1.0."""
    np.random.seed(1)
    random.seed(1)
    centers = {"A": np.array([0.0, 0.0]), "B": np.array([0.0, 1.0]),
               "C": np.array([1.0, 0.0]), "D": np.array([1.0, 1.0])}
    train_cluster_id = ["A"] * 400 + ["B"] * 300 + ["C"] * 200 + ["D"] * 100
    random.shuffle(train_cluster_id)
    train_sequence = _random_sequence(train_cluster_id, centers, sigma=0.01)
    cuts = [0, 100, 300, 600, 1000]
    train_sequences = [train_sequence[a:b, :] for a, b in zip(cuts, cuts[1:])]
    train_cluster_ids = [train_cluster_id[a:b] for a, b in zip(cuts, cuts[1:])]
    test_cluster_id = ["A"] * 10 + ["B"] * 20 + ["C"] * 30 + ["D"] * 40
    random.shuffle(test_cluster_id)
    test_sequence = _random_sequence(test_cluster_id, centers, sigma=0.01)

    model_args, training_args, inference_args = uisrnn.parse_arguments(args=[])
    model_args.enable_cuda = False
    model_args.rnn_depth = 2
    model_args.rnn_hidden_size = 8
    model_args.observation_dim = 2
    model_args.verbosity = 3
    training_args.learning_rate = 0.01
    training_args.train_iteration = 200
    training_args.enforce_cluster_id_uniqueness = False
    inference_args.test_iteration = 2

    model = uisrnn.UISRNN(model_args)
    model.fit(train_sequences, train_cluster_ids, training_args)
    predicted = model.predict(test_sequence, inference_args)
    assert uisrnn.compute_sequence_match_accuracy(predicted, test_cluster_id) == 1.0

    # Training again continues from the current weights and merges the bias.
    bias_before = model.transition_bias
    training_args.learning_rate = 0.001
    training_args.train_iteration = 50
    model.fit(train_sequence[:100, :], train_cluster_id[:100], training_args)
    assert model.transition_bias != pytest.approx(bias_before)
    predicted = model.predict(test_sequence, inference_args)
    assert uisrnn.compute_sequence_match_accuracy(predicted, test_cluster_id) == 1.0


def test_reference_model_files_load_and_decode_as_the_reference(repo):
    fixtures = repo / "tests" / "fixtures" / "reference"
    scalars = json.loads((fixtures / "scalars.json").read_text())
    expected = json.loads((fixtures / "expected.json").read_text())["predicted_cluster_ids"]
    model_args, _, inference_args = uisrnn.parse_arguments(args=[])
    model_args.rnn_hidden_size = scalars["model_args"]["rnn_hidden_size"]
    model = uisrnn.UISRNN(model_args)
    model.load(fixtures / "model.uisrnn")
    assert model.transition_bias == pytest.approx(scalars["transition_bias"])
    assert model.transition_bias_denominator == scalars["transition_bias_denominator"]
    assert model.crp_alpha == scalars["crp_alpha"]
    sequences = list(np.load(fixtures / "inputs.npz")["test_sequences"])
    assert model.predict(sequences, inference_args) == expected
    from_file = uisrnn.UISRNN.from_file(fixtures / "model.uisrnn")
    assert from_file.predict(sequences[0], inference_args) == expected[0]
    # The reference's own file, at the wrong architecture, is refused as torch would.
    with pytest.raises(ValueError, match="rnn_hidden_size"):
        uisrnn.UISRNN(uisrnn.parse_arguments(args=[])[0]).load(fixtures / "model.uisrnn")


def test_keywords_reach_the_settings_beyond_the_reference():
    model_args, training_args, inference_args = uisrnn.parse_arguments(args=[])
    model_args.observation_dim, model_args.rnn_hidden_size, model_args.verbosity = 2, 8, 0
    training_args.train_iteration = 5
    model = uisrnn.UISRNN(model_args, crp_alpha="change_ratio")
    sequence = np.array([[0.0, 0.0]] * 6 + [[1.0, 1.0]] * 6) + 0.01 * np.arange(12)[:, None]
    labels = ["a"] * 6 + ["b"] * 6
    model.fit([sequence, sequence], [labels, labels], training_args, sample_mean_loss=2)
    assert model.crp_alpha != 1.0
    assert len(model.predict(sequence, inference_args, num_speakers=2)) == 12
    report = model.calibrate([sequence], [labels], inference_args)
    assert report["accuracy_after"] >= report["accuracy_before"]
    with pytest.raises(TypeError, match="unknown training setting"):
        model.fit([sequence], [labels], training_args, no_such_setting=1)


def test_hold_out_sets_aside_whole_speakers_as_uisrnn_train_does(repo):
    data = np.load(repo / "data" / "dev" / "train.npz")
    offsets = np.concatenate([[0], np.cumsum(data["lengths"])])
    cluster_ids = [list(data["cluster_ids"][a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
    held = uisrnn.hold_out(cluster_ids, 0.2, "speakers", seed=3)
    assert held["split"] == "speakers" and held["speakers"] == sorted(held["speakers"])
    voices = set(held["speakers"])
    talking = [i for i, ids in enumerate(cluster_ids) if voices & {c.split("_")[1] for c in ids}]
    assert held["indices"] == talking and 16 <= len(talking) < 80
    assert uisrnn.hold_out(cluster_ids, 0.2, "speakers", seed=3) == held
    assert uisrnn.hold_out(cluster_ids, 0.2, "auto", seed=3) == held
    by_sequence = uisrnn.hold_out(cluster_ids, 0.2, "sequences", seed=3)
    assert len(by_sequence["indices"]) == 16 and by_sequence["speakers"] == []
    # Ids that name no speaker: auto holds out conversations, speakers is refused.
    plain = [["0", "1"]] * 10
    assert uisrnn.hold_out(plain, 0.2, "auto")["split"] == "sequences"
    with pytest.raises(ValueError, match="names no speaker"):
        uisrnn.hold_out(plain, 0.2, "speakers")
    with pytest.raises(ValueError, match="validation_fraction"):
        uisrnn.hold_out(plain, 1.5)
    with pytest.raises(ValueError, match="split must be"):
        uisrnn.hold_out(plain, 0.2, "voices")
    with pytest.raises(TypeError):
        uisrnn.hold_out([[1, 2]], 0.2)
