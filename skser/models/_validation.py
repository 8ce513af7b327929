"""Input checks of the neural classifiers: frame-level arrays, padding lengths, labels, device.

Memory rule: a 3-D float32 ndarray (memmaps and read-only arrays included) is
never copied; the checks scan it in blocks of about ``_BLOCK_ELEMENTS``
values, so their temporaries stay bounded whatever the input size.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_array

from ..exceptions import InputError, ParameterError
from ..features._base import frame_mask

__all__ = ["check_frames", "missing_label_rows", "padding_lengths", "resolve_device"]

#: Values scanned at a time by :func:`padding_lengths` (1 MiB of float32).
_BLOCK_ELEMENTS = 1 << 18


def check_frames(X: Any, estimator_name: str) -> np.ndarray:
    """Frame-level input as a 3-D float32 array, without a copy when it already is one.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_frames, n_features) or (n_samples, n_frames)
        NaN-padded frame-level features; 2-D input is one feature per frame.
    estimator_name : str
        Named in the error message.

    Returns
    -------
    X : np.ndarray of shape (n_samples, n_frames, n_features), float32
        The input itself (a plain-ndarray view of it for memmaps) when it is
        a non-empty 3-D float32 ndarray; otherwise one converted copy.
    """
    # A non-empty float32 3-D ndarray (what the skser front ends return) needs no
    # conversion: skip check_array (~0.4 ms per call, a sixth of a one-utterance
    # TIMNet forward, and a full-size isinf temporary); padding_lengths checks the values.
    if isinstance(X, np.ndarray) and X.dtype == np.float32 and X.ndim == 3 and X.size:
        return np.asarray(X)
    X = check_array(
        X,
        dtype=np.float32,
        allow_nd=True,
        ensure_all_finite="allow-nan",
        ensure_min_features=1,
    )
    if X.ndim == 2:
        X = X[:, :, None]
    if X.ndim != 3:
        raise InputError(
            f"{estimator_name} expects frame-level features of shape "
            f"(n_samples, n_frames, n_features) (or (n_samples, n_frames) for one "
            f"feature); got an array of shape {X.shape}."
        )
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


def missing_label_rows(y: np.ndarray) -> np.ndarray:
    """Indices of labels that are None, NaN, NaT or ``pd.NA``."""
    import pandas as pd

    return np.flatnonzero(pd.isna(y))


def resolve_device(device: str) -> str:
    """The torch device string for the ``device`` parameter (``"auto"``: CUDA when present)."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError(
            f"device={device!r} was asked for but CUDA is not available on this machine; "
            "use device='auto' (CUDA when present, else CPU) or device='cpu'."
        )
    try:
        torch.device(device)
    except RuntimeError as exc:
        raise ParameterError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    return device
