"""An extraction over many files with ``memory=`` resumes after an interruption.

Per-file caching (skser._parallel.map_rows) means the files finished before a
failure are read back from the cache on the next run; only the rest is
computed. docs/scale.md relies on this for long extractions on a cluster.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
import soundfile as sf

from skser import MFCC
from skser.exceptions import AudioDecodeError

SR = 16000


def test_interrupted_cached_extraction_resumes(tmp_path, monkeypatch):
    calls = []
    original = MFCC._frames_of_waveform

    def counting(self, y):
        calls.append(len(y))
        return original(self, y)

    monkeypatch.setattr(MFCC, "_frames_of_waveform", counting)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(6):
        paths.append(tmp_path / f"u{i}.wav")
        sf.write(paths[-1], 0.1 * rng.standard_normal(SR // 2), SR, subtype="FLOAT")
    broken = paths[4]
    good_audio = sf.read(broken, dtype="float32")[0]
    broken.write_bytes(b"not audio at all")  # the run stops at this file
    cache = tmp_path / "cache"

    with pytest.raises(AudioDecodeError, match="u4.wav"):
        MFCC(memory=str(cache)).fit_transform(paths)
    assert len(calls) == 4  # u0-u3 done and cached before the failure

    sf.write(broken, good_audio, SR, subtype="FLOAT")  # fixed: run again
    resumed = MFCC(memory=str(cache)).fit_transform(paths)
    assert len(calls) == 6  # only u4 and u5 computed this time
    np.testing.assert_array_equal(resumed, MFCC().fit_transform(paths))
