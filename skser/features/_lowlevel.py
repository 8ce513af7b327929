"""Frame-level low-level descriptors: ZCR, RMS, chroma and spectral shape."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings
from numbers import Real
from typing import Any

import librosa
import numpy as np
from sklearn.utils._param_validation import Interval

from ..exceptions import ParameterError
from ._base import BaseFrameTransformer
from ._spectral import (
    STFT_PARAMETER_CONSTRAINTS,
    n_samples_for_frames,
    stft_magnitude,
)

__all__ = ["LowLevel"]

#: Descriptor names, in the default output order, and their feature counts.
DESCRIPTORS: dict[str, int] = {
    "zcr": 1,
    "rms": 1,
    "chroma": 12,
    "spectral_centroid": 1,
    "spectral_rolloff": 1,
    "spectral_flatness": 1,
}

_PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


class LowLevel(BaseFrameTransformer):
    """Frame-level low-level descriptors (the CREMA-D 1-D CNN descriptor set).

    Every descriptor is computed with librosa on the same frame grid
    (``n_fft`` / ``hop_length`` / ``center``); the STFT is computed once per
    utterance and shared by the spectral descriptors.

    ========================  ====  ====================================================
    descriptor                size  computation
    ========================  ====  ====================================================
    ``"zcr"``                 1     :func:`librosa.feature.zero_crossing_rate` of ``y``
    ``"rms"``                 1     :func:`librosa.feature.rms` of ``y`` (time domain)
    ``"chroma"``              12    :func:`librosa.feature.chroma_stft` of ``|X|**power``
    ``"spectral_centroid"``   1     :func:`librosa.feature.spectral_centroid` of ``|X|``
    ``"spectral_rolloff"``    1     :func:`librosa.feature.spectral_rolloff` of ``|X|``
    ``"spectral_flatness"``   1     :func:`librosa.feature.spectral_flatness` of ``|X|``
    ========================  ====  ====================================================

    Parameters
    ----------
    descriptors : tuple of str, default=("zcr", "rms", "chroma", \
"spectral_centroid", "spectral_rolloff", "spectral_flatness")
        Descriptors to compute, in output order.
    sr : int, default=16000
        Sampling rate in Hz; paths are decoded and resampled to it, arrays are
        taken to be at it.
    duration : float or None, default=None
        Fixed analysis length in seconds (centre crop / centre zero-pad).
    n_frames : int or None, default=None
        Fixed number of output frames (alternative to ``duration``).
    n_fft : int, default=2048
        Frame (and FFT) length in samples.
    hop_length : int, default=512
        Hop between frames in samples.
    win_length : int or None, default=None
        STFT window length (``None``: ``n_fft``).
    window : str, tuple or callable, default="hann"
        STFT window spec for :func:`scipy.signal.get_window`.
    center : bool, default=True
        Centre frames on ``t * hop_length`` (``1 + n // hop_length`` frames).
    pad_mode : {"constant", "edge", "reflect", "symmetric"}, default="constant"
        Padding of the STFT and RMS when ``center`` (ZCR always pads with
        ``"edge"``, as librosa does).
    power : float, default=2.0
        Exponent of the magnitude spectrum fed to chroma (librosa's
        ``chroma_stft`` default is a power spectrum; the Kaggle CREMA-D/RAVDESS
        1-D CNN passes the magnitude, ``power=1``).
    tuning : float or None, default=None
        Chroma tuning deviation in fractions of a bin; None estimates it per
        utterance (librosa's default).
    roll_percent : float, default=0.85
        Energy fraction of the spectral roll-off.
    n_jobs : int or None, default=None
        Number of joblib workers in ``transform``.
    verbose : bool or int, default=False
        Show a progress bar in ``transform``.
    memory : str, os.PathLike, FeatureCache, joblib.Memory or None, default=None
        Cache of per-utterance features.

    See Also
    --------
    MFCC, LogMel : Cepstral and log-mel spectral features.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import LowLevel
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    >>> LowLevel(descriptors=("zcr", "rms")).fit_transform([y]).shape
    (1, 32, 2)
    >>> list(LowLevel(descriptors=("zcr", "chroma")).get_feature_names_out()[:3])
    ['zcr', 'chroma_C', 'chroma_C#']
    """

    _parameter_constraints: dict = {
        **BaseFrameTransformer._parameter_constraints,
        **STFT_PARAMETER_CONSTRAINTS,
        "descriptors": [tuple, list],
        "power": [Interval(Real, 0, None, closed="neither")],
        "tuning": [Interval(Real, -0.5, 0.5, closed="left"), None],
        "roll_percent": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        descriptors: tuple[str, ...] = tuple(DESCRIPTORS),
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
        tuning: float | None = None,
        roll_percent: float = 0.85,
        n_jobs: int | None = None,
        verbose: bool | int = False,
        memory: Any = None,
    ):
        self.descriptors = descriptors
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
        self.tuning = tuning
        self.roll_percent = roll_percent
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory

    def _check_params(self) -> None:
        super()._check_params()
        names = list(self.descriptors)
        unknown = [d for d in names if d not in DESCRIPTORS]
        if unknown:
            raise ParameterError(
                f"LowLevel: unknown descriptor(s) {unknown}; choose among "
                f"{list(DESCRIPTORS)}."
            )
        if not names:
            raise ParameterError(
                f"LowLevel: descriptors is empty; choose at least one of {list(DESCRIPTORS)}."
            )
        if len(set(names)) != len(names):
            raise ParameterError(f"LowLevel: descriptors {names} lists a name twice.")
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ParameterError(
                f"LowLevel: win_length={self.win_length} must not exceed n_fft={self.n_fft}."
            )

    def _n_samples_for_frames(self, n_frames: int) -> int:
        return n_samples_for_frames(n_frames, self.n_fft, self.hop_length, self.center)

    def _min_samples(self) -> int:
        return 1 if self.center else self.n_fft

    def _frames_of_waveform(self, y: np.ndarray) -> np.ndarray:
        names = list(self.descriptors)
        frame = dict(frame_length=self.n_fft, hop_length=self.hop_length, center=self.center)
        S = None
        if any(d not in ("zcr", "rms") for d in names):
            S = stft_magnitude(
                y,
                n_fft=self.n_fft,
                hop_length=self.hop_length,
                win_length=self.win_length,
                window=self.window,
                center=self.center,
                pad_mode=self.pad_mode,
            )
        spec = dict(S=S, sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length)
        parts = []
        for name in names:
            if name == "zcr":
                out = librosa.feature.zero_crossing_rate(y, **frame)
            elif name == "rms":
                out = librosa.feature.rms(y=y, pad_mode=self.pad_mode, **frame)
            elif name == "chroma":
                out = self._chroma(S)
            elif name == "spectral_centroid":
                out = librosa.feature.spectral_centroid(**spec)
            elif name == "spectral_rolloff":
                out = librosa.feature.spectral_rolloff(roll_percent=self.roll_percent, **spec)
            else:
                out = librosa.feature.spectral_flatness(S=S)
            parts.append(np.asarray(out, dtype=np.float32))
        # Every descriptor uses the same framing, so the frame counts agree.
        return np.ascontiguousarray(np.concatenate(parts).T)

    def _chroma(self, S: np.ndarray) -> np.ndarray:
        P = S if self.power == 1 else S ** np.float32(self.power)
        with warnings.catch_warnings():
            # Silence or noise has no pitched peak: librosa then warns and
            # uses tuning 0.0, the right answer for such a signal.
            warnings.filterwarnings(
                "ignore", "Trying to estimate tuning from empty", UserWarning
            )
            return librosa.feature.chroma_stft(
                S=P, sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length,
                tuning=self.tuning, n_chroma=12,
            )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the feature axis (axis 2) of the output.

        Parameters
        ----------
        input_features : None
            Ignored: the input is audio, which has no feature names.

        Returns
        -------
        feature_names_out : np.ndarray of shape (n_features,), dtype object
            ``zcr``, ``rms``, ``chroma_C`` ... ``chroma_B``,
            ``spectral_centroid``, ``spectral_rolloff``, ``spectral_flatness``
            (those asked for, in ``descriptors`` order).
        """
        names: list[str] = []
        for d in self.descriptors:
            if d == "chroma":
                names.extend(f"chroma_{p}" for p in _PITCH_CLASSES)
            else:
                names.append(d)
        return np.asarray(names, dtype=object)
