"""SERNetFeatures: column layout, equality with MFCC / LogMel / Prosody, names."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import skser
from skser.exceptions import ParameterError
from skser.features import MFCC, LogMel, Prosody, SERNetFeatures, frame_lengths
from skser.features._prosody import FRAME_TRACKS, FUNCTIONALS
from skser.features._sernet_features import N_MEL_COLUMNS, N_MFCC_COLUMNS

SR = 16000
GRID = dict(sr=SR, n_fft=512, hop_length=160, win_length=400)

_N_FEATURES_IN = (
    "audio rows are waveforms of any length: n_features_in_ has no meaning, "
    "the number of samples per row may change between fit and transform"
)


@parametrize_with_checks(
    [SERNetFeatures(), SERNetFeatures(prosody=None)],
    expected_failed_checks=lambda est: {
        "check_n_features_in": _N_FEATURES_IN,
        "check_n_features_in_after_fitting": _N_FEATURES_IN,
    },
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def speech_like(seconds: float, f0: float = 140.0, seed: int = 0) -> np.ndarray:
    """A voiced stretch between two noise bursts."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    y = sum((0.7**k) * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 6))
    y *= (t > 0.2 * seconds) & (t < 0.8 * seconds)
    y = 0.3 * y / np.abs(y).max() + 0.02 * rng.standard_normal(n)
    return y.astype(np.float32)


@pytest.mark.parametrize("prosody, width", [("utterance", 268), ("frames", 251), (None, 248)])
def test_layout_is_mfcc_logmel_prosody(prosody, width):
    ys = [speech_like(1.0), speech_like(0.6, 220, seed=1)]
    X = SERNetFeatures(prosody).fit_transform(ys)
    assert X.shape == (2, 101, width) and X.dtype == np.float32
    assert_array_equal(frame_lengths(X), [101, 61])
    mfcc = MFCC(40, deltas=2, preemphasis=0.97, **GRID).fit_transform(ys)
    logmel = LogMel(128, preemphasis=0.97, **GRID).fit_transform(ys)
    assert_allclose(X[..., :N_MFCC_COLUMNS], mfcc, atol=1e-4)
    assert_allclose(X[..., N_MFCC_COLUMNS:N_MFCC_COLUMNS + N_MEL_COLUMNS], logmel, atol=1e-4)
    rest = X[..., 248:]
    if prosody == "utterance":
        stats = Prosody(**GRID).fit_transform(ys)
        assert_allclose(rest[0], np.broadcast_to(stats[0], (101, 20)), rtol=1e-6)
        assert_allclose(rest[1, :61], np.broadcast_to(stats[1], (61, 20)), rtol=1e-6)
    elif prosody == "frames":
        assert_allclose(rest, Prosody("frames", **GRID).fit_transform(ys), rtol=1e-6)
    assert np.isnan(X[1, 61:]).all() and np.isfinite(X[1, :61]).all()


def test_names_follow_the_columns():
    names = list(SERNetFeatures().get_feature_names_out())
    assert len(names) == 268
    assert names[0] == "mfcc_0" and names[40] == "mfcc_delta_0" and names[80] == "mfcc_delta2_0"
    assert names[119] == "mfcc_delta2_39" and names[120] == "logmel_0"
    assert names[247] == "logmel_127"
    assert names[248:] == [f"prosody_{n}" for n in FUNCTIONALS]
    framed = list(SERNetFeatures("frames").get_feature_names_out())
    assert framed[248:] == [f"prosody_{n}" for n in FRAME_TRACKS]
    assert len(SERNetFeatures(None).get_feature_names_out()) == 248


def test_fixed_length_and_edge_cases():
    X = SERNetFeatures(n_frames=300).fit_transform([speech_like(4.0), speech_like(1.0)])
    assert X.shape == (2, 300, 268) and np.isfinite(X).all()
    for y in (np.zeros(SR, np.float32), np.full(3, 0.1, np.float32)):
        Z = SERNetFeatures().fit_transform([y])
        assert np.isfinite(Z).all()


def test_parameters_are_checked_and_estimator_is_picklable():
    with pytest.raises(ParameterError, match="fmax"):
        SERNetFeatures(fmax=9000.0).fit_transform([speech_like(0.5)])
    est = SERNetFeatures(prosody="frames")
    ys = [speech_like(0.5), speech_like(0.4, 200)]
    X = est.fit_transform(ys)
    assert_array_equal(pickle.loads(pickle.dumps(est)).transform(ys), X)
    assert_array_equal(clone(est).transform(ys), X)
    assert skser.SERNetFeatures is SERNetFeatures and skser.Prosody is Prosody
