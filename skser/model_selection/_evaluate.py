"""Cross-validated evaluation of an SER estimator with a readable, protocol-named report."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.metrics import classification_report, confusion_matrix
from sklearn.model_selection import (
    LeaveOneGroupOut,
    LeavePGroupsOut,
    StratifiedKFold,
    check_cv,
    cross_validate,
)
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _num_samples

from .._groups import check_speakers
from ..exceptions import InputError, ParameterError, SpeakerOverlapWarning
from ..metrics import macro_f1, roc_auc_ovr, unweighted_average_recall, weighted_accuracy
from ._split import LeaveOneSpeakerOut, SpeakerKFold

__all__ = ["evaluate", "EvaluationResult", "SpeakerOverlapWarning"]

_METRICS = {
    "uar": unweighted_average_recall,
    "wa": weighted_accuracy,
    "macro_f1": macro_f1,
}
_METRIC_NAMES = {"uar": "UAR", "wa": "WA", "macro_f1": "macro-F1", "roc_auc": "ROC AUC"}
_FOLD_METRICS = (*_METRICS, "roc_auc")


@dataclass(eq=False)
class EvaluationResult:
    """Outcome of :func:`evaluate`: pooled and per-fold SER metrics.

    Attributes
    ----------
    protocol : str
        The cross-validation protocol in words, e.g.
        ``"leave-one-speaker-out (10 folds, speaker-independent)"``.
    folds : pandas.DataFrame
        One row per fold: ``fold``, ``n_train``, ``n_test``,
        ``test_speakers`` (comma-separated, or None without groups), ``uar``,
        ``wa``, ``macro_f1``, ``roc_auc`` (NaN without ``predict_proba``),
        ``fit_time`` and ``predict_time`` (seconds).
    pooled : dict of str to float
        ``uar``, ``wa``, ``macro_f1`` and ``roc_auc`` over the concatenated
        out-of-fold predictions (every row predicted once, by the fold that
        tested it).
    mean, std : dict of str to float
        Mean and sample standard deviation (``ddof=1``) of the per-fold
        metrics. Per-fold UAR of a leave-one-speaker-out fold averages the
        recall over the classes that speaker produced.
    labels : np.ndarray of shape (n_classes,)
        Class labels, the row/column order of ``confusion_matrix``.
    confusion_matrix : np.ndarray of shape (n_classes, n_classes), int
        Pooled counts; rows are true labels, columns predicted labels.
    classification_report : str
        Per-class precision, recall, F1 and support of the pooled predictions.
    report_dict : dict
        The same report as a dict (``classification_report(output_dict=True)``).
    y_true, y_pred : np.ndarray of shape (n_samples,)
        True and out-of-fold predicted labels, in the original row order.
    test_indices : list of np.ndarray
        Test rows of each fold.
    groups : np.ndarray of shape (n_samples,) or None
        The speakers passed to :func:`evaluate`.
    cv : cross-validator
        The splitter that produced the folds.
    estimators : list of estimators or None
        The fitted estimator of each fold, with ``return_estimators=True``.
    y_proba : np.ndarray of shape (n_samples, n_classes) or None
        Out-of-fold ``predict_proba``, columns in the order of ``labels``
        (0 for a class a fold's model never saw); None when the estimator
        has no ``predict_proba``.
    """

    protocol: str
    folds: pd.DataFrame
    pooled: dict[str, float]
    mean: dict[str, float]
    std: dict[str, float]
    labels: np.ndarray
    confusion_matrix: np.ndarray
    classification_report: str
    report_dict: dict
    y_true: np.ndarray
    y_pred: np.ndarray
    test_indices: list[np.ndarray] = field(repr=False)
    groups: np.ndarray | None = field(repr=False)
    cv: Any = field(repr=False)
    estimators: list[Any] | None = field(default=None, repr=False)
    y_proba: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_folds(self) -> int:
        """Number of folds."""
        return len(self.folds)

    def summary(self) -> str:
        """A readable report: protocol, pooled and per-fold metrics, per-class report.

        Returns
        -------
        text : str
        """
        lines = [
            f"Protocol: {self.protocol}",
            f"Samples: {self.y_true.shape[0]}, classes: {len(self.labels)} "
            f"({', '.join(map(str, self.labels))})"
            + (
                f", speakers: {np.unique(self.groups).shape[0]}"
                if self.groups is not None
                else ""
            ),
            "",
            f"{'metric':<10}{'pooled':>9}{'fold mean':>12}{'fold std':>10}",
        ]
        for key, name in _METRIC_NAMES.items():
            if np.isnan(self.pooled.get(key, np.nan)):
                continue  # ROC AUC needs predict_proba
            lines.append(
                f"{name:<10}{self.pooled[key]:>9.4f}{self.mean[key]:>12.4f}{self.std[key]:>10.4f}"
            )
        table = self.folds.drop(columns=["fit_time", "predict_time"])
        if self.folds["roc_auc"].isna().all():
            table = table.drop(columns=["roc_auc"])
        lines += [
            "",
            "Per fold:",
            table.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
            "",
            "Pooled out-of-fold predictions:",
            self.classification_report.rstrip(),
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot_confusion_matrix(
        self,
        *,
        normalize: str | None = "true",
        ax: Any = None,
        cmap: str = "Blues",
        values_format: str | None = None,
        colorbar: bool = True,
    ) -> Any:
        """Plot the pooled confusion matrix with matplotlib.

        Parameters
        ----------
        normalize : {"true", "pred", "all"} or None, default="true"
            Normalise over true labels (rows: per-class recall, whose diagonal
            mean is the UAR), predicted labels, all samples, or show counts.
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw on; a new figure is created when None.
        cmap : str, default="Blues"
        values_format : str or None, default=None
            Format of the cell values; ``".2f"`` when normalised, ``"d"`` otherwise.
        colorbar : bool, default=True

        Returns
        -------
        display : sklearn.metrics.ConfusionMatrixDisplay
            ``display.figure_`` and ``display.ax_`` hold the figure and axes
            (save with ``display.figure_.savefig(path)``). Works headless
            with matplotlib's Agg backend.
        """
        from sklearn.metrics import ConfusionMatrixDisplay

        if normalize not in ("true", "pred", "all", None):
            raise ParameterError(
                f"normalize={normalize!r}; use 'true', 'pred', 'all' or None."
            )
        cm = self.confusion_matrix.astype(np.float64)
        if normalize is not None:
            axis = {"true": 1, "pred": 0, "all": None}[normalize]
            total = cm.sum(axis=axis, keepdims=axis is not None)
            with np.errstate(invalid="ignore", divide="ignore"):
                cm = np.nan_to_num(cm / total)
        else:
            cm = self.confusion_matrix
        display = ConfusionMatrixDisplay(cm, display_labels=self.labels)
        display.plot(
            ax=ax,
            cmap=cmap,
            colorbar=colorbar,
            values_format=values_format or (".2f" if normalize is not None else "d"),
            xticks_rotation=45,
        )
        display.ax_.set_title(
            f"{self.protocol}\nUAR {self.pooled['uar']:.3f}, WA {self.pooled['wa']:.3f}",
            fontsize=9,
        )
        display.figure_.tight_layout()
        return display


def _as_labels(y: Any, n_samples: int) -> np.ndarray:
    """``y`` as a 1-D numpy array; strings (also pandas Arrow strings) as object."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise InputError(f"evaluate: y must be 1-D (one label per row); got shape {y.shape}.")
    if y.shape[0] != n_samples:
        raise InputError(f"evaluate: X has {n_samples} rows but y has {y.shape[0]} labels.")
    if y.dtype.kind not in "biuf":
        y = y.astype(object)
    return y


def _resolve_cv(cv: Any, y: np.ndarray, groups: np.ndarray | None) -> Any:
    if cv is None:
        if groups is not None:
            return LeaveOneSpeakerOut()
        return StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        if groups is not None:
            return SpeakerKFold(n_splits=int(cv))
        return StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=0)
    return check_cv(cv, y, classifier=True)


