"""Speed of SpeechEncoder embeddings and of FusionNet training, on CPU (or a GPU when present).

1. Embedding real-time factor (seconds of compute per second of audio; lower
   is faster) of :class:`skser.features.SpeechEncoder` for

   - the tiny random wav2vec2 of the test suite (hidden 32, 2 layers), and
   - a full-size wav2vec2-base configuration (12 layers, hidden 768, 95 M
     parameters) with random weights: the speed of a network does not depend
     on its weight values, and no pretrained weights can be downloaded here.

   Each model is written with ``save_pretrained`` to a temporary folder and
   loaded by path (``HF_HUB_OFFLINE=1``), as a user would load a local copy.
   Input: 16 synthetic speech-like utterances of 3.0 s at 16 kHz, one torch
   thread, ``batch_size`` 1 and 8 (wav2vec2-base uses group norm, so only
   equal-length utterances share a batch; these do). Reported: wall-clock and
   CPU time per second of audio; on a shared machine the CPU figure is the
   one to trust.

2. FusionNet training throughput: one epoch over 256 synthetic utterances
   with the report's shapes (39 MFCC x 162 frames, 768-d embeddings, 6
   classes), batch 64, with and without the embedding branch; and
   prediction throughput.

Timings are medians over interleaved rounds (A/B/A/B...), so a neighbour's
load on a shared machine hits every setting alike. FusionNet rates are per
CPU second and per wall second.

Usage::

    python benchmarks/bench_encoder.py [--rounds 3] [--skip-base] [--device cpu]
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def speechlike(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t + seed)
    y = sum(np.sin(k * 2 * np.pi * np.cumsum(f0) / 16000) / k for k in range(1, 6))
    y *= 0.5 + 0.5 * np.sin(2 * np.pi * 2.3 * t) ** 2
    return (0.3 * y / np.abs(y).max() + 0.01 * rng.standard_normal(n)).astype(np.float32)


def write_base_config(folder: Path) -> Path:
    """wav2vec2-base's architecture (transformers' Wav2Vec2Config defaults) with random weights."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    path = folder / "wav2vec2-base-random"
    torch.manual_seed(0)
    Wav2Vec2Model(Wav2Vec2Config()).save_pretrained(path)
    Wav2Vec2FeatureExtractor(return_attention_mask=False, do_normalize=True).save_pretrained(path)
    return path


def median_times(fn, rounds: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``fn()``."""
    wall, cpu = [], []
    for _ in range(rounds):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def bench_embeddings(models: dict[str, str], rounds: int, device: str) -> list[tuple]:
    import torch

    from skser.features import SpeechEncoder

    waves = [speechlike(48000, seed) for seed in range(16)]
    audio_seconds = sum(len(w) for w in waves) / 16000
    torch.set_num_threads(1)
    settings = [(name, bs) for name in models for bs in (1, 8)]
    for name, path in models.items():  # load once (cached per process), not timed
        SpeechEncoder(path, device=device).fit_transform(waves[:1])
    wall: dict[tuple, list[float]] = {s: [] for s in settings}
    cpu: dict[tuple, list[float]] = {s: [] for s in settings}
    for _ in range(rounds):
        for name, bs in settings:
            enc = SpeechEncoder(models[name], batch_size=bs, device=device)
            w, c = time.perf_counter(), time.process_time()
            enc.transform(waves)
            wall[(name, bs)].append(time.perf_counter() - w)
            cpu[(name, bs)].append(time.process_time() - c)
    return [
        (*s, statistics.median(wall[s]) / audio_seconds, statistics.median(cpu[s]) / audio_seconds)
        for s in settings
    ]


def bench_fusion(rounds: int, device: str) -> list[tuple]:
    import torch

    from skser.models import FusionNet

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    n = 256
    X = {
        "mfcc": rng.standard_normal((n, 162, 39)).astype(np.float32),
        "embedding": rng.standard_normal((n, 768)).astype(np.float32),
    }
    y = np.arange(n) % 6
    rows = []
    for use_embedding in (True, False):
        est = FusionNet(use_embedding=use_embedding, max_epochs=1, batch_size=64, device=device, random_state=0)
        fit_wall, fit_cpu = median_times(lambda: est.fit(X, y), rounds)
        pred_wall, pred_cpu = median_times(lambda: est.predict(X), rounds)
        rows.append((use_embedding, est.n_params_, n / fit_cpu, n / fit_wall, n / pred_cpu, n / pred_wall))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-base", action="store_true", help="only the tiny model")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch
    import transformers

    from _tiny_encoders import make_tiny_encoder

    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} logical CPUs, {platform.python_version()}, "
          f"torch {torch.__version__}, transformers {transformers.__version__}, device {args.device}")
    with tempfile.TemporaryDirectory() as tmp:
        models = {"tiny wav2vec2 (random)": str(make_tiny_encoder("wav2vec2", Path(tmp)))}
        if not args.skip_base:
            models["wav2vec2-base config (random)"] = str(write_base_config(Path(tmp)))
        print("\n| model | batch_size | real-time factor, CPU time | real-time factor, wall clock |")
        print("|---|---|---|---|")
        for name, bs, rtf_wall, rtf_cpu in bench_embeddings(models, args.rounds, args.device):
            print(f"| {name} | {bs} | {rtf_cpu:.4f} | {rtf_wall:.4f} |")
    print("\n| FusionNet | parameters | training, utterances per CPU s (wall s) | "
          "prediction, utterances per CPU s (wall s) |")
    print("|---|---|---|---|")
    for use_embedding, n_params, tr_cpu, tr_wall, pr_cpu, pr_wall in bench_fusion(args.rounds, args.device):
        name = "MFCC + embedding" if use_embedding else "MFCC only"
        print(f"| {name} | {n_params:,} | {tr_cpu:.0f} ({tr_wall:.0f}) | {pr_cpu:.0f} ({pr_wall:.0f}) |")


if __name__ == "__main__":
    main()
