"""The ``skser`` command line: ``train``, ``evaluate``, ``predict``, ``demo``, ``datasets``.

One module per command (``_train``, ``_evaluate``, ``_predict``, ``_demo``,
``_datasets``); ``_common`` holds the exit codes, the data arguments and the
corpus table, ``_models`` the named models. See docs/cli.md.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from ._common import (
    EXIT_BAD_AUDIO,
    EXIT_FAILURE,
    EXIT_MISSING_FILE,
    EXIT_NOT_A_MODEL,
    EXIT_USAGE,
    UsageError,
)
from ._datasets import add_datasets_parser
from ._demo import _load_corpus, add_demo_parser, demo_pipeline, find_corpus_copies
from ._evaluate import add_evaluate_parser
from ._predict import add_predict_parser
from ._train import add_train_parser

__all__ = ["main", "build_parser", "demo_pipeline", "find_corpus_copies", "_load_corpus"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``skser``."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="skser",
        description="skser: speech emotion recognition in the scikit-learn ecosystem.",
        epilog="Exit status: 0 success, 1 the work failed, 2 bad arguments, 3 a named file "
               "or folder is missing, 4 unreadable audio, 5 not a skser model file. "
               "`skser COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"skser {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_train_parser(commands)
    add_evaluate_parser(commands)
    add_predict_parser(commands)
    add_demo_parser(commands)
    add_datasets_parser(commands)
    return parser


def _exit_status(exc: BaseException) -> int:
    """The documented exit status of a failure."""
    from ..exceptions import AudioInputError, CorpusLayoutError, ModelFileError

    if isinstance(exc, ModelFileError):
        return EXIT_NOT_A_MODEL
    if isinstance(exc, AudioInputError):
        return EXIT_BAD_AUDIO
    if isinstance(exc, CorpusLayoutError):
        return EXIT_FAILURE  # the folder exists (or a data home was searched) but is unusable
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError)):
        return EXIT_MISSING_FILE
    return EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skser`` command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success; 1 when the work fails (the reason is printed to
        stderr); 2 on a usage error; 3 when a file or folder named on the
        command line does not exist; 4 when an audio file cannot be read;
        5 when MODEL is not a skser model file.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    from ..exceptions import SkserError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return args.run(args)
    except UsageError as exc:
        print(f"skser {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (SkserError, OSError, ValueError) as exc:
        print(f"skser {args.command}: error: {exc}", file=sys.stderr)
        return _exit_status(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
