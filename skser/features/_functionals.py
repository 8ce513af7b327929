"""Statistical functionals: pool frame-level features into one row per utterance."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import re
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InputError, ParameterError
from ._base import check_frame_array

__all__ = ["Functionals"]

_FIXED = ("mean", "std", "min", "max", "median", "range", "iqr", "slope", "skew", "kurtosis")
_PERCENTILE = re.compile(r"^p(100|[0-9]{1,2})(\.[0-9]+)?$")
# About 32 MiB of float64 per block of utterances.
_BLOCK_ELEMENTS = 1 << 22


def _percentile_of(name: str) -> float | None:
    """The percentile q in [0, 100] named by ``"pNN"``, or None."""
    match = _PERCENTILE.match(name)
    if match is None:
        return None
    q = float(name[1:])
    return q if q <= 100 else None


class Functionals(TransformerMixin, BaseEstimator):
    """Pool NaN-padded frame-level features into utterance-level statistics.

    Each feature track (e.g. one MFCC coefficient over time) of each
    utterance is summarised by the statistics named in ``functionals``, the
    classic "low-level descriptors + functionals" recipe of openSMILE and of
    most SER baselines. Padding frames (all-NaN rows at the end of shorter
    utterances, see :func:`skser.features.frame_lengths`) never enter a
    statistic: the row of an utterance is the same whatever it was padded to.
    Any other NaN value is treated as missing too.

    Parameters
    ----------
    functionals : tuple of str, default=("mean", "std", "min", "max", "slope")
        Statistics computed for every feature track, in this order:

        - ``"mean"``: arithmetic mean.
        - ``"std"``: population standard deviation (``ddof=0``), so one
          frame gives 0 rather than NaN.
        - ``"min"``, ``"max"``, ``"range"`` (max - min).
        - ``"median"``, ``"iqr"`` (p75 - p25) and any percentile ``"pNN"``
          with NN in [0, 100], decimals allowed (``"p5"``, ``"p95"``,
          ``"p2.5"``); linear interpolation between order statistics, as
          :func:`numpy.percentile`.
        - ``"slope"``: least-squares slope of the track against the frame
          index, in feature units per frame; 0 for a single frame.
        - ``"skew"``: biased sample skewness (Fisher-Pearson,
          :func:`scipy.stats.skew` with ``bias=True``).
        - ``"kurtosis"``: biased excess (Fisher) kurtosis,
          :func:`scipy.stats.kurtosis` with ``bias=True``.

        ``skew`` and ``kurtosis`` are 0 for a constant track (where scipy
        returns NaN). The default, with a frame-level ``MFCC(deltas=2)``, is
        the common "MFCC + deltas, mean/std/min/max/slope" SVM baseline.

    Attributes
    ----------
    n_features_in_ : int
        Number of feature tracks per utterance seen in :meth:`fit`
        (``n_features`` of 3-D input, 1 for 2-D input).

    See Also
    --------
    skser.features.frame_lengths : True frame count of each NaN-padded utterance.
    skser.features.pad_frames : Stack ragged ``(n_frames_i, n_features)`` arrays.

    Notes
    -----
    **Input.** ``X`` is either frame-level features of shape
    ``(n_samples, n_frames, n_features)`` (the skser layout) or, for 2-D
    input, ONE feature track per row of shape ``(n_samples, n_frames)``
    (e.g. a pitch contour), equivalent to ``X[:, :, np.newaxis]``. Note that
    for 2-D input the columns are frames, not features: ``n_features_in_``
    is 1 and the frame count may differ between ``fit`` and ``transform``.
    Every utterance needs at least one finite value per track; infinite
    values are rejected.

    **Output.** A float64 array of shape
    ``(n_samples, n_features * len(functionals))``, grouped by feature: all
    functionals of feature 0, then of feature 1, and so on. Columns are named
    ``{feature}_{functional}`` by :meth:`get_feature_names_out`
    (``mfcc_0_mean``, ``mfcc_0_std``, ..., or ``x0_mean`` without names).
    Statistics are computed in float64 whatever the input dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import Functionals
    >>> X = np.full((2, 4, 3), np.nan, dtype=np.float32)
    >>> X[0] = np.arange(12).reshape(4, 3)
    >>> X[1, :2] = 1.0                      # second utterance: 2 frames + padding
    >>> pool = Functionals(functionals=("mean", "slope"))
    >>> pool.fit_transform(X).shape
    (2, 6)
    >>> pool.get_feature_names_out()[:3]
    array(['x0_mean', 'x0_slope', 'x1_mean'], dtype=object)
    """

    _parameter_constraints: dict = {"functionals": [list, tuple]}

    def __init__(self, functionals: tuple[str, ...] = ("mean", "std", "min", "max", "slope")):
        self.functionals = functionals

    # -- validation ----------------------------------------------------------
    def _check_functionals(self) -> tuple[str, ...]:
        names = tuple(self.functionals)
        if not names:
            raise ParameterError(
                "Functionals: functionals=() is empty; name at least one statistic, "
                f"e.g. {('mean', 'std')!r}."
            )
        for name in names:
            if not isinstance(name, str) or (name not in _FIXED and _percentile_of(name) is None):
                raise ParameterError(
                    f"Functionals: unknown functional {name!r}. Use any of {list(_FIXED)} "
                    "or a percentile 'pNN' with NN in [0, 100] (e.g. 'p5', 'p95', 'p2.5')."
                )
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ParameterError(
                f"Functionals: functionals={names!r} names {duplicated} more than once; "
                "each statistic may appear once."
            )
        return names

    @staticmethod
    def _check_X(X: Any) -> np.ndarray:
        return check_frame_array(X, "Functionals", dtype=[np.float64, np.float32])

    # -- sklearn API ---------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> "Functionals":
        """Check the functionals and record the number of feature tracks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_frames, n_features) or (n_samples, n_frames)
            NaN-padded frame-level features, or one track per row.
        y : Ignored

        Returns
        -------
        self
        """
        self._check_functionals()
        self.n_features_in_ = self._check_X(X).shape[2]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Compute the functionals of every feature track of every utterance.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_frames, n_features) or (n_samples, n_frames)
            NaN-padded frame-level features, or one track per row.

        Returns
        -------
        X_pooled : np.ndarray of shape (n_samples, n_features * len(functionals)), float64
            Grouped by feature, then by functional (see :meth:`get_feature_names_out`).
        """
        check_is_fitted(self)
        names = self._check_functionals()
        X = self._check_X(X)
        if X.shape[2] != self.n_features_in_:
            raise InputError(
                f"X has {X.shape[2]} features, but Functionals is expecting "
                f"{self.n_features_in_} features as input (shape {X.shape}; features "
                "are on the last axis)."
            )
        n_samples, n_frames, n_features = X.shape
        out = np.empty((n_samples, n_features, len(names)), dtype=np.float64)
        block = max(1, _BLOCK_ELEMENTS // (n_frames * n_features))
        for start in range(0, n_samples, block):
            stop = min(start + block, n_samples)
            out[start:stop] = _pool_block(X[start:stop], names, first_row=start)
        return out.reshape(n_samples, n_features * len(names))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the pooled columns, ``{feature}_{functional}``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the ``n_features_in_`` feature tracks, e.g. from the
            previous step of a Pipeline (``mfcc_0``, ...). Default ``x0``, ``x1``, ...

        Returns
        -------
        feature_names_out : np.ndarray of str objects, shape (``n_features_in_ * len(functionals)``,)
        """
        check_is_fitted(self, "n_features_in_")
        names = self._check_functionals()
        if input_features is None:
            input_features = [f"x{i}" for i in range(self.n_features_in_)]
        else:
            input_features = [str(f) for f in np.asarray(input_features, dtype=object).ravel()]
            if len(input_features) != self.n_features_in_:
                raise ParameterError(
                    "input_features should have length equal to number of features "
                    f"({self.n_features_in_}), got {len(input_features)}"
                )
        return np.asarray([f"{f}_{n}" for f in input_features for n in names], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.three_d_array = True
        return tags


def _pool_block(X: np.ndarray, names: tuple[str, ...], first_row: int) -> np.ndarray:
    """Functionals of a block of utterances; shape (n, n_features, len(names))."""
    X = X.astype(np.float64, copy=False)
    mask = ~np.isnan(X)
    count = mask.sum(axis=1)  # (n, F)
    if not count.all():
        row, feat = np.argwhere(count == 0)[0]
        raise InputError(
            f"Functionals: row {first_row + row} has no finite frame for feature {feat} "
            "(an utterance with zero frames, or a track that is NaN throughout). "
            "Drop or fix that utterance before pooling."
        )
    moments = _Moments(X, mask, count)
    needs_sort = any(n in ("median", "iqr") or n.startswith("p") for n in names)
    sorted_X = np.sort(X, axis=1) if needs_sort else None
    out = np.empty(count.shape + (len(names),), dtype=np.float64)
    for j, name in enumerate(names):
        if name == "mean":
            out[..., j] = moments.mean
        elif name == "std":
            out[..., j] = np.sqrt(moments.var)
        elif name == "min":
            out[..., j] = np.nanmin(X, axis=1)
        elif name == "max":
            out[..., j] = np.nanmax(X, axis=1)
        elif name == "range":
            out[..., j] = np.nanmax(X, axis=1) - np.nanmin(X, axis=1)
        elif name == "median":
            out[..., j] = _sorted_percentile(sorted_X, count, 50.0)
        elif name == "iqr":
            out[..., j] = _sorted_percentile(sorted_X, count, 75.0) - _sorted_percentile(
                sorted_X, count, 25.0
            )
        elif name == "slope":
            out[..., j] = moments.slope(mask)
        elif name == "skew":
            out[..., j] = moments.standardised(3)
        elif name == "kurtosis":
            out[..., j] = moments.standardised(4) - 3.0
        else:
            out[..., j] = _sorted_percentile(sorted_X, count, _percentile_of(name))
    return out


class _Moments:
    """Masked central moments of ``X`` along the frame axis (axis 1)."""

    def __init__(self, X: np.ndarray, mask: np.ndarray, count: np.ndarray):
        self.count = count
        self.mean = np.where(mask, X, 0.0).sum(axis=1) / count
        self.dev = np.where(mask, X - self.mean[:, np.newaxis], 0.0)
        self.var = np.square(self.dev).sum(axis=1) / count
        # scipy.stats' test for a numerically constant track.
        eps = np.finfo(np.float64).resolution * 10
        self.constant = self.var <= (eps * self.mean) ** 2

    def standardised(self, order: int) -> np.ndarray:
        m = (self.dev**order).sum(axis=1) / self.count
        with np.errstate(divide="ignore", invalid="ignore"):
            value = m / self.var ** (order / 2)
        # Constant track: skewness 0; kurtosis 3 so that the excess is 0.
        return np.where(self.constant, 0.0 if order == 3 else 3.0, value)

    def slope(self, mask: np.ndarray) -> np.ndarray:
        t = np.arange(mask.shape[1], dtype=np.float64)[np.newaxis, :, np.newaxis]
        t_mean = np.where(mask, t, 0.0).sum(axis=1) / self.count
        t_dev = np.where(mask, t - t_mean[:, np.newaxis], 0.0)
        denom = np.square(t_dev).sum(axis=1)
        num = (t_dev * self.dev).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denom > 0, num / denom, 0.0)


def _sorted_percentile(sorted_X: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    """Percentile ``q`` per track of ``X`` sorted along axis 1 (NaN sorted last).

    Linear interpolation between the order statistics of the ``count`` finite
    values, i.e. :func:`numpy.percentile`'s default method.
    """
    pos = (q / 100.0) * (count - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, count - 1)
    x_lo = np.take_along_axis(sorted_X, lo[:, np.newaxis], axis=1)[:, 0]
    x_hi = np.take_along_axis(sorted_X, hi[:, np.newaxis], axis=1)[:, 0]
    return x_lo + (pos - lo) * (x_hi - x_lo)
