"""The audio input contract shared by every skser transformer.

``X`` given to any skser audio transformer may be

* a sequence of paths (``str`` or :class:`os.PathLike`) to audio files in any
  format soundfile reads (WAV, FLAC, OGG/Vorbis, AIFF, MP3, ...);
* a sequence of 1-D arrays of samples (ragged lengths allowed), taken to be at
  the transformer's ``sr`` already;
* a 2-D array of shape ``(n_samples, n_audio_samples)``, one waveform a row;
* a :class:`pandas.Series` or a numpy object array of either kind.

:class:`skser.LoadAudio` is the same logic as a transformer.

Files are decoded, down-mixed to mono by averaging the channels, converted to
float32 in [-1, 1] and resampled to ``sr`` with the soxr "HQ" resampler.
Integer arrays are scaled to [-1, 1] by their type's full range. Every output
row matches one input row: nothing is ever dropped.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any, Union

import numpy as np
import soundfile as sf
import soxr

from .exceptions import AudioDecodeError, AudioInputError, AudioInputWarning

__all__ = [
    "load_audio",
    "AudioItem",
    "as_audio_items",
    "as_object_array",
    "prepare_waveform",
    "check_array_layout",
]

#: One input row: a path to decode or an array of samples.
AudioItem = Union[str, os.PathLike, np.ndarray]

_RESAMPLE_QUALITY = "HQ"


def _describe(row: int | None, path: str | os.PathLike | None = None) -> str:
    if path is not None and row is not None:
        return f"row {row} ({os.fspath(path)!r})"
    if path is not None:
        return repr(os.fspath(path))
    return f"row {row}"


def _to_float32(y: np.ndarray, where: str) -> np.ndarray:
    """Convert samples to float32, scaling integer types to [-1, 1]."""
    if y.dtype.kind == "f":
        return y.astype(np.float32, copy=False)
    if y.dtype.kind == "i":
        scale = float(2 ** (8 * y.dtype.itemsize - 1))
        return (y / scale).astype(np.float32)
    if y.dtype.kind == "u":
        half = float(2 ** (8 * y.dtype.itemsize - 1))
        return ((y - half) / half).astype(np.float32)
    if y.dtype.kind == "c":
        raise AudioInputError(
            f"Complex data not supported: audio at {where} has dtype {y.dtype}. Pass "
            "real-valued samples (e.g. np.real(y)), not a spectrum."
        )
    raise AudioInputError(
        f"Audio at {where} has dtype {y.dtype}; expected floating-point samples "
        "in [-1, 1] or integer PCM samples."
    )


def _check_samples(y: np.ndarray, where: str) -> np.ndarray:
    if y.size == 0:
        raise AudioInputError(
            f"Audio at {where} is empty (0 samples); remove it from X or replace "
            "it with a valid recording."
        )
    if not np.all(np.isfinite(y)):
        n_bad = int(np.count_nonzero(~np.isfinite(y)))
        raise AudioInputError(
            f"Audio at {where} contains {n_bad} NaN or infinite sample(s); clean "
            "the signal (e.g. np.nan_to_num) before passing it."
        )
    return y


def load_audio(path: str | os.PathLike, sr: int = 16000) -> np.ndarray:
    """Decode an audio file to a mono float32 waveform at ``sr``.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file in any format soundfile reads (WAV, FLAC, OGG, AIFF, MP3...).
    sr : int, default=16000
        Target sampling rate in Hz. The file is resampled with soxr ("HQ")
        when its own rate differs.

    Returns
    -------
    y : np.ndarray of shape (n_audio_samples,), dtype float32
        Mono samples in [-1, 1]; channels are averaged.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    skser.exceptions.AudioDecodeError
        If the file cannot be read (permissions) or decoded (corrupt, not
        audio, a Git LFS pointer).
    skser.exceptions.AudioInputError
        If ``path`` is a directory, or the decoded audio is empty or contains
        NaN or inf.
    """
    return _load_file(path, sr, row=None)


def _load_file(path: str | os.PathLike, sr: int, row: int | None) -> np.ndarray:
    where = _describe(row, path)
    _check_readable(path, where)
    try:
        y, file_sr = sf.read(path, dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, ...
        if _is_lfs_pointer(path):
            raise AudioDecodeError(
                f"Cannot decode audio file {where}: it is a Git LFS pointer (a small text "
                "file), not audio. Fetch the real files with `git lfs pull` in the clone."
            ) from exc
        raise AudioDecodeError(
            f"Cannot decode audio file {where}: {exc}. The file may be corrupt or "
            "in a format libsndfile does not read; convert it to WAV or FLAC."
        ) from exc
    y = y.mean(axis=1, dtype=np.float32) if y.shape[1] > 1 else y[:, 0]
    _check_samples(y, where)
    if file_sr != sr:
        y = soxr.resample(y, file_sr, sr, quality=_RESAMPLE_QUALITY).astype(
            np.float32, copy=False
        )
    return np.ascontiguousarray(y)


def _is_lfs_pointer(path: str | os.PathLike) -> bool:
    magic = b"version https://git-lfs"
    try:
        with open(path, "rb") as fh:
            return fh.read(len(magic)) == magic
    except OSError:
        return False


def _check_readable(path: str | os.PathLike, where: str) -> None:
    """Raise the documented error for a missing, directory or unreadable path."""
    if os.path.isdir(path):
        raise AudioInputError(
            f"Audio path {where} is a directory, not an audio file; pass the files "
            "inside it (e.g. sorted(Path(folder).glob('*.wav'))) or load the corpus "
            "with a skser.datasets loader."
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Audio file {where} does not exist; check the path (relative paths "
            f"are taken from the working directory {os.getcwd()!r})."
        )
    try:
        with open(path, "rb"):
            pass
    except PermissionError as exc:
        raise AudioDecodeError(
            f"Cannot read audio file {where}: permission denied. Give the user running "
            "Python read access (e.g. chmod a+r) or copy the file elsewhere."
        ) from exc


def prepare_waveform(item: AudioItem, sr: int, row: int | None = None) -> np.ndarray:
    """Turn one input row (path or samples) into a checked mono float32 waveform.

    Parameters
    ----------
    item : str, os.PathLike or array-like of shape (n_audio_samples,)
        A path is decoded and resampled to ``sr``; samples are taken to be at
        ``sr`` already.
    sr : int
        Sampling rate in Hz of the returned waveform.
    row : int or None, default=None
        Index of the row in ``X``, used in error messages.

    Returns
    -------
    y : np.ndarray of shape (n_audio_samples,), dtype float32
    """
    if isinstance(item, (str, os.PathLike)):
        return _load_file(item, sr, row)
    where = _describe(row)
    if item is None or (np.ndim(item) == 0 and _is_missing(item)):
        raise AudioInputError(
            f"Audio at {where} is missing ({item!r}); remove the row or fill in its "
            "path (e.g. X.dropna(), and the same rows of y)."
        )
    y = np.asarray(item)
    if y.ndim == 0:
        raise AudioInputError(
            f"Audio at {where} is a single value {item!r}, not a path or a waveform."
        )
    if y.dtype == object:
        raise AudioInputError(
            f"Audio at {where} is neither a path nor an array of numbers "
            f"(got {type(item).__name__})."
        )
    if y.ndim != 1:
        raise AudioInputError(
            f"Audio at {where} has shape {y.shape}; expected a 1-D mono waveform. "
            "Down-mix multi-channel audio first, e.g. y.mean(axis=0)."
        )
    y = _to_float32(y, where)
    return np.ascontiguousarray(_check_samples(y, where))


def _is_missing(value: Any) -> bool:
    try:
        return bool(value != value) or type(value).__name__ in ("NAType", "NaTType")
    except (TypeError, ValueError):
        return False


def as_audio_items(X: Any) -> list[AudioItem]:
    """Split ``X`` into one item per row (path or 1-D array), checking its kind.

    Parameters
    ----------
    X : sequence of paths, sequence of 1-D arrays, 2-D array or pandas Series
        See the module documentation for the contract.

    Returns
    -------
    items : list
        ``len(items)`` equals the number of rows of ``X``.
    """
    if isinstance(X, (str, bytes, os.PathLike)):
        raise AudioInputError(
            f"X is a single path {X!r}; pass a sequence of paths, e.g. [path]."
        )
    if hasattr(X, "tocsr") or hasattr(X, "sparse"):  # scipy / pandas sparse
        raise AudioInputError(
            "X is a sparse matrix; sparse input is not supported for audio. Pass "
            "dense waveforms (X.toarray()) or a sequence of paths."
        )
    if hasattr(X, "iloc"):  # pandas Series or one-column DataFrame
        if getattr(X, "ndim", 1) == 2:
            if X.shape[1] != 1:
                raise AudioInputError(
                    f"X is a DataFrame with {X.shape[1]} columns; pass the column "
                    "of paths or waveforms, e.g. X['path']."
                )
            X = X.iloc[:, 0]
        return _non_empty(list(X.to_list()))
    if not isinstance(X, (np.ndarray, list, tuple)) and hasattr(X, "__array__"):
        X = np.asarray(X)  # array-likes such as torch tensors or xarray
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 2:
        try:  # a 2-D object array of numbers is a 2-D array of waveforms
            X = X.astype(np.float64)
        except (TypeError, ValueError):
            return _bad_ndim(X)
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.dtype.kind in "US":
            return _non_empty([str(x) for x in X.ravel()]) if X.ndim == 1 else _bad_ndim(X)
        if X.ndim == 2:
            if X.shape[0] > 0 and X.shape[1] == 0:
                # scikit-learn's wording, so that its estimator checks recognise it.
                raise AudioInputError(
                    f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of "
                    "1 is required: each row of a 2-D array is one waveform and needs "
                    "at least one sample."
                )
            return _non_empty(list(X))
        if X.ndim == 1:
            raise AudioInputError(
                f"X is a 1-D numeric array of shape {X.shape}. Reshape your data: "
                "wrap a single waveform in a list ([y]) or use y.reshape(1, -1)."
            )
        return _bad_ndim(X)
    if isinstance(X, np.ndarray):
        if X.ndim != 1:
            return _bad_ndim(X)
        return _non_empty(list(X))
    if isinstance(X, Sequence) or hasattr(X, "__iter__"):
        items = list(X)
        if items and all(isinstance(v, (int, float, np.number)) for v in items[:8]):
            raise AudioInputError(
                "X is a flat sequence of numbers; a single waveform must be "
                "wrapped in a list ([y])."
            )
        return _non_empty(items)
    raise AudioInputError(
        f"X of type {type(X).__name__} is not audio input; pass a sequence of "
        "paths, a sequence of 1-D arrays or a 2-D array (n_samples, n_audio_samples)."
    )


def _non_empty(items: list) -> list:
    if not items:
        raise AudioInputError(
            "X has 0 rows of audio; pass at least one path or waveform (check the "
            "filter or glob that built X)."
        )
    return items


def _bad_ndim(X: np.ndarray) -> list:
    raise AudioInputError(
        f"X has shape {X.shape}; expected a sequence of paths, a sequence of 1-D "
        "waveforms or a 2-D array of shape (n_samples, n_audio_samples)."
    )


def as_object_array(arrays: list[np.ndarray]) -> np.ndarray:
    """Pack arrays into a 1-D object array, one entry each (never stacked)."""
    out = np.empty(len(arrays), dtype=object)
    for i, a in enumerate(arrays):
        out[i] = a
    return out



#: 2-D arrays with at most this many rows are checked for channels of one recording.
_MAX_CHANNELS = 8
#: Rows correlated at least this much look like channels of one recording.
_CHANNEL_CORRELATION = 0.9


def check_array_layout(
    X: Any, frame_samples: int, sr: int, owner: str, *, warn: bool = True
) -> None:
    """Catch a 2-D array that is one multi-channel recording, not a batch of waveforms.

    A 2-D array is read as ``(n_samples, n_audio_samples)``, one waveform a
    row. One stereo recording passed as is, ``(n, 2)`` or ``(2, n)``, would be
    read as ``n`` two-sample utterances or as two utterances.

    * ``(n, c)`` with ``c < frame_samples <= n`` (rows shorter than one
      analysis frame, while the columns are long enough to be audio) raises
      :class:`AudioInputError` naming the likely mistake.
    * ``(c, n)`` with ``2 <= c <= 8`` rows that all correlate with the first
      one (Pearson r >= 0.9 over the first 10 s) warns with
      :class:`AudioInputWarning`: they look like the channels of one recording.
      Two separate utterances are not correlated like this.

    Parameters
    ----------
    X : any
        The audio input; only numeric 2-D arrays are checked.
    frame_samples : int
        One analysis frame of the transformer, in samples at ``sr``.
    sr : int
        Sampling rate in Hz, for the message.
    owner : str
        Name of the transformer, for the message.
    warn : bool, default=True
        Whether to run the (channels, samples) check, which only warns.
    """
    if hasattr(X, "iloc") or isinstance(X, (list, tuple, str, bytes)):
        return
    shape = getattr(X, "shape", None)
    dtype = getattr(X, "dtype", None)
    if shape is None or len(shape) != 2 or dtype is None:
        return
    if not isinstance(dtype, np.dtype) or dtype.kind not in "iuf":
        return
    n_rows, n_cols = shape
    down_mix = "X.mean(axis={})" + (".astype(X.dtype)" if dtype.kind in "iu" else "")
    if 0 < n_cols < frame_samples <= n_rows:
        raise AudioInputError(
            f"{owner}: X is a 2-D array of shape {tuple(shape)}, read as {n_rows} waveforms "
            f"of {n_cols} sample(s) each, shorter than one analysis frame ({frame_samples} "
            f"samples = {1000 * frame_samples / sr:.0f} ms at {sr} Hz). It looks like one "
            f"recording laid out as (samples, channels): pass [{down_mix.format(1)}] to "
            "down-mix it to one mono waveform. If the rows really are separate waveforms, "
            "pass them as a list of 1-D arrays (short ones are zero-padded)."
        )
    if warn and 2 <= n_rows <= _MAX_CHANNELS and n_cols >= frame_samples:
        head = np.asarray(X[:, : 10 * sr], dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.corrcoef(head)[0, 1:]
        if np.all(np.nan_to_num(r, nan=0.0) >= _CHANNEL_CORRELATION):
            warnings.warn(
                f"{owner}: the {n_rows} rows of X (shape {tuple(shape)}) are read as "
                f"{n_rows} separate utterances, but they are nearly identical "
                f"(correlation >= {float(np.min(r)):.2f}), like the channels of one "
                f"recording laid out as (channels, samples). If so, pass "
                f"[{down_mix.format(0)}] to down-mix it to one mono waveform.",
                AudioInputWarning,
                stacklevel=3,
            )
