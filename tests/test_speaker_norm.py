"""Tests of skser.preprocessing.SpeakerNormalizer and of routing speakers through evaluate."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.metadata_routing import MetadataRequest

from skser.exceptions import ParameterError
from skser.model_selection import SpeakerKFold, evaluate
from skser.preprocessing import (
    SingleEmotionSpeakerWarning,
    SpeakerNormalizationWarning,
    SpeakerNormalizer,
)


def corpus(n_speakers: int = 6, per_speaker: int = 20, n_features: int = 3, seed: int = 0):
    """Two emotions hidden under large per-speaker offsets and scales."""
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"spk{i}" for i in range(n_speakers)], per_speaker).astype(object)
    y = np.tile(np.array(["anger", "neutral"], dtype=object), n_speakers * per_speaker // 2)
    speaker = np.repeat(np.arange(n_speakers), per_speaker)
    offset = rng.normal(0, 5, (n_speakers, n_features))[speaker]
    scale = rng.uniform(0.5, 3, (n_speakers, n_features))[speaker]
    X = offset + scale * ((y == "anger")[:, None] + rng.normal(0, 0.3, (len(y), n_features)))
    return X, y, groups


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


# -- scikit-learn estimator checks ---------------------------------------------
# The checks call fit(X, y) and transform(X) without speakers: the "global"
# mode, where the step is a StandardScaler fitted on all rows, is what they test.
@parametrize_with_checks([SpeakerNormalizer(missing_groups="global")])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_parameter_errors():
    X, y, groups = corpus()
    with pytest.raises(ParameterError, match="min_utterances"):
        SpeakerNormalizer(min_utterances=0).fit(X, groups=groups)
    with pytest.raises(ParameterError, match="missing_groups"):
        SpeakerNormalizer(missing_groups="skip").fit(X, groups=groups)


# -- statistics ----------------------------------------------------------------
@pytest.mark.parametrize("robust", [False, True])
def test_each_training_speaker_is_standardised_with_its_own_statistics(robust):
    X, _, groups = corpus()
    Xt = SpeakerNormalizer(robust=robust).fit_transform(X, groups=groups)
    for speaker in np.unique(groups):
        rows = Xt[groups == speaker]
        if robust:
            q25, median, q75 = np.percentile(rows, [25, 50, 75], axis=0)
            np.testing.assert_allclose(median, 0, atol=1e-12)
            np.testing.assert_allclose(q75 - q25, 1, atol=1e-12)
        else:
            np.testing.assert_allclose(rows.mean(axis=0), 0, atol=1e-12)
            np.testing.assert_allclose(rows.std(axis=0), 1, atol=1e-12)


def test_with_std_false_only_centres_and_constant_feature_is_kept_finite():
    X, _, groups = corpus()
    X[:, 1] = 7.0
    norm = SpeakerNormalizer(with_std=False).fit(X, groups=groups)
    Xt = norm.transform(X, groups=groups)
    np.testing.assert_array_equal(norm.scale_, 1.0)
    np.testing.assert_allclose(Xt[:, 1], 0.0)
    first = groups == "spk0"
    np.testing.assert_allclose(Xt[first, 0], X[first, 0] - X[first, 0].mean())


def test_speaker_normalisation_recovers_emotion_hidden_by_speakers():
    X, y, groups = corpus(n_speakers=8)
    raw = evaluate(LogisticRegression(), X, y, groups=groups)
    normed = evaluate(make_pipeline(SpeakerNormalizer(), LogisticRegression()), X, y,
                      groups=groups)
    assert raw.pooled["uar"] < 0.75
    assert normed.pooled["uar"] > 0.95


def test_frame_level_statistics_over_real_frames_only():
    rng = np.random.default_rng(1)
    lengths = np.array([5, 9, 3, 7, 8, 2])
    groups = np.array(["a", "a", "a", "b", "b", "b"], dtype=object)
    X = np.full((6, 9, 4), np.nan, dtype=np.float32)
    for i, n in enumerate(lengths):
        X[i, :n] = rng.normal(3 * i, 1 + i, (n, 4))
    norm = SpeakerNormalizer(min_utterances=1)
    Xt = norm.fit_transform(X, groups=groups)
    assert Xt.shape == X.shape and Xt.dtype == np.float32
    np.testing.assert_array_equal(np.isnan(Xt), np.isnan(X))  # padding stays NaN
    for speaker in ("a", "b"):
        real = np.concatenate([X[i, :n] for i, n in enumerate(lengths) if groups[i] == speaker])
        k = list(norm.speakers_).index(speaker)
        np.testing.assert_allclose(norm.location_[k], real.mean(axis=0), rtol=1e-5)
        np.testing.assert_allclose(norm.scale_[k], real.std(axis=0), rtol=1e-5)
        out = np.concatenate([Xt[i, :n] for i, n in enumerate(lengths) if groups[i] == speaker])
        np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    # More padding (a longer utterance elsewhere in the batch) changes nothing.
    wider = np.concatenate([X, np.full((6, 5, 4), np.nan, np.float32)], axis=1)
    np.testing.assert_allclose(
        SpeakerNormalizer(min_utterances=1).fit_transform(wider, groups=groups)[:, :9], Xt,
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="fitted on 3-D features but X is 2-D"):
        norm.transform(X[:, 0], groups=groups)


# -- speakers at transform time ------------------------------------------------
def test_unseen_speaker_uses_own_statistics_transductively():
    X, _, groups = corpus()
    train, test = groups != "spk5", groups == "spk5"
    norm = SpeakerNormalizer().fit(X[train], groups=groups[train])
    Xt = norm.transform(X[test], groups=groups[test])
    np.testing.assert_allclose(Xt.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Xt.std(axis=0), 1, atol=1e-12)
    assert "spk5" not in norm.speakers_  # transform stores nothing


def test_enrolled_speaker_uses_enrolment_statistics():
    X, _, groups = corpus()
    train, new = groups != "spk5", np.flatnonzero(groups == "spk5")
    enrol, later = new[:12], new[12:]
    norm = SpeakerNormalizer().fit(X[train], groups=groups[train]).enroll(X[enrol],
                                                                          groups[enrol])
    assert norm.speakers_[-1] == "spk5" and norm.n_utterances_[-1] == 12
    # Two utterances after enrolment: no warning, enrolment statistics.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Xt = norm.transform(X[later[:2]], groups=groups[later[:2]])
    expected = (X[later[:2]] - X[enrol].mean(axis=0)) / X[enrol].std(axis=0)
    np.testing.assert_allclose(Xt, expected)


def test_too_few_utterances_fall_back_to_global_statistics_with_warning():
    X, _, groups = corpus()
    train = groups != "spk5"
    norm = SpeakerNormalizer(min_utterances=10).fit(X[train], groups=groups[train])
    few = np.flatnonzero(groups == "spk5")[:3]
    with pytest.warns(SpeakerNormalizationWarning,
                      match=r"min_utterances=10 rows: 'spk5' \(3 rows\)"):
        Xt = norm.transform(X[few], groups=groups[few])
    np.testing.assert_allclose(Xt, (X[few] - norm.global_location_) / norm.global_scale_)
    # The global location is the mean of all training rows; the global scale is the
    # typical within-speaker spread (what the model saw in training).
    np.testing.assert_allclose(norm.global_location_, X[train].mean(axis=0))
    np.testing.assert_allclose(norm.global_scale_, np.sqrt((norm.scale_**2).mean(axis=0)))
    # A training speaker with too few rows warns at fit and gets no own statistics.
    rows = np.concatenate([np.flatnonzero(train), few])
    with pytest.warns(SpeakerNormalizationWarning, match="spk5"):
        refit = SpeakerNormalizer(min_utterances=10).fit(X[rows], groups=groups[rows])
    assert "spk5" not in refit.speakers_


def test_single_emotion_speaker_warns():
    X, y, groups = corpus()
    y = y.copy()
    y[groups == "spk2"] = "anger"
    with pytest.warns(SingleEmotionSpeakerWarning, match=r"'spk2' \(only 'anger'\)"):
        SpeakerNormalizer().fit(X, y, groups=groups)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SpeakerNormalizer().fit(X, corpus()[1], groups=groups)


def test_missing_groups_raise_or_use_global_statistics():
    X, _, groups = corpus()
    with pytest.raises(ValueError, match="no groups.*enable_metadata_routing=True"):
        SpeakerNormalizer().fit(X)
    norm = SpeakerNormalizer().fit(X, groups=groups)
    with pytest.raises(ValueError, match="transform got no groups.*missing_groups='global'"):
        norm.transform(X)
    with pytest.raises(ValueError, match=r"one speaker per row of X \(120\)"):
        norm.transform(X, groups=groups[:-1])
    with pytest.raises(ValueError, match=r"no speaker \(None or NaN\) at rows \[3\]"):
        bad = groups.copy()
        bad[3] = None
        norm.transform(X, groups=bad)
    global_norm = SpeakerNormalizer(missing_groups="global").fit(X)
    np.testing.assert_allclose(global_norm.transform(X).mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(global_norm.transform(X).std(axis=0), 1, atol=1e-12)


# -- labels are never used -----------------------------------------------------
def test_statistics_and_output_do_not_depend_on_labels():
    X, y, groups = corpus()
    rng = np.random.default_rng(0)
    a = SpeakerNormalizer().fit(X, y, groups=groups)
    b = SpeakerNormalizer().fit(X, rng.permutation(y), groups=groups)
    c = SpeakerNormalizer().fit(X, None, groups=groups)
    for other in (b, c):
        np.testing.assert_array_equal(a.location_, other.location_)
        np.testing.assert_array_equal(a.scale_, other.scale_)
        np.testing.assert_array_equal(a.transform(X, groups=groups),
                                      other.transform(X, groups=groups))


class SpyNormalizer(SpeakerNormalizer):
    """Record which rows (column 0 holds the row id) and labels each call receives."""

    log: list = []

    def fit(self, X, y=None, groups=None):
        type(self).log.append(("fit", np.asarray(X)[:, 0].astype(int), np.asarray(y),
                               np.asarray(groups)))
        return super().fit(X, y, groups=groups)

    def transform(self, X, groups=None):
        type(self).log.append(("transform", np.asarray(X)[:, 0].astype(int), None,
                               np.asarray(groups)))
        return super().transform(X, groups=groups)


def test_evaluate_never_shows_test_labels_to_the_normaliser():
    X, y, groups = corpus()
    X = np.column_stack([np.arange(len(y)), X])  # row ids
    SpyNormalizer.log = []
    result = evaluate(make_pipeline(SpyNormalizer(), LogisticRegression()), X, y,
                      groups=groups, cv=SpeakerKFold(3))
    fits = [entry for entry in SpyNormalizer.log if entry[0] == "fit"]
    assert len(fits) == 3
    for (_, rows, labels, speakers), test in zip(fits, result.test_indices):
        assert set(rows).isdisjoint(test)  # fitted on training rows only ...
        np.testing.assert_array_equal(labels, y[rows])  # ... with their labels only
        np.testing.assert_array_equal(speakers, groups[rows])
    # Predictions do not change when the test labels are scrambled.
    y_scrambled = y.copy()
    for test in result.test_indices:
        y_scrambled[test] = np.random.default_rng(0).permutation(y[test])
    rerun = evaluate(make_pipeline(SpeakerNormalizer(), LogisticRegression()), X, y,
                     groups=groups, cv=SpeakerKFold(3))
    scrambled_transform = [
        SpeakerNormalizer().fit(X[np.setdiff1d(np.arange(len(y)), t)],
                                y_scrambled[np.setdiff1d(np.arange(len(y)), t)],
                                groups=groups[np.setdiff1d(np.arange(len(y)), t)])
        .transform(X[t], groups=groups[t])
        for t in result.test_indices
    ]
    reference = [
        est[0].transform(X[t], groups=groups[t])
        for est, t in zip(
            evaluate(make_pipeline(SpeakerNormalizer(), LogisticRegression()), X, y,
                     groups=groups, cv=SpeakerKFold(3), return_estimators=True).estimators,
            result.test_indices,
        )
    ]
    for a, b in zip(scrambled_transform, reference):
        np.testing.assert_array_equal(a, b)
    assert rerun.pooled == pytest.approx(result.pooled, nan_ok=True)


# -- routing -------------------------------------------------------------------
def test_default_requests_need_no_set_request_calls(routing):
    X, y, groups = corpus()
    pipe = make_pipeline(SpeakerNormalizer(), LogisticRegression())
    pipe.fit(X, y, groups=groups)
    assert set(pipe[0].speakers_) == set(groups)
    pred = pipe.predict(X, groups=groups)
    assert balanced_accuracy_score(y, pred) > 0.95
    # Declining the request makes the pipeline raise on groups it cannot route.
    declined = make_pipeline(SpeakerNormalizer(missing_groups="global")
                             .set_fit_request(groups=False)
                             .set_transform_request(groups=False), LogisticRegression())
    with pytest.raises(TypeError, match="groups"):
        declined.fit(X, y, groups=groups)


def test_cross_validate_routes_groups_to_splitter_and_fit(routing):
    X, y, groups = corpus()
    res = cross_validate(make_pipeline(SpeakerNormalizer(), LogisticRegression()), X, y,
                         cv=GroupKFold(3), params={"groups": groups}, return_estimator=True,
                         return_indices=True)
    for est, train in zip(res["estimator"], res["indices"]["train"]):
        assert set(est[0].speakers_) == set(groups[train])


class GroupsScorer:
    """UAR of ``predict(X, groups=groups)``: scikit-learn scorers pass no metadata
    to ``predict``, so a search over a speaker-normalised pipeline needs this."""

    def __call__(self, estimator, X, y, groups=None):
        return balanced_accuracy_score(y, estimator.predict(X, groups=groups))

    def get_metadata_routing(self):
        request = MetadataRequest(owner="GroupsScorer")
        request.score.add_request(param="groups", alias=True)
        return request


def test_grid_search_with_group_kfold(routing):
    X, y, groups = corpus()
    search = GridSearchCV(
        make_pipeline(SpeakerNormalizer(), LogisticRegression()),
        {"speakernormalizer__with_std": [False, True]},
        cv=GroupKFold(3), scoring=GroupsScorer(),
    )
    search.fit(X, y, groups=groups)
    assert search.best_score_ > 0.95
    assert set(search.best_estimator_[0].speakers_) == set(groups)


def test_clone_and_pickle_keep_requests_and_statistics(routing):
    X, y, groups = corpus()
    norm = SpeakerNormalizer(robust=True, min_utterances=3).set_transform_request(groups=True)
    fitted = clone(norm).fit(X, groups=groups)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X, groups=groups),
                                  fitted.transform(X, groups=groups))
    assert clone(norm).get_params() == norm.get_params()
    assert clone(norm).get_metadata_routing().consumes("transform", ["groups"]) == {"groups"}


# -- evaluate routes speakers to fit --------------------------------------------
class GroupsSpy(ClassifierMixin, BaseEstimator):
    """A classifier whose fit takes groups (as the neural classifiers' do)."""

    def fit(self, X, y, groups=None):
        self.classes_ = np.unique(y)
        self.groups_ = None if groups is None else np.asarray(groups)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_evaluate_routes_groups_to_a_fit_that_requests_them():
    X, y, groups = corpus()
    with sklearn.config_context(enable_metadata_routing=True):
        spy = GroupsSpy().set_fit_request(groups=True)
    result = evaluate(spy, X, y, groups=groups, cv=SpeakerKFold(3), return_estimators=True)
    for est, test in zip(result.estimators, result.test_indices):
        train = np.setdiff1d(np.arange(len(y)), test)
        np.testing.assert_array_equal(est.groups_, groups[train])
    # Not requested: fit gets no speakers, as before metadata routing.
    plain = evaluate(GroupsSpy(), X, y, groups=groups, cv=SpeakerKFold(3),
                     return_estimators=True)
    assert all(est.groups_ is None for est in plain.estimators)
    assert not sklearn.get_config()["enable_metadata_routing"]  # left as it was


def test_evaluate_neural_validation_split_keeps_speakers_apart(monkeypatch):
    pytest.importorskip("torch")
    from skser.models import CNN1D
    from skser.models._base import BaseNeuralClassifier

    splits = []
    original = BaseNeuralClassifier._split

    def spy_split(self, y_enc, groups, seed):
        train, valid = original(self, y_enc, groups, seed)
        splits.append((None if groups is None else np.asarray(groups), train, valid))
        return train, valid

    monkeypatch.setattr(BaseNeuralClassifier, "_split", spy_split)
    X, y, groups = corpus(n_speakers=6, per_speaker=8, n_features=12)
    with sklearn.config_context(enable_metadata_routing=True):
        net = CNN1D(max_epochs=1, batch_size=16, validation_fraction=0.34, random_state=0,
                    device="cpu").set_fit_request(groups=True)
    result = evaluate(make_pipeline(SpeakerNormalizer(min_utterances=2), net), X, y,
                      groups=groups, cv=SpeakerKFold(2, stratify=False))
    assert len(splits) == 2
    for (fold_groups, train, valid), test in zip(splits, result.test_indices):
        np.testing.assert_array_equal(
            fold_groups, groups[np.setdiff1d(np.arange(len(y)), test)])
        assert set(fold_groups[train]).isdisjoint(fold_groups[valid])
    assert 0.0 <= result.pooled["roc_auc"] <= 1.0


def test_evaluate_names_a_step_that_accepts_groups_without_saying_so():
    from sklearn.exceptions import UnsetMetadataPassedError

    X, y, groups = corpus()
    with pytest.raises(UnsetMetadataPassedError, match="GroupsSpy.fit"):
        evaluate(make_pipeline(SpeakerNormalizer(), GroupsSpy()), X, y, groups=groups)


def test_bad_groups_are_input_errors():
    from skser.exceptions import InputError

    X, _, groups = corpus()
    with pytest.raises(InputError, match="transform got no groups"):
        SpeakerNormalizer().fit(X, groups=groups).transform(X)
    with pytest.raises(InputError, match="one speaker per row"):
        evaluate(LogisticRegression(), X, corpus()[1], groups=groups[:-1])
