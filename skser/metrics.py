"""Metrics of speech emotion recognition, under the names the SER literature uses.

SER papers report two accuracies whose names differ from scikit-learn's:

- **UAR** (unweighted average recall), also called *unweighted accuracy*
  (UA): the mean over classes of each class's recall. This is scikit-learn's
  :func:`~sklearn.metrics.balanced_accuracy_score`. It is the headline metric
  of the INTERSPEECH challenges because emotional corpora are imbalanced
  (e.g. EMO-DB: 127 anger vs. 46 disgust utterances) and chance level is
  ``1 / n_classes`` whatever the class frequencies.
- **WA** (weighted accuracy): the fraction of correctly classified
  utterances, i.e. plain :func:`~sklearn.metrics.accuracy_score`. Each class's
  recall is weighted by its frequency, hence the name; it is *not* a
  sample-weighted accuracy.

Both, and the macro-averaged F1, accept string labels.

For probabilistic classifiers, :func:`roc_auc_ovr` is the one-vs-rest
macro-averaged area under the ROC curve (the "AUC" of the spectrogram
transfer-learning literature), :func:`roc_auc_ovr_scorer` its scorer and
:func:`plot_roc_curves` the curves.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    make_scorer,
    roc_auc_score,
    roc_curve,
)
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .exceptions import InputError, ParameterError

__all__ = [
    "unweighted_average_recall",
    "weighted_accuracy",
    "macro_f1",
    "get_scorers",
    "SCORERS",
    "roc_auc_ovr",
    "roc_auc_ovr_scorer",
    "plot_roc_curves",
]


def unweighted_average_recall(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Unweighted average recall (UAR), a.k.a. unweighted accuracy (UA).

    .. math:: \\mathrm{UAR} = \\frac{1}{K} \\sum_{k=1}^{K}
              \\frac{|\\{i : y_i = k, \\hat y_i = k\\}|}{|\\{i : y_i = k\\}|}

    over the ``K`` classes present in ``y_true``. Equal to
    :func:`sklearn.metrics.balanced_accuracy_score` (``adjusted=False``);
    chance level is ``1 / K``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (strings or integers).
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    uar : float in [0, 1]

    See Also
    --------
    weighted_accuracy : Fraction of correct predictions (WA).

    Examples
    --------
    >>> from skser.metrics import unweighted_average_recall
    >>> unweighted_average_recall(["anger"] * 3 + ["sad"], ["anger"] * 4)
    0.5
    """
    return float(balanced_accuracy_score(y_true, y_pred, sample_weight=sample_weight))


