"""CPU time of the batched torch MFCC front end vs the numpy MFCC transformer.

Protocol
--------
* Input: batches of 1, 32 and 64 clips of 3 s (``--batches``), already decoded
  (generated speech-like signals by default: a 1.3 Hz-modulated tone plus
  noise; ``--data`` uses the first 64 files of the EMO-DB 4-class copy,
  centre-cropped/padded to 3 s, resampled to each preset's rate). Decoding is
  not timed.
* Presets: ``MFCC.light_sernet(duration=3.0)`` (16 kHz) and
  ``MFCC.timnet(duration=3.0)`` (22.05 kHz).
* Runs, interleaved in every round (one warm-up call each first):
  - numpy = ``mfcc.transform(list_of_arrays)`` (the numpy path, ``n_jobs=None``);
  - numpy 2 jobs = the same with ``n_jobs=2`` (joblib processes; only with
    ``--threads 2``, the honest use of two cores by the numpy path);
  - torch = ``MFCCModule.from_transformer(mfcc).transform(array)`` (numpy in,
    numpy out, CPU);
  - torch fwd = ``module(tensor)`` under ``torch.no_grad()`` (no conversion);
  - librosa = ``librosa.feature.mfcc`` per clip: TIM-Net's front end exactly
    (its original code calls it); for Light-SERNet the same sizes with
    librosa's HTK mel (TensorFlow's mel matrix is not in librosa), so the same
    cost but not the same numbers. One BLAS thread, as in skser's numpy path.
* ``--threads N``: ``torch.set_num_threads(N)``; run with ``OMP_NUM_THREADS=N
  MKL_NUM_THREADS=N OMP_WAIT_POLICY=PASSIVE``. The numpy path is
  single-threaded (``n_jobs=None``) whatever N.
* Medians over ``--rounds`` rounds of ``time.process_time`` (CPU time of this
  process, all threads; robust to other jobs) and of wall time. Speed-up =
  numpy time / torch time (> 1: torch faster). Real-time factor ("x real
  time") = seconds of audio / wall seconds.
* Parity: largest absolute difference between numpy and torch on the batch.
* ``--stages``: where the time goes at batch 32: the FFT alone in each path
  (numpy path: ``scipy.fft.rfft`` of the windowed strided frames, per clip, as
  ``stft_magnitude`` computes it; torch: the window product and
  ``torch.fft.rfft`` of the frames of the module's chunks, as the module
  computes them) against the whole path. numpy total / torch FFT is the
  speed-up torch would reach if everything but its FFT were free. Then the
  torch path's operators by self CPU time (``torch.profiler`` over
  ``--rounds`` forward calls, ms per call and share of the profiled total;
  the profiler adds a few microseconds per operator).

``--previous FILE`` adds the forward CPU time of an older version of the
module (e.g. ``git show <commit>:skser/features/_torch_frontend.py >
/tmp/previous.py``), interleaved with this one, batch 32.

``--chunk-rows N ...`` adds the forward CPU time at batch 32 with
``module.cpu_rows_per_chunk`` set to each N (rows analysed at once on the CPU;
"default" is the module's own choice), interleaved.

``--onnx`` (needs ``--data``, ``onnx`` and ``onnxruntime``) adds the exported
graph: ``make_pipeline(MFCC.light_sernet(duration=3.0), LightSERNet())`` and
``make_pipeline(MFCC.timnet(duration=3.0), TIMNet())`` trained for 1 epoch on
32 clips (their accuracy is irrelevant here), written with
:func:`skser.export.to_onnx`, run with onnxruntime (CPU provider, one intra-
and inter-op thread). Reported: the largest absolute difference of the class
probabilities, graph vs ``pipeline.predict_proba``, on the 32 real clips, and
the median wall latency of batch 1 and batch 32 (``--rounds`` interleaved
rounds), pipeline (numpy MFCC + torch) vs graph.

Run (one thread, then two)::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. \
        python benchmarks/bench_frontend.py --rounds 15 --data $SKSER_DATA --stages
    OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. \
        python benchmarks/bench_frontend.py --rounds 15 --data $SKSER_DATA --threads 2
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import librosa
import numpy as np
import scipy.fft
import torch
from threadpoolctl import threadpool_limits

from skser import load_audio
from skser.features import MFCC, MFCCModule
from skser.features._spectral import _stft_window

SECONDS = 3.0


def generated_batch(sr: int, n: int = 64, seconds: float = SECONDS) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    rows = [(0.5 + 0.5 * np.sin(2 * np.pi * 1.3 * t + k))
            * (0.3 * np.sin(2 * np.pi * (120 + 5 * k) * t) + 0.05 * rng.standard_normal(t.size))
            for k in range(n)]
    return np.asarray(rows, dtype=np.float32)


def real_batch(data: Path, sr: int, n: int = 64, seconds: float = SECONDS) -> np.ndarray:
    from skser.features._base import centre_fit

    files = sorted((data / "emodb-4class").rglob("*.wav"))[:n]
    return np.stack([centre_fit(load_audio(str(f), sr=sr), int(seconds * sr)) for f in files])


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def interleaved(runs: dict, rounds: int) -> dict[str, np.ndarray]:
    """Median (CPU s, wall s) of each run over ``rounds`` interleaved rounds."""
    for fn in runs.values():
        fn()  # warm-up
    times: dict[str, list] = {k: [] for k in runs}
    for _ in range(rounds):
        for key, fn in runs.items():
            times[key].append(timed(fn))
    return {k: np.median(np.asarray(v), axis=0) for k, v in times.items()}


def librosa_mfcc(mfcc: MFCC):
    """``librosa.feature.mfcc`` with the preset's sizes, clip by clip."""
    kwargs = dict(sr=mfcc.sr, n_mfcc=mfcc.n_mfcc, n_fft=mfcc.n_fft, hop_length=mfcc.hop_length,
                  center=mfcc.center, power=mfcc.power, n_mels=mfcc.n_mels, fmin=mfcc.fmin,
                  fmax=mfcc.fmax, htk=mfcc.mel_scale != "slaney")
    if mfcc.mel_scale == "tf":
        kwargs["norm"] = None

    def run(rows: list[np.ndarray]) -> list[np.ndarray]:
        with threadpool_limits(1, "blas"):  # as skser's numpy path; 2 BLAS threads cost more
            return [librosa.feature.mfcc(y=y, **kwargs) for y in rows]

    return run


