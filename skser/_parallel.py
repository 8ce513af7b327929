"""Row-wise parallel map with an optional on-disk cache and a progress bar."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from joblib import Parallel, delayed, effective_n_jobs

from ._cache import FeatureCache, as_feature_cache

__all__ = ["map_rows"]


def _cached_call(
    func: Callable[[Any, int], Any], cache: FeatureCache, token: str, item: Any, row: int
) -> Any:
    """``func(item, row)`` through ``cache``; runs in the worker, which hashes and writes."""
    return cache.get_or_compute(func, token, item, row)[0]


def map_rows(
    func: Callable[[Any, int], Any],
    items: Sequence[Any],
    *,
    n_jobs: int | None = None,
    verbose: bool | int = False,
    memory: Any = None,
    cache_token: str | None = None,
    desc: str | None = None,
    unit: str = "file",
) -> list[Any]:
    """Apply ``func(item, row)`` to every item, in order, one result each.

    Parameters
    ----------
    func : callable
        Picklable function of ``(item, row)``.
    items : sequence
        The rows to process.
    n_jobs : int or None, default=None
        Number of joblib workers; ``None`` means 1 unless in a
        ``joblib.parallel_config`` context, ``-1`` all cores. With one
        effective worker or one item, the items are processed in this process.
    verbose : bool or int, default=False
        Show a tqdm progress bar.
    memory : str, os.PathLike, FeatureCache, joblib.Memory or None, default=None
        On-disk cache of the results (see :func:`skser._cache.as_feature_cache`);
        ``None`` disables caching. Each result is stored under the hash of
        ``cache_token`` and the item's content (a file's bytes, an array's
        samples).
    cache_token : str or None, default=None
        What ``func`` computes (:func:`skser._cache.cache_token`); required
        with ``memory``.
    desc : str or None, default=None
        Label of the progress bar.
    unit : str, default="file"
        What one item is, for the progress bar.

    Returns
    -------
    results : list
        ``len(results) == len(items)``, in input order.
    """
    cache = as_feature_cache(memory)
    if cache is not None:
        if cache_token is None:
            raise TypeError("map_rows: memory needs the cache_token of func.")
        func = partial(_cached_call, func, cache, cache_token)
    tasks = ((item, row) for row, item in enumerate(items))
    if effective_n_jobs(n_jobs) > 1 and len(items) > 1:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator")
        results = parallel(delayed(func)(*task) for task in tasks)
    else:
        # In process: joblib's dispatch costs more than a short utterance's features.
        results = (func(*task) for task in tasks)
    if verbose:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(items), desc=desc, unit=unit)
    return list(results)
