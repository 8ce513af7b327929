"""Peak memory and speed of skser.timeline.predict_timeline on long recordings.

For each duration, a fresh Python process writes a 16 kHz mono 16-bit WAV of
that length (alternating 10 s blocks of a 300 Hz and a 2 kHz tone with a little
noise), fits a tiny ``MFCC(n_mfcc=13) -> Functionals -> LogisticRegression``
pipeline on generated tones, warms it up, records its peak resident set size
(``ru_maxrss``), runs ``predict_timeline(pipe, path, window=3.0, hop=1.0)``
and records the peak again. The difference is the extra memory the timeline
needed; ``MFCC().transform([path])`` of the whole file is the comparison
(``benchmarks/long_audio_memory.py``).

Usage::

    python benchmarks/bench_timeline.py [--durations 60 600 3600] [--batch-size 32]

Prints one line per duration: the extra peak memory in MiB, the number of
windows, the wall time and the real-time factor (audio seconds per second).
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
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from skser import MFCC, Functionals
from skser.timeline import predict_timeline
path, seconds, batch_size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
sr = 16000
rng = np.random.default_rng(0)
def tone(freq, n):
    t = np.arange(n) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(n)).astype(np.float32)
with sf.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_16") as f:
    block = 10 * sr
    for k, start in enumerate(range(0, int(seconds * sr), block)):
        f.write(tone(300.0 if k % 2 else 2000.0, min(block, int(seconds * sr) - start)))
X = [tone(f * rng.uniform(0.9, 1.1), 2 * sr) for f in [300.0] * 6 + [2000.0] * 6]
pipe = make_pipeline(MFCC(n_mfcc=13), Functionals(), LogisticRegression(max_iter=500))
pipe.fit(X, ["low"] * 6 + ["high"] * 6)
pipe.predict_proba([np.zeros(3 * sr, np.float32)] * batch_size)  # warm-up
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
df = predict_timeline(pipe, path, window=3.0, hop=1.0, batch_size=batch_size)
elapsed = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"extra_mib": (after - before) / 1024, "seconds": elapsed,
                  "windows": len(df)}))
"""


def measure(seconds: float, batch_size: int) -> dict:
    """Run one measurement in a fresh process; return its JSON result."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "long.wav")
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, path, str(seconds), str(batch_size)],
            check=True, capture_output=True, text=True,
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[60, 600, 3600])
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    for seconds in args.durations:
        r = measure(seconds, args.batch_size)
        print(f"{seconds:6.0f} s: extra peak {r['extra_mib']:6.1f} MiB, "
              f"{r['windows']} windows, {r['seconds']:.1f} s "
              f"({seconds / r['seconds']:.0f}x real time)", flush=True)


if __name__ == "__main__":
    main()
