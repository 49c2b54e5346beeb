"""uisrnn_rs: UIS-RNN speaker diarization on a Rust core.

google/uis-rnn's API, so that switching is one line (``import uisrnn_rs as
uisrnn``): :func:`parse_arguments`, :class:`UISRNN` (``fit``, ``predict``,
``save``, ``load``), :func:`compute_sequence_match_accuracy`,
:func:`output_result` and :func:`parallel_predict`. Beyond it: audio to speaker
turns (:func:`diarize`, :class:`Diarizer`, :func:`embed`), spectral clustering
(:func:`spectral_cluster`), calibration (:meth:`UISRNN.calibrate`) and its
hold-out of whole speakers (:func:`hold_out`).
"""

from . import arguments, evals, utils
from ._core import __version__
from .audio import Diarization, Diarizer, Embeddings, diarize, embed, spectral_cluster
from .split import hold_out
from .uisrnn import UISRNN, parallel_predict

parse_arguments = arguments.parse_arguments
compute_sequence_match_accuracy = evals.compute_sequence_match_accuracy
output_result = utils.output_result

__all__ = [
    "UISRNN",
    "Diarization",
    "Diarizer",
    "Embeddings",
    "__version__",
    "compute_sequence_match_accuracy",
    "diarize",
    "embed",
    "hold_out",
    "output_result",
    "parallel_predict",
    "parse_arguments",
    "spectral_cluster",
]
