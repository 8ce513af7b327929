"""Waveform transforms used for data augmentation (one utterance at a time).

Every function takes a mono float32 waveform and returns a new float32 array;
the input is never modified in place.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import soxr
from sklearn.utils import check_random_state

from ..exceptions import AudioInputError, ParameterError

__all__ = ["add_noise", "time_shift", "speed_perturb", "pitch_shift"]

_RESAMPLE_QUALITY = "HQ"


def _as_waveform(y: Any) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise AudioInputError(f"Expected a 1-D mono waveform; got an array of shape {y.shape}.")
    return y


def add_noise(y: np.ndarray, snr_db: float, *, random_state: Any = None) -> np.ndarray:
    """Add white Gaussian noise at an exact signal-to-noise ratio.

    The noise is scaled so that ``10 * log10(mean(y**2) / mean(noise**2))``
    equals ``snr_db`` exactly for the drawn noise. A silent waveform (all
    zeros) has no defined SNR and is returned unchanged (as a copy). The result
    is not clipped, so it may leave [-1, 1] at low SNR.

    Parameters
    ----------
    y : array-like of shape (n_audio_samples,)
        Mono waveform.
    snr_db : float
        Signal-to-noise ratio in dB (lower means noisier).
    random_state : int, RandomState instance, numpy Generator or None, default=None
        Source of the noise samples.

    Returns
    -------
    y_noisy : np.ndarray of shape (n_audio_samples,), dtype float32
    """
    y = _as_waveform(y)
    if not np.isfinite(snr_db):
        raise ParameterError(f"snr_db must be a finite number of dB; got {snr_db!r}.")
    signal_power = float(np.mean(np.square(y, dtype=np.float64)))
    if signal_power == 0.0:
        return y.copy()
    if isinstance(random_state, np.random.Generator):
        noise = random_state.standard_normal(y.shape[0])
    else:
        noise = check_random_state(random_state).standard_normal(y.shape[0])
    noise_power = float(np.mean(np.square(noise)))
    if noise_power == 0.0:  # a single sample drawn as exactly 0
        return y.copy()
    target_power = signal_power / 10.0 ** (snr_db / 10.0)
    noise *= np.sqrt(target_power / noise_power)
    return (y + noise).astype(np.float32)


def time_shift(y: np.ndarray, shift: int, *, mode: str = "zeros") -> np.ndarray:
    """Shift a waveform in time by a whole number of samples, keeping its length.

    Parameters
    ----------
    y : array-like of shape (n_audio_samples,)
        Mono waveform.
    shift : int
        Shift in samples; positive delays the signal (content moves later),
        negative advances it.
    mode : {"zeros", "circular"}, default="zeros"
        ``"zeros"``: samples shifted past an end are dropped and the gap at the
        other end is filled with silence. ``"circular"``: samples shifted past
        an end wrap around to the other end (``np.roll``).

    Returns
    -------
    y_shifted : np.ndarray of shape (n_audio_samples,), dtype float32
    """
    y = _as_waveform(y)
    shift = int(shift)
    if mode == "circular":
        return np.roll(y, shift)
    if mode != "zeros":
        raise ParameterError(f"mode must be 'zeros' or 'circular'; got {mode!r}.")
    out = np.zeros_like(y)
    n = y.shape[0]
    if abs(shift) >= n:
        return out
    if shift > 0:
        out[shift:] = y[: n - shift]
    elif shift < 0:
        out[:shift] = y[-shift:]
    else:
        out[:] = y
    return out


def speed_perturb(y: np.ndarray, factor: float) -> np.ndarray:
    """Play a waveform ``factor`` times faster, by resampling (tempo and pitch change).

    This is the speed perturbation of Ko et al. (Interspeech 2015) used by
    Kaldi: the signal is treated as if recorded at ``factor * sr`` and
    resampled to ``sr`` with soxr ("HQ"), so the duration is divided by
    ``factor`` and every frequency is multiplied by ``factor``.

    Parameters
    ----------
    y : array-like of shape (n_audio_samples,)
        Mono waveform.
    factor : float
        Speed factor, > 0; ``1.1`` is 10 % faster (shorter, higher).

    Returns
    -------
    y_fast : np.ndarray of shape (round(n_audio_samples / factor),), dtype float32
    """
    y = _as_waveform(y)
    if not (np.isfinite(factor) and factor > 0):
        raise ParameterError(f"factor must be a positive number; got {factor!r}.")
    if factor == 1.0:
        return y.copy()
    out = soxr.resample(y, float(factor), 1.0, quality=_RESAMPLE_QUALITY)
    return np.ascontiguousarray(out, dtype=np.float32)


def _pitch_n_fft(sr: float, n: int) -> int:
    """A ~32 ms power-of-two analysis window (512 at 16 kHz), never longer than y."""
    n_fft = 1 << int(np.ceil(np.log2(0.032 * sr)))
    while n_fft > n and n_fft > 16:
        n_fft >>= 1
    return n_fft


def pitch_shift(y: np.ndarray, sr: float, n_semitones: float) -> np.ndarray:
    """Shift the pitch by ``n_semitones`` keeping the duration (phase vocoder).

    Uses :func:`librosa.effects.pitch_shift` (phase-vocoder time stretch, then
    soxr resampling) with a ~32 ms analysis window suited to speech.

    Parameters
    ----------
    y : array-like of shape (n_audio_samples,)
        Mono waveform.
    sr : float
        Sampling rate of ``y`` in Hz.
    n_semitones : float
        Shift in semitones; frequencies are multiplied by ``2 ** (n_semitones / 12)``.

    Returns
    -------
    y_shifted : np.ndarray of shape (n_audio_samples,), dtype float32
    """
    import librosa

    y = _as_waveform(y)
    if not np.isfinite(n_semitones):
        raise ParameterError(f"n_semitones must be a finite number; got {n_semitones!r}.")
    if n_semitones == 0:
        return y.copy()
    n_fft = _pitch_n_fft(sr, y.shape[0])
    if y.shape[0] < n_fft:  # too short to analyse (a few ms): nothing to shift
        return y.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = librosa.effects.pitch_shift(
            y, sr=sr, n_steps=float(n_semitones), n_fft=n_fft, hop_length=n_fft // 4
        )
    return np.ascontiguousarray(out, dtype=np.float32)
