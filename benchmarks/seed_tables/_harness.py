"""Shared harness of the seed-table scripts: cells, resumable folds, tables and plots.

A *cell* is one system (a feature extractor and a classifier) under one
protocol on one corpus. :func:`run_table` runs every cell fold by fold; each
finished fold is written to ``<out>/folds/<cell>/foldNN.json`` (test rows,
predictions, training history, fit time), so a re-run skips the folds that
are already there. Features are extracted once per corpus and front end and
cached in ``<out>/features/``. Every table also runs the classical floor
(MFCC functionals + RBF SVM, the pipeline of ``benchmarks/bench_classical.py``)
and, when the ``opensmile`` package is importable, eGeMAPS functionals + SVM
(:class:`skser.features.OpenSMILE`). Front ends may return one array or, for
models with named inputs (FusionNet), a FeatureBundle (cached as ``.npz``).

Outputs, in ``<out>``: ``<table>.md`` and ``<table>.csv`` (one row per cell:
system, protocol, corpus copy, the paper's number, skser's pooled UAR / WA /
macro-F1 over the folds run, folds run, epochs, hardware, date),
``<cell>_confusion.png`` per cell and ``<cell>_curves.png`` (train/valid loss
and UAR per epoch) for the neural cells.

Epochs are never selected on the test fold: a network is evaluated after its
last epoch. The neural classifiers hold out ``validation_fraction`` of their
training rows (speaker-disjoint under leave-one-speaker-out) only to draw the
learning curves.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import cloudpickle  # joblib's own pickler for loky workers (a joblib dependency)
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from tqdm.auto import tqdm

from skser._atomic import atomic_path
from skser.datasets import load_emodb, load_ravdess
from skser.features import MFCC, FeatureBundle, Functionals
from skser.metrics import macro_f1, unweighted_average_recall, weighted_accuracy
from skser.model_selection import LeaveOneSpeakerOut

# Fold workers (--n-jobs) receive cells whose systems refer to this module. Scripts import
# it as a top-level ``_harness`` from their own folder, which a reused worker process need
# not have on sys.path, so its objects travel by value rather than by module name.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

VALIDATION_FRACTION = 0.1
QUICK_SPEAKERS = 3
QUICK_PER_CLASS = 2


# --------------------------------------------------------------------------- data model
@dataclass
class Corpus:
    """Audio paths, labels and speakers of one corpus copy.

    ``name`` is a file-name slug (``emodb``); ``copy`` the label printed in
    the tables, e.g. ``"EMO-DB (2 s copy)"``.
    """

    name: str
    copy: str
    paths: np.ndarray
    y: np.ndarray
    groups: np.ndarray


@dataclass
class Protocol:
    """A cross-validation protocol: ``split(y, groups)`` -> list of (train, test)."""

    key: str
    label: str
    split: Callable[[np.ndarray, np.ndarray], list[tuple[np.ndarray, np.ndarray]]]


@dataclass
class System:
    """A front end and a classifier.

    ``features()`` returns a fresh transformer from audio paths to features
    (its output is cached per corpus under ``feature_key``); ``model(epochs,
    device, seed)`` returns a fresh classifier on those features.
    """

    name: str
    feature_key: str
    features: Callable[[], Any]
    model: Callable[[int, str, int], Any]
    neural: bool = True


@dataclass
class Cell:
    """One row of a table: a system under a protocol, with the paper's number."""

    system: System
    protocol: Protocol
    paper: str = "—"
    slug: str = field(init=False)

    def __post_init__(self) -> None:
        name = re.sub(r"[^a-z0-9]+", "_", self.system.name.lower()).strip("_")
        self.slug = f"{name}__{self.protocol.key}"


NOT_REPORTED = "— (not reported)"


def table_cells(protocols: Sequence[Protocol], networks: Sequence[tuple[System, str]],
                floors: Sequence[System]) -> list[Cell]:
    """Per protocol: every network with the paper's number (under the paper protocol only), then the floors.

    ``networks`` holds ``(system, paper's number)`` pairs.
    """
    cells = []
    for protocol in protocols:
        cells += [Cell(system, protocol, paper if protocol.key == "paper" else NOT_REPORTED)
                  for system, paper in networks]
        cells += [Cell(floor, protocol) for floor in floors]
    return cells


