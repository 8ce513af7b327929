"""Base classes of the audio feature transformers and the frame-level layout.

Frame-level layout
------------------
Every frame-level transformer returns a float32 array of shape
``(n_samples, n_frames, n_features)``: time on axis 1, features on axis 2.

When utterances yield different numbers of frames (no fixed length asked for),
each is padded **at its end with NaN** up to the longest one in the call. A
real frame is always finite (input with NaN or inf is rejected), so NaN marks
padding without ambiguity and survives any indexing, splitting, caching or
pickling that ``X`` goes through. :func:`frame_lengths` recovers each
utterance's true frame count; :func:`frame_mask` gives the boolean mask.
Downstream skser estimators (:class:`~skser.features.Functionals`, the neural
classifiers) ignore padded frames.

With ``duration`` or ``n_frames`` set, the *waveform* is centre-cropped or
centre-zero-padded before analysis (as the Light-SERNet and TIM-Net front ends
do), so every utterance has exactly the same number of frames and no NaN.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
import warnings
from functools import cache, lru_cache
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import _num_samples, check_array
from threadpoolctl import ThreadpoolController

from .._audio import as_audio_items, check_array_layout, prepare_waveform
from .._cache import MEMORY_CONSTRAINT, cache_token
from .._parallel import map_rows
from ..exceptions import AudioInputError, AudioInputWarning, InputError, ParameterError

__all__ = [
    "BaseAudioTransformer",
    "BaseFrameTransformer",
    "frame_lengths",
    "frame_mask",
    "check_frame_array",
    "padding_lengths",
    "pad_frames",
    "centre_fit",
]


#: Values scanned at a time by :func:`padding_lengths` (1 MiB of float32).
_BLOCK_ELEMENTS = 1 << 18


def frame_mask(X: np.ndarray) -> np.ndarray:
    """Boolean mask of the real (non-padding) frames of frame-level features.

    Parameters
    ----------
    X : np.ndarray of shape (n_samples, n_frames, n_features)
        Frame-level features, padded with NaN at the end of shorter utterances.

    Returns
    -------
    mask : np.ndarray of shape (n_samples, n_frames), dtype bool
        True where the frame is real.
    """
    X = np.asarray(X)
    if X.ndim != 3:
        raise InputError(
            f"Frame-level features must have shape (n_samples, n_frames, n_features); "
            f"got an array of shape {X.shape}."
        )
    return ~np.isnan(X).all(axis=2)


def frame_lengths(X: np.ndarray) -> np.ndarray:
    """True number of frames of each utterance in NaN-padded frame-level features.

    Parameters
    ----------
    X : np.ndarray of shape (n_samples, n_frames, n_features)

    Returns
    -------
    lengths : np.ndarray of shape (n_samples,), dtype int64
    """
    return frame_mask(X).sum(axis=1).astype(np.int64)


def check_frame_array(X: Any, estimator_name: str, dtype: Any = np.float32) -> np.ndarray:
    """Frame-level input as a 3-D array, checked by scikit-learn and for its layout.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_frames, n_features) or (n_samples, n_frames)
        NaN-padded frame-level features; 2-D input is one feature per frame.
    estimator_name : str
        Named in the error message.
    dtype : dtype or list of dtypes, default=np.float32
        As in :func:`sklearn.utils.check_array` (a list keeps any of its dtypes).

    Returns
    -------
    X : np.ndarray of shape (n_samples, n_frames, n_features)

    Raises
    ------
    InputError
        For input that is not 2-D or 3-D, or has no frames or no features
        (and scikit-learn's ``ValueError`` for no rows, infinity, complex or
        non-numeric values).
    """
    X = check_array(
        X,
        dtype=dtype,
        ensure_2d=False,
        allow_nd=True,
        ensure_all_finite="allow-nan",
        ensure_min_samples=1,
        ensure_min_features=1,
        input_name="X",
    )
    if X.ndim not in (2, 3):
        raise InputError(
            f"{estimator_name} expects frame-level features of shape (n_samples, n_frames, "
            "n_features), or (n_samples, n_frames) for one feature per frame; got "
            f"{X.ndim}-D input of shape {X.shape}. Reshape your data: pad ragged "
            "(n_frames_i, n_features) arrays with skser.features.pad_frames; x.reshape(1, -1) "
            "for one track."
        )
    if X.ndim == 2:
        X = X[:, :, np.newaxis]
    if X.shape[1] < 1 or X.shape[2] < 1:
        what = "frames" if X.shape[1] < 1 else "features per frame"
        raise InputError(f"{estimator_name}: X of shape {X.shape} has no {what}.")
    return X


def padding_lengths(X: np.ndarray) -> np.ndarray | None:
    """Frame lengths of NaN-padded ``X``, or None when ``X`` holds no NaN at all.

    Raises for infinity and for NaN that is not end-of-utterance padding
    (padding frames are entirely NaN, after the last real frame), naming the
    first offending row. ``X`` is scanned in blocks of rows, so the boolean
    temporaries are at most ``_BLOCK_ELEMENTS`` values whatever its size.

    Parameters
    ----------
    X : np.ndarray of shape (n_samples, n_frames, n_features)

    Returns
    -------
    lengths : np.ndarray of shape (n_samples,), int64, or None
    """
    n_samples, n_frames, n_features = X.shape
    lengths = np.full(n_samples, n_frames, dtype=np.int64)
    step = max(1, _BLOCK_ELEMENTS // max(1, n_frames * n_features))
    padded = False
    for start in range(0, n_samples, step):
        block = X[start : start + step]
        finite = np.isfinite(block)
        if finite.all():
            continue
        padded = True
        if np.isinf(block).any():
            row = start + int(np.argwhere(np.isinf(block))[0, 0])
            raise InputError(f"Input X contains infinity (row {row}); features must be finite.")
        real = frame_mask(block)  # the project-wide padding convention
        partial = real & ~finite.all(axis=2)
        if partial.any():
            row, frame = (int(v) for v in np.argwhere(partial)[0])
            raise InputError(
                f"Input X contains NaN in row {start + row}, frame {frame}, which is not a "
                "padding frame (padding frames are entirely NaN, at the end of an utterance). "
                "Impute or drop the NaN values before this estimator."
            )
        block_lengths = real.sum(axis=1)
        contiguous = np.arange(n_frames)[None, :] < block_lengths[:, None]
        bad = np.flatnonzero((contiguous != real).any(axis=1) | (block_lengths == 0))
        if bad.size:
            row = int(bad[0])
            what = "has no real frame" if block_lengths[row] == 0 else "has NaN frames before real ones"
            raise InputError(
                f"Input X contains NaN: row {start + row} {what}. NaN marks padding only at the "
                "end of an utterance (the skser frame-level layout); impute other NaN values."
            )
        lengths[start : start + step] = block_lengths
    return lengths if padded else None


def pad_frames(frames: list[np.ndarray]) -> np.ndarray:
    """Stack per-utterance ``(n_frames_i, n_features)`` arrays, NaN-padding the ends.

    Parameters
    ----------
    frames : list of np.ndarray, each of shape (n_frames_i, n_features)

    Returns
    -------
    X : np.ndarray of shape (n_samples, max_i n_frames_i, n_features), float32
    """
    if not frames:
        raise InputError("No utterances to stack: X has 0 rows.")
    n_features = frames[0].shape[1]
    n_max = max(f.shape[0] for f in frames)
    out = np.full((len(frames), n_max, n_features), np.nan, dtype=np.float32)
    for i, f in enumerate(frames):
        out[i, : f.shape[0]] = f
    return out


def centre_fit(y: np.ndarray, length: int, fill: float = 0.0) -> np.ndarray:
    """Centre-crop or centre-pad ``y`` along its first axis to exactly ``length``.

    Cropping drops ``floor(excess / 2)`` samples at the start and the rest at
    the end; padding puts ``floor(missing / 2)`` values ``fill`` before and the
    rest after (the Light-SERNet and TIM-Net convention).

    Parameters
    ----------
    y : np.ndarray of shape (n, ...)
        A 1-D signal, or frames ``(n_frames, n_features)``.
    length : int
    fill : float, default=0.0
        Value of the padding.

    Returns
    -------
    y_fixed : np.ndarray of shape (length, ...)
        A view of ``y`` when cropped or already ``length`` long.
    """
    n = y.shape[0]
    if n > length:
        start = (n - length) // 2
        return y[start : start + length]
    if n < length:
        before = (length - n) // 2
        pad = [(before, length - n - before)] + [(0, 0)] * (y.ndim - 1)
        return np.pad(y, pad, constant_values=fill)
    return y


@cache
def _threadpool_controller() -> ThreadpoolController:
    # Inspecting the loaded libraries takes milliseconds: done once, on first
    # use (numpy's BLAS, which runs the products, is loaded by then).
    return ThreadpoolController()


def _validate_memoised(est: BaseAudioTransformer) -> None:
    """``est._validate_params()`` and ``est._check_params()``, memoised.

    ``transform`` validates on every call (the transformer needs no fit);
    remembering the hashable parameter values that passed turns a repeated
    check into a lookup. Types are part of the key (``1`` and ``1.0`` differ).
    """
    cls = type(est)
    params = []
    for name in _param_names(cls):
        value = getattr(est, name)
        params.append((name, type(value), value))
    params = tuple(params)
    try:
        hash(params)
    except TypeError:
        _validate(est)
    else:
        _validate_values(cls, params)


@lru_cache(maxsize=256)
def _validate_values(cls: type, params: tuple) -> None:
    _validate(cls(**{name: value for name, _, value in params}))


def _validate(est: BaseAudioTransformer) -> None:
    est._validate_params()
    est._check_params()


@cache
def _param_names(cls: type) -> list[str]:
    return cls._get_param_names()


class BaseAudioTransformer(TransformerMixin, BaseEstimator):
    """Stateless transformer of audio input (paths or waveforms), one row each.

    Subclasses implement :meth:`_features_of_waveform` and get the input
    contract, joblib parallelism, caching and a progress bar.

    Parameters common to every subclass
    -----------------------------------
    sr : int
        Sampling rate in Hz at which audio is analysed.
    n_jobs : int or None
        Number of joblib workers used by ``transform``.
    verbose : bool or int
        Show a progress bar during ``transform``.
    memory : str, os.PathLike, FeatureCache, joblib.Memory or None
        On-disk cache of per-utterance results (a folder path, a
        :class:`~skser.features.FeatureCache`, or a joblib.Memory's folder),
        keyed by the transformer's parameters and the content of each row (a
        file's bytes or an array's samples): renaming a file keeps its entry.
    """

    _parameter_constraints: dict = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "memory": MEMORY_CONSTRAINT,
    }

    # -- to implement -------------------------------------------------------
    def _features_of_waveform(self, y: np.ndarray) -> np.ndarray:
        """Features of one checked mono float32 waveform at ``self.sr``."""
        raise NotImplementedError

    def _check_params(self) -> None:
        """Cross-parameter checks beyond ``_parameter_constraints``."""

    def _assemble(self, results: list[np.ndarray]) -> np.ndarray:
        """Combine the per-utterance results into the output array."""
        return np.stack(results).astype(np.float32, copy=False)

    def _analysis_frame(self) -> int:
        """One analysis frame in samples at ``sr`` (default: 25 ms).

        A 2-D array whose rows are shorter than this, while it has at least
        this many rows, is rejected as one multi-channel recording.
        """
        return max(1, int(round(0.025 * self.sr)))

    # -- sklearn API --------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any = None, y: Any = None) -> "BaseAudioTransformer":
        """Validate the parameters and the rows of ``X``; nothing is learnt.

        Array rows are checked as ``transform`` checks them (dtype, empty,
        NaN or inf); files are not decoded (the transformer is stateless), so
        a path is only checked by ``transform``.

        Parameters
        ----------
        X : audio input or None
            See :mod:`skser._audio` for the contract.
        y : array-like of shape (n_samples,) or None
            Only its length is checked: one label per row of ``X``.

        Returns
        -------
        self

        Raises
        ------
        skser.exceptions.AudioInputError
            If ``X`` is empty, of the wrong kind, a 2-D array that looks like
            one multi-channel recording, or has an invalid array row, or if
            ``y`` has another length than ``X``.
        """
        self._check_params()
        if X is None:
            return self
        # Warnings are left to transform, so that fit_transform warns once.
        check_array_layout(X, self._analysis_frame(), self.sr, type(self).__name__, warn=False)
        items = as_audio_items(X)
        for row, item in enumerate(items):
            if not isinstance(item, (str, os.PathLike)):
                prepare_waveform(item, self.sr, row)
        if y is not None:
            _check_one_label_per_row(items, y)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Compute the features of every row of ``X``.

        Parameters
        ----------
        X : sequence of paths, sequence of 1-D arrays, 2-D array or pandas Series
            Audio input; see :mod:`skser._audio` for the contract.

        Returns
        -------
        features : np.ndarray, float32
            One row per input row; the shape is given by the subclass.

        Raises
        ------
        FileNotFoundError
            If a path does not exist.
        skser.exceptions.AudioDecodeError
            If a file cannot be read or decoded.
        skser.exceptions.AudioInputError
            If ``X`` is empty or of the wrong kind, or a row is empty, not
            finite, or yields non-finite features.
        """
        _validate_memoised(self)
        check_array_layout(X, self._analysis_frame(), self.sr, type(self).__name__)
        items = as_audio_items(X)
        # Each utterance needs only small matrix products (filterbank x frames):
        # a multi-threaded BLAS spends more time synchronising than computing
        # (3-4x the CPU time on 2 cores). Parallelism comes from n_jobs instead.
        with _threadpool_controller().limit(limits=1, user_api="blas"):
            func, token = self._row_task()
            results = map_rows(
                func,
                items,
                n_jobs=self.n_jobs,
                verbose=self.verbose,
                memory=self.memory,
                cache_token=token,
                desc=type(self).__name__,
            )
        self._check_lengths(np.array([n for _, n in results], dtype=np.int64))
        return self._assemble([features for features, _ in results])

    def _row_task(self) -> tuple[Any, str | None]:
        """The function of ``(item, row)`` giving one row's result, and its cache token.

        The function is a method of a copy without the execution settings
        (nothing to cache or parallelise again inside a worker). Its result is
        ``(features, n_samples)``; :meth:`_row_features` takes the features.
        """
        if self.memory is None:
            return self._measured_row, None
        worker = clone(self)
        worker.set_params(n_jobs=None, verbose=0, memory=None)
        return worker._measured_row, cache_token(worker)

    @staticmethod
    def _row_features(result: tuple[np.ndarray, int]) -> np.ndarray:
        """Features of one row from what the row function returned."""
        return result[0]

    @staticmethod
    def _row_samples(result: tuple[np.ndarray, int]) -> int | None:
        """Length in samples at ``sr`` of one row, from what the row function returned."""
        return int(result[1])

    def _measured_row(self, item: Any, row: int) -> tuple[np.ndarray, int]:
        """Features of one row, checked finite, and its length in samples at ``sr``."""
        y = prepare_waveform(item, self.sr, row)
        overflow = False
        with np.errstate(over="ignore", invalid="ignore"):  # raised as one error below
            try:
                features = self._features_of_waveform(y)
            except Exception as exc:  # librosa/scipy stop on non-finite intermediates
                message = str(exc).lower()
                if "must be finite" not in message and "infs or nans" not in message:
                    raise
                features, overflow = None, True
        if overflow or (
            isinstance(features, np.ndarray)
            and features.dtype.kind == "f"
            and not np.all(np.isfinite(features))
        ):
            peak = float(np.max(np.abs(y)))
            raise AudioInputError(
                f"{type(self).__name__}: the features of row {row} are not finite (its "
                f"peak amplitude is {peak:.3g}). Scale float samples to [-1, 1]."
            )
        return features, y.shape[0]

    def _check_lengths(self, lengths: np.ndarray) -> None:
        """Hook on the row lengths (samples at ``sr``) before assembling, e.g. to warn."""

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = True
        tags.input_tags.string = True
        return tags


