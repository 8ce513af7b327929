"""Content-addressed on-disk cache of per-utterance results.

An entry's key is a BLAKE2b hash of two parts:

* the **content** of the row: the bytes of the audio file (so that moving or
  renaming a file still finds its entry, and editing it does not), or the
  dtype, shape and bytes of an in-memory waveform;
* a **token** naming what was computed: the transformer's class, its
  ``get_params()`` without the execution settings (``n_jobs``, ``verbose``,
  ``memory``) as canonical JSON, and :data:`CACHE_FORMAT`.

Entries are ``.npz`` files (no pickles: reading one runs no code) under
``<location>/<key[:2]>/<key>.npz``. Each is written to a temporary file in the
same folder and moved into place with :func:`os.replace`, so a reader sees a
whole entry or none, even after a crash mid-write. An entry that cannot be
read back (e.g. a disk fault) is reported with a :class:`FeatureCacheWarning`
and computed again. Workers share nothing but the folder, so any number of
processes or Dask workers may fill one cache at once.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Memory

from ._atomic import atomic_path
from ._audio import _check_readable, _describe
from .exceptions import ParameterError

__all__ = [
    "CACHE_FORMAT",
    "MEMORY_CONSTRAINT",
    "FeatureCache",
    "FeatureCacheWarning",
    "as_feature_cache",
    "cache_token",
]

#: Version of the cached results. Bump it when a transformer's output changes
#: for the same parameters and input, so that old entries are no longer found.
CACHE_FORMAT = 1

#: Parameters that change how a result is computed, not what it is.
EXECUTION_PARAMS = frozenset({"n_jobs", "verbose", "memory"})

_BLOCK = 1 << 20  # bytes hashed at a time: a file is never read whole
_DIGEST_SIZE = 32
_SUFFIX = ".npz"
_TEMP_PREFIX = ".tmp-"
#: Stands for "no entry"; ``None`` could be a result.
MISSING = object()


class FeatureCacheWarning(UserWarning):
    """A cache entry could not be read back and is computed again."""


class FeatureCache:
    """Folder of per-utterance features keyed by content hash and parameters.

    Pass it (or a folder path, which means the same) as ``memory=`` of any
    skser feature transformer, or as the folder of
    :func:`skser.features.extract_to_disk`.

    Parameters
    ----------
    location : str or os.PathLike
        Folder of the cache; created on first write. Point every worker of a
        cluster at the same shared folder to let them reuse each other's
        entries.

    Notes
    -----
    See :mod:`skser._cache` for the key and the write protocol. Entries hold
    only numeric arrays, loaded with ``allow_pickle=False``.

    Examples
    --------
    >>> from skser import MFCC
    >>> from skser.features import FeatureCache
    >>> mfcc = MFCC(memory=FeatureCache("features-cache"))  # doctest: +SKIP
    """

    def __init__(self, location: str | os.PathLike) -> None:
        if not isinstance(location, (str, os.PathLike)):
            raise ParameterError(
                f"FeatureCache location must be a folder path (str or os.PathLike), got "
                f"{type(location).__name__}."
            )
        self.location = os.fspath(location)

    def __repr__(self) -> str:
        return f"FeatureCache({self.location!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FeatureCache) and other.location == self.location

    def __hash__(self) -> int:
        return hash((FeatureCache, self.location))

    # -- entries --------------------------------------------------------------------
    def entry_path(self, key: str) -> Path:
        """File of the entry ``key`` (it may not exist)."""
        return Path(self.location, key[:2], key + _SUFFIX)

    def __len__(self) -> int:
        """Number of complete entries."""
        root = Path(self.location)
        if not root.is_dir():
            return 0
        return sum(1 for p in root.glob(f"??/*{_SUFFIX}") if not p.name.startswith(_TEMP_PREFIX))

    def clear(self) -> None:
        """Delete the cache folder and everything in it (leftover temporary files too)."""
        shutil.rmtree(self.location, ignore_errors=True)

    def load(self, key: str) -> Any:
        """The result stored under ``key``, or :data:`MISSING`.

        An entry that exists but cannot be read in full (bad checksum,
        truncated) gives a :class:`FeatureCacheWarning` and :data:`MISSING`,
        so that the caller computes it again and overwrites it.
        """
        path = self.entry_path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except FileNotFoundError:
            return MISSING
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            warnings.warn(
                f"Feature cache entry {str(path)!r} cannot be read ({exc}); it is computed "
                "again and overwritten.",
                FeatureCacheWarning,
                stacklevel=2,
            )
            return MISSING
        return _unpack(arrays)

    def store(self, key: str, result: Any) -> None:
        """Write ``result`` under ``key`` atomically (temporary file + ``os.replace``).

        ``result`` is an array, a number, or a tuple of them.
        """
        path = self.entry_path(key)
        arrays = _pack(result)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, prefix=_TEMP_PREFIX, suffix=_SUFFIX) as temp, open(temp, "wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)

    def key(self, token: str, item: Any, row: int | None = None) -> str | None:
        """Entry key of one input row under ``token`` (see :func:`cache_token`).

        Returns None for a row that is neither a path nor a numeric array
        (the transformer then raises its documented error for it).

        Raises
        ------
        FileNotFoundError, skser.exceptions.AudioInputError, skser.exceptions.AudioDecodeError
            For a path that is missing, a directory or unreadable: the errors
            that decoding it would raise.
        """
        digest = content_digest(item, row)
        if digest is None:
            return None
        return _hash_text(f"{token}\n{digest}")

    def get_or_compute(
        self, func: Callable[[Any, int], Any], token: str, item: Any, row: int
    ) -> tuple[Any, str | None, bool]:
        """``func(item, row)`` read from the cache, or computed and stored.

        Returns
        -------
        result : object
            What ``func`` returns.
        key : str or None
            The entry's key (None when the row cannot be keyed).
        computed : bool
            False when the result came from the cache.
        """
        key = self.key(token, item, row)
        if key is None:
            return func(item, row), None, True
        result = self.load(key)
        if result is not MISSING:
            return result, key, False
        result = func(item, row)
        self.store(key, result)
        return result, key, True


#: ``_parameter_constraints`` entry of the transformers' ``memory`` parameter.
MEMORY_CONSTRAINT = [None, str, os.PathLike, FeatureCache, Memory]


def as_feature_cache(memory: Any) -> FeatureCache | None:
    """The :class:`FeatureCache` that a ``memory=`` parameter value stands for.

    ``None`` means no cache; a folder path or a :class:`joblib.Memory` (its
    ``location``) means a :class:`FeatureCache` in that folder.
    """
    if memory is None or isinstance(memory, FeatureCache):
        return memory
    if isinstance(memory, (str, os.PathLike)):
        return FeatureCache(memory)
    if isinstance(memory, Memory):
        return None if memory.location is None else FeatureCache(memory.location)
    raise ParameterError(
        f"memory must be None, a folder path, a skser FeatureCache or a joblib.Memory, "
        f"got {memory!r}."
    )


def cache_token(estimator: Any, extra: Any = None) -> str:
    """Hash naming what ``estimator`` computes: class, parameters, :data:`CACHE_FORMAT`.

    Execution settings (``n_jobs``, ``verbose``, ``memory``) are left out;
    ``extra`` (JSON-able, e.g. a model fingerprint) is added.
    """
    description = {
        "format": CACHE_FORMAT,
        "estimator": _describe_value(estimator),
        "extra": _describe_value(extra),
    }
    text = json.dumps(description, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return _hash_text(text)


def content_digest(item: Any, row: int | None = None) -> str | None:
    """Hash of one input row's content: a file's bytes, or an array's dtype, shape and bytes."""
    if isinstance(item, (str, os.PathLike)):
        _check_readable(item, _describe(row, item))
        hasher = hashlib.blake2b(b"file\n", digest_size=_DIGEST_SIZE)
        with open(item, "rb") as fh:
            while block := fh.read(_BLOCK):
                hasher.update(block)
        return hasher.hexdigest()
    try:
        y = np.asarray(item)
    except (TypeError, ValueError):
        return None
    if y.dtype == object or y.ndim == 0:
        return None
    y = np.ascontiguousarray(y)
    header = f"array\n{y.dtype.str}\n{y.shape}\n".encode()
    hasher = hashlib.blake2b(header, digest_size=_DIGEST_SIZE)
    hasher.update(y)
    return hasher.hexdigest()


def _hash_text(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=_DIGEST_SIZE).hexdigest()


def _describe_value(value: Any) -> Any:
    """JSON-able description of a parameter value that is equal for equal values."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)):
        return [_describe_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _describe_value(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return {"ndarray": content_digest(value)}
    if hasattr(value, "get_params") and not isinstance(value, type):
        params = {
            name: _describe_value(v)
            for name, v in value.get_params(deep=False).items()
            if name not in EXECUTION_PARAMS
        }
        cls = type(value)
        return {"class": f"{cls.__module__}.{cls.__qualname__}", "params": params}
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    return repr(value)


def _pack(result: Any) -> dict[str, np.ndarray]:
    """Arrays to save for ``result``: one array (``value``) or a tuple (``item0``...)."""
    if isinstance(result, tuple):
        return {f"item{i}": np.asarray(part) for i, part in enumerate(result)}
    return {"value": np.asarray(result)}


def _unpack(arrays: dict[str, np.ndarray]) -> Any:
    if "value" in arrays:
        return _scalar_or_array(arrays["value"])
    return tuple(_scalar_or_array(arrays[f"item{i}"]) for i in range(len(arrays)))


def _scalar_or_array(a: np.ndarray) -> Any:
    return a.item() if a.ndim == 0 else a