def _splitter_name(cv: Any, n_folds: int) -> str:
    if isinstance(cv, LeaveOneSpeakerOut):
        return f"leave-one-speaker-out ({n_folds} folds"
    if isinstance(cv, SpeakerKFold):
        kind = ", stratified" if cv.stratify else ""
        kind += ", shuffled" if cv.shuffle else ""
        return f"SpeakerKFold ({n_folds} folds{kind}"
    if isinstance(cv, LeaveOneGroupOut):
        return f"leave-one-group-out ({n_folds} folds"
    name = type(cv).__name__
    if name == "_CVIterableWrapper":
        name = "given splits"
    extra = ", shuffled" if getattr(cv, "shuffle", False) else ""
    if isinstance(cv, LeavePGroupsOut):
        extra = f", p={cv.n_groups}"
    return f"{name} ({n_folds} folds{extra}"


def _check_partition(splits: list[tuple[np.ndarray, np.ndarray]], n_samples: int) -> None:
    counts = np.zeros(n_samples, dtype=np.int64)
    for _, test in splits:
        np.add.at(counts, test, 1)
    if (counts == 1).all():
        return
    never, often = np.flatnonzero(counts == 0), np.flatnonzero(counts > 1)
    raise ParameterError(
        "evaluate needs a cv whose test sets partition the rows (each row tested "
        f"exactly once) to pool out-of-fold predictions; here {never.size} rows are "
        f"never tested (first: {never[:5].tolist()}) and {often.size} rows are tested "
        f"more than once (first: {often[:5].tolist()}). Use a K-fold splitter "
        "(LeaveOneSpeakerOut, SpeakerKFold, GroupKFold, StratifiedKFold), not "
        "ShuffleSplit/GroupShuffleSplit; for those use sklearn.model_selection."
        "cross_validate(scoring=skser.metrics.get_scorers())."
    )


def _speaker_overlap(
    splits: list[tuple[np.ndarray, np.ndarray]], groups: np.ndarray
) -> dict[int, list[Any]]:
    leaks = {}
    for k, (train, test) in enumerate(splits):
        shared = np.intersect1d(groups[train], groups[test])
        if shared.size:
            leaks[k] = shared.tolist()
    return leaks


def _no_score(estimator: Any, X: Any, y: Any) -> float:
    """Scoring for ``cross_validate`` that predicts nothing: evaluate predicts itself.

    scikit-learn's scorers call ``predict`` without metadata, so a pipeline
    that needs the test speakers at predict time (``SpeakerNormalizer``) must
    be asked by :func:`evaluate`, with the speakers routed.
    """
    return 0.0


def _roc_auc(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """Macro one-vs-rest ROC AUC (:func:`skser.metrics.roc_auc_ovr`); NaN below two classes.

    When a held-out speaker lacks some class, the macro average runs over the
    classes present (their one-vs-rest AUCs are defined).
    """
    if np.isin(classes, y_true).sum() < 2:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # classes absent from a fold
        return roc_auc_ovr(y_true, proba, labels=classes)


def _predict_fold(
    estimator: Any, X: Any, test: np.ndarray, predict_params: dict, proba_params: dict | None
) -> tuple[np.ndarray, np.ndarray | None, float]:
    X_test = _safe_indexing(X, test)
    start = time.perf_counter()
    pred = np.asarray(estimator.predict(X_test, **predict_params))
    predict_time = time.perf_counter() - start
    if pred.shape != (test.shape[0],):
        raise ParameterError(
            f"{type(estimator).__name__}.predict returned shape {pred.shape} for "
            f"{test.shape[0]} test rows; evaluate needs one label per row."
        )
    proba = None
    if proba_params is not None:
        proba = np.asarray(estimator.predict_proba(X_test, **proba_params), dtype=np.float64)
    return pred, proba, predict_time


def _align_proba(proba: np.ndarray, fold_classes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Columns of one fold's ``predict_proba`` reordered to ``classes`` (0 if absent)."""
    out = np.zeros((proba.shape[0], classes.shape[0]))
    index = {c: k for k, c in enumerate(classes.tolist())}
    for j, c in enumerate(np.asarray(fold_classes).tolist()):
        if c in index:
            out[:, index[c]] = proba[:, j]
    return out


def _routed_metadata(
    estimator: Any, groups: np.ndarray | None, params: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """Params of ``fit``, ``predict`` and ``predict_proba`` (None: no probabilities).

    Must run with metadata routing enabled. ``groups`` go to ``fit`` (and to
    ``predict``/``predict_proba``) only where a step requests them, e.g.
    :class:`skser.preprocessing.SpeakerNormalizer` (which requests them by
    default) or a classifier after ``set_fit_request(groups=True)``.
    """
    routing = get_routing_for_object(estimator)
    fit_params = dict(params or {})
    if groups is not None and "groups" not in fit_params and routing.consumes("fit", ["groups"]):
        fit_params["groups"] = groups
    predict_params = (
        {"groups": groups}
        if groups is not None and routing.consumes("predict", ["groups"])
        else {}
    )
    proba_params = None
    if hasattr(estimator, "predict_proba"):
        proba_params = (
            {"groups": groups}
            if groups is not None and routing.consumes("predict_proba", ["groups"])
            else {}
        )
    return fit_params, predict_params, proba_params


def _scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    with warnings.catch_warnings():
        # A test speaker without some class: balanced accuracy warns that
        # y_pred holds labels absent from y_true. That is expected per fold.
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        return {key: func(y_true, y_pred) for key, func in _METRICS.items()}


def evaluate(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    groups: Any = None,
    cv: Any = None,
    labels: Any = None,
    params: dict[str, Any] | None = None,
    n_jobs: int | None = None,
    verbose: int = 0,
    return_estimators: bool = False,
    pre_dispatch: str | int = "2*n_jobs",
) -> EvaluationResult:
    """Cross-validate an SER classifier and report UAR, WA and macro-F1.

    The estimator is cloned and fitted once per fold; each row is predicted
    by the fold that holds it out, and metrics are reported both pooled over
    all out-of-fold predictions and as mean and standard deviation over folds.

    Parameters
    ----------
    estimator : estimator with fit and predict
        Typically a Pipeline from audio paths or waveforms to labels
        (``make_pipeline(MFCC(deltas=2), Functionals(), StandardScaler(), SVC())``).
    X : sequence, array-like or DataFrame with n_samples rows
        Input of ``estimator`` (audio paths, waveforms, feature arrays);
        rows are selected with :func:`sklearn.utils._safe_indexing`.
    y : array-like of shape (n_samples,)
        Emotion labels; strings (including pandas Arrow-backed ``str``)
        or integers.
    groups : array-like of shape (n_samples,), default=None
        Speaker of each row. Enables speaker-independent splitting and the
        train/test speaker-overlap check.
    cv : int, cross-validator, iterable of (train, test) or None, default=None
        - None: :class:`LeaveOneSpeakerOut` when ``groups`` is given, else
          ``StratifiedKFold(5, shuffle=True, random_state=0)`` with a warning
          that the result is speaker-dependent.
        - int k: :class:`SpeakerKFold` (k) when ``groups`` is given, else
          ``StratifiedKFold(k, shuffle=True, random_state=0)``.
        - a splitter or an iterable of splits. Its test sets must partition
          the rows (every row tested exactly once); ShuffleSplit-like
          splitters are rejected.
    labels : array-like of shape (n_classes,), default=None
        Class order of the confusion matrix and report; default sorted
        labels of ``y`` and the predictions.
    params : dict of str to array-like or object, default=None
        Metadata for ``fit`` (e.g. ``{"sample_weight": w}``), routed with
        scikit-learn's metadata routing to the steps that request it
        (``set_fit_request``); per-row arrays are indexed to the training rows.
        ``groups`` need not be repeated here: see Notes.
    n_jobs : int or None, default=None
        Folds fitted (and predicted) in parallel with joblib.
    verbose : int, default=0
        joblib verbosity.
    return_estimators : bool, default=False
        Keep the fitted estimator of every fold in ``result.estimators``.
    pre_dispatch : int or str, default="2*n_jobs"
        Passed to :class:`joblib.Parallel`.

    Returns
    -------
    result : EvaluationResult
        ``print(result)`` shows the protocol and every metric.

    Warns
    -----
    UserWarning
        When ``groups`` is None: the folds may share speakers.
    SpeakerOverlapWarning
        A subclass of UserWarning, when a fold has a speaker on both sides
        (e.g. ``KFold`` with ``groups``), naming the folds and speakers.

    Notes
    -----
    The folds are fitted by :func:`sklearn.model_selection.cross_validate`
    (``return_indices=True, return_estimator=True``) with scikit-learn's
    metadata routing turned on for the duration of the call (the global
    setting is left as it is). The speakers ``groups`` go to the splitter and,
    sliced to each fold's rows, to every step whose ``fit``, ``predict`` or
    ``predict_proba`` requests ``groups``: a
    :class:`skser.preprocessing.SpeakerNormalizer` (which requests them by
    default), or a neural classifier after ``set_fit_request(groups=True)``,
    whose ``validation_fraction`` split then keeps the training speakers
    apart, so that early stopping is speaker-independent too. A step that
    accepts ``groups`` but has not said whether it wants them makes
    scikit-learn raise ``UnsetMetadataPassedError`` naming the step.

    ROC AUC (macro one-vs-rest) is reported when the estimator has
    ``predict_proba``, else NaN. The pooled AUC ranks the out-of-fold
    probabilities of all folds together, so it also measures how comparable
    the folds' probabilities are.

    See Also
    --------
    LeaveOneSpeakerOut, SpeakerKFold
    skser.metrics.get_scorers : The same metrics for ``cross_validate``.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> import numpy as np
    >>> from skser.model_selection import evaluate
    >>> X, y = make_classification(n_samples=120, n_classes=3, n_informative=4,
    ...                            random_state=0)
    >>> speakers = np.repeat(np.arange(6), 20)
    >>> result = evaluate(LogisticRegression(), X, y, groups=speakers)
    >>> result.protocol
    'leave-one-speaker-out (6 folds, speaker-independent)'
    """
    n_samples = _num_samples(X)
    y = _as_labels(y, n_samples)
    if groups is not None:
        groups = check_speakers(groups, n_samples, "evaluate")
    else:
        warnings.warn(
            "evaluate: no groups (speakers) given, so training and test folds may "
            "share speakers and the result is speaker-dependent (optimistic). Pass "
            "groups=speakers for a speaker-independent protocol.",
            UserWarning,
            stacklevel=2,
        )

    splitter = _resolve_cv(cv, y, groups)
    with warnings.catch_warnings():
        # Groups are passed to every splitter; those without a use for them say so.
        warnings.filterwarnings("ignore", message="The groups parameter is ignored by")
        splits = [
            (np.asarray(train, dtype=np.intp), np.asarray(test, dtype=np.intp))
            for train, test in splitter.split(X, y, groups)
        ]
    if not splits:
        raise ParameterError(f"evaluate: {splitter!r} produced no split.")
    _check_partition(splits, n_samples)

    if groups is None:
        independence = "speakers unknown, speaker-dependent"
    else:
        leaks = _speaker_overlap(splits, groups)
        if leaks:
            independence = "speaker-dependent: speakers in train and test"
            shown = "; ".join(f"fold {k}: {v}" for k, v in list(leaks.items())[:5])
            more = f" (and {len(leaks) - 5} more folds)" if len(leaks) > 5 else ""
            warnings.warn(
                f"evaluate: {len(leaks)} of {len(splits)} folds put a speaker's files in "
                f"both training and test ({shown}{more}). This leaks speaker identity "
                "and inflates the scores; use cv=LeaveOneSpeakerOut() or SpeakerKFold().",
                SpeakerOverlapWarning,
                stacklevel=2,
            )
        else:
            independence = "speaker-independent"
    protocol = f"{_splitter_name(splitter, len(splits))}, {independence})"

    labels = None if labels is None else np.asarray(labels)
    with config_context(enable_metadata_routing=True):
        fit_params, predict_params, proba_params = _routed_metadata(estimator, groups, params)
        cv_results = cross_validate(
            estimator, X, y, cv=splits, scoring=_no_score, params=fit_params,
            n_jobs=n_jobs, verbose=verbose, pre_dispatch=pre_dispatch,
            return_estimator=True, return_indices=True, error_score="raise",
        )
        fitted = cv_results["estimator"]
        parallel = Parallel(n_jobs=n_jobs, verbose=verbose, pre_dispatch=pre_dispatch)
        outputs = parallel(
            delayed(_predict_fold)(
                est, X, test,
                {key: value[test] for key, value in predict_params.items()},
                None if proba_params is None
                else {key: value[test] for key, value in proba_params.items()},
            )
            for est, (_, test) in zip(fitted, splits)
        )

    preds = [out[0] for out in outputs]
    y_pred = np.empty(n_samples, dtype=np.result_type(*[p.dtype for p in preds]))
    for (_, test), pred in zip(splits, preds):
        y_pred[test] = pred
    labels = unique_labels(y, y_pred) if labels is None else labels
    y_proba = None
    if proba_params is not None:
        y_proba = np.zeros((n_samples, labels.shape[0]))
        for est, (_, test), (_, proba, _) in zip(fitted, splits, outputs):
            y_proba[test] = _align_proba(proba, est.classes_, labels)
    rows = []
    for k, (train, test) in enumerate(splits):
        rows.append(
            {
                "fold": k,
                "n_train": train.shape[0],
                "n_test": test.shape[0],
                "test_speakers": (
                    ", ".join(map(str, np.unique(groups[test]))) if groups is not None else None
                ),
                **_scores(y[test], y_pred[test]),
                "roc_auc": (
                    _roc_auc(y[test], y_proba[test], labels) if y_proba is not None
                    else float("nan")
                ),
                "fit_time": float(cv_results["fit_time"][k]),
                "predict_time": outputs[k][2],
            }
        )
    folds = pd.DataFrame(rows)
    pooled = _scores(y, y_pred)
    pooled["roc_auc"] = _roc_auc(y, y_proba, labels) if y_proba is not None else float("nan")

    report_kwargs = {"labels": labels, "zero_division": 0}
    return EvaluationResult(
        protocol=protocol,
        folds=folds,
        pooled=pooled,
        mean={key: float(folds[key].mean()) for key in _FOLD_METRICS},
        std={key: float(folds[key].std(ddof=1)) for key in _FOLD_METRICS},
        labels=labels,
        confusion_matrix=confusion_matrix(y, y_pred, labels=labels),
        classification_report=classification_report(
            y, y_pred, digits=4, **report_kwargs
        ),
        report_dict=classification_report(y, y_pred, output_dict=True, **report_kwargs),
        y_true=y,
        y_pred=y_pred,
        test_indices=[test for _, test in splits],
        groups=groups,
        cv=splitter,
        estimators=list(fitted) if return_estimators else None,
        y_proba=y_proba,
    )
