"""CPU time of the batched torch MFCC front end vs the numpy MFCC transformer.

Protocol
--------
* Input: batches of 32 clips of 3 s, already decoded (generated speech-like
  signals by default: a 1.3 Hz-modulated 180 Hz tone plus noise; ``--data``
  uses the first 32 files of the EMO-DB 4-class copy, centre-cropped/padded to
  3 s, resampled to each preset's rate). Decoding is not timed.
* Presets: ``MFCC.light_sernet(duration=3.0)`` (16 kHz) and
  ``MFCC.timnet(duration=3.0)`` (22.05 kHz).
* A = ``mfcc.transform(list_of_arrays)`` (numpy path, ``n_jobs=None``);
  B = ``MFCCModule.from_transformer(mfcc).transform(array)`` (torch, CPU),
  C = ``module(tensor)`` (torch forward only, no numpy conversion).
* One thread (``torch.set_num_threads(1)``; run with ``OMP_NUM_THREADS=1
  MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE``). ``--rounds`` interleaved
  A/B/C rounds after one warm-up; medians of ``time.process_time`` (CPU time
  of this process, robust to other jobs) and of wall time; ratio = A / B.
* Parity: largest absolute difference between A and B on the batch.

``--onnx`` (needs ``--data``, ``onnx`` and ``onnxruntime``) adds the exported
graph: ``make_pipeline(MFCC.light_sernet(duration=3.0), LightSERNet())`` and
``make_pipeline(MFCC.timnet(duration=3.0), TIMNet())`` trained for 1 epoch on
the 32 clips (their accuracy is irrelevant here), written with
:func:`skser.export.to_onnx`, run with onnxruntime (CPU provider, one intra-
and inter-op thread). Reported: the largest absolute difference of the class
probabilities, graph vs ``pipeline.predict_proba``, on the 32 real clips, and
the median wall latency of batch 1 and batch 32 (``--rounds`` interleaved
rounds), pipeline (numpy MFCC + torch) vs graph.

Run: ``OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
PYTHONPATH=. python benchmarks/bench_frontend.py --rounds 15 --data $SKSER_DATA --onnx``
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from skser import load_audio
from skser.features import MFCC, MFCCModule


def generated_batch(sr: int, n: int = 32, seconds: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    rows = [(0.5 + 0.5 * np.sin(2 * np.pi * 1.3 * t + k))
            * (0.3 * np.sin(2 * np.pi * (120 + 5 * k) * t) + 0.05 * rng.standard_normal(t.size))
            for k in range(n)]
    return np.asarray(rows, dtype=np.float32)


def real_batch(data: Path, sr: int, n: int = 32, seconds: float = 3.0) -> np.ndarray:
    from skser.features._base import centre_fit

    files = sorted((data / "emodb-4class").rglob("*.wav"))[:n]
    return np.stack([centre_fit(load_audio(str(f), sr=sr), int(seconds * sr)) for f in files])


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--data", type=Path, default=None,
                        help="folder holding emodb-4class/ (e.g. $SKSER_DATA)")
    parser.add_argument("--onnx", action="store_true", help="also benchmark to_onnx graphs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}, 1 thread; "
          f"input: {'EMO-DB 4-class' if args.data else 'generated'} 32 x 3 s")
    print("| preset | numpy CPU ms | torch CPU ms | torch fwd CPU ms | ratio numpy/torch "
          "(CPU) | ratio (wall) | max abs diff |")
    print("|---|---|---|---|---|---|---|")
    for name, mfcc in [("light_sernet", MFCC.light_sernet(duration=3.0)),
                       ("timnet", MFCC.timnet(duration=3.0))]:
        X = real_batch(args.data, mfcc.sr) if args.data else generated_batch(mfcc.sr)
        rows = list(X)
        module = MFCCModule.from_transformer(mfcc)
        tensor = torch.from_numpy(X)
        mfcc.fit(rows)

        def forward():
            with torch.no_grad():
                module(tensor)

        runs = {"a": lambda: mfcc.transform(rows), "b": lambda: module.transform(X),
                "c": forward}
        for fn in runs.values():
            fn()  # warm-up
        times: dict[str, list] = {k: [] for k in runs}
        for _ in range(args.rounds):
            for key, fn in runs.items():
                times[key].append(timed(fn))
        med = {k: np.median(np.asarray(v), axis=0) * 1e3 for k, v in times.items()}
        diff = float(np.abs(mfcc.transform(rows) - module.transform(X)).max())
        print(f"| {name} | {med['a'][0]:.1f} | {med['b'][0]:.1f} | {med['c'][0]:.1f} | "
              f"{med['a'][0] / med['b'][0]:.2f} | {med['a'][1] / med['b'][1]:.2f} | {diff:.1e} |")

    if args.onnx:
        bench_onnx(args)


def bench_onnx(args) -> None:
    import tempfile

    import onnxruntime as ort
    from sklearn.pipeline import make_pipeline

    from skser.export import to_onnx
    from skser.models import LightSERNet, TIMNet

    print()
    print("| pipeline | max abs diff (proba) | batch 1 pipeline ms | batch 1 ONNX ms | "
          "batch 32 pipeline ms | batch 32 ONNX ms |")
    print("|---|---|---|---|---|---|")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    for name, mfcc, clf in [
        ("MFCC.light_sernet + LightSERNet", MFCC.light_sernet(duration=3.0),
         LightSERNet(max_epochs=1, batch_size=32, random_state=0)),
        ("MFCC.timnet + TIMNet", MFCC.timnet(duration=3.0),
         TIMNet(max_epochs=1, batch_size=32, random_state=0)),
    ]:
        X = real_batch(args.data, mfcc.sr)
        y = np.array(["a", "b", "c", "d"] * (len(X) // 4))
        pipe = make_pipeline(mfcc, clf).fit(list(X), y)
        with tempfile.TemporaryDirectory() as tmp:
            path = to_onnx(pipe, Path(tmp) / "model.onnx")
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        diff = float(np.abs(session.run(None, {"waveform": X})[0]
                            - pipe.predict_proba(list(X))).max())
        runs = {
            "p1": lambda: pipe.predict_proba(list(X[:1])),
            "o1": lambda: session.run(None, {"waveform": X[:1]}),
            "p32": lambda: pipe.predict_proba(list(X)),
            "o32": lambda: session.run(None, {"waveform": X}),
        }
        for fn in runs.values():
            fn()
        times: dict[str, list] = {k: [] for k in runs}
        for _ in range(args.rounds):
            for key, fn in runs.items():
                times[key].append(timed(fn)[1])
        med = {k: np.median(v) * 1e3 for k, v in times.items()}
        print(f"| {name} | {diff:.1e} | {med['p1']:.1f} | {med['o1']:.1f} | "
              f"{med['p32']:.1f} | {med['o32']:.1f} |")


if __name__ == "__main__":
    main()
