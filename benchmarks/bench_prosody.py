"""Throughput of skser's Prosody (and SERNetFeatures) on real speech, one thread.

Protocol
--------
* Corpora (``$SKSER_DATA`` or ``--data``): EMO-DB 4-class (16 kHz WAV) and
  RAVDESS speech (16 kHz FLAC); ``--limit N`` files per corpus spread evenly
  over the sorted file list.
* Extractors at sr = 16 000 Hz, ``n_jobs=1``, BLAS and OpenMP on one thread:
  ``Prosody()`` (functionals, default ``f0_method="ac"``), ``Prosody("frames")``,
  ``SERNetFeatures()`` and, on ``--pyin-limit`` files only (it is slow),
  ``Prosody(f0_method="pyin")``.
* Two modes: **incl. decode** (input = paths: soundfile decoding and, where
  needed, soxr resampling are timed) and **excl. decode** (files decoded
  once beforehand).
* Real-time factor (RTF) = seconds of audio / seconds of compute, with CPU
  time of the process (``time.process_time``, robust to other jobs sharing
  the machine) and wall time (``time.perf_counter``). Each cell is the best
  of ``--repeat`` runs, extractors alternating.

Run: ``SKSER_DATA=/path/to/data python benchmarks/bench_prosody.py --limit 100``
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skser import LoadAudio
from skser.features import Prosody, SERNetFeatures

SR = 16000
CORPORA = {
    "emodb-4class": ("emodb-4class", "wav/*.wav"),
    "ravdess": ("ravdess", "Actor_*/*.flac"),
}
EXTRACTORS = {
    "Prosody()": lambda: Prosody(),
    "Prosody('frames')": lambda: Prosody("frames"),
    "SERNetFeatures()": lambda: SERNetFeatures(),
}


def pick_files(root: Path, corpus: str, limit: int) -> list[str]:
    folder, pattern = CORPORA[corpus]
    files = sorted(str(p) for p in (root / folder).glob(pattern))
    if not files:
        raise SystemExit(f"No {pattern} files under {root / folder}.")
    step = max(1, len(files) // limit)
    return files[::step][:limit]


def timed(fn) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``fn()``."""
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKSER_DATA"),
                        help="folder holding emodb-4class/ and ravdess/ (default $SKSER_DATA)")
    parser.add_argument("--limit", type=int, default=100, help="files per corpus")
    parser.add_argument("--pyin-limit", type=int, default=10,
                        help="files per corpus for the (slow) pyin row; 0 skips it")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (best kept)")
    args = parser.parse_args(argv)
    if not args.data:
        raise SystemExit("Give --data or set SKSER_DATA to the folder of real corpora.")
    root = Path(args.data)

    print(f"# bench_prosody.py, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"# {platform.machine()}, {os.cpu_count()} logical CPUs, Python "
          f"{platform.python_version()}, numpy {np.__version__}; one thread (n_jobs=1)")
    print(f"# command: python {' '.join(sys.argv)}")
    print()
    print("| corpus (files) | extractor | decode | audio s | CPU s | RTF (CPU) | wall s | RTF (wall) |")
    print("|---|---|---|---|---|---|---|---|")
    with threadpool_limits(1):
        for corpus in CORPORA:
            files = pick_files(root, corpus, args.limit)
            waves = list(LoadAudio(sr=SR).fit_transform(files))
            seconds = sum(w.shape[0] for w in waves) / SR
            extractors = dict(EXTRACTORS)
            for name, make in extractors.items():
                make().fit_transform(waves[:2])  # warm caches (windows, filterbanks)
            best: dict[tuple[str, str], tuple[float, float]] = {}
            for _ in range(args.repeat):
                for name, make in extractors.items():
                    for mode, items in (("incl.", files), ("excl.", waves)):
                        cpu, wall = timed(lambda: make().fit_transform(items))
                        old = best.get((name, mode), (np.inf, np.inf))
                        best[(name, mode)] = (min(old[0], cpu), min(old[1], wall))
            for (name, mode), (cpu, wall) in best.items():
                print(f"| {corpus} ({len(files)}) | {name} | {mode} | {seconds:.0f} | "
                      f"{cpu:.2f} | {seconds / cpu:.0f}x | {wall:.2f} | {seconds / wall:.0f}x |")
            if args.pyin_limit:
                few = waves[: args.pyin_limit]
                few_s = sum(w.shape[0] for w in few) / SR
                cpu, wall = timed(lambda: Prosody(f0_method="pyin").fit_transform(few))
                print(f"| {corpus} ({len(few)}) | Prosody(f0_method='pyin') | excl. | "
                      f"{few_s:.0f} | {cpu:.2f} | {few_s / cpu:.1f}x | {wall:.2f} | "
                      f"{few_s / wall:.1f}x |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