# ------------------------------------------------------------------------ protocols
def random_kfold(n_splits: int, seed: int, *, stratified: bool, label: str) -> Protocol:
    """Random (speaker-dependent) k-fold over utterances, as the papers did."""

    def split(y: np.ndarray, groups: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        cls = StratifiedKFold if stratified else KFold
        n = min(n_splits, np.unique(y, return_counts=True)[1].min()) if stratified else n_splits
        return list(cls(int(n), shuffle=True, random_state=seed).split(np.zeros(len(y)), y))

    return Protocol("paper", label, split)


def leave_one_speaker_out() -> Protocol:
    """Leave-one-speaker-out: each fold tests one speaker never seen in training."""

    def split(y: np.ndarray, groups: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        return list(LeaveOneSpeakerOut().split(np.zeros(len(y)), y, groups))

    return Protocol("loso", "leave-one-speaker-out (speaker-independent)", split)


# -------------------------------------------------------------------- floor systems
def _classical_steps(n_jobs: int | None) -> tuple[Any, Any]:
    """Front end and classifier of the classical floor (``bench_classical.py`` when importable)."""
    here = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(here))
    try:
        from bench_classical import classical_pipeline

        pipe = classical_pipeline(n_jobs, None)
        return make_pipeline(*[s for _, s in pipe.steps[:2]]), make_pipeline(*[s for _, s in pipe.steps[2:]])
    except ImportError:
        return (make_pipeline(MFCC(deltas=2, n_jobs=n_jobs), Functionals()),
                make_pipeline(StandardScaler(), SVC(class_weight="balanced")))
    finally:
        sys.path.remove(str(here))


EGEMAPS_FLOOR = "eGeMAPS functionals + SVM (floor)"


def floor_systems(n_jobs: int | None) -> tuple[list[System], list[str]]:
    """The classical floor systems, and notes on those that were skipped.

    MFCC functionals + SVM always; eGeMAPSv02 functionals (88, through
    :class:`skser.features.OpenSMILE`) + SVM when the ``opensmile`` package
    is importable.
    """
    front, clf = _classical_steps(n_jobs)
    systems = [System("MFCC functionals + SVM (floor)", "mfcc_functionals",
                      lambda: clone(front), lambda e, d, s: clone(clf), neural=False)]
    notes = []
    if importlib.util.find_spec("opensmile") is not None:
        from skser.features import OpenSMILE

        systems.append(System(EGEMAPS_FLOOR, "egemaps_v02_functionals",
                              lambda: OpenSMILE("eGeMAPSv02", "functionals", n_jobs=n_jobs),
                              lambda e, d, s: make_pipeline(StandardScaler(), SVC(class_weight="balanced")),
                              neural=False))
        notes.append("eGeMAPS floor: the 88 eGeMAPSv02 functionals of openSMILE (`skser.features.OpenSMILE`, "
                     "audio resampled to 16 kHz) -> StandardScaler -> SVC(class_weight=\"balanced\").")
    else:
        notes.append(f"{EGEMAPS_FLOOR} skipped: the `opensmile` package is not installed "
                     "(`pip install \"skser[opensmile]\"` adds that row).")
    return systems, notes


# ------------------------------------------------------------------------- running
def _atomic_write(path: Path, text: str) -> None:
    with atomic_path(path, suffix=path.suffix) as tmp:
        tmp.write_text(text)


def _features(system: System, corpus: Corpus, out: Path, n_jobs: int | None) -> Any:
    """The cached features: one float32 array, or a FeatureBundle when the front end gives named arrays."""
    stem = out / "features" / f"{corpus.name}__{system.feature_key}__{len(corpus.paths)}"
    path, named = stem.with_suffix(".npy"), stem.with_suffix(".npz")
    if path.exists():
        return np.load(path)
    if named.exists():
        with np.load(named) as saved:
            return FeatureBundle({k: saved[k] for k in saved.files})
    front = system.features()
    if n_jobs is not None and "n_jobs" in getattr(front, "get_params", dict)():
        front.set_params(n_jobs=n_jobs)
    print(f"  extracting {system.feature_key} features of {len(corpus.paths)} files ...", flush=True)
    X = front.fit_transform(list(corpus.paths))
    path.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(X, "keys"):  # FeatureDict's FeatureBundle (FusionNet's input)
        X = FeatureBundle({k: np.asarray(v, dtype=np.float32) for k, v in X.items()})
        with atomic_path(named, suffix=".npz") as tmp:
            np.savez(tmp, **X.to_dict())
        return X
    X = np.asarray(X, dtype=np.float32)
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, X)
    return X


