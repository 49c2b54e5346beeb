"""Logging and the experiment summary of google/uis-rnn's ``utils``."""

import sys
import time

import numpy as np


class Logger:
    """Prints messages of a level up to ``verbosity`` (0 fatal, 1 errors, 2
    important steps, 3 less important steps, 4 and above debugging), each with the
    seconds since the logger was made; the reference's ``colortimelog.Logger``
    without colours.

    >>> Logger(verbosity=2).print(3, "not shown")
    """

    def __init__(self, verbosity=3, stream=None):
        self.verbosity = verbosity
        self._stream = stream
        self._start = time.monotonic()

    def print(self, level, message):
        """Prints ``message`` when ``level`` is at most the verbosity."""
        if level <= self.verbosity:
            stream = self._stream or sys.stdout
            print(f"[{time.monotonic() - self._start:9.3f} s] {message}", file=stream)

    def error(self, message):
        """A level-1 message."""
        self.print(1, message)

    def warning(self, message):
        """A level-2 message."""
        self.print(2, message)

    def info(self, message):
        """A level-3 message."""
        self.print(3, message)

    def debug(self, message):
        """A level-4 message."""
        self.print(4, message)


def output_result(model_args, training_args, test_record):
    """Summarises an experiment: the settings and the accuracy of every test
    sequence (``test_record``: ``(accuracy, length)`` pairs), appended to
    ``layer_<hidden>_<depth>_<dropout>_result.txt`` in the working directory and
    returned, as the reference does.
    """
    if not test_record:
        raise ValueError("test_record is empty: no test sequence was scored")
    accuracies = [accuracy for accuracy, _ in test_record]
    lines = [
        "Config:",
        f"  sigma_alpha: {training_args.sigma_alpha}",
        f"  sigma_beta: {training_args.sigma_beta}",
        f"  crp_alpha: {model_args.crp_alpha}",
        f"  learning rate: {training_args.learning_rate}",
        f"  regularization: {training_args.regularization_weight}",
        f"  batch size: {training_args.batch_size}",
        "",
        "Performance:",
        f"  averaged accuracy: {np.mean(accuracies):.6f}",
        "  accuracy numbers for all testing sequences:",
    ]
    lines += [f"    {accuracy:.6f}" for accuracy in accuracies]
    text = "\n".join(lines) + "\n" + "=" * 80 + "\n"
    name = "layer_{}_{}_{:.1f}_result.txt".format(
        model_args.rnn_hidden_size, model_args.rnn_depth, model_args.rnn_dropout
    )
    with open(name, "a", encoding="utf-8") as file:
        file.write(text)
    return text
