"""Agreement of skser's Prosody with Praat (praat-parselmouth) on real speech.

Protocol
--------
* Corpora (``$SKSER_DATA`` or ``--data``): EMO-DB 4-class (339 files, 16 kHz),
  RAVDESS speech (1440 files, 16 kHz; ``--ravdess-step K`` keeps every K-th
  file of the sorted list) and the EMO-DB 2 s copy (535 files, 22.05 kHz).
* Every file is decoded and resampled to 16 kHz by skser
  (:func:`skser.load_audio`), and **the same float waveform** is given to both
  tools, so the comparison is of the algorithms, not of the decoders.
* skser: ``Prosody()`` with its defaults (``f0_method="ac"``, 75-600 Hz,
  10 ms hop).
* Praat (parselmouth, Praat's defaults of the usual voice report):
  - mean F0: ``To Pitch (ac)`` (time step 0 = auto, floor 75, ceiling 600),
    ``Get mean``, Hertz;
  - jitter (local): ``To PointProcess (periodic, cc)`` 75-600, ``Get jitter
    (local)`` 0, 0, 0.0001, 0.02, 1.3;
  - shimmer (local): ``Get shimmer (local)`` 0, 0, 0.0001, 0.02, 1.3, 1.6 on the
    sound and that point process;
  - HNR: ``To Harmonicity (cc)`` (0.01, 75, 0.1, 1.0), ``Get mean``.
* Measures per corpus: the share of utterances whose mean F0 is within 5 % of
  Praat's (target >= 90 %), the median relative F0 difference, and Spearman's
  rank correlation across utterances of jitter, shimmer and HNR (target
  >= 0.8 each). Utterances where Praat's value is undefined (no voiced frame,
  too few periods) are left out of that measure and counted.

Run: ``SKSER_DATA=/path/to/data python benchmarks/prosody_vs_praat.py --ravdess-step 4``
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from scipy.stats import spearmanr

from skser import load_audio
from skser.features import Prosody
from skser.features._prosody import FUNCTIONALS

SR = 16000
CORPORA = {
    "EMO-DB 4-class": ("emodb-4class", "wav/*.wav"),
    "RAVDESS": ("ravdess", "Actor_*/*.flac"),
    "EMO-DB (2 s copy)": ("emodb-2s", "wav/*.flac"),
}
MEASURES = ("f0_mean_hz", "jitter_local", "shimmer_local", "hnr_db")


def praat_measures(y: np.ndarray) -> tuple[float, float, float, float]:
    """Praat's mean F0 (Hz), local jitter, local shimmer and mean HNR (dB); NaN if undefined."""
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(y.astype(np.float64), sampling_frequency=SR)
    f0 = call(sound.to_pitch(), "Get mean", 0, 0, "Hertz")
    pulses = call(sound, "To PointProcess (periodic, cc)", 75, 600)
    jitter = call(pulses, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
    shimmer = call([sound, pulses], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
    hnr = call(sound.to_harmonicity_cc(), "Get mean", 0, 0)
    return tuple(float(v) for v in (f0, jitter, shimmer, hnr))


def one_file(path: str) -> tuple[np.ndarray, np.ndarray]:
    y = load_audio(path, sr=SR)
    row = Prosody().fit_transform([y])[0].astype(float)
    ours = np.array([row[FUNCTIONALS.index(m)] for m in MEASURES])
    return ours, np.array(praat_measures(y))


def agreement(ours: np.ndarray, praat: np.ndarray) -> dict[str, str]:
    out: dict[str, str] = {}
    defined = np.isfinite(praat[:, 0]) & (praat[:, 0] > 0)
    rel = np.abs(ours[defined, 0] / praat[defined, 0] - 1)
    out["F0 within 5 %"] = f"{(rel <= 0.05).mean():.1%} ({defined.sum()})"
    out["median relative F0 difference"] = f"{np.median(rel):.2%}"
    for col, name in enumerate(("jitter", "shimmer", "HNR"), start=1):
        ok = np.isfinite(praat[:, col])
        rho = spearmanr(ours[ok, col], praat[ok, col]).statistic
        out[f"ρ {name}"] = f"{rho:.3f} ({ok.sum()})"
        out[f"median {name} skser / Praat"] = (
            f"{np.median(ours[ok, col]):.3g} / {np.median(praat[ok, col]):.3g}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKSER_DATA"),
                        help="folder of the real corpora (default $SKSER_DATA)")
    parser.add_argument("--ravdess-step", type=int, default=1,
                        help="keep every K-th RAVDESS file (1 = all 1440)")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--csv", help="also write the per-file values to this CSV")
    args = parser.parse_args(argv)
    if not args.data:
        raise SystemExit("Give --data or set SKSER_DATA to the folder of real corpora.")
    root = Path(args.data)

    print(f"# prosody_vs_praat.py, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    import parselmouth

    print(f"# {platform.machine()}, {os.cpu_count()} logical CPUs, Python "
          f"{platform.python_version()}, praat-parselmouth {parselmouth.__version__} "
          f"(Praat {parselmouth.PRAAT_VERSION})")
    print(f"# command: python {' '.join(sys.argv)}")
    rows, per_file = [], []
    for corpus, (folder, pattern) in CORPORA.items():
        files = sorted(str(p) for p in (root / folder).glob(pattern))
        if corpus == "RAVDESS":
            files = files[:: args.ravdess_step]
        if not files:
            print(f"# {corpus}: no files under {root / folder}, skipped")
            continue
        results = Parallel(n_jobs=args.n_jobs)(delayed(one_file)(f) for f in files)
        ours = np.array([r[0] for r in results])
        praat = np.array([r[1] for r in results])
        rows.append((f"{corpus} ({len(files)})", agreement(ours, praat)))
        per_file += [(corpus, Path(f).name, *o, *p) for f, o, p in zip(files, ours, praat)]
        print(f"# {corpus}: done", flush=True)
    header = list(rows[0][1])
    print()
    print("| corpus (files) | " + " | ".join(header) + " |")
    print("|---" * (len(header) + 1) + "|")
    for name, values in rows:
        print(f"| {name} | " + " | ".join(values[h] for h in header) + " |")
    if args.csv:
        import csv

        with open(args.csv, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["corpus", "file", *[f"skser_{m}" for m in MEASURES],
                             *[f"praat_{m}" for m in MEASURES]])
            writer.writerows(per_file)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
