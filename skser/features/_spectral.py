"""Shared short-time spectral analysis: framing, STFT, mel filterbanks, log.

One implementation of the (log-)mel spectrogram serves :class:`LogMel`,
:class:`MFCC` and :class:`LowLevel`. The STFT reproduces :func:`librosa.stft`
in float32; mel filters (Slaney and HTK) and the dB conversion are librosa's;
the TensorFlow-style mel matrix needed by the Light-SERNet preset is written
here because librosa has no equivalent. Windows and filterbanks are cached per
parameter set (they do not depend on the audio).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from functools import lru_cache
from numbers import Integral, Real

import librosa
import numpy as np
import scipy.fft
import scipy.sparse
from sklearn.utils._param_validation import Interval, StrOptions

from ..exceptions import InputError, ParameterError

__all__ = [
    "STFT_PARAMETER_CONSTRAINTS",
    "MEL_PARAMETER_CONSTRAINTS",
    "n_frames_of",
    "n_samples_for_frames",
    "stft_magnitude",
    "mel_filterbank",
    "tf_mel_weight_matrix",
    "log_compress",
    "check_mel_params",
]

STFT_PARAMETER_CONSTRAINTS: dict = {
    "n_fft": [Interval(Integral, 2, None, closed="left")],
    "hop_length": [Interval(Integral, 1, None, closed="left")],
    "win_length": [Interval(Integral, 1, None, closed="left"), None],
    "window": [str, tuple, callable],
    "center": ["boolean"],
    "pad_mode": [StrOptions({"constant", "edge", "reflect", "symmetric"})],
}

MEL_PARAMETER_CONSTRAINTS: dict = {
    **STFT_PARAMETER_CONSTRAINTS,
    "n_mels": [Interval(Integral, 1, None, closed="left")],
    "fmin": [Interval(Real, 0, None, closed="left")],
    "fmax": [Interval(Real, 0, None, closed="neither"), None],
    "power": [Interval(Real, 0, None, closed="neither")],
    "mel_scale": [StrOptions({"slaney", "htk", "tf"})],
    "mel_norm": [StrOptions({"slaney"}), None],
    "log": [StrOptions({"db", "natural"}), None],
    "top_db": [Interval(Real, 0, None, closed="left"), None],
    "amin": [Interval(Real, 0, None, closed="neither")],
    "log_offset": [Interval(Real, 0, None, closed="neither")],
    "preemphasis": [Interval(Real, 0, 1, closed="both"), None],
}


def n_frames_of(n_samples: int, n_fft: int, hop_length: int, center: bool) -> int:
    """Number of STFT frames of a signal of ``n_samples`` samples (librosa framing)."""
    if center:
        return 1 + n_samples // hop_length
    return 1 + (n_samples - n_fft) // hop_length


def n_samples_for_frames(n_frames: int, n_fft: int, hop_length: int, center: bool) -> int:
    """Shortest signal length (>= 1 sample) giving ``n_frames`` frames."""
    if center:
        return (n_frames - 1) * hop_length + 1
    return n_fft + (n_frames - 1) * hop_length


def stft_magnitude(
    y: np.ndarray,
    *,
    n_fft: int,
    hop_length: int,
    win_length: int | None,
    window,
    center: bool,
    pad_mode: str,
) -> np.ndarray:
    """Magnitude STFT of a float32 waveform, shape (1 + n_fft // 2, n_frames), float32.

    The frames and window of :func:`librosa.stft` (same numbers within float32
    precision), computed in float32 with :func:`scipy.fft.rfft` over the
    contiguous frame axis, in blocks of ``librosa.util.MAX_MEM_BLOCK`` bytes of
    samples that stay in the CPU cache. Centring pads ``n_fft // 2`` samples on
    both sides with ``pad_mode`` (librosa's ``center=True``), also for signals
    shorter than ``n_fft``.
    """
    y = np.asarray(y, dtype=np.float32)
    if center:
        y = np.pad(y, n_fft // 2, mode=pad_mode)
    if y.shape[0] < n_fft:
        raise InputError(
            f"n_fft={n_fft} is too large for uncentred analysis of a signal of "
            f"{y.shape[0]} samples."
        )
    window = _stft_window(window, n_fft if win_length is None else win_length, n_fft)
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop_length]
    magnitude = np.empty((1 + n_fft // 2, frames.shape[0]), dtype=np.float32)
    block = max(1, librosa.util.MAX_MEM_BLOCK // (n_fft * frames.itemsize))
    for start in range(0, frames.shape[0], block):
        stop = start + block
        spectrum = scipy.fft.rfft(frames[start:stop] * window, axis=1)
        np.abs(spectrum, out=magnitude[:, start:stop].T)
    return magnitude


@lru_cache(maxsize=32)
def _stft_window(window, win_length: int, n_fft: int) -> np.ndarray:
    """:func:`librosa.stft`'s window: periodic, centred in ``n_fft``, as float32."""
    weights = librosa.filters.get_window(window, win_length, fftbins=True)
    weights = librosa.util.pad_center(weights, size=n_fft).astype(np.float32)
    weights.flags.writeable = False
    return weights


@lru_cache(maxsize=32)
def tf_mel_weight_matrix(
    n_mels: int, n_fft: int, sr: float, fmin: float, fmax: float
) -> np.ndarray:
    """Mel weight matrix as TensorFlow's ``tf.signal.linear_to_mel_weight_matrix``.

    HTK mel formula ``mel(f) = 1127 ln(1 + f / 700)``; triangles whose edges are
    linear in the **mel** domain, evaluated at the centre frequency of each
    of the ``1 + n_fft // 2`` STFT bins (``linspace(0, sr / 2)``); peak 1, no
    area normalisation; the DC bin gets weight 0 (HTK convention).

    Parameters
    ----------
    n_mels : int
        Number of mel bands.
    n_fft : int
        FFT length; the spectrum has ``1 + n_fft // 2`` bins.
    sr : float
        Sampling rate in Hz.
    fmin, fmax : float
        Lower and upper band edges in Hz.

    Returns
    -------
    weights : np.ndarray of shape (n_mels, 1 + n_fft // 2), float32, read-only
        Same orientation as :func:`librosa.filters.mel` (TensorFlow returns
        the transpose).
    """
    n_bins = 1 + n_fft // 2
    freqs = np.linspace(0.0, sr / 2.0, n_bins)[1:]
    bin_mel = 1127.0 * np.log1p(freqs / 700.0)[:, None]
    edges = np.linspace(
        1127.0 * np.log1p(fmin / 700.0), 1127.0 * np.log1p(fmax / 700.0), n_mels + 2
    )
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mel - lower) / (centre - lower)
    falling = (upper - bin_mel) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights = np.concatenate([np.zeros((1, n_mels)), weights]).T.astype(np.float32)
    weights.flags.writeable = False
    return weights


@lru_cache(maxsize=32)
def mel_filterbank(
    *,
    sr: float,
    n_fft: int,
    n_mels: int,
    fmin: float,
    fmax: float | None,
    mel_scale: str,
    mel_norm: str | None,
) -> scipy.sparse.csr_array:
    """Cached mel filterbank of shape (n_mels, 1 + n_fft // 2), float32, sparse.

    ``mel_scale="slaney"`` / ``"htk"`` are :func:`librosa.filters.mel` with
    ``htk=False`` / ``True`` (triangles in Hz, ``norm=mel_norm``);
    ``mel_scale="tf"`` is :func:`tf_mel_weight_matrix` (no normalisation).
    Every STFT bin lies in at most two bands: in CSR form, the product with a
    C-ordered spectrogram costs a tenth of the dense one. Read-only.
    """
    fmax = sr / 2.0 if fmax is None else float(fmax)
    if mel_scale == "tf":
        weights = tf_mel_weight_matrix(int(n_mels), int(n_fft), float(sr), float(fmin), fmax)
    else:
        weights = librosa.filters.mel(
            sr=float(sr), n_fft=int(n_fft), n_mels=int(n_mels), fmin=float(fmin),
            fmax=fmax, htk=mel_scale == "htk", norm=mel_norm, dtype=np.float32,
        )
    weights = scipy.sparse.csr_array(weights)
    for part in (weights.data, weights.indices, weights.indptr):
        part.flags.writeable = False
    return weights


def check_mel_params(est) -> None:
    """Cross-parameter checks of the mel analysis shared by LogMel and MFCC."""
    name = type(est).__name__
    nyquist = est.sr / 2.0
    fmax = nyquist if est.fmax is None else est.fmax
    if fmax > nyquist:
        raise ParameterError(
            f"{name}: fmax={est.fmax!r} Hz is above the Nyquist frequency "
            f"{nyquist} Hz of sr={est.sr}; lower fmax or raise sr."
        )
    if est.fmin >= fmax:
        raise ParameterError(
            f"{name}: fmin={est.fmin!r} Hz must be below fmax={fmax!r} Hz."
        )
    if est.mel_scale == "tf" and est.mel_norm is not None:
        raise ParameterError(
            f"{name}: mel_scale='tf' builds TensorFlow's unnormalised triangles; "
            f"set mel_norm=None (got {est.mel_norm!r})."
        )
    if est.win_length is not None and est.win_length > est.n_fft:
        raise ParameterError(
            f"{name}: win_length={est.win_length} must not exceed n_fft={est.n_fft}."
        )


def log_compress(
    mel: np.ndarray, *, log: str | None, top_db: float | None, amin: float, log_offset: float
) -> np.ndarray:
    """Log compression of a mel spectrogram.

    ``"db"``: ``librosa.power_to_db(mel, ref=1.0, amin=amin, top_db=top_db)``
    (``10 log10``; the ``top_db`` floor is relative to the utterance's peak);
    ``"natural"``: ``log(mel + log_offset)``; ``None``: unchanged.
    """
    if log == "db":
        return librosa.power_to_db(mel, ref=1.0, amin=amin, top_db=top_db)
    if log == "natural":
        return np.log(mel + np.float32(log_offset))
    return mel