def _history(est: Any) -> list[dict[str, float]]:
    keys = ("train_loss", "valid_loss", "train_uar", "valid_uar")
    try:
        hist = est.history_
    except AttributeError:
        return []
    return [{k: float(row[k]) for k in keys if k in row} for row in hist]


def _run_fold(cell: Cell, X: np.ndarray, corpus: Corpus, train: np.ndarray, test: np.ndarray,
              args: argparse.Namespace, seed: int, path: Path, in_worker: bool) -> dict[str, Any]:
    """Fit and score one fold and write its JSON atomically (``in_worker``: in a fold worker process)."""
    if in_worker:
        torch.set_num_threads(1)  # folds run side by side: one intra-op thread per worker
    est = cell.system.model(args.epochs, args.device, seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if cell.system.neural:
            groups = corpus.groups[train] if cell.protocol.key == "loso" else None
            est.fit(X[train], corpus.y[train], groups=groups)
        else:
            est.fit(X[train], corpus.y[train])
    fit_s = time.perf_counter() - start
    res = {"test": test.tolist(), "y_pred": [str(p) for p in est.predict(X[test])],
           "fit_s": fit_s, "epochs": args.epochs if cell.system.neural else None,
           "history": _history(est) if cell.system.neural else []}
    _atomic_write(path, json.dumps(res))
    return res


def run_cells(cells: list[Cell], corpus: Corpus, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run (or resume) every cell; return one summary dict per cell.

    With ``--n-jobs N`` (N > 1) the unfinished folds of a network's cell run in
    N worker processes, each on one torch thread; every fold is written as soon
    as it finishes, so an interrupted run resumes from the folds it completed.
    """
    out = Path(args.out)
    summaries = []
    for cell in cells:
        X = _features(cell.system, corpus, out, args.n_jobs)
        splits = cell.protocol.split(corpus.y, corpus.groups)
        n_total = len(splits)
        if args.folds is not None:
            splits = splits[: args.folds]
        fold_dir = out / "folds" / f"{corpus.name}__{cell.slug}"
        fold_dir.mkdir(parents=True, exist_ok=True)
        paths = [fold_dir / f"fold{i:02d}.json" for i in range(len(splits))]
        todo = [i for i, path in enumerate(paths) if not path.exists()]
        n_jobs = args.n_jobs if cell.system.neural and len(todo) > 1 else None
        jobs = (delayed(_run_fold)(cell, X, corpus, *splits[i], args, args.seed + i, paths[i],
                                   in_worker=n_jobs not in (None, 1))
                for i in todo)
        runner = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        for _ in tqdm(runner(jobs), total=len(todo), desc=f"{cell.system.name} | {cell.protocol.key}",
                      unit="fold", leave=False, disable=None):
            pass
        results = [json.loads(path.read_text()) for path in paths]
        if len(todo) < len(paths):
            print(f"  {cell.system.name} | {cell.protocol.key}: "
                  f"skipped {len(paths) - len(todo)} finished fold(s)")
        summaries.append(_summarise(cell, corpus, results, n_total, out))
    return summaries


# ------------------------------------------------------------------- summarising
def _summarise(cell: Cell, corpus: Corpus, results: list[dict], n_total: int, out: Path) -> dict:
    idx = np.concatenate([r["test"] for r in results]).astype(int)
    y_true = corpus.y[idx]
    y_pred = np.concatenate([r["y_pred"] for r in results])
    labels = np.unique(corpus.y)
    name = f"{corpus.name}__{cell.slug}"
    _plot_confusion(y_true, y_pred, labels, f"{cell.system.name}\n{cell.protocol.label}",
                    out / f"{name}_confusion.png")
    if any(r["history"] for r in results):
        _plot_curves(results, f"{cell.system.name} — {cell.protocol.key}", out / f"{name}_curves.png")
    epochs = results[0]["epochs"]
    with warnings.catch_warnings():  # a few folds need not hold every class
        warnings.simplefilter("ignore", UserWarning)
        scores = {"UAR %": round(100 * unweighted_average_recall(y_true, y_pred), 2),
                  "WA %": round(100 * weighted_accuracy(y_true, y_pred), 2),
                  "macro-F1 %": round(100 * macro_f1(y_true, y_pred), 2)}
    return {
        "system": cell.system.name,
        "protocol": cell.protocol.label,
        "corpus copy": corpus.copy,
        "paper": cell.paper,
        **scores,
        "folds": f"{len(results)} of {n_total} ({len(idx)} test files)",
        "epochs": "—" if epochs is None else f"{epochs} (last epoch)",
        "fit s / fold": round(float(np.mean([r["fit_s"] for r in results])), 1),
    }


def _plot_confusion(y_true, y_pred, labels, title: str, path: Path) -> None:
    cm = confusion_matrix(y_true, y_pred, labels=labels, normalize="true")
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ConfusionMatrixDisplay(cm, display_labels=labels).plot(ax=ax, values_format=".2f", colorbar=False,
                                                          xticks_rotation=45)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_curves(results: list[dict], title: str, path: Path) -> None:
    fig, (ax_loss, ax_uar) = plt.subplots(1, 2, figsize=(9, 3.5))
    for key, ax, style in (("train_loss", ax_loss, "-"), ("valid_loss", ax_loss, "--"),
                           ("train_uar", ax_uar, "-"), ("valid_uar", ax_uar, "--")):
        curves = [[h[key] for h in r["history"] if key in h] for r in results]
        curves = [c for c in curves if c]
        if not curves:
            continue
        n = min(len(c) for c in curves)
        mean = np.mean([c[:n] for c in curves], axis=0)
        ax.plot(np.arange(1, n + 1), mean, style, marker="o", ms=3, label=f"{key} (mean of {len(curves)} folds)")
    for ax, ylabel in ((ax_loss, "loss"), (ax_uar, "UAR")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def hardware(device: str) -> str:
    """The machine in words, e.g. ``"2-core x86_64 CPU, no GPU"``."""
    cpu = f"{os.cpu_count()}-core {platform.machine()} CPU"
    if device.startswith("cuda") or device == "auto":
        try:
            import torch

            if torch.cuda.is_available():
                return f"{cpu}, {torch.cuda.get_device_name(0)}"
        except ImportError:
            pass
    return f"{cpu}, no GPU"


def write_table(name: str, title: str, rows: list[dict], notes: list[str], args: argparse.Namespace) -> Path:
    """Write ``<out>/<name>.md`` and ``<out>/<name>.csv``; return the Markdown path."""
    out = Path(args.out)
    frame = pd.DataFrame(rows)
    frame["hardware"] = args.hardware or hardware(args.device)
    frame["date"] = time.strftime("%Y-%m-%d", time.gmtime())
    frame.to_csv(out / f"{name}.csv", index=False)
    lines = [f"# {title}", "", frame.to_markdown(index=False), ""]
    lines += [f"- {n}" for n in notes]
    lines += ["", f"Command: `{' '.join(['python', *sys.argv])}`", ""]
    md = out / f"{name}.md"
    _atomic_write(md, "\n".join(lines))
    print("\n" + "\n".join(lines))
    return md


# ---------------------------------------------------------------------- CLI pieces
def parser(description: str, default_epochs: int) -> argparse.ArgumentParser:
    """The flags every seed-table script shares."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default=os.environ.get("SKSER_DATA"),
                   help="folder holding the corpora (default $SKSER_DATA)")
    p.add_argument("--out", default="seed_tables_out", help="output folder (resumable cache)")
    p.add_argument("--epochs", type=int, default=default_epochs,
                   help=f"training epochs of every network (default {default_epochs})")
    p.add_argument("--folds", type=int, default=None,
                   help="run only the first N folds of every protocol (default: all)")
    p.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--n-jobs", type=int, default=None,
                   help="processes for feature extraction and for the folds of each network "
                        "(each fold then trains on one torch thread)")
    p.add_argument("--seed", type=int, default=0, help="base seed of the networks")
    p.add_argument("--hardware", default=None, help="hardware description written in the tables")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: a few files of 3 speakers, 1 epoch, 2 folds (seconds)")
    return p


