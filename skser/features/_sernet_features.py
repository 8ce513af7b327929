"""The per-frame input of SER-Net: MFCC + deltas, log-mel bands and prosody."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseFrameTransformer
from ._logmel import add_deltas
from ._mfcc import MFCC
from ._prosody import FRAME_TRACKS, FUNCTIONALS, Prosody
from ._spectral import n_samples_for_frames

__all__ = ["SERNetFeatures", "N_MFCC_COLUMNS", "N_MEL_COLUMNS"]

#: Columns 0-119: 40 MFCC, 40 delta, 40 delta-delta.
N_MFCC_COLUMNS = 120
#: Columns 120-247: 128 log-mel bands (the network projects them to 40).
N_MEL_COLUMNS = 128
_N_MFCC = 40
_N_MELS = 128


class SERNetFeatures(BaseFrameTransformer):
    """SER-Net's per-frame input: MFCC + delta + delta-delta, log-mel, prosody.

    Output columns (axis 2), in this fixed order:

    ==========  =====================================================
    columns     content
    ==========  =====================================================
    0-39        40 MFCC (c0 included), DCT-II ortho of the log-mel
    40-79       their deltas (:func:`librosa.feature.delta`, width 9)
    80-119      their delta-deltas
    120-247     128 log-mel bands (Slaney mel, power, dB, top_db 80)
    248-...     P prosodic columns (``prosody``); P = n_features - 248
    ==========  =====================================================

    Everything is on one frame grid: 25 ms window (``win_length=400``), 10 ms
    hop (``hop_length=160``) at 16 kHz, ``center=True``, FFT of ``n_fft``
    samples; pre-emphasis ``y[n] - 0.97 y[n-1]`` precedes the one STFT shared
    by the MFCC and log-mel blocks (the prosody block analyses the waveform
    itself). The MFCC block equals ``MFCC(40, deltas=2, ...)`` and the log-mel
    block ``LogMel(128, ...)`` with the same parameters.

    **The report's 180.** The SER-Net report gives a 180-dimensional input
    per frame: 120 (MFCC block) + 40 (the 128 log-mel bands "compressed to 40
    via learned projection", a linear layer *inside the network*) + 20
    prosodic values. With ``prosody="utterance"`` this transformer yields
    120 + 128 + 20 = 268 columns, which :class:`~skser.models.SERNet`'s
    128 -> 40 projection turns into 120 + 40 + 20 = 180. The report lists 11
    prosodic quantities (F0 mean/std/range/slope, energy mean/std/range,
    speaking rate, jitter, shimmer, HNR); the 20 are :class:`Prosody`'s
    utterance statistics: those 11 with F0 in Hz, the same four F0
    statistics in semitones, energy slope, articulation rate, RAP jitter,
    shimmer in dB and the voiced fraction. With ``prosody="frames"`` the
    width is 120 + 128 + 3 (F0, voicing probability, energy per frame) = 251
    (163 after the projection); with ``prosody=None``, 248 (160).

    Parameters
    ----------
    prosody : {"utterance", "frames"} or None, default="utterance"
        ``"utterance"``: the 20 utterance statistics of
        :class:`Prosody` broadcast to every frame (as the report describes).
        ``"frames"``: the three frame tracks of ``Prosody(output="frames")``.
        None: no prosodic columns.
    sr : int, default=16000
        Sampling rate in Hz.
    duration : float or None, default=None
        Fixed analysis length in seconds (centre crop / centre zero-pad).
    n_frames : int or None, default=None
        Fixed number of frames (alternative to ``duration``; the report's
        ``max_length`` is 300 frames).
    n_fft : int, default=512
        FFT length in samples (the 400-sample window is zero-padded to it).
    hop_length : int, default=160
        Hop in samples (10 ms at 16 kHz).
    win_length : int, default=400
        Analysis window in samples (25 ms at 16 kHz).
    preemphasis : float or None, default=0.97
        Pre-emphasis coefficient of the MFCC and log-mel blocks.
    f0_method : {"ac", "pyin"}, default="ac"
        F0 tracker of the prosody block (see :class:`Prosody`).
    fmin, fmax : float, default=75.0, 600.0
        Pitch floor and ceiling in Hz of the prosody block.
    n_jobs : int or None, default=None
        Number of joblib workers in ``transform``.
    verbose : bool or int, default=False
        Show a progress bar in ``transform``.
    memory : str, os.PathLike, FeatureCache, joblib.Memory or None, default=None
        Cache of per-utterance features.

    See Also
    --------
    MFCC, LogMel, Prosody : The three blocks on their own.

    Notes
    -----
    ``transform`` returns float32 of shape ``(n_samples, n_frames, 248 + P)``,
    NaN-padded at the end of shorter utterances unless ``duration`` or
    ``n_frames`` is set. No normalisation is applied: the blocks have very
    different scales (dB, Hz), so standardise in the network or per column.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import SERNetFeatures
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    >>> SERNetFeatures().fit_transform([y]).shape
    (1, 101, 268)
    >>> SERNetFeatures(prosody="frames").fit_transform([y]).shape
    (1, 101, 251)
    """

    _parameter_constraints: dict = {
        **BaseFrameTransformer._parameter_constraints,
        "prosody": [StrOptions({"utterance", "frames"}), None],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "win_length": [Interval(Integral, 1, None, closed="left")],
        "preemphasis": [Interval(Real, 0, 1, closed="both"), None],
        "f0_method": [StrOptions({"ac", "pyin"})],
        "fmin": [Interval(Real, 10, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        prosody: str | None = "utterance",
        *,
        sr: int = 16000,
        duration: float | None = None,
        n_frames: int | None = None,
        n_fft: int = 512,
        hop_length: int = 160,
        win_length: int = 400,
        preemphasis: float | None = 0.97,
        f0_method: str = "ac",
        fmin: float = 75.0,
        fmax: float = 600.0,
        n_jobs: int | None = None,
        verbose: bool | int = False,
        memory: Any = None,
    ):
        self.prosody = prosody
        self.sr = sr
        self.duration = duration
        self.n_frames = n_frames
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.preemphasis = preemphasis
        self.f0_method = f0_method
        self.fmin = fmin
        self.fmax = fmax
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory

    # -- the three blocks -----------------------------------------------------
    def _mfcc(self) -> MFCC:
        return MFCC(
            _N_MFCC, sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length,
            win_length=self.win_length, center=True, n_mels=_N_MELS, deltas=2,
            preemphasis=self.preemphasis,
        )

    def _prosody(self) -> Prosody:
        return Prosody(
            "frames" if self.prosody == "frames" else "functionals",
            f0_method=self.f0_method, sr=self.sr, n_fft=self.n_fft,
            hop_length=self.hop_length, win_length=self.win_length, center=True,
            fmin=self.fmin, fmax=self.fmax,
        )

    def _check_params(self) -> None:
        super()._check_params()
        self._mfcc()._check_params()
        if self.prosody is not None:
            self._prosody()._check_params()

    # -- framing --------------------------------------------------------------
    def _n_samples_for_frames(self, n_frames: int) -> int:
        return n_samples_for_frames(n_frames, self.n_fft, self.hop_length, True)

    def _min_samples(self) -> int:
        return 1

    def _frames_of_waveform(self, y: np.ndarray) -> np.ndarray:
        mfcc = self._mfcc()
        log_mel = mfcc._log_mel(y)  # one STFT for both spectral blocks
        cepstra = add_deltas(mfcc._from_log_mel(log_mel), 2, mfcc.delta_width)
        blocks = [cepstra.T, log_mel.T]
        n_frames = log_mel.shape[1]
        if self.prosody is not None:
            prosody = self._prosody()
            analysis = prosody._analyse(y)
            if self.prosody == "frames":
                track = analysis[2]
                tracks = np.stack([track.f0, track.voicing, analysis[3]], axis=1)
            else:
                stats = prosody._functionals(*analysis)
                tracks = np.broadcast_to(stats, (n_frames, stats.shape[0]))
            blocks.append(tracks)
        return np.concatenate(blocks, axis=1).astype(np.float32)

    # -- names ----------------------------------------------------------------
    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the feature axis (axis 2) of the output.

        Parameters
        ----------
        input_features : None
            Ignored: the input is audio, which has no feature names.

        Returns
        -------
        feature_names_out : np.ndarray of shape (248 + P,), dtype object
            ``mfcc_0``... ``mfcc_delta_0``... ``mfcc_delta2_0``...,
            ``logmel_0``... ``logmel_127``, then the prosodic names
            (``prosody_f0_mean_hz``... for ``"utterance"``,
            ``prosody_f0_hz``, ``prosody_voicing_prob``,
            ``prosody_energy_db`` for ``"frames"``).
        """
        names = [f"mfcc{kind}_{i}" for kind in ("", "_delta", "_delta2")
                 for i in range(_N_MFCC)]
        names += [f"logmel_{i}" for i in range(_N_MELS)]
        if self.prosody == "utterance":
            names += [f"prosody_{n}" for n in FUNCTIONALS]
        elif self.prosody == "frames":
            names += [f"prosody_{n}" for n in FRAME_TRACKS]
        return np.asarray(names, dtype=object)
