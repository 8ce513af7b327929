"""Waveform augmentation as an imbalanced-learn sampler (fit-time only, no leak)."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from functools import partial
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from imblearn.base import SamplerMixin
from imblearn.utils import check_sampling_strategy
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from .._audio import as_audio_items, as_object_array, prepare_waveform
from .._parallel import map_rows
from ..exceptions import AudioInputError, InputError, ParameterError
from ._waveform import add_noise, pitch_shift, speed_perturb, time_shift

__all__ = ["WaveformAugmenter"]

_RECIPE_COLUMNS = ["source", "speed", "pitch_semitones", "shift_s", "snr_db"]


def _decode_row(item: Any, row: int, *, sr: int) -> np.ndarray:
    return prepare_waveform(item, sr, row)


def _augment_row(task: tuple, row: int, *, sr: int, shift_mode: str) -> np.ndarray:
    """Apply one recipe (speed -> pitch -> shift -> noise) to one waveform."""
    y, speed, semitones, shift_s, snr_db, noise_seed = task
    if not math.isnan(speed):
        y = speed_perturb(y, speed)
    if not math.isnan(semitones):
        y = pitch_shift(y, sr, semitones)
    if not math.isnan(shift_s):
        shift = int(round(shift_s * sr))
        if shift_mode == "zeros":  # keep at least half of the utterance
            limit = y.shape[0] // 2
            shift = max(-limit, min(limit, shift))
        y = time_shift(y, shift, mode=shift_mode)
    if not math.isnan(snr_db):
        y = add_noise(y, snr_db, random_state=np.random.default_rng(noise_seed))
    return np.ascontiguousarray(y, dtype=np.float32)


def _as_range(value: Any, name: str) -> tuple[float, float] | None:
    """``None``, a number ``v`` (-> (v, v)) or a pair ``(low, high)`` -> (low, high)."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=float).ravel()
    if arr.shape[0] == 1:
        arr = np.repeat(arr, 2)
    if arr.shape[0] != 2 or not np.all(np.isfinite(arr)) or arr[0] > arr[1]:
        raise ParameterError(
            f"{name} must be None, a number or a pair (low, high) of finite numbers "
            f"with low <= high; got {value!r}."
        )
    return float(arr[0]), float(arr[1])


