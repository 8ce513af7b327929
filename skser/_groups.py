"""The one check of ``groups`` (the speaker of every row) that skser's speaker-aware code shares."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import Any

import numpy as np

from .exceptions import InputError

__all__ = ["check_speakers"]


def check_speakers(groups: Any, n_samples: int | None, where: str) -> np.ndarray:
    """``groups`` as a 1-D array holding one speaker id per row of ``X``.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        Speaker of each row (not None: callers say what a missing ``groups`` means).
    n_samples : int or None
        Rows of ``X``; None skips the length check.
    where : str
        The caller, named at the start of the error message
        (e.g. ``"SpeakerNormalizer.fit"``).

    Returns
    -------
    groups : np.ndarray of shape (n_samples,)
        Integer and float ids as they are; any other ids (strings, mixed) as an
        object array, so that they compare as the Python values they are.

    Raises
    ------
    InputError
        When ``groups`` is not 1-D, its length is not ``n_samples``, or a row
        has no speaker (None, NaN, ``pd.NA``), naming the first such rows.
    """
    groups = np.asarray(groups)
    if groups.ndim != 1 or (n_samples is not None and groups.shape[0] != n_samples):
        rows = "" if n_samples is None else f" ({n_samples})"
        raise InputError(
            f"{where}: groups must hold one speaker per row of X{rows}; got shape {groups.shape}."
        )
    if groups.dtype.kind in "biu":
        return groups
    if groups.dtype.kind == "f":
        missing = np.flatnonzero(np.isnan(groups))
    else:
        import pandas as pd

        groups = groups.astype(object)
        missing = np.flatnonzero(pd.isna(groups))
    if missing.size:
        raise InputError(
            f"{where}: groups has no speaker (None or NaN) at rows {missing[:5].tolist()}; "
            "give every row a speaker id."
        )
    return groups
