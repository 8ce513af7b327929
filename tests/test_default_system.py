"""Tests of skser.make_default_classifier."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

import skser
from skser.model_selection import evaluate
from skser.preprocessing import SpeakerNormalizer


def tone_corpus(make_tone, n_speakers: int = 4, per_class: int = 6):
    """Speakers with their own pitch; emotion 'anger' is louder and higher."""
    X, y, groups = [], [], []
    rng = np.random.default_rng(0)
    for speaker in range(n_speakers):
        f0 = 120.0 + 40 * speaker
        for emotion, (factor, gain) in {"anger": (1.5, 0.8), "neutral": (1.0, 0.3)}.items():
            for _ in range(per_class):
                wave = gain * make_tone(f0 * factor * rng.uniform(0.97, 1.03), 0.4, 16000)
                X.append(wave + rng.normal(0, 0.01, wave.shape).astype(np.float32))
                y.append(emotion)
                groups.append(f"spk{speaker}")
    return X, np.array(y, dtype=object), np.array(groups, dtype=object)


def test_recipe_is_an_unfitted_pipeline():
    model = skser.make_default_classifier()
    assert isinstance(model, Pipeline)
    assert [name for name, _ in model.steps] == [
        "features", "speakernormalizer", "standardscaler", "classifier"]
    assert isinstance(model["speakernormalizer"], SpeakerNormalizer)
    with pytest.raises(NotFittedError):
        check_is_fitted(model["classifier"])
    assert clone(model).get_params()["classifier__C"] == 0.01
    assert "make_default_classifier" in dir(skser)


def test_default_system_under_evaluate(tone):
    X, y, groups = tone_corpus(tone)
    model = skser.make_default_classifier()
    result = evaluate(model, X, y, groups=groups, return_estimators=True)
    assert result.protocol == "leave-one-speaker-out (4 folds, speaker-independent)"
    assert result.pooled["uar"] >= 0.8  # chance 0.5
    assert 0.8 <= result.pooled["roc_auc"] <= 1.0
    # Each fold's normaliser knows exactly the training speakers.
    for est, test in zip(result.estimators, result.test_indices):
        assert set(est["speakernormalizer"].speakers_) == set(groups) - set(groups[test])
    assert est["features"].transform(X[:2]).shape == (2, 1610)
    # Outside evaluate, predict needs the speakers (routing on) and says how to pass them.
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(ValueError, match="enable_metadata_routing=True"):
            est.predict(X[:12])
        assert (est.predict(X[:12], groups=groups[:12]) == y[:12]).mean() >= 0.8
