"""The four-corpus fusion report, re-run: FusionNet with and without embeddings, next to an SVM floor.

Data: :func:`skser.datasets.load_pooled` (RAVDESS + CREMA-D + TESS + SAVEE,
six emotions: anger, disgust, fear, happiness, neutral, sadness) from the
corpora given; the ones missing are named in the output.

Features, computed once for all utterances with
:class:`~skser.features.FeatureDict`:

- ``mfcc``: 13 MFCCs + deltas + delta-deltas = 39 per frame at 22.05 kHz
  (librosa defaults: n_fft 2048, hop 512), 162 frames (3.76 s: longer audio
  centre-cropped, shorter centre-zero-padded) -- the report's 39 x 162 input;
  the report does not give its sampling rate or hop, these are librosa's;
- ``embedding`` (only with ``--encoder PATH``): 768-d mean-pooled last hidden
  state of the encoder at that path (the report: facebook/wav2vec2-base).

Models:

- ``FusionNet(use_embedding=True)``: the report's fusion model (needs ``--encoder``);
- ``FusionNet(use_embedding=False)``: its MFCC branch alone (the report's
  "baseline ~51 %");
- floor: ``MFCC(deltas=2) -> Functionals -> StandardScaler -> SVC(balanced)``.

Protocols:

- ``report``: one random stratified 80/20 split of the utterances (the
  report's "combined validation set"; speakers appear on both sides);
- ``speaker``: ``GroupKFold`` over speakers (``--folds``, default 4): no
  speaker is in both the training and the test part; metrics pooled over the
  out-of-fold predictions, and the mean +- std over folds.

Reported: WA (accuracy, what the report calls accuracy / WAR), UAR and macro-F1.

Usage::

    python benchmarks/fusion_four_corpus.py --ravdess $SKSER_DATA/ravdess \
        [--cremad DIR] [--tess DIR] [--savee DIR] [--encoder PATH] \
        [--epochs 25] [--folds 4] [--protocol report speaker]
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skser.datasets import load_pooled
from skser.features import MFCC, FeatureDict, Functionals
from skser.metrics import macro_f1, unweighted_average_recall, weighted_accuracy

MFCC_REPORT = dict(n_mfcc=13, deltas=2, sr=22050, n_frames=162)


def scores(y_true, y_pred) -> dict:
    return {
        "wa": weighted_accuracy(y_true, y_pred),
        "uar": unweighted_average_recall(y_true, y_pred),
        "f1": macro_f1(y_true, y_pred),
    }


def splits(protocol: str, y, groups, folds: int):
    if protocol == "report":
        idx = np.arange(len(y))
        tr, te = train_test_split(idx, test_size=0.2, stratify=y, random_state=0)
        return [(tr, te)]
    return list(GroupKFold(n_splits=folds).split(np.zeros(len(y)), y, groups))


def run_model(make, X, y, cv) -> tuple[dict, list[dict], float]:
    pred = np.empty(len(y), dtype=object)
    per_fold = []
    start = time.process_time()
    for tr, te in cv:
        est = make().fit(X[tr], y[tr])
        pred[te] = est.predict(X[te])
        per_fold.append(scores(y[te], pred[te]))
    seen = np.concatenate([te for _, te in cv])
    return scores(y[seen], pred[seen]), per_fold, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for corpus in ("ravdess", "cremad", "tess", "savee"):
        parser.add_argument(f"--{corpus}", default=None, help=f"folder of {corpus}")
    parser.add_argument("--encoder", default=None, help="local folder of a speech encoder")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--protocol", nargs="+", default=["report", "speaker"], choices=["report", "speaker"])
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, "
          f"{os.cpu_count()} logical CPUs, torch {torch.__version__} on 1 thread")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_pooled(args.ravdess, args.cremad, args.tess, args.savee)
    for w in caught:
        print(f"note: {w.message}")
    counts = {str(k): int(v) for k, v in zip(*np.unique(data.target, return_counts=True))}
    print(f"data: {len(data.target)} utterances, {len(set(data.groups))} speakers, corpora "
          f"{data.corpora}; classes {counts}")

    extractors = {"mfcc": MFCC(**MFCC_REPORT)}
    if args.encoder:
        from skser.features import SpeechEncoder

        extractors["embedding"] = SpeechEncoder(args.encoder, batch_size=8)
    else:
        print("no encoder given (--encoder PATH): no pretrained weights are available here, "
              "so only the MFCC branch of FusionNet runs; the report's embedding figures are "
              "not reproduced.")
    start = time.process_time()
    bundle = FeatureDict(**extractors).fit_transform(data.data)
    print(f"features: {', '.join(f'{k} {v.shape}' for k, v in bundle.items())} "
          f"in {time.process_time() - start:.0f} CPU s")
    floor_X = make_pipeline(MFCC(deltas=2), Functionals()).fit_transform(data.data)

    from skser.models import FusionNet

    def fusion(use_embedding):
        return lambda: FusionNet(use_embedding=use_embedding, max_epochs=args.epochs,
                                 batch_size=32, device="cpu", random_state=0)

    models = {}
    if args.encoder:
        models["FusionNet, MFCC + embedding"] = (fusion(True), bundle)
    models["FusionNet, MFCC branch only"] = (fusion(False), bundle)
    models["MFCC functionals + SVM (floor)"] = (
        lambda: clone(make_pipeline(StandardScaler(), SVC(class_weight="balanced"))), floor_X)

    y = np.asarray(data.target)
    groups = np.asarray(data.groups)
    print("\n| protocol | model | WA | UAR | macro-F1 | fold mean WA +- std | CPU s |")
    print("|---|---|---|---|---|---|---|")
    for protocol in args.protocol:
        cv = splits(protocol, y, groups, args.folds)
        name = ("random 80/20 split (report)" if protocol == "report"
                else f"speaker-independent GroupKFold({args.folds})")
        for model, (make, X) in models.items():
            pooled, folds, cpu = run_model(make, X, y, cv)
            was = [f["wa"] for f in folds]
            spread = f"{np.mean(was):.3f} +- {np.std(was, ddof=1):.3f}" if len(was) > 1 else "-"
            print(f"| {name} | {model} | {pooled['wa']:.3f} | {pooled['uar']:.3f} | "
                  f"{pooled['f1']:.3f} | {spread} | {cpu:.0f} |", flush=True)


if __name__ == "__main__":
    main()
