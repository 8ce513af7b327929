"""Log-mel spectrogram transformer, and the mel analysis shared with MFCC."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import librosa
import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..exceptions import ParameterError
from ._base import BaseFrameTransformer
from ._spectral import (
    MEL_PARAMETER_CONSTRAINTS,
    check_mel_params,
    log_compress,
    mel_filterbank,
    n_samples_for_frames,
    stft_magnitude,
)

__all__ = ["LogMel"]

#: Frames of spectrum held at once by the mel analysis (about 8 MiB at n_fft=1024
#: and 16 MiB at n_fft=2048, float32), which bounds its memory on long audio.
FRAMES_PER_BLOCK = 2048

# Light-SERNet's normaliser adds numpy's float64 machine epsilon.
_AMPLITUDE_EPS = float(np.finfo(float).eps)


def add_deltas(feats: np.ndarray, deltas: int, width: int) -> np.ndarray:
    """Append delta (and delta-delta) features along axis 0 of ``feats`` (F, T).

    Uses :func:`librosa.feature.delta` (Savitzky-Golay, ``mode="interp"``).
    When the utterance has fewer than ``width`` frames the width shrinks to
    the largest odd number <= T; below 3 frames ``mode="nearest"`` is used.
    """
    if deltas == 0:
        return feats
    n_frames = feats.shape[1]
    mode = "interp"
    if n_frames < width:
        width = n_frames if n_frames % 2 else n_frames - 1
        if width < 3:
            width, mode = 3, "nearest"
    parts = [feats]
    for order in range(1, deltas + 1):
        parts.append(
            librosa.feature.delta(feats, width=width, order=order, axis=1, mode=mode)
        )
    return np.concatenate(parts, axis=0)


def cmvn(feats: np.ndarray) -> np.ndarray:
    """Per-utterance mean/variance normalisation of (F, T) features over time.

    A feature with zero variance is only centred.
    """
    mean = feats.mean(axis=1, keepdims=True)
    std = feats.std(axis=1, keepdims=True)
    std[std < 1e-8] = 1.0
    return (feats - mean) / std


class _MelFrameTransformer(BaseFrameTransformer):
    """Shared STFT -> mel -> log analysis of :class:`LogMel` and :class:`MFCC`.

    Subclasses map the log-mel spectrogram (n_mels, T) to their features with
    :meth:`_from_log_mel` and name them with :attr:`_prefix`.
    """

    _prefix = "logmel"

    _parameter_constraints: dict = {
        **BaseFrameTransformer._parameter_constraints,
        **MEL_PARAMETER_CONSTRAINTS,
        "deltas": [Interval(Integral, 0, 2, closed="both")],
        "delta_width": [Interval(Integral, 3, None, closed="left")],
        "cmvn": ["boolean"],
        "clip": [Interval(Real, 0, None, closed="neither"), None],
        "amplitude_norm": [StrOptions({"peak", "percentile"}), None],
        "amplitude_percentile": [Interval(Real, 0, 100, closed="right")],
    }

    def _check_params(self) -> None:
        super()._check_params()
        check_mel_params(self)
        if self.delta_width % 2 == 0:
            raise ParameterError(
                f"{type(self).__name__}: delta_width={self.delta_width} must be odd "
                "(e.g. 9, librosa's default)."
            )

    # -- framing ------------------------------------------------------------
    def _n_samples_for_frames(self, n_frames: int) -> int:
        return n_samples_for_frames(n_frames, self.n_fft, self.hop_length, self.center)

    def _min_samples(self) -> int:
        return 1 if self.center else self.n_fft

    def _preprocess(self, y: np.ndarray) -> np.ndarray:
        if self.amplitude_norm is None:
            return y
        mag = np.abs(y)
        if self.amplitude_norm == "peak":
            scale = float(mag.max())
        else:
            scale = float(np.percentile(mag, self.amplitude_percentile))
        return np.clip(y / (scale + _AMPLITUDE_EPS), -1.0, 1.0).astype(np.float32, copy=False)

    # -- analysis -----------------------------------------------------------
    def _log_mel(self, y: np.ndarray) -> np.ndarray:
        """Log-mel spectrogram of one waveform, shape (n_mels, n_frames), float32.

        The spectrum is computed :data:`FRAMES_PER_BLOCK` frames at a time and
        reduced to mel bands at once, so a long recording never holds its whole
        ``(1 + n_fft // 2, n_frames)`` spectrum: the extra memory is the mel
        spectrogram plus one block, whatever the length.
        """
        if self.preemphasis is not None:
            y = librosa.effects.preemphasis(y, coef=self.preemphasis, zi=0.0)
        if self.center:
            y = np.pad(y, self.n_fft // 2, mode=self.pad_mode)
        fb = mel_filterbank(
            sr=self.sr,
            n_fft=self.n_fft,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
            mel_scale=self.mel_scale,
            mel_norm=self.mel_norm,
        )
        n_frames = 1 + (y.shape[0] - self.n_fft) // self.hop_length
        mel = np.empty((fb.shape[0], n_frames), dtype=np.float32)
        for start in range(0, n_frames, FRAMES_PER_BLOCK):
            stop = min(start + FRAMES_PER_BLOCK, n_frames)
            segment = y[start * self.hop_length : (stop - 1) * self.hop_length + self.n_fft]
            S = stft_magnitude(
                segment,
                n_fft=self.n_fft,
                hop_length=self.hop_length,
                win_length=self.win_length,
                window=self.window,
                center=False,
                pad_mode=self.pad_mode,
            )
            if self.power == 2:
                S = np.square(S, out=S)
            elif self.power != 1:
                S = S ** np.float32(self.power)
            mel[:, start:stop] = fb @ S
        return log_compress(
            mel, log=self.log, top_db=self.top_db, amin=self.amin, log_offset=self.log_offset
        )

    def _from_log_mel(self, log_mel: np.ndarray) -> np.ndarray:
        return log_mel

    def _frames_of_waveform(self, y: np.ndarray) -> np.ndarray:
        feats = self._from_log_mel(self._log_mel(y))
        feats = add_deltas(feats, self.deltas, self.delta_width)
        if self.cmvn:
            feats = cmvn(feats)
        if self.clip is not None:
            feats = np.clip(feats, -self.clip, self.clip)
        return np.ascontiguousarray(feats.T, dtype=np.float32)

    # -- names --------------------------------------------------------------
    def _n_base_features(self) -> int:
        return self.n_mels

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the feature axis (axis 2) of the output.

        Parameters
        ----------
        input_features : None
            Ignored: the input is audio, which has no feature names.

        Returns
        -------
        feature_names_out : np.ndarray of shape (n_features,), dtype object
            ``{prefix}_{i}``, then ``{prefix}_delta_{i}`` and
            ``{prefix}_delta2_{i}`` when ``deltas`` asks for them.
        """
        n = self._n_base_features()
        kinds = ["", "_delta", "_delta2"][: self.deltas + 1]
        return np.asarray(
            [f"{self._prefix}{k}_{i}" for k in kinds for i in range(n)], dtype=object
        )


class LogMel(_MelFrameTransformer):
    """Log-mel spectrogram, frame by frame.

    STFT (:func:`librosa.stft`) -> ``|X| ** power`` -> mel filterbank ->
    log. The defaults reproduce
    ``librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr))`` at
    the given ``sr``.

    Parameters
    ----------
    n_mels : int, default=128
        Number of mel bands (output features, before deltas).
    sr : int, default=16000
        Sampling rate in Hz; paths are decoded and resampled to it, arrays are
        taken to be at it.
    duration : float or None, default=None
        Fixed analysis length in seconds: longer audio is centre-cropped,
        shorter centre-zero-padded, so every row has the same frame count.
    n_frames : int or None, default=None
        Fixed number of output frames (alternative to ``duration``).
    n_fft : int, default=2048
        FFT length in samples.
    hop_length : int, default=512
        Hop between frames in samples.
    win_length : int or None, default=None
        Window length in samples (``None``: ``n_fft``).
    window : str, tuple or callable, default="hann"
        Window spec for :func:`scipy.signal.get_window` (periodic).
    center : bool, default=True
        Pad ``n_fft // 2`` samples on both sides so that frame ``t`` is centred
        at sample ``t * hop_length``: ``1 + n // hop_length`` frames. With
        ``False``: ``1 + (n - n_fft) // hop_length`` frames.
    pad_mode : {"constant", "edge", "reflect", "symmetric"}, default="constant"
        Padding used by ``center``.
    power : float, default=2.0
        Exponent of the magnitude spectrum: 1 = magnitude, 2 = power.
    fmin : float, default=0.0
        Lowest mel band edge in Hz.
    fmax : float or None, default=None
        Highest mel band edge in Hz (``None``: ``sr / 2``).
    mel_scale : {"slaney", "htk", "tf"}, default="slaney"
        ``"slaney"`` / ``"htk"``: :func:`librosa.filters.mel` with
        ``htk=False`` / ``True``. ``"tf"``: TensorFlow's
        ``linear_to_mel_weight_matrix`` (HTK formula, triangles built in the
        mel domain over bin centre frequencies, DC weight 0, peak 1).
    mel_norm : {"slaney"} or None, default="slaney"
        Area normalisation of the librosa filters; must be None with
        ``mel_scale="tf"``.
    log : {"db", "natural"} or None, default="db"
        ``"db"``: ``librosa.power_to_db(ref=1, amin=amin, top_db=top_db)``;
        ``"natural"``: ``log(mel + log_offset)``; None: no log.
    top_db : float or None, default=80.0
        Floor of the dB scale below the utterance's peak (``log="db"``).
    amin : float, default=1e-10
        Minimum power before the dB conversion (``log="db"``).
    log_offset : float, default=1e-6
        Offset added before the natural log (``log="natural"``).
    deltas : {0, 1, 2}, default=0
        Append delta (1) or delta and delta-delta (2) features on the feature
        axis, computed with :func:`librosa.feature.delta`.
    delta_width : int, default=9
        Odd window width of the deltas; shrunk for utterances with fewer
        frames.
    cmvn : bool, default=False
        Per-utterance mean/variance normalisation of each feature over the
        utterance's frames (padding excluded).
    clip : float or None, default=None
        Clip the output to ``[-clip, clip]`` (applied last).
    amplitude_norm : {"peak", "percentile"} or None, default=None
        Waveform normalisation after cropping and before padding:
        ``y / (max|y| + eps)`` or ``y / (percentile(|y|, amplitude_percentile) + eps)``,
        then clipped to [-1, 1].
    amplitude_percentile : float, default=99.9
        Percentile of ``amplitude_norm="percentile"``.
    preemphasis : float or None, default=None
        Pre-emphasis coefficient ``a`` of ``y[n] - a y[n-1]`` applied before
        the STFT.
    n_jobs : int or None, default=None
        Number of joblib workers in ``transform``.
    verbose : bool or int, default=False
        Show a progress bar in ``transform``.
    memory : str, os.PathLike, FeatureCache, joblib.Memory or None, default=None
        Cache of per-utterance features.

    See Also
    --------
    MFCC : Cepstral coefficients of the same log-mel spectrogram.
    frame_lengths : True frame counts of NaN-padded output.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import LogMel
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    >>> LogMel(n_mels=64).fit_transform([y]).shape
    (1, 32, 64)
    """

    def __init__(
        self,
        n_mels: int = 128,
        *,
        sr: int = 16000,
        duration: float | None = None,
        n_frames: int | None = None,
        n_fft: int = 2048,
        hop_length: int = 512,
        win_length: int | None = None,
        window: Any = "hann",
        center: bool = True,
        pad_mode: str = "constant",
        power: float = 2.0,
        fmin: float = 0.0,
        fmax: float | None = None,
        mel_scale: str = "slaney",
        mel_norm: str | None = "slaney",
        log: str | None = "db",
        top_db: float | None = 80.0,
        amin: float = 1e-10,
        log_offset: float = 1e-6,
        deltas: int = 0,
        delta_width: int = 9,
        cmvn: bool = False,
        clip: float | None = None,
        amplitude_norm: str | None = None,
        amplitude_percentile: float = 99.9,
        preemphasis: float | None = None,
        n_jobs: int | None = None,
        verbose: bool | int = False,
        memory: Any = None,
    ):
        self.n_mels = n_mels
        self.sr = sr
        self.duration = duration
        self.n_frames = n_frames
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.pad_mode = pad_mode
        self.power = power
        self.fmin = fmin
        self.fmax = fmax
        self.mel_scale = mel_scale
        self.mel_norm = mel_norm
        self.log = log
        self.top_db = top_db
        self.amin = amin
        self.log_offset = log_offset
        self.deltas = deltas
        self.delta_width = delta_width
        self.cmvn = cmvn
        self.clip = clip
        self.amplitude_norm = amplitude_norm
        self.amplitude_percentile = amplitude_percentile
        self.preemphasis = preemphasis
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory
