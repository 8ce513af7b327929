"""Property-based tests of the audio contract (hypothesis).

Over lengths, dtypes, amplitudes, sampling rates and channel layouts,
``LoadAudio`` and the frame transformers (``MFCC``, ``LogMel``, ``LowLevel``)

* raise only the documented errors (``AudioInputError`` and its subclass
  ``AudioDecodeError``, ``FileNotFoundError``),
* return one output row per input row,
* never return NaN or inf in a real (non-padding) frame.

Examples are few and small (``max_examples`` <= 25) so that the file runs in
seconds; hypothesis' database replays any failure it finds.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from skser import MFCC, LoadAudio, LogMel, LowLevel, frame_lengths  # noqa: E402
from skser.exceptions import AudioInputError  # noqa: E402

DOCUMENTED = (AudioInputError, FileNotFoundError)
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DTYPES = [np.int16, np.int32, np.uint8, np.float32, np.float64]
AMPLITUDES = [0.0, 1e-30, 1e-6, 0.01, 0.5, 1.0, 8.0, 3e4, 1e30]
TRANSFORMERS = {
    "LoadAudio": lambda sr: LoadAudio(sr=sr),
    "MFCC": lambda sr: MFCC(sr=sr, n_mfcc=13, deltas=1),
    "LogMel": lambda sr: LogMel(sr=sr, n_mels=40, n_fft=512, hop_length=160),
    "LowLevel": lambda sr: LowLevel(sr=sr, n_fft=512, hop_length=160),
}


@st.composite
def waveforms(draw, max_len: int = 6000) -> np.ndarray:
    """One 1-D waveform: any documented dtype, length and amplitude, maybe NaN/inf."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    n = draw(st.one_of(st.just(0), st.integers(1, 64), st.integers(65, max_len)))
    seed = draw(st.integers(0, 2**16))
    noise = np.random.default_rng(seed).uniform(-1.0, 1.0, n)
    if dtype.kind == "f":
        y = (noise * draw(st.sampled_from(AMPLITUDES))).astype(dtype)
        if n and draw(st.integers(0, 9)) == 0:
            y[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return y
    info = np.iinfo(dtype)
    scale = draw(st.sampled_from([0.0, 0.001, 0.5, 1.0]))
    mid = (int(info.max) + int(info.min)) / 2
    half = (int(info.max) - int(info.min)) / 2
    return np.clip(np.round(mid + noise * half * scale), info.min, info.max).astype(dtype)


def _valid_samples(y: np.ndarray) -> bool:
    """Non-empty, finite, and not so loud that float32 features overflow."""
    y = np.asarray(y)
    return y.size > 0 and bool(np.all(np.isfinite(y))) and (
        y.dtype.kind != "f" or float(np.max(np.abs(y))) < 1e5
    )


def _check_output(name: str, est, X, n_rows: int, *, valid: bool) -> None:
    """Run ``est`` on ``X``: one finite row per input row, or (for invalid input
    only) a documented error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are allowed; errors are checked
        try:
            out = est.fit_transform(X)
        except DOCUMENTED:
            if valid:
                raise
            return
    assert len(out) == n_rows
    if name == "LoadAudio":
        for y in out:
            assert y.dtype == np.float32 and y.ndim == 1 and y.size > 0
            assert np.all(np.isfinite(y))
        return
    assert out.dtype == np.float32 and out.ndim == 3
    lengths = frame_lengths(out)
    assert np.all(lengths >= 1)
    for row, n in zip(out, lengths):
        assert np.all(np.isfinite(row[:n])), "NaN or inf in a real frame"
        assert np.all(np.isnan(row[n:])), "padding is all NaN"


@pytest.mark.parametrize("name", list(TRANSFORMERS))
@FAST
@given(rows=st.lists(waveforms(), min_size=0, max_size=4),
       sr=st.sampled_from([8000, 16000, 22050]))
def test_lists_of_waveforms(name, rows, sr):
    valid = bool(rows) and all(_valid_samples(y) for y in rows)
    _check_output(name, TRANSFORMERS[name](sr), rows, len(rows), valid=valid)


@pytest.mark.parametrize("name", list(TRANSFORMERS))
@FAST
@given(dtype=st.sampled_from(DTYPES),
       shape=st.one_of(
           st.tuples(st.integers(0, 5), st.integers(0, 5000)),       # batch of waveforms
           st.tuples(st.integers(400, 9000), st.integers(1, 2)),     # (samples, channels)
           st.tuples(st.integers(2, 3), st.integers(2048, 9000)),    # (channels, samples)
       ),
       amplitude=st.sampled_from([0.0, 0.3, 1.0]),
       seed=st.integers(0, 2**16))
def test_two_d_arrays_of_any_layout(name, dtype, shape, amplitude, seed):
    dtype = np.dtype(dtype)
    noise = np.random.default_rng(seed).uniform(-1, 1, shape) * amplitude
    if dtype.kind == "f":
        X = noise.astype(dtype)
    else:
        info = np.iinfo(dtype)
        mid, half = (int(info.max) + int(info.min)) / 2, (int(info.max) - int(info.min)) / 2
        X = np.clip(np.round(mid + noise * half), info.min, info.max).astype(dtype)
    est = TRANSFORMERS[name](16000)
    n_rows, n_cols = shape
    # (samples, channels) is rejected: rows shorter than one frame, at least a frame of rows.
    stereo_like = 0 < n_cols < est._analysis_frame() <= n_rows
    valid = n_rows > 0 and n_cols > 0 and not stereo_like
    _check_output(name, est, X, n_rows, valid=valid)


@pytest.mark.parametrize("name", list(TRANSFORMERS))
@FAST
@given(file_sr=st.sampled_from([8000, 11025, 16000, 22050, 44100, 96000]),
       channels=st.integers(1, 3),
       seconds=st.sampled_from([0.0, 0.001, 0.05, 0.4]),
       subtype=st.sampled_from(["PCM_16", "PCM_24", "FLOAT"]),
       fmt=st.sampled_from(["WAV", "FLAC", "AIFF"]),
       sr=st.sampled_from([8000, 16000]),
       seed=st.integers(0, 2**16))
def test_files_of_any_rate_and_channel_count(name, file_sr, channels, seconds, subtype, fmt,
                                            sr, seed):
    if fmt == "FLAC" and subtype == "FLOAT":
        subtype = "PCM_16"  # FLAC stores integers only
    n = int(seconds * file_sr)
    y = np.random.default_rng(seed).uniform(-0.5, 0.5, (n, channels))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"x.{fmt.lower()}"
        sf.write(path, y, file_sr, subtype=subtype, format=fmt)
        missing = Path(tmp) / "missing.wav"
        X = [str(path), str(missing)] if seed % 7 == 0 else [str(path)]
        _check_output(name, TRANSFORMERS[name](sr), X, len(X), valid=n > 0 and len(X) == 1)
