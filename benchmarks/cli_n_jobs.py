"""Which ``-j`` default the ``skser`` command line uses: 1 job against all cores.

Times the feature extraction of :func:`skser.make_default_classifier` (the
part of ``skser train/evaluate/demo`` that ``-j`` parallelises; the linear
classifier trains in well under a second) on the first ``--n-files`` RAVDESS
speech files, with ``n_jobs=1`` and ``n_jobs=-1`` in interleaved rounds, and
prints each round and the median per setting.

Usage::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE SKSER_DATA=../shared/data \
        python benchmarks/cli_n_jobs.py --n-files 200 --rounds 3
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import skser
from skser.datasets import load_ravdess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("SKSER_DATA", "../shared/data")) / "ravdess")
    parser.add_argument("--n-files", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, -1])
    args = parser.parse_args()
    files = list(load_ravdess(args.data).data[: args.n_files])
    print(f"skser {skser.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{len(files)} RAVDESS files, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")
    times: dict[int, list[float]] = {j: [] for j in args.jobs}
    for r in range(args.rounds):
        order = args.jobs if r % 2 == 0 else args.jobs[::-1]
        for n_jobs in order:
            features = skser.make_default_classifier(n_jobs=n_jobs)[:1]
            t0 = time.perf_counter()
            features.fit_transform(files)
            times[n_jobs].append(time.perf_counter() - t0)
            print(f"round {r + 1}: n_jobs={n_jobs:>2}: {times[n_jobs][-1]:.1f} s", flush=True)
    base = statistics.median(times[args.jobs[0]])
    for n_jobs, ts in times.items():
        med = statistics.median(ts)
        print(f"n_jobs={n_jobs:>2}: median {med:.1f} s over {len(ts)} rounds "
              f"({med / base:.2f}x n_jobs={args.jobs[0]})")


if __name__ == "__main__":
    main()
