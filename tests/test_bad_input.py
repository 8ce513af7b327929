"""Every bad input of the audio contract gets its documented outcome.

The table ``CASES`` is the one in ``docs/audio-input.md``: keep them in step.
Each case builds ``X`` (in ``tmp_path``) and states what ``LoadAudio`` and the
frame transformers do with it: an error of a documented type whose message
names the row or file and what to do, a warning, or a result with one row per
input row. No row is ever dropped.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
import re
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import skser._audio
from skser import MFCC, LoadAudio, LogMel, LowLevel, frame_lengths
from skser.exceptions import AudioDecodeError, AudioInputError, AudioInputWarning
from skser.features import _logmel

SR = 16000


def _tone(seconds: float = 0.5, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def _stereo_int16(seconds: float = 1.0) -> np.ndarray:
    left = _tone(seconds)
    right = 0.9 * left + 0.01 * np.random.default_rng(0).standard_normal(left.size)
    return (np.stack([left, right], axis=1) * 32767).astype(np.int16)


def _write(path: Path, y: np.ndarray, sr: int = SR, **kw) -> str:
    sf.write(path, y, sr, **kw)
    return str(path)


# -- the inputs ---------------------------------------------------------------
def missing_file(tmp: Path):
    return [str(tmp / "nope.wav")]


def corrupt_file(tmp: Path):
    good = Path(_write(tmp / "good.wav", _tone()))
    bad = tmp / "corrupt.wav"
    bad.write_bytes(good.read_bytes()[:30] + b"\0" * 8)  # header cut inside the fmt chunk
    return [str(bad)]


def text_named_wav(tmp: Path):
    (tmp / "notes.wav").write_text("this is a text file, not audio\n" * 20)
    return [str(tmp / "notes.wav")]


def aiff_named_wav(tmp: Path):
    _write(tmp / "x.aiff", _tone(), format="AIFF")
    os.rename(tmp / "x.aiff", tmp / "x.wav")
    return [str(tmp / "x.wav")]


def file_96k(tmp: Path):
    return [_write(tmp / "hi.wav", _tone(0.5, 96000), 96000)]


def stereo_file(tmp: Path):
    return [_write(tmp / "stereo.wav", _stereo_int16(), subtype="PCM_16")]


def samples_by_channels(tmp: Path):
    return _stereo_int16()  # (16000, 2): one recording, not 16000 utterances


def samples_by_channels_float(tmp: Path):
    return _stereo_int16().astype(np.float32) / 32768


def channels_by_samples(tmp: Path):
    return _stereo_int16().T  # (2, 16000): read as 2 utterances


def empty_list(tmp: Path):
    return []


def zero_row_array(tmp: Path):
    return np.zeros((0, SR), dtype=np.float32)


def empty_waveform(tmp: Path):
    return [_tone(), np.zeros(0, dtype=np.float32)]


def nan_samples(tmp: Path):
    y = _tone()
    y[100] = np.nan
    return [_tone(), y]


def inf_samples(tmp: Path):
    y = _tone()
    y[-1] = np.inf
    return [y]


def shorter_than_one_frame(tmp: Path):
    return [_tone(), _tone()[:100]]


def missing_row(tmp: Path):
    return pd.Series([_write(tmp / "a.wav", _tone()), None])


def arrow_strings(tmp: Path):
    paths = [_write(tmp / "a.wav", _tone()), _write(tmp / "b.wav", _tone(0.3))]
    return pd.Series(paths, dtype="str")  # pandas 3: Arrow-backed by default


def arrow_string_array(tmp: Path):
    return arrow_strings(tmp).array


def directory(tmp: Path):
    (tmp / "clips").mkdir()
    _write(tmp / "clips" / "a.wav", _tone())
    return [str(tmp / "clips")]


def single_path(tmp: Path):
    return _write(tmp / "a.wav", _tone())


# -- the outcomes -------------------------------------------------------------
@dataclass(frozen=True)
class Error:
    type: type
    match: str


@dataclass(frozen=True)
class Warns:
    type: type
    match: str
    n_rows: int


@dataclass(frozen=True)
class Rows:
    n_rows: int


@dataclass(frozen=True)
class Case:
    name: str
    make_X: Callable[[Path], object]
    outcome: Error | Warns | Rows


CASES = [
    Case("missing file", missing_file,
         Error(FileNotFoundError, r"row 0 \('.*nope\.wav'\) does not exist; check the path")),
    Case("corrupt file", corrupt_file,
         Error(AudioDecodeError, r"Cannot decode audio file row 0 .*corrupt\.wav.*convert it")),
    Case("text renamed .wav", text_named_wav,
         Error(AudioDecodeError, r"row 0 .*notes\.wav.*Format not recognised")),
    Case("AIFF data named .wav", aiff_named_wav, Rows(1)),
    Case("96 kHz file", file_96k, Rows(1)),
    Case("stereo file", stereo_file, Rows(1)),
    Case("(n, 2) int16 array: one stereo recording", samples_by_channels,
         Error(AudioInputError, r"shape \(16000, 2\).*\(samples, channels\).*X\.mean\(axis=1\)")),
    Case("(n, 2) float array: one stereo recording", samples_by_channels_float,
         Error(AudioInputError, r"shape \(16000, 2\).*shorter than one analysis frame")),
    Case("(2, n) array: one stereo recording", channels_by_samples,
         Warns(AudioInputWarning, r"2 rows .* nearly identical.*X\.mean\(axis=0\)", 2)),
    Case("empty list", empty_list, Error(AudioInputError, r"X has 0 rows of audio")),
    Case("0-row array", zero_row_array, Error(AudioInputError, r"X has 0 rows of audio")),
    Case("empty waveform", empty_waveform,
         Error(AudioInputError, r"row 1 is empty \(0 samples\); remove it")),
    Case("NaN samples", nan_samples,
         Error(AudioInputError, r"row 1 contains 1 NaN or infinite sample\(s\)")),
    Case("inf samples", inf_samples,
         Error(AudioInputError, r"row 0 contains 1 NaN or infinite sample\(s\)")),
    Case("shorter than one frame", shorter_than_one_frame, Rows(2)),
    Case("missing row (None)", missing_row,
         Error(AudioInputError, r"row 1 is missing \((None|nan)\); remove the row")),
    Case("pandas 3 Arrow strings (Series)", arrow_strings, Rows(2)),
    Case("pandas 3 Arrow strings (ArrowStringArray)", arrow_string_array, Rows(2)),
    Case("path to a directory", directory,
         Error(AudioInputError, r"row 0 .*clips'\) is a directory, not an audio file")),
    Case("a single path, not a list", single_path,
         Error(AudioInputError, r"X is a single path .* pass a sequence of paths")),
]

ESTIMATORS = [LoadAudio, MFCC, LogMel, LowLevel]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("cls", ESTIMATORS, ids=[c.__name__ for c in ESTIMATORS])
def test_bad_input_gets_its_documented_outcome(case, cls, tmp_path):
    X = case.make_X(tmp_path)
    outcome = case.outcome
    est = cls()
    if isinstance(outcome, Error):
        with pytest.raises(outcome.type, match=outcome.match):
            est.fit_transform(X)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = est.fit_transform(X)
    ours = [w for w in caught if issubclass(w.category, AudioInputWarning)]
    if isinstance(outcome, Warns):
        assert len(ours) == 1, [str(w.message) for w in ours]  # once per call
        assert issubclass(ours[0].category, outcome.type)
        assert re.search(outcome.match, str(ours[0].message)), str(ours[0].message)
    else:
        assert not ours, [str(w.message) for w in ours]
    assert len(out) == outcome.n_rows  # one output row per input row
    rows = out if cls is LoadAudio else [r[: n] for r, n in zip(out, frame_lengths(out))]
    for r in rows:
        assert r.size > 0 and np.all(np.isfinite(r))


def test_docs_table_lists_every_case():
    doc = Path(__file__).parents[1] / "docs" / "audio-input.md"
    text = doc.read_text(encoding="utf-8").replace("`", "")
    for case in CASES:
        assert f"| {case.name} |" in text, case.name


# -- details the table cannot show --------------------------------------------
def test_stereo_file_is_averaged_and_96k_is_resampled(tmp_path):
    (stereo,) = LoadAudio().transform(stereo_file(tmp_path))
    pcm = _stereo_int16() / 32768
    np.testing.assert_allclose(stereo, pcm.mean(axis=1), atol=1e-4)
    (hi,) = LoadAudio(sr=SR).transform(file_96k(tmp_path))
    assert abs(hi.size - SR // 2) <= 1


def test_aiff_named_wav_decodes_like_the_aiff(tmp_path):
    (y,) = LoadAudio().transform(aiff_named_wav(tmp_path))
    np.testing.assert_allclose(y, _tone(), atol=1e-4)


def test_short_rows_of_a_list_are_zero_padded_to_one_frame():
    out = MFCC(center=False).fit_transform([_tone()[:100]])
    assert out.shape[:2] == (1, 1) and np.all(np.isfinite(out))


def test_short_rows_of_a_small_2d_array_are_still_accepted():
    # Fewer rows than one analysis frame: not a recording laid out (samples,
    # channels); read as waveforms and zero-padded like short 1-D rows.
    X = np.random.default_rng(0).uniform(-0.5, 0.5, size=(30, 3))
    assert MFCC().fit_transform(X).shape[0] == 30


def test_channels_by_samples_with_one_label_fails_in_fit_naming_the_layout():
    with pytest.raises(AudioInputError, match=r"X has 2 rows but y has 1 label.*axis=0"):
        MFCC().fit(channels_by_samples(None), ["anger"])


def test_two_different_utterances_in_a_2d_array_do_not_warn():
    rng = np.random.default_rng(1)
    X = rng.uniform(-0.3, 0.3, size=(2, SR)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioInputWarning)
        assert MFCC().fit_transform(X).shape[0] == 2


def test_unreadable_file_names_it(tmp_path, monkeypatch):
    path = _write(tmp_path / "locked.wav", _tone())

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(skser._audio, "open", denied, raising=False)
    with pytest.raises(AudioDecodeError, match=r"row 0 .*locked\.wav.*permission denied"):
        LoadAudio().transform([path])


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="runs as root, which reads files whatever their permissions",
)
def test_unreadable_file_for_real(tmp_path):
    path = Path(_write(tmp_path / "locked.wav", _tone()))
    path.chmod(0)
    try:
        with pytest.raises(AudioDecodeError, match="permission denied"):
            LoadAudio().transform([str(path)])
    finally:
        path.chmod(0o644)


def test_fixed_duration_warns_once_with_the_counts():
    long, short = np.tile(_tone(), 20), _tone()  # 10 s and 0.5 s
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = MFCC(duration=1.0).fit_transform([long, short, long])
    ours = [w for w in caught if issubclass(w.category, AudioInputWarning)]
    assert len(ours) == 1
    assert "2 of 3 recordings are more than twice as long as duration=1.0 s" in str(
        ours[0].message
    )
    assert "the longest is 10.0 s" in str(ours[0].message)
    assert out.shape[0] == 3


def test_fixed_duration_does_not_warn_on_ordinary_crops():
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioInputWarning)
        MFCC(duration=1.0).fit_transform([np.tile(_tone(), 3)])  # 1.5 s -> 1 s


@pytest.mark.parametrize("transformer", [MFCC, LogMel, LowLevel], ids=lambda t: t.__name__)
def test_features_that_overflow_are_an_error_not_nan(transformer):
    # LowLevel: librosa itself stops on a non-finite intermediate (a spike of 2.7e29,
    # found by the property tests); that is reported as the same documented error.
    spike = np.zeros(4000, dtype=np.float32)
    spike[100] = 2.7e29
    # MFCC deltas: scipy's Savitzky-Golay fit stops on the overflowed coefficients first.
    loud_noise = np.random.default_rng(0).uniform(-9e29, 9e29, 1024).astype(np.float32)
    extra = {"deltas": 2} if transformer is MFCC else {}
    for y in (_tone() * np.float32(1e30), spike, loud_noise):
        with pytest.raises(AudioInputError, match=r"row 0 are not finite .*Scale float samples"):
            transformer(**extra).fit_transform([y])


def test_an_hour_long_recording_costs_memory_linear_in_its_length():
    # The rule of docs/audio-input.md: the mel analysis holds one block of
    # spectrum at a time, so its extra memory is a small multiple of the
    # waveform (1.8x here) instead of the full spectrum (3.8x before blocks).
    y = (0.1 * np.random.default_rng(0).standard_normal(SR * 600)).astype(np.float32)
    est = MFCC()
    est.transform([y[:SR]])  # filterbank and imports outside the measurement
    tracemalloc.start()
    try:
        out = est.transform([y])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape[1] == 1 + y.size // 512
    assert peak < 2.5 * y.nbytes + 16 * 2**20, peak / y.nbytes
    assert _logmel.FRAMES_PER_BLOCK * 1025 * 4 <= 16 * 2**20


# -- labels unseen at predict -------------------------------------------------
def test_labels_unseen_in_fit_are_never_predicted_and_count_as_errors():
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    from skser import Functionals
    from skser.metrics import unweighted_average_recall

    rng = np.random.default_rng(0)
    X = [(0.1 * rng.standard_normal(4000)).astype(np.float32) for _ in range(6)]
    y = np.array(["anger", "neutral"] * 3)
    model = make_pipeline(MFCC(), Functionals(), SVC()).fit(X, y)
    pred = model.predict(X[:3])
    assert set(pred) <= {"anger", "neutral"}
    y_test = ["anger", "neutral", "fear"]  # "fear" was never seen in fit
    # The unseen class enters UAR with recall 0, as a class of y_true.
    recalls = [float(pred[i] == y_test[i]) for i in range(3)]
    assert unweighted_average_recall(y_test, pred) == pytest.approx(np.mean(recalls))


# -- None or NaN in y (the neural classifiers' check, from skser.models) ------
@pytest.mark.parametrize(
    "y",
    [["anger", "sadness", None, "anger", "sadness", "anger"],
     np.array([1.0, 2.0, np.nan, 1.0, 2.0, 1.0])],
    ids=["None", "NaN"],
)
def test_missing_label_in_y_is_an_error_naming_the_row(y):
    pytest.importorskip("torch")
    from skser import LightSERNet
    from skser.exceptions import ParameterError

    X = np.random.default_rng(0).standard_normal((6, 20, 8)).astype(np.float32)
    with pytest.raises(ParameterError, match=r"y has a missing label \((None|nan)\) at row 2"):
        LightSERNet(max_epochs=1, device="cpu").fit(X, y)