def finish_args(args: argparse.Namespace) -> argparse.Namespace:
    """Apply ``--quick`` and check ``--data``."""
    if args.quick:
        args.epochs, args.folds = 1, 2
    if args.epochs < 1:
        raise SystemExit("--epochs must be at least 1")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    return args


def corpus_from_bunch(name: str, copy: str, bunch: Any, quick: bool) -> Corpus:
    """A :class:`Corpus` from a skser loader's Bunch, reduced to a handful of files with ``quick``."""
    paths = np.asarray(bunch.data, dtype=object)
    y = np.asarray(bunch.target).astype(str)
    groups = np.asarray(bunch.groups).astype(str)
    if quick:
        keep = []
        for spk in sorted(set(groups))[:QUICK_SPEAKERS]:
            for label in np.unique(y):
                keep.extend(np.flatnonzero((groups == spk) & (y == label))[:QUICK_PER_CLASS])
        keep = np.sort(np.asarray(keep, dtype=int))
        paths, y, groups = paths[keep], y[keep], groups[keep]
        copy += f", --quick subset of {len(keep)} files"
    return Corpus(name, copy, paths, y, groups)


SHARED_CORPORA = {"emodb": ("emodb-2s", "EMO-DB (2 s copy)", load_emodb),
                  "ravdess": ("ravdess", "RAVDESS speech (16 kHz copy)", load_ravdess)}


