"""``skser demo``: the default system, speaker-independently, on RAVDESS or EMO-DB.

``skser demo`` evaluates skser's default system (:func:`skser.make_default_classifier`:
MFCC + deltas, low-level descriptors and log-mel functionals, per-speaker
normalisation, logistic regression) speaker-independently on RAVDESS (or
EMO-DB), prints UAR / WA / macro-F1 / ROC AUC with the protocol, and writes
the confusion matrix as a PNG.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path
from typing import Any

from ._common import DEFAULT_N_JOBS, write_atomic

__all__ = ["add_demo_parser", "demo_pipeline", "find_corpus_copies", "run_demo"]

_CORPORA = {"ravdess": "RAVDESS speech", "emodb": "EMO-DB"}


def add_demo_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``skser demo`` to the sub-command parsers ``commands``."""
    demo = commands.add_parser(
        "demo",
        help="speaker-independent evaluation of skser's default system on RAVDESS",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Evaluate skser.make_default_classifier() (MFCC+deltas, low-level descriptor\n"
            "and log-mel functionals -> per-speaker normalisation -> logistic regression)\n"
            "with leave-one-speaker-out cross-validation, print UAR, WA, macro-F1 and\n"
            "ROC AUC with the protocol, and write the confusion matrix as a PNG.\n\n"
            "The corpus is read from --data, else from the data home (--data-home,\n"
            "$SKSER_DATA or ~/skser_data): any folder in it that holds the corpus's\n"
            "layout (EMO-DB: wav/, e.g. emodb/, emodb-2s/; RAVDESS: Actor_01/ ...). With\n"
            "several copies the one named <corpus>/, else the largest, is used, and the\n"
            "others are listed. An absent corpus is downloaded from the official host\n"
            "(RAVDESS: Zenodo, about 200 MB) into --data-home or ~/skser_data, never\n"
            "into $SKSER_DATA."
        ),
    )
    demo.add_argument("--corpus", choices=sorted(_CORPORA), default="ravdess",
                      help="corpus to evaluate on (default: ravdess)")
    demo.add_argument("--data", metavar="PATH", type=Path, default=None,
                      help="folder holding the corpus, or a folder of copies of it "
                           "(skips the data home and any download)")
    demo.add_argument("--data-home", metavar="DIR", type=Path, default=None,
                      help="data home holding <corpus>/ (default: $SKSER_DATA or ~/skser_data)")
    demo.add_argument("--no-download", action="store_true",
                      help="fail instead of downloading a corpus that is absent")
    demo.add_argument("--out", metavar="DIR", type=Path, default=Path("skser-demo"),
                      help="folder for confusion_matrix.png, folds.csv and summary.txt "
                           "(default: ./skser-demo)")
    demo.add_argument("-j", "--n-jobs", type=int, default=DEFAULT_N_JOBS,
                      help=f"parallel workers for features and folds (default: "
                           f"{DEFAULT_N_JOBS}; -1 = all cores, which was not faster on 2 "
                           "cores, see docs/cli.md)")
    demo.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(run=run_demo)
    return demo


def demo_pipeline(*, n_jobs: int | None = None, verbose: bool = False) -> tuple[Any, Any]:
    """The demo's (feature extractor, classifier) pair: :func:`skser.make_default_classifier`.

    The feature extractor (frame-level MFCC + deltas and low-level descriptors
    pooled by functionals) is stateless, so it is applied once to all files;
    the classifier (per-speaker normalisation, scaler, logistic regression) is
    the part fitted inside each fold, and gets the speakers from ``evaluate``.
    """
    from .._default import make_default_classifier

    model = make_default_classifier(n_jobs=n_jobs, verbose=verbose)
    return model[:1], model[1:]


#: Sub-folder that identifies a copy of each corpus, and a file-name pattern in it.
_CORPUS_MARKERS = {
    "emodb": ("wav", re.compile(r"^\d\d[ab]\d\d[WLEAFTN][a-z]\.")),
    "ravdess": ("Actor_01", re.compile(r"^0[123]-0[12]-0[1-8]-")),
}


def _count_copy(folder: Path, corpus: str) -> int:
    """Number of the corpus's audio files in ``folder``'s marker sub-folder (0: not a copy)."""
    sub, pattern = _CORPUS_MARKERS[corpus]
    if corpus == "ravdess":
        actors = sorted(folder.glob("Actor_[0-9][0-9]"))
        return sum(1 for a in actors for f in a.iterdir() if pattern.match(f.name))
    marker = folder / sub
    if not marker.is_dir():
        return 0
    return sum(1 for f in marker.iterdir() if pattern.match(f.name))


def find_corpus_copies(home: Path, corpus: str) -> list[tuple[Path, int]]:
    """Copies of ``corpus`` at or directly below ``home``, with their file counts.

    A copy is ``home`` itself or a sub-folder that holds the corpus's own layout
    (EMO-DB: ``wav/03a01Fa.wav``; RAVDESS: ``Actor_01/03-01-...``), whatever its
    name (``emodb/``, ``emodb-2s/``, ``emodb-4class/``, ``EMO-DB/`` ...). Sorted by
    preference: a folder named ``<corpus>`` (the fetchers' folder) first, then the
    most files, then the name.
    """
    candidates = [home] + sorted(p for p in home.iterdir() if p.is_dir()) if home.is_dir() else []
    copies = [(p, n) for p in candidates if (n := _count_copy(p, corpus)) > 0]
    return sorted(copies, key=lambda c: (c[0].name.lower() != corpus, -c[1], c[0].name))


