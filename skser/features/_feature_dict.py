"""Several feature extractors on the same audio, returned as one named, row-indexable bundle."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import TransformerMixin, _fit_context, clone
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted

from .._audio import as_audio_items, as_object_array, prepare_waveform
from ..exceptions import InputError, ParameterError
from ._base import BaseAudioTransformer

__all__ = ["FeatureBundle", "FeatureDict"]

#: Rows decoded and held in memory at a time by ``FeatureDict.transform``.
_BLOCK_SIZE = 256


class FeatureBundle:
    """Named feature arrays with one row per utterance, indexable by rows like an array.

    ``bundle["mfcc"]`` is one feature array; ``bundle[rows]`` (an integer,
    slice, integer array or boolean mask) is a new bundle of those rows, so
    scikit-learn's splitters, :func:`~sklearn.model_selection.cross_validate`
    and :class:`~sklearn.model_selection.GridSearchCV` index it as they index
    an array. ``len(bundle)`` and ``bundle.shape[0]`` are the number of rows.

    Parameters
    ----------
    features : dict of str to np.ndarray
        Arrays with the same first dimension (rows).

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import FeatureBundle
    >>> b = FeatureBundle({"a": np.zeros((4, 3)), "b": np.ones((4, 5, 2))})
    >>> b[[0, 2]].shape, b["b"].shape
    ((2,), (4, 5, 2))
    """

    def __init__(self, features: dict[str, np.ndarray]):
        if not features:
            raise InputError("A FeatureBundle needs at least one named feature array.")
        arrays = {str(k): np.asarray(v) for k, v in features.items()}
        sizes = {k: (v.shape[0] if v.ndim else None) for k, v in arrays.items()}
        if len(set(sizes.values())) != 1 or None in sizes.values():
            raise InputError(f"The feature arrays of a FeatureBundle must have the same rows; got {sizes}.")
        self._features = arrays

    # -- mapping side ------------------------------------------------------------------
    def keys(self) -> list[str]:
        return list(self._features)

    def values(self) -> list[np.ndarray]:
        return list(self._features.values())

    def items(self) -> list[tuple[str, np.ndarray]]:
        return list(self._features.items())

    def to_dict(self) -> dict[str, np.ndarray]:
        """The named arrays (a shallow copy of the mapping)."""
        return dict(self._features)

    def __contains__(self, key: object) -> bool:
        return key in self._features

    # -- row side ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int]:
        """``(n_rows,)``: what scikit-learn's ``_num_samples`` reads."""
        return (len(self),)

    def __len__(self) -> int:
        return next(iter(self._features.values())).shape[0]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            if key not in self._features:
                raise KeyError(f"{key!r} is not a feature of this bundle; it has {self.keys()}.")
            return self._features[key]
        if isinstance(key, tuple):  # sklearn's _array_indexing asks for X[rows, ...]
            key = key[0]
        if isinstance(key, Integral):
            key = [int(key)]
        return FeatureBundle({k: v[key] for k, v in self._features.items()})

    def __iter__(self) -> Iterator[str]:
        return iter(self._features)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise InputError(
            f"A FeatureBundle of {self.keys()} is not one array: pass it to a model that "
            "takes named features (skser.models.FusionNet) or pick one, e.g. bundle['mfcc']."
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FeatureBundle) or other.keys() != self.keys():
            return NotImplemented
        return all(np.array_equal(v, other[k], equal_nan=v.dtype.kind == "f") for k, v in self.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}: {v.shape} {v.dtype}" for k, v in self.items())
        return f"FeatureBundle({len(self)} rows; {inner})"


