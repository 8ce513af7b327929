"""Size, training speed and inference latency of the skser neural classifiers.

Not a test: it prints what it measured, with the protocol, next to the figures
of the original Keras implementations from
``../shared/reference/peers-measured.md`` (measured side by side with skser
on a 2-core x86-64 CPU, no GPU, idle machine, interleaved rounds; see that
file for the versions and the exact calls):

* Light-SERNet: 3.10 ms per 3 s utterance end to end on one thread with its
  own front end (1.89 ms model only); one training epoch of the 535 EMO-DB
  clips (3 s, batch 32, 2 threads) in 2.24 s.
* TIM-Net: 6.10 ms end to end with its librosa front end (1.54 ms model
  only); one epoch of the 1440 RAVDESS clips (batch 64, 2 threads) in 3.21 s.

Those figures come from another run than this script's, so a ratio between
them and this script's output is only indicative; the side-by-side ratios are
in peers-measured.md.

Target: at most 4 ms per 3 s utterance end to end (audio array in, label out,
one CPU thread), and training epochs no slower than the Keras figures.

Protocol
--------
1. Training data: with ``$SKSER_DATA`` set, the real corpora (Light-SERNet,
   CNN1D, CNN2D: the 535 clips of the EMO-DB 2 s copy resampled to 16 kHz;
   TIM-Net: the 1440 RAVDESS clips at its preset's 22.05 kHz, cropped/padded to
   the original's RAVDESS length of 110 000 samples). Features are extracted
   once; without ``$SKSER_DATA`` random features of the same shape are used and
   the table says so.
2. Training: ``fit`` for ``1 + --epochs`` epochs on the default number of torch
   threads; the first (warm-up) epoch is dropped and the table gives the mean
   (and min) of the others, read from skorch's per-epoch ``dur`` (which
   includes the per-epoch train UAR scoring, as Keras' epoch time includes its
   metrics). Throughput = clips / mean epoch time.
3. Latency: ``torch.set_num_threads(1)``; a 3 s synthetic speech-like
   waveform at the front end's rate. Each figure is the median over
   ``--repeats`` calls after 5 warm-up calls:

   * ``front`` - feature extraction alone (``front.transform([wave])``);
   * ``predict`` - the fitted estimator's ``predict`` on precomputed features
     (skorch/sklearn overhead included);
   * ``forward`` - the bare ``torch.nn.Module`` forward in ``inference_mode``
     (model only);
   * ``e2e`` - ``make_pipeline(front, model).predict([wave])`` (audio array
     in, label out);
   * the same for a batch of 32 utterances (per batch).
4. On CUDA (when ``torch.cuda.is_available()``), training and batch-1/32
   ``predict``/``forward`` are repeated with ``device="cuda"``.

On a machine shared with other jobs, run with ``OMP_WAIT_POLICY=PASSIVE``:
OpenMP threads that spin while waiting make multi-threaded torch (and
OpenBLAS) several times slower when the cores are busy with other work
(peers-measured.md records a batch-32 Light-SERNet forward of 523 ms instead
of 62 ms at load 4-6 on 2 cores). The table records the setting, the load
average and CPU times.

Usage::

    SKSER_DATA=../shared/data OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_models.py \\
        --models lightsernet timnet --epochs 3 --repeats 50 --out results.json

    # one-thread latency only, current vs previous inference path, interleaved rounds
    # (Light-SERNet: whole batches instead of chunks; TIM-Net: an older module file)
    git show ce89a41~1:skser/models/_timnet.py > /tmp/timnet_previous.py
    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_models.py --latency-ab \\
        --models lightsernet timnet --rounds 7 --repeats 50 --previous-timnet /tmp/timnet_previous.py

    # epoch time of this checkout against an older one (git worktree), 1 and 2 threads
    SKSER_DATA=../shared/data OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_models.py \\
        --train-ab ../skser-old --models lightsernet timnet --rounds 3 --epochs 2

    # epoch time with the retained heap during fit against glibc's default heap
    SKSER_DATA=../shared/data OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_models.py \\
        --heap-ab --models lightsernet timnet --rounds 3 --epochs 3 --ab-threads 1

    # epoch time with n_threads=1 against n_threads=2, interleaved rounds
    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_models.py --threads-ab 1 2 \\
        --models lightsernet timnet --rounds 2 --epochs 2
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.pipeline import make_pipeline
from skorch.callbacks import Callback
from threadpoolctl import threadpool_limits

from skser._audio import load_audio
from skser.features import MFCC, Functionals, LogMel

EMODB_CODES = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
               "F": "happiness", "T": "sadness", "N": "neutral"}

#: The original Keras implementations as measured in
#: ../shared/reference/peers-measured.md (side by side with skser, 2-core x86-64
#: CPU, no GPU): batch 1 on one thread (ms), training epoch on two threads (s).
KERAS_BARS = {
    "lightsernet": {"e2e_ms": 3.10, "model_ms": 1.89, "epoch_s": 2.24,
                    "epoch_what": "535 EMO-DB clips, 3 s, batch 32, peers-measured.md"},
    "timnet": {"e2e_ms": 6.10, "model_ms": 1.54, "epoch_s": 3.21,
               "epoch_what": "1440 RAVDESS clips, batch 64, peers-measured.md"},
}
TARGET_E2E_MS = 4.0

#: torch's default thread count, read before any benchmark changes it.
DEFAULT_THREADS = torch.get_num_threads()


# -- architectures -------------------------------------------------------------


@dataclass
class Spec:
    """How one architecture is benchmarked."""

    name: str
    make_model: Callable[..., Any]
    make_front: Callable[[], Any]  # front end for 3 s latency
    make_train_front: Callable[[], Any]  # front end for the training corpus
    corpus: str  # "emodb-2s" or "ravdess"
    batch_size: int
    notes: str = ""
    extra: dict = field(default_factory=dict)


def _specs() -> dict[str, Spec]:
    from skser import models

    def timnet_ravdess_front():
        return MFCC.timnet(duration=110000 / 22050)

    def cnn1d_front():
        return make_pipeline(MFCC(n_mfcc=20, sr=16000), Functionals())

    def cnn2d_front(duration=3.0):
        return LogMel(n_mels=128, sr=16000, duration=duration)

    return {
        "lightsernet": Spec(
            "lightsernet", lambda **kw: models.LightSERNet(**kw),
            lambda: MFCC.light_sernet(duration=3.0),
            lambda: MFCC.light_sernet(duration=3.0), "emodb-2s", 32,
            "MFCC.light_sernet(duration=3.0), 16 kHz",
        ),
        "timnet": Spec(
            "timnet", lambda **kw: models.TIMNet(**kw),
            lambda: MFCC.timnet(duration=3.0), timnet_ravdess_front, "ravdess", 64,
            "MFCC.timnet, 22.05 kHz; latency at 3 s, training at RAVDESS 110000 samples",
        ),
        "cnn1d": Spec(
            "cnn1d", lambda **kw: models.CNN1D(**kw), cnn1d_front, cnn1d_front,
            "emodb-2s", 64, "MFCC(20) + Functionals() descriptor vector, 16 kHz",
        ),
        "cnn2d": Spec(
            "cnn2d", lambda **kw: models.CNN2D(**kw), cnn2d_front, cnn2d_front,
            "emodb-2s", 32, "LogMel(128, duration=3.0), 16 kHz",
        ),
    }


# -- data ----------------------------------------------------------------------


def _corpus(name: str, sr: int) -> tuple[list[np.ndarray], np.ndarray] | None:
    root = os.environ.get("SKSER_DATA")
    if not root or not Path(root).is_dir():
        return None
    root = Path(root)
    if name == "emodb-2s":
        files = sorted((root / "emodb-2s").glob("wav/*.flac"))
        labels = [EMODB_CODES[f.stem[5]] for f in files]
    elif name == "ravdess":
        files = sorted((root / "ravdess").glob("Actor_*/*.flac"))
        labels = [f.stem.split("-")[2] for f in files]
    else:
        raise ValueError(name)
    if not files:
        return None
    return [load_audio(f, sr) for f in files], np.array(labels, dtype=object)


def _front_sr(front: Any) -> int:
    if hasattr(front, "sr"):
        return int(front.sr)
    return int(front.steps[0][1].sr)


def speechlike(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """A 3 s harmonic signal with a gliding pitch, syllabic envelope and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 12))
    y *= 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) * 0.2
    y += 0.005 * rng.standard_normal(t.shape)
    return y.astype(np.float32)


