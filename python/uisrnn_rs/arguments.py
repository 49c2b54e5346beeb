"""The three argument objects of google/uis-rnn's ``parse_arguments()``.

The flags and their defaults are the reference's, so an old script that calls
``parse_arguments()`` trains and decodes exactly as the reference did. A few flags
beyond the reference (``--preset``, ``--sample_mean_loss``, ...) reach this
package's extras; their defaults keep the reference's behaviour.
"""

import argparse
import json

from . import _core


def _str2bool(value):
    """Reads a yes/no command-line value."""
    text = value.lower()
    if text in {"yes", "true", "t", "y", "1"}:
        return True
    if text in {"no", "false", "f", "n", "0"}:
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean, got {value!r}")


def _optional_int(value):
    """An integer, or None for "none"."""
    return None if value.lower() == "none" else int(value)


def _crp_alpha(value):
    """A number, or one of the estimation rules "estimate" and "change_ratio"."""
    if value in ("estimate", "change_ratio"):
        return value
    return float(value)


def _preset_defaults(preset):
    """The model and training settings a preset starts from, as dicts."""
    model, training, _ = _core.preset_settings(preset)
    model, training = json.loads(model), json.loads(training)
    crp_alpha = model["crp_alpha"]
    model["crp_alpha"] = crp_alpha["fixed"] if isinstance(crp_alpha, dict) else crp_alpha
    return model, training


def _parsers(preset):
    """The model, training and inference parsers, with `preset`'s defaults."""
    model, training = _preset_defaults(preset)

    model_parser = argparse.ArgumentParser(description="Model settings.", add_help=False)
    add = model_parser.add_argument
    add("--observation_dim", default=model["observation_dim"], type=int,
        help="Dimension of the embeddings (d-vectors).")
    add("--rnn_hidden_size", default=model["rnn_hidden_size"], type=int,
        help="Units of each GRU layer.")
    add("--rnn_depth", default=model["rnn_depth"], type=int, help="Number of GRU layers.")
    add("--rnn_dropout", default=model["rnn_dropout"], type=float,
        help="Dropout between GRU layers while training.")
    add("--transition_bias", default=model["transition_bias"], type=float,
        help="Fixed probability of a speaker change; estimated from the training "
             "labels when not given.")
    add("--crp_alpha", default=model["crp_alpha"], type=_crp_alpha,
        help="Concentration of the Chinese restaurant process: a number, or "
             "'estimate' / 'change_ratio' to estimate it from the training labels.")
    add("--sigma2", default=model["sigma2"], type=float,
        help="Fixed observation variance; learned when not given.")
    add("--verbosity", default=3, type=int,
        help="How much is logged: 0 fatal only ... 4 and above for debugging.")
    add("--enable_cuda", default=True, type=_str2bool,
        help="Accepted for compatibility; this package computes on the CPU.")

    training_parser = argparse.ArgumentParser(description="Training settings.", add_help=False)
    add = training_parser.add_argument
    add("--optimizer", "-o", default="adam", choices=["adam"], help="The optimizer.")
    add("--learning_rate", "-l", default=training["learning_rate"], type=float,
        help="Adam's learning rate.")
    add("--train_iteration", "-t", default=training["train_iteration"], type=int,
        help="Number of training iterations.")
    add("--batch_size", "-b", default=training["batch_size"], type=_optional_int,
        help="Sequences per mini-batch ('none': all of them).")
    add("--num_permutations", default=training["num_permutations"], type=int,
        help="Block-wise permutations drawn per training sequence.")
    add("--sigma_alpha", default=training["sigma_alpha"], type=float,
        help="Inverse-gamma shape of the sigma2 prior.")
    add("--sigma_beta", default=training["sigma_beta"], type=float,
        help="Inverse-gamma scale of the sigma2 prior.")
    add("--regularization_weight", "-r", default=training["regularization_weight"],
        type=float, help="Weight of the L2 regularization of the GRU.")
    add("--grad_max_norm", default=training["grad_max_norm"], type=float,
        help="Gradients are clipped to this norm.")
    add("--enforce_cluster_id_uniqueness", default=training["enforce_cluster_id_uniqueness"],
        type=_str2bool,
        help="Treat equal cluster ids of different training sequences as different "
             "speakers (when fit() is given a list of sequences).")
    # Beyond the reference: defaults are the preset's (the reference's behaviour for
    # the reference preset).
    # -hl: the short flag of the reference version whose README documents
    # `python3 demo.py --train_iteration=1000 -l=0.001 -hl=100` (0.1.2 lacks it, so
    # there argparse reads `-hl=100` as -h and prints the help).
    add("--learning_rate_half_life", "-hl", default=training["learning_rate_half_life"], type=int,
        help="Halve the learning rate every this many iterations (0: never).")
    add("--sample_mean_loss", default=training["sample_mean_loss"], type=_optional_int,
        help="Sample-mean loss with this many samples (none: the reference's loss).")
    add("--loss_mask", default=training["loss_mask"],
        choices=["observations", "non_zero_values"],
        help="Which entries count as observations in the loss.")
    add("--rotations", default=training["rotations"], type=int,
        help="Random rotations of each training sequence added (augmentation).")

    inference_parser = argparse.ArgumentParser(description="Inference settings.", add_help=False)
    add = inference_parser.add_argument
    add("--beam_size", "-s", default=10, type=int, help="Beams kept by the beam search.")
    add("--look_ahead", default=1, type=int, help="Observations assigned per search step.")
    add("--test_iteration", default=2, type=int,
        help="The sequence is decoded this many times in a row; the labels of the "
             "last copy are returned.")
    add("--min_speakers", default=None, type=int, help="At least this many speakers.")
    add("--max_speakers", default=None, type=int, help="At most this many speakers.")
    return model_parser, training_parser, inference_parser


def parse_arguments(preset="reference", args=None):
    """Parses the command line into ``(model_args, training_args, inference_args)``.

    As google/uis-rnn's ``parse_arguments()``: the same flags and, with the default
    ``preset="reference"``, the same defaults. ``preset="recommended"`` (or the flag
    ``--preset recommended``) starts from this package's recommended recipe instead
    (sample-mean loss, crp_alpha from the change ratio, 3000 iterations). ``args``
    is the list of flags to parse (default: ``sys.argv[1:]``).

    >>> model_args, training_args, inference_args = parse_arguments(args=[])
    >>> (model_args.rnn_hidden_size, training_args.train_iteration, inference_args.beam_size)
    (512, 20000, 10)
    """
    chooser = argparse.ArgumentParser(add_help=False)
    chooser.add_argument("--preset", default=preset, choices=["reference", "recommended"])
    chosen, _ = chooser.parse_known_args(args)
    model_parser, training_parser, inference_parser = _parsers(chosen.preset)
    everything = argparse.ArgumentParser(
        parents=[chooser, model_parser, training_parser, inference_parser],
        description="UIS-RNN settings (google/uis-rnn's flags).",
    )
    everything.parse_args(args)
    model_args, _ = model_parser.parse_known_args(args)
    training_args, _ = training_parser.parse_known_args(args)
    inference_args, _ = inference_parser.parse_known_args(args)
    return model_args, training_args, inference_args
