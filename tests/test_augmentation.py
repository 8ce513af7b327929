"""Tests of skser.augmentation: waveform transforms and the leak-free sampler."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_val_predict,
    cross_validate,
)
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from skser._audio import load_audio
from skser.augmentation import (
    WaveformAugmenter,
    add_noise,
    pitch_shift,
    speed_perturb,
    time_shift,
)
from skser.exceptions import AudioInputError

SR = 16000

# Only the transforms that are cheap and deterministic in shape, for most tests.
FAST = dict(noise_snr_db=None, max_shift=0.05, speed_factors=(0.9, 1.1))


def sine(freq: float, duration: float = 1.0, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(duration * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_frequency(y: np.ndarray, sr: int = SR) -> float:
    """Frequency in Hz of the largest FFT bin (Hann window, zero-padded 4x)."""
    n = 4 * len(y)
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y)), n=n))
    return float(np.argmax(spec) * sr / n)


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    clean = clean.astype(np.float64)
    noise = noisy.astype(np.float64) - clean
    return float(10 * np.log10(np.mean(clean**2) / np.mean(noise**2)))


# -- scikit-learn estimator checks ---------------------------------------------

EXPECTED_FAILED_CHECKS = {
    "check_n_features_in": "raw waveforms have no fixed number of features; "
    "n_features_in_ is not defined for audio input",
    "check_n_features_in_after_fitting": "raw waveforms have no fixed number of "
    "features; n_features_in_ is not defined for audio input",
}


@parametrize_with_checks(
    [WaveformAugmenter(random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- single-utterance transforms -------------------------------------------------


def test_add_noise_exact_snr_on_long_tone():
    clean = sine(440, duration=10.0)
    for target in (0.0, 10.0, 20.0, 35.0):
        noisy = add_noise(clean, target, random_state=0)
        assert noisy.dtype == np.float32 and noisy.shape == clean.shape
        assert abs(snr_db(clean, noisy) - target) < 0.5
    silent = np.zeros(100, dtype=np.float32)
    np.testing.assert_array_equal(add_noise(silent, 10.0, random_state=0), silent)


def test_time_shift_modes():
    y = np.arange(1, 11, dtype=np.float32)
    np.testing.assert_array_equal(time_shift(y, 3), [0, 0, 0, 1, 2, 3, 4, 5, 6, 7])
    np.testing.assert_array_equal(time_shift(y, -2), [3, 4, 5, 6, 7, 8, 9, 10, 0, 0])
    np.testing.assert_array_equal(time_shift(y, 3, mode="circular"), np.roll(y, 3))
    np.testing.assert_array_equal(time_shift(y, 0), y)
    with pytest.raises(ValueError, match="mode must be"):
        time_shift(y, 1, mode="reflect")


@pytest.mark.parametrize("factor", [0.9, 1.1, 1.25])
def test_speed_perturb_changes_length_and_frequency(factor):
    y = sine(500, duration=2.0)
    out = speed_perturb(y, factor)
    assert abs(out.shape[0] - len(y) / factor) <= 1
    assert out.dtype == np.float32
    assert peak_frequency(out) == pytest.approx(500 * factor, rel=0.005)


@pytest.mark.parametrize("semitones", [-3.0, 2.0])
def test_pitch_shift_moves_peak_keeps_length(semitones):
    y = sine(440, duration=2.0)
    out = pitch_shift(y, SR, semitones)
    assert out.shape == y.shape and out.dtype == np.float32
    expected = 440 * 2 ** (semitones / 12)
    assert peak_frequency(out) == pytest.approx(expected, rel=0.01)


def test_transforms_never_modify_input():
    y = sine(300)
    keep = y.copy()
    add_noise(y, 10, random_state=0)
    time_shift(y, 100)
    speed_perturb(y, 1.1)
    pitch_shift(y, SR, 1.0)
    np.testing.assert_array_equal(y, keep)


# -- the sampler -------------------------------------------------------------------


def test_output_sizes_order_and_originals_unchanged():
    X = [sine(200, 0.5), sine(300, 0.8), sine(400, 0.3)]
    keep = [x.copy() for x in X]
    y = np.array(["a", "b", "a"], dtype=object)
    aug = WaveformAugmenter(n_copies=2, random_state=0, **FAST)
    X_res, y_res = aug.fit_resample(X, y)
    assert X_res.dtype == object and X_res.shape == (9,)
    assert all(x.dtype == np.float32 and x.ndim == 1 for x in X_res)
    for x, k in zip(X, keep):  # input untouched
        np.testing.assert_array_equal(x, k)
    for i in range(3):  # originals first, in order, unchanged
        np.testing.assert_array_equal(X_res[i], keep[i])
    np.testing.assert_array_equal(aug.sample_indices_, [0, 1, 2, 0, 1, 2, 0, 1, 2])
    assert list(y_res) == ["a", "b", "a"] * 3
    assert aug.sampling_strategy_ == {"a": 4, "b": 2}
    recipes = aug.augmentations_
    assert list(recipes.columns) == ["source", "speed", "pitch_semitones", "shift_s", "snr_db"]
    assert list(recipes["source"]) == [0, 1, 2, 0, 1, 2]
    # speed factors 0.9 / 1.1 change every copy's length by 1 / factor
    for x, (_, r) in zip(X_res[3:], recipes.iterrows()):
        src = keep[int(r["source"])]
        assert abs(len(x) - len(src) / r["speed"]) <= 1
        assert not np.array_equal(x[: len(src)], src[: len(x)])


def test_paths_2d_and_series_input(audio_paths):
    aug = WaveformAugmenter(n_copies=1, random_state=0, **FAST)
    X_res, y_res = aug.fit_resample(audio_paths, [0, 1, 0, 1])
    assert X_res.shape == (8,)
    for i, path in enumerate(audio_paths):
        np.testing.assert_allclose(X_res[i], load_audio(path, SR))
    X2 = np.stack([sine(220, 0.25), sine(330, 0.25)])
    X_res, _ = aug.fit_resample(X2, ["x", "y"])
    assert X_res.shape == (4,)
    y_series = pd.Series(["x", "y"], name="emotion")
    _, y_res = aug.fit_resample(pd.Series(list(X2)), y_series)
    assert isinstance(y_res, pd.Series) and y_res.name == "emotion"
    assert list(y_res) == ["x", "y", "x", "y"]


def test_noise_in_sampler_has_requested_snr():
    clean = sine(330, duration=5.0)
    aug = WaveformAugmenter(
        n_copies=3, noise_snr_db=(10, 25), max_shift=0, speed_factors=None, random_state=1
    )
    X_res, _ = aug.fit_resample([clean], ["a"])
    drawn = aug.augmentations_["snr_db"].to_numpy()
    assert np.all((drawn >= 10) & (drawn <= 25)) and np.unique(drawn).size == 3
    for noisy, target in zip(X_res[1:], drawn):
        assert abs(snr_db(clean, noisy) - target) < 0.5


def test_shift_in_sampler_matches_recorded_shift():
    y = np.zeros(SR, dtype=np.float32)
    y[SR // 2] = 1.0
    aug = WaveformAugmenter(
        n_copies=5, noise_snr_db=None, max_shift=0.2, speed_factors=None, random_state=0
    )
    X_res, _ = aug.fit_resample([y], ["a"])
    for x, shift_s in zip(X_res[1:], aug.augmentations_["shift_s"]):
        assert abs(shift_s) <= 0.2 and len(x) == SR
        assert int(np.argmax(x)) == SR // 2 + int(round(shift_s * SR))


def test_pitch_in_sampler_moves_peak():
    y = sine(440, duration=1.0)
    aug = WaveformAugmenter(
        n_copies=2, noise_snr_db=None, max_shift=0, speed_factors=None,
        pitch_semitones=(-2, 2), random_state=0,
    )
    X_res, _ = aug.fit_resample([y], ["a"])
    for x, st in zip(X_res[1:], aug.augmentations_["pitch_semitones"]):
        assert len(x) == len(y)
        assert peak_frequency(x) == pytest.approx(440 * 2 ** (st / 12), rel=0.01)


def test_probability_p_skips_some_transforms():
    aug = WaveformAugmenter(n_copies=40, p=0.5, random_state=0)
    aug.fit_resample([sine(200, 0.2)], ["a"])
    applied = aug.augmentations_[["shift_s", "snr_db"]].notna().to_numpy()
    assert 0 < applied.mean() < 1


def test_determinism_and_n_jobs():
    X = [sine(200, 0.4), sine(250, 0.6)]
    params = dict(n_copies=2, pitch_semitones=(-1, 1), random_state=3)
    a, _ = WaveformAugmenter(**params).fit_resample(X, [0, 1])
    b, _ = WaveformAugmenter(**params).fit_resample(X, [0, 1])
    with parallel_config(backend="threading"):
        c, _ = WaveformAugmenter(**params, n_jobs=2).fit_resample(X, [0, 1])
    d, _ = WaveformAugmenter(**{**params, "random_state": 4}).fit_resample(X, [0, 1])
    for u, v, w in zip(a, b, c):
        np.testing.assert_array_equal(u, v)
        np.testing.assert_array_equal(u, w)
    assert any(len(u) != len(v) or not np.array_equal(u, v) for u, v in zip(a[2:], d[2:]))


def test_sampling_strategy_balances_with_augmented_copies():
    X = [sine(100 + 10 * i, 0.2) for i in range(7)]
    y = np.array(["maj"] * 5 + ["min"] * 2)
    aug = WaveformAugmenter(n_copies=0, sampling_strategy="not majority", random_state=0)
    X_res, y_res = aug.fit_resample(X, y)
    assert X_res.shape == (10,)
    assert (y_res == "min").sum() == 5 and (y_res == "maj").sum() == 5
    sources = aug.sample_indices_[7:]
    assert set(sources) == {5, 6}
    assert abs(np.sum(sources == 5) - np.sum(sources == 6)) <= 1  # used evenly
    # n_copies first, then balancing on top
    aug = WaveformAugmenter(n_copies=1, sampling_strategy={"min": 12}, random_state=0)
    _, y_res = aug.fit_resample(X, y)
    assert (y_res == "maj").sum() == 10 and (y_res == "min").sum() == 12
    assert aug.sampling_strategy_ == {"maj": 5, "min": 10}


def test_continuous_targets_allowed_without_sampling_strategy():
    X = [sine(200, 0.2), sine(300, 0.2)]
    _, y_res = WaveformAugmenter(random_state=0).fit_resample(X, [0.25, 0.75])
    np.testing.assert_allclose(y_res, [0.25, 0.75, 0.25, 0.75])
    with pytest.raises(ValueError, match="Unknown label type"):
        WaveformAugmenter(sampling_strategy="auto").fit_resample(X, [0.25, 0.75])


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(noise_snr_db=(30, 10)), "noise_snr_db must be"),
        (dict(noise_snr_db=(1, 2, 3)), "noise_snr_db must be"),
        (dict(pitch_semitones=(np.nan, 1)), "pitch_semitones must be"),
        (dict(speed_factors=(0.9, -1.0)), "speed_factors must be"),
        (dict(speed_factors=()), "speed_factors must be"),
        (dict(noise_snr_db=None, max_shift=0, speed_factors=(1.0,)), "disabled"),
        (dict(max_shift=-0.1), "max_shift"),
        (dict(shift_mode="reflect"), "shift_mode"),
        (dict(n_copies=-1), "n_copies"),
        (dict(p=0.0), "'p' parameter"),
        (dict(sr=0), "'sr' parameter"),
        (dict(sampling_strategy="majority"), "sampling_strategy"),
    ],
)
def test_bad_params_raise_clear_errors(params, match):
    with pytest.raises(ValueError, match=match):
        WaveformAugmenter(**params).fit_resample([sine(200, 0.2)], ["a"])


def test_bad_input_raises_clear_errors(tmp_path):
    aug = WaveformAugmenter(random_state=0)
    with pytest.raises(ValueError, match="X has 2 rows but y has 3"):
        aug.fit_resample([sine(200, 0.1)] * 2, ["a", "b", "c"])
    with pytest.raises(ValueError, match="0 rows"):
        aug.fit_resample([], [])
    with pytest.raises(ValueError, match="requires y to be passed"):
        aug.fit_resample([sine(200, 0.1)], None)
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        aug.fit_resample([str(tmp_path / "missing.wav")], ["a"])
    with pytest.raises(FileNotFoundError, match="row 0"):
        aug.fit([str(tmp_path / "missing.wav")], ["a"])
    with pytest.raises(ValueError, match="row 1"):
        aug.fit_resample([sine(200, 0.1), np.array([0.1, np.nan])], ["a", "b"])
    assert not hasattr(aug, "sample_indices_")  # nothing left half-done
    with pytest.raises(AudioInputError, match="Sparse input is not supported"):
        aug.fit_resample(sp.csr_matrix(np.ones((2, 100), dtype=np.float32)), ["a", "b"])


def test_clone_set_params_pickle():
    aug = WaveformAugmenter(n_copies=2, pitch_semitones=1.0, random_state=0)
    assert clone(aug).get_params() == aug.get_params()
    assert aug.set_params(n_copies=3).n_copies == 3
    X_a, _ = aug.fit_resample([sine(200, 0.3)], ["a"])
    restored = pickle.loads(pickle.dumps(aug))
    np.testing.assert_array_equal(restored.sample_indices_, aug.sample_indices_)
    X_b, _ = restored.fit_resample([sine(200, 0.3)], ["a"])
    for u, v in zip(X_a, X_b):
        np.testing.assert_array_equal(u, v)


# -- pipelines: copies in fit only, from the training fold only ----------------------


class RowCounter(TransformerMixin, BaseEstimator):
    """Record how many rows each fit/transform call sees; output one feature: std."""

    def fit(self, X, y=None):
        self.fit_rows_ = len(X)
        return self

    def transform(self, X):
        calls = getattr(type(self), "transform_rows", None)
        if calls is not None:
            calls.append(len(X))
        return np.array([[float(np.std(x))] for x in X])


class ToneIdentity(TransformerMixin, BaseEstimator):
    """Map each waveform to the id of the nearest tone on a geometric grid.

    Utterance ``i`` is a sine at ``BASE * RATIO ** i`` Hz; speed (x0.9-1.1),
    pitch (+-1 semitone), shift and 20 dB noise keep the dominant frequency
    within a factor < sqrt(RATIO), so the id of the original survives every
    augmentation.
    """

    BASE, RATIO = 150.0, 1.4

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        ids = [
            np.log(peak_frequency(np.asarray(x)) / self.BASE) / np.log(self.RATIO) for x in X
        ]
        return np.round(np.asarray(ids, dtype=float)).reshape(-1, 1)


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """Remember which identities it was trained on and asked to predict."""

    log: list = []

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.train_ids_ = np.asarray(X)[:, 0].astype(int)
        type(self).log.append(("fit", self.train_ids_.copy()))
        return self

    def predict(self, X):
        ids = np.asarray(X)[:, 0].astype(int)
        type(self).log.append(("predict", ids.copy()))
        return np.full(len(ids), self.classes_[0])


def tone_corpus(n_speakers: int = 4, per_speaker: int = 3):
    n = n_speakers * per_speaker
    X = [sine(ToneIdentity.BASE * ToneIdentity.RATIO**i, 0.5) for i in range(n)]
    y = np.array(["a", "b", "c"] * n_speakers, dtype=object)
    groups = np.repeat(np.arange(n_speakers), per_speaker)
    return X, y, groups


def test_pipeline_augments_in_fit_only():
    X, y, _ = tone_corpus()
    RowCounter.transform_rows = []
    pipe = make_pipeline(
        WaveformAugmenter(n_copies=2, random_state=0, **FAST), RowCounter(), SVC()
    )
    pipe.fit(X, y)
    assert pipe[1].fit_rows_ == 36  # 12 originals + 2 x 12 copies
    assert RowCounter.transform_rows == [36]
    pipe.predict(X[:5])
    pipe.score(X, y)
    assert RowCounter.transform_rows == [36, 5, 12]
    del RowCounter.transform_rows


def test_identity_survives_augmentation():
    X, y, _ = tone_corpus()
    aug = WaveformAugmenter(n_copies=2, noise_snr_db=20, pitch_semitones=(-1, 1),
                            random_state=0)
    X_res, _ = aug.fit_resample(X, y)
    ids = ToneIdentity().transform(X_res)[:, 0].astype(int)
    np.testing.assert_array_equal(ids, aug.sample_indices_)


def test_cross_validation_never_trains_on_copies_of_test_files():
    X, y, groups = tone_corpus()
    SpyClassifier.log = []
    pipe = make_pipeline(
        WaveformAugmenter(n_copies=2, noise_snr_db=20, pitch_semitones=(-1, 1),
                          random_state=0),
        ToneIdentity(),
        SpyClassifier(),
    )
    cv = GroupKFold(n_splits=4)
    cross_validate(pipe, X, y, groups=groups, cv=cv, scoring="accuracy")
    fits = [ids for kind, ids in SpyClassifier.log if kind == "fit"]
    predicts = [ids for kind, ids in SpyClassifier.log if kind == "predict"]
    assert len(fits) == 4 and len(predicts) == 4
    for (train, test), fit_ids, pred_ids in zip(cv.split(X, y, groups), fits, predicts):
        np.testing.assert_array_equal(np.sort(pred_ids), test)  # no copies at predict
        assert set(fit_ids).isdisjoint(test)  # no copy of a test file in training
        assert len(fit_ids) == 3 * len(train)
        assert set(fit_ids) == set(train)

    # The notebook's protocol, augmenting before splitting, is caught by the same spy.
    SpyClassifier.log = []
    X_leaky, y_leaky = WaveformAugmenter(n_copies=2, random_state=0).fit_resample(X, y)
    cross_val_predict(make_pipeline(ToneIdentity(), SpyClassifier()), X_leaky, y_leaky,
                      cv=3)
    fits = [ids for kind, ids in SpyClassifier.log if kind == "fit"]
    predicts = [ids for kind, ids in SpyClassifier.log if kind == "predict"]
    assert any(not set(f).isdisjoint(p) for f, p in zip(fits, predicts))


def test_grid_search_over_augmenter_params():
    X, y, groups = tone_corpus()
    pipe = make_pipeline(WaveformAugmenter(random_state=0, **FAST), RowCounter(), SVC())
    grid = GridSearchCV(pipe, {"waveformaugmenter__n_copies": [0, 1]}, cv=GroupKFold(2),
                        scoring="balanced_accuracy")
    grid.fit(X, y, groups=groups)
    assert grid.best_params_["waveformaugmenter__n_copies"] in (0, 1)
    assert grid.best_estimator_[1].fit_rows_ == 12 * (1 + grid.best_params_[
        "waveformaugmenter__n_copies"])


# -- imbalanced-learn oversampling of descriptor vectors ----------------------------


def test_random_oversampler_on_descriptor_vectors():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (30, 8)), rng.normal(2, 1, (6, 8))])
    y = np.array(["neutral"] * 30 + ["anger"] * 6, dtype=object)
    RowCounter.transform_rows = []
    pipe = make_pipeline(RandomOverSampler(random_state=0), RowCounter(), SVC())
    pipe.fit(X, y)
    assert pipe[1].fit_rows_ == 60  # 30 + 30 after balancing
    assert pipe.predict(X).shape == (36,)
    assert RowCounter.transform_rows == [60, 36]
    del RowCounter.transform_rows


def test_mfcc_functionals_random_oversampler_on_paths(audio_paths):
    from skser.features import MFCC, Functionals

    X = audio_paths * 3
    y = np.array(["anger"] * 9 + ["sadness"] * 3, dtype=object)
    pipe = make_pipeline(
        MFCC(n_mfcc=13), Functionals(), RandomOverSampler(random_state=0), SVC()
    )
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (12,)
    assert set(pipe.classes_) == {"anger", "sadness"}
    assert len(pipe[2].sample_indices_) == 18  # 9 + 9 after balancing, in fit
    assert pipe[-1].n_features_in_ == Functionals().fit_transform(
        MFCC(n_mfcc=13).fit_transform(audio_paths[:1])).shape[1]


def test_augmenter_then_mfcc_on_paths_in_group_cv(audio_paths):
    from skser.features import MFCC, Functionals

    X = audio_paths * 2
    y = np.array(["a", "b"] * 4, dtype=object)
    groups = np.repeat([0, 1, 2, 3], 2)
    pipe = make_pipeline(
        WaveformAugmenter(n_copies=1, random_state=0), MFCC(n_mfcc=13), Functionals(), SVC()
    )
    res = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(2))
    assert res["test_score"].shape == (2,)


@pytest.mark.shared_data
def test_real_speech_files(emodb_4class_files):
    paths = [str(f) for f in emodb_4class_files[:4]]
    originals = [load_audio(p, SR) for p in paths]
    aug = WaveformAugmenter(n_copies=1, noise_snr_db=20.0, max_shift=0, speed_factors=None,
                            random_state=0)
    X_res, _ = aug.fit_resample(paths, ["a", "b", "a", "b"])
    for orig, noisy in zip(originals, X_res[4:]):
        assert abs(snr_db(orig, noisy) - 20.0) < 0.5
    aug = WaveformAugmenter(n_copies=1, speed_factors=(0.9, 1.1), pitch_semitones=(-2, 2),
                            random_state=0)
    X_res, _ = aug.fit_resample(paths, ["a", "b", "a", "b"])
    for (_, r), copy in zip(aug.augmentations_.iterrows(), X_res[4:]):
        n = len(originals[int(r["source"])])
        assert abs(len(copy) - n / r["speed"]) <= 1
        assert np.isfinite(copy).all() and np.abs(copy).max() < 4


def test_group_cv_with_metadata_routing_enabled():
    from sklearn import config_context

    X, y, groups = tone_corpus()
    pipe = make_pipeline(WaveformAugmenter(random_state=0, **FAST), RowCounter(), SVC())
    with config_context(enable_metadata_routing=True):
        res = cross_validate(pipe, X, y, params={"groups": groups}, cv=GroupKFold(2),
                             return_estimator=True)
    assert [est[1].fit_rows_ for est in res["estimator"]] == [12, 12]  # 6 + 6 copies