# -- measurements --------------------------------------------------------------


def _median_ms(fn: Callable[[], Any], repeats: int, warmup: int = 5) -> float:
    """Median wall-clock time of ``fn()`` in ms; the median CPU time goes to CPU_MS."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU_MS.append(1000 * statistics.median(cpu))
    return 1000 * statistics.median(wall)


#: CPU-time medians of the latest _median_ms calls (robust to a loaded machine).
CPU_MS: list[float] = []


def _sizes_mb(module: torch.nn.Module) -> tuple[float, float]:
    """State-dict size in MB (10^6 bytes) in fp32, and with floats cast to fp16."""
    fp32 = fp16 = 0
    for t in module.state_dict().values():
        if t.is_floating_point():
            fp32 += t.numel() * 4
            fp16 += t.numel() * 2
        else:
            fp32 += t.numel() * t.element_size()
            fp16 += t.numel() * t.element_size()
    return fp32 / 1e6, fp16 / 1e6


def _n_params(model: Any) -> int:
    if hasattr(model, "n_params_"):
        return int(model.n_params_)
    from skser.models._base import count_parameters

    return int(count_parameters(model.module_))


def _forward_fn(model: Any, X: np.ndarray, device: str) -> Callable[[], Any] | None:
    """Bare module forward on X (NaN-free features), or None if it cannot be called."""
    module = model.module_
    module.eval()
    x = torch.as_tensor(np.nan_to_num(X), dtype=torch.float32, device=device)

    def run():
        with torch.inference_mode():
            out = module(x)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return out

    try:
        run()
    except Exception as exc:  # the module may need extra inputs (masks)
        print(f"  (bare forward not measured: {type(exc).__name__}: {exc})", file=sys.stderr)
        return None
    return run


class EpochCPUTime(Callback):
    """Record each epoch's process CPU time (all threads) as ``cpu_dur`` in the history."""

    def on_epoch_begin(self, net: Any, **kwargs: Any) -> None:
        self._start = time.process_time()

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        net.history.record("cpu_dur", time.process_time() - self._start)


