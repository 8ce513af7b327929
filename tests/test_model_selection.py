"""Tests of the speaker-independent splitters and of evaluate()."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import balanced_accuracy_score, confusion_matrix  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    GroupKFold,
    KFold,
    ShuffleSplit,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skser.exceptions import InputError, ParameterError  # noqa: E402
from skser.metrics import get_scorers  # noqa: E402
from skser.model_selection import (  # noqa: E402
    EvaluationResult,
    LeaveOneSpeakerOut,
    SpeakerKFold,
    SpeakerOverlapWarning,
    evaluate,
)

EMOTIONS = np.array(["anger", "happiness", "neutral", "sadness"], dtype=object)


@pytest.fixture
def data():
    """120 rows, 4 string classes, 8 speakers of 15 rows each."""
    X, y = make_classification(
        n_samples=120, n_features=8, n_informative=5, n_classes=4,
        n_clusters_per_class=1, class_sep=1.5, random_state=0,
    )
    speakers = np.array([f"spk{i:02d}" for i in np.repeat(np.arange(8), 15)], dtype=object)
    return X, EMOTIONS[y], speakers


def model():
    return make_pipeline(StandardScaler(), LogisticRegression())


# -- splitters -----------------------------------------------------------------
@pytest.mark.parametrize(
    "cv, n_folds", [(LeaveOneSpeakerOut(), 8), (SpeakerKFold(4), 4),
                    (SpeakerKFold(3, stratify=False), 3),
                    (SpeakerKFold(2, shuffle=True, random_state=0), 2)]
)
def test_splitters_keep_speakers_disjoint_and_partition(data, cv, n_folds):
    X, y, speakers = data
    splits = list(cv.split(X, y, speakers))
    assert len(splits) == n_folds == cv.get_n_splits(X, y, speakers)
    tested = np.concatenate([test for _, test in splits])
    assert np.array_equal(np.sort(tested), np.arange(len(y)))
    for train, test in splits:
        assert not set(speakers[train]) & set(speakers[test])
        assert len(train) + len(test) == len(y)


def test_loso_tests_one_speaker_per_fold(data):
    X, y, speakers = data
    seen = [set(speakers[test]) for _, test in LeaveOneSpeakerOut().split(X, y, speakers)]
    assert all(len(s) == 1 for s in seen)
    assert set().union(*seen) == set(speakers)


@pytest.mark.parametrize("cv", [LeaveOneSpeakerOut(), SpeakerKFold()])
def test_splitters_require_groups(data, cv):
    X, y, _ = data
    with pytest.raises(InputError, match=r"needs the speaker of every sample: pass groups="):
        cv.split(X, y)
    with pytest.raises(InputError, match="groups=speakers"):
        list(cross_val_score(LogisticRegression(), X, y, cv=cv))


def test_one_groups_check_for_splitters_evaluate_and_normalizer(data):
    """skser._groups.check_speakers: the same rules and message wherever groups arrive."""
    from skser.preprocessing import SpeakerNormalizer

    X, y, speakers = data
    no_speaker = speakers.copy()
    no_speaker[[4, 7]] = [None, np.nan]
    float_ids = np.repeat(np.arange(8.0), 15)
    float_ids[3] = np.nan
    for bad in (no_speaker, float_ids):
        with pytest.raises(InputError, match=r"evaluate: groups has no speaker .* at rows \[(4, 7|3)\]"):
            evaluate(model(), X, y, groups=bad)
        with pytest.raises(InputError, match=r"LeaveOneSpeakerOut: groups has no speaker"):
            LeaveOneSpeakerOut().get_n_splits(groups=bad)
        with pytest.raises(InputError, match=r"SpeakerNormalizer.fit: groups has no speaker"):
            SpeakerNormalizer().fit(X, groups=bad)
    with pytest.raises(InputError, match=r"SpeakerKFold: groups must hold one speaker per row of X; "
                                         r"got shape \(120, 1\)"):
        SpeakerKFold().split(X, y, speakers[:, None])
    # Integer and (NaN-free) float ids pass as they are; strings as objects.
    assert LeaveOneSpeakerOut().get_n_splits(groups=np.repeat(np.arange(8.0), 15)) == 8
    norm = SpeakerNormalizer().fit(X, groups=np.repeat(np.arange(8.0), 15))
    assert norm.speakers_.tolist() == list(np.arange(8.0))


def test_speaker_kfold_errors(data):
    X, y, speakers = data
    with pytest.raises(ValueError, match=r"n_splits=9\) needs at least 9 speakers; groups holds 8"):
        SpeakerKFold(9).split(X, y, speakers)
    with pytest.raises(ValueError, match="needs y"):
        SpeakerKFold(2).split(X, None, speakers)


def test_speaker_kfold_stratifies_better_than_group_kfold():
    # Speakers with skewed class distributions: stratified assignment balances folds.
    rng = np.random.default_rng(0)
    speakers = np.repeat(np.arange(12), 20)
    p = np.where(np.arange(12)[:, None] % 2 == 0, [0.8, 0.2], [0.2, 0.8])
    y = np.concatenate([rng.choice(2, 20, p=p[s]) for s in range(12)])
    X = np.zeros((240, 1))

    def spread(cv):
        props = [y[test].mean() for _, test in cv.split(X, y, speakers)]
        return np.ptp(props)

    assert spread(SpeakerKFold(4)) < spread(SpeakerKFold(4, stratify=False)) + 1e-12
    assert spread(SpeakerKFold(4)) < 0.1


def test_splitters_in_grid_search(data):
    X, y, speakers = data
    search = GridSearchCV(
        model(), {"logisticregression__C": [0.01, 1.0]},
        cv=SpeakerKFold(4), scoring=get_scorers(), refit="uar",
    )
    search.fit(X, y, groups=speakers)
    assert set(search.cv_results_) >= {"mean_test_uar", "mean_test_wa", "mean_test_macro_f1"}


def test_splitter_repr_and_pickle(data):
    import pickle

    X, y, speakers = data
    cv = SpeakerKFold(3, shuffle=True, random_state=1, stratify=False)
    assert repr(cv) == "SpeakerKFold(n_splits=3, random_state=1, shuffle=True, stratify=False)"
    restored = pickle.loads(pickle.dumps(cv))
    for (_, a), (_, b) in zip(cv.split(X, y, speakers), restored.split(X, y, speakers)):
        np.testing.assert_array_equal(a, b)


# -- evaluate ------------------------------------------------------------------
def test_evaluate_loso_default(data):
    X, y, speakers = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # speaker-independent: no warning
        result = evaluate(model(), X, y, groups=speakers)
    assert isinstance(result, EvaluationResult)
    assert isinstance(result.cv, LeaveOneSpeakerOut)
    assert result.protocol == "leave-one-speaker-out (8 folds, speaker-independent)"
    assert result.n_folds == 8
    assert list(result.folds.columns) == [
        "fold", "n_train", "n_test", "test_speakers", "uar", "wa", "macro_f1",
        "roc_auc", "fit_time", "predict_time",
    ]
    assert result.folds["n_test"].tolist() == [15] * 8
    assert result.folds["test_speakers"].tolist() == [f"spk{i:02d}" for i in range(8)]
    assert result.pooled["uar"] > 0.5  # separable classes, chance is 0.25


def test_evaluate_pooled_equals_manual_out_of_fold(data):
    X, y, speakers = data
    result = evaluate(model(), X, y, groups=speakers, cv=SpeakerKFold(4))
    manual = np.empty(len(y), dtype=object)
    for k, (train, test) in enumerate(SpeakerKFold(4).split(X, y, speakers)):
        fitted = model().fit(X[train], y[train])
        manual[test] = fitted.predict(X[test])
        assert result.folds.loc[k, "uar"] == pytest.approx(
            balanced_accuracy_score(y[test], manual[test])
        )
        np.testing.assert_array_equal(result.test_indices[k], test)
    np.testing.assert_array_equal(result.y_pred, manual)
    np.testing.assert_array_equal(result.y_true, y)
    assert result.pooled["uar"] == pytest.approx(balanced_accuracy_score(y, manual))
    assert result.pooled["wa"] == pytest.approx(np.mean(y == manual))
    assert result.mean["uar"] == pytest.approx(result.folds["uar"].mean())
    assert result.std["wa"] == pytest.approx(result.folds["wa"].std(ddof=1))
    np.testing.assert_array_equal(result.labels, np.sort(EMOTIONS))
    np.testing.assert_array_equal(
        result.confusion_matrix, confusion_matrix(y, manual, labels=result.labels)
    )
    assert result.report_dict["macro avg"]["f1-score"] == pytest.approx(result.pooled["macro_f1"])


def test_evaluate_warns_on_speaker_overlap(data):
    X, y, speakers = data
    with pytest.warns(SpeakerOverlapWarning, match=r"fold 0: \['spk00'.*LeaveOneSpeakerOut"):
        result = evaluate(model(), X, y, groups=speakers, cv=KFold(3, shuffle=True, random_state=0))
    assert issubclass(SpeakerOverlapWarning, UserWarning)
    assert "speaker-dependent" in result.protocol
    assert result.protocol.startswith("KFold (3 folds")


def test_evaluate_without_groups_warns_speaker_dependent(data):
    X, y, _ = data
    with pytest.warns(UserWarning, match="speaker-dependent"):
        result = evaluate(model(), X, y)
    assert isinstance(result.cv, StratifiedKFold)
    assert result.protocol == (
        "StratifiedKFold (5 folds, shuffled, speakers unknown, speaker-dependent)"
    )
    assert result.folds["test_speakers"].isna().all()


def test_evaluate_int_cv_uses_speaker_kfold(data):
    X, y, speakers = data
    result = evaluate(model(), X, y, groups=speakers, cv=4)
    assert isinstance(result.cv, SpeakerKFold)
    assert result.protocol == "SpeakerKFold (4 folds, stratified, speaker-independent)"


def test_evaluate_accepts_iterable_of_splits(data):
    X, y, speakers = data
    splits = list(GroupKFold(2).split(X, y, speakers))
    result = evaluate(model(), X, y, groups=speakers, cv=splits)
    assert result.n_folds == 2
    assert "speaker-independent" in result.protocol


def test_evaluate_rejects_non_partition(data):
    X, y, speakers = data
    with pytest.raises(ValueError, match="partition the rows.*never tested"):
        evaluate(model(), X, y, groups=speakers, cv=ShuffleSplit(3, random_state=0))


def test_evaluate_arrow_strings_and_lists(data):
    X, y, speakers = data
    y_arrow = pd.Series(y, dtype="str")
    groups_arrow = pd.Series(speakers, dtype="str")
    X_df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    result = evaluate(model(), X_df, y_arrow, groups=groups_arrow, cv=SpeakerKFold(4))
    reference = evaluate(model(), X, y, groups=speakers, cv=SpeakerKFold(4))
    assert result.y_true.dtype == object
    np.testing.assert_array_equal(result.y_pred, reference.y_pred)
    assert result.pooled == reference.pooled
    # A list input (like a list of file paths) is indexed row by row.
    listed = evaluate(model(), list(X), y, groups=speakers, cv=SpeakerKFold(4))
    np.testing.assert_array_equal(listed.y_pred, reference.y_pred)


def test_evaluate_integer_labels_and_explicit_label_order(data):
    X, y, speakers = data
    y_int = np.searchsorted(np.sort(EMOTIONS), y)
    result = evaluate(model(), X, y_int, groups=speakers, labels=[3, 2, 1, 0])
    assert result.y_pred.dtype.kind == "i"
    np.testing.assert_array_equal(result.labels, [3, 2, 1, 0])
    np.testing.assert_array_equal(
        result.confusion_matrix, confusion_matrix(y_int, result.y_pred, labels=[3, 2, 1, 0])
    )


def test_evaluate_parallel_and_return_estimators(data):
    X, y, speakers = data
    from joblib import parallel_config

    serial = evaluate(model(), X, y, groups=speakers, cv=SpeakerKFold(4))
    # Threads: the same joblib code path as processes, without their start-up time.
    with parallel_config(backend="threading"):
        parallel = evaluate(
            model(), X, y, groups=speakers, cv=SpeakerKFold(4), n_jobs=2, return_estimators=True
        )
    np.testing.assert_array_equal(serial.y_pred, parallel.y_pred)
    assert serial.estimators is None
    assert len(parallel.estimators) == 4
    est = parallel.estimators[0]
    assert est is not parallel.estimators[1]
    np.testing.assert_array_equal(est.predict(X[parallel.test_indices[0]]),
                                  parallel.y_pred[parallel.test_indices[0]])


def test_evaluate_does_not_fit_the_given_estimator(data):
    X, y, speakers = data
    estimator = model()
    evaluate(estimator, X, y, groups=speakers, cv=SpeakerKFold(2))
    assert not hasattr(estimator[-1], "coef_")


def test_evaluate_input_errors(data):
    X, y, speakers = data
    with pytest.raises(InputError, match="X has 120 rows but y has 119 labels"):
        evaluate(model(), X, y[:-1], groups=speakers)
    with pytest.raises(InputError, match="one speaker per row"):
        evaluate(model(), X, y, groups=speakers[:-1])


class _OneLabelPerFold(ClassifierMixin, BaseEstimator):
    """Breaks the classifier contract: one label for the whole test set."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.array(["anger"], dtype=object)