def _pick_copy(home: Path, corpus: str) -> Path | None:
    copies = find_corpus_copies(home, corpus)
    if not copies:
        return None
    chosen = copies[0][0]
    if len(copies) > 1:
        listing = ", ".join(f"{p.name or p}/ ({n} files)" for p, n in copies)
        others = " or ".join(f"--data {p}" for p, _ in copies[1:])
        print(f"Found {len(copies)} copies of {_CORPORA[corpus]} in {home}: {listing}; "
              f"using {chosen.name}/. Choose another with {others}.")
    return chosen


def _load_corpus(args: argparse.Namespace):
    from .. import datasets
    from ..datasets._fetch import DATA_HOME_ENV
    from ..exceptions import CorpusLayoutError

    loader = {"ravdess": datasets.load_ravdess, "emodb": datasets.load_emodb}[args.corpus]
    if args.data is not None:
        return loader(_pick_copy(args.data, args.corpus) or args.data)
    # Resolved as get_data_home does, but without creating the folder: looking is not writing.
    home_name = args.data_home or os.environ.get(DATA_HOME_ENV) or os.path.join("~", "skser_data")
    home = Path(os.fspath(home_name)).expanduser()
    found = _pick_copy(home, args.corpus)
    if found is not None:
        return loader(found)
    # Download only into a data home the user named with --data-home, or into the
    # default ~/skser_data: never into $SKSER_DATA, which points at existing
    # copies (possibly shared or read-only) and is not a request to download.
    from_env = args.data_home is None and bool(os.environ.get(DATA_HOME_ENV))
    if args.no_download or from_env:
        why = (f"${DATA_HOME_ENV} names it, and skser never downloads into it" if from_env
               else "--no-download was given")
        raise CorpusLayoutError(
            f"No copy of {_CORPORA[args.corpus]} in {str(home)!r} (looked for a folder "
            f"holding {_CORPUS_MARKERS[args.corpus][0]}/ at or directly below it; {why}). "
            f"Pass the corpus folder with --data PATH, or --data-home DIR to download it "
            "into DIR."
        )
    fetch = {"ravdess": datasets.fetch_ravdess, "emodb": datasets.fetch_emodb}[args.corpus]
    return fetch(home, download_if_missing=True, verbose=not args.quiet)


def run_demo(args: argparse.Namespace) -> int:
    """Run ``skser demo``; return the exit status."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    from ..model_selection import LeaveOneSpeakerOut, evaluate

    start = time.perf_counter()
    corpus = _load_corpus(args)
    n_speakers = len(np.unique(corpus.groups))
    print(f"Corpus: {_CORPORA[args.corpus]}: {len(corpus.data)} utterances, "
          f"{len(corpus.target_names)} classes, {n_speakers} speakers, "
          f"from {os.path.commonpath(list(corpus.data))}")
    features, classifier = demo_pipeline(n_jobs=args.n_jobs, verbose=not args.quiet)
    t0 = time.perf_counter()
    X = features.fit_transform(corpus.data)
    feature_time = time.perf_counter() - t0
    print(f"Features: MFCC 40 + deltas, 17 low-level descriptors and 64 log-mel bands "
          f"(25 ms / 10 ms at 16 kHz), 10 functionals -> {X.shape[1]} per utterance "
          f"({feature_time:.1f} s)")
    print("Classifier: SpeakerNormalizer (per-speaker statistics) -> StandardScaler -> "
          "LogisticRegression(C=0.01, class_weight='balanced')")
    t0 = time.perf_counter()
    result = evaluate(classifier, X, corpus.target, groups=corpus.groups,
                      cv=LeaveOneSpeakerOut(), n_jobs=args.n_jobs)
    eval_time = time.perf_counter() - t0
    pooled, mean, std = result.pooled, result.mean, result.std
    print(f"Protocol: {result.protocol}")
    print(f"  UAR       {pooled['uar']:.3f}   (fold mean {mean['uar']:.3f} +- {std['uar']:.3f})")
    print(f"  WA        {pooled['wa']:.3f}   (fold mean {mean['wa']:.3f} +- {std['wa']:.3f})")
    print(f"  macro-F1  {pooled['macro_f1']:.3f}   "
          f"(fold mean {mean['macro_f1']:.3f} +- {std['macro_f1']:.3f})")
    if pooled["roc_auc"] == pooled["roc_auc"]:  # not NaN
        print(f"  ROC AUC   {pooled['roc_auc']:.3f}   "
              f"(fold mean {mean['roc_auc']:.3f} +- {std['roc_auc']:.3f})")
    args.out.mkdir(parents=True, exist_ok=True)
    png = args.out / "confusion_matrix.png"
    display = result.plot_confusion_matrix()
    display.ax_.set_title(f"{_CORPORA[args.corpus]}\n{display.ax_.get_title()}", fontsize=9)
    display.figure_.tight_layout()
    import matplotlib.pyplot as plt

    try:
        write_atomic(png, lambda tmp: display.figure_.savefig(tmp, dpi=120, format="png"))
    finally:
        plt.close(display.figure_)
    write_atomic(args.out / "folds.csv", lambda tmp: result.folds.to_csv(tmp, index=False))
    write_atomic(args.out / "summary.txt",
                  lambda tmp: tmp.write_text(result.summary() + "\n", encoding="utf-8"))
    total = time.perf_counter() - start
    print(f"Wrote {png}, {args.out / 'folds.csv'}, {args.out / 'summary.txt'}")
    print(f"Time: {total:.1f} s (features {feature_time:.1f} s, "
          f"{result.n_folds} folds {eval_time:.1f} s)")
    return 0
