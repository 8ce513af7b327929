"""Mel-frequency cepstral coefficients, with the Light-SERNet and TIM-Net presets."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from functools import lru_cache
from numbers import Integral
from typing import Any

import numpy as np
import scipy.fft
from sklearn.utils._param_validation import Interval, StrOptions

from ..exceptions import ParameterError
from ._logmel import _MelFrameTransformer

__all__ = ["MFCC"]

#: TIM-Net's fixed lengths (``mean_signal_length``, samples at 22 050 Hz).
TIMNET_SIGNAL_LENGTHS = {
    "CASIA": 88000,
    "EMODB": 96000,
    "EMOVO": 96000,
    "IEMOCAP": 310000,
    "RAVDESS": 110000,
    "SAVEE": 130000,
}


@lru_cache(maxsize=32)
def dct_matrix(n_mfcc: int, n_mels: int, norm: str | None) -> np.ndarray:
    """First ``n_mfcc`` rows of the DCT-II over ``n_mels`` bands, float32, read-only.

    ``norm`` is ``"ortho"``, None (:func:`scipy.fft.dct` scalings) or
    ``"htk"`` (ortho with row 0 times sqrt 2). A product with this matrix is
    cheaper than a full DCT when few coefficients are kept.
    """
    basis = scipy.fft.dct(
        np.eye(n_mels), type=2, axis=0, norm=None if norm is None else "ortho"
    )[:n_mfcc]
    if norm == "htk":
        basis[0] *= np.sqrt(2.0)
    basis = basis.astype(np.float32)
    basis.flags.writeable = False
    return basis


class MFCC(_MelFrameTransformer):
    """Mel-frequency cepstral coefficients, frame by frame.

    STFT -> ``|X| ** power`` -> mel filterbank -> log -> DCT-II over the mel
    bands, keeping the first ``n_mfcc`` coefficients (c0 included), then
    optional deltas, per-utterance CMVN and clipping. The defaults reproduce
    ``librosa.feature.mfcc(y=y, sr=sr)`` at the given ``sr``; the presets
    :meth:`light_sernet` and :meth:`timnet` reproduce the front ends of those
    published models.

    Parameters
    ----------
    n_mfcc : int, default=20
        Number of coefficients kept (at most ``n_mels``).
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
        Pad ``n_fft // 2`` samples on both sides (``1 + n // hop_length``
        frames); with ``False``, ``1 + (n - n_fft) // hop_length`` frames.
    pad_mode : {"constant", "edge", "reflect", "symmetric"}, default="constant"
        Padding used by ``center``.
    power : float, default=2.0
        Exponent of the magnitude spectrum: 1 = magnitude, 2 = power.
    n_mels : int, default=128
        Number of mel bands fed to the DCT.
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
    dct_norm : {"ortho", "htk"} or None, default="ortho"
        Scaling of the DCT-II: ``"ortho"`` (librosa's default), None
        (unnormalised, ``2 sum(...)``), or ``"htk"``: TensorFlow's
        ``mfccs_from_log_mel_spectrograms`` scaling ``dct(x) / sqrt(2 N)``,
        i.e. ``sqrt(2 / N)`` for every coefficient (ortho with c0 x sqrt 2).
    deltas : {0, 1, 2}, default=0
        Append delta (1) or delta and delta-delta (2) coefficients on the
        feature axis: ``[c, delta c, delta2 c]``, with
        :func:`librosa.feature.delta`.
    delta_width : int, default=9
        Odd window width of the deltas; shrunk to the largest odd number <=
        the frame count for short utterances (``mode="nearest"`` below 3).
    cmvn : bool, default=False
        Per-utterance mean/variance normalisation of each feature over the
        utterance's frames (padding excluded).
    clip : float or None, default=None
        Clip the output to ``[-clip, clip]`` (applied last).
    amplitude_norm : {"peak", "percentile"} or None, default=None
        Waveform normalisation after cropping and before padding:
        ``y / (max|y| + eps)`` or ``y / (percentile(|y|, amplitude_percentile) + eps)``,
        then clipped to [-1, 1] (``eps`` = float64 machine epsilon).
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
    LogMel : The log-mel spectrogram the coefficients are computed from.
    LowLevel : Zero-crossing rate, energy, chroma and spectral shape.
    frame_lengths : True frame counts of NaN-padded output.

    Notes
    -----
    ``transform`` returns float32 of shape ``(n_samples, n_frames,
    n_mfcc * (1 + deltas))``; utterances with fewer frames than the longest
    one are NaN-padded at the end unless ``duration`` or ``n_frames`` is set.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import MFCC
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    >>> MFCC(n_mfcc=13, deltas=2).fit_transform([y]).shape
    (1, 32, 39)
    >>> MFCC.light_sernet().fit_transform([y]).shape
    (1, 184, 40)
    """

    _prefix = "mfcc"

    _parameter_constraints: dict = {
        **_MelFrameTransformer._parameter_constraints,
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
        "dct_norm": [StrOptions({"ortho", "htk"}), None],
    }

    def __init__(
        self,
        n_mfcc: int = 20,
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
        n_mels: int = 128,
        fmin: float = 0.0,
        fmax: float | None = None,
        mel_scale: str = "slaney",
        mel_norm: str | None = "slaney",
        log: str | None = "db",
        top_db: float | None = 80.0,
        amin: float = 1e-10,
        log_offset: float = 1e-6,
        dct_norm: str | None = "ortho",
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
        self.n_mfcc = n_mfcc
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
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.mel_scale = mel_scale
        self.mel_norm = mel_norm
        self.log = log
        self.top_db = top_db
        self.amin = amin
        self.log_offset = log_offset
        self.dct_norm = dct_norm
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

    # -- presets ------------------------------------------------------------
    @classmethod
    def light_sernet(cls, duration: float = 3.0, **overrides: Any) -> "MFCC":
        """The MFCC front end of Light-SERNet (Aftab et al., ICASSP 2022).

        Reproduces the TensorFlow original (``utils/segment`` + ``dataio.py``,
        ``tf.signal`` path used for the published results):

        1. 16 kHz mono; centre crop to ``duration`` seconds;
        2. ``x / (percentile(|x|, 99.9) + eps)``, clipped to [-1, 1];
        3. centre zero-padding to ``duration`` seconds;
        4. STFT: 1024-sample periodic Hann frames, hop 256, no centring,
           magnitude (``tf.signal.stft`` + ``tf.abs``);
        5. 128 TF-style HTK mel triangles, 80-7600 Hz, no area normalisation;
        6. ``log(mel + 1e-6)``;
        7. DCT-II with TensorFlow's HTK scaling over all 128 bands, first 40
           coefficients kept (c0 included);
        8. clipped to [-10, 10]; no mean/variance normalisation.

        That gives 184 frames for 3 s and 434 for 7 s.

        Known omission: the original writes each normalised, padded segment
        to a 16-bit WAV and reads it back, so its input is quantised to 16
        bits; this preset keeps float precision (a difference of at most
        half an LSB, 1.5e-5, per sample).

        Parameters
        ----------
        duration : float, default=3.0
            Segment length in seconds (the paper uses 3 s; 7 s for IEMOCAP
            in some runs).
        **overrides
            Any other :class:`MFCC` parameter (``n_jobs``, ``memory``...).

        Returns
        -------
        mfcc : MFCC
            Fully parameterised (``get_params`` shows every value).
        """
        params = dict(
            n_mfcc=40,
            sr=16000,
            duration=duration,
            n_frames=None,
            n_fft=1024,
            hop_length=256,
            win_length=None,
            window="hann",
            center=False,
            pad_mode="constant",
            power=1.0,
            n_mels=128,
            fmin=80.0,
            fmax=7600.0,
            mel_scale="tf",
            mel_norm=None,
            log="natural",
            top_db=None,
            amin=1e-10,
            log_offset=1e-6,
            dct_norm="htk",
            deltas=0,
            delta_width=9,
            cmvn=False,
            clip=10.0,
            amplitude_norm="percentile",
            amplitude_percentile=99.9,
            preemphasis=None,
        )
        params.update(overrides)
        return cls(**params)

    @classmethod
    def timnet(cls, duration: float | None = None, **overrides: Any) -> "MFCC":
        """The MFCC front end of TIM-Net (Ye et al., ICASSP 2023).

        ``Code/extract_feature.py`` of the original: ``librosa.load`` at
        22 050 Hz, centre crop or centre zero-pad to a per-corpus fixed length
        ``mean_signal_length``, then ``librosa.feature.mfcc(y, sr=22050,
        n_mfcc=39)`` with every other librosa default (n_fft 2048, hop 512,
        periodic Hann, ``center=True`` with constant padding, 128 Slaney mel
        bands 0-11 025 Hz, power 2, ``power_to_db(ref=1, amin=1e-10,
        top_db=80)``, DCT-II ortho); no feature normalisation.

        Fixed lengths of the original (samples at 22 050 Hz; frames
        ``T = 1 + L // 512``): CASIA 88 000 (172), EMODB 96 000 (188),
        EMOVO 96 000 (188), IEMOCAP 310 000 (606), RAVDESS 110 000 (215),
        SAVEE 130 000 (254). Pass ``duration=L / 22050``, e.g.
        ``MFCC.timnet(duration=96000 / 22050)`` for EMO-DB; the mapping is
        ``skser.features._mfcc.TIMNET_SIGNAL_LENGTHS``.

        Differences: the original resamples with librosa's default
        (soxr "HQ" since librosa 0.10; the pinned 0.9.2 used resampy
        "kaiser_best"); skser uses soxr "HQ".

        Parameters
        ----------
        duration : float or None, default=None
            Fixed length in seconds; None keeps each utterance's length
            (NaN-padded output).
        **overrides
            Any other :class:`MFCC` parameter.

        Returns
        -------
        mfcc : MFCC
            Fully parameterised.
        """
        params = dict(
            n_mfcc=39,
            sr=22050,
            duration=duration,
            n_frames=None,
            n_fft=2048,
            hop_length=512,
            win_length=None,
            window="hann",
            center=True,
            pad_mode="constant",
            power=2.0,
            n_mels=128,
            fmin=0.0,
            fmax=None,
            mel_scale="slaney",
            mel_norm="slaney",
            log="db",
            top_db=80.0,
            amin=1e-10,
            log_offset=1e-6,
            dct_norm="ortho",
            deltas=0,
            delta_width=9,
            cmvn=False,
            clip=None,
            amplitude_norm=None,
            amplitude_percentile=99.9,
            preemphasis=None,
        )
        params.update(overrides)
        return cls(**params)

    # -- analysis -----------------------------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        if self.n_mfcc > self.n_mels:
            raise ParameterError(
                f"MFCC: n_mfcc={self.n_mfcc} exceeds n_mels={self.n_mels}; the DCT "
                "has only n_mels coefficients. Lower n_mfcc or raise n_mels."
            )

    def _from_log_mel(self, log_mel: np.ndarray) -> np.ndarray:
        return dct_matrix(self.n_mfcc, self.n_mels, self.dct_norm) @ log_mel

    def _n_base_features(self) -> int:
        return self.n_mfcc