class BaseFrameTransformer(BaseAudioTransformer):
    """Base of the transformers that output ``(n_samples, n_frames, n_features)``.

    Adds the fixed-length options ``duration`` and ``n_frames`` (centre crop /
    centre zero-pad of the waveform) and the NaN-padded variable-length layout
    described in :mod:`skser.features._base`.

    Subclasses implement :meth:`_frames_of_waveform`, :meth:`_n_samples_for_frames`,
    :meth:`_min_samples` and :meth:`get_feature_names_out`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # 3-D output cannot become a DataFrame: no set_output wrapping.
        kwargs.setdefault("auto_wrap_output_keys", None)
        super().__init_subclass__(**kwargs)

    _parameter_constraints: dict = {
        **BaseAudioTransformer._parameter_constraints,
        "duration": [Interval(Real, 0, None, closed="neither"), None],
        "n_frames": [Interval(Integral, 1, None, closed="left"), None],
    }

    # -- to implement -------------------------------------------------------
    def _frames_of_waveform(self, y: np.ndarray) -> np.ndarray:
        """Features of one waveform, shape (n_frames, n_features), float32."""
        raise NotImplementedError

    def _n_samples_for_frames(self, n_frames: int) -> int:
        """Waveform length in samples that yields exactly ``n_frames`` frames."""
        raise NotImplementedError

    def _min_samples(self) -> int:
        """Shortest waveform the analysis accepts (e.g. one FFT window)."""
        raise NotImplementedError

    def _preprocess(self, y: np.ndarray) -> np.ndarray:
        """Hook applied after cropping and before padding (e.g. amplitude norm)."""
        return y

    # -- shared machinery ---------------------------------------------------
    def _check_params(self) -> None:
        if self.duration is not None and self.n_frames is not None:
            raise ParameterError(
                f"{type(self).__name__}: set at most one of duration="
                f"{self.duration!r} and n_frames={self.n_frames!r}."
            )

    def _target_samples(self) -> int | None:
        if self.duration is not None:
            return int(round(self.duration * self.sr))
        if self.n_frames is not None:
            return self._n_samples_for_frames(self.n_frames)
        return None

    def _features_of_waveform(self, y: np.ndarray) -> np.ndarray:
        length = self._target_samples()
        if length is not None and y.shape[0] > length:
            y = centre_fit(y, length)
        y = self._preprocess(y)
        if length is not None:
            y = centre_fit(y, length)
        if y.shape[0] < self._min_samples():
            y = centre_fit(y, self._min_samples())
        frames = np.asarray(self._frames_of_waveform(y), dtype=np.float32)
        if self.n_frames is not None:
            frames = _fit_frame_count(frames, self.n_frames)
        return frames

    def _analysis_frame(self) -> int:
        """One analysis window in samples (``win_length``, else ``n_fft``)."""
        frame = getattr(self, "win_length", None) or getattr(self, "n_fft", None)
        return int(frame) if frame else super()._analysis_frame()

    def _assemble(self, results: list[np.ndarray]) -> np.ndarray:
        return pad_frames(results)

    def _check_lengths(self, lengths: np.ndarray) -> None:
        self._warn_cropped(lengths)

    def _warn_cropped(self, lengths: np.ndarray) -> None:
        """Warn once when a fixed length keeps less than half of some recordings."""
        target = self._target_samples()
        if target is None:
            return
        cropped = lengths > 2 * target
        if not cropped.any():
            return
        setting = (f"duration={self.duration!r} s" if self.duration is not None
                   else f"n_frames={self.n_frames!r} ({target / self.sr:.2f} s)")
        warnings.warn(
            f"{type(self).__name__}: {int(cropped.sum())} of {lengths.size} recordings are "
            f"more than twice as long as {setting}; the longest is "
            f"{lengths.max() / self.sr:.1f} s. They were centre-cropped to "
            f"{target / self.sr:.2f} s, dropping most of their audio. Use duration=None "
            "for variable-length features, or cut long recordings into segments first.",
            AudioInputWarning,
            stacklevel=3,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _check_one_label_per_row(items: list, y: Any) -> None:
    try:
        n_labels = _num_samples(y)
    except TypeError:
        return  # not an array-like: left to the estimator that uses y
    if n_labels == len(items):
        return
    hint = ""
    if n_labels == 1 and 2 <= len(items) <= 8:
        hint = (" If X is one recording laid out as (channels, samples), down-mix it "
                "first: [X.mean(axis=0)].")
    raise AudioInputError(
        f"X has {len(items)} rows but y has {n_labels} label(s); each row of X is one "
        f"utterance and needs one label.{hint}"
    )


def _fit_frame_count(frames: np.ndarray, n_frames: int) -> np.ndarray:
    """Trim or zero-pad (at the end) the last frame or two of rounding slack."""
    if frames.shape[0] > n_frames:
        return frames[:n_frames]
    if frames.shape[0] < n_frames:
        pad = np.zeros((n_frames - frames.shape[0], frames.shape[1]), frames.dtype)
        return np.concatenate([frames, pad])
    return frames