def _epoch_times(model: Any, key: str = "dur") -> list[float]:
    return [float(d) for d in model.history_[:, key]]


def _features(front: Any, waves: list[np.ndarray]) -> np.ndarray:
    return np.asarray(front.fit(waves[:1]).transform(waves), dtype=np.float32)


def bench_one(spec: Spec, args: argparse.Namespace) -> dict:
    res: dict[str, Any] = {"model": spec.name, "front": spec.notes}
    torch.set_num_threads(args.train_threads or DEFAULT_THREADS)
    train_front = spec.make_train_front()
    sr = _front_sr(train_front)
    t0 = time.perf_counter()
    data = _corpus(spec.corpus, sr)
    if data is not None:
        waves, y = data
        res["data"] = f"{spec.corpus} ({len(waves)} clips)"
        Xtr = _features(train_front, waves)
    else:  # random features of the real shape
        n = 535 if spec.corpus == "emodb-2s" else 1440
        shape = _features(train_front, [speechlike(2.0, sr)]).shape[1:]
        rng = np.random.default_rng(0)
        Xtr = rng.standard_normal((n, *shape)).astype(np.float32)
        y = np.array(["c%d" % (i % 7) for i in range(n)], dtype=object)
        res["data"] = f"random features, {n} rows ($SKSER_DATA not set)"
    res["features_s"] = time.perf_counter() - t0
    res["train_shape"] = list(Xtr.shape)
    print(f"[{spec.name}] features {Xtr.shape} in {res['features_s']:.1f} s", file=sys.stderr)

    n_epochs = 1 + args.epochs
    model = spec.make_model(max_epochs=n_epochs, batch_size=spec.batch_size,
                            random_state=0, device="cpu", verbose=0,
                            callbacks=[("cpu_time", EpochCPUTime())])
    model.fit(Xtr, y)
    durs = _epoch_times(model)[1:]
    res.update(
        params=_n_params(model),
        epoch_s_mean=statistics.mean(durs), epoch_s_min=min(durs),
        epoch_cpu_s_mean=statistics.mean(_epoch_times(model, "cpu_dur")[1:]),
        epochs_timed=len(durs), train_threads=torch.get_num_threads(),
        batch_size=spec.batch_size, n_train=len(Xtr),
    )
    res["train_utt_per_s"] = len(Xtr) / res["epoch_s_mean"]
    res["size_fp32_mb"], res["size_fp16_mb"] = _sizes_mb(model.module_)

    # latency, one thread, 3 s utterance
    torch.set_num_threads(1)
    front = spec.make_front()
    sr = _front_sr(front)
    wave = speechlike(3.0, sr)
    waves32 = [speechlike(3.0, sr, seed=i) for i in range(32)]
    f1 = _features(front, [wave])
    X_lat = Xtr  # what the latency model was fitted on
    try:
        model.predict(f1)
    except Exception as exc:  # model bound to the training length: refit on 3 s input
        print(f"  refitting on 3 s features ({type(exc).__name__}: {exc})", file=sys.stderr)
        X_lat = (_features(front, waves) if data is not None else np.random.default_rng(0)
                 .standard_normal((len(Xtr), *f1.shape[1:])).astype(np.float32))
        model = spec.make_model(max_epochs=1, batch_size=spec.batch_size,
                                random_state=0, device="cpu", verbose=0).fit(X_lat, y)
    f32 = _features(front, waves32)
    pipe = make_pipeline(front, model)
    r = args.repeats
    rb = max(5, r // 5)
    fwd = _forward_fn(model, f1, "cpu")
    fwd32 = _forward_fn(model, f32, "cpu")
    timings = {
        "lat_front_ms": (lambda: front.transform([wave]), r),
        "lat_predict_ms": (lambda: model.predict(f1), r),
        "lat_forward_ms": (fwd, r),
        "lat_e2e_ms": (lambda: pipe.predict([wave]), r),
        "b32_predict_ms": (lambda: model.predict(f32), rb),
        "b32_forward_ms": (fwd32, rb),
        "b32_e2e_ms": (lambda: pipe.predict(waves32), rb),
    }
    # "One thread" means every pool: torch's and numpy's BLAS (OpenBLAS/MKL).
    with threadpool_limits(limits=1):
        for key, (fn, n) in timings.items():
            if fn is None:
                res[key] = res[key.replace("_ms", "_cpu_ms")] = None
                continue
            res[key] = _median_ms(fn, n, warmup=5 if n == r else 2)
            res[key.replace("_ms", "_cpu_ms")] = CPU_MS[-1]
        if args.profile:
            res["profile_e2e"] = _profile(lambda: pipe.predict([wave]), 200)

    if torch.cuda.is_available() and not args.no_cuda:
        torch.set_num_threads(args.train_threads or DEFAULT_THREADS)
        gm = spec.make_model(max_epochs=n_epochs, batch_size=spec.batch_size,
                             random_state=0, device="cuda", verbose=0).fit(Xtr, y)
        gd = _epoch_times(gm)[1:]
        res["cuda_epoch_s_mean"] = statistics.mean(gd)
        res["cuda_device"] = torch.cuda.get_device_name()
        gm3 = gm
        if X_lat is not Xtr:
            gm3 = spec.make_model(max_epochs=1, batch_size=spec.batch_size,
                                  random_state=0, device="cuda", verbose=0).fit(X_lat, y)
        res["cuda_lat_predict_ms"] = _median_ms(lambda: gm3.predict(f1), r)
        res["cuda_b32_predict_ms"] = _median_ms(lambda: gm3.predict(f32), rb)
        g1 = _forward_fn(gm3, f1, "cuda")
        res["cuda_lat_forward_ms"] = _median_ms(g1, r) if g1 else None
        g32 = _forward_fn(gm3, f32, "cuda")
        res["cuda_b32_forward_ms"] = _median_ms(g32, rb) if g32 else None
    return res


def _profile(fn: Callable[[], Any], n: int) -> str:
    """cProfile of n calls: the top functions by cumulative time."""
    fn()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        fn()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


# -- report --------------------------------------------------------------------


def _fmt(v: Any, nd: int = 2) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def _wc(r: dict, key: str) -> str:
    """'wall (cpu)' in ms."""
    return f"{_fmt(r[key + '_ms'])} ({_fmt(r[key + '_cpu_ms'])})"


def markdown(results: list[dict], args: argparse.Namespace) -> str:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (load average "
        f"at the end {load}) on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"torch {torch.__version__}, CUDA {'yes' if torch.cuda.is_available() else 'no'}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}.",
        f"Latency: one thread (torch and BLAS), 3 s utterance, median of {args.repeats} "
        "calls, wall ms (CPU ms in brackets); batch 32: per batch. Epochs: mean of "
        f"{args.epochs} after 1 warm-up epoch.",
        "",
        "| model | params | fp32 MB | fp16 MB | epoch s (train data) | utt/s "
        "| Keras epoch s (peers-measured.md) | front ms | predict ms | forward ms | e2e ms "
        "| Keras e2e / model ms (peers-measured.md) "
        "| b32 predict ms | b32 e2e ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        bar = KERAS_BARS.get(r["model"], {})
        lines.append(
            f"| {r['model']} | {r['params']:,} | {_fmt(r['size_fp32_mb'])} "
            f"| {_fmt(r['size_fp16_mb'])} "
            f"| {_fmt(r['epoch_s_mean'])} (CPU {_fmt(r['epoch_cpu_s_mean'])}; {r['data']}, "
            f"batch {r['batch_size']}) "
            f"| {_fmt(r['train_utt_per_s'], 0)} | {_fmt(bar.get('epoch_s'))} "
            f"| {_wc(r, 'lat_front')} | {_wc(r, 'lat_predict')} "
            f"| {_wc(r, 'lat_forward')} | {_wc(r, 'lat_e2e')} "
            f"| {_fmt(bar.get('e2e_ms'))} / {_fmt(bar.get('model_ms'))} "
            f"| {_wc(r, 'b32_predict')} | {_wc(r, 'b32_e2e')} |"
        )
    lines.append("")
    for r in results:
        bar = KERAS_BARS.get(r["model"])
        if not bar:
            continue
        e2e_ok = r["lat_e2e_ms"] <= TARGET_E2E_MS
        ep_ok = r["epoch_s_mean"] <= bar["epoch_s"]
        lines.append(
            f"- {r['model']}: e2e {r['lat_e2e_ms']:.2f} ms vs target {TARGET_E2E_MS} ms: "
            f"{'MET' if e2e_ok else 'MISSED'}; epoch {r['epoch_s_mean']:.2f} s vs "
            f"{bar['epoch_s']} s ({bar['epoch_what']}): {'MET' if ep_ok else 'MISSED'}."
        )
    if any("cuda_epoch_s_mean" in r for r in results):
        lines += ["", "| model | GPU | epoch s | b1 predict ms | b1 forward ms "
                  "| b32 predict ms | b32 forward ms |", "|---|---|---|---|---|---|---|"]
        for r in results:
            if "cuda_epoch_s_mean" in r:
                lines.append(
                    f"| {r['model']} | {r['cuda_device']} | {_fmt(r['cuda_epoch_s_mean'])} "
                    f"| {_fmt(r['cuda_lat_predict_ms'])} | {_fmt(r['cuda_lat_forward_ms'])} "
                    f"| {_fmt(r['cuda_b32_predict_ms'])} "
                    f"| {_fmt(r['cuda_b32_forward_ms'])} |"
                )
    return "\n".join(lines)


# -- inference latency, interleaved A/B ------------------------------------------

#: Batch-32 figures of the Keras originals in peers-measured.md (model / end to
#: end, ms per batch). They were taken on 2 threads; the A/B below uses one.
KERAS_B32_MS = {"lightsernet": (34.5, 57.7), "timnet": (26.3, 132.5)}


def _load_previous_timnet(path: Path) -> Any:
    """An older ``skser/models/_timnet.py`` (e.g. ``git show <commit>:skser/models/_timnet.py``), imported."""
    import importlib.util

    name = "skser.models._timnet_previous"  # inside the package: its relative imports resolve
    spec = importlib.util.spec_from_file_location(name, path)
    previous = importlib.util.module_from_spec(spec)
    sys.modules[name] = previous
    spec.loader.exec_module(previous)
    return previous


def _ab_variants(name: str, previous_timnet: Path | None) -> Callable[[bool, Any], None] | None:
    """Switch between the current and the previous inference path of a model, or None.

    ``switch(current, module)``. Light-SERNet: the previous path runs a batch
    whole instead of in chunks of ``_EVAL_CHUNK`` utterances. TIM-Net (with
    ``--previous-timnet FILE``): the module's class becomes the older file's
    ``TIMNetModule`` (same parameters and buffers, its own cached merged
    weights), so both variants run the same weights.
    """
    if name == "lightsernet":
        from skser.models import _lightsernet

        chunk = _lightsernet._EVAL_CHUNK

        def switch(current: bool, module: Any) -> None:
            _lightsernet._EVAL_CHUNK = chunk if current else sys.maxsize

        return switch
    if name == "timnet" and previous_timnet is not None:
        classes = {True: None, False: _load_previous_timnet(previous_timnet).TIMNetModule}

        def switch(current: bool, module: Any) -> None:
            if classes[True] is None:
                classes[True] = type(module)
            module.__class__ = classes[current]
            module._merged = None  # each variant caches its own weight layout

        return switch
    return None


def latency_ab(names: list[str], rounds: int, repeats: int,
               previous_timnet: Path | None = None) -> list[dict]:
    """Batch-1 and batch-32 latency, model only and end to end, one thread, A/B rounds.

    Each round times every figure once per variant (the order of the variants
    alternates between rounds); a figure is the median over ``repeats`` calls
    (batch 1) or ``max(5, repeats // 5)`` calls (batch 32) after warm-up.
    Reported: the median over rounds of those medians and of the per-round
    ratio current / previous. End to end is
    ``make_pipeline(front, model).predict_proba(waves)`` on 3 s synthetic
    speech-like waveforms; model only is the bare module under
    ``torch.inference_mode`` on the precomputed features. The models are
    fitted for one epoch on random features of the right shape (weights do
    not change the time).
    """
    specs = _specs()
    results = []
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        for name in names:
            spec = specs[name]
            front = spec.make_front()
            sr = _front_sr(front)
            wave = speechlike(3.0, sr)
            waves32 = [speechlike(3.0, sr, seed=i) for i in range(32)]
            f1, f32 = _features(front, [wave]), _features(front, waves32)
            rng = np.random.default_rng(0)
            Xtr = rng.standard_normal((64, *f1.shape[1:])).astype(np.float32)
            y = np.array(["c%d" % (i % 4) for i in range(64)], dtype=object)
            model = spec.make_model(max_epochs=1, random_state=0, device="cpu",
                                    n_threads=1).fit(Xtr, y)
            pipe = make_pipeline(front, model)
            fwd1, fwd32 = _forward_fn(model, f1, "cpu"), _forward_fn(model, f32, "cpu")
            figures = {
                "model_b1": (fwd1, repeats),
                "e2e_b1": (lambda pipe=pipe, wave=wave: pipe.predict_proba([wave]), repeats),
                "model_b32": (fwd32, max(5, repeats // 5)),
                "e2e_b32": (lambda pipe=pipe, w=waves32: pipe.predict_proba(w),
                            max(5, repeats // 5)),
            }
            switch = _ab_variants(name, previous_timnet)
            variants = ["current", "previous"] if switch else ["current"]
            per_round: dict[str, dict[str, list[float]]] = {
                v: {k: [] for k in [*figures, *(f + "_cpu" for f in figures)]}
                for v in variants}
            for i in range(rounds):
                order = variants if i % 2 == 0 else variants[::-1]
                for v in order:
                    if switch:
                        switch(v == "current", model.module_)
                    for key, (fn, n) in figures.items():
                        per_round[v][key].append(_median_ms(fn, n, warmup=3))
                        per_round[v][key + "_cpu"].append(CPU_MS[-1])
            if switch:
                switch(True, model.module_)
            res = {"model": name, "rounds": rounds, "repeats": repeats,
                   "load_end": os.getloadavg()}
            for key in per_round["current"]:
                res[key] = {v: statistics.median(per_round[v][key]) for v in variants}
                if switch:
                    res[key]["ratio"] = statistics.median(
                        c / p for c, p in zip(per_round["current"][key],
                                              per_round["previous"][key]))
            print(f"[{name}] {res}", file=sys.stderr)
            results.append(res)
    return results


def latency_markdown(results: list[dict], rounds: int, repeats: int) -> str:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (load average at "
        f"the end {load}) on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPU cores, torch {torch.__version__}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}; one thread; "
        f"{rounds} interleaved rounds, each figure the median over rounds of the median of "
        f"{repeats} calls (batch 32: {max(5, repeats // 5)}); ms per call (per batch), "
        "wall (CPU time in brackets). Keras: wall, idle machine.",
        "",
        "| model | figure | current ms | previous ms | current / previous "
        "| Keras ms (peers-measured.md) | current / Keras |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        bar = KERAS_BARS.get(r["model"], {})
        b32 = KERAS_B32_MS.get(r["model"], (None, None))
        keras = {"model_b1": bar.get("model_ms"), "e2e_b1": bar.get("e2e_ms"),
                 "model_b32": b32[0], "e2e_b32": b32[1]}
        for key, label in (("model_b1", "model only, batch 1"),
                           ("e2e_b1", "end to end, batch 1"),
                           ("model_b32", "model only, batch 32"),
                           ("e2e_b32", "end to end, batch 32")):
            f, c = r[key], r[key + "_cpu"]
            k = keras[key]
            k_txt = _fmt(k) + (" (2 threads)" if key.endswith("b32") and k else "")
            lines.append(
                f"| {r['model']} | {label} | {_fmt(f['current'])} ({_fmt(c['current'])}) "
                f"| {_fmt(f.get('previous'))} ({_fmt(c.get('previous'))}) "
                f"| {_fmt(f.get('ratio'))} ({_fmt(c.get('ratio'))}) | {k_txt} "
                f"| {_fmt(f['current'] / k) if k else 'n/a'} "
                f"({_fmt(c['current'] / k) if k else 'n/a'}) |"
            )
    return "\n".join(lines)


# -- training threads, interleaved A/B --------------------------------------------


def threads_ab(names: list[str], rounds: int, epochs: int, threads: tuple[int, ...]) -> list[dict]:
    """Epoch time with ``n_threads`` = each of ``threads``, in interleaved rounds.

    Each round fits every setting once (order alternating between rounds) for
    ``1 + epochs`` epochs on random features of the training shape (535 x 184 x 40
    for Light-SERNet, 1440 x 215 x 39 for TIM-Net; speed does not depend on the
    values); a fit's figure is the mean of skorch's ``dur`` after the warm-up
    epoch. Reported: the median over rounds, and the CPU seconds per epoch.
    """
    shapes = {"lightsernet": (535, 184, 40), "timnet": (1440, 215, 39)}
    specs = _specs()
    results = []
    for name in names:
        spec = specs[name]
        rng = np.random.default_rng(0)
        X = rng.standard_normal(shapes[name]).astype(np.float32)
        y = np.array(["c%d" % (i % 7) for i in range(len(X))], dtype=object)
        wall: dict[int, list[float]] = {n: [] for n in threads}
        cpu: dict[int, list[float]] = {n: [] for n in threads}
        for i in range(rounds):
            for n in (threads if i % 2 == 0 else threads[::-1]):
                model = spec.make_model(max_epochs=1 + epochs, batch_size=spec.batch_size,
                                        random_state=0, device="cpu", verbose=0, n_threads=n,
                                        callbacks=[("cpu_time", EpochCPUTime())]).fit(X, y)
                wall[n].append(statistics.mean(_epoch_times(model)[1:]))
                cpu[n].append(statistics.mean(_epoch_times(model, "cpu_dur")[1:]))
        res = {"model": name, "shape": shapes[name], "batch_size": spec.batch_size,
               "load_end": os.getloadavg(),
               "epoch_s": {n: statistics.median(wall[n]) for n in threads},
               "epoch_cpu_s": {n: statistics.median(cpu[n]) for n in threads}}
        print(f"[{name}] {res}", file=sys.stderr)
        results.append(res)
    return results


def threads_markdown(results: list[dict], rounds: int, epochs: int) -> str:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    threads = list(results[0]["epoch_s"]) if results else []
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (load average at "
        f"the end {load}) on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPU cores, torch {torch.__version__}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}; {rounds} interleaved "
        f"rounds, each a fit of 1 + {epochs} epochs per setting; median over rounds of the "
        "mean epoch after the warm-up epoch, wall s (CPU s in brackets).",
        "",
        "| model | data shape, batch | "
        + " | ".join(f"n_threads={n}" for n in threads)
        + f" | n_threads={threads[-1]} / n_threads={threads[0]} |" if threads else "",
        "|---|---|" + "---|" * (len(threads) + 1),
    ]
    for r in results:
        e, c = r["epoch_s"], r["epoch_cpu_s"]
        lines.append(
            f"| {r['model']} | {' x '.join(map(str, r['shape']))}, {r['batch_size']} | "
            + " | ".join(f"{_fmt(e[n])} ({_fmt(c[n])})" for n in threads)
            + f" | {_fmt(e[threads[-1]] / e[threads[0]])} |"
        )
    return "\n".join(lines)


# -- training epoch, old checkout against this one, interleaved A/B ----------------

#: How --train-ab trains each model: the calls of the side-by-side Keras comparison
#: in peers-measured.md (Light-SERNet with the paper's focal loss; TIM-Net as is).
TRAIN_AB_KWARGS = {
    "lightsernet": {"lr": 1e-4, "loss": "focal", "focal_gamma": 2.0, "batch_size": 32},
    "timnet": {"batch_size": 64},
}
TRAIN_AB_SHAPES = {"lightsernet": (535, 184, 40), "timnet": (1440, 215, 39)}


def _train_ab_features(name: str, cache: Path) -> tuple[Path, str]:
    """Training features of ``name`` saved as ``.npy`` (real corpus under $SKSER_DATA, else random)."""
    x_path, y_path = cache / f"{name}_X.npy", cache / f"{name}_y.npy"
    spec = _specs()[name]
    data = _corpus(spec.corpus, _front_sr(spec.make_train_front()))
    if data is not None:
        waves, y = data
        X = _features(spec.make_train_front(), waves)
        what = f"{spec.corpus} ({len(waves)} clips), {spec.notes}"
    else:
        rng = np.random.default_rng(0)
        X = rng.standard_normal(TRAIN_AB_SHAPES[name]).astype(np.float32)
        y = np.array(["c%d" % (i % 7) for i in range(len(X))], dtype=object)
        what = f"random features {TRAIN_AB_SHAPES[name]} ($SKSER_DATA not set)"
    np.save(x_path, X)
    np.save(y_path, np.asarray(y).astype(str))
    return x_path, what


def train_worker(name: str, x_path: Path, n_threads: int, epochs: int) -> dict:
    """One fit in this process (the skser on ``sys.path``): per-epoch wall and CPU seconds."""
    import skser
    from skser import models

    X = np.load(x_path, mmap_mode="r")
    y = np.load(str(x_path).replace("_X.npy", "_y.npy"))
    cls = {"lightsernet": models.LightSERNet, "timnet": models.TIMNet}[name]
    t0 = time.perf_counter()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    model = cls(max_epochs=1 + epochs, random_state=0, device="cpu", verbose=0,
                n_threads=n_threads, callbacks=[("cpu_time", EpochCPUTime())],
                **TRAIN_AB_KWARGS[name]).fit(np.asarray(X), y)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"skser": skser.__file__, "fit_s": time.perf_counter() - t0,
            "epoch_s": _epoch_times(model)[1:], "epoch_cpu_s": _epoch_times(model, "cpu_dur")[1:],
            "minor_faults_per_epoch": (usage.ru_minflt - usage0.ru_minflt) / (1 + epochs),
            "kernel_share": (usage.ru_stime - usage0.ru_stime)
            / max(usage.ru_stime + usage.ru_utime - usage0.ru_stime - usage0.ru_utime, 1e-9)}


def train_ab(names: list[str], old: Path | None, rounds: int, epochs: int,
             threads: tuple[int, ...]) -> list[dict]:
    """Epoch time of this checkout (new) against ``old``, interleaved rounds, fresh processes.

    Each round runs one fit per variant and thread count, each in its own
    Python process with ``PYTHONPATH`` at that checkout (order of the variants
    alternating between rounds), for ``1 + epochs`` epochs on the same saved
    features; a fit's figure is the median of skorch's per-epoch ``dur`` after
    the warm-up epoch (and of the process CPU time per epoch). Reported: the
    median over rounds, and the median of the per-round ratios new / old.

    ``old=None`` (``--heap-ab``): both variants are this checkout, "old" with
    ``SKSER_RETAIN_HEAP=0`` (glibc's default heap behaviour during ``fit``).
    """
    import subprocess
    import tempfile

    here = Path(__file__).resolve().parents[1]
    checkouts = {"new": here, "old": here if old is None else old.resolve()}
    variant_env = {"new": {"SKSER_RETAIN_HEAP": "1"} if old is None else {},
                   "old": {"SKSER_RETAIN_HEAP": "0"} if old is None else {}}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            x_path, what = _train_ab_features(name, Path(tmp))
            per: dict = {(v, n): {"wall": [], "cpu": []} for v in checkouts for n in threads}
            for i in range(rounds):
                for n in threads:
                    for v in (["new", "old"] if i % 2 == 0 else ["old", "new"]):
                        env = {**os.environ, "PYTHONPATH": str(checkouts[v]),
                               "OMP_NUM_THREADS": str(n), "MKL_NUM_THREADS": str(n),
                               **variant_env[v]}
                        out = subprocess.run(
                            [sys.executable, __file__, "--train-worker", name, str(x_path),
                             str(n), str(epochs)],
                            env=env, check=True, capture_output=True, text=True).stdout
                        r = json.loads(out.strip().splitlines()[-1])
                        assert Path(r["skser"]).resolve().is_relative_to(checkouts[v]), r["skser"]
                        per[v, n]["wall"].append(statistics.median(r["epoch_s"]))
                        per[v, n]["cpu"].append(statistics.median(r["epoch_cpu_s"]))
                        per[v, n].setdefault("faults", []).append(r["minor_faults_per_epoch"])
                        per[v, n].setdefault("kernel", []).append(r["kernel_share"])
                        print(f"[{name}] round {i} {v} n_threads={n}: "
                              f"{per[v, n]['wall'][-1]:.2f} s", file=sys.stderr)
            res = {"model": name, "data": what, "rounds": rounds, "epochs": epochs,
                   "batch_size": TRAIN_AB_KWARGS[name]["batch_size"],
                   "load_end": os.getloadavg(), "threads": {}}
            for n in threads:
                new, old_ = per["new", n], per["old", n]
                res["threads"][n] = {
                    "new_s": statistics.median(new["wall"]), "old_s": statistics.median(old_["wall"]),
                    "new_cpu_s": statistics.median(new["cpu"]),
                    "old_cpu_s": statistics.median(old_["cpu"]),
                    "ratio": statistics.median(a / b for a, b in zip(new["wall"], old_["wall"])),
                    "cpu_ratio": statistics.median(a / b for a, b in zip(new["cpu"], old_["cpu"])),
                    "new_faults": statistics.median(new["faults"]),
                    "old_faults": statistics.median(old_["faults"]),
                    "new_kernel": statistics.median(new["kernel"]),
                    "old_kernel": statistics.median(old_["kernel"]),
                }
            print(f"[{name}] {res}", file=sys.stderr)
            results.append(res)
    return results


def train_ab_markdown(results: list[dict], old: Path | None) -> str:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    r0 = results[0] if results else {"rounds": 0, "epochs": 0}
    old_label = ("this checkout with SKSER_RETAIN_HEAP=0, new = the default (retained heap)"
                 if old is None else f"`{old.name}`")
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (load average at "
        f"the end {load}) on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPU cores, torch {torch.__version__}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}; old = {old_label}; "
        f"{r0['rounds']} interleaved rounds, each one fit of 1 + {r0['epochs']} epochs per "
        "variant and thread count in a fresh process; median over rounds of the median "
        "epoch after the warm-up epoch, wall s (CPU s in brackets); ratio = median of the "
        "per-round ratios new / old; minor page faults per epoch of the fit and the kernel's "
        "(system) share of the fit's CPU time (medians).",
        "",
        "| model | training data, batch | n_threads | new s | old s | new / old "
        "| page faults new / old | kernel share new / old "
        "| Keras s (2 threads, peers-measured.md) | new / Keras |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        keras = KERAS_BARS.get(r["model"], {}).get("epoch_s")
        for n, t in r["threads"].items():
            k = keras if int(n) == 2 else None
            lines.append(
                f"| {r['model']} | {r['data']}, {r['batch_size']} | {n} "
                f"| {_fmt(t['new_s'])} ({_fmt(t['new_cpu_s'])}) "
                f"| {_fmt(t['old_s'])} ({_fmt(t['old_cpu_s'])}) "
                f"| {_fmt(t['ratio'])} ({_fmt(t['cpu_ratio'])}) "
                f"| {t['new_faults']:,.0f} / {t['old_faults']:,.0f} "
                f"| {t['new_kernel']:.0%} / {t['old_kernel']:.0%} | {_fmt(k)} "
                f"| {_fmt(t['new_s'] / k) if k else 'n/a'} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["lightsernet", "timnet", "cnn1d",
                                                        "cnn2d"],
                        choices=["lightsernet", "timnet", "cnn1d", "cnn2d"])
    parser.add_argument("--epochs", type=int, default=3,
                        help="timed epochs after one warm-up epoch (default 3)")
    parser.add_argument("--repeats", type=int, default=50,
                        help="timed calls per batch-1 latency figure (default 50)")
    parser.add_argument("--train-threads", type=int, default=None,
                        help="torch threads for training (default: torch's default)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the end-to-end batch-1 predict and print it")
    parser.add_argument("--no-cuda", action="store_true", help="skip the GPU pass")
    parser.add_argument("--latency-ab", action="store_true",
                        help="only the one-thread latency table, current vs previous "
                             "inference path in interleaved rounds")
    parser.add_argument("--threads-ab", type=int, nargs="+", default=None, metavar="N",
                        help="only the epoch-time table for these n_threads values "
                             "(e.g. 1 2), in interleaved rounds")
    parser.add_argument("--train-ab", type=Path, default=None, metavar="OLD_CHECKOUT",
                        help="only the epoch-time table of this checkout against OLD_CHECKOUT "
                             "(e.g. a git worktree of an older commit), interleaved rounds, "
                             "for each --ab-threads value")
    parser.add_argument("--previous-timnet", type=Path, default=None, metavar="FILE",
                        help="--latency-ab: an older skser/models/_timnet.py as TIM-Net's previous path")
    parser.add_argument("--heap-ab", action="store_true",
                        help="epoch time with the retained heap (default) against "
                             "SKSER_RETAIN_HEAP=0, interleaved fits in fresh processes")
    parser.add_argument("--ab-threads", type=int, nargs="+", default=[1, 2], metavar="N",
                        help="n_threads values of --train-ab (default 1 2)")
    parser.add_argument("--train-worker", nargs=4, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=7,
                        help="interleaved A/B rounds of --latency-ab (default 7)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write results: .json (raw) or .md (table)")
    args = parser.parse_args(argv)
    if args.train_worker:
        name, x_path, n_threads, epochs = args.train_worker
        print(json.dumps(train_worker(name, Path(x_path), int(n_threads), int(epochs))))
        return 0
    if args.train_ab is not None or args.heap_ab:
        table = train_ab_markdown(
            train_ab(args.models, args.train_ab, args.rounds, args.epochs,
                     tuple(args.ab_threads)), args.train_ab)
        print(table)
        if args.out is not None:
            args.out.write_text(table + "\n")
        return 0
    if args.threads_ab:
        table = threads_markdown(
            threads_ab(args.models, args.rounds, args.epochs, tuple(args.threads_ab)),
            args.rounds, args.epochs)
        print(table)
        if args.out is not None:
            args.out.write_text(table + "\n")
        return 0
    if args.latency_ab:
        table = latency_markdown(
            latency_ab(args.models, args.rounds, args.repeats, args.previous_timnet),
            args.rounds, args.repeats)
        print(table)
        if args.out is not None:
            args.out.write_text(table + "\n")
        return 0

    specs = _specs()
    results = []
    for name in args.models:
        print(f"[{name}] ...", file=sys.stderr)
        results.append(bench_one(specs[name], args))
    table = markdown(results, args)
    print(table)
    for r in results:
        if "profile_e2e" in r:
            print(f"\n### cProfile of make_pipeline(front, {r['model']}).predict([wave])\n")
            print(r["profile_e2e"])
    if args.out is not None:
        if args.out.suffix == ".json":
            args.out.write_text(json.dumps(results, indent=2, default=str))
        else:
            args.out.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
