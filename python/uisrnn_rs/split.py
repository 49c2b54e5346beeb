"""Validation hold-outs: which training conversations to set aside for calibration
(:meth:`UISRNN.calibrate`) and validation, as ``uisrnn train`` chooses them."""

from . import _core


def hold_out(train_cluster_ids, fraction=0.2, split="auto", seed=0):
    """Chooses held-out conversations of ``train_cluster_ids`` (one list of cluster
    ids per conversation): at least ``ceil(fraction * conversations)`` of them.

    ``split="speakers"`` holds out whole speakers, drawn until the fraction is
    reached, with every conversation in which any of them talks, so that the
    held-out part has voices training never heard. Speakers are read from cluster
    ids ``CONVERSATION_SPEAKER`` (``"dtr012_C06"`` is speaker ``C06``).
    ``"sequences"`` draws conversations at random. ``"auto"`` (the recommended
    preset's) holds out speakers where the ids name them and those speakers talk in
    at most twice the fraction, conversations otherwise.

    Returns a dict: ``indices`` (ascending), ``speakers`` (the held-out ones,
    sorted; empty for a sequence split) and ``split`` (the split that was made,
    ``"speakers"`` or ``"sequences"``).

    >>> ids = [[f"c{c}_{s}" for s in pair] for c, pair in enumerate(["ab", "bc", "cd", "da", "ef"])]
    >>> held = hold_out(ids, 0.2, "speakers", seed=0)
    >>> held["split"], len(held["indices"]) >= 1
    ('speakers', True)

    Raises:
        TypeError: when the cluster ids are not lists of strings.
        ValueError: for a fraction outside (0, 1), one that leaves nothing to
            train on, an unknown split, or, for ``"speakers"``, ids that name no
            speaker.
    """
    if not isinstance(train_cluster_ids, (list, tuple)):
        raise TypeError("train_cluster_ids must be a list of cluster-id lists")
    labels = []
    for index, ids in enumerate(train_cluster_ids):
        ids = list(ids)
        if not all(isinstance(label, str) for label in ids):
            raise TypeError(f"train_cluster_ids[{index}] must hold strings")
        labels.append(ids)
    indices, speakers, made = _core.hold_out(labels, float(fraction), str(split), int(seed))
    return {"indices": indices, "speakers": speakers, "split": made}
