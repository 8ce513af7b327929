"""FeatureDict / FeatureBundle: named features that sklearn's splitters, clone and grid search handle."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle

import numpy as np
import pytest
import soundfile as sf
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline

from skser.exceptions import InputError, ParameterError
from skser.features import MFCC, FeatureBundle, FeatureDict, Functionals, LogMel, frame_lengths


def _waves(n=12, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = np.arange(int(16000 * (0.3 + 0.05 * (i % 5)))) / 16000
        f0 = 120 + 60 * (i % 2)
        out.append((0.3 * np.sin(2 * np.pi * f0 * t) + 0.02 * rng.standard_normal(t.size)).astype(np.float32))
    return out


class _PerKeyClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression on the time means of one named feature of a bundle."""

    def __init__(self, key="mfcc", C=1.0):
        self.key = key
        self.C = C

    def _x(self, X):
        return np.nanmean(X[self.key], axis=1)

    def fit(self, X, y):
        self.lr_ = LogisticRegression(C=self.C).fit(self._x(X), y)
        self.classes_ = self.lr_.classes_
        return self

    def predict(self, X):
        return self.lr_.predict(self._x(X))


def test_bundle_rows_and_keys():
    b = FeatureBundle({"a": np.arange(12.0).reshape(4, 3), "b": np.zeros((4, 5, 2))})
    assert len(b) == 4 and b.shape == (4,) and b.keys() == ["a", "b"] and "a" in b
    sub = b[np.array([True, False, True, False])]
    np.testing.assert_array_equal(sub["a"], [[0, 1, 2], [6, 7, 8]])
    assert b[1:3] == b[[1, 2]] and b[2]["a"].shape == (1, 3)
    assert b[(np.array([0]), Ellipsis)]["b"].shape == (1, 5, 2)
    with pytest.raises(KeyError, match="has \\['a', 'b'\\]"):
        b["c"]
    with pytest.raises(InputError, match="not one array"):
        np.asarray(b)
    with pytest.raises(InputError, match="same rows"):
        FeatureBundle({"a": np.zeros(3), "b": np.zeros(4)})
    assert pickle.loads(pickle.dumps(b)) == b


def test_transform_decodes_once_per_rate(tmp_path, monkeypatch):
    import skser.features._feature_dict as fdmod

    waves = _waves(4)
    paths = []
    for i, w in enumerate(waves):
        paths.append(str(tmp_path / f"{i}.wav"))
        sf.write(paths[-1], w, 16000, subtype="FLOAT")
    calls = []
    real = fdmod.prepare_waveform
    monkeypatch.setattr(fdmod, "prepare_waveform", lambda it, sr, row: calls.append(sr) or real(it, sr, row))
    fd = FeatureDict(mfcc=MFCC(n_mfcc=13, deltas=2), mel=LogMel(n_mels=20), mel22=LogMel(sr=22050))
    bundle = fd.fit_transform(paths)
    assert sorted(calls) == [16000] * 4 + [22050] * 4
    assert bundle["mfcc"].shape[0] == 4 and bundle["mfcc"].shape[2] == 39
    np.testing.assert_array_equal(bundle["mfcc"], MFCC(n_mfcc=13, deltas=2).fit_transform(paths))
    np.testing.assert_array_equal(bundle["mel"], LogMel(n_mels=20).fit_transform(waves))
    assert frame_lengths(bundle["mfcc"]).tolist() == frame_lengths(MFCC().fit_transform(waves)).tolist()


def test_blocks_are_padded_consistently(monkeypatch):
    import skser.features._feature_dict as fdmod

    monkeypatch.setattr(fdmod, "_BLOCK_SIZE", 3)
    waves = _waves(7)
    fd = FeatureDict(mfcc=MFCC(n_mfcc=8), stats=make_pipeline(MFCC(n_mfcc=8), Functionals()))
    blocked = fd.fit_transform(waves)
    np.testing.assert_array_equal(blocked["mfcc"], MFCC(n_mfcc=8).fit_transform(waves))
    np.testing.assert_allclose(blocked["stats"], make_pipeline(MFCC(n_mfcc=8), Functionals()).fit_transform(waves))


def test_params_clone_pickle():
    fd = FeatureDict(mfcc=MFCC(n_mfcc=13), mel=LogMel())
    params = fd.get_params(deep=True)
    assert params["mfcc__n_mfcc"] == 13 and "mel__n_mels" in params
    fd.set_params(mfcc__n_mfcc=20)
    assert fd.transformers[0][1].n_mfcc == 20
    twin = clone(fd)
    assert twin.transformers[0][1] is not fd.transformers[0][1]
    assert twin.get_params()["mfcc__n_mfcc"] == 20
    fd.set_params(mel=LogMel(n_mels=10))
    assert fd.get_params()["mel__n_mels"] == 10
    same = FeatureDict([("mfcc", MFCC(n_mfcc=20)), ("mel", LogMel(n_mels=10))])
    assert repr(same) == repr(fd)
    fitted = fd.fit(_waves(2))
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.transform(_waves(2)) == fitted.transform(_waves(2))


@pytest.mark.parametrize(
    "transformers, match",
    [(None, "needs named transformers"), ([("a", "x")], "no transform"), ([("a__b", MFCC())], "__")],
)
def test_bad_transformers(transformers, match):
    with pytest.raises((ParameterError, ValueError), match=match):
        FeatureDict(transformers).fit(_waves(1))


def test_cross_validate_and_grid_search_slice_the_bundle():
    waves = _waves(12)
    y = np.array(["low", "high"] * 6)
    groups = np.repeat(["s1", "s2", "s3", "s4"], 3)
    bundle = FeatureDict(mfcc=MFCC(n_mfcc=8), mel=LogMel(n_mels=16)).fit_transform(waves)
    res = cross_validate(_PerKeyClassifier(), bundle, y, groups=groups, cv=GroupKFold(4))
    assert res["test_score"].shape == (4,)
    search = GridSearchCV(_PerKeyClassifier(), {"key": ["mfcc", "mel"], "C": [0.1, 1.0]}, cv=GroupKFold(2))
    search.fit(bundle, y, groups=groups)
    assert search.best_params_["key"] in {"mfcc", "mel"}
    # the FeatureDict inside a pipeline: its parameters are searchable too
    pipe = make_pipeline(FeatureDict(mfcc=MFCC(n_mfcc=8)), _PerKeyClassifier())
    search = GridSearchCV(pipe, {"featuredict__mfcc__n_mfcc": [4, 8]}, cv=GroupKFold(2))
    search.fit(np.array(waves, dtype=object), y, groups=groups)
    assert search.best_params_["featuredict__mfcc__n_mfcc"] in (4, 8)
