"""google/uis-rnn's ``UISRNN`` and ``parallel_predict`` on the Rust model."""

import json
import os

import numpy as np

from . import _core
from ._settings import inference_settings, model_settings, training_settings
from .utils import Logger


def _sequence(value, name):
    """A 2-d float64 C-ordered array (no copy when it already is one)."""
    if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
        raise TypeError(f"{name} must be a numpy array of floats")
    if value.ndim != 2:
        raise ValueError(f"{name} must be a 2-dim array, got {value.ndim} dims")
    return np.ascontiguousarray(value, dtype=np.float64)


def _labels(value, name):
    """Cluster ids as strings."""
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise ValueError(f"{name} must be 1-dim, got {value.ndim} dims")
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list or numpy array of cluster ids")
    return [str(label) for label in value]


def _each(convert, values, name):
    """``convert`` applied to every item, each named ``name[i]`` in messages."""
    return [convert(value, f"{name}[{i}]") for i, value in enumerate(values)]


class UISRNN:
    """The UIS-RNN model, as google/uis-rnn's ``uisrnn.UISRNN``, computed by the
    Rust crates on the CPU.

    ``args`` are the model arguments of :func:`parse_arguments` (any object with
    those attribute names); keywords override them and reach the settings beyond
    the reference (``crp_alpha="change_ratio"``, ...). ``seed`` draws the initial
    weights and every random choice of training, so equal seeds give equal models
    (and the model ``uisrnn train --seed`` gives).

    >>> import numpy as np, uisrnn_rs as uisrnn
    >>> model_args, training_args, inference_args = uisrnn.parse_arguments(args=[])
    >>> model_args.observation_dim, model_args.rnn_hidden_size, model_args.verbosity = 2, 8, 0
    >>> training_args.train_iteration, training_args.learning_rate = 20, 0.01
    >>> model = uisrnn.UISRNN(model_args)
    >>> sequence = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5) + 0.01 * np.arange(10)[:, None]
    >>> model.fit([sequence], [["a"] * 5 + ["b"] * 5], training_args)
    >>> len(model.predict(sequence, inference_args))
    10
    """

    def __init__(self, args, seed=0, **overrides):
        core = _core.Model(model_settings(args, overrides), seed)
        self._adopt(core, args, getattr(args, "verbosity", 3), seed)

    def _adopt(self, core, args, verbosity, seed):
        """Takes ``core`` (a ``_core.Model``) as this model, with its attributes."""
        self._seed = seed
        self._model = core
        self._settings = core.config
        self.model_args = args
        self.logger = Logger(verbosity)
        settings = json.loads(self._settings)
        self.observation_dim = settings["observation_dim"]
        self.estimate_sigma2 = settings["sigma2"] is None
        self.estimate_transition_bias = settings["transition_bias"] is None
        self.device = "cpu"

    @classmethod
    def from_file(cls, filepath, verbosity=3, seed=0):
        """The model saved in ``filepath`` (this package's or the reference's file),
        with the architecture the file has."""
        model = cls.__new__(cls)
        model._adopt(_core.Model.load(os.fspath(filepath), seed), None, verbosity, seed)
        return model

    # The scalars scripts read, from the Rust model.
    @property
    def transition_bias(self):
        """The probability of a speaker change (None until estimated)."""
        return self._model.transition_bias

    @property
    def transition_bias_denominator(self):
        """The number of label pairs the transition bias was estimated from."""
        return self._model.transition_bias_denominator

    @property
    def crp_alpha(self):
        """The concentration of the Chinese restaurant process (None until estimated)."""
        return self._model.crp_alpha

    @property
    def sigma2(self):
        """The observation variance per dimension (float32 array)."""
        return self._model.sigma2

    def save(self, filepath):
        """Writes the model to ``filepath`` (this package's safetensors format,
        which the CLI and the Rust crates read), atomically."""
        self._model.save(os.fspath(filepath))

    def load(self, filepath):
        """Replaces the weights and scalars with those saved in ``filepath``: this
        package's files or the reference's ``.uisrnn`` files (read without pickle
        code). The file's architecture must be this model's."""
        loaded = _core.Model.load(os.fspath(filepath), self._seed)
        mine, theirs = json.loads(self._settings), json.loads(loaded.config)
        for name in ("observation_dim", "rnn_hidden_size", "rnn_depth"):
            if mine[name] != theirs[name]:
                raise ValueError(
                    f"{os.fspath(filepath)}: the file's {name} is {theirs[name]}, this "
                    f"model's {mine[name]} (UISRNN.from_file takes the file's architecture)"
                )
        self._adopt(loaded, self.model_args, self.logger.verbosity, self._seed)
        self.logger.print(
            3,
            f"loaded {os.fspath(filepath)}: transition_bias={self.transition_bias}, "
            f"crp_alpha={self.crp_alpha}",
        )

    def _progress(self):
        """The training progress callback (None when the logger would not print)."""
        if self.logger.verbosity < 2:
            return None

        def progress(iteration, total, nll, prior, regularization):
            self.logger.print(
                2,
                f"iteration {iteration + 1}/{total}: loss {nll + prior + regularization:.4f} "
                f"(negative log likelihood {nll:.4f}, sigma2 prior {prior:.4f}, "
                f"regularization {regularization:.4f})",
            )

        return progress

    def _fit(self, sequences, labels, concatenated, args, overrides):
        losses = self._model.fit(
            sequences, labels, concatenated, training_settings(args, overrides), self._progress()
        )
        self.logger.print(1, f"done training with {len(losses)} iterations")
        return losses

    def fit_concatenated(self, train_sequence, train_cluster_id, args, **overrides):
        """Trains on one concatenated sequence (2-d array) and its cluster ids;
        see :meth:`fit`."""
        sequence = _sequence(train_sequence, "train_sequence")
        labels = _labels(train_cluster_id, "train_cluster_id")
        self._fit([sequence], [labels], True, args, overrides)

    def fit(self, train_sequences, train_cluster_ids, args, **overrides):
        """Trains the model, continuing from the current weights when called again
        (the transition-bias estimates are merged).

        ``train_sequences`` is a list of 2-d float arrays (one per utterance) with
        ``train_cluster_ids`` a list of their cluster-id lists or arrays, or one
        concatenated 2-d array with one array of cluster ids. ``args`` are the
        training arguments of :func:`parse_arguments`; keywords override them
        (``sample_mean_loss=2``, ``learning_rate_half_life=...``, ...). The GIL is
        released while training.

        Raises:
            TypeError: for inputs of the wrong type.
            ValueError: for bad shapes, values or settings (the Rust message).
        """
        if isinstance(train_sequences, np.ndarray):
            self.fit_concatenated(train_sequences, train_cluster_ids, args, **overrides)
            return
        if not isinstance(train_sequences, list):
            raise TypeError("train_sequences must be a list or numpy.ndarray")
        if not isinstance(train_cluster_ids, (list, tuple)):
            raise TypeError("train_cluster_ids must be a list of cluster-id sequences")
        if len(train_sequences) != len(train_cluster_ids):
            raise ValueError(
                f"{len(train_sequences)} train_sequences were given with "
                f"{len(train_cluster_ids)} train_cluster_ids"
            )
        sequences = _each(_sequence, train_sequences, "train_sequences")
        labels = _each(_labels, train_cluster_ids, "train_cluster_ids")
        self._fit(sequences, labels, False, args, overrides)

    def calibrate(self, sequences, cluster_ids, args=None, crp_alphas=None, sigma2_scales=None,
                  **overrides):
        """Beyond the reference: chooses crp_alpha and a sigma2 scale that label
        held-out conversations best (``uisrnn calibrate``). Returns a dict with the
        chosen values and the held-out accuracy before and after."""
        sequences = _each(_sequence, sequences, "sequences")
        labels = _each(_labels, cluster_ids, "cluster_ids")
        crp_alpha, scale, before, after = self._model.calibrate(
            sequences, labels, inference_settings(args, overrides), crp_alphas, sigma2_scales
        )
        return {"crp_alpha": crp_alpha, "sigma2_scale": scale,
                "accuracy_before": before, "accuracy_after": after}

    def predict_single(self, test_sequence, args, **overrides):
        """The cluster ids (ints from 0) of one 2-d float array, by beam search
        with the inference arguments ``args`` (keywords override them:
        ``num_speakers``, ``min_speakers``, ``max_speakers``). The GIL is released
        while decoding."""
        sequence = _sequence(test_sequence, "test_sequence")
        return self._model.predict(sequence, inference_settings(args, overrides))

    def predict(self, test_sequences, args, **overrides):
        """:meth:`predict_single` of one array (a list of ints), or of every array
        of a list (a list of lists, decoded in parallel)."""
        if isinstance(test_sequences, np.ndarray):
            return self.predict_single(test_sequences, args, **overrides)
        if isinstance(test_sequences, list):
            sequences = _each(_sequence, test_sequences, "test_sequences")
            return self._model.predict_many(sequences, inference_settings(args, overrides))
        raise TypeError("test_sequences should be either a list or numpy array")

    def __getstate__(self):
        return {
            "model": self._model.to_bytes(),
            "seed": self._seed,
            "model_args": self.model_args,
            "verbosity": self.logger.verbosity,
        }

    def __setstate__(self, state):
        core = _core.Model.from_bytes(state["model"], state["seed"])
        self._adopt(core, state["model_args"], state["verbosity"], state["seed"])


def parallel_predict(model, test_sequences, args, num_processes=4):
    """Labels a list of sequences in parallel on ``num_processes`` threads (the
    reference uses processes; here one model is shared by threads, without the
    GIL). Returns one list of ints per sequence, in input order."""
    if not isinstance(test_sequences, list):
        raise TypeError("test_sequences must be a list")
    sequences = _each(_sequence, test_sequences, "test_sequences")
    return model._model.predict_many(sequences, inference_settings(args, {}), num_processes)
