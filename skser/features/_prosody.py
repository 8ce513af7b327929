"""Prosody and voice quality: F0, energy, speaking rate, jitter, shimmer, HNR."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.signal
from sklearn.utils._param_validation import Interval, StrOptions

from ..exceptions import ParameterError
from ._base import BaseFrameTransformer, centre_fit
from ._pitch import (
    PitchTrack,
    frame_centres,
    frames_at,
    glottal_pulses,
    intensity_db,
    jitter_shimmer,
    track_pitch_ac,
)
from ._spectral import n_samples_for_frames

__all__ = ["Prosody", "FRAME_TRACKS", "FUNCTIONALS"]

#: Names of the frame-level tracks (``output="frames"``), in column order.
FRAME_TRACKS: tuple[str, ...] = ("f0_hz", "voicing_prob", "energy_db")

#: Names of the utterance-level statistics (``output="functionals"``), in column order.
FUNCTIONALS: tuple[str, ...] = (
    "f0_mean_hz",
    "f0_std_hz",
    "f0_range_hz",
    "f0_slope_hz_per_s",
    "f0_mean_st",
    "f0_std_st",
    "f0_range_st",
    "f0_slope_st_per_s",
    "energy_mean_db",
    "energy_std_db",
    "energy_range_db",
    "energy_slope_db_per_s",
    "speaking_rate_syl_per_s",
    "articulation_rate_syl_per_s",
    "jitter_local",
    "jitter_rap",
    "shimmer_local",
    "shimmer_local_db",
    "hnr_db",
    "voiced_fraction",
)

#: Reference of the semitone scale, in Hz (Praat's "semitones re 100 Hz").
SEMITONE_REFERENCE_HZ = 100.0
#: Energy floor of the frame track, in dB (a mean square of 1e-10).
ENERGY_FLOOR_DB = -100.0
#: Energy statistics use the frames within this many dB of the loudest frame.
ENERGY_RANGE_DB = 60.0
#: Syllable nuclei (de Jong & Wempe, 2009): intensity window, silence
#: threshold below the 99th percentile, minimum dip between peaks.
SYLLABLE_WINDOW_S = 0.064
SYLLABLE_SILENCE_DB = 25.0
SYLLABLE_MIN_DIP_DB = 2.0
#: Praat's silence threshold of ``To Harmonicity (cc)``.
HNR_SILENCE_THRESHOLD = 0.1
#: HNR of a frame is limited to +-60 dB (r within 1e-6 of 0 or 1).
_R_LIMIT = 1e-6


class Prosody(BaseFrameTransformer):
    """Prosody and voice quality: frame tracks or utterance statistics.

    The F0 tracker follows Praat's ``To Pitch (ac)`` (Boersma 1993),
    vectorised over frames: Hann-windowed frames of three periods of
    ``fmin``, autocorrelation by FFT normalised by the window's own,
    parabolic peak interpolation, Praat's voicing, silence and octave costs,
    and a Viterbi path that penalises octave jumps and voiced/unvoiced
    switches. Jitter and shimmer use Praat's "local" formulas on glottal
    pulses picked cycle by cycle; HNR follows ``To Harmonicity (cc)``
    (``10 log10(r / (1 - r))`` of the normalised autocorrelation peak r).
    ``docs/prosody.md`` gives every definition, the agreement with Praat on
    real speech and the speed.

    Parameters
    ----------
    output : {"functionals", "frames"}, default="functionals"
        ``"functionals"``: one row of 20 utterance statistics per utterance,
        shape ``(n_samples, 20)`` (names in ``FUNCTIONALS``).
        ``"frames"``: three tracks per frame, shape ``(n_samples, n_frames,
        3)``: F0 in Hz (**0.0 when unvoiced**), voicing probability in
        [0, 1] and energy in dB (log mean square of ``win_length`` samples,
        floor -100 dB), NaN-padded like the other frame-level transformers.
    f0_method : {"ac", "pyin"}, default="ac"
        ``"ac"``: the vectorised autocorrelation tracker (several hundred
        times real time). ``"pyin"``: :func:`librosa.pyin` (about 5x real
        time); its voiced probability becomes the voicing track. HNR comes
        from the autocorrelation analysis in both cases.
    sr : int, default=16000
        Sampling rate in Hz; paths are decoded and resampled to it, arrays
        are taken to be at it.
    duration : float or None, default=None
        Fixed analysis length in seconds (centre crop / centre zero-pad).
    n_frames : int or None, default=None
        Fixed number of frames (alternative to ``duration``).
    n_fft : int, default=512
        Frame length of the grid in samples: with ``center=False`` frame
        ``t`` is centred on ``n_fft // 2 + t * hop_length``, as in
        :class:`MFCC`. Not used with ``center=True``.
    hop_length : int, default=160
        Hop between frames in samples (10 ms at 16 kHz). Pitch analysis
        follows Praat best at about 10 ms.
    win_length : int or None, default=400
        Window of the energy track in samples (25 ms at 16 kHz); None:
        ``n_fft``. The pitch window is three periods of ``fmin`` whatever
        this value.
    center : bool, default=True
        Frame ``t`` centred on ``t * hop_length`` (``1 + n // hop_length``
        frames), the framing of :class:`MFCC` and :class:`LogMel` with the
        same ``hop_length``, ``n_fft`` and ``center``.
    fmin, fmax : float, default=75.0, 600.0
        Pitch floor and ceiling in Hz (Praat's defaults).
    voicing_threshold : float, default=0.45
        Praat's voicing threshold (normalised autocorrelation a frame needs
        to count as voiced).
    silence_threshold : float, default=0.03
        Praat's silence threshold, relative to the utterance's peak amplitude.
    n_jobs : int or None, default=None
        Number of joblib workers in ``transform``.
    verbose : bool or int, default=False
        Show a progress bar in ``transform``.
    memory : str, os.PathLike, FeatureCache, joblib.Memory or None, default=None
        Cache of per-utterance features.

    See Also
    --------
    MFCC, LogMel : Spectral features on the same frame grid.
    SERNetFeatures : MFCC, log-mel and prosody in one transformer.

    Notes
    -----
    The waveform's mean (DC offset) is removed first. Defined values where a
    measure cannot be computed (silence, noise, audio shorter than a frame):
    every F0, jitter, shimmer, HNR and rate statistic is 0.0 when there is no
    voiced frame (or fewer than three glottal pulses for jitter/shimmer);
    ``voiced_fraction`` then tells that nothing was voiced. Never NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import Prosody
    >>> t = np.arange(16000) / 16000
    >>> y = (0.5 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    >>> X = Prosody().fit_transform([y])
    >>> X.shape
    (1, 20)
    >>> round(float(X[0, 0]))
    150
    >>> Prosody(output="frames").fit_transform([y]).shape
    (1, 101, 3)
    """

    _parameter_constraints: dict = {
        **BaseFrameTransformer._parameter_constraints,
        "output": [StrOptions({"functionals", "frames"})],
        "f0_method": [StrOptions({"ac", "pyin"})],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "win_length": [Interval(Integral, 1, None, closed="left"), None],
        "center": ["boolean"],
        "fmin": [Interval(Real, 10, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "voicing_threshold": [Interval(Real, 0, 1, closed="both")],
        "silence_threshold": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        output: str = "functionals",
        *,
        f0_method: str = "ac",
        sr: int = 16000,
        duration: float | None = None,
        n_frames: int | None = None,
        n_fft: int = 512,
        hop_length: int = 160,
        win_length: int | None = 400,
        center: bool = True,
        fmin: float = 75.0,
        fmax: float = 600.0,
        voicing_threshold: float = 0.45,
        silence_threshold: float = 0.03,
        n_jobs: int | None = None,
        verbose: bool | int = False,
        memory: Any = None,
    ):
        self.output = output
        self.f0_method = f0_method
        self.sr = sr
        self.duration = duration
        self.n_frames = n_frames
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.center = center
        self.fmin = fmin
        self.fmax = fmax
        self.voicing_threshold = voicing_threshold
        self.silence_threshold = silence_threshold
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory

    # -- validation -----------------------------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        nyquist = self.sr / 2.0
        if self.fmax >= nyquist:
            raise ParameterError(
                f"Prosody: fmax={self.fmax!r} Hz must be below the Nyquist frequency "
                f"{nyquist} Hz of sr={self.sr}; lower fmax or raise sr."
            )
        if self.fmin >= self.fmax:
            raise ParameterError(
                f"Prosody: fmin={self.fmin!r} Hz must be below fmax={self.fmax!r} Hz."
            )
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ParameterError(
                f"Prosody: win_length={self.win_length} must not exceed "
                f"n_fft={self.n_fft}."
            )

    # -- framing --------------------------------------------------------------
    def _n_samples_for_frames(self, n_frames: int) -> int:
        return n_samples_for_frames(n_frames, self.n_fft, self.hop_length, self.center)

    def _min_samples(self) -> int:
        return 1 if self.center else self.n_fft

    # -- analysis -------------------------------------------------------------
    def _features_of_waveform(self, y: np.ndarray) -> np.ndarray:
        if self.output == "frames":
            return super()._features_of_waveform(y)
        length = self._target_samples()
        if length is not None:
            y = centre_fit(y, length)
        if y.shape[0] < self._min_samples():
            y = centre_fit(y, self._min_samples())
        return self._functionals(*self._analyse(y)).astype(np.float32)

    def _frames_of_waveform(self, y: np.ndarray) -> np.ndarray:
        _, _, track, energy = self._analyse(y)
        return np.stack([track.f0, track.voicing, energy], axis=1).astype(np.float32)

    def _assemble(self, results: list[np.ndarray]) -> np.ndarray:
        if self.output == "frames":
            return super()._assemble(results)
        return np.stack(results).astype(np.float32, copy=False)

    def _analyse(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, PitchTrack, np.ndarray]:
        """DC-free waveform, frame centres, pitch track and energy track (dB)."""
        y = (y - y.mean(dtype=np.float64)).astype(np.float32)
        centres = frame_centres(y.shape[0], self.n_fft, self.hop_length, self.center)
        track = track_pitch_ac(
            y, self.sr, centres, self.hop_length / self.sr,
            fmin=self.fmin, fmax=self.fmax,
            voicing_threshold=self.voicing_threshold,
            silence_threshold=self.silence_threshold,
        )
        if self.f0_method == "pyin":
            track = self._pyin_track(y, centres, track)
        window = self.n_fft if self.win_length is None else self.win_length
        frames = frames_at(y, centres, window)
        power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / window
        energy = np.maximum(10.0 * np.log10(np.maximum(power, 1e-30)), ENERGY_FLOOR_DB)
        return y, centres, track, energy

    def _pyin_track(self, y: np.ndarray, centres: np.ndarray, ac: PitchTrack) -> PitchTrack:
        import librosa

        frame_length = 1 << int(np.ceil(np.log2(4.0 * self.sr / self.fmin)))
        shifted = y[int(centres[0]):]
        f0, voiced, prob = librosa.pyin(
            shifted, fmin=self.fmin, fmax=self.fmax, sr=self.sr,
            frame_length=frame_length, hop_length=self.hop_length, center=True,
        )
        n = centres.shape[0]
        f0 = np.where(voiced[:n] & np.isfinite(f0[:n]), f0[:n], 0.0)
        return PitchTrack(
            f0=f0, strength=ac.strength, voicing=np.nan_to_num(prob[:n]),
            periodicity=ac.periodicity, relative_peak=ac.relative_peak,
        )

    def _functionals(
        self, y: np.ndarray, centres: np.ndarray, track: PitchTrack, energy: np.ndarray
    ) -> np.ndarray:
        """The 20 statistics of ``FUNCTIONALS`` for one utterance."""
        sr, hop_s = self.sr, self.hop_length / self.sr
        times = centres / sr
        voiced = track.f0 > 0
        f0 = track.f0[voiced]
        stats: dict[str, float] = dict.fromkeys(FUNCTIONALS, 0.0)
        if f0.size:
            semitones = 12.0 * np.log2(f0 / SEMITONE_REFERENCE_HZ)
            for unit, values in (("hz", f0), ("st", semitones)):
                stats[f"f0_mean_{unit}"] = values.mean()
                stats[f"f0_std_{unit}"] = values.std()
                stats[f"f0_range_{unit}"] = values.max() - values.min()
                stats[f"f0_slope_{unit}_per_s"] = _slope(times[voiced], values)

        loud = energy >= energy.max() - ENERGY_RANGE_DB
        stats["energy_mean_db"] = energy[loud].mean()
        stats["energy_std_db"] = energy[loud].std()
        stats["energy_range_db"] = energy[loud].max() - energy[loud].min()
        stats["energy_slope_db_per_s"] = _slope(times[loud], energy[loud])

        n_syllables, phonation_s = _syllable_nuclei(y, sr, centres, voiced, hop_s)
        stats["speaking_rate_syl_per_s"] = n_syllables / (y.shape[0] / sr)
        if phonation_s > 0:
            stats["articulation_rate_syl_per_s"] = n_syllables / phonation_s

        pulses, runs = glottal_pulses(y, sr, centres, track.f0, self.hop_length)
        stats.update(jitter_shimmer(y, sr, pulses, runs))

        # Praat's Harmonicity (cc) averages the frames that are not silent
        # under its own rule (voicing threshold 0, silence threshold 0.1).
        r = track.periodicity
        harmonic = (r > 0) & (r > 2.0 - track.relative_peak / HNR_SILENCE_THRESHOLD)
        if harmonic.any():
            r = np.clip(r[harmonic], _R_LIMIT, 1.0 - _R_LIMIT)
            stats["hnr_db"] = float(np.mean(10.0 * np.log10(r / (1.0 - r))))
        stats["voiced_fraction"] = voiced.mean()
        return np.array([stats[name] for name in FUNCTIONALS], dtype=np.float64)

    # -- names ----------------------------------------------------------------
    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (``output="functionals"``) or tracks (axis 2).

        Parameters
        ----------
        input_features : None
            Ignored: the input is audio, which has no feature names.

        Returns
        -------
        feature_names_out : np.ndarray of shape (20,) or (3,), dtype object
            ``FUNCTIONALS`` or ``FRAME_TRACKS``.
        """
        names = FRAME_TRACKS if self.output == "frames" else FUNCTIONALS
        return np.asarray(names, dtype=object)


def _slope(t: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope of ``values`` against ``t`` (units per second); 0 below 2 points."""
    if t.shape[0] < 2:
        return 0.0
    dt = t - t.mean()
    denominator = float(dt @ dt)
    return float(dt @ (values - values.mean()) / denominator) if denominator > 0 else 0.0


def _syllable_nuclei(
    y: np.ndarray, sr: int, centres: np.ndarray, voiced: np.ndarray, hop_s: float
) -> tuple[int, float]:
    """Syllable nuclei count and phonation time (s), after de Jong & Wempe (2009).

    Intensity (Hann window of 64 ms) peaks that are voiced, rise above the
    99th percentile minus 25 dB and stand at least 2 dB above the lowest
    intensity between them and the next peak. Phonation time is the
    duration of the frames above that threshold.
    """
    intensity = intensity_db(y, centres, max(int(round(SYLLABLE_WINDOW_S * sr)), 1))
    threshold = max(np.quantile(intensity, 0.99) - SYLLABLE_SILENCE_DB, intensity.min())
    peaks, _ = scipy.signal.find_peaks(intensity, height=threshold)
    n_syllables = 0
    if peaks.size:
        # A peak counts when the intensity dips by at least 2 dB before the
        # next candidate peak (or the end of the utterance).
        dips = np.minimum.reduceat(intensity, peaks)
        nucleus = peaks[intensity[peaks] - dips >= SYLLABLE_MIN_DIP_DB]
        n_syllables = int(voiced[nucleus].sum())
    phonation_s = float((intensity > threshold).sum() * hop_s)
    return n_syllables, phonation_s
