"""Per-speaker standardisation of utterance- or frame-level features."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import FLOAT_DTYPES, check_array, check_is_fitted

from .._groups import check_speakers
from ..exceptions import InputError, ParameterError

__all__ = [
    "SpeakerNormalizer",
    "SpeakerNormalizationWarning",
    "SingleEmotionSpeakerWarning",
]


class SpeakerNormalizationWarning(UserWarning):
    """A speaker's rows were standardised with global instead of own statistics."""


class SingleEmotionSpeakerWarning(UserWarning):
    """A training speaker holds one emotion only: normalising removes that emotion."""


_ROUTING_HELP = (
    "Pass the speaker of every row as groups=... . Inside a Pipeline, "
    "cross_validate or GridSearchCV, turn on scikit-learn's metadata routing "
    "first (sklearn.set_config(enable_metadata_routing=True)) and pass "
    "groups=speakers to fit/predict (cross_validate: params={'groups': speakers}); "
    "skser.model_selection.evaluate does this for you. Or set "
    "SpeakerNormalizer(missing_groups='global') to standardise rows without "
    "speakers with the global training statistics."
)


class SpeakerNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise features with each speaker's own statistics.

    Every speaker's rows are centred on that speaker's mean (or median) and
    divided by that speaker's standard deviation (or interquartile range), so
    that what remains is how an utterance differs from the speaker's usual
    voice. Labels are never used, so the statistics of a new speaker can be
    estimated from that speaker's unlabelled recordings.

    The speaker of each row comes in as ``groups``, through scikit-learn's
    metadata routing: ``fit`` and ``transform`` request ``groups`` by default,
    so with ``sklearn.set_config(enable_metadata_routing=True)`` a
    ``Pipeline``, ``cross_validate`` or ``GridSearchCV`` hands the speakers to
    this step. :func:`skser.model_selection.evaluate` turns routing on for
    its own run and passes the speakers to ``fit`` and ``predict``.

    Parameters
    ----------
    with_std : bool, default=True
        Divide by the speaker's spread; False only centres.
    robust : bool, default=False
        Median and interquartile range (25th to 75th percentile, not rescaled,
        as :class:`sklearn.preprocessing.RobustScaler`) instead of mean and
        standard deviation (``ddof=0``).
    min_utterances : int, default=10
        Fewest rows (utterances) of a speaker for its own statistics. A speaker
        with fewer rows, in ``fit``, ``enroll`` or a ``transform`` call, is
        standardised with the global statistics, with a
        :class:`SpeakerNormalizationWarning`.
    missing_groups : {"raise", "global"}, default="raise"
        What ``fit`` and ``transform`` do when no ``groups`` arrive: raise a
        :class:`skser.exceptions.InputError` (a ``ValueError``) that says how
        to pass them, or standardise every row with the global statistics
        (then the step is a ``StandardScaler`` / ``RobustScaler`` fitted on
        all rows).

    Attributes
    ----------
    speakers_ : np.ndarray of shape (n_speakers,)
        Speakers with their own statistics: training speakers with at least
        ``min_utterances`` rows, then enrolled speakers.
    location_ : np.ndarray of shape (n_speakers, n_features)
        Mean (median) of each speaker, float64.
    scale_ : np.ndarray of shape (n_speakers, n_features)
        Standard deviation (IQR) of each speaker; 1 where it is 0 or
        ``with_std=False``.
    n_utterances_ : np.ndarray of shape (n_speakers,)
        Rows each speaker's statistics came from.
    global_location_ : np.ndarray of shape (n_features,)
        Mean (median) over all training rows (frames).
    global_scale_ : np.ndarray of shape (n_features,)
        The spread a speaker's values have around their own location,
        averaged over the training speakers (root mean of the variances, or
        mean IQR); the spread over all rows when no speaker has
        ``min_utterances`` rows or no groups were given.
    n_features_in_ : int
        Features per row (2-D input) or per frame (3-D input).
    feature_names_in_ : np.ndarray of shape (``n_features_in_``,)
        Column names of a DataFrame ``X``.

    Notes
    -----
    **Input.** ``X`` is utterance-level ``(n_samples, n_features)`` or
    frame-level ``(n_samples, n_frames, n_features)`` with NaN padding at the
    end of shorter utterances (the layout of :class:`skser.MFCC`). For 3-D
    input the statistics of a speaker are over the real frames of all that
    speaker's utterances; padding stays NaN. NaN in 2-D input is ignored by the
    statistics and kept, as in ``StandardScaler``.

    **Speakers at transform time.** A speaker seen in ``fit`` (with enough
    rows) or enrolled with :meth:`enroll` is standardised with the stored
    statistics. Any other speaker is standardised with the statistics of its
    own rows in the ``transform`` call (transductive: the test speaker's
    unlabelled recordings are used together, which is legitimate for a
    speaker-independent protocol as no label is read, but it needs at least
    ``min_utterances`` rows of that speaker in the call). Fewer rows fall back
    to the global statistics with a warning.

    **Failure mode.** A speaker who utters a single emotion only is
    normalised onto that emotion's mean, which erases it; ``fit`` warns with
    :class:`SingleEmotionSpeakerWarning` when ``y`` shows this in training.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.preprocessing import SpeakerNormalizer
    >>> X = np.array([[1.0], [3.0], [10.0], [14.0]])
    >>> speakers = ["a", "a", "b", "b"]
    >>> SpeakerNormalizer(min_utterances=2).fit_transform(X, groups=speakers).ravel()
    array([-1.,  1., -1.,  1.])
    """

    __metadata_request__fit = {"groups": True}
    __metadata_request__transform = {"groups": True}

    _parameter_constraints: dict = {
        "with_std": ["boolean"],
        "robust": ["boolean"],
        "min_utterances": [Interval(Integral, 1, None, closed="left")],
        "missing_groups": [StrOptions({"raise", "global"})],
    }

    def __init__(
        self,
        *,
        with_std: bool = True,
        robust: bool = False,
        min_utterances: int = 10,
        missing_groups: str = "raise",
    ) -> None:
        self.with_std = with_std
        self.robust = robust
        self.min_utterances = min_utterances
        self.missing_groups = missing_groups

    # -- validation -----------------------------------------------------------
    def _validate_params_clearly(self) -> None:
        try:
            self._validate_params()
        except ValueError as exc:  # InvalidParameterError is a ValueError
            raise ParameterError(str(exc)) from exc

    def _check_X(self, X: Any, *, reset: bool, method: str) -> np.ndarray:
        if reset and hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        elif reset and hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        X = check_array(
            X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan", allow_nd=True,
            input_name="X", estimator=self,
        )
        if X.ndim not in (2, 3):
            raise InputError(
                f"SpeakerNormalizer.{method}: X must be utterance-level (n_samples, "
                f"n_features) or frame-level (n_samples, n_frames, n_features); got "
                f"shape {X.shape}."
            )
        if X.ndim == 3 and np.isinf(X).any():
            raise InputError(f"SpeakerNormalizer.{method}: X holds inf values.")
        if reset:
            self.n_features_in_ = X.shape[-1]
            self._ndim = X.ndim
        else:
            if X.ndim != self._ndim:
                raise InputError(
                    f"SpeakerNormalizer.{method}: fitted on {self._ndim}-D features but X "
                    f"is {X.ndim}-D (shape {X.shape})."
                )
            if X.shape[-1] != self.n_features_in_:
                raise InputError(
                    f"X has {X.shape[-1]} features, but SpeakerNormalizer is expecting "
                    f"{self.n_features_in_} features as input."
                )
        return X

    # -- statistics -----------------------------------------------------------
    def _statistics(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Location and scale of ``values`` (rows x features, NaN ignored)."""
        values = values.reshape(-1, values.shape[-1]).astype(np.float64, copy=False)
        with warnings.catch_warnings():
            # An all-NaN column (no real value): location NaN, handled below.
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.robust:
                q25, location, q75 = np.nanpercentile(values, [25, 50, 75], axis=0)
                scale = q75 - q25
            else:
                location = np.nanmean(values, axis=0)
                scale = np.nanstd(values, axis=0)
        location = np.nan_to_num(location, nan=0.0)
        scale = np.nan_to_num(scale, nan=1.0)
        if not self.with_std:
            scale = np.ones_like(scale)
        scale[scale < 10 * np.finfo(np.float64).eps] = 1.0
        return location, scale

    def _per_speaker(
        self, X: np.ndarray, groups: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[Any, int]]:
        """Statistics of the speakers with at least ``min_utterances`` rows."""
        speakers, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
        keep = counts >= self.min_utterances
        locations, scales = [], []
        for k in np.flatnonzero(keep):
            location, scale = self._statistics(X[inverse == k])
            locations.append(location)
            scales.append(scale)
        n_features = X.shape[-1]
        too_few = {s: int(c) for s, c in zip(speakers[~keep], counts[~keep])}
        return (
            speakers[keep],
            np.asarray(locations).reshape(-1, n_features),
            np.asarray(scales).reshape(-1, n_features),
            counts[keep],
            too_few,
        )

    def _warn_fallback(self, too_few: dict[Any, int], method: str) -> None:
        if not too_few:
            return
        shown = ", ".join(f"{s!r} ({n} rows)" for s, n in list(too_few.items())[:10])
        more = f" and {len(too_few) - 10} more" if len(too_few) > 10 else ""
        warnings.warn(
            f"SpeakerNormalizer.{method}: {len(too_few)} speaker(s) have fewer than "
            f"min_utterances={self.min_utterances} rows: {shown}{more}; they are "
            "standardised with the global statistics. Enroll them "
            "with more recordings (enroll(X, groups)) or lower min_utterances.",
            SpeakerNormalizationWarning,
            stacklevel=3,
        )

    # -- API ------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, groups: Any = None) -> SpeakerNormalizer:
        """Compute the statistics of every training speaker and the global ones.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_frames, n_features)
            Utterance-level features, or NaN-padded frame-level features.
        y : array-like of shape (n_samples,), default=None
            Labels, read only to warn about speakers with a single emotion;
            the statistics never depend on them.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each row (routed metadata).

        Returns
        -------
        self : SpeakerNormalizer
        """
        self._validate_params_clearly()
        X = self._check_X(X, reset=True, method="fit")
        global_location, global_scale = self._statistics(X)
        if groups is None:
            if self.missing_groups == "raise":
                raise InputError(f"SpeakerNormalizer.fit got no groups. {_ROUTING_HELP}")
            groups_fit = None
            speakers = np.empty(0, dtype=object)
            locations = scales = np.empty((0, X.shape[-1]))
            counts = np.empty(0, dtype=np.int64)
        else:
            groups_fit = check_speakers(groups, X.shape[0], "SpeakerNormalizer.fit")
            speakers, locations, scales, counts, too_few = self._per_speaker(X, groups_fit)
            self._warn_fallback(too_few, "fit")
            if speakers.size and self.with_std:
                # The spread around a speaker's own location, averaged over speakers:
                # what the model sees in training, so the best stand-in for an
                # unknown speaker's spread.
                global_scale = (
                    scales.mean(axis=0) if self.robust else np.sqrt((scales**2).mean(axis=0))
                )
            if y is not None:
                self._warn_single_emotion(np.asarray(y), groups_fit)
        self.speakers_ = speakers
        self.location_ = locations
        self.scale_ = scales
        self.n_utterances_ = counts
        self.global_location_ = global_location
        self.global_scale_ = global_scale
        return self

    def _warn_single_emotion(self, y: np.ndarray, groups: np.ndarray) -> None:
        if y.shape[0] != groups.shape[0] or np.unique(y).size < 2:
            return
        single = []
        for speaker in np.unique(groups):
            labels = np.unique(y[groups == speaker])
            if labels.size == 1:
                single.append(f"{speaker!r} (only {labels[0]!r})")
        if single:
            warnings.warn(
                f"SpeakerNormalizer.fit: {len(single)} speaker(s) utter a single emotion "
                f"in training: {', '.join(single[:10])}. Normalising such a speaker "
                "subtracts that emotion's mean and erases it; give each speaker several "
                "emotions or do not normalise per speaker.",
                SingleEmotionSpeakerWarning,
                stacklevel=2,
            )

    def enroll(self, X: Any, groups: Any) -> SpeakerNormalizer:
        """Store the statistics of (new) speakers from unlabelled recordings.

        Enrolled statistics replace those of the same speaker from ``fit`` or
        an earlier ``enroll``, and are used by every later ``transform``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_frames, n_features)
            Features of the speakers' recordings (any emotions; no labels).
        groups : array-like of shape (n_samples,)
            Speaker of each row.

        Returns
        -------
        self : SpeakerNormalizer
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False, method="enroll")
        groups = check_speakers(groups, X.shape[0], "SpeakerNormalizer.enroll")
        speakers, locations, scales, counts, too_few = self._per_speaker(X, groups)
        self._warn_fallback(too_few, "enroll")
        keep = ~np.isin(self.speakers_, speakers)
        self.speakers_ = np.concatenate([self.speakers_[keep].astype(object),
                                         speakers.astype(object)])
        if self.speakers_.size and all(isinstance(s, (int, np.integer))
                                       for s in self.speakers_):
            self.speakers_ = self.speakers_.astype(np.int64)
        self.location_ = np.vstack([self.location_[keep], locations])
        self.scale_ = np.vstack([self.scale_[keep], scales])
        self.n_utterances_ = np.concatenate([self.n_utterances_[keep], counts])
        return self

    def transform(self, X: Any, groups: Any = None) -> np.ndarray:
        """Standardise every row with its speaker's statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_frames, n_features)
        groups : array-like of shape (n_samples,), default=None
            Speaker of each row (routed metadata). Known speakers use their
            stored statistics, others the statistics of their rows in ``X``
            (at least ``min_utterances``), else the global ones.

        Returns
        -------
        X_new : np.ndarray of the shape of X
            float64 for 2-D input of integers or float64, else X's float dtype;
            NaN (padding) stays NaN.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False, method="transform")
        location = np.broadcast_to(self.global_location_, (X.shape[0], X.shape[-1])).copy()
        scale = np.broadcast_to(self.global_scale_, (X.shape[0], X.shape[-1])).copy()
        if groups is None:
            if self.missing_groups == "raise":
                raise InputError(
                    f"SpeakerNormalizer.transform got no groups. {_ROUTING_HELP}"
                )
        else:
            groups = check_speakers(groups, X.shape[0], "SpeakerNormalizer.transform")
            known = {s: i for i, s in enumerate(self.speakers_.tolist())}
            unseen = np.array([g not in known for g in groups.tolist()], dtype=bool)
            for row, speaker in enumerate(groups.tolist()):
                if speaker in known:
                    location[row] = self.location_[known[speaker]]
                    scale[row] = self.scale_[known[speaker]]
            if unseen.any():
                speakers, locations, scales, _, too_few = self._per_speaker(
                    X[unseen], groups[unseen]
                )
                self._warn_fallback(too_few, "transform")
                index = {s: i for i, s in enumerate(speakers.tolist())}
                for row in np.flatnonzero(unseen):
                    k = index.get(groups[row])
                    if k is not None:
                        location[row] = locations[k]
                        scale[row] = scales[k]
        # Statistics in X's dtype: no float64 copy of a large float32 frame array.
        location, scale = location.astype(X.dtype), scale.astype(X.dtype)
        if X.ndim == 3:
            location, scale = location[:, None, :], scale[:, None, :]
        return (X - location) / scale

    def fit_transform(self, X: Any, y: Any = None, groups: Any = None) -> np.ndarray:
        """Fit, then standardise the training rows with their speakers' statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_frames, n_features)
        y : array-like of shape (n_samples,), default=None
            Read only for the single-emotion warning.
        groups : array-like of shape (n_samples,), default=None

        Returns
        -------
        X_new : np.ndarray of the shape of X
        """
        self.fit(X, y, groups=groups)
        with warnings.catch_warnings():
            # fit has already warned about the speakers with too few rows.
            warnings.simplefilter("ignore", SpeakerNormalizationWarning)
            return self.transform(X, groups=groups)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.three_d_array = True
        return tags
