"""Peak memory of MFCC / LogMel / LoadAudio on one long recording.

For each duration, a fresh Python process writes a 16 kHz mono 16-bit WAV of
noise-like speech-band audio of that length, imports skser, records its peak
resident set size (``ru_maxrss``), then runs ``transform([path])`` and records
the peak again. The difference is the extra memory the transform needed. The
audio is synthetic: memory does not depend on what is said.

Usage::

    python benchmarks/long_audio_memory.py [--durations 60 600 3600]
        [--transformers MFCC LogMel LoadAudio]

Prints one line per (transformer, duration): the extra peak memory in MiB and
MiB per minute of audio, and the size of the output. Each measurement runs in
its own process, so the numbers do not depend on the order.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, resource, sys, time
import numpy as np, soundfile as sf
path, name, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
sr = 16000
rng = np.random.default_rng(0)
with sf.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_16") as f:
    block = sr * 60
    for start in range(0, int(seconds * sr), block):
        n = min(block, int(seconds * sr) - start)
        f.write((0.1 * rng.standard_normal(n)).astype(np.float32))
import skser
est = getattr(skser, name)()
est.transform([np.zeros(sr, dtype=np.float32)])  # warm-up: filterbanks, imports
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
out = est.transform([path])
elapsed = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
nbytes = out[0].nbytes if out.dtype == object else out.nbytes
print(json.dumps({"extra_mib": (after - before) / 1024, "seconds": elapsed,
                  "output_mib": nbytes / 2**20, "shape": list(np.shape(out))}))
"""


def measure(name: str, seconds: float) -> dict:
    """Run one measurement in a fresh process; return its JSON result."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "long.wav")
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, path, name, str(seconds)],
            check=True, capture_output=True, text=True,
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[60, 600, 3600])
    parser.add_argument("--transformers", nargs="+", default=["MFCC", "LogMel", "LoadAudio"])
    args = parser.parse_args()
    for name in args.transformers:
        for seconds in args.durations:
            r = measure(name, seconds)
            minutes = seconds / 60
            print(f"{name:9s} {seconds:6.0f} s: extra peak {r['extra_mib']:7.1f} MiB "
                  f"({r['extra_mib'] / minutes:5.2f} MiB per minute of audio), "
                  f"output {r['output_mib']:6.1f} MiB, shape {r['shape']}, "
                  f"{r['seconds']:.1f} s", flush=True)


if __name__ == "__main__":
    main()
