"""Spectrogram transfer learning (the DA221M report's set-up) next to the MFCC + SVM floor.

The report fine-tunes ImageNet CNNs (EfficientNet-B7 chosen, ResNet-50
compared) on spectrogram images with class-weighted cross-entropy, a head of
global average pooling + dense ReLU + softmax, and reports accuracy,
balanced accuracy and ROC AUC on a *random* split. This script runs the same
system on the corpora at hand, on the report's random split and on
speaker-independent folds side by side, in one run with the classical floor:

- ``svm``: ``MFCC(deltas=2) -> Functionals -> StandardScaler -> SVC(balanced)``
  (the floor of ``bench_classical.py``), its scores calibrated to
  probabilities by ``CalibratedClassifierCV(ensemble=False)`` (5-fold Platt
  scaling inside the training set) for the ROC AUC; its predictions are the
  most probable classes;
- ``cnn-random``: ``LogMel -> SpectrogramImage -> SpectrogramCNN(backbone,
  pretrained=False)``, trained from a random initialisation;
- ``cnn-pretrained``: the same with ImageNet weights from ``--weights PATH``
  (a folder written by ``save_pretrained``; the hub is not used), trained
  with the backbone frozen for ``--frozen-epochs`` epochs, then fine-tuned
  at a 10x lower learning rate. Skipped (and said so) without ``--weights``.

Protocols (each scored on held-out utterances):

- ``random``: ``StratifiedShuffleSplit(test_size=0.2)`` over utterances; the
  same speakers are in training and test (speaker-dependent, as the report).
- ``speaker``: ``SpeakerKFold(5)`` (stratified, speaker-disjoint folds); the
  first ``--speaker-folds`` folds are run.

Scores: accuracy (WA), balanced accuracy (UAR), one-vs-rest macro ROC AUC
(:func:`skser.metrics.roc_auc_ovr`), and CPU seconds of fit + predict.
Features are computed once for all utterances: every transformer before the
classifiers is stateless, so this leaks nothing across the split.

Usage::

    SKSER_DATA=/path/to/data nice -n 10 python benchmarks/spectrogram_transfer.py \\
        [--corpus ravdess [more ...]] [--path NAME=DIR ...] [--backbone efficientnet-b0] \\
        [--weights DIR] [--size 48] [--epochs 8] [--speaker-folds 1] [--out results]

``--path cremad=/data/CREMA-D`` (also ``tess``, ``savee``, ``ravdess``,
``emodb``) points a corpus at a folder; by default corpora are looked up in
``$SKSER_DATA`` (``ravdess/``). Several corpora are pooled, as in the report.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skser import datasets
from skser.features import MFCC, Functionals, LogMel, SpectrogramImage
from skser.metrics import roc_auc_ovr, unweighted_average_recall, weighted_accuracy
from skser.model_selection import SpeakerKFold
from skser.models import SpectrogramCNN

LOADERS = {
    "ravdess": datasets.load_ravdess,
    "cremad": datasets.load_cremad,
    "tess": datasets.load_tess,
    "savee": datasets.load_savee,
    "emodb": datasets.load_emodb,
}


def load_corpora(names: list[str], paths: dict[str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pooled (files, labels, speakers); speakers prefixed by their corpus."""
    files, labels, speakers = [], [], []
    for name in names:
        root = paths.get(name) or os.path.join(os.environ.get("SKSER_DATA", "."), name)
        bunch = LOADERS[name](root)
        files.append(np.asarray(bunch.data, dtype=object))
        labels.append(np.asarray(bunch.target, dtype=object))
        speakers.append(np.asarray([f"{name}:{s}" for s in bunch.groups], dtype=object))
    return np.concatenate(files), np.concatenate(labels), np.concatenate(speakers)


def splits(protocol: str, y: np.ndarray, groups: np.ndarray, n_folds: int, seed: int):
    if protocol == "random":
        return list(StratifiedShuffleSplit(1, test_size=0.2, random_state=seed).split(y, y))
    return list(SpeakerKFold(5).split(y, y, groups))[:n_folds]


def scores(y_true, proba, classes) -> dict[str, float]:
    y_pred = classes[np.argmax(proba, axis=1)]
    return {
        "accuracy": weighted_accuracy(y_true, y_pred),
        "balanced_accuracy": unweighted_average_recall(y_true, y_pred),
        "roc_auc": roc_auc_ovr(y_true, proba, labels=classes),
    }


