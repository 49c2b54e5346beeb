"""Argument objects (and keyword overrides) as the Rust settings structs' JSON."""

import json

from . import _core

# google/uis-rnn's arguments this package accepts and does not use.
_IGNORED = {"verbosity", "enable_cuda", "optimizer", "preset"}


def _defaults(preset="reference"):
    model, training, inference = _core.preset_settings(preset)
    return json.loads(model), json.loads(training), json.loads(inference)


def _merge(kind, base, args, overrides, known_extra=()):
    """``base`` with every field of ``args`` (an argparse namespace or any object)
    and of ``overrides`` (keywords) that it has; an unknown keyword is an error."""
    settings = dict(base)
    for name in base:
        if args is not None and hasattr(args, name):
            settings[name] = getattr(args, name)
    for name, value in overrides.items():
        if name not in base and name not in known_extra:
            known = ", ".join(sorted(base))
            raise TypeError(f"unknown {kind} setting {name!r}; the settings are: {known}")
        if name in base:
            settings[name] = value
    return settings


def model_settings(args, overrides):
    """The Rust ``ModelConfig`` (JSON) of ``args`` and keyword overrides."""
    base, _, _ = _defaults()
    settings = _merge("model", base, args, overrides)
    crp_alpha = settings["crp_alpha"]
    if isinstance(crp_alpha, (int, float)) and not isinstance(crp_alpha, bool):
        settings["crp_alpha"] = {"fixed": float(crp_alpha)}
    elif crp_alpha not in ("estimate", "change_ratio") and not isinstance(crp_alpha, dict):
        raise ValueError(
            f"crp_alpha must be a number, 'estimate' or 'change_ratio', got {crp_alpha!r}"
        )
    return json.dumps(settings)


def training_settings(args, overrides):
    """The Rust ``TrainingConfig`` (JSON) of ``args`` and keyword overrides."""
    optimizer = getattr(args, "optimizer", "adam")
    if optimizer != "adam":
        raise ValueError(f"optimizer must be 'adam' (the only one), got {optimizer!r}")
    _, base, _ = _defaults()
    settings = _merge("training", base, args, overrides)
    if settings["sample_mean_loss"] == 0:
        settings["sample_mean_loss"] = None
    return json.dumps(settings)


def inference_settings(args, overrides):
    """The Rust ``InferenceConfig`` (JSON) of ``args`` and keyword overrides
    (``num_speakers=n`` sets both bounds)."""
    _, _, base = _defaults()
    overrides = dict(overrides)
    num_speakers = overrides.pop("num_speakers", None)
    settings = _merge("inference", base, args, overrides)
    if num_speakers is not None:
        settings["min_speakers"] = settings["max_speakers"] = num_speakers
    return json.dumps(settings)
