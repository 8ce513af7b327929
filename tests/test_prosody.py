"""Prosody: F0, energy, speaking rate, jitter, shimmer, HNR; edge cases; Praat agreement."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.signal
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from skser.exceptions import ParameterError
from skser.features import MFCC, LogMel, Prosody, frame_lengths
from skser.features._prosody import FRAME_TRACKS, FUNCTIONALS

SR = 16000

_N_FEATURES_IN = (
    "audio rows are waveforms of any length: n_features_in_ has no meaning, "
    "the number of samples per row may change between fit and transform"
)
EXPECTED_FAILED_CHECKS = {
    "check_n_features_in": _N_FEATURES_IN,
    "check_n_features_in_after_fitting": _N_FEATURES_IN,
}


@parametrize_with_checks(
    [Prosody(), Prosody(output="frames")],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- signals -------------------------------------------------------------------------
def voice(f0: float = 150.0, seconds: float = 1.0, sr: int = SR, amp: float = 0.5,
          seed: int = 0) -> np.ndarray:
    """A harmonic 'vowel': six harmonics with falling amplitude and a little noise."""
    t = np.arange(int(seconds * sr)) / sr
    y = sum((0.8**k) * np.sin(2 * np.pi * k * f0 * t + k) for k in range(1, 7))
    y = y / np.abs(y).max() * amp
    y += 0.002 * np.random.default_rng(seed).standard_normal(t.shape)
    return y.astype(np.float32)


def pulse_train(periods_ms, amplitudes, sr: int = SR) -> np.ndarray:
    """Impulses at the given periods and amplitudes, through a 2-pole resonance at 600 Hz."""
    times = np.cumsum(np.asarray(periods_ms) / 1000.0)
    y = np.zeros(int((times[-1] + 0.05) * sr))
    for t, a in zip(times, amplitudes):
        i = int(t * sr)
        frac = t * sr - i
        y[i] += a * (1 - frac)
        y[i + 1] += a * frac
    radius = np.exp(-np.pi * 150 / sr)
    theta = 2 * np.pi * 600 / sr
    y = scipy.signal.lfilter([1.0], [1.0, -2 * radius * np.cos(theta), radius**2], y)
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


def stats(y: np.ndarray, **params) -> dict[str, float]:
    row = Prosody(**params).fit_transform([y])[0]
    return dict(zip(FUNCTIONALS, row.astype(float)))


# -- F0 and layout ------------------------------------------------------------------
@pytest.mark.parametrize("f0", [90.0, 150.0, 240.0, 420.0])
def test_f0_of_a_harmonic_voice(f0):
    s = stats(voice(f0))
    assert s["f0_mean_hz"] == pytest.approx(f0, rel=0.01)
    assert s["f0_mean_st"] == pytest.approx(12 * np.log2(f0 / 100), abs=0.2)
    assert s["f0_std_hz"] < 0.01 * f0
    assert s["voiced_fraction"] > 0.9
    assert s["hnr_db"] > 20


def test_f0_slope_and_range_of_a_glide():
    t = np.arange(SR) / SR
    f = 120 + 60 * t  # 120 -> 180 Hz in 1 s
    y = (0.5 * np.sin(2 * np.pi * np.cumsum(f) / SR)).astype(np.float32)
    s = stats(y)
    assert s["f0_slope_hz_per_s"] == pytest.approx(60, rel=0.1)
    assert s["f0_range_hz"] == pytest.approx(60, rel=0.15)
    assert s["f0_slope_st_per_s"] == pytest.approx(12 * np.log2(180 / 120), rel=0.15)


def test_output_shapes_and_names():
    ys = [voice(150, 1.0), voice(200, 0.5)]
    X = Prosody().fit_transform(ys)
    assert X.shape == (2, 20) and X.dtype == np.float32
    assert list(Prosody().get_feature_names_out()) == list(FUNCTIONALS)
    F = Prosody(output="frames").fit_transform(ys)
    assert F.shape == (2, 101, 3) and F.dtype == np.float32
    assert_array_equal(frame_lengths(F), [101, 51])
    assert list(Prosody(output="frames").get_feature_names_out()) == list(FRAME_TRACKS)
    assert np.isfinite(F[0]).all() and np.isnan(F[1, 51:]).all()


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("n", [1000, 16000, 16161, 24123])
def test_frame_grid_equals_mfcc(center, n):
    """Same sr / n_fft / hop_length / win_length / center: same frames, so they stack."""
    grid = dict(sr=SR, n_fft=512, hop_length=160, win_length=400, center=center)
    y = voice(150, n / SR)
    P = Prosody(output="frames", **grid).fit_transform([y])
    M = MFCC(40, **grid).fit_transform([y])
    L = LogMel(128, **grid).fit_transform([y])
    assert P.shape[1] == M.shape[1] == L.shape[1]
    assert np.concatenate([M, L, P], axis=2).shape == (1, M.shape[1], 40 + 128 + 3)
    # MFCC's defaults (n_fft 2048, hop 512) too.
    assert (Prosody(output="frames", n_fft=2048, hop_length=512, win_length=None,
                    center=center).fit_transform([y]).shape[1]
            == MFCC(center=center).fit_transform([y]).shape[1])


def test_frame_tracks_follow_the_signal():
    y = np.concatenate([np.zeros(SR // 2, np.float32), voice(200, 0.5)])
    F = Prosody(output="frames").fit_transform([y])[0]
    f0, prob, energy = F.T
    assert (f0[:45] == 0).all() and (energy[:45] == -100).all()
    assert_allclose(f0[55:95], 200, rtol=0.01)
    assert (prob[55:95] > 0.9).all() and (energy[55:95] > -20).all()


def test_duration_and_n_frames():
    y = voice(150, 1.3)
    assert Prosody(output="frames", duration=1.0).fit_transform([y]).shape == (1, 101, 3)
    assert Prosody(output="frames", n_frames=90).fit_transform([y]).shape == (1, 90, 3)
    assert Prosody(duration=1.0).fit_transform([y]).shape == (1, 20)


# -- voice quality and rhythm ----------------------------------------------------------
def test_jitter_of_alternating_periods():
    periods = np.tile([8.0, 8.4], 60)  # |8.0 - 8.4| / 8.2
    s = stats(pulse_train(periods, np.ones_like(periods)))
    assert s["jitter_local"] == pytest.approx(0.4 / 8.2, rel=0.1)
    assert s["shimmer_local"] < 0.02


def test_shimmer_of_alternating_amplitudes():
    periods = np.full(120, 8.0)
    amps = np.tile([1.0, 0.8], 60)
    s = stats(pulse_train(periods, amps))
    assert s["jitter_local"] < 0.005
    assert s["shimmer_local"] == pytest.approx(0.2 / 0.9, rel=0.15)
    assert s["shimmer_local_db"] == pytest.approx(20 * np.log10(1 / 0.8), rel=0.15)


def test_regular_voice_has_little_jitter_and_high_hnr():
    s = stats(voice(130, 1.0))
    assert s["jitter_local"] < 0.005 and s["shimmer_local"] < 0.02
    noisy = voice(130, 1.0) + 0.08 * np.random.default_rng(1).standard_normal(SR)
    assert stats(noisy.astype(np.float32))["hnr_db"] < s["hnr_db"] - 10


@pytest.mark.parametrize("rate", [3.0, 5.0])
def test_speaking_rate_counts_syllable_nuclei(rate):
    t = np.arange(2 * SR) / SR
    envelope = 0.5 - 0.5 * np.cos(2 * np.pi * rate * t)
    s = stats((voice(160, 2.0) * envelope).astype(np.float32))
    assert s["speaking_rate_syl_per_s"] == pytest.approx(rate, abs=0.6)
    assert s["articulation_rate_syl_per_s"] >= s["speaking_rate_syl_per_s"]


def test_energy_statistics_in_db():
    y = voice(150, 1.0, amp=0.5)
    quieter = stats(y * 0.1)
    louder = stats(y)
    assert louder["energy_mean_db"] - quieter["energy_mean_db"] == pytest.approx(20, abs=0.1)
    t = np.arange(SR) / SR
    ramp = (y * 10 ** (-1 + t)).astype(np.float32)  # +20 dB over 1 s
    assert stats(ramp)["energy_slope_db_per_s"] == pytest.approx(20, rel=0.1)


# -- edge cases: defined values ------------------------------------------------------
def test_silence_gives_the_documented_values():
    s = stats(np.zeros(SR, np.float32))
    expected = dict.fromkeys(FUNCTIONALS, 0.0)
    expected["energy_mean_db"] = -100.0
    assert s == pytest.approx(expected)
    F = Prosody(output="frames").fit_transform([np.zeros(SR, np.float32)])[0]
    assert_array_equal(F, np.tile([0.0, 0.0, -100.0], (101, 1)))


def test_noise_is_mostly_unvoiced_and_finite():
    y = (0.1 * np.random.default_rng(0).standard_normal(SR)).astype(np.float32)
    s = stats(y)
    assert all(np.isfinite(v) for v in s.values())
    assert s["voiced_fraction"] < 0.1
    assert s["hnr_db"] < 5


@pytest.mark.parametrize("n", [1, 5, 100, 400])
def test_audio_shorter_than_a_frame(n):
    y = voice(150, 0.1)[:n]
    X = Prosody().fit_transform([y])
    assert X.shape == (1, 20) and np.isfinite(X).all()
    F = Prosody(output="frames").fit_transform([y])
    assert F.shape[1] == 1 + n // 160 and np.isfinite(F).all()
    Fu = Prosody(output="frames", center=False).fit_transform([y])
    assert Fu.shape[1] == 1 and np.isfinite(Fu).all()


def test_clipped_voice_keeps_its_f0():
    y = np.clip(voice(180) * 4, -0.5, 0.5)
    s = stats(y)
    assert s["f0_mean_hz"] == pytest.approx(180, rel=0.01)
    assert s["voiced_fraction"] > 0.9


def test_dc_offset_changes_nothing():
    y = voice(150)
    assert_allclose(list(stats(y + 0.3).values()), list(stats(y).values()),
                    rtol=1e-3, atol=1e-3)
    F0 = Prosody(output="frames").fit_transform([y])
    F1 = Prosody(output="frames").fit_transform([y + 0.3])
    assert_allclose(F1, F0, rtol=1e-3, atol=1e-3)


# -- parameters and execution --------------------------------------------------------
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(fmin=300.0, fmax=200.0), "fmin=300.0 Hz must be below fmax"),
        (dict(fmax=9000.0), "above|below the Nyquist"),
        (dict(win_length=1024), "win_length=1024 must not exceed n_fft=512"),
    ],
)
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ParameterError, match=match):
        Prosody(**params).fit_transform([voice()])


def test_pyin_option():
    y = voice(200, 0.6)
    ac = Prosody(output="frames").fit_transform([y])
    pyin = Prosody(output="frames", f0_method="pyin").fit_transform([y])
    assert pyin.shape == ac.shape
    voiced = pyin[0, :, 0] > 0
    assert voiced.mean() > 0.8
    assert_allclose(pyin[0, voiced, 0], 200, rtol=0.02)
    assert stats(y, f0_method="pyin")["f0_mean_hz"] == pytest.approx(200, rel=0.01)


def test_clone_pickle_and_cache(tmp_path):
    ys = [voice(f, 0.5, seed=i) for i, f in enumerate([110, 150, 210, 260])]
    est = Prosody(fmin=60.0)
    X = est.fit_transform(ys)
    assert clone(est).get_params() == est.get_params()
    assert_array_equal(pickle.loads(pickle.dumps(est)).transform(ys), X)
    cached = Prosody(fmin=60.0, memory=str(tmp_path))
    assert_array_equal(cached.transform(ys), X)
    assert_array_equal(cached.transform(ys), X)


def test_grid_search_over_a_prosody_parameter():
    rng = np.random.default_rng(0)
    ys, labels, groups = [], [], []
    for i in range(16):
        low = i % 2 == 0
        ys.append(voice((120 if low else 240) * (1 + 0.05 * rng.standard_normal()), 0.4,
                        seed=i))
        labels.append("low" if low else "high")
        groups.append(i // 4)
    pipe = make_pipeline(Prosody(), StandardScaler(), SVC())
    search = GridSearchCV(pipe, {"prosody__fmax": [400.0, 600.0]}, cv=GroupKFold(2))
    search.fit(ys, labels, groups=groups)
    assert search.best_score_ > 0.9
    assert set(search.predict(ys[:2])) <= {"low", "high"}


# -- agreement with Praat on real speech -----------------------------------------------
@pytest.mark.slow
@pytest.mark.shared_data
def test_agreement_with_praat_on_emodb(emodb_4class_files):
    """The issue's thresholds on 60 EMO-DB files (full table: benchmarks/prosody_vs_praat.py)."""
    parselmouth = pytest.importorskip("parselmouth")
    from scipy.stats import spearmanr

    from skser._audio import prepare_waveform

    files = emodb_4class_files[:: max(1, len(emodb_4class_files) // 60)][:60]
    ours, praat = [], []
    est = Prosody()
    for path in files:
        y = prepare_waveform(path, SR)
        ours.append(est.transform([y])[0])
        praat.append(_praat_measures(parselmouth, y))
    ours, praat = np.asarray(ours, float), np.asarray(praat, float)
    idx = {n: FUNCTIONALS.index(n) for n in ("f0_mean_hz", "jitter_local",
                                             "shimmer_local", "hnr_db")}
    f0_ok = np.abs(ours[:, idx["f0_mean_hz"]] / praat[:, 0] - 1) <= 0.05
    assert f0_ok.mean() >= 0.9
    for col, name in enumerate(("jitter_local", "shimmer_local", "hnr_db"), start=1):
        assert spearmanr(ours[:, idx[name]], praat[:, col]).statistic >= 0.8, name


def _praat_measures(parselmouth, y):
    """Praat's mean F0 (ac), local jitter and shimmer (cc pulses) and mean HNR (cc)."""
    call = parselmouth.praat.call
    sound = parselmouth.Sound(y.astype(np.float64), sampling_frequency=SR)
    f0 = call(sound.to_pitch(), "Get mean", 0, 0, "Hertz")
    pulses = call(sound, "To PointProcess (periodic, cc)", 75, 600)
    jitter = call(pulses, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
    shimmer = call([sound, pulses], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
    hnr = call(sound.to_harmonicity_cc(), "Get mean", 0, 0)
    return f0, jitter, shimmer, hnr
