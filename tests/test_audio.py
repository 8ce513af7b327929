"""The audio input contract (skser._audio) and the LoadAudio transformer."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from skser import LoadAudio, load_audio
from skser._audio import as_audio_items, prepare_waveform
from skser._parallel import map_rows
from skser.exceptions import AudioDecodeError, AudioInputError, SkserError

# (file, expected length at 16 kHz): 0.5 s, 0.7 s, 0.3 s, 0.4 s
EXPECTED_LEN_16K = {"a.wav": 8000, "b.flac": 11200, "c.ogg": 4800, "d.aiff": 6400}


# -- paths --------------------------------------------------------------------
def test_paths_of_every_format_decode_to_mono_float32_at_sr(audio_paths):
    waves = LoadAudio(sr=16000).fit_transform(audio_paths)
    assert waves.dtype == object and waves.shape == (4,)
    for path, y in zip(audio_paths, waves):
        assert y.dtype == np.float32 and y.ndim == 1
        assert abs(y.shape[0] - EXPECTED_LEN_16K[Path(path).name]) <= 1, path
        assert np.all(np.isfinite(y)) and np.abs(y).max() <= 1.0
        assert np.abs(y).max() > 0.1  # real signal, not silence


def test_resampling_length_and_pitch(tmp_path):
    sr_in, f0 = 44100, 440.0
    t = np.arange(sr_in) / sr_in
    sf.write(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * f0 * t), sr_in, subtype="FLOAT")
    for sr_out in (8000, 16000, 22050):
        y = load_audio(tmp_path / "tone.wav", sr=sr_out)
        assert abs(len(y) - sr_out) <= 1
        spectrum = np.abs(np.fft.rfft(y))
        peak_hz = np.argmax(spectrum) * sr_out / len(y)
        assert abs(peak_hz - f0) <= 2.0


def test_no_resampling_when_rates_match(tmp_path, tone):
    y = tone(220, 0.25, 16000)
    sf.write(tmp_path / "x.wav", y, 16000, subtype="FLOAT")
    assert_array_equal(load_audio(tmp_path / "x.wav", sr=16000), y)


def test_stereo_file_is_downmixed_by_averaging(tmp_path, tone):
    left, right = tone(200, 0.2), tone(900, 0.2) * 0.5
    sf.write(tmp_path / "st.wav", np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    y = load_audio(tmp_path / "st.wav", sr=16000)
    assert_allclose(y, (left + right) / 2, atol=1e-7)


@pytest.mark.parametrize("fmt", ["FLAC", "OGG", "AIFF", "WAV"])
def test_pathlike_and_str_paths_agree(tmp_path, tone, fmt):
    ext = {"FLAC": "flac", "OGG": "ogg", "AIFF": "aiff", "WAV": "wav"}[fmt]
    path = tmp_path / f"x.{ext}"
    sf.write(path, tone(300, 0.3), 16000, format=fmt)
    a, b = LoadAudio().transform([path, str(path)])
    assert_array_equal(a, b)


# -- arrays -------------------------------------------------------------------
@pytest.mark.parametrize(
    "samples, expected",
    [
        (np.array([-32768, 0, 16384], dtype=np.int16), [-1.0, 0.0, 0.5]),
        (np.array([-(2**31), 0, 2**30], dtype=np.int32), [-1.0, 0.0, 0.5]),
        (np.array([0, 128, 255], dtype=np.uint8), [-1.0, 0.0, 127 / 128]),
        (np.array([-0.5, 0.0, 0.25], dtype=np.float64), [-0.5, 0.0, 0.25]),
    ],
)
def test_integer_pcm_is_scaled_to_unit_range(samples, expected):
    (y,) = LoadAudio().transform([samples])
    assert y.dtype == np.float32
    assert_allclose(y, expected, atol=1e-7)


def test_two_d_array_rows_are_waveforms():
    X = np.random.default_rng(0).uniform(-1, 1, size=(3, 200))
    waves = LoadAudio().transform(X)
    assert waves.shape == (3,)
    for row, y in zip(X, waves):
        assert_allclose(y, row.astype(np.float32))


def test_ragged_list_keeps_every_length():
    X = [np.zeros(10), np.ones(25, dtype=np.float32) * 0.1, np.full(3, 0.2)]
    waves = LoadAudio().transform(X)
    assert [len(w) for w in waves] == [10, 25, 3]


def test_object_array_of_waveforms():
    X = np.empty(2, dtype=object)
    X[0], X[1] = np.zeros(7), np.ones(4) * 0.5
    waves = LoadAudio().transform(X)
    assert [len(w) for w in waves] == [7, 4]
    assert_allclose(waves[1], 0.5)


def test_pandas_series_of_paths_with_default_string_dtype(audio_paths):
    s = pd.Series(audio_paths)  # pandas 3: Arrow-backed string dtype by default
    ref = LoadAudio().transform(audio_paths)
    waves = LoadAudio().transform(s)
    assert len(waves) == len(audio_paths)
    for a, b in zip(ref, waves):
        assert_array_equal(a, b)
    string_series = pd.Series(audio_paths, dtype="string")
    assert len(LoadAudio().transform(string_series)) == 4


def test_pandas_series_of_arrays_and_one_column_frame(audio_paths):
    arrays = pd.Series([np.zeros(5), np.ones(8) * 0.1], index=[10, 20])
    assert [len(w) for w in LoadAudio().transform(arrays)] == [5, 8]
    frame = pd.DataFrame({"path": audio_paths})
    assert len(LoadAudio().transform(frame)) == 4
    with pytest.raises(AudioInputError, match="2 columns"):
        LoadAudio().transform(pd.DataFrame({"a": audio_paths, "b": audio_paths}))


def test_numpy_string_array_of_paths(audio_paths):
    assert len(LoadAudio().transform(np.array(audio_paths))) == 4


def test_load_audio_transformer_and_prepare_waveform_agree(audio_paths):
    ys = list(LoadAudio(sr=8000).transform(audio_paths))
    assert len(ys) == 4 and all(y.dtype == np.float32 for y in ys)
    assert_array_equal(prepare_waveform(audio_paths[0], 8000, row=0), ys[0])
    assert len(as_audio_items(audio_paths)) == 4


# -- errors -------------------------------------------------------------------
def test_missing_file_names_the_file(tmp_path, audio_paths):
    missing = str(tmp_path / "nope.wav")
    with pytest.raises(FileNotFoundError, match="nope.wav") as exc:
        LoadAudio().transform([audio_paths[0], missing])
    assert "row 1" in str(exc.value)


def test_corrupt_file_raises_decode_error_naming_the_file(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage" + bytes(100))
    with pytest.raises(AudioDecodeError, match="broken.wav"):
        LoadAudio().transform([str(bad)])
    assert issubclass(AudioDecodeError, SkserError)
    assert issubclass(AudioDecodeError, ValueError)


def test_empty_audio_is_rejected(tmp_path):
    with pytest.raises(AudioInputError, match="row 1.*empty"):
        LoadAudio().transform([np.zeros(4), np.zeros(0)])
    sf.write(tmp_path / "empty.wav", np.zeros(0), 16000)
    with pytest.raises(AudioInputError, match="empty.wav"):
        load_audio(tmp_path / "empty.wav")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_name_the_row(bad):
    y = np.zeros(10)
    y[3] = bad
    with pytest.raises(AudioInputError, match=r"row 2 .*1 NaN or infinite"):
        LoadAudio().transform([np.zeros(5), np.zeros(5), y])


def test_two_d_element_is_rejected():
    with pytest.raises(AudioInputError, match=r"row 0 has shape \(2, 100\)"):
        LoadAudio().transform([np.zeros((2, 100))])


def test_one_d_numeric_X_is_rejected_with_a_fix():
    with pytest.raises(AudioInputError, match=r"\[y\]"):
        LoadAudio().transform(np.zeros(100))
    with pytest.raises(AudioInputError, match="flat sequence of numbers"):
        LoadAudio().transform([0.0, 0.1, 0.2])


def test_single_path_is_rejected(audio_paths):
    with pytest.raises(AudioInputError, match="single path"):
        LoadAudio().transform(audio_paths[0])
    with pytest.raises(AudioInputError, match="single path"):
        LoadAudio().transform(Path(audio_paths[0]))


def test_non_numeric_row_and_bad_dtype():
    with pytest.raises(AudioInputError, match="row 1"):
        LoadAudio().transform([np.zeros(3), {"a": 1}])
    with pytest.raises(AudioInputError, match="complex"):
        LoadAudio().transform([np.zeros(3, dtype=np.complex64)])


def test_three_d_array_is_rejected():
    with pytest.raises(AudioInputError, match=r"shape \(2, 3, 4\)"):
        LoadAudio().transform(np.zeros((2, 3, 4)))


# -- estimator behaviour ------------------------------------------------------
def test_load_audio_clone_pickle_set_params(audio_paths):
    est = LoadAudio(sr=8000)
    est2 = clone(est)
    assert est2.get_params() == {"sr": 8000, "n_jobs": None, "verbose": False, "memory": None}
    restored = pickle.loads(pickle.dumps(est))
    for a, b in zip(est.transform(audio_paths), restored.transform(audio_paths)):
        assert_array_equal(a, b)
    est.set_params(sr=16000)
    assert len(est.transform(audio_paths[:1])[0]) == 8000
    with pytest.raises(ValueError, match="sr"):
        LoadAudio(sr=0).transform(audio_paths)


def test_load_audio_is_stateless():
    est = LoadAudio()
    assert est.__sklearn_is_fitted__()
    assert est.__sklearn_tags__().requires_fit is False
    assert est.fit([np.zeros(3)]) is est


# -- map_rows ------------------------------------------------------------------
def _row_and_pid(item, row):
    return row, item, os.getpid()


def _fail_on_row_2(item, row):
    if row == 2:
        raise AudioInputError(f"row {row}: bad item {item!r}")
    return item


@pytest.mark.parametrize("n_jobs", [None, 1, 2])
@pytest.mark.parametrize("n_items", [1, 5])
def test_map_rows_keeps_order_and_runs_in_process_when_parallelism_cannot_help(
    n_jobs, n_items
):
    items = [f"u{i}" for i in range(n_items)]
    results = map_rows(_row_and_pid, items, n_jobs=n_jobs)
    assert [(row, item) for row, item, _ in results] == list(enumerate(items))
    in_process = {pid for _, _, pid in results} == {os.getpid()}
    assert in_process == (n_items == 1 or n_jobs != 2)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_map_rows_raises_the_worker_error_unchanged(n_jobs):
    with pytest.raises(AudioInputError, match=r"^row 2: bad item 'c'$"):
        map_rows(_fail_on_row_2, list("abcd"), n_jobs=n_jobs)


def test_map_rows_progress_bar_and_cache_in_process(tmp_path, capsys):
    items = [np.arange(3.0), np.arange(4.0)]
    first = map_rows(_row_and_pid, items, verbose=True, desc="demo", memory=str(tmp_path),
                     cache_token="demo")
    assert "demo" in capsys.readouterr().err
    assert len(list(tmp_path.rglob("*.npz"))) == 2
    again = map_rows(_row_and_pid, items, memory=str(tmp_path), cache_token="demo")
    assert [r[0] for r in again] == [0, 1]
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again))


def test_load_audio_in_parallel_equals_in_process(audio_paths):
    serial = LoadAudio(sr=8000).transform(audio_paths)
    parallel = LoadAudio(sr=8000, n_jobs=2).transform(audio_paths)
    assert len(parallel) == len(audio_paths)
    for a, b in zip(serial, parallel):
        assert_array_equal(a, b)
