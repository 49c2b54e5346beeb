"""Bad input raises a Python exception with the Rust message; nothing crashes."""

import numpy as np
import pytest

import uisrnn_rs as uisrnn


@pytest.fixture(scope="module")
def fitted():
    model_args, training_args, inference_args = uisrnn.parse_arguments(args=[])
    model_args.observation_dim, model_args.rnn_hidden_size, model_args.verbosity = 2, 8, 0
    training_args.train_iteration = 3
    model = uisrnn.UISRNN(model_args)
    sequence = np.array([[0.0, 0.0]] * 4 + [[1.0, 1.0]] * 4)
    model.fit([sequence], [["a"] * 4 + ["b"] * 4], training_args)
    return model, training_args, inference_args


def test_bad_sequences(fitted):
    model, training_args, inference_args = fitted
    with pytest.raises(ValueError, match="dimension 3, expected 2"):
        model.predict(np.zeros((4, 3)), inference_args)
    with pytest.raises(ValueError, match="non-finite"):
        model.predict(np.array([[0.0, np.nan]]), inference_args)
    with pytest.raises(ValueError, match="empty"):
        model.predict(np.zeros((0, 2)), inference_args)
    with pytest.raises(ValueError, match="2-dim"):
        model.predict(np.zeros(4), inference_args)
    with pytest.raises(TypeError):
        model.predict(np.zeros((4, 2), dtype=np.int64), inference_args)
    with pytest.raises(TypeError):
        model.predict("not an array", inference_args)
    with pytest.raises(ValueError, match="observations but 3 labels"):
        model.fit([np.zeros((4, 2))], [["a", "b", "a"]], training_args)
    with pytest.raises(ValueError):
        model.fit([np.zeros((4, 2))], [["a"] * 4, ["b"] * 4], training_args)
    with pytest.raises(ValueError, match="beam_size"):
        model.predict(np.zeros((4, 2)), inference_args, beam_size=0)
    with pytest.raises(ValueError, match="invalid"):
        model.fit([np.zeros((4, 2))], [["a"] * 4], training_args, learning_rate=-1.0)


def test_an_unfitted_model_and_bad_settings():
    model_args, _, inference_args = uisrnn.parse_arguments(args=[])
    model_args.observation_dim, model_args.rnn_hidden_size = 2, 8
    with pytest.raises(ValueError, match="fit"):
        uisrnn.UISRNN(model_args).predict(np.zeros((3, 2)), inference_args)
    model_args.rnn_hidden_size = 0
    with pytest.raises(ValueError, match="rnn_hidden_size"):
        uisrnn.UISRNN(model_args)
    model_args.rnn_hidden_size, model_args.crp_alpha = 8, "sometimes"
    with pytest.raises(ValueError, match="crp_alpha"):
        uisrnn.UISRNN(model_args)


def test_bad_files(fitted, tmp_path):
    model, _, _ = fitted
    with pytest.raises(FileNotFoundError):
        uisrnn.UISRNN.from_file(tmp_path / "missing.uisrnn")
    garbage = tmp_path / "garbage.uisrnn"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(OSError, match="unknown model file format"):
        uisrnn.UISRNN.from_file(garbage)
    truncated = tmp_path / "truncated.safetensors"
    model.save(tmp_path / "whole.safetensors")
    truncated.write_bytes((tmp_path / "whole.safetensors").read_bytes()[:100])
    with pytest.raises(OSError):
        uisrnn.UISRNN.from_file(truncated)
    with pytest.raises(OSError):
        model.save(tmp_path / "no-such-directory" / "model.safetensors")
    assert not (tmp_path / "no-such-directory").exists()


def test_bad_audio(tmp_path):
    with pytest.raises(FileNotFoundError):
        uisrnn.embed(tmp_path / "missing.wav")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    with pytest.raises(OSError):
        uisrnn.diarize(text, method="spectral")
    with pytest.raises(ValueError, match="sample_rate"):
        uisrnn.embed(np.zeros(16000, dtype=np.float32))
    with pytest.raises(ValueError, match="mono"):
        uisrnn.embed(np.zeros((2, 16000), dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="no audio samples"):
        uisrnn.embed(np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="finite"):
        uisrnn.embed(np.full(16000, np.nan, dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="speech"):
        uisrnn.diarize(np.zeros(48000, dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="method"):
        uisrnn.Diarizer(method="kmeans")
    with pytest.raises(ValueError, match="num_speakers"):
        uisrnn.Diarizer(num_speakers=2, max_speakers=3)
    with pytest.raises(ValueError, match="vad"):
        uisrnn.Diarizer(vad="energy")