PRESETS = {
    "light_sernet": lambda: MFCC.light_sernet(duration=SECONDS),
    "timnet": lambda: MFCC.timnet(duration=SECONDS),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32, 64])
    parser.add_argument("--data", type=Path, default=None,
                        help="folder holding emodb-4class/ (e.g. $SKSER_DATA)")
    parser.add_argument("--stages", action="store_true", help="also time the FFTs alone")
    parser.add_argument("--previous", type=Path, default=None,
                        help="an older skser/features/_torch_frontend.py to compare with")
    parser.add_argument("--chunk-rows", type=int, nargs="+", default=None,
                        help="also time the forward with these rows per CPU chunk")
    parser.add_argument("--onnx", action="store_true", help="also benchmark to_onnx graphs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} thread(s); "
          f"input: {'EMO-DB 4-class' if args.data else 'generated'} clips of {SECONDS:g} s; "
          f"medians of {args.rounds} interleaved rounds; load average "
          f"{os.getloadavg()[0]:.1f}")
    two = args.threads > 1
    print("| preset | batch | numpy CPU ms | " + ("numpy 2 jobs wall ms | " if two else "")
          + "torch CPU ms | torch fwd CPU ms | librosa CPU ms | speed-up CPU | speed-up wall"
          + (" | speed-up vs 2 jobs (wall)" if two else "")
          + " | numpy x real time | torch x real time | max abs diff |")
    print("|---" * (11 + 2 * two) + "|")
    for name, make in PRESETS.items():
        mfcc = make()
        full = real_batch(args.data, mfcc.sr) if args.data else generated_batch(mfcc.sr)
        module = MFCCModule.from_transformer(mfcc)
        reference = librosa_mfcc(mfcc)
        for batch in args.batches:
            X = np.ascontiguousarray(full[:batch])
            rows, tensor = list(X), torch.from_numpy(X)
            mfcc.fit(rows)
            jobs2 = make().set_params(n_jobs=2).fit(rows)

            def forward():
                with torch.no_grad():
                    module(tensor)

            runs = {"numpy": lambda: mfcc.transform(rows), "torch": lambda: module.transform(X),
                    "fwd": forward, "librosa": lambda: reference(rows)}
            if two:
                runs["jobs2"] = lambda: jobs2.transform(rows)
            med = {k: v * 1e3 for k, v in interleaved(runs, args.rounds).items()}
            diff = float(np.abs(mfcc.transform(rows) - module.transform(X)).max())
            audio = batch * SECONDS
            cells = [name, batch, f"{med['numpy'][0]:.1f}"]
            if two:
                cells.append(f"{med['jobs2'][1]:.1f}")
            cells += [f"{med['torch'][0]:.1f}", f"{med['fwd'][0]:.1f}", f"{med['librosa'][0]:.1f}",
                      f"{med['numpy'][0] / med['torch'][0]:.2f}",
                      f"{med['numpy'][1] / med['torch'][1]:.2f}"]
            if two:
                cells.append(f"{med['jobs2'][1] / med['torch'][1]:.2f}")
            cells += [f"{audio / med['numpy'][1] * 1e3:.0f}", f"{audio / med['torch'][1] * 1e3:.0f}",
                      f"{diff:.1e}"]
            print("| " + " | ".join(str(c) for c in cells) + " |")

    if args.stages:
        bench_stages(args)
    if args.previous:
        bench_previous(args)
    if args.chunk_rows:
        bench_chunk_rows(args)
    if args.onnx:
        bench_onnx(args)


