"""The command line the examples share: ``--epochs``, ``--verbose``, ``--seed`` and, where an
example has them, ``--batch-size`` and ``--synthetic``. Copying an example elsewhere? Copy this
file beside it, or put a plain ``argparse`` block in its place."""
import argparse

import nnforge as keras


def parse_args(description: str, epochs: int, batch_size: int = None, batch_help: str = None,
               synthetic_help: str = None, seed: bool = True) -> argparse.Namespace:
    """Parses the example's command line.

    Args:
        description: the example's docstring (shown by ``--help``).
        epochs: the default number of epochs.
        batch_size: the default ``--batch-size``; None: the example has no such flag.
        batch_help: help text of ``--batch-size``.
        synthetic_help: help text of ``--synthetic``; None: the example has no such flag.
        seed: seed every random choice with ``--seed`` now (False: the caller does it later,
            e.g. after joining a distributed job).

    Returns:
        The parsed arguments.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=epochs)
    if batch_size is not None:
        parser.add_argument("--batch-size", type=int, default=batch_size, help=batch_help)
    if synthetic_help is not None:
        parser.add_argument("--synthetic", action="store_true", help=synthetic_help)
    parser.add_argument("--verbose", type=int, default=1)
    parser.add_argument("--seed", type=int, default=None,
                        help="seed every random choice (weights, shuffling) for a repeatable run")
    args = parser.parse_args()
    if seed and args.seed is not None:
        keras.utils.set_random_seed(args.seed)
    return args