def make_models(args) -> dict[str, object]:
    common = dict(
        backbone=args.backbone, hidden=256, dropout=0.3, lr=1e-3, batch_size=32,
        max_epochs=args.epochs, class_weight="balanced", random_state=args.seed, device="auto",
    )
    models = {
        "svm": make_pipeline(
            StandardScaler(),
            CalibratedClassifierCV(SVC(class_weight="balanced"), ensemble=False),
        ),
        "cnn-random": SpectrogramCNN(pretrained=False, freeze=None, **common),
    }
    if args.weights:
        models["cnn-pretrained"] = SpectrogramCNN(
            **{**common, "backbone": args.weights}, pretrained=True, freeze="backbone",
            n_frozen_epochs=args.frozen_epochs, unfreeze="all", backbone_lr=1e-4,
        )
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", nargs="+", default=["ravdess"], choices=sorted(LOADERS))
    parser.add_argument("--path", nargs="*", default=[], help="NAME=DIR of a corpus folder")
    parser.add_argument("--backbone", default="efficientnet-b0")
    parser.add_argument("--weights", default=None, help="folder of pretrained backbone weights")
    parser.add_argument("--size", type=int, default=48, help="image height = width (pixels)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--frozen-epochs", type=int, default=2)
    parser.add_argument("--speaker-folds", type=int, default=1, help="how many of 5 folds to run")
    parser.add_argument("--protocols", nargs="+", default=["random", "speaker"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results")
    args = parser.parse_args()
    torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1"))))
    warnings.filterwarnings("ignore", category=UserWarning, module="skser")
    paths = dict(p.split("=", 1) for p in args.path)

    files, y, groups = load_corpora(args.corpus, paths)
    classes = np.unique(y)
    print(f"{len(files)} utterances, {len(classes)} classes, {len(np.unique(groups))} speakers")

    t0 = time.process_time()
    cache = Path(args.out) / f"features_{'_'.join(args.corpus)}_{args.size}.npz"
    if cache.exists():  # same corpora and image size: the stateless features of a previous run
        saved = np.load(cache, allow_pickle=True)
        assert (saved["files"] == files).all(), "cached features are for other files"
        images, mfcc = saved["images"], saved["mfcc"]
    else:
        logmel = LogMel(n_mels=128, sr=16000).fit_transform(files)
        images = SpectrogramImage(size=(args.size, args.size), channels="repeat",
                                  normalize="imagenet").fit_transform(logmel)
        mfcc = Functionals().fit_transform(MFCC(deltas=2, sr=16000).fit_transform(files))
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, files=files, images=images, mfcc=mfcc)
    feature_cpu = time.process_time() - t0
    print(f"features: images {images.shape}, MFCC functionals {mfcc.shape}, {feature_cpu:.0f} CPU s")

    rows = []
    if not args.weights:
        print("cnn-pretrained: skipped (no --weights folder; the hub is not reachable here)")
    for protocol in args.protocols:
        for fold, (tr, te) in enumerate(splits(protocol, y, groups, args.speaker_folds, args.seed)):
            for name, model in make_models(args).items():
                X = mfcc if name == "svm" else images
                t = time.process_time()
                model.fit(X[tr], y[tr])
                proba = model.predict_proba(X[te])
                cpu = time.process_time() - t
                model_classes = model.classes_ if hasattr(model, "classes_") else model[-1].classes_
                row = {"protocol": protocol, "fold": fold, "model": name, "n_train": len(tr),
                       "n_test": len(te), **scores(y[te], proba, model_classes), "cpu_s": cpu}
                if protocol == "speaker":
                    row["test_speakers"] = sorted(set(groups[te]))
                rows.append(row)
                print(json.dumps(row), flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "command": "python benchmarks/spectrogram_transfer.py " + " ".join(sys.argv[1:]),
        "args": vars(args),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
        "platform": platform.platform(), "processor": platform.processor(),
        "torch_threads": torch.get_num_threads(), "feature_cpu_s": feature_cpu,
        "total_cpu_s": time.process_time(),
    }
    (out / "spectrogram_transfer.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print("\n| protocol | model | folds | accuracy | balanced acc. | ROC AUC | CPU s |")
    print("|---|---|---|---|---|---|---|")
    for protocol in args.protocols:
        for name in dict.fromkeys(r["model"] for r in rows):
            sel = [r for r in rows if r["protocol"] == protocol and r["model"] == name]
            if not sel:
                continue
            mean = {k: np.mean([r[k] for r in sel]) for k in ("accuracy", "balanced_accuracy",
                                                             "roc_auc", "cpu_s")}
            print(f"| {protocol} | {name} | {len(sel)} | {mean['accuracy']:.3f} | "
                  f"{mean['balanced_accuracy']:.3f} | {mean['roc_auc']:.3f} | {mean['cpu_s']:.0f} |")
    print(f"\ntotal CPU {meta['total_cpu_s']:.0f} s; {meta['date']}")


if __name__ == "__main__":
    main()
