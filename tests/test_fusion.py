"""FusionNet on FeatureDict bundles (MFCC + tiny random speech encoder), GridSearchCV, pickling."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline

from skser.exceptions import ParameterError
from skser.features import MFCC, FeatureBundle, FeatureDict
from skser.models import FusionNet, FusionNetModule, count_parameters


def _bundle(n=16, n_frames=30, seed=0, padded=True):
    """MFCC-like frames whose mean and embeddings whose first value depend on the class."""
    rng = np.random.default_rng(seed)
    y = np.array(["ang", "sad"] * (n // 2))
    mfcc = rng.standard_normal((n, n_frames, 39)).astype(np.float32)
    mfcc[y == "ang"] += 0.5
    if padded:
        for i in range(1, n, 3):
            mfcc[i, n_frames - 5 - i % 7 :] = np.nan
    emb = rng.standard_normal((n, 24)).astype(np.float32)
    emb[y == "sad", 0] += 2.0
    return FeatureBundle({"mfcc": mfcc, "embedding": emb}), y


def _fast(**kw):
    return FusionNet(max_epochs=2, batch_size=8, n_blocks=3, device="cpu", random_state=0, **kw)


@pytest.mark.parametrize("branch", ["tim", "timnet"])
def test_fit_predict_and_batching(branch):
    X, y = _bundle()
    est = _fast(mfcc_branch=branch).fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (16, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(est.predict(X)) <= {"ang", "sad"}
    one_by_one = np.vstack([est.predict_proba(X[[i]]) for i in range(len(y))])
    np.testing.assert_allclose(one_by_one, proba, atol=1e-5)
    # the padding is invisible: the same rows without their NaN frames give the same output
    i = 1
    n_real = int((~np.isnan(X["mfcc"][i]).all(axis=1)).sum())
    alone = {"mfcc": X["mfcc"][i : i + 1, :n_real], "embedding": X["embedding"][i : i + 1]}
    np.testing.assert_allclose(est.predict_proba(alone), proba[i : i + 1], atol=1e-5)


def test_branches_switch_off():
    X, y = _bundle()
    both = _fast().fit(X, y)
    no_emb = _fast(use_embedding=False).fit(X, y)
    emb_only = _fast(use_mfcc=False).fit({"embedding": X["embedding"]}, y)
    assert no_emb.module_.embedding is None and no_emb.module_.mfcc is not None
    assert emb_only.module_.mfcc is None
    assert both.n_params_ > no_emb.n_params_ > 0
    # the MFCC-only model does not need the embedding key at all
    no_emb.predict({"mfcc": X["mfcc"]})
    with pytest.raises(ParameterError, match="no branch"):
        _fast(use_mfcc=False, use_embedding=False).fit(X, y)
    with pytest.raises(ValueError, match="has no \\['emb'\\]"):
        _fast(embedding_key="emb").fit(X, y)
    with pytest.raises(ValueError, match="named features"):
        _fast().fit(X["mfcc"], y)


def test_stacked_layers_weighted_sum():
    X, y = _bundle()
    layers = np.repeat(X["embedding"][:, None, :], 3, axis=1)
    layers[:, 1] *= 0.5
    est = _fast().fit({"mfcc": X["mfcc"], "embedding": layers}, y)
    assert est.module_.layer_weights.shape == (3,)
    assert est.embedding_shape_ == (3, 24)
    with pytest.raises(ValueError, match="fitted with"):
        est.predict(X)


def test_module_size_follows_the_report():
    """39 MFCCs, 768-d wav2vec2 embedding, 6 classes: the TIM-Net-sized MFCC branch plus a dense layer."""
    module = FusionNetModule(6, 39, (768,))
    branch = count_parameters(module.mfcc)
    # two 1x1 projections + 2 x 8 blocks of (2 causal convs k=2 + 2 BN with statistics)
    assert branch == 2 * (39 * 39 + 39) + 16 * (2 * (2 * 39 * 39 + 39) + 2 * 4 * 39)
    assert count_parameters(module.embedding) == 768 * 128 + 128
    assert count_parameters(module.output) == (39 + 128) * 6 + 6
    out = module.eval()(torch.zeros(2, 162, 39), torch.zeros(2, 768))
    assert out.shape == (2, 6)


def test_pickle_clone_and_refit():
    X, y = _bundle()
    est = _fast().fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(restored.predict_proba(X), est.predict_proba(X), atol=1e-6)
    twin = clone(est)
    assert not hasattr(twin, "net_") and twin.get_params() == est.get_params()


@pytest.fixture(scope="module")
def tiny_wav2vec2(tmp_path_factory):
    pytest.importorskip("transformers")
    from _tiny_encoders import make_tiny_encoder

    return str(make_tiny_encoder("wav2vec2", tmp_path_factory.getbasetemp() / "tiny_encoders"))


def _speechlike(n_items=16, seed=0):
    rng = np.random.default_rng(seed)
    waves, y = [], []
    for i in range(n_items):
        label = ["ang", "sad"][i % 2]
        n = 16000 * 6 // 10 + 800 * (i % 4)
        t = np.arange(n) / 16000
        f0 = 220.0 if label == "ang" else 110.0
        w = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.02 * rng.standard_normal(n)
        waves.append(w.astype(np.float32))
        y.append(label)
    return np.array(waves, dtype=object), np.array(y), np.repeat(["s1", "s2", "s3", "s4"], n_items // 4)


def test_grid_search_over_fusion_and_feature_dict_parameters(tiny_wav2vec2, monkeypatch):
    from skser.features import SpeechEncoder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    X, y, groups = _speechlike()
    pipe = make_pipeline(
        FeatureDict(mfcc=MFCC(n_mfcc=13, deltas=2), embedding=SpeechEncoder(tiny_wav2vec2, device="cpu")),
        _fast(),
    )
    search = GridSearchCV(
        pipe,
        {"featuredict__mfcc__n_mfcc": [8, 13], "fusionnet__use_embedding": [True, False]},
        cv=GroupKFold(n_splits=2),
        error_score="raise",
    )
    search.fit(X, y, groups=groups)
    assert len(search.cv_results_["params"]) == 4
    assert search.predict(X[:3]).shape == (3,)

    # pickling the fitted pipeline carries no encoder weights (the encoder is reloaded by path)
    best = search.best_estimator_
    blob = pickle.dumps(best)
    fusion_state = sum(v.numel() * 4 for v in best[-1].module_.state_dict().values())
    assert len(blob) < fusion_state + 100_000
    restored = pickle.loads(blob)
    np.testing.assert_allclose(restored.predict_proba(X[:4]), best.predict_proba(X[:4]), atol=1e-5)
