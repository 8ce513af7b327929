"""SER-Net ablation table under leave-one-speaker-out, next to the classical floor.

The report's ablation (§4.4) removes one component at a time from the full
SER-Net. Here every row is one parameter setting of :class:`skser.models.SERNet`
(``variant="report"``, ``size="base"``):

==========================  =============================================
row                         parameters changed from the full model
==========================  =============================================
full model                  (none)
w/o multi-scale conv        ``multiscale=False``
w/o attention pooling       ``pooling="mean"``
w/o prosodic features       ``use_prosody=False``
w/o data augmentation       ``freq_mask_param=0, time_mask_param=0``
w/o focal loss              ``loss="cross_entropy"``
full model, another seed    ``random_state=1`` (the noise of one row)
==========================  =============================================

Next to it, in the same folds of the same run: the classical floor
``MFCC(deltas=2) -> Functionals -> StandardScaler -> SVC(class_weight="balanced")``
(as ``benchmarks/bench_classical.py``).

Features: :class:`skser.features.SERNetFeatures` when it is importable; else
(and with ``--fallback-features``) a stand-in with the same column layout:
``MFCC(40, deltas=2)`` (120) + ``LogMel(128)`` + 5 frame-level low-level
descriptors (``LowLevel``: ZCR, RMS energy, spectral centroid, roll-off,
flatness) in the prosodic slot, all on one frame grid (16 kHz, 25 ms Hann
window in a 512-point FFT, 10 ms hop, pre-emphasis 0.97). The run prints which.

Protocol: leave-one-speaker-out, restricted by ``--n-folds`` to the folds of the
first k speakers in sorted order (the others are trained on but never tested,
to fit the CPU budget); UAR / WA / macro-F1 pooled over the tested
utterances and the UAR mean over those folds. Training budget (``--epochs``,
``--max-seconds`` crop, no validation split / early stopping, warm-up over the
first 10 % of the steps) is far below the report's 100 epochs with early
stopping, and is printed with the results.

Usage::

    nice -n 10 env OMP_NUM_THREADS=1 SKSER_DATA=/path/to/data \\
        python benchmarks/sernet_ablation.py --corpus emodb-2s --n-folds 3 --epochs 5
    ... --corpus ravdess --n-folds 2 --epochs 2 --max-seconds 2.5

Results: a Markdown table on stdout and ``<out>/sernet_ablation_<corpus>_<speakers>.csv``
(one row per configuration and fold with its predictions, rewritten after every
fit); ``--summarise <csv> ...`` prints the table of finished fits of a run that
was cut short (the pooled metrics then cover the fits that finished).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from joblib import Memory
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skser.datasets import load_emodb, load_ravdess
from skser.features import MFCC, Functionals, LogMel, LowLevel
from skser.metrics import macro_f1, unweighted_average_recall, weighted_accuracy
from skser.models import SERNet

CORPORA = {
    "emodb-2s": ("EMO-DB (2 s copy, 7 classes)", "emodb-2s"),
    "emodb-4class": ("EMO-DB original, 4-class subset", "emodb-4class"),
    "ravdess": ("RAVDESS speech (8 classes)", "ravdess"),
}

CONFIGS = {
    "full model": {},
    "w/o multi-scale conv": {"multiscale": False},
    "w/o attention pooling": {"pooling": "mean"},
    "w/o prosodic features": {"use_prosody": False},
    "w/o data augmentation": {"freq_mask_param": 0, "time_mask_param": 0},
    "w/o focal loss": {"loss": "cross_entropy"},
    # the full model again with another seed: how far a row moves by chance alone
    "full model, another seed": {"random_state": 1},
}

FLOOR = "classical floor (MFCC functionals + SVM)"

STFT = {"sr": 16000, "n_fft": 512, "win_length": 400, "hop_length": 160, "preemphasis": 0.97}


def load(corpus: str, data: Path):
    folder = data / CORPORA[corpus][1]
    if corpus == "ravdess":
        return load_ravdess(folder)
    return load_emodb(folder)


def _fallback_features(paths: list[str], max_frames: int) -> tuple[np.ndarray, str]:
    parts = [
        MFCC(40, deltas=2, **STFT).fit_transform(paths),
        LogMel(128, **STFT).fit_transform(paths),
        LowLevel(
            descriptors=("zcr", "rms", "spectral_centroid", "spectral_rolloff", "spectral_flatness"),
            **{k: v for k, v in STFT.items() if k != "preemphasis"},
        ).fit_transform(paths),
    ]
    n = min(p.shape[1] for p in parts)
    X = np.concatenate([p[:, :n] for p in parts], axis=2)[:, :max_frames]
    return np.ascontiguousarray(X), "fallback: MFCC(40, deltas=2) + LogMel(128) + LowLevel(5) (P=5)"


def sernet_features(paths: list[str], max_frames: int, fallback: bool) -> tuple[np.ndarray, str]:
    """Frame-level SER-Net input (n, <= max_frames, 248 + P) and a description of it."""
    if not fallback:
        try:
            from skser.features import SERNetFeatures
        except ImportError:
            fallback = True
    if fallback:
        return _fallback_features(paths, max_frames)
    est = SERNetFeatures()
    X = est.fit_transform(paths)[:, :max_frames]
    return np.ascontiguousarray(X), f"SERNetFeatures() (width {X.shape[2]})"


def classical_features(paths: list[str]) -> np.ndarray:
    return make_pipeline(MFCC(deltas=2), Functionals()).fit_transform(paths)


def scores(y_true, y_pred) -> dict:
    return {
        "uar": unweighted_average_recall(y_true, y_pred),
        "wa": weighted_accuracy(y_true, y_pred),
        "macro_f1": macro_f1(y_true, y_pred),
    }


def run(args, corpus: str, memory: Memory) -> pd.DataFrame:
    title = CORPORA[corpus][0]
    ds = load(corpus, Path(args.data))
    paths = [str(p) for p in ds.data]
    y = np.asarray(ds.target).astype(str)
    groups = np.asarray(ds.groups).astype(str)
    speakers = sorted(np.unique(groups))
    tested = args.speakers or speakers[: args.n_folds]
    unknown = sorted(set(tested) - set(speakers))
    if unknown:
        raise SystemExit(f"--speakers {unknown} are not speakers of {title} ({', '.join(speakers)})")
    max_frames = int(round(args.max_seconds * 100))
    t0 = time.process_time()
    X, described = memory.cache(sernet_features)(paths, max_frames, args.fallback_features)
    Xc = memory.cache(classical_features)(paths)
    print(f"\n== {title}: {len(y)} utterances, {len(speakers)} speakers; test folds: "
          f"{', '.join(tested)} ({len(tested)} of {len(speakers)} leave-one-speaker-out folds)")
    print(f"SER-Net input: {described}; X {X.shape}; feature CPU time "
          f"{time.process_time() - t0:.0f} s (cached after the first run)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / f"sernet_ablation_{corpus}_{'-'.join(tested)}.csv"
    rows = []
    for spk in tested:
        test = groups == spk
        train = ~test
        # classical floor on the same fold
        c0 = time.process_time()
        svm = make_pipeline(StandardScaler(), SVC(class_weight="balanced")).fit(Xc[train], y[train])
        pred = svm.predict(Xc[test])
        rows.append({"config": FLOOR, "speaker": spk,
                     "cpu_s": time.process_time() - c0, **scores(y[test], pred),
                     "y_true": "|".join(y[test]), "y_pred": "|".join(pred)})
        for name in args.configs:
            params = {"max_epochs": args.epochs, "validation_fraction": None, "patience": None,
                      "schedule_kwargs": {"warmup_steps": 0.1}, "device": "cpu", "random_state": 0}
            clf = SERNet(**{**params, **CONFIGS[name]})
            c0 = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                clf.fit(X[train], y[train])
                pred = clf.predict(X[test])
            row = {"config": name, "speaker": spk, "cpu_s": time.process_time() - c0,
                   **scores(y[test], pred), "y_true": "|".join(y[test]), "y_pred": "|".join(pred)}
            rows.append(row)
            _write(rows, title, csv)  # after every fit: a cut-short run keeps what it did
            print(f"  fold {spk} | {name:<24} UAR {row['uar']:.3f}  WA {row['wa']:.3f}  "
                  f"({row['cpu_s']:.0f} CPU-s, train loss {clf.history_[-1, 'train_loss']:.3f})",
                  flush=True)
        _write(rows, title, csv)
    return pd.read_csv(csv, dtype={"speaker": str})


def _write(rows: list[dict], title: str, csv: Path) -> None:
    frame = pd.DataFrame(rows)
    frame.insert(0, "corpus", title)
    frame.to_csv(csv, index=False)


def _pooled(rows: pd.DataFrame) -> dict:
    y_true = np.concatenate([str(v).split("|") for v in rows["y_true"]])
    y_pred = np.concatenate([str(v).split("|") for v in rows["y_pred"]])
    return scores(y_true, y_pred)


def summarise(frame: pd.DataFrame) -> str:
    """Markdown tables: metrics pooled over each row's test folds, and UAR per fold.

    Δ UAR compares a row with the full model on the same test speakers (paired).
    A fit found in several CSV files (e.g. the floor of a rerun fold) counts once.
    """
    frame = frame.drop_duplicates(["corpus", "config", "speaker"], keep="first").copy()
    frame["speaker"] = frame["speaker"].astype(str).str.zfill(2)
    order = {c: frame[c].unique().tolist() for c in ("corpus", "config")}  # as first seen
    frame = frame.sort_values(
        ["corpus", "config", "speaker"],
        key=lambda col: col.map(order[col.name].index) if col.name in order else col,
    )
    lines = ["| corpus | configuration | UAR pooled | Δ UAR (paired) | WA pooled | "
             "macro-F1 pooled | test speakers | CPU-s |", "|---|---|---|---|---|---|---|---|"]
    for corpus, part in frame.groupby("corpus", sort=False):
        full = part[part["config"] == "full model"].set_index("speaker")
        for config, rows in part.groupby("config", sort=False):
            s = _pooled(rows)
            speakers = list(rows["speaker"])
            delta = ""
            if config not in ("full model", FLOOR) and set(speakers) <= set(full.index):
                delta = f"{s['uar'] - _pooled(full.loc[speakers])['uar']:+.3f}"
            lines.append(f"| {corpus} | {config} | {s['uar']:.3f} | {delta} | {s['wa']:.3f} | "
                         f"{s['macro_f1']:.3f} | {', '.join(speakers)} | {rows['cpu_s'].sum():.0f} |")
    per_fold = frame.pivot_table(index=["corpus", "config"], columns="speaker", values="uar",
                                 sort=False)
    lines += ["", "UAR per test speaker:", "",
              "| corpus | configuration | " + " | ".join(per_fold.columns) + " |",
              "|---|---|" + "---|" * len(per_fold.columns)]
    for (corpus, config), values in per_fold.iterrows():
        cells = ["" if np.isnan(v) else f"{v:.3f}" for v in values]
        lines.append(f"| {corpus} | {config} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKSER_DATA"),
                        help="folder holding emodb-2s/, emodb-4class/, ravdess/ (default: $SKSER_DATA)")
    parser.add_argument("--corpus", nargs="+", choices=sorted(CORPORA), default=["emodb-2s"])
    parser.add_argument("--n-folds", type=int, default=3,
                        help="test the first k speakers (sorted) of the leave-one-speaker-out folds")
    parser.add_argument("--speakers", nargs="+",
                        help="test exactly these speakers' folds (overrides --n-folds)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=3.0,
                        help="crop every utterance's frames to this length (100 frames per second)")
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--fallback-features", action="store_true",
                        help="use the MFCC + LogMel + LowLevel stand-in even if SERNetFeatures exists")
    parser.add_argument("--cache", default="/tmp/skser-sernet-ablation-cache",
                        help="joblib.Memory folder for the features")
    parser.add_argument("--out", default="results", help="output folder (git-ignored)")
    parser.add_argument("--summarise", nargs="+", metavar="CSV",
                        help="only print the table of earlier (possibly cut-short) runs' CSV files")
    args = parser.parse_args(argv)
    if args.summarise:
        print(summarise(pd.concat([pd.read_csv(f, dtype={"speaker": str}) for f in args.summarise],
                                  ignore_index=True)))
        return 0
    if args.data is None or not Path(args.data).is_dir():
        parser.error("set SKSER_DATA or pass --data")
    torch.set_num_threads(1)
    print(f"skser SER-Net ablation | python {platform.python_version()}, torch {torch.__version__}, "
          f"{os.cpu_count()} CPUs (torch on 1 thread), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"Budget: {args.epochs} epochs per fit, batch 64, AdamW 1e-3 (wd 1e-4), warm-up 10 % of "
          f"steps then cosine to 1e-6, no validation split (last epoch kept), crop {args.max_seconds} s; "
          f"SERNet(variant='report', size='base') defaults otherwise.")
    memory = Memory(args.cache, verbose=0)
    start = time.process_time()
    frame = pd.concat([run(args, c, memory) for c in args.corpus], ignore_index=True)
    print()
    print(summarise(frame))
    print(f"\nTotal CPU time: {(time.process_time() - start) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
