"""Audio to speaker turns from Python: the front end (Silero speech detection,
resemblyzer's d-vectors), diarization with a UIS-RNN model or spectral
clustering, and spectral clustering of embeddings.

>>> import uisrnn_rs
>>> diarization = uisrnn_rs.diarize("meeting.wav", rttm="meeting.rttm")  # doctest: +SKIP
>>> for start, end, speaker in diarization.turns:  # doctest: +SKIP
...     print(f"{start:.2f} {end:.2f} {speaker}")
"""

import json
import os
from collections import namedtuple

import numpy as np

from . import _core

#: Window d-vectors (``vectors``: float32 ``[windows, 256]``) with each window's
#: ``starts`` and ``ends`` in seconds.
Embeddings = namedtuple("Embeddings", ["vectors", "starts", "ends"])

#: The result of :meth:`Diarizer.diarize`: ``file_id``, ``turns`` (a list of
#: ``(start, end, speaker)``), ``labels`` (one per window), ``windows``
#: (``(vectors, starts, ends)``), ``speakers``, ``to_rttm()``,
#: ``write_rttm(path)`` and ``to_json()``.
Diarization = _core.Diarization


def _samples(audio, sample_rate):
    """Mono float32 samples of an array, checked."""
    if sample_rate is None:
        raise ValueError("sample_rate is required when the audio is an array of samples")
    samples = np.asarray(audio)
    if not np.issubdtype(samples.dtype, np.floating):
        raise ValueError(
            f"samples must be floats in [-1, 1], got dtype {samples.dtype} "
            "(divide int16 samples by 32768)"
        )
    if samples.ndim != 1:
        raise ValueError(
            f"samples must be mono (1-dim), got shape {samples.shape}: mix the channels first"
        )
    return np.ascontiguousarray(samples, dtype=np.float32), int(sample_rate)


def _is_path(audio):
    return isinstance(audio, (str, bytes, os.PathLike))


class Diarizer:
    """Diarizes recordings; build it once and call it for many files (it holds the
    model and the encoder; threads may share it, the GIL is released while it
    works).

    ``model``: a :class:`UISRNN`, a model file's path, or None for the shipped
    model (trained on real voices). ``method``: ``"uisrnn"`` or ``"spectral"``
    (spectral clustering, no model). ``num_speakers`` / ``min_speakers`` /
    ``max_speakers``: what is known of each recording's speaker count. The beam
    search (``beam_size``, ``look_ahead``, ``test_iteration``) and the front end
    (``window``, ``hop``, ``min_speech`` in seconds; ``vad`` ``"silero"`` or
    ``"webrtc"`` with ``vad_threshold``, ``vad_min_silence``, ``vad_speech_pad``;
    ``level``; ``relu``; ``allow_no_speech``; ``embedder`` ``"resemblyzer"``, the
    256-dimensional d-vectors of the shipped model, or ``"campplus"``, 3D-Speaker's
    192-dimensional CAM++, labelled with ``method="spectral"`` or a model trained
    on CAM++ embeddings) take the defaults of ``uisrnn diarize``, so equal
    settings give the CLI's turns.
    """

    def __init__(self, model=None, method="uisrnn", *, num_speakers=None, min_speakers=None,
                 max_speakers=None, beam_size=10, look_ahead=1, test_iteration=2,
                 window=1.2, hop=0.4, min_speech=0.6, relu=False, vad="silero",
                 vad_threshold=None, vad_min_silence=None, vad_speech_pad=None, level=None,
                 allow_no_speech=False, embedder="resemblyzer"):
        if model is not None and _is_path(model):
            model = _core.Model.load(os.fspath(model), 0)
        elif model is not None:
            model = getattr(model, "_model", model)
            if not isinstance(model, _core.Model):
                raise TypeError("model must be a UISRNN, a model file's path, or None")
        inference = json.dumps(
            {"beam_size": beam_size, "look_ahead": look_ahead, "test_iteration": test_iteration}
        )
        self._diarizer = _core.Diarizer(
            method, model, inference, num_speakers, min_speakers, max_speakers, window, hop,
            min_speech, relu, vad, vad_threshold, vad_min_silence, vad_speech_pad, level,
            allow_no_speech, embedder,
        )

    @property
    def method(self):
        """``"uisrnn"`` or ``"spectral"``."""
        return self._diarizer.method

    def diarize(self, audio, sample_rate=None, *, file_id=None, rttm=None):
        """Speaker turns of ``audio``: a file's path (WAV, FLAC, MP3, OGG Vorbis,
        AAC in MP4; file id: its name without extension) or mono float samples in
        [-1, 1] with their ``sample_rate`` (file id ``"audio"`` unless given).
        Writes the turns as RTTM to ``rttm`` when given."""
        if _is_path(audio):
            result = self._diarizer.diarize_file(os.fspath(audio), file_id)
        else:
            samples, rate = _samples(audio, sample_rate)
            result = self._diarizer.diarize_samples(samples, rate, file_id or "audio")
        if rttm is not None:
            result.write_rttm(os.fspath(rttm))
        return result

    def embed(self, audio, sample_rate=None):
        """The window d-vectors of ``audio`` (a path or mono float samples with
        their ``sample_rate``), as :data:`Embeddings`."""
        if _is_path(audio):
            return Embeddings(*self._diarizer.embed_file(os.fspath(audio)))
        samples, rate = _samples(audio, sample_rate)
        return Embeddings(*self._diarizer.embed_samples(samples, rate))

    def __call__(self, audio, sample_rate=None, **keywords):
        return self.diarize(audio, sample_rate, **keywords)


def embed(audio, sample_rate=None, **front_end):
    """The window d-vectors (``uisrnn embed``) of a file or of mono float samples
    at ``sample_rate`` Hz; ``front_end`` takes :class:`Diarizer`'s front-end
    keywords."""
    return Diarizer(method="spectral", **front_end).embed(audio, sample_rate)


def diarize(audio, sample_rate=None, *, model=None, method="uisrnn", file_id=None, rttm=None,
            **options):
    """Diarizes one recording (``uisrnn diarize``); ``options`` are
    :class:`Diarizer`'s keywords. For many files build one :class:`Diarizer`."""
    diarizer = Diarizer(model, method, **options)
    return diarizer.diarize(audio, sample_rate, file_id=file_id, rttm=rttm)


def spectral_cluster(embeddings, min_clusters=None, max_clusters=None):
    """Labels of embeddings (2-d array, one row each) by spectral clustering
    (spectralcluster's ICASSP 2018 configuration, the unsupervised baseline)."""
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2 or not np.issubdtype(embeddings.dtype, np.floating):
        raise ValueError("embeddings must be a 2-dim array of floats")
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float64)
    return _core.spectral_cluster(embeddings, min_clusters, max_clusters)