def test_evaluate_rejects_predictions_of_the_wrong_shape(data):
    X, y, speakers = data
    with pytest.raises(ParameterError, match=r"_OneLabelPerFold.predict returned shape \(1,\) "
                                             r"for 15 test rows; evaluate needs one label per row"):
        evaluate(_OneLabelPerFold(), X, y, groups=speakers)


class _Constant(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), "anger", dtype=object)


def test_evaluate_constant_classifier_is_at_chance(data):
    X, y, speakers = data
    result = evaluate(_Constant(), X, y, groups=speakers)
    assert result.pooled["uar"] == pytest.approx(0.25)
    assert result.pooled["wa"] == pytest.approx(np.mean(y == "anger"))


def test_summary_names_protocol_and_metrics(data):
    X, y, speakers = data
    result = evaluate(model(), X, y, groups=speakers)
    text = str(result)
    assert text == result.summary()
    assert text.startswith("Protocol: leave-one-speaker-out (8 folds, speaker-independent)")
    assert f"{result.pooled['uar']:.4f}" in text
    assert "speakers: 8" in text
    for label in EMOTIONS:
        assert label in text
    assert "spk07" in text


@pytest.mark.parametrize("normalize", ["true", None])
def test_plot_confusion_matrix_headless(data, tmp_path, normalize):
    X, y, speakers = data
    result = evaluate(model(), X, y, groups=speakers, cv=SpeakerKFold(2))
    display = result.plot_confusion_matrix(normalize=normalize)
    path = tmp_path / "cm.png"
    display.figure_.savefig(path)
    assert path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shown = display.confusion_matrix
    if normalize == "true":
        np.testing.assert_allclose(shown.sum(axis=1), 1.0)
        assert np.mean(np.diag(shown)) == pytest.approx(result.pooled["uar"])
    else:
        np.testing.assert_array_equal(shown, result.confusion_matrix)
    assert "speaker-independent" in display.ax_.get_title()
    plt.close(display.figure_)