def weighted_accuracy(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Weighted accuracy (WA): the fraction of correctly classified samples.

    .. math:: \\mathrm{WA} = \\frac{1}{n} \\sum_{i=1}^{n} [\\hat y_i = y_i]
              = \\sum_{k} \\frac{n_k}{n} \\mathrm{recall}_k

    This is plain accuracy (:func:`sklearn.metrics.accuracy_score`); the SER
    literature calls it "weighted" because it weights each class's recall by
    the class frequency ``n_k / n``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_pred : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    wa : float in [0, 1]

    See Also
    --------
    unweighted_average_recall : Class-balanced accuracy (UAR).

    Examples
    --------
    >>> from skser.metrics import weighted_accuracy
    >>> weighted_accuracy(["anger"] * 3 + ["sad"], ["anger"] * 4)
    0.75
    """
    return float(accuracy_score(y_true, y_pred, sample_weight=sample_weight))


def macro_f1(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Macro-averaged F1: the unweighted mean of the per-class F1 scores.

    .. math:: F_1^{\\mathrm{macro}} = \\frac{1}{K} \\sum_k
              \\frac{2 P_k R_k}{P_k + R_k}

    over the classes present in ``y_true`` or ``y_pred``; a class never
    predicted has precision 0 (``zero_division=0``, no warning).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_pred : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    f1 : float in [0, 1]

    Examples
    --------
    >>> from skser.metrics import macro_f1
    >>> round(macro_f1(["a", "a", "b", "b"], ["a", "a", "a", "b"]), 4)
    0.7333
    """
    return float(
        f1_score(y_true, y_pred, average="macro", sample_weight=sample_weight, zero_division=0)
    )


def get_scorers() -> dict[str, Any]:
    """Scorers of UAR, WA and macro-F1 for ``cross_validate(scoring=...)``.

    Returns
    -------
    scorers : dict
        ``{"uar": ..., "wa": ..., "macro_f1": ...}``, each a scikit-learn
        scorer built with :func:`sklearn.metrics.make_scorer` (greater is
        better). A new dict with new scorer objects on each call.

    Examples
    --------
    >>> from sklearn.model_selection import cross_validate
    >>> from skser.metrics import get_scorers
    >>> # cross_validate(clf, X, y, groups=speakers, cv=LeaveOneSpeakerOut(),
    >>> #                scoring=get_scorers())["test_uar"]
    """
    return {
        "uar": make_scorer(unweighted_average_recall),
        "wa": make_scorer(weighted_accuracy),
        "macro_f1": make_scorer(macro_f1),
    }


#: Module-level ``{"uar", "wa", "macro_f1"}`` scorers (see :func:`get_scorers`).
SCORERS: dict[str, Any] = get_scorers()


def _ovr_inputs(y_true: Any, proba: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked labels, (n_samples, n_classes) probabilities and the column labels."""
    y_true = column_or_1d(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    check_consistent_length(y_true, proba)
    if labels is None:
        labels = np.unique(y_true)
    labels = np.asarray(labels).ravel()
    if np.unique(labels).size != labels.size:
        raise ParameterError(f"labels={labels.tolist()} has repeated values; give each class once.")
    if proba.ndim == 1:  # positive-class scores of a binary problem (sklearn scorers)
        if labels.size != 2:
            raise InputError(
                "roc_auc_ovr got one score per sample, which is only meaningful for 2 classes; "
                f"y_true holds {labels.size} labels {labels.tolist()}. Pass the (n_samples, "
                "n_classes) probabilities of predict_proba."
            )
        proba = np.column_stack([1.0 - proba, proba])
    if proba.ndim != 2 or proba.shape[1] != labels.size:
        raise InputError(
            f"proba has shape {proba.shape} but there are {labels.size} labels "
            f"{labels.tolist()}: give one column per label, in the order of labels (pass "
            "labels=estimator.classes_ when a class is missing from y_true)."
        )
    if not np.isfinite(proba).all():
        raise InputError("proba contains NaN or infinity; ROC AUC needs finite scores.")
    unknown = np.setdiff1d(np.unique(y_true), labels)
    if unknown.size:
        raise InputError(
            f"y_true contains labels {unknown.tolist()} that are not in labels={labels.tolist()}."
        )
    return y_true, proba, labels


def roc_auc_ovr(
    y_true: Any, proba: Any, *, labels: Any = None, sample_weight: Any = None
) -> float:
    """One-vs-rest macro-averaged ROC AUC of multi-class probabilities.

    For each class ``k`` the area under the ROC curve of "``k`` vs. the rest",
    scored by the probability of ``k``; the mean over the classes that occur
    in ``y_true`` (a class without positives has no ROC curve: it is left out
    with a warning, as UAR leaves it out). With every class present this is
    :func:`sklearn.metrics.roc_auc_score` with ``multi_class="ovr"`` and
    ``average="macro"``; for two classes it is the binary ROC AUC. Chance
    level is 0.5 whatever the number and frequency of classes.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (strings or integers).
    proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Class probabilities (or any scores; only their order matters), one
        column per entry of ``labels``, e.g. ``clf.predict_proba(X)``. 1-D:
        the scores of the second label of a binary problem (what scikit-learn's
        ``predict_proba`` scorers pass).
    labels : array-like of shape (n_classes,), default=None
        The label of each column of ``proba`` (``clf.classes_``). Default:
        the sorted labels of ``y_true``, right only when every class of the
        classifier occurs in ``y_true``.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    auc : float in [0, 1]

    See Also
    --------
    roc_auc_ovr_scorer : The scorer for ``cross_validate`` / ``GridSearchCV``.
    plot_roc_curves : The one-vs-rest curves.

    Examples
    --------
    >>> from skser.metrics import roc_auc_ovr
    >>> y = ["anger", "sad", "sad", "neutral"]
    >>> proba = [[0.7, 0.1, 0.2], [0.2, 0.2, 0.6], [0.1, 0.5, 0.4], [0.3, 0.4, 0.3]]
    >>> round(roc_auc_ovr(y, proba, labels=["anger", "neutral", "sad"]), 4)
    0.8889
    """
    y_true, proba, labels = _ovr_inputs(y_true, proba, labels)
    aucs, skipped = [], []
    for k, label in enumerate(labels):
        positive = y_true == label
        if positive.all() or not positive.any():
            skipped.append(label)
            continue
        aucs.append(roc_auc_score(positive, proba[:, k], sample_weight=sample_weight))
    if not aucs:
        raise InputError(
            "roc_auc_ovr needs at least two classes in y_true; got only "
            f"{np.unique(y_true).tolist()}."
        )
    if skipped and len(labels) > 2:
        warnings.warn(
            f"roc_auc_ovr: classes {[str(s) for s in skipped]} do not occur in y_true and are "
            "left out of the macro average.",
            UserWarning,
            stacklevel=2,
        )
    return float(np.mean(aucs))


def roc_auc_ovr_scorer(estimator: Any, X: Any, y_true: Any, sample_weight: Any = None) -> float:
    """Scorer of :func:`roc_auc_ovr`: ``scoring=roc_auc_ovr_scorer`` (or in a dict).

    Calls ``estimator.predict_proba(X)`` and pairs its columns with
    ``estimator.classes_``, so string labels, any class order and a test
    fold that misses a class are scored correctly (a plain
    ``make_scorer(roc_auc_ovr, response_method="predict_proba")`` sees only
    the probabilities and must assume every class occurs in ``y_true``).
    Greater is better.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba`` and ``classes_``
        (a Pipeline ending in one works).
    X : array-like
        Input of ``estimator``.
    y_true : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    auc : float

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skser.metrics import get_scorers, roc_auc_ovr_scorer
    >>> scoring = {**get_scorers(), "roc_auc": roc_auc_ovr_scorer}
    >>> # GridSearchCV(clf, grid, scoring=scoring, refit="uar")
    """
    proba = estimator.predict_proba(X)
    return roc_auc_ovr(y_true, proba, labels=estimator.classes_, sample_weight=sample_weight)


def plot_roc_curves(y_true: Any, proba: Any, labels: Any = None, ax: Any = None) -> Any:
    """Plot the one-vs-rest ROC curve of every class.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    proba : array-like of shape (n_samples, n_classes)
        Columns in the order of ``labels``.
    labels : array-like of shape (n_classes,), default=None
        Label of each column (``clf.classes_``); default the sorted labels of ``y_true``.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        One curve per class that occurs in ``y_true`` (legend: class and its
        AUC), the chance diagonal, and the macro AUC in the title.
    """
    import matplotlib.pyplot as plt

    y_true, proba, labels = _ovr_inputs(y_true, proba, labels)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    for k, label in enumerate(labels):
        positive = y_true == label
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, proba[:, k])
        auc = roc_auc_score(positive, proba[:, k])
        ax.plot(fpr, tpr, label=f"{label} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="chance")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        macro = roc_auc_ovr(y_true, proba, labels=labels)
    ax.set(
        xlabel="False positive rate",
        ylabel="True positive rate",
        title=f"One-vs-rest ROC (macro AUC {macro:.3f})",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    ax.legend(loc="lower right", fontsize="small")
    return ax