def _stack_rows(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate row blocks, NaN-padding frame-level blocks (ndim >= 3) to the longest."""
    if len(parts) == 1:
        return parts[0]
    if parts[0].ndim >= 3 and len({p.shape[1] for p in parts}) > 1:
        n_max = max(p.shape[1] for p in parts)
        padded = []
        for p in parts:
            width = [(0, 0)] * p.ndim
            width[1] = (0, n_max - p.shape[1])
            padded.append(np.pad(p, width, constant_values=np.nan))
        parts = padded
    return np.concatenate(parts, axis=0)


class FeatureDict(TransformerMixin, _BaseComposition):
    """Run several feature extractors on the same audio; return a :class:`FeatureBundle`.

    ``FeatureDict(mfcc=MFCC(...), embedding=SpeechEncoder(...))`` decodes each
    file once per sampling rate that the audio transformers ask for (not once
    per transformer) and hands the decoded waveforms to each of them; other
    transformers get ``X`` as it is. The output keeps the features apart by
    name, so a model with several inputs (:class:`skser.models.FusionNet`)
    routes each to its branch, while cross-validation and grid search slice it
    by rows. Parameters of the named transformers are reached as in a
    :class:`~sklearn.pipeline.FeatureUnion`: ``set_params(mfcc__n_mfcc=13)``.

    Parameters
    ----------
    transformers : list of (str, transformer) or None, default=None
        The named transformers, in order (the keyword form below fills it).
    **named_transformers : transformer
        ``name=transformer`` pairs, appended after ``transformers``.

    Attributes
    ----------
    transformers_ : list of (str, transformer)
        The fitted transformers.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import MFCC, FeatureDict, LogMel
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    >>> fd = FeatureDict(mfcc=MFCC(n_mfcc=13), mel=LogMel(n_mels=32))
    >>> bundle = fd.fit_transform([y, y[:8000]])
    >>> bundle["mfcc"].shape, bundle["mel"].shape, bundle[[1]].shape
    ((2, 32, 13), (2, 32, 32), (1,))
    >>> fd.set_params(mfcc__n_mfcc=20).fit_transform([y])["mfcc"].shape
    (1, 32, 20)
    """

    _parameter_constraints: dict = {"transformers": [list, tuple, None]}

    def __init__(self, transformers: list | None = None, **named_transformers: Any):
        if named_transformers:
            transformers = [*(transformers or []), *named_transformers.items()]
        self.transformers = transformers

    # -- parameters (FeatureUnion style) -----------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        return self._get_params("transformers", deep=deep)

    def set_params(self, **params: Any) -> "FeatureDict":
        self._set_params("transformers", **params)
        return self

    def _named(self) -> list[tuple[str, Any]]:
        items = self.transformers
        if not isinstance(items, (list, tuple)) or not items:
            raise ParameterError(
                f"FeatureDict needs named transformers, e.g. FeatureDict(mfcc=MFCC(), "
                f"embedding=SpeechEncoder(...)); got transformers={items!r}."
            )
        for pair in items:
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
                raise ParameterError(
                    f"FeatureDict: transformers must be (name, transformer) pairs; got {pair!r}."
                )
            if not hasattr(pair[1], "transform"):
                raise ParameterError(f"FeatureDict: {pair[0]!r} is {pair[1]!r}, which has no transform method.")
        self._validate_names([name for name, _ in items])
        return list(items)

    # -- sklearn API ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any = None) -> "FeatureDict":
        """Fit each transformer (audio transformers are stateless: no audio is decoded for them).

        Parameters
        ----------
        X : audio input (see :mod:`skser._audio`)
        y : array-like of shape (n_samples,) or None

        Returns
        -------
        self
        """
        named = self._named()
        items = as_audio_items(X)
        decoded: dict[int, np.ndarray] = {}
        fitted = []
        for name, transformer in named:
            est = clone(transformer)
            if isinstance(est, BaseAudioTransformer) or "sr" not in est.get_params(deep=False):
                est.fit(X, y)
            else:
                sr = est.get_params(deep=False)["sr"]
                if sr not in decoded:
                    decoded[sr] = _decode(items, sr, 0)
                est.fit(decoded[sr], y)
            fitted.append((name, est))
        self.transformers_ = fitted
        return self

    def transform(self, X: Any) -> FeatureBundle:
        """Features of every row, by name.

        Parameters
        ----------
        X : audio input (see :mod:`skser._audio`)

        Returns
        -------
        bundle : FeatureBundle
            One array per transformer name, each with ``len(X)`` rows.
        """
        check_is_fitted(self, "transformers_")
        items = as_audio_items(X)
        if not items:
            raise InputError("FeatureDict.transform got 0 rows of audio.")
        parts: dict[str, list[np.ndarray]] = {name: [] for name, _ in self.transformers_}
        for start in range(0, len(items), _BLOCK_SIZE):
            block = items[start : start + _BLOCK_SIZE]
            decoded: dict[int, np.ndarray] = {}
            for name, est in self.transformers_:
                sr = est.get_params(deep=False).get("sr")
                if isinstance(sr, Integral):
                    if sr not in decoded:
                        decoded[sr] = _decode(block, sr, start)
                    parts[name].append(np.asarray(est.transform(decoded[sr])))
                else:
                    parts[name].append(np.asarray(est.transform(_rows(X, start, len(block)))))
        return FeatureBundle({name: _stack_rows(p) for name, p in parts.items()})

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> FeatureBundle:
        return self.fit(X, y).transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags


def _decode(items: list, sr: int, offset: int) -> np.ndarray:
    """Waveforms of ``items`` at ``sr`` as a 1-D object array (row numbers start at ``offset``)."""
    return as_object_array([prepare_waveform(item, sr, offset + i) for i, item in enumerate(items)])


def _rows(X: Any, start: int, n: int) -> Any:
    if start == 0 and n == len(X):
        return X
    if hasattr(X, "iloc"):
        return X.iloc[start : start + n]
    return X[start : start + n]
