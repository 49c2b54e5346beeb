"""Audio from Python: embeddings and turns equal to the CLI's; threads run without the GIL."""

import subprocess
import sys
import threading
import time
import wave

import numpy as np
import pytest

import uisrnn_rs as uisrnn


def read_wav(path):
    with wave.open(str(path)) as file:
        assert file.getsampwidth() == 2 and file.getnchannels() == 1
        samples = np.frombuffer(file.readframes(file.getnframes()), dtype="<i2")
        return samples.astype(np.float32) / 32768.0, file.getframerate()


@pytest.fixture(scope="module")
def wav(repo):
    return repo / "data" / "dev" / "audio" / "dte000.wav"


def test_diarize_a_wav_as_the_cli(repo, cli, wav, tmp_path):
    cli_rttm = tmp_path / "cli.rttm"
    truth = repo / "data" / "dev" / "test.rttm"
    subprocess.run([cli, "--quiet", "diarize", "--audio", str(wav), "--rttm", str(cli_rttm),
                    "--device", "cpu", "--reference-rttm", str(truth),
                    "--plot", str(tmp_path / "cli.svg")], check=True, stdout=subprocess.DEVNULL)
    diarizer = uisrnn.Diarizer()
    diarization = diarizer.diarize(wav, rttm=tmp_path / "python.rttm")
    assert (tmp_path / "python.rttm").read_text() == cli_rttm.read_text()
    assert diarization.to_rttm() == cli_rttm.read_text()
    assert diarization.file_id == "dte000" and diarization.speakers >= 2
    start, end, speaker = diarization.turns[0]
    assert 0.0 <= start < end and isinstance(speaker, str)
    # Samples in memory give the file's turns.
    samples, rate = read_wav(wav)
    assert diarizer.diarize(samples, rate, file_id="dte000").turns == diarization.turns
    # The picture: the CLI's, byte for byte, with the truth and the DER.
    diarization.plot(tmp_path / "python.svg", reference_rttm=truth)
    assert (tmp_path / "python.svg").read_text() == (tmp_path / "cli.svg").read_text()
    svg = diarization.to_svg(truth)
    assert svg == (tmp_path / "cli.svg").read_text() and "DER" in svg
    assert svg.count('class="turn"') > len(diarization.turns)
    assert "DER" not in diarization.to_svg()
    with pytest.raises(OSError):
        diarization.plot(tmp_path / "no" / "such" / "dir.svg")
    with pytest.raises(OSError):
        diarization.to_svg(tmp_path / "missing.rttm")


def test_embed_as_the_cli(repo, cli, wav, tmp_path):
    out = tmp_path / "windows.npz"
    subprocess.run([cli, "--quiet", "embed", "--audio", str(wav), "--output", str(out),
                    "--device", "cpu"], check=True)
    stored = np.load(out)
    embeddings = uisrnn.embed(wav)
    assert embeddings.vectors.shape[1] == 256
    np.testing.assert_array_equal(embeddings.vectors.astype(np.float64), stored["sequences"])
    np.testing.assert_array_equal(embeddings.starts, stored["starts"])
    np.testing.assert_array_equal(embeddings.ends, stored["ends"])
    # The spectral baseline, on the windows and from audio.
    labels = uisrnn.spectral_cluster(embeddings.vectors, max_clusters=4)
    assert len(labels) == len(embeddings.starts) and 2 <= len(set(labels)) <= 4
    spectral = uisrnn.diarize(wav, method="spectral", max_speakers=4)
    assert spectral.labels == labels


def test_campplus_embeds_as_the_cli_and_a_256_model_refuses_it(repo, cli, tmp_path):
    sample = repo / "data" / "real" / "sample.wav"
    out = tmp_path / "campplus.npz"
    subprocess.run([cli, "--quiet", "embed", "--embedder", "campplus", "--audio", str(sample),
                    "--output", str(out), "--device", "cpu"], check=True)
    embeddings = uisrnn.embed(sample, embedder="campplus")
    assert embeddings.vectors.shape[1] == 192
    np.testing.assert_array_equal(embeddings.vectors.astype(np.float64), np.load(out)["sequences"])
    with pytest.raises(ValueError, match="campplus embedder gives 192"):
        uisrnn.Diarizer(embedder="campplus")
    with pytest.raises(ValueError, match="embedder"):
        uisrnn.Diarizer(method="spectral", embedder="ecapa")


def _timed(work, threads):
    pool = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started


def test_the_gil_is_released_while_predicting(repo):
    import os
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs two cores")
    model = uisrnn.UISRNN.from_file(repo / "tests" / "fixtures" / "reference" / "model.uisrnn")
    sequences = list(np.load(repo / "tests" / "fixtures" / "reference" / "inputs.npz")["test_sequences"])
    _, _, inference_args = uisrnn.parse_arguments(args=[])
    inference_args.beam_size = 20

    def work():
        for sequence in sequences * 2:
            model.predict(sequence, inference_args)

    work()  # warm up
    one = min(_timed(work, 1) for _ in range(3))
    two = min(_timed(work, 2) for _ in range(3))
    # Serialised by the GIL two threads would take 2x one; in parallel about 1x.
    assert two < 1.6 * one, f"one thread {one:.3f} s, two threads {two:.3f} s"
