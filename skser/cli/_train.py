"""``skser train``: fit a named model on all of a corpus and save it as one file."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ._common import (
    UsageError,
    add_data_arguments,
    add_run_arguments,
    info,
    load_data,
)
from ._models import MODELS, build_model, model_help

__all__ = ["add_model_arguments", "add_train_parser", "run_train", "speakers_for"]


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--features``, ``--epochs``, ``--duration``, ``--seed``."""
    group = parser.add_argument_group("model")
    group.add_argument("--model", choices=list(MODELS), default="svm",
                       help="the pipeline to train (default: svm; see the list above)")
    group.add_argument("--features", default=None, metavar="NAMES",
                       help="svm only: utterance features, '+'-joined (default: mfcc)")
    group.add_argument("--epochs", type=int, default=None, metavar="N",
                       help="neural models: training epochs (default: the model's own)")
    group.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                       help="neural models: crop or pad every utterance to this length "
                            "(default: 3 s; sernet: whole utterances)")
    group.add_argument("--seed", type=int, default=0,
                       help="random state of the model (default: 0)")


def model_from_args(args: argparse.Namespace) -> Any:
    """The unfitted pipeline the model options describe."""
    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs must be at least 1; got {args.epochs}.")
    if args.duration is not None and not args.duration > 0:
        raise UsageError(f"--duration must be positive; got {args.duration}.")
    return build_model(args.model, features=args.features, epochs=args.epochs,
                       duration=args.duration, random_state=args.seed,
                       n_jobs=args.n_jobs, verbose=not args.quiet)


def check_class_sizes(model: Any, y: Any, model_name: str) -> None:
    """Raise when a class has fewer files than the model's probability calibration needs.

    A final ``CalibratedClassifierCV`` (the ``svm`` model) fits its calibrator on
    k-fold out-of-fold decisions of the training data, so every class needs at
    least k training files; scikit-learn's own error does not say so.

    Raises
    ------
    InputError
        Naming the smallest class, its size and what to do.
    """
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import check_cv

    from ..exceptions import InputError

    clf = model[-1]
    if not isinstance(clf, CalibratedClassifierCV):
        return
    n_folds = check_cv(clf.cv, y, classifier=True).get_n_splits()
    labels, counts = np.unique(np.asarray(y, dtype=object).astype(str), return_counts=True)
    if counts.min() < n_folds:
        small = str(labels[counts.argmin()])
        raise InputError(
            f"--model {model_name} calibrates its probabilities by {n_folds}-fold "
            f"cross-validation within the training files, so every emotion needs at least "
            f"{n_folds} of them; {small!r} has {counts.min()}. Add recordings, leave that "
            "emotion out (--emotions), or use --model default."
        )


def speakers_for(model: Any, method: str, groups: Any, *, fix: str) -> dict[str, Any]:
    """``{"groups": groups}`` when a step of ``model`` requests speakers in ``method``.

    Must run with scikit-learn's metadata routing enabled.

    Raises
    ------
    UsageError
        If the model requests speakers and ``groups`` is None; ``fix`` says how
        to give them.
    """
    from sklearn.utils.metadata_routing import get_routing_for_object

    if not get_routing_for_object(model).consumes(method, ["groups"]):
        return {}
    if groups is None and _needs_speakers(model):
        raise UsageError(
            "this model normalises every speaker with that speaker's own statistics, "
            f"so it needs the speaker of every file: {fix}"
        )
    return {} if groups is None else {"groups": groups}


def _needs_speakers(model: Any) -> bool:
    """True when a step of ``model`` cannot work without speakers (a SpeakerNormalizer).

    Other steps that ask for speakers (the neural classifiers, for their
    validation split) take them when given and work without them.
    """
    from ..preprocessing import SpeakerNormalizer

    parts = [model, *model.get_params(deep=True).values()]
    return any(isinstance(p, SpeakerNormalizer) and p.missing_groups != "global" for p in parts)


def add_train_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``skser train`` to the sub-command parsers ``commands``."""
    parser = commands.add_parser(
        "train",
        help="fit a model on a whole corpus and save it as one .skser file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Fit a model (features included) on every utterance of DATA and save it\n"
            "with skser.io.save as one file that carries the whole pipeline, the label\n"
            "set and the skser version; `skser predict` and skser.io.load read it.\n\n"
            "Models (--model):\n" + model_help()
        ),
    )
    add_data_arguments(parser)
    add_model_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, default=Path("model.skser"),
                        metavar="FILE", help="the model file to write (default: model.skser)")
    add_run_arguments(parser)
    parser.set_defaults(run=run_train)
    return parser


def run_train(args: argparse.Namespace) -> int:
    """Run ``skser train``; return the exit status."""
    from sklearn import config_context

    from ..io import save

    if not args.output.parent.expanduser().is_dir():
        raise FileNotFoundError(f"--output {args.output}: folder {args.output.parent} "
                                "does not exist.")
    model = model_from_args(args)
    corpus = load_data(args)
    check_class_sizes(model, corpus.target, args.model)
    start = time.perf_counter()
    if not args.quiet:
        speakers = "no speakers" if corpus.groups is None else (
            f"{len(set(corpus.groups))} speakers")
        info(f"Data: {len(corpus.data)} utterances, {len(corpus.target_names)} classes "
             f"({', '.join(corpus.target_names)}), {speakers}")
        info(f"Model: {args.model}: {MODELS[args.model].summary}")
    with config_context(enable_metadata_routing=True):
        fit_params = speakers_for(
            model, "fit", corpus.groups,
            fix="read DATA with speakers (a corpus, --speaker-pattern for a folder, "
                "--speaker-column for a table) or choose --model svm.")
        model.fit(corpus.data, corpus.target, **fit_params)
    path = save(model, args.output.expanduser())
    if not args.quiet:
        info(f"Trained in {time.perf_counter() - start:.1f} s; wrote {path} "
             f"({path.stat().st_size / 1e6:.1f} MB)")
    return 0
