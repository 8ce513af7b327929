"""Vectorised pitch, periodicity, glottal-pulse and intensity analysis.

The numerical core of :class:`skser.features.Prosody`, written on numpy so that
an utterance costs a few FFTs over all frames at once plus one short loop over
frames (the Viterbi step):

* :func:`track_pitch_ac` follows Boersma's (1993) autocorrelation method as
  Praat's ``To Pitch (ac)`` implements it: Hann-windowed frames of three
  periods of the pitch floor, autocorrelation by FFT divided by the window's
  own autocorrelation, parabolic interpolation of the peaks, Praat's voicing,
  silence and octave costs, and a Viterbi path over the candidates that
  penalises octave jumps and voiced/unvoiced switches.
* :func:`glottal_pulses` places one pulse per glottal cycle inside voiced
  stretches: the F0 track is integrated into a phase, the waveform (low-passed
  at twice the median F0) is cut into cycles where the phase wraps, and each
  cycle's largest sample (parabolically interpolated) is its pulse; the cycle
  borders are then re-centred between the pulses and the picking repeated.
* :func:`refine_periods` measures each period between consecutive pulses by
  cross-correlating one-period windows of the original waveform, as Praat's
  ``To PointProcess (periodic, cc)`` does.
* :func:`jitter_shimmer` applies Praat's "local" jitter and shimmer formulas
  (period floor 0.1 ms, ceiling 20 ms, period factor 1.3, amplitude factor 1.6;
  amplitude = Hann-windowed RMS over +-0.2 periods around each pulse).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.signal

__all__ = [
    "PitchTrack",
    "frame_centres",
    "frames_at",
    "track_pitch_ac",
    "glottal_pulses",
    "refine_periods",
    "jitter_shimmer",
    "intensity_db",
]

#: Praat's constants of the path finder and of the perturbation measures.
OCTAVE_COST = 0.01
OCTAVE_JUMP_COST = 0.35
VOICED_UNVOICED_COST = 0.14
PERIODS_PER_WINDOW = 3.0
N_CANDIDATES = 8
#: Praat's ``max. number of candidates`` (one of them is the unvoiced one).
MAX_PRAAT_CANDIDATES = 15
PERIOD_FLOOR_S = 1e-4
PERIOD_CEILING_S = 0.02
MAX_PERIOD_FACTOR = 1.3
MAX_AMPLITUDE_FACTOR = 1.6
#: Cut-off of the low-pass filter applied before pulse picking, as a
#: multiple of the utterance's median F0.
PULSE_LOWPASS_F0_FACTOR = 2.0


@dataclass
class PitchTrack:
    """Frame-level pitch analysis of one utterance.

    Attributes
    ----------
    f0 : np.ndarray of shape (n_frames,)
        Fundamental frequency in Hz; 0.0 in unvoiced frames.
    strength : np.ndarray of shape (n_frames,)
        Normalised autocorrelation at the chosen period, in [0, 1]; 0.0 in
        unvoiced frames.
    voicing : np.ndarray of shape (n_frames,)
        Highest local maximum of the normalised autocorrelation over the lags
        of the F0 range, clipped to [0, 1] (a degree of periodicity, whatever
        the decision); 0.0 in frames too quiet to be voiced.
    periodicity : np.ndarray of shape (n_frames,)
        The same over all lags from 2 samples (no ceiling), as Praat's
        harmonicity analysis uses.
    relative_peak : np.ndarray of shape (n_frames,)
        Peak amplitude around the frame centre (half a longest period on each
        side, local mean removed) over the utterance's peak amplitude.
    """

    f0: np.ndarray
    strength: np.ndarray
    voicing: np.ndarray
    periodicity: np.ndarray
    relative_peak: np.ndarray


def frame_centres(n_samples: int, n_fft: int, hop_length: int, center: bool) -> np.ndarray:
    """Sample index of the centre of every frame of librosa's framing.

    With ``center=True`` frame ``t`` is centred on ``t * hop_length``
    (``1 + n // hop_length`` frames); otherwise on ``n_fft // 2 + t *
    hop_length`` (``1 + (n - n_fft) // hop_length`` frames), the same grid as
    :class:`~skser.features.MFCC` with the same parameters.
    """
    if center:
        n_frames = 1 + n_samples // hop_length
        offset = 0
    else:
        n_frames = max(1 + (n_samples - n_fft) // hop_length, 1)
        offset = n_fft // 2
    return offset + hop_length * np.arange(n_frames, dtype=np.int64)


def frames_at(y: np.ndarray, centres: np.ndarray, length: int) -> np.ndarray:
    """Windows of ``length`` samples centred on ``centres`` (zeros beyond the ends).

    Returns
    -------
    frames : np.ndarray of shape (len(centres), length)
        Frame ``i`` holds ``y[centres[i] - length // 2 : ... + length]``.
    """
    half = length // 2
    padded = np.pad(y, (half, length - half))
    return np.lib.stride_tricks.sliding_window_view(padded, length)[centres]


@lru_cache(maxsize=16)
def _window_autocorrelation(length: int, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """Hann window (Praat's, zero at both ends) and its normalised autocorrelation."""
    window = np.hanning(length + 2)[1:-1].astype(np.float32)
    spectrum = scipy.fft.rfft(window, n_fft)
    acf = scipy.fft.irfft(spectrum.real**2 + spectrum.imag**2, n_fft)
    acf = (acf / acf[0]).astype(np.float32)
    window.flags.writeable = False
    acf.flags.writeable = False
    return window, acf


def track_pitch_ac(
    y: np.ndarray,
    sr: int,
    centres: np.ndarray,
    hop_s: float,
    *,
    fmin: float,
    fmax: float,
    voicing_threshold: float,
    silence_threshold: float,
) -> PitchTrack:
    """F0 track on the given frame centres by Praat's autocorrelation method.

    Parameters
    ----------
    y : np.ndarray of shape (n_samples,)
        Waveform (its mean removed).
    sr : int
        Sampling rate in Hz.
    centres : np.ndarray of shape (n_frames,)
        Frame centres in samples.
    hop_s : float
        Time step between frames in seconds (scales the path costs as Praat
        does, so that they are per 10 ms).
    fmin, fmax : float
        Pitch floor and ceiling in Hz.
    voicing_threshold, silence_threshold : float
        Praat's voicing threshold (0.45) and silence threshold (0.03, relative
        to the utterance's peak amplitude).

    Returns
    -------
    track : PitchTrack
    """
    n_frames = centres.shape[0]
    length = int(round(PERIODS_PER_WINDOW * sr / fmin))
    max_lag = min(int(np.ceil(sr / fmin)), length - 2)
    # As Praat, candidates are searched down to a lag of 2 samples: peaks
    # above fmax compete as *voiceless* candidates, which is how strongly
    # periodic noise (fricatives) ends up unvoiced.
    min_lag = 2
    n_fft = scipy.fft.next_fast_len(length + max_lag + 2, real=True)
    window, window_acf = _window_autocorrelation(length, n_fft)

    # As Praat: the local mean is taken over one longest period on both sides
    # of the centre, the local peak over half a longest period.
    period = int(np.floor(sr / fmin))
    half_period = period // 2 + 1
    mid = length // 2
    frames = frames_at(y, centres, length)
    lo, hi = max(mid - half_period, 0), min(mid + half_period + 1, length)
    local_mean = frames[:, max(mid - period, 0) : mid + period + 1].mean(axis=1)
    local_peak = np.abs(frames[:, lo:hi] - local_mean[:, None]).max(axis=1)
    global_peak = float(np.abs(y).max()) if y.size else 0.0
    relative = local_peak / global_peak if global_peak > 0 else np.zeros(n_frames)
    unvoiced = voicing_threshold + np.maximum(
        0.0, 2.0 - relative / (silence_threshold / (1.0 + voicing_threshold))
    )
    # A voiced candidate scores at most 1, and choosing it can save at most
    # two voiced/unvoiced transitions: frames whose unvoiced score exceeds
    # that can never be voiced, so they are not analysed.
    best_voiced = 1.0 + 2.0 * VOICED_UNVOICED_COST * 0.01 / hop_s
    active = np.flatnonzero(unvoiced < best_voiced)

    k = N_CANDIDATES
    cand_strength = np.full((n_frames, k), -np.inf)
    cand_freq = np.zeros((n_frames, k))
    cand_r = np.zeros((n_frames, k))
    voicing = np.zeros(n_frames)
    periodicity = np.zeros(n_frames)
    if active.size:
        buffer = np.zeros((active.size, n_fft), dtype=np.float32)
        buffer[:, :length] = (frames[active] - local_mean[active, None]) * window
        spectrum = scipy.fft.rfft(buffer, axis=1)
        acf = scipy.fft.irfft(spectrum.real**2 + spectrum.imag**2, n_fft, axis=1)
        energy = acf[:, :1]
        lags = slice(min_lag - 1, max_lag + 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(energy > 0, acf[:, lags] / energy, 0.0) / window_acf[lags]
        # r[:, j] is the normalised autocorrelation at lag min_lag - 1 + j.
        left, centre, right = r[:, :-2], r[:, 1:-1], r[:, 2:]
        row, col = np.nonzero((centre > left) & (centre >= right))
        a, b, c = left[row, col], centre[row, col], right[row, col]
        curvature = a - 2.0 * b + c
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = np.where(curvature < 0, 0.5 * (a - c) / curvature, 0.0)
        shift = np.clip(shift, -0.5, 0.5)
        peak_r = np.minimum(b - 0.25 * (a - c) * shift, 1.0)
        freq = sr / (min_lag + col + shift)
        # Praat ranks the peaks with a bonus for high frequencies, keeps the
        # best 14, then scores the voiced ones (below fmax) relative to fmax
        # in the path finder; the others count as unvoiced.
        strength = peak_r + OCTAVE_COST * np.log2(freq / fmin)
        frame = active[row]
        np.maximum.at(periodicity, frame, np.clip(peak_r, 0.0, 1.0))
        in_range = freq < fmax
        np.maximum.at(voicing, frame[in_range], np.clip(peak_r[in_range], 0.0, 1.0))
        candidate = peak_r > 0.5 * voicing_threshold
        frame, strength, freq, peak_r = (
            frame[candidate], strength[candidate], freq[candidate], peak_r[candidate]
        )
        # The k strongest peaks of every frame: sort by frame, then strength.
        order = np.lexsort((-strength, frame))
        frame, strength, freq, peak_r = frame[order], strength[order], freq[order], peak_r[order]
        first = np.searchsorted(frame, frame, side="left")
        rank = np.arange(frame.size) - first
        keep = (rank < MAX_PRAAT_CANDIDATES - 1) & (freq < fmax)
        frame, strength, freq, peak_r = frame[keep], strength[keep], freq[keep], peak_r[keep]
        strength = strength - OCTAVE_COST * np.log2(fmax / fmin)
        first = np.searchsorted(frame, frame, side="left")
        rank = np.arange(frame.size) - first
        keep = rank < k
        cand_strength[frame[keep], rank[keep]] = strength[keep]
        cand_freq[frame[keep], rank[keep]] = freq[keep]
        cand_r[frame[keep], rank[keep]] = peak_r[keep]

    # State 0 is "unvoiced"; states 1..k the voiced candidates.
    states_strength = np.concatenate([unvoiced[:, None], cand_strength], axis=1)
    states_freq = np.concatenate([np.zeros((n_frames, 1)), cand_freq], axis=1)
    path = _best_path(states_strength, states_freq, time_step_correction=0.01 / hop_s)
    rows = np.arange(n_frames)
    f0 = states_freq[rows, path]
    chosen_r = np.concatenate([np.zeros((n_frames, 1)), cand_r], axis=1)[rows, path]
    return PitchTrack(
        f0=f0,
        strength=np.where(f0 > 0, np.clip(chosen_r, 0.0, 1.0), 0.0),
        voicing=voicing,
        periodicity=periodicity,
        relative_peak=relative,
    )


def _best_path(strength: np.ndarray, freq: np.ndarray, time_step_correction: float) -> np.ndarray:
    """:func:`_viterbi` on each stretch of frames that has voiced candidates.

    A frame with no voiced candidate is unvoiced on every path, so the best
    path splits there exactly: each stretch starts after, and ends before, an
    unvoiced frame (transition cost included) or at the utterance's ends.
    """
    n_frames = strength.shape[0]
    path = np.zeros(n_frames, dtype=np.intp)
    has_candidate = (np.isfinite(strength[:, 1:]) & (freq[:, 1:] > 0)).any(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], has_candidate.astype(np.int8), [0]])))
    switch = VOICED_UNVOICED_COST * time_step_correction
    for start, stop in zip(edges[::2], edges[1::2]):
        local = strength[start:stop].copy()
        if start > 0:
            local[0, 1:] -= switch
        if stop < n_frames:
            local[-1, 1:] -= switch
        path[start:stop] = _viterbi(local, freq[start:stop], time_step_correction)
    return path


def _viterbi(strength: np.ndarray, freq: np.ndarray, time_step_correction: float) -> np.ndarray:
    """Best path through the candidates (Praat's ``Pitch_pathFinder``).

    Parameters
    ----------
    strength : np.ndarray of shape (n_frames, n_states)
        Local score of each state (``-inf``: not a candidate).
    freq : np.ndarray of shape (n_frames, n_states)
        Frequency of each state in Hz, 0 for unvoiced.
    time_step_correction : float
        ``0.01 / time_step``: the transition costs are per 10 ms.

    Returns
    -------
    path : np.ndarray of shape (n_frames,), int
        Chosen state of each frame.
    """
    n_frames, n_states = strength.shape
    voiced = freq > 0
    with np.errstate(divide="ignore"):
        log_f = np.log2(np.where(voiced, freq, 1.0))
    jump = OCTAVE_JUMP_COST * np.abs(log_f[:-1, :, None] - log_f[1:, None, :])
    prev_v, cur_v = voiced[:-1, :, None], voiced[1:, None, :]
    cost = np.where(prev_v & cur_v, jump, np.where(prev_v ^ cur_v, VOICED_UNVOICED_COST, 0.0))
    cost *= time_step_correction
    back = np.empty((n_frames, n_states), dtype=np.intp)
    delta = strength[0].copy()
    cols = np.arange(n_states)
    for t in range(1, n_frames):
        total = delta[:, None] - cost[t - 1]
        back[t] = total.argmax(axis=0)
        delta = total[back[t], cols] + strength[t]
    path = np.empty(n_frames, dtype=np.intp)
    path[-1] = int(np.argmax(delta))
    for t in range(n_frames - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def _sample_f0(n_samples: int, centres: np.ndarray, f0: np.ndarray, hop: int) -> np.ndarray:
    """F0 at every sample: linear between voiced frames, 0 where the nearest frame is unvoiced."""
    offset = int(centres[0])
    position = (np.arange(n_samples) - offset) / hop
    last = f0.shape[0] - 1
    i0 = np.clip(np.floor(position).astype(np.int64), 0, last)
    i1 = np.minimum(i0 + 1, last)
    weight = np.clip(position - i0, 0.0, 1.0)
    fa, fb = f0[i0], f0[i1]
    fa_ = np.where(fa > 0, fa, fb)
    fb_ = np.where(fb > 0, fb, fa)
    nearest = f0[np.clip(np.rint(position).astype(np.int64), 0, last)]
    return np.where(nearest > 0, fa_ + weight * (fb_ - fa_), 0.0)


def _cycle_peaks(
    y: np.ndarray, voiced_idx: np.ndarray, run_id: np.ndarray, phase: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Position of the largest sample of each cycle and the cycle's run.

    Cycles are the stretches of voiced samples with the same ``run_id`` and
    ``floor(phase)``. Only peaks that are strict interior local maxima of
    ``y`` are returned.
    """
    cycle = np.floor(phase).astype(np.int64)
    key_change = (np.diff(run_id) != 0) | (np.diff(cycle) != 0) | (np.diff(voiced_idx) != 1)
    starts = np.concatenate([[0], np.flatnonzero(key_change) + 1])
    values = y[voiced_idx]
    seg_max = np.maximum.reduceat(values, starts)
    seg_of = np.repeat(np.arange(starts.shape[0]), np.diff(np.append(starts, values.shape[0])))
    at_max = np.flatnonzero(values == seg_max[seg_of])
    _, first = np.unique(seg_of[at_max], return_index=True)
    pos = voiced_idx[at_max[first]]
    interior = (pos > 0) & (pos < y.shape[0] - 1)
    pos = pos[interior]
    local = (y[pos] > y[pos - 1]) & (y[pos] >= y[pos + 1])
    pos = pos[local]
    return pos, run_id[np.searchsorted(voiced_idx, pos)]


def glottal_pulses(
    y: np.ndarray, sr: int, centres: np.ndarray, f0: np.ndarray, hop: int
) -> tuple[np.ndarray, np.ndarray]:
    """Glottal pulse times inside voiced stretches, one per cycle.

    Parameters
    ----------
    y : np.ndarray of shape (n_samples,)
        Waveform (mean removed).
    sr : int
        Sampling rate in Hz.
    centres : np.ndarray of shape (n_frames,)
        Frame centres in samples (uniform spacing ``hop``).
    f0 : np.ndarray of shape (n_frames,)
        F0 track in Hz, 0 when unvoiced.
    hop : int
        Frame spacing in samples.

    Returns
    -------
    times : np.ndarray of shape (n_pulses,)
        Pulse times in samples (fractional), increasing.
    runs : np.ndarray of shape (n_pulses,), int
        Index of the voiced stretch of each pulse. The pulses are the peaks of
        the low-passed waveform in the polarity (``y`` or ``-y``) whose cycle
        peaks are larger.
    """
    voiced_f0 = f0[f0 > 0]
    cutoff = PULSE_LOWPASS_F0_FACTOR * float(np.median(voiced_f0)) if voiced_f0.size else sr
    if cutoff < 0.45 * sr and y.shape[0] > 64:
        # A gentle low-pass keeps one dominant peak per cycle (formant
        # ripples otherwise make the picked peak jump within the cycle).
        sos = scipy.signal.butter(2, cutoff, fs=sr, output="sos")
        y = scipy.signal.sosfiltfilt(sos, y)
    f0_samples = _sample_f0(y.shape[0], centres, f0, hop)
    voiced = f0_samples > 0
    voiced_idx = np.flatnonzero(voiced)
    if voiced_idx.shape[0] < 3:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    run_id = np.cumsum(np.diff(voiced_idx, prepend=-2) != 1)
    phase = np.cumsum(f0_samples[voiced_idx] / sr)
    run_start = np.flatnonzero(np.diff(run_id, prepend=0) != 0)
    phase -= np.repeat(phase[run_start], np.diff(np.append(run_start, phase.shape[0])))

    pos_up, _ = _cycle_peaks(y, voiced_idx, run_id, phase)
    pos_down, _ = _cycle_peaks(-y, voiced_idx, run_id, phase)
    signal = y if np.abs(y[pos_up]).sum() >= np.abs(y[pos_down]).sum() else -y

    # Move the cycle borders half-way between the pulses: the phase of each
    # pulse within its cycle should be 0.5, smoothed over a few cycles.
    pos, runs = _cycle_peaks(signal, voiced_idx, run_id, phase)
    for _ in range(2):
        if pos.shape[0] < 2:
            break
        where = np.searchsorted(voiced_idx, pos)
        frac = phase[where] - np.floor(phase[where])
        z = np.exp(2j * np.pi * frac)
        z = np.convolve(z, np.ones(5))[2 : 2 + z.shape[0]]
        correction = 0.5 - np.angle(z) / (2 * np.pi)
        correction = (correction + 0.5) % 1.0 - 0.5
        phase = phase + np.interp(voiced_idx, pos, correction)
        pos, runs = _cycle_peaks(signal, voiced_idx, run_id, phase)
    if pos.shape[0] == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    before, at, after = signal[pos - 1], signal[pos], signal[pos + 1]
    curvature = before - 2.0 * at + after
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature < 0, 0.5 * (before - after) / curvature, 0.0)
    times = pos + np.clip(shift, -0.5, 0.5)
    return times, runs


def _period_ok(p: np.ndarray) -> np.ndarray:
    return (p >= PERIOD_FLOOR_S) & (p <= PERIOD_CEILING_S)


def _factor(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > b, a / b, b / a)


def _hann_rms(
    y: np.ndarray, times: np.ndarray, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Hann-windowed RMS of ``y`` around each time, widths ``left``/``right`` (samples)."""
    reach = int(np.ceil(max(left.max(), right.max()))) + 1
    offsets = np.arange(-reach, reach + 1)
    idx = np.rint(times).astype(np.int64)[:, None] + offsets
    valid = (idx >= 0) & (idx < y.shape[0])
    dt = idx - times[:, None]
    width = np.where(dt < 0, left[:, None], right[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        phase = dt / width
    w = np.where(valid & (np.abs(phase) <= 1.0), 0.5 + 0.5 * np.cos(np.pi * phase), 0.0)
    v = y[np.clip(idx, 0, y.shape[0] - 1)] * w
    w2 = (w * w).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w2 > 0, np.sqrt((v * v).sum(axis=1) / w2), 0.0)


def refine_periods(y: np.ndarray, times: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """Periods between consecutive pulses, refined by cross-correlation.

    As Praat's ``Sound_findMaximumCorrelation``: the one-period window
    around a pulse is compared with windows shifted by lags within +-15 % of
    the rough period; the lag of the highest normalised cross-correlation
    (parabolically interpolated) is the period. It measures the shift that
    makes the waveform repeat, whichever peak of the cycle was picked.

    Parameters
    ----------
    y : np.ndarray of shape (n_samples,)
        Waveform (not low-passed).
    times : np.ndarray of shape (n_pulses,)
        Pulse times in samples.
    runs : np.ndarray of shape (n_pulses,)
        Voiced stretch of each pulse.

    Returns
    -------
    periods : np.ndarray of shape (n_pulses - 1,)
        In samples; ``inf`` between pulses of different stretches.
    """
    rough = np.diff(times)
    same = runs[1:] == runs[:-1]
    periods = np.where(same, rough, np.inf)
    if not same.any():
        return periods
    typical = float(np.median(rough[same]))
    width = max(int(round(typical)), 4)
    reach = max(2, int(round(0.15 * typical)))
    steps = np.arange(-reach - 1, reach + 2)
    pairs_all = np.flatnonzero(same)
    # Zeros around the signal, so that every window below is in range.
    left_pad = width + 1
    right_pad = int(np.ceil(rough[same].max())) + reach + width + 4
    padded = np.pad(np.asarray(y, np.float32), (left_pad, right_pad))
    span = width + steps.shape[0] - 1
    # Blocks of pairs keep the arrays small on long audio.
    block = max(1, (1 << 20) // span)
    for begin in range(0, pairs_all.shape[0], block):
        pairs = pairs_all[begin : begin + block]
        first = np.rint(times[pairs]).astype(np.int64) - width // 2 + left_pad
        lag_low = np.rint(rough[pairs]).astype(np.int64) + steps[0]
        a = padded[first[:, None] + np.arange(width)]
        segment = padded[(first + lag_low)[:, None] + np.arange(span)]
        b = np.lib.stride_tricks.sliding_window_view(segment, width, axis=1)
        num = np.einsum("nw,nlw->nl", a, b)
        cumulative = np.concatenate(
            [np.zeros((pairs.shape[0], 1)), np.cumsum(segment.astype(np.float64) ** 2, axis=1)],
            axis=1,
        )
        energy_b = cumulative[:, width:] - cumulative[:, :-width]
        energy = (a.astype(np.float64) ** 2).sum(axis=1)[:, None] * energy_b
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(energy > 1e-20, num / np.sqrt(energy), 0.0)
        best = r[:, 1:-1].argmax(axis=1) + 1
        rows = np.arange(pairs.shape[0])
        left, mid, right = r[rows, best - 1], r[rows, best], r[rows, best + 1]
        curvature = left - 2.0 * mid + right
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
        periods[pairs] = lag_low + best + np.clip(shift, -0.5, 0.5)
    return periods


def jitter_shimmer(
    y: np.ndarray, sr: int, times: np.ndarray, runs: np.ndarray
) -> dict[str, float]:
    """Praat's local jitter, RAP jitter, local shimmer and local shimmer in dB.

    Parameters
    ----------
    y : np.ndarray of shape (n_samples,)
        Waveform.
    sr : int
        Sampling rate in Hz.
    times : np.ndarray of shape (n_pulses,)
        Pulse times in samples, increasing.
    runs : np.ndarray of shape (n_pulses,)
        Voiced stretch of each pulse (periods are refined within stretches,
        see :func:`refine_periods`).

    Returns
    -------
    measures : dict
        ``jitter_local``, ``jitter_rap``, ``shimmer_local`` (fractions) and
        ``shimmer_local_db`` (dB); 0.0 when too few valid periods exist.
    """
    out = {"jitter_local": 0.0, "jitter_rap": 0.0, "shimmer_local": 0.0,
           "shimmer_local_db": 0.0}
    if times.shape[0] < 3:
        return out
    periods = refine_periods(y, times, runs) / sr
    ok = _period_ok(periods)
    # PointProcess_getMeanPeriod: a period counts unless both neighbours differ
    # from it by more than the factor.
    f_prev = np.concatenate([[1.0], _factor(periods[1:], periods[:-1])])
    f_next = np.concatenate([_factor(periods[:-1], periods[1:]), [1.0]])
    counted = ok & ~((f_prev > MAX_PERIOD_FACTOR) & (f_next > MAX_PERIOD_FACTOR))
    if not counted.any():
        return out
    mean_period = periods[counted].mean()

    p1, p2 = periods[:-1], periods[1:]
    pair = _period_ok(p1) & _period_ok(p2) & (_factor(p1, p2) <= MAX_PERIOD_FACTOR)
    if pair.sum() >= 1:
        out["jitter_local"] = float(np.abs(p1[pair] - p2[pair]).mean() / mean_period)
    if periods.shape[0] >= 3:
        q1, q2, q3 = periods[:-2], periods[1:-1], periods[2:]
        triple = pair[:-1] & pair[1:]
        if triple.any():
            dev = np.abs(q2[triple] - (q1[triple] + q2[triple] + q3[triple]) / 3.0)
            out["jitter_rap"] = float(dev.mean() / mean_period)

    # AmplitudeTier from the pulses with two valid periods, then the shimmer.
    inner = times[1:-1][pair]
    if inner.shape[0] < 2:
        return out
    amp = _hann_rms(y, inner, 0.2 * p1[pair] * sr, 0.2 * p2[pair] * sr)
    keep = amp > 0
    inner, amp = inner[keep], amp[keep]
    if amp.shape[0] < 2:
        return out
    a1, a2 = amp[:-1], amp[1:]
    good = _period_ok(np.diff(inner) / sr) & (_factor(a1, a2) <= MAX_AMPLITUDE_FACTOR)
    if good.any():
        out["shimmer_local"] = float(np.abs(a1 - a2)[good].mean() / amp[:-1].mean())
        out["shimmer_local_db"] = float(20.0 * np.abs(np.log10(a1 / a2))[good].mean())
    return out


def intensity_db(y: np.ndarray, centres: np.ndarray, length: int) -> np.ndarray:
    """Hann-weighted mean power around each centre, in dB re 1 (floor -100 dB)."""
    window = np.hanning(length + 2)[1:-1].astype(np.float32)
    frames = frames_at(y, centres, length)
    power = (frames * frames) @ (window / window.sum())
    return 10.0 * np.log10(np.maximum(power, 1e-10))
