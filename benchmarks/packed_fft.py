"""Two real frames packed into one complex FFT, against the module's real FFT.

The classic trick: ``z = x1 + i x2`` gives ``X1[k] = (Z[k] + conj(Z[N-k])) / 2``
and ``X2[k] = (Z[k] - conj(Z[N-k])) / 2i`` from one complex FFT of half as many
frames. Measured here for the power spectrum that :class:`MFCCModule` needs
(the bins some mel band uses), on one chunk of 3 rows of real EMO-DB 4-class
clips centre-cropped/padded to 3 s (zero-padded clips hold silent frames):

* CPU ms (medians of ``--rounds`` interleaved rounds, one thread): the
  module's way (``torch.fft.rfft``, squares of the interleaved pairs, their
  sums), the packed way (interleave even/odd frames into a complex buffer,
  ``torch.fft.fft``, unpack ``|X1|^2`` and ``|X2|^2``), and each FFT alone;
* error of the packed power spectrum: the magnitude left in frames that are
  exactly silent, the largest error relative to each frame's largest bin, and
  the largest difference it makes to ``log(mel magnitude + 1e-6)`` (the
  Light-SERNet preset's log; the test tolerance on its coefficients is 1e-4).

Run::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. \\
        python benchmarks/packed_fft.py --data $SKSER_DATA
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from skser.features import MFCC, MFCCModule

from bench_frontend import interleaved, real_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="folder holding emodb-4class/ (e.g. $SKSER_DATA)")
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; torch {torch.__version__}, "
          f"1 thread; medians of {args.rounds} interleaved rounds")
    print("| preset (3 rows) | rfft + power ms | packed FFT + unpack ms | rfft alone ms "
          "| complex FFT of half the frames ms | max magnitude in silent frames "
          "| max error / frame peak | max log-mel difference |")
    print("|---|---|---|---|---|---|---|---|")
    for name, mfcc in [("light_sernet", MFCC.light_sernet(duration=3.0)),
                       ("timnet", MFCC.timnet(duration=3.0))]:
        module = MFCCModule.from_transformer(mfcc)
        x = torch.from_numpy(real_batch(args.data, mfcc.sr)[:3])
        half = module.n_fft // 2 if module.center else 0
        y = torch.nn.functional.pad(x, (half, half))
        n, (lo, hi) = module.n_fft, module._bins
        frames = (y.unfold(1, n, module.hop_length) * module.window).reshape(-1, n)
        frames = frames[: frames.shape[0] // 2 * 2]
        packed_frames = torch.empty(frames.shape[0] // 2, n, dtype=torch.complex64)
        power = torch.empty(frames.shape[0], hi - lo)
        mirror = (n - torch.arange(lo, hi)) % n

        def plain():
            squares = torch.view_as_real(torch.fft.rfft(frames)[:, lo:hi]).square_()
            return torch.add(squares[..., 0], squares[..., 1], out=power)

        def packed():
            pairs = torch.view_as_real(packed_frames)
            pairs[..., 0].copy_(frames[0::2])
            pairs[..., 1].copy_(frames[1::2])
            spectrum = torch.fft.fft(packed_frames)
            a, b = spectrum[:, lo:hi], spectrum[:, mirror].conj()
            for rows, part in ((slice(0, None, 2), a + b), (slice(1, None, 2), a - b)):
                squares = torch.view_as_real(part).square_()
                torch.add(squares[..., 0], squares[..., 1], out=power[rows]).mul_(0.25)
            return power

        reference, got = plain().clone().sqrt_(), packed().clone().sqrt_()
        silent = reference.amax(1) == 0
        peak = reference.amax(1)
        rel = ((got - reference).abs().amax(1)[~silent] / peak[~silent]).max()
        basis = module.mel_basis[lo:hi]
        log_diff = ((got @ basis + 1e-6).log() - (reference @ basis + 1e-6).log()).abs().max()
        runs = {"plain": plain, "packed": packed, "rfft": lambda: torch.fft.rfft(frames),
                "fft": lambda: torch.fft.fft(packed_frames)}
        med = {k: 1e3 * cpu for k, (cpu, _) in interleaved(runs, args.rounds).items()}
        silent_max = float(got[silent].max()) if silent.any() else float("nan")
        print(f"| {name} | {med['plain']:.2f} | {med['packed']:.2f} | {med['rfft']:.2f} | "
              f"{med['fft']:.2f} | {silent_max:.1e} | {float(rel):.1e} | {float(log_diff):.1e} |")


if __name__ == "__main__":
    main()
