"""Micro-benchmarks behind the choices of the torch MFCC front end's CPU path.

Each group times alternative torch formulations of one step of
:class:`~skser.features.MFCCModule` on the shapes of one CPU chunk of 3 s
clips (Light-SERNet: 3 rows x 184 frames x 1024 samples; TIM-Net: 2 rows x
130 x 2048), one thread, CPU time, medians of ``--rounds`` interleaved rounds
of ``--inner`` calls. Ratios are relative to the first row of each group (the
formulation the module uses; > 1: faster than it).

Groups:

* ``rfft``: ``torch.fft.rfft`` into a fresh tensor vs with ``out=`` a buffer
  (torch computes into a fresh tensor and copies);
* ``power``: ``|X|^2`` of the bins the filterbank uses: squares of the
  interleaved (real, imaginary) pairs plus one strided ``add`` vs
  ``torch.abs`` of the complex spectrum, ``hypot``, ``linalg.vector_norm``,
  ``sum(-1)`` of the squares (each on a fresh copy of the spectrum, copy
  included in every row);
* ``sqrt`` (Light-SERNet, power 1): the square root of a power spectrum of
  which a fifth are exact zeros (silent frames), with and without raising
  them to 1e-30 first, and of the same spectrum without zeros;
* ``mel``: the filterbank product as dense blocks of 16 bands (the module:
  contiguous cached blocks), of 8 and 32 bands, of 16 bands sliced from the
  filterbank at each call, and as the full dense product;
* ``groups``: the largest |sample| of each group of 64 samples of 32 rows of
  48,000 (the percentile's first stage): ``amax`` and ``amin`` vs
  ``aminmax`` and ``linalg.vector_norm(ord=inf)``;
* ``compile`` (``--compile``; needs a C++ compiler): ``torch.compile`` of the
  squares-sum-root step vs the eager passes.

Run::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. \\
        python benchmarks/frontend_micro.py --compile
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

import skser.features._torch_frontend as frontend
from skser.features import MFCC, MFCCModule

from bench_frontend import interleaved


def _group(title: str, runs: dict, rounds: int, inner: int) -> None:
    """One table row per run: median CPU microseconds per call, and the first run's time / its."""
    repeated = {k: (lambda fn=fn: [fn() for _ in range(inner)]) for k, fn in runs.items()}
    med = {k: cpu / inner * 1e6 for k, (cpu, _) in interleaved(repeated, rounds).items()}
    first = next(iter(med.values()))
    for key, us in med.items():
        print(f"| {title} | {key} | {us:.0f} | {first / us:.2f} |")


def _module(preset: str, bands: int = 16) -> MFCCModule:
    old = frontend._MEL_BLOCK_BANDS
    frontend._MEL_BLOCK_BANDS = bands
    try:
        mfcc = (MFCC.light_sernet(duration=3.0) if preset == "light_sernet"
                else MFCC.timnet(duration=3.0))
        return MFCCModule.from_transformer(mfcc)
    finally:
        frontend._MEL_BLOCK_BANDS = old


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--inner", type=int, default=10)
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; torch {torch.__version__} "
          f"({torch.backends.cpu.get_cpu_capability()}), 1 thread; medians of {args.rounds} "
          f"interleaved rounds of {args.inner} calls; load average {os.getloadavg()[0]:.1f}")
    print("| group | formulation | CPU us per call | speed vs first row |")
    print("|---|---|---|---|")
    r, a = args.rounds, args.inner
    for preset in ("light_sernet", "timnet"):
        module = _module(preset)
        rows = module._rows_per_chunk()
        lo, hi = module._bins
        frames = torch.randn(rows, module.n_frames, module.n_fft) * 0.1
        spectrum = torch.fft.rfft(frames)
        spectrum[:, : module.n_frames // 5] = 0  # silent frames
        buffer = torch.empty_like(spectrum)
        power_buffer = torch.empty(rows, module.n_frames, hi - lo)
        tag = f"{preset}: "

        _group(tag + "rfft", {
            "rfft, fresh output": lambda: torch.fft.rfft(frames),
            "rfft, out= buffer": lambda: torch.fft.rfft(frames, out=buffer),
        }, r, a)

        def fresh() -> torch.Tensor:
            return buffer.copy_(spectrum)[..., lo:hi]

        def squares_add():
            squares = torch.view_as_real(fresh()).square_()
            return torch.add(squares[..., 0], squares[..., 1], out=power_buffer)

        def hypot():
            pairs = torch.view_as_real(fresh())
            return torch.hypot(pairs[..., 0], pairs[..., 1])

        _group(tag + "power", {
            "squares + strided add": squares_add,
            "abs(complex) (a magnitude)": lambda: torch.abs(fresh()),
            "hypot (a magnitude)": hypot,
            "vector_norm(dim=-1) (a magnitude)":
                lambda: torch.linalg.vector_norm(torch.view_as_real(fresh()), dim=-1),
            "squares + sum(-1)": lambda: torch.view_as_real(fresh()).square_().sum(-1),
        }, r, a)

        power = squares_add().clone()
        nonzero = power + 1.0
        work = torch.empty_like(power)
        if module.power == 1.0:
            _group(tag + "sqrt", {
                "zeros raised to 1e-30, sqrt":
                    lambda: work.copy_(power).clamp_(min=1e-30).sqrt_(),
                "sqrt with exact zeros": lambda: work.copy_(power).sqrt_(),
                "sqrt, no zeros": lambda: work.copy_(nonzero).sqrt_(),
            }, r, a)

        flat = power.view(-1, hi - lo)
        mel_runs = {}
        for bands in (16, 8, 32):
            m = _module(preset, bands)
            mel_runs[f"blocks of {bands} bands"] = (
                lambda m=m: torch.cat([torch.mm(flat[:, f:l], b) for (_, _, f, l), b
                                       in zip(m._mel_blocks, m._block_bases())], dim=1))
        mel_runs["blocks of 16 bands sliced from the filterbank"] = lambda: torch.cat(
            [torch.mm(flat[:, f:l], module.mel_basis[lo + f : lo + l, s:e])
             for s, e, f, l in module._mel_blocks], dim=1)
        mel_runs["dense product"] = lambda: flat @ module.mel_basis[lo:hi]
        _group(tag + "mel", mel_runs, r, a)

        if args.compile:
            def magnitude(pairs: torch.Tensor) -> torch.Tensor:
                return torch.sqrt(pairs[..., 0] * pairs[..., 0] + pairs[..., 1] * pairs[..., 1])

            compiled = torch.compile(magnitude, dynamic=False)
            with torch.no_grad():
                _group(tag + "compile", {
                    "eager squares, add, sqrt": lambda: squares_add().sqrt_(),
                    "torch.compile": lambda: compiled(torch.view_as_real(fresh())),
                }, r, a)

    grid = torch.randn(32, 48000).view(32, 750, 64)
    _group("percentile: group maxima", {
        "amax, amin": lambda: torch.maximum(grid.amax(dim=2), grid.amin(dim=2).neg_()),
        "aminmax": lambda: torch.aminmax(grid, dim=2),
        "vector_norm(ord=inf)": lambda: torch.linalg.vector_norm(grid, ord=float("inf"), dim=2),
    }, r, a)


if __name__ == "__main__":
    main()
