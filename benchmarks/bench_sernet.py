"""SER-Net inference latency, parameter counts and model sizes, next to the report's table.

For each network (``variant="report"`` base and large, ``variant="code"`` base
and large; 8 classes; input 3 s = 300 frames of 268 columns = 120 MFCC + Δ +
ΔΔ, 128 log-mel, 20 prosodic, the SERNetFeatures layout) it measures:

- ``forward``: one call of the eval-mode module under ``torch.inference_mode``
  (what the report's latency table times);
- ``predict_proba``: the estimator call (input validation included);

for batch 1 and batch 32, on one CPU thread, as the median of ``--rounds``
rounds in which the networks are interleaved (so load from other jobs on a
shared machine hits them alike), after warm-up calls. Each time is given as
the CPU time of the calling thread (what one uncontended core would take) and
the wall clock (which on a shared machine includes waiting for a core). On CUDA (when present
and ``--cuda``) the forward pass is timed with synchronisation; no GPU was lent
when the committed numbers were made, so the GPU rows of the report stay
unmeasured.

Sizes: float32 parameters x 4 bytes in MB (10^6 bytes, the report's
convention: 2.3 M -> 9.2 MB) and the size of the saved ``state_dict``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_sernet.py [--rounds 7] [--cuda]
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np
import torch

from skser.models import SERNet, count_parameters

REPORT = {  # the report's §6.1/§6.2 claims
    "latency_ms": {"CPU (Intel i9) batch 1": 42.5, "CPU (Intel i9) batch 32": 312.8,
                   "GPU (RTX 3090) batch 1": 8.2, "GPU (RTX 3090) batch 32": 45.1},
    "params": {"base": 2.3e6, "large": 8.7e6},
    "size_mb": {"base": 9.2, "large": 34.8},
}
NETWORKS = [("report", "base"), ("report", "large"), ("code", "base"), ("code", "large")]
N_FRAMES, N_FEATURES, N_CLASSES = 300, 268, 8


def fitted(variant: str, size: str) -> SERNet:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2 * N_CLASSES, N_FRAMES, N_FEATURES)).astype(np.float32)
    y = np.arange(2 * N_CLASSES) % N_CLASSES
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return SERNet(variant=variant, size=size, max_epochs=1, batch_size=32,
                      validation_fraction=None, device="cpu", random_state=0).fit(X, y)


def state_dict_mb(module: torch.nn.Module) -> float:
    buf = io.BytesIO()
    torch.save(module.state_dict(), buf)
    return buf.tell() / 1e6


def timer(fn, n_calls: int) -> tuple[float, float]:
    """Milliseconds per call: (wall clock, CPU time of this thread)."""
    start, cpu = time.perf_counter(), time.thread_time()
    for _ in range(n_calls):
        fn()
    return ((time.perf_counter() - start) / n_calls * 1e3, (time.thread_time() - cpu) / n_calls * 1e3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cuda", action="store_true", help="also time the forward pass on CUDA")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"skser SER-Net latency | python {platform.python_version()}, torch {torch.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs, torch on 1 thread, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    models = {key: fitted(*key) for key in NETWORKS}
    rng = np.random.default_rng(1)
    inputs = {b: rng.standard_normal((b, N_FRAMES, N_FEATURES)).astype(np.float32) for b in (1, 32)}
    tensors = {b: torch.from_numpy(x) for b, x in inputs.items()}
    calls = {1: 10, 32: 1}
    times: dict = {(key, b, what): [] for key in NETWORKS for b in (1, 32)
                   for what in ("forward", "predict_proba")}
    for key, clf in models.items():  # warm-up
        module = clf.module_.eval()
        with torch.inference_mode():
            for b in (1, 32):
                module(tensors[b])
                clf.predict_proba(inputs[b])
    for _ in range(args.rounds):
        for key, clf in models.items():
            module = clf.module_
            for b in (1, 32):
                with torch.inference_mode():
                    times[key, b, "forward"].append(timer(lambda: module(tensors[b]), calls[b]))
                times[key, b, "predict_proba"].append(
                    timer(lambda: clf.predict_proba(inputs[b]), calls[b]))

    print(f"\nInput: {N_FRAMES} frames x {N_FEATURES} columns (3 s; 120 MFCC+Δ+ΔΔ, 128 log-mel, "
          f"20 prosodic), {N_CLASSES} classes; median of {args.rounds} interleaved rounds (ms).\n")
    print("| network | params (trainable) | params incl. BN statistics | size float32 (MB) | "
          "state_dict (MB) |")
    print("|---|---|---|---|---|")
    for key, clf in models.items():
        module = clf.module_
        n = sum(p.numel() for p in module.parameters())
        print(f"| SERNet(variant={key[0]!r}, size={key[1]!r}) | {n:,} | {count_parameters(module):,} | "
              f"{n * 4 / 1e6:.2f} | {state_dict_mb(module):.2f} |")
    print("\nLatency, ms per call: CPU time of the thread (wall clock in brackets; on a shared "
          "machine the wall clock includes time the process waited for a core).\n")
    print("| network | forward b1 | forward b32 | predict_proba b1 | predict_proba b32 |")
    print("|---|---|---|---|---|")
    for key in models:
        cells = []
        for b, what in ((1, "forward"), (32, "forward"), (1, "predict_proba"), (32, "predict_proba")):
            wall = statistics.median(t[0] for t in times[key, b, what])
            cpu = statistics.median(t[1] for t in times[key, b, what])
            cells.append(f"{cpu:.1f} ({wall:.1f})")
        print(f"| SERNet(variant={key[0]!r}, size={key[1]!r}) | " + " | ".join(cells) + " |")
    params, size_mb = REPORT["params"], REPORT["size_mb"]
    print("\nReport's claims: "
          + ", ".join(f"{s} {params[s] / 1e6:.1f} M params / {size_mb[s]} MB" for s in params)
          + "; latency " + ", ".join(f"{k} {v} ms" for k, v in REPORT["latency_ms"].items()) + ".")
    if args.cuda and torch.cuda.is_available():
        print("\nCUDA forward (ms, median of rounds):")
        for key, clf in models.items():
            module = clf.module_.to("cuda").eval()
            row = []
            for b in (1, 32):
                x = tensors[b].to("cuda")
                with torch.inference_mode():
                    for _ in range(5):
                        module(x)
                    torch.cuda.synchronize()
                    ts = []
                    for _ in range(args.rounds):
                        start = time.perf_counter()
                        module(x)
                        torch.cuda.synchronize()
                        ts.append((time.perf_counter() - start) * 1e3)
                row.append(statistics.median(ts))
            print(f"  {key}: b1 {row[0]:.2f}  b32 {row[1]:.2f}")
    else:
        print("GPU: not measured (no GPU lent to this run).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