def bench_previous(args, batch: int = 32) -> None:
    """Forward CPU ms of this MFCCModule vs an older version of the module."""
    import importlib.util
    import sys

    name = "skser.features._torch_frontend_previous"
    spec = importlib.util.spec_from_file_location(name, args.previous)
    previous = importlib.util.module_from_spec(spec)
    sys.modules[name] = previous
    spec.loader.exec_module(previous)
    print()
    print(f"| preset (batch {batch}) | previous module fwd CPU ms | this module fwd CPU ms "
          "| speed-up | max abs diff |")
    print("|---|---|---|---|---|")
    for preset, make in PRESETS.items():
        mfcc = make()
        X = (real_batch(args.data, mfcc.sr) if args.data else generated_batch(mfcc.sr))[:batch]
        tensor = torch.from_numpy(X)
        old = previous.MFCCModule.from_transformer(mfcc)
        new = MFCCModule.from_transformer(mfcc)
        with torch.no_grad():
            med = {k: v[0] * 1e3 for k, v in interleaved(
                {"old": lambda: old(tensor), "new": lambda: new(tensor)}, args.rounds).items()}
            diff = float((old(tensor) - new(tensor)).abs().max())
        print(f"| {preset} | {med['old']:.1f} | {med['new']:.1f} | {med['old'] / med['new']:.2f} "
              f"| {diff:.1e} |")


