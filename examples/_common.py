"""Shared helpers of the example scripts: where the data is, and quick mode."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np


def parse_args(description: str) -> argparse.Namespace:
    """``--quick`` (or ``SKSER_QUICK=1``) and ``--out`` (folder for the PNG)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: a subset of files, the smallest budget")
    parser.add_argument("--out", default=".", help="folder to write the figure to")
    args = parser.parse_args()
    args.quick = args.quick or os.environ.get("SKSER_QUICK", "") not in ("", "0")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    return args


def corpus_dir(name: str) -> Path:
    """``$SKSER_DATA/<name>``, or exit with status 0 and a message when it is absent."""
    home = os.environ.get("SKSER_DATA")
    if not home or not (Path(home) / name).is_dir():
        print(f"skipped: needs the corpus folder $SKSER_DATA/{name} "
              f"(SKSER_DATA={home!r}); see docs/datasets.md")
        sys.exit(0)
    return Path(home) / name


def subset(bunch, n_speakers: int, per_speaker: int, seed: int = 0):
    """Rows of ``n_speakers`` speakers, at most ``per_speaker`` each: (data, target, groups)."""
    rng = np.random.default_rng(seed)
    keep = []
    for speaker in np.unique(bunch.groups)[:n_speakers]:
        rows = np.flatnonzero(bunch.groups == speaker)
        keep.extend(rng.permutation(rows)[:per_speaker])
    keep = np.sort(np.asarray(keep))
    return bunch.data[keep], bunch.target[keep], bunch.groups[keep]
