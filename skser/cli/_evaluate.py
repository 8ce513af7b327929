"""``skser evaluate``: cross-validate a named model and write its report and plots."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path
from typing import Any

from ._common import (
    UsageError,
    add_data_arguments,
    add_run_arguments,
    info,
    load_data,
    write_atomic,
)
from ._models import MODELS, model_help
from ._train import add_model_arguments, check_class_sizes, model_from_args

__all__ = ["add_evaluate_parser", "run_evaluate"]

PROTOCOLS = ("loso", "speaker-kfold", "random")


def add_evaluate_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``skser evaluate`` to the sub-command parsers ``commands``."""
    parser = commands.add_parser(
        "evaluate",
        help="cross-validate a model and write a report, CSVs and a confusion matrix",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Cross-validate a model on DATA with skser.model_selection.evaluate and\n"
            "write report.md, metrics.csv, folds.csv, predictions.csv and\n"
            "confusion_matrix.png into --out. The features are computed once for\n"
            "all files (they are stateless); the rest of the pipeline is fitted in\n"
            "every fold.\n\n"
            "Protocols (--protocol):\n"
            "  loso           leave-one-speaker-out (speaker-independent; default)\n"
            "  speaker-kfold  --folds folds of whole speakers (speaker-independent)\n"
            "  random         stratified --folds folds of utterances: speakers appear\n"
            "                 on both sides, so the result is speaker-dependent\n\n"
            "Models (--model):\n" + model_help()
        ),
    )
    add_data_arguments(parser)
    add_model_arguments(parser)
    group = parser.add_argument_group("protocol and output")
    group.add_argument("--protocol", choices=PROTOCOLS, default="loso",
                       help="cross-validation protocol (default: loso)")
    group.add_argument("--folds", type=int, default=5, metavar="K",
                       help="folds of speaker-kfold and random (default: 5)")
    group.add_argument("--out", type=Path, default=Path("skser-evaluate"), metavar="DIR",
                       help="folder for the report and plots (default: ./skser-evaluate)")
    add_run_arguments(parser)
    parser.set_defaults(run=run_evaluate)
    return parser


def _splitter(args: argparse.Namespace, groups: Any) -> Any:
    from sklearn.model_selection import StratifiedKFold

    from ..model_selection import LeaveOneSpeakerOut, SpeakerKFold

    if args.protocol != "loso" and args.folds < 2:
        raise UsageError(f"--folds must be at least 2; got {args.folds}.")
    if args.protocol == "random":
        return StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
    if groups is None:
        raise UsageError(
            f"--protocol {args.protocol} holds whole speakers out, and DATA has no "
            "speakers: read it with speakers (a corpus, --speaker-pattern for a folder, "
            "--speaker-column for a table) or use --protocol random."
        )
    if args.protocol == "loso":
        return LeaveOneSpeakerOut()
    return SpeakerKFold(args.folds)


def _markdown(args: argparse.Namespace, corpus: Any, result: Any, seconds: float) -> str:
    from .. import __version__

    names = {"uar": "UAR", "wa": "WA", "macro_f1": "macro-F1", "roc_auc": "ROC AUC"}
    rows = [f"| {name} | {result.pooled[key]:.4f} | {result.mean[key]:.4f} | "
            f"{result.std[key]:.4f} |"
            for key, name in names.items() if result.pooled[key] == result.pooled[key]]
    speakers = "none" if corpus.groups is None else str(len(set(corpus.groups)))
    return "\n".join([
        f"# skser evaluate: {args.model} on {args.data}",
        "",
        f"- Data: `{args.data}` (from {os.path.commonpath(list(corpus.data))}), "
        f"{len(corpus.data)} utterances, "
        f"{len(result.labels)} classes ({', '.join(map(str, result.labels))}), "
        f"speakers: {speakers}",
        f"- Model: `{args.model}`: {MODELS[args.model].summary}",
        f"- Protocol: {result.protocol}",
        f"- skser {__version__}; {seconds:.1f} s",
        "",
        "| metric | pooled | fold mean | fold std |",
        "|---|---|---|---|",
        *rows,
        "",
        "```",
        result.summary(),
        "```",
        "",
    ])


def run_evaluate(args: argparse.Namespace) -> int:
    """Run ``skser evaluate``; return the exit status."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from ..model_selection import SpeakerOverlapWarning, evaluate

    model = model_from_args(args)
    corpus = load_data(args)
    check_class_sizes(model, corpus.target, args.model)  # whole data; folds hold fewer files
    cv = _splitter(args, corpus.groups)
    start = time.perf_counter()
    if not args.quiet:
        info(f"Data: {len(corpus.data)} utterances, {len(corpus.target_names)} classes")
        info(f"Model: {args.model}: {MODELS[args.model].summary}")
    X = model[:1].fit_transform(corpus.data)
    with warnings.catch_warnings():
        if args.protocol == "random":
            # Shared speakers are what this protocol means; the report says so.
            warnings.simplefilter("ignore", SpeakerOverlapWarning)
        result = evaluate(model[1:], X, corpus.target, groups=corpus.groups, cv=cv,
                          n_jobs=args.n_jobs)
    seconds = time.perf_counter() - start
    print(f"Protocol: {result.protocol}")
    for key, name in (("uar", "UAR"), ("wa", "WA"), ("macro_f1", "macro-F1"),
                      ("roc_auc", "ROC AUC")):
        if result.pooled[key] == result.pooled[key]:  # not NaN
            print(f"  {name:<9} {result.pooled[key]:.3f}   (fold mean "
                  f"{result.mean[key]:.3f} +- {result.std[key]:.3f})")
    out = args.out.expanduser()
    out.mkdir(parents=True, exist_ok=True)
    metrics = pd.DataFrame([{"statistic": s, **{k: getattr(result, s)[k] for k in
                                                 ("uar", "wa", "macro_f1", "roc_auc")}}
                            for s in ("pooled", "mean", "std")])
    predictions = pd.DataFrame({"path": corpus.data, "speaker": corpus.groups,
                                "true": result.y_true, "predicted": result.y_pred})
    write_atomic(out / "report.md", lambda tmp: tmp.write_text(
        _markdown(args, corpus, result, seconds), encoding="utf-8"))
    write_atomic(out / "metrics.csv", lambda tmp: metrics.to_csv(tmp, index=False))
    write_atomic(out / "folds.csv", lambda tmp: result.folds.to_csv(tmp, index=False))
    write_atomic(out / "predictions.csv", lambda tmp: predictions.to_csv(tmp, index=False))
    display = result.plot_confusion_matrix()
    try:
        write_atomic(out / "confusion_matrix.png",
                     lambda tmp: display.figure_.savefig(tmp, dpi=120, format="png"))
    finally:
        plt.close(display.figure_)
    print(f"Wrote report.md, metrics.csv, folds.csv, predictions.csv and "
          f"confusion_matrix.png to {out} ({seconds:.1f} s)")
    return 0