def shared_corpus(key: str, args: argparse.Namespace) -> Corpus | None:
    """EMO-DB (2 s copy) or RAVDESS speech from ``--data`` / ``$SKSER_DATA``; None when its folder is absent."""
    folder, copy, loader = SHARED_CORPORA[key]
    if args.data is None or not (Path(args.data) / folder).is_dir():
        return None
    return corpus_from_bunch(key, copy, loader(Path(args.data) / folder), args.quick)


def for_each_corpus(
    keys: Iterable[str],
    load: Callable[[str], Corpus | None],
    make_table: Callable[[str, Corpus], None],
    missing: str,
) -> int:
    """``make_table(key, corpus)`` for each corpus ``load`` finds; the script's exit code.

    A corpus ``load`` returns None for is reported as skipped (``missing``
    says what it needs); 2 when none was found, else 0.
    """
    ran = 0
    for key in keys:
        corpus = load(key)
        if corpus is None:
            print(f"{key}: not available ({missing}): skipped")
            continue
        make_table(key, corpus)
        ran += 1
    if ran == 0:
        print(f"No corpus available: {missing}.", file=sys.stderr)
        return 2
    return 0


def neural_kwargs(epochs: int, device: str, seed: int) -> dict[str, Any]:
    """Training settings shared by every network: fixed epochs, validation only for the curves."""
    return {"max_epochs": epochs, "device": device, "random_state": seed,
            "validation_fraction": VALIDATION_FRACTION}


PROTOCOL_NOTE = ("Paper protocol: the split the paper used, but every network is scored after its "
                 "last epoch: the epoch is never chosen on the test fold, although the papers did "
                 "(Light-SERNet, TIM-Net v1). Leave-one-speaker-out holds each speaker out of "
                 "training. Scores are pooled over the folds run; with fewer folds than the "
                 "protocol has they cover only those folds' test files. "
                 f"Networks hold out {VALIDATION_FRACTION:.0%} of their training rows "
                 "(speaker-disjoint under leave-one-speaker-out) for the learning curves only.")
