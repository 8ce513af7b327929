"""Tests of the Functionals pooling transformer."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle
import re

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from skser.exceptions import InputError
from skser.features import Functionals
from skser.features._base import pad_frames

ALL = (
    "mean", "std", "min", "max", "median", "range", "iqr",
    "p5", "p95", "p2.5", "slope", "skew", "kurtosis",
)

EXPECTED_FAILED_CHECKS = {
    "check_n_features_in_after_fitting": (
        "2-D input is one frame-level track per row (n_samples, n_frames): its "
        "columns are frames, not features, so n_features_in_ is 1 and the frame "
        "count may change between fit and transform."
    ),
    "check_n_features_in": (
        "n_features_in_ is the number of feature tracks: 1 for 2-D input, whose "
        "columns are frames."
    ),
    "check_transformer_general": (
        "It asserts that transform rejects 2-D input with fewer columns than in fit; "
        "columns of 2-D input are frames, whose count may vary (the rest of this "
        "check is covered by the tests below on 3-D input)."
    ),
}


@parametrize_with_checks(
    [Functionals(), Functionals(functionals=("median", "p10", "skew"))],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def reference(frames: np.ndarray) -> np.ndarray:
    """Functionals of one unpadded (n_frames, n_features) array, feature-major."""
    x = frames.astype(np.float64)
    n = x.shape[0]
    slope = np.polyfit(np.arange(n), x, 1)[0] if n > 1 else np.zeros(x.shape[1])
    stats = [
        x.mean(0), x.std(0), x.min(0), x.max(0), np.median(x, 0), np.ptp(x, 0),
        np.percentile(x, 75, 0) - np.percentile(x, 25, 0),
        np.percentile(x, 5, 0), np.percentile(x, 95, 0), np.percentile(x, 2.5, 0),
        slope,
        np.nan_to_num(scipy.stats.skew(x, 0)), np.nan_to_num(scipy.stats.kurtosis(x, 0)),
    ]
    return np.stack(stats, axis=-1).ravel()


@pytest.fixture
def ragged():
    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(n, 4)).astype(np.float32) for n in (37, 5, 1, 2, 60)]
    return frames, pad_frames(frames)


def test_matches_numpy_and_scipy_on_unpadded_frames(ragged):
    frames, X = ragged
    out = Functionals(functionals=ALL).fit_transform(X)
    assert out.shape == (5, 4 * len(ALL))
    assert out.dtype == np.float64
    for i, f in enumerate(frames):
        np.testing.assert_allclose(out[i], reference(f), rtol=1e-6, atol=1e-9)


def test_padding_does_not_change_a_row(ragged):
    frames, X = ragged
    pool = Functionals(functionals=ALL).fit(X)
    alone = pool.transform(frames[1][np.newaxis])
    more_padding = np.concatenate([X, np.full((5, 40, 4), np.nan, np.float32)], axis=1)
    np.testing.assert_array_equal(pool.transform(X)[1], alone[0])
    np.testing.assert_array_equal(pool.transform(more_padding), pool.transform(X))


def test_one_frame_gives_finite_zero_spread():
    X = np.full((2, 3, 2), np.nan)
    X[0, 0] = [1.0, -2.0]
    X[1] = [[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]]
    out = Functionals(functionals=ALL).fit_transform(X).reshape(2, 2, len(ALL))
    assert np.isfinite(out).all()
    idx = {name: j for j, name in enumerate(ALL)}
    for name in ("std", "range", "iqr", "slope", "skew", "kurtosis"):
        assert out[0, 0, idx[name]] == 0.0, name
        assert out[1, 1, idx[name]] == 0.0, name  # constant track
    assert out[0, 1, idx["p95"]] == -2.0
    assert out[1, 0, idx["slope"]] == pytest.approx(1.0)


def test_slope_ignores_padding_and_uses_frame_index():
    X = np.full((1, 10, 1), np.nan)
    X[0, :4, 0] = [0.0, 2.0, 4.0, 6.0]
    assert Functionals(functionals=("slope",)).fit_transform(X)[0, 0] == pytest.approx(2.0)


def test_two_d_input_is_one_track():
    rng = np.random.default_rng(1)
    contour = rng.normal(size=(3, 50))
    contour[1, 30:] = np.nan
    pool = Functionals().fit(contour)
    assert pool.n_features_in_ == 1
    np.testing.assert_array_equal(pool.transform(contour), pool.transform(contour[:, :, None]))
    # The frame count may change between fit and transform.
    assert pool.transform(contour[:, :20]).shape == (3, 5)
    np.testing.assert_array_equal(
        pool.get_feature_names_out(["f0"]), ["f0_mean", "f0_std", "f0_min", "f0_max", "f0_slope"]
    )


@pytest.mark.parametrize("shape", [(10,), (2, 3, 4, 5)])
def test_wrong_ndim_is_a_clear_error(shape):
    with pytest.raises(InputError, match=r"Functionals expects .*\(n_samples, n_frames, "
                                         r"n_features\).*got \d-D .*pad_frames"):
        Functionals().fit(np.zeros(shape))


@pytest.mark.parametrize("shape, what", [((2, 0, 3), "frames"), ((2, 4, 0), "features per frame")])
def test_no_frames_or_no_features_is_a_clear_error(shape, what):
    with pytest.raises(InputError, match=re.escape(f"Functionals: X of shape {shape} has no {what}.")):
        Functionals().fit(np.zeros(shape))


def test_feature_count_is_checked_in_transform():
    pool = Functionals().fit(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="X has 4 features, but Functionals is expecting 3"):
        pool.transform(np.zeros((2, 5, 4)))


@pytest.mark.parametrize(
    "functionals, match",
    [
        ((), "empty"),
        (("mean", "average"), "unknown functional 'average'"),
        (("p101",), "unknown functional 'p101'"),
        (("mean", "std", "mean"), r"\['mean'\] more than once"),
    ],
)
def test_bad_functionals(functionals, match):
    with pytest.raises(ValueError, match=match):
        Functionals(functionals=functionals).fit(np.zeros((2, 3, 1)))


def test_rows_without_frames_and_infinite_values_are_errors():
    X = np.zeros((3, 4, 2))
    X[2] = np.nan
    with pytest.raises(ValueError, match="row 2 has no finite frame"):
        Functionals().fit_transform(X)
    X[2] = 0.0
    X[1, 0, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        Functionals().fit_transform(X)


def test_feature_names_grouped_by_feature():
    pool = Functionals(functionals=("mean", "p95")).fit(np.zeros((1, 2, 2)))
    assert pool.get_feature_names_out().tolist() == ["x0_mean", "x0_p95", "x1_mean", "x1_p95"]
    names = pool.get_feature_names_out(["mfcc_0", "mfcc_1"])
    assert names.tolist() == ["mfcc_0_mean", "mfcc_0_p95", "mfcc_1_mean", "mfcc_1_p95"]
    with pytest.raises(ValueError, match="input_features should have length equal"):
        pool.get_feature_names_out(["a"])


def test_column_order_matches_names():
    X = np.zeros((1, 3, 2))
    X[0, :, 0] = [1, 2, 3]
    X[0, :, 1] = [10, 10, 40]
    pool = Functionals(functionals=("mean", "max")).fit(X)
    row = dict(zip(pool.get_feature_names_out(), pool.transform(X)[0]))
    assert row == {"x0_mean": 2.0, "x0_max": 3.0, "x1_mean": 20.0, "x1_max": 40.0}


def test_set_output_pandas(ragged):
    _, X = ragged
    pool = Functionals(functionals=("mean", "std")).set_output(transform="pandas")
    df = pool.fit_transform(X)
    assert isinstance(df, pd.DataFrame)
    assert df.columns.tolist()[:2] == ["x0_mean", "x0_std"]
    assert df.shape == (5, 8)


def test_float32_input_gives_float64(ragged):
    _, X = ragged
    assert X.dtype == np.float32
    assert Functionals().fit_transform(X).dtype == np.float64


def test_large_input_is_pooled_in_blocks():
    # More rows than one block of (n_frames * n_features) elements.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 300, 120)).astype(np.float32)
    X[::3, 200:] = np.nan
    out = Functionals(functionals=("mean", "median")).fit_transform(X)
    np.testing.assert_allclose(
        out[3].reshape(120, 2)[:, 0], X[3, :200].astype(np.float64).mean(0), rtol=1e-10
    )
    np.testing.assert_allclose(out[4].reshape(120, 2)[:, 1], np.median(X[4], 0), rtol=1e-6)


def test_clone_pickle_and_set_params(ragged):
    _, X = ragged
    pool = Functionals(functionals=("mean", "iqr")).fit(X)
    restored = pickle.loads(pickle.dumps(pool))
    np.testing.assert_array_equal(restored.transform(X), pool.transform(X))
    other = clone(pool).set_params(functionals=("max",))
    assert other.fit_transform(X).shape == (5, 4)


def test_grid_search_over_functionals():
    rng = np.random.default_rng(3)
    n = 60
    y = np.repeat(["calm", "angry"], n // 2)
    X = rng.normal(size=(n, 20, 3))
    X[y == "angry"] *= 3.0  # classes differ in spread, not in mean
    speakers = np.tile(np.arange(6), n // 6)
    pipe = make_pipeline(Functionals(), StandardScaler(), SVC())
    search = GridSearchCV(
        pipe,
        {"functionals__functionals": [("mean",), ("mean", "std")]},
        cv=GroupKFold(3),
        scoring="balanced_accuracy",
    )
    search.fit(X, y, groups=speakers)
    assert search.best_params_["functionals__functionals"] == ("mean", "std")
    assert search.best_score_ > 0.9
