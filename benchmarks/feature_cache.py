"""Cold vs warm feature extraction with skser's on-disk feature cache, and its memory.

On the RAVDESS speech files (``$SKSER_DATA/ravdess/Actor_*/*.flac``, 1440
files, 16 kHz FLAC), each measurement runs in a fresh Python process with one
worker (``n_jobs=1``) and records the wall time of the call and the growth of
the process's peak resident set size during it (``ru_maxrss`` after minus
before; imports and a warm-up on one file come before). Modes:

``transform``
    ``MFCC(deltas=2).fit_transform(paths)``, no cache: every row in memory.
``cold``
    ``extract_to_disk(MFCC(deltas=2), paths, folder)`` into an empty folder.
``warm``
    The same call again: every file is hashed and its entry read back and
    checked, nothing is computed.
``warm-transform``
    ``MFCC(deltas=2, memory=folder).fit_transform(paths)`` on the filled
    folder: the whole array, from the cache.

Rounds are interleaved (all modes, then all modes again) and the median of
each mode is printed. Byte-identical files share one entry: this RAVDESS copy
has one such pair (``Actor_07/03-01-03-01-02-01-07.flac`` and
``...-02-02-07.flac``), so a cold run over all 1440 files computes 1439.

Usage::

    SKSER_DATA=../shared/data python benchmarks/feature_cache.py [--rounds 3] [--files 360 1440]
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

MODES = ("transform", "cold", "warm", "warm-transform")

_CHILD = r"""
import json, resource, sys, time
from skser import MFCC
from skser.features import extract_to_disk
mode, folder, listing = sys.argv[1], sys.argv[2], sys.argv[3]
paths = open(listing).read().split("\n")
MFCC(deltas=2).fit_transform(paths[:1])  # warm-up: imports, filterbank
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if mode == "transform":
    X = MFCC(deltas=2).fit_transform(paths); computed = len(paths)
elif mode == "warm-transform":
    X = MFCC(deltas=2, memory=folder).fit_transform(paths); computed = 0
else:
    computed = extract_to_disk(MFCC(deltas=2), paths, folder).n_computed
elapsed = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "extra_mib": (after - before) / 1024,
                  "computed": computed}))
"""


def _run(mode: str, folder: str, listing: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, folder, listing],
        check=True, capture_output=True, text=True, env=env,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, nargs="+", default=[360, 1440])
    args = parser.parse_args()
    root = Path(os.environ.get("SKSER_DATA", "")) / "ravdess"
    paths = sorted(str(p) for p in root.glob("Actor_*/*.flac"))
    if len(paths) != 1440:
        sys.exit(f"expected 1440 RAVDESS files under {root} (set SKSER_DATA), found {len(paths)}")
    for n_files in args.files:
        results: dict[str, list[dict]] = {mode: [] for mode in MODES}
        distinct = len({hashlib.blake2b(Path(p).read_bytes()).digest() for p in paths[:n_files]})
        with tempfile.TemporaryDirectory() as tmp:
            listing = os.path.join(tmp, "paths.txt")
            Path(listing).write_text("\n".join(paths[:n_files]))
            for round_ in range(args.rounds):
                folder = os.path.join(tmp, f"cache{round_}")
                for mode in MODES:
                    r = _run(mode, folder, listing)
                    expected = {"transform": n_files, "cold": distinct}.get(mode, 0)
                    assert r["computed"] == expected, (mode, r)
                    results[mode].append(r)
        cold = statistics.median(r["seconds"] for r in results["cold"])
        for mode in MODES:
            seconds = statistics.median(r["seconds"] for r in results[mode])
            mib = statistics.median(r["extra_mib"] for r in results[mode])
            print(f"{n_files:5d} files ({distinct} distinct)  {mode:15s} {seconds:7.2f} s  ({cold / seconds:5.1f}x "
                  f"faster than cold)  extra peak RSS {mib:7.1f} MiB")


if __name__ == "__main__":
    main()
