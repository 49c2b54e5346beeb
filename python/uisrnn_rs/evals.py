"""google/uis-rnn's ``evals``: the sequence match accuracy."""

from . import _core


def _dense_ids(labels):
    """Each label replaced by the index of its first appearance."""
    ids = {}
    return [ids.setdefault(label, len(ids)) for label in labels]


def compute_sequence_match_accuracy(sequence1, sequence2):
    """The fraction of positions whose labels agree under the best one-to-one
    mapping between the two label sets (labels of any hashable type).

    >>> compute_sequence_match_accuracy(["a", "a", "b", "b", "c"], [7, 7, 3, 3, 3])
    0.8

    Raises:
        TypeError: when either is not a list.
        ValueError: when they differ in length or are empty.
    """
    if not isinstance(sequence1, list) or not isinstance(sequence2, list):
        raise TypeError("sequence1 and sequence2 must be lists")
    return _core.sequence_match_accuracy(_dense_ids(sequence1), _dense_ids(sequence2))
