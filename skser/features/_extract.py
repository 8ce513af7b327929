"""Feature extraction of a whole corpus to disk, in bounded memory, resumable.

:func:`extract_to_disk` writes each row's features into a
:class:`~skser.features.FeatureCache` and returns a
:class:`CachedFeatures` index that reads them back on demand. Neither the
call nor the index holds the corpus's features: the parent process keeps one
key (a short string) per row, and each worker holds one file at a time.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._audio import as_audio_items
from .._cache import MISSING, FeatureCache, as_feature_cache
from .._parallel import map_rows
from ..exceptions import AudioInputError, ParameterError

__all__ = ["CachedFeatures", "extract_to_disk"]


def extract_to_disk(
    transformer: Any,
    X: Any,
    directory: str | os.PathLike | FeatureCache,
    *,
    n_jobs: int | None = None,
    chunk_size: int = 32,
    verbose: bool | int = False,
) -> CachedFeatures:
    """Compute the features of every row of ``X`` into an on-disk cache.

    Rows whose entry is already in ``directory`` (same content, same
    parameters) are read back and checked, not computed: running the call
    again after an interruption resumes where it stopped. Each entry is
    written atomically by the worker that computed it, so workers share
    nothing but the folder; with ``joblib.parallel_backend("dask")`` they may
    run on several machines that see the same folder (and the same paths).

    Parameters
    ----------
    transformer : skser audio transformer
        E.g. ``MFCC(deltas=2)``, ``LogMel()``, ``Prosody()``,
        ``SpeechEncoder(...)``. Its ``n_jobs``, ``verbose`` and ``memory``
        are not used.
    X : sequence of paths, sequence of 1-D arrays, 2-D array or pandas Series
        Audio input (see :mod:`skser._audio`). Paths are the cheap choice:
        only they travel to the workers.
    directory : str, os.PathLike or FeatureCache
        Cache folder; created if needed.
    n_jobs : int or None, default=None
        joblib workers; ``None`` means 1 unless in a ``joblib.parallel_config``
        or ``parallel_backend`` context (e.g. Dask), ``-1`` all cores.
    chunk_size : int, default=32
        Rows given to one worker task, processed one after the other. Larger
        chunks cost less scheduling (useful on Dask with 100 000 files);
        memory does not depend on it.
    verbose : bool or int, default=False
        Progress bar, one step a chunk.

    Returns
    -------
    features : CachedFeatures
        Index of the entries, in the order of ``X``; reads them on demand.
        ``features.n_computed`` rows were computed by this call, the others
        read back from the cache.

    Raises
    ------
    FileNotFoundError, skser.exceptions.AudioDecodeError, skser.exceptions.AudioInputError
        As ``transformer.transform`` raises them, naming the row and file.
        The entries finished before the error stay in the cache, so a second
        call after fixing the file computes only the rest.
    skser.exceptions.ParameterError
        For an invalid ``chunk_size``, ``directory`` or transformer.

    Examples
    --------
    >>> from skser import MFCC
    >>> from skser.features import extract_to_disk
    >>> feats = extract_to_disk(MFCC(deltas=2), paths, "cache/", n_jobs=-1)  # doctest: +SKIP
    >>> for X in feats.iter_chunks(256):  # (256, n_frames, 120) at a time  # doctest: +SKIP
    ...     ...
    """
    if not hasattr(transformer, "_row_task"):
        raise ParameterError(
            f"extract_to_disk needs a skser audio transformer (MFCC, LogMel, LowLevel, "
            f"Prosody, SpeechEncoder...), got {type(transformer).__name__}."
        )
    if not isinstance(chunk_size, Integral) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ParameterError(f"chunk_size must be an integer >= 1, got {chunk_size!r}.")
    cache = as_feature_cache(directory)
    if cache is None:
        raise ParameterError("directory must be a folder path or a FeatureCache, got None.")
    items = as_audio_items(X)
    if not items:
        raise AudioInputError("extract_to_disk got 0 rows of audio.")
    worker = clone(transformer).set_params(memory=cache)
    worker.fit(items[:1])  # validates the parameters (files are not decoded)
    func, token = worker._row_task()
    chunks = [
        list(enumerate(items[start : start + chunk_size], start=start))
        for start in range(0, len(items), chunk_size)
    ]
    done = map_rows(
        partial(_extract_chunk, func, cache, token, worker._row_samples),
        chunks,
        n_jobs=n_jobs,
        verbose=verbose,
        desc=f"{type(transformer).__name__} to disk",
        unit="chunk",
    )
    keys = [key for chunk in done for key, _, _ in chunk]
    computed = np.array([flag for chunk in done for _, flag, _ in chunk], dtype=bool)
    lengths = [n for chunk in done for _, _, n in chunk]
    if hasattr(worker, "_check_lengths") and None not in lengths:
        worker._check_lengths(np.asarray(lengths, dtype=np.int64))
    sources = [os.fspath(it) if isinstance(it, (str, os.PathLike)) else None for it in items]
    worker.set_params(memory=None)
    return CachedFeatures(cache, worker, keys, sources, computed)


def _extract_chunk(
    func: Callable[[Any, int], Any],
    cache: FeatureCache,
    token: str,
    row_samples: Callable[[Any], int | None],
    chunk: list[tuple[int, Any]],
    _chunk_index: int,
) -> list[tuple[str, bool, int | None]]:
    """Compute (or check) the entries of one chunk; return only their keys.

    Runs in the worker: it hashes, computes and writes, one row at a time.
    """
    out = []
    for row, item in chunk:
        result, key, computed = cache.get_or_compute(func, token, item, row)
        if key is None:  # a valid row always has a key; func raises for the others
            raise AudioInputError(f"Row {row} of X cannot be cached: it is not audio.")
        out.append((key, computed, row_samples(result)))
    return out


class CachedFeatures(Sequence):
    """Per-row features stored on disk by :func:`extract_to_disk`, read on demand.

    A sequence with one item per input row: ``features[i]`` loads row ``i``
    (e.g. an ``(n_frames_i, n_features)`` array for frame transformers).
    Picklable (it holds keys, not features), so it can be sent to workers.

    Attributes
    ----------
    cache : FeatureCache
        Where the entries are.
    keys : list of str
        Entry key of each row.
    sources : list of str or None
        Each row's path, or None for an in-memory waveform.
    computed : np.ndarray of shape (n_rows,), dtype bool
        Whether the call computed the row (False: found in the cache).
    n_computed : int
        Number of rows computed by the call.
    """

    def __init__(
        self,
        cache: FeatureCache,
        transformer: Any,
        keys: list[str],
        sources: list[str | None],
        computed: np.ndarray,
    ) -> None:
        self.cache = cache
        self.transformer = transformer
        self.keys = keys
        self.sources = sources
        self.computed = computed

    @property
    def n_computed(self) -> int:
        return int(self.computed.sum())

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        return (
            f"CachedFeatures({len(self)} rows of {type(self.transformer).__name__} in "
            f"{self.cache.location!r}, {self.n_computed} computed by this call)"
        )

    def __getitem__(self, row: Any) -> Any:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        key = self.keys[row]
        result = self.cache.load(key)
        if result is MISSING:
            where = self.sources[row] or f"row {row}"
            raise FileNotFoundError(
                f"The cache entry of {where} ({self.cache.entry_path(key)}) is gone or "
                "unreadable; run extract_to_disk again to recompute it."
            )
        return self.transformer._row_features(result)

    def to_array(self, rows: Sequence[int] | None = None) -> np.ndarray:
        """The rows as ``transformer.transform`` returns them (all rows by default).

        Parameters
        ----------
        rows : sequence of int or None, default=None
            Rows to load, in this order.

        Returns
        -------
        X : np.ndarray
            The transformer's output layout, e.g. NaN-padded
            ``(len(rows), n_frames, n_features)`` for frame transformers.
        """
        rows = range(len(self)) if rows is None else rows
        return self.transformer._assemble([self[int(i)] for i in rows])

    def iter_chunks(self, chunk_size: int = 256) -> Iterator[np.ndarray]:
        """Yield :meth:`to_array` of consecutive blocks of ``chunk_size`` rows.

        Only one block is in memory at a time, e.g. to pool frame features
        with :class:`~skser.features.Functionals` block by block.
        """
        if not isinstance(chunk_size, Integral) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise ParameterError(f"chunk_size must be an integer >= 1, got {chunk_size!r}.")
        for start in range(0, len(self), chunk_size):
            yield self.to_array(range(start, min(start + chunk_size, len(self))))

    def to_frame(self) -> pd.DataFrame:
        """Index table: one row per input row with ``source``, ``key``, ``entry``, ``computed``."""
        return pd.DataFrame(
            {
                "source": pd.Series(self.sources, dtype=object),
                "key": self.keys,
                "entry": [str(self.cache.entry_path(k)) for k in self.keys],
                "computed": self.computed,
            }
        )
