"""Light-SERNet after a short training run, with and without warm-started batch-norm statistics.

skser's batch norms move their running statistics by ``max(momentum, 1/t)`` at
update ``t`` (``skser.models._masking``). This script trains
``LightSERNet(max_epochs=E)`` twice on the same split, once as shipped and once
with the Keras rule (weight ``momentum`` = 0.01 from the first update), and
prints eval-mode test and training UAR for both.

Data: the EMO-DB 2 s copy (``$SKSER_DATA/emodb-2s``), ``MFCC.light_sernet(3.0)``.
Splits: ``random`` (one 80/20 random split, seed 0, speaker-dependent) or
``speaker`` (test = speaker 03, speaker-independent).

Usage::

    SKSER_DATA=../shared/data OMP_NUM_THREADS=1 python benchmarks/bn_warm_start.py --epochs 10 --split random
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score

from skser.datasets import load_emodb
from skser.features import MFCC
from skser.models import LightSERNet, _masking


def _keras_rule(self) -> float:
    """The Keras/PyTorch rule: a fixed weight from the first update on."""
    return 1.0 / float(self.num_batches_tracked) if self.momentum is None else float(self.momentum)


def run(X, y, test, epochs: int, warm: bool) -> dict:
    shipped = _masking._MaskedBatchNormMixin._update_factor
    if not warm:
        _masking._MaskedBatchNormMixin._update_factor = _keras_rule
    try:
        clf = LightSERNet(max_epochs=epochs, random_state=0, device="cpu", verbose=0, n_threads=1)
        start = time.perf_counter()
        clf.fit(X[~test], y[~test])
        fit_s = time.perf_counter() - start
    finally:
        _masking._MaskedBatchNormMixin._update_factor = shipped
    return {
        "warm_start": warm,
        "test_uar": balanced_accuracy_score(y[test], clf.predict(X[test])),
        "train_uar": balanced_accuracy_score(y[~test], clf.predict(X[~test])),
        "fit_s": fit_s,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=os.environ.get("SKSER_DATA"))
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--split", choices=["random", "speaker"], default="random")
    args = p.parse_args()
    if not args.data or not (Path(args.data) / "emodb-2s").is_dir():
        raise SystemExit("EMO-DB (2 s copy) not found: set SKSER_DATA or pass --data.")
    torch.set_num_threads(1)
    bunch = load_emodb(Path(args.data) / "emodb-2s")
    X = MFCC.light_sernet(duration=3.0).fit_transform(bunch.data)
    y, groups = np.asarray(bunch.target), np.asarray(bunch.groups)
    if args.split == "speaker":
        test = groups == "03"
    else:
        test = np.random.default_rng(0).random(len(y)) < 0.2
    print(f"LightSERNet, EMO-DB 2 s copy, 3 s MFCC preset, {args.epochs} epochs, split={args.split} "
          f"({int(test.sum())} test / {int((~test).sum())} training files), one thread")
    print("| running statistics | test UAR | training UAR (eval mode) | fit s |")
    print("|---|---|---|---|")
    for warm in (False, True):
        r = run(X, y, test, args.epochs, warm)
        name = "warm-started (skser)" if warm else "fixed momentum 0.01 (Keras)"
        print(f"| {name} | {r['test_uar']:.3f} | {r['train_uar']:.3f} | {r['fit_s']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