def bench_chunk_rows(args, batch: int = 32) -> None:
    """Forward CPU ms with each number of rows per CPU chunk, interleaved."""
    print()
    print(f"| preset (batch {batch}) | rows per chunk | fwd CPU ms | vs default |")
    print("|---|---|---|---|")
    for preset, make in PRESETS.items():
        mfcc = make()
        X = (real_batch(args.data, mfcc.sr) if args.data else generated_batch(mfcc.sr))[:batch]
        tensor = torch.from_numpy(X)
        modules = {"default": MFCCModule.from_transformer(mfcc)}
        for rows in args.chunk_rows:
            modules[str(rows)] = MFCCModule.from_transformer(mfcc)
            modules[str(rows)].cpu_rows_per_chunk = rows
        with torch.no_grad():
            med = {k: v[0] * 1e3 for k, v in interleaved(
                {k: (lambda m=m: m(tensor)) for k, m in modules.items()}, args.rounds).items()}
        default_rows = modules["default"]._rows_per_chunk()
        for key, ms in med.items():
            label = f"default ({default_rows})" if key == "default" else key
            print(f"| {preset} | {label} | {ms:.1f} | {med['default'] / ms:.2f} |")


def bench_stages(args, batch: int = 32) -> None:
    """CPU ms of each path's FFT alone vs its whole path, batch of ``batch``."""
    print()
    print(f"| preset (batch {batch}) | numpy path CPU ms | its FFT (scipy.fft) ms | torch path CPU ms "
          "| its FFT (torch.fft, MKL) ms | numpy path / torch FFT |")
    print("|---|---|---|---|---|---|")
    profiles = {}
    for name, make in PRESETS.items():
        mfcc = make()
        X = (real_batch(args.data, mfcc.sr) if args.data else generated_batch(mfcc.sr))[:batch]
        rows, tensor = list(X), torch.from_numpy(X)
        mfcc.fit(rows)
        module = MFCCModule.from_transformer(mfcc)
        window = _stft_window(mfcc.window, mfcc.n_fft, mfcc.n_fft)
        pad = mfcc.n_fft // 2 if mfcc.center else 0
        signals = [np.pad(r, pad) for r in rows]
        chunk = module._rows_per_chunk()
        padded = torch.nn.functional.pad(tensor, (pad, pad))
        chunks = [padded[i : i + chunk] for i in range(0, batch, chunk)]
        buffer = torch.empty(min(chunk, batch), module.n_frames, mfcc.n_fft)

        def numpy_fft():
            for y in signals:
                frames = np.lib.stride_tricks.sliding_window_view(y, mfcc.n_fft)[::mfcc.hop_length]
                scipy.fft.rfft(frames * window, axis=1)

        def torch_fft():
            for c in chunks:
                frames = torch.mul(c.unfold(1, mfcc.n_fft, mfcc.hop_length), module.window,
                                   out=buffer[: c.shape[0]])
                torch.fft.rfft(frames)

        def forward():
            with torch.no_grad():
                module(tensor)

        med = {k: v[0] * 1e3 for k, v in interleaved(
            {"numpy": lambda: mfcc.transform(rows), "numpy_fft": numpy_fft,
             "torch": forward, "torch_fft": torch_fft}, args.rounds).items()}
        print(f"| {name} | {med['numpy']:.1f} | {med['numpy_fft']:.1f} | {med['torch']:.1f} | "
              f"{med['torch_fft']:.1f} | {med['numpy'] / med['torch_fft']:.2f} |")
        profiles[name] = profile_forward(module, tensor, args.rounds)
    for name, ops in profiles.items():
        print()
        print(f"| {name} (batch {batch}): torch operator | ms per call | share |")
        print("|---|---|---|")
        total = sum(ms for _, ms in ops)
        for op, ms in ops[:12]:
            print(f"| {op} | {ms:.2f} | {ms / total:.0%} |")
        print(f"| (all) | {total:.2f} | 100% |")


def profile_forward(module, tensor, rounds: int) -> list[tuple[str, float]]:
    """Self CPU ms per forward call of each torch operator, largest first."""
    from torch.profiler import ProfilerActivity, profile

    with torch.no_grad():
        module(tensor)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(rounds):
                module(tensor)
    ops = [(e.key, e.self_cpu_time_total / 1e3 / rounds) for e in prof.key_averages()]
    return sorted(ops, key=lambda item: -item[1])


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
        X = real_batch(args.data, mfcc.sr, n=32)
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