def test_plot_on_given_axes(data):
    X, y, speakers = data
    result = evaluate(model(), X, y, groups=speakers, cv=SpeakerKFold(2))
    fig, ax = plt.subplots()
    display = result.plot_confusion_matrix(ax=ax, normalize="all")
    assert display.ax_ is ax
    assert display.confusion_matrix.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="normalize='rows'"):
        result.plot_confusion_matrix(normalize="rows")
    plt.close(fig)


def test_evaluate_reports_roc_auc_from_out_of_fold_probabilities(data):
    from sklearn.metrics import roc_auc_score

    X, y, speakers = data
    result = evaluate(model(), X, y, groups=speakers, cv=SpeakerKFold(4),
                      return_estimators=True)
    assert result.y_proba.shape == (len(y), 4)
    for k, (est, test) in enumerate(zip(result.estimators, result.test_indices)):
        proba = est.predict_proba(X[test])
        np.testing.assert_allclose(result.y_proba[test], proba)
        assert result.folds.loc[k, "roc_auc"] == pytest.approx(
            roc_auc_score(y[test], proba, multi_class="ovr", labels=est.classes_))
    assert result.pooled["roc_auc"] == pytest.approx(
        roc_auc_score(y, result.y_proba, multi_class="ovr", labels=result.labels))
    assert "ROC AUC" in result.summary()
    # No predict_proba: NaN, and the summary leaves the metric out.
    no_proba = evaluate(_Constant(), X, y, groups=speakers, cv=SpeakerKFold(4))
    assert np.isnan(no_proba.pooled["roc_auc"]) and no_proba.y_proba is None
    assert "ROC AUC" not in no_proba.summary()


def test_evaluate_routes_fit_params(data):
    import sklearn

    X, y, speakers = data
    weights = np.where(y == "anger", 100.0, 1.0)  # the weighted model predicts anger more
    with sklearn.config_context(enable_metadata_routing=True):
        weighted = make_pipeline(StandardScaler().set_fit_request(sample_weight=False),
                                 LogisticRegression().set_fit_request(sample_weight=True))
    result = evaluate(weighted, X, y, groups=speakers, cv=SpeakerKFold(4),
                      params={"sample_weight": weights})
    plain = evaluate(model(), X, y, groups=speakers, cv=SpeakerKFold(4))
    assert (result.y_pred == "anger").sum() > (plain.y_pred == "anger").sum()