class WaveformAugmenter(SamplerMixin, BaseEstimator):
    """Add augmented copies of the training utterances (noise, shift, speed, pitch).

    An imbalanced-learn sampler: inside an :class:`imblearn.pipeline.Pipeline`
    its :meth:`fit_resample` runs during ``fit`` only, on the rows the pipeline
    is fitted on, and is skipped by ``predict``, ``predict_proba``, ``score``
    and ``transform``. Under cross-validation the copies are therefore made
    from the training fold alone and no altered copy of a test utterance can
    reach training -- the leak of the popular Kaggle 1-D CNN notebook, which
    augments the whole corpus before splitting it.

    Each augmented copy applies, in this order and each with probability
    ``p`` (every enabled transform when ``p=1``):

    1. speed perturbation by a factor drawn from ``speed_factors``
       (resampling: duration / factor, frequencies x factor);
    2. pitch shift by a number of semitones drawn uniformly from
       ``pitch_semitones`` (phase vocoder; duration kept);
    3. time shift by a delay drawn uniformly from ``[-max_shift, max_shift]``
       seconds (``shift_mode``);
    4. white Gaussian noise at an SNR drawn uniformly from ``noise_snr_db``,
       measured against the power of the (transformed) utterance.

    Parameters
    ----------
    sr : int, default=16000
        Sampling rate in Hz of the output waveforms. Paths are decoded and
        resampled to ``sr``; arrays are taken to be at ``sr`` already. Use the
        same ``sr`` as the feature transformer that follows.
    n_copies : int, default=1
        Augmented copies made of every input utterance. ``0`` makes none (the
        sampler then only balances classes when ``sampling_strategy`` is set,
        or returns the decoded input unchanged).
    noise_snr_db : float, (float, float) or None, default=(15.0, 30.0)
        SNR in dB of the added white Gaussian noise: a fixed value or a range
        ``(low, high)`` to draw from uniformly. ``None`` adds no noise.
    max_shift : float, default=0.1
        Largest time shift in seconds (either direction); ``0`` disables it.
    shift_mode : {"zeros", "circular"}, default="zeros"
        ``"zeros"``: the signal is delayed or advanced, dropping what leaves
        the utterance and filling the gap with silence; the shift is limited to
        half the utterance so at least half of it is kept. ``"circular"``:
        what leaves at one end re-enters at the other (``np.roll``).
    speed_factors : sequence of float, float or None, default=(0.9, 1.0, 1.1)
        Speed factors to choose from uniformly (Kaldi's 3-way speed
        perturbation by default); ``1.0`` in the set means "unchanged" for
        that share of the copies. ``None`` disables speed perturbation.
    pitch_semitones : float, (float, float) or None, default=None
        Pitch shift in semitones: a fixed value or a range ``(low, high)`` to
        draw from uniformly. ``None`` disables it (it is the slowest transform).
    p : float in (0, 1], default=1.0
        Probability with which each enabled transform is applied to a copy.
    sampling_strategy : float, str, dict, callable or None, default=None
        Extra augmented copies to balance classes, with the semantics of
        imbalanced-learn's over-samplers (``"not majority"``, ``"minority"``,
        ``"all"``, ``"auto"``, a dict ``{class: target count}``, ...), counted
        on the data after the ``n_copies`` copies. The originals of a class
        are used as evenly as possible. ``None`` adds no balancing copies and
        accepts any ``y`` (e.g. continuous arousal/valence targets).
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw; with an int, ``fit_resample`` is
        reproducible whatever ``n_jobs``.
    n_jobs : int or None, default=None
        joblib workers for decoding and augmenting.
    verbose : bool or int, default=False
        Show progress bars.

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of augmented copies made for each class in the last
        ``fit_resample`` (all copies, uniform and balancing).
    sample_indices_ : np.ndarray of shape (n_samples_resampled,)
        Row of the input each output row comes from: ``arange(n_samples)``
        for the originals, then the source of each copy. Use it to resample
        groups or sample weights, e.g. ``groups[sampler.sample_indices_]``.
    augmentations_ : pandas.DataFrame of shape (n_augmented, 5)
        What was applied to each copy, in output order: columns ``source``
        (input row), ``speed``, ``pitch_semitones``, ``shift_s``, ``snr_db``
        (NaN where a transform was not applied).

    See Also
    --------
    imblearn.over_sampling.RandomOverSampler : Duplicate rows of descriptor
        vectors (after feature extraction) instead of augmenting audio.
    imblearn.pipeline.make_pipeline : The pipeline that calls samplers in fit only.

    Notes
    -----
    Only ``X`` and ``y`` are resampled. Groups passed to a cross-validation
    splitter are used to split the *input* rows, so they need no resampling;
    sample weights or other per-row fit parameters routed to later steps are
    not expanded and must not be combined with this sampler (use
    ``sample_indices_`` outside a pipeline). The output is not clipped, so
    loud utterances with added noise may exceed [-1, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from skser.augmentation import WaveformAugmenter
    >>> t = np.arange(16000) / 16000
    >>> X = [np.sin(2 * np.pi * 220 * t).astype(np.float32), np.zeros(8000) + 0.1]
    >>> aug = WaveformAugmenter(n_copies=2, random_state=0)
    >>> X_res, y_res = aug.fit_resample(X, ["happy", "sad"])
    >>> X_res.shape, y_res.tolist()
    ((6,), ['happy', 'sad', 'happy', 'sad', 'happy', 'sad'])
    >>> aug.sample_indices_.tolist()
    [0, 1, 0, 1, 0, 1]

    In a pipeline the copies are added in ``fit`` only:

    >>> from imblearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn.dummy import DummyClassifier
    >>> pipe = make_pipeline(
    ...     WaveformAugmenter(random_state=0),
    ...     FunctionTransformer(lambda X: np.array([[np.std(y)] for y in X])),
    ...     DummyClassifier(),
    ... ).fit(X, ["happy", "sad"])
    >>> pipe.predict(X).shape
    (2,)
    """

    _sampling_type = "over-sampling"

    _parameter_constraints: dict = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_copies": [Interval(Integral, 0, None, closed="left")],
        "noise_snr_db": [Real, "array-like", None],
        "max_shift": [Interval(Real, 0, None, closed="left")],
        "shift_mode": [StrOptions({"zeros", "circular"})],
        "speed_factors": [Real, "array-like", None],
        "pitch_semitones": [Real, "array-like", None],
        "p": [Interval(Real, 0, 1, closed="right")],
        "sampling_strategy": [
            None,
            Interval(Real, 0, 1, closed="right"),
            StrOptions({"auto", "minority", "not minority", "not majority", "all"}),
            Mapping,
            callable,
        ],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        sr: int = 16000,
        n_copies: int = 1,
        *,
        noise_snr_db: Any = (15.0, 30.0),
        max_shift: float = 0.1,
        shift_mode: str = "zeros",
        speed_factors: Any = (0.9, 1.0, 1.1),
        pitch_semitones: Any = None,
        p: float = 1.0,
        sampling_strategy: Any = None,
        random_state: Any = None,
        n_jobs: int | None = None,
        verbose: bool | int = False,
    ):
        self.sr = sr
        self.n_copies = n_copies
        self.noise_snr_db = noise_snr_db
        self.max_shift = max_shift
        self.shift_mode = shift_mode
        self.speed_factors = speed_factors
        self.pitch_semitones = pitch_semitones
        self.p = p
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- parameter checks ---------------------------------------------------
    def _check_params(self) -> dict:
        """Cross-parameter checks; returns the normalised transform settings."""
        snr = _as_range(self.noise_snr_db, "noise_snr_db")
        pitch = _as_range(self.pitch_semitones, "pitch_semitones")
        speeds = None
        if self.speed_factors is not None:
            speeds = np.asarray(self.speed_factors, dtype=float).ravel()
            if speeds.size == 0 or not np.all(np.isfinite(speeds)) or np.any(speeds <= 0):
                raise ParameterError(
                    "speed_factors must be None or a non-empty sequence of positive "
                    f"numbers such as (0.9, 1.0, 1.1); got {self.speed_factors!r}."
                )
        if (
            snr is None
            and pitch is None
            and self.max_shift == 0
            and (speeds is None or np.all(speeds == 1.0))
        ):
            raise ParameterError(
                "Every augmentation of WaveformAugmenter is disabled (noise_snr_db=None, "
                "pitch_semitones=None, max_shift=0 and no speed factor other than 1), so "
                "its copies would be exact duplicates. Enable at least one transform, or "
                "use imblearn.over_sampling.RandomOverSampler to duplicate rows."
            )
        return {"snr": snr, "pitch": pitch, "speeds": speeds}

    def _check_y(self, y: Any, n_samples: int | None) -> np.ndarray:
        if y is None:
            raise InputError(
                "WaveformAugmenter requires y to be passed, but the target y is None: "
                "it labels each augmented copy with the target of its original."
            )
        y_arr = np.asarray(y)
        if y_arr.ndim == 0:
            raise InputError(f"y must be array-like with one target per row; got {y!r}.")
        if n_samples is not None and y_arr.shape[0] != n_samples:
            raise InputError(
                f"X has {n_samples} rows but y has {y_arr.shape[0]} targets; they "
                "must match one to one."
            )
        if self.sampling_strategy is not None:
            check_classification_targets(y_arr)
        return y_arr

    def _copy_sources(self, y: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        """Input row of every augmented copy, in output order."""
        n = y.shape[0]
        uniform = np.tile(np.arange(n), self.n_copies)
        if self.sampling_strategy is None:
            return uniform
        y_after = np.concatenate([y] * (self.n_copies + 1))
        targets = check_sampling_strategy(
            self.sampling_strategy, y_after, self._sampling_type
        )
        extra = []
        for cls in sorted(targets, key=lambda c: np.flatnonzero(y == c)[0]):
            n_new = int(targets[cls])
            if n_new <= 0:
                continue
            rows = np.flatnonzero(y == cls)
            cycles = [rng.permutation(rows) for _ in range(math.ceil(n_new / rows.size))]
            extra.append(np.concatenate(cycles)[:n_new])
        return np.concatenate([uniform, *extra]).astype(np.intp)

    def _draw_recipes(
        self, sources: np.ndarray, settings: dict, rng: np.random.RandomState
    ) -> pd.DataFrame:
        """Draw, in the main process, what each copy gets (NaN = not applied)."""
        n_aug = sources.shape[0]
        nan = np.full(n_aug, np.nan)

        def applied() -> np.ndarray:
            return rng.random_sample(n_aug) < self.p

        speed, pitch, shift, snr = nan.copy(), nan.copy(), nan.copy(), nan.copy()
        if settings["speeds"] is not None:
            draw = rng.choice(settings["speeds"], size=n_aug)
            speed = np.where(applied() & (draw != 1.0), draw, np.nan)
        if settings["pitch"] is not None:
            low, high = settings["pitch"]
            pitch = np.where(applied(), rng.uniform(low, high, size=n_aug), np.nan)
        if self.max_shift > 0:
            draw = rng.uniform(-self.max_shift, self.max_shift, size=n_aug)
            shift = np.where(applied(), draw, np.nan)
        if settings["snr"] is not None:
            low, high = settings["snr"]
            snr = np.where(applied(), rng.uniform(low, high, size=n_aug), np.nan)
        return pd.DataFrame(
            {"source": sources, "speed": speed, "pitch_semitones": pitch,
             "shift_s": shift, "snr_db": snr},
            columns=_RECIPE_COLUMNS,
        )

    # -- imbalanced-learn API -----------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> "WaveformAugmenter":
        """Check the parameters, the rows of ``X`` and ``y``; no audio is decoded.

        Use :meth:`fit_resample` to get the augmented data; ``fit`` exists for
        API compatibility. It checks array rows fully and that path rows exist.

        Parameters
        ----------
        X : sequence of paths, sequence of 1-D arrays, 2-D array or pandas Series
            Audio input (see :mod:`skser._audio` for the contract).
        y : array-like of shape (n_samples,)
            Targets, one per row of ``X``.

        Returns
        -------
        self : WaveformAugmenter
        """
        self._check_params()
        items = self._checked_items(X)
        y_arr = self._check_y(y, len(items))
        for row, item in enumerate(items):
            if isinstance(item, (str, os.PathLike)):
                if not os.path.isfile(item):
                    raise FileNotFoundError(
                        f"Audio file row {row} ({os.fspath(item)!r}) does not exist; "
                        "check the path."
                    )
            else:
                prepare_waveform(item, self.sr, row)
        sources = self._copy_sources(y_arr, check_random_state(self.random_state))
        self.sampling_strategy_ = self._counts_by_class(y_arr, sources)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X: Any, y: Any) -> tuple[np.ndarray, Any]:
        """Decode ``X`` and append augmented copies of its utterances.

        Parameters
        ----------
        X : sequence of paths, sequence of 1-D arrays, 2-D array or pandas Series
            Audio input (see :mod:`skser._audio` for the contract).
        y : array-like of shape (n_samples,)
            Targets, one per row of ``X``.

        Returns
        -------
        X_resampled : np.ndarray of shape (n_samples_resampled,), dtype object
            Float32 mono waveforms at ``sr``: the ``n_samples`` originals first,
            in input order, then the augmented copies (``n_copies`` passes over
            the input in order, then any balancing copies class by class).
        y_resampled : np.ndarray or pandas.Series of shape (n_samples_resampled,)
            ``y`` indexed by :attr:`sample_indices_` (a Series when ``y`` is one).
        """
        items = self._checked_items(X)
        y_arr = self._check_y(y, len(items))
        X_res, y_res = self._fit_resample(items, y_arr)
        if isinstance(y, pd.Series):
            y_res = pd.Series(y_res, name=y.name, dtype=y.dtype)
        return X_res, y_res

    def _fit_resample(self, X: list, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        settings = self._check_params()
        rng = check_random_state(self.random_state)
        sources = self._copy_sources(y, rng)
        recipes = self._draw_recipes(sources, settings, rng)
        noise_seeds = rng.randint(0, 2**31 - 1, size=sources.shape[0])

        originals = map_rows(
            partial(_decode_row, sr=self.sr), X, n_jobs=self.n_jobs,
            verbose=self.verbose, desc="WaveformAugmenter (decode)",
        )
        tasks = [
            (originals[src], sp, pi, sh, snr, int(seed))
            for (src, sp, pi, sh, snr), seed in zip(
                recipes.itertuples(index=False, name=None), noise_seeds
            )
        ]
        copies = map_rows(
            partial(_augment_row, sr=self.sr, shift_mode=self.shift_mode), tasks,
            n_jobs=self.n_jobs, verbose=self.verbose, desc="WaveformAugmenter (augment)",
        )

        indices = np.concatenate([np.arange(len(X)), sources]).astype(np.intp)
        self.sample_indices_ = indices
        self.augmentations_ = recipes
        self.sampling_strategy_ = self._counts_by_class(y, sources)
        return as_object_array(originals + copies), y[indices]

    # -- helpers ------------------------------------------------------------
    @staticmethod
    def _checked_items(X: Any) -> list:
        if sp.issparse(X):
            raise AudioInputError(
                "Sparse input is not supported by WaveformAugmenter: pass waveforms as "
                "a sequence of 1-D arrays or a dense 2-D array (X.toarray())."
            )
        items = as_audio_items(X)
        if not items:
            raise AudioInputError("WaveformAugmenter got 0 rows of audio; X must not be empty.")
        return items

    @staticmethod
    def _counts_by_class(y: np.ndarray, sources: np.ndarray) -> dict:
        if type_of_target(y) not in ("binary", "multiclass"):
            return {}
        counts = {label: 0 for label in pd.unique(y)}
        for label in y[sources]:
            counts[label] += 1
        return {getattr(k, "item", lambda k=k: k)(): v for k, v in counts.items()}

    def __getstate__(self) -> dict:
        """State with ``augmentations_`` as numpy columns, so skops can save it."""
        state = dict(super().__getstate__())  # BaseEstimator's is self.__dict__ itself
        recipes = state.get("augmentations_")
        if isinstance(recipes, pd.DataFrame):
            state["augmentations_"] = {col: recipes[col].to_numpy() for col in recipes.columns}
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        recipes = state.get("augmentations_")
        if isinstance(recipes, dict):
            state["augmentations_"] = pd.DataFrame(recipes, columns=list(recipes))
        super().__setstate__(state)

    def __sklearn_tags__(self):
        from imblearn.utils._tags import InputTags, SamplerTags, Tags
        from sklearn.utils import TargetTags

        tags = Tags(
            estimator_type="sampler",
            target_tags=TargetTags(required=True),
            transformer_tags=None,
            regressor_tags=None,
            classifier_tags=None,
            sampler_tags=SamplerTags(),
        )
        tags.input_tags = InputTags()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags
