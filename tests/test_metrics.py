"""Tests of skser.metrics against scikit-learn."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.model_selection import GroupKFold, cross_validate

from skser.metrics import (
    SCORERS,
    get_scorers,
    macro_f1,
    unweighted_average_recall,
    weighted_accuracy,
)

EMOTIONS = np.array(["anger", "happiness", "neutral", "sadness"], dtype=object)


@pytest.fixture
def labels():
    rng = np.random.default_rng(0)
    # Imbalanced, so that UAR and WA differ.
    y_true = EMOTIONS[rng.choice(4, size=200, p=[0.5, 0.2, 0.2, 0.1])]
    y_pred = np.where(rng.random(200) < 0.6, y_true, EMOTIONS[rng.integers(0, 4, 200)])
    return y_true, y_pred


def test_uar_is_balanced_accuracy(labels):
    y_true, y_pred = labels
    uar = unweighted_average_recall(y_true, y_pred)
    assert isinstance(uar, float)
    assert uar == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    recalls = [np.mean(y_pred[y_true == c] == c) for c in EMOTIONS]
    assert uar == pytest.approx(np.mean(recalls))
    assert uar != pytest.approx(weighted_accuracy(y_true, y_pred))


def test_wa_is_accuracy(labels):
    y_true, y_pred = labels
    assert weighted_accuracy(y_true, y_pred) == pytest.approx(accuracy_score(y_true, y_pred))
    assert weighted_accuracy(y_true, y_pred) == pytest.approx(np.mean(y_true == y_pred))


def test_macro_f1(labels):
    y_true, y_pred = labels
    assert macro_f1(y_true, y_pred) == pytest.approx(f1_score(y_true, y_pred, average="macro"))


def test_sample_weight_is_forwarded(labels):
    y_true, y_pred = labels
    w = np.linspace(0.1, 2.0, y_true.shape[0])
    assert unweighted_average_recall(y_true, y_pred, sample_weight=w) == pytest.approx(
        balanced_accuracy_score(y_true, y_pred, sample_weight=w)
    )
    assert weighted_accuracy(y_true, y_pred, sample_weight=w) == pytest.approx(
        accuracy_score(y_true, y_pred, sample_weight=w)
    )


def test_never_predicted_class_counts_zero_without_warning():
    y_true = ["a", "a", "b", "b"]
    y_pred = ["a", "a", "a", "a"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # F1(a) = 2 * 0.5 * 1 / 1.5 = 2/3, F1(b) = 0.
        assert macro_f1(y_true, y_pred) == pytest.approx((2 / 3 + 0.0) / 2)
    assert unweighted_average_recall(y_true, y_pred) == 0.5


def test_arrow_string_labels(labels):
    y_true, y_pred = labels
    s_true, s_pred = pd.Series(y_true, dtype="str"), pd.Series(y_pred, dtype="str")
    assert unweighted_average_recall(s_true, s_pred) == pytest.approx(
        unweighted_average_recall(y_true, y_pred)
    )


def test_scorers_in_cross_validate():
    X, y = make_classification(
        n_samples=120, n_classes=3, n_informative=4, weights=[0.6, 0.3, 0.1], random_state=0
    )
    y = EMOTIONS[y]
    groups = np.repeat(np.arange(6), 20)
    scorers = get_scorers()
    assert set(scorers) == {"uar", "wa", "macro_f1"}
    assert scorers is not get_scorers()
    assert set(SCORERS) == set(scorers)
    cv = GroupKFold(3)
    res = cross_validate(LogisticRegression(), X, y, groups=groups, cv=cv, scoring=scorers)
    ref = cross_validate(
        LogisticRegression(), X, y, groups=groups, cv=cv,
        scoring=["balanced_accuracy", "accuracy", "f1_macro"],
    )
    np.testing.assert_allclose(res["test_uar"], ref["test_balanced_accuracy"])
    np.testing.assert_allclose(res["test_wa"], ref["test_accuracy"])
    np.testing.assert_allclose(res["test_macro_f1"], ref["test_f1_macro"])


# ------------------------------------------------------------ ROC AUC (one-vs-rest)
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skser.metrics import plot_roc_curves, roc_auc_ovr, roc_auc_ovr_scorer  # noqa: E402


@pytest.fixture
def proba_problem():
    X, y = make_classification(
        n_samples=150, n_classes=4, n_informative=5, weights=[0.4, 0.3, 0.2, 0.1], random_state=1
    )
    # Labels whose sorted order differs from the integer codes.
    names = np.array(["sadness", "anger", "neutral", "happiness"], dtype=object)
    y = names[y]
    clf = LogisticRegression(max_iter=500).fit(X[:100], y[:100])
    return clf, X[100:], y[100:]


def test_roc_auc_ovr_matches_sklearn(proba_problem):
    clf, X, y = proba_problem
    proba = clf.predict_proba(X)
    ref = roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=clf.classes_)
    assert roc_auc_ovr(y, proba, labels=clf.classes_) == pytest.approx(ref)
    assert roc_auc_ovr(y, proba) == pytest.approx(ref)  # every class present: default labels
    # Columns follow labels: permuting both leaves the score unchanged.
    order = [2, 0, 3, 1]
    assert roc_auc_ovr(y, proba[:, order], labels=clf.classes_[order]) == pytest.approx(ref)
    # Binary: the plain ROC AUC, from two columns or from the positive-class column.
    yb = np.where(y == "anger", "anger", "other")
    pb = np.column_stack([proba[:, 0], 1 - proba[:, 0]])
    ref_b = roc_auc_score(yb == "other", pb[:, 1])
    assert roc_auc_ovr(yb, pb) == pytest.approx(ref_b)
    assert roc_auc_ovr(yb, pb[:, 1]) == pytest.approx(ref_b)


def test_roc_auc_ovr_scorer_equals_sklearn_in_grid_search(proba_problem):
    clf, X, y = proba_problem
    assert roc_auc_ovr_scorer(clf, X, y) == pytest.approx(
        roc_auc_score(y, clf.predict_proba(X), multi_class="ovr", labels=clf.classes_)
    )
    Xa, ya = make_classification(n_samples=120, n_classes=3, n_informative=4, random_state=0)
    ya = EMOTIONS[ya]
    cv = GroupKFold(3)
    groups = np.repeat(np.arange(6), 20)
    grid = {"C": [0.1, 1.0]}
    ours = GridSearchCV(LogisticRegression(), grid, scoring=roc_auc_ovr_scorer, cv=cv)
    ref = GridSearchCV(LogisticRegression(), grid, scoring="roc_auc_ovr", cv=cv)
    ours.fit(Xa, ya, groups=groups)
    ref.fit(Xa, ya, groups=groups)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"])


def test_roc_auc_ovr_missing_class_and_errors(proba_problem):
    clf, X, y = proba_problem
    proba = clf.predict_proba(X)
    keep = y != "happiness"
    with pytest.warns(UserWarning, match="happiness"):
        auc = roc_auc_ovr(y[keep], proba[keep], labels=clf.classes_)
    present = [
        roc_auc_score(y[keep] == c, proba[keep, k])
        for k, c in enumerate(clf.classes_) if c != "happiness"
    ]
    assert auc == pytest.approx(np.mean(present))
    with pytest.warns(UserWarning):
        assert roc_auc_ovr_scorer(clf, X[keep], y[keep]) == pytest.approx(auc)
    with pytest.raises(ValueError, match="labels=estimator.classes_"):
        roc_auc_ovr(y[keep], proba[keep])  # 4 columns, 3 labels in y_true
    with pytest.raises(ValueError, match="not in labels"):
        roc_auc_ovr(y, proba, labels=["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="at least two classes"):
        roc_auc_ovr(["anger"] * 3, np.eye(3), labels=["anger", "neutral", "sadness"])


def test_plot_roc_curves(proba_problem):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clf, X, y = proba_problem
    proba = clf.predict_proba(X)
    ax = plot_roc_curves(y, proba, clf.classes_)
    assert len(ax.get_lines()) == len(clf.classes_) + 1  # one per class + chance
    assert f"{roc_auc_ovr(y, proba, labels=clf.classes_):.3f}" in ax.get_title()
    fig, given = plt.subplots()
    assert plot_roc_curves(y, proba, clf.classes_, ax=given) is given
    plt.close("all")
