"""Emotion over time in a long recording, read in a stream.

:func:`predict_timeline` slides a window over an audio file and returns one
row of class probabilities per window; :func:`plot_timeline` draws them.
Silence can be skipped by an energy threshold, by any callable speech
detector, or by a TorchScript VAD model from a local file
(:class:`TorchScriptVAD`, e.g. Silero VAD).

The file is never decoded whole. It is read with :class:`soundfile.SoundFile`
sequentially (``read``, or ``seek`` over gaps when ``hop > window``); each
window is down-mixed to mono, resampled on its own to the pipeline's rate with
the same soxr "HQ" resampler as :func:`skser.load_audio`, and checked.
Windows go to ``pipeline.predict_proba`` as a list of 1-D float32 waveforms,
``batch_size`` at a time. Memory therefore grows with ``batch_size x window``
and not with the file's length: at most one window of the file's own samples
plus ``batch_size`` windows at the pipeline's rate are held, besides what the
pipeline allocates for one batch and the result table (one small row a window).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
import soundfile as sf
import soxr
from sklearn.utils.validation import check_is_fitted

from ._audio import _RESAMPLE_QUALITY, _check_readable, _check_samples, _is_lfs_pointer
from .exceptions import AudioDecodeError, ModelFileError, ParameterError

__all__ = ["TorchScriptVAD", "plot_timeline", "predict_timeline"]

_VAD_METHODS = (None, "energy")
_RESERVED_COLUMNS = ("start", "end", "speech", "rms_db", "label")
#: Added to the mean square before the log, so that digital silence is finite.
_POWER_FLOOR = 1e-20


def predict_timeline(
    pipeline: Any,
    path: str | os.PathLike,
    *,
    window: float = 3.0,
    hop: float = 1.0,
    sr: int | None = None,
    vad: str | Callable[[np.ndarray, int], Any] | None = None,
    vad_threshold_db: float = -45.0,
    vad_min_speech: float = 0.5,
    batch_size: int = 32,
) -> pd.DataFrame:
    """Class probabilities over time in a long recording.

    Windows of ``window`` seconds start every ``hop`` seconds from 0 until
    the whole file is covered; the last window ends at the end of the file
    and may be shorter (its ``end`` says so). A file shorter than ``window``
    gives one window: the whole file.

    Parameters
    ----------
    pipeline : fitted estimator with ``predict_proba`` and ``classes_``
        Takes a list of 1-D float32 waveforms at ``sr``, e.g.
        ``make_pipeline(MFCC(), Functionals(), StandardScaler(), LogisticRegression())``
        or ``... CalibratedClassifierCV(SVC(), ensemble=False))`` for an SVM.
    path : str or os.PathLike
        Audio file in any format soundfile reads. Multi-channel audio is
        down-mixed by averaging the channels.
    window : float, default=3.0
        Window length in seconds. Use the length of the utterances the
        pipeline was trained on.
    hop : float, default=1.0
        Step between window starts in seconds. ``hop > window`` leaves gaps
        that are not read.
    sr : int or None, default=None
        Sampling rate in Hz of the waveforms given to the pipeline. ``None``
        takes the first ``sr`` parameter found in ``pipeline.get_params()``
        (e.g. ``MFCC(sr=16000)``); a :class:`ParameterError` asks for it when
        there is none.
    vad : {None, "energy"} or callable, default=None
        Which windows to skip as silence. Skipped windows keep their row,
        with ``speech=False``, NaN probabilities and a missing label, and are
        counted in ``df.attrs["skipped"]``. ``None`` scores every window.
        ``"energy"`` skips windows whose RMS level is below
        ``vad_threshold_db``. A callable ``vad(waveform, sample_rate)`` is a
        speech detector (e.g. :class:`TorchScriptVAD`): it gets each window
        as the pipeline will (mono float32 at ``sr``) and returns a bool
        (speech or not), a 1-D boolean mask over frames of equal length, or a
        list of ``(start, end)`` speech segments in seconds from the window's
        start; the window is scored when speech covers at least
        ``vad_min_speech`` of it.
    vad_threshold_db : float, default=-45.0
        Level in dB relative to full scale (a full-scale sine is -3 dB) below
        which a window counts as silence with ``vad="energy"``.
    vad_min_speech : float, default=0.5
        Fraction of a window (in (0, 1]) that a callable ``vad`` must find to
        be speech for the window to be scored.
    batch_size : int, default=32
        Windows per ``predict_proba`` call.

    Returns
    -------
    timeline : pandas.DataFrame of shape (n_windows, 5 + n_classes)
        Columns ``start`` and ``end`` (seconds, float), ``speech`` (bool),
        ``rms_db`` (window level, dB full scale), ``label`` (the most
        probable class, missing where skipped) and one probability column per
        class in ``pipeline.classes_`` order, named by the class. ``attrs``
        holds ``window``, ``hop``, ``sr``, ``vad`` (``None``, ``"energy"``
        or the callable's name), ``vad_threshold_db``, ``vad_min_speech``,
        ``skipped`` (number of windows not scored) and ``path``.

    Raises
    ------
    skser.exceptions.ParameterError
        If a parameter is out of range, the pipeline has no
        ``predict_proba``, ``sr`` cannot be inferred, a class is named like a
        reserved column, or a callable ``vad`` returns something else than
        a bool, a boolean mask or speech segments.
    sklearn.exceptions.NotFittedError
        If the pipeline is not fitted.
    FileNotFoundError
        If ``path`` does not exist.
    skser.exceptions.AudioDecodeError
        If the file cannot be read or decoded.
    skser.exceptions.AudioInputError
        If the file is empty or a window contains NaN or inf samples.

    Examples
    --------
    >>> df = predict_timeline(pipe, "meeting.flac", window=3.0, hop=1.0,
    ...                       vad="energy")  # doctest: +SKIP
    >>> df[["start", "end", "label"]].head()  # doctest: +SKIP
    """
    _check_number("window", window, positive=True)
    _check_number("hop", hop, positive=True)
    _check_number("vad_threshold_db", vad_threshold_db, positive=False)
    if not callable(vad) and vad not in _VAD_METHODS:
        raise ParameterError(
            f"vad must be None, 'energy' or a callable (waveform, sample_rate) -> speech "
            f"mask or segments (e.g. skser.timeline.TorchScriptVAD), got {vad!r}."
        )
    _check_number("vad_min_speech", vad_min_speech, positive=True)
    if vad_min_speech > 1:
        raise ParameterError(f"vad_min_speech must be in (0, 1], got {vad_min_speech!r}.")
    if not isinstance(batch_size, Integral) or isinstance(batch_size, bool) or batch_size < 1:
        raise ParameterError(f"batch_size must be an integer >= 1, got {batch_size!r}.")
    if not hasattr(pipeline, "predict_proba"):
        raise ParameterError(
            f"{type(pipeline).__name__} has no predict_proba, so it gives no class "
            "probabilities; end the pipeline with a probabilistic classifier (e.g. "
            "LogisticRegression, or CalibratedClassifierCV(SVC(), ensemble=False) for an SVM)."
        )
    check_is_fitted(pipeline)
    classes = np.asarray(pipeline.classes_)
    _check_class_names(classes)
    sr = _pipeline_sr(pipeline) if sr is None else sr
    if not isinstance(sr, Integral) or isinstance(sr, bool) or sr < 1:
        raise ParameterError(f"sr must be a positive integer (Hz), got {sr!r}.")

    where = repr(os.fspath(path))
    _check_readable(path, where)
    try:
        sound = sf.SoundFile(path)
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, ...
        hint = (
            "it is a Git LFS pointer; run `git lfs pull`"
            if _is_lfs_pointer(path)
            else "convert it to WAV or FLAC"
        )
        raise AudioDecodeError(f"Cannot decode audio file {where}: {exc}; {hint}.") from exc

    energy_vad = isinstance(vad, str) and vad == "energy"
    starts, ends, levels, speech, probas = [], [], [], [], []
    batch: list[np.ndarray] = []
    batch_rows: list[int] = []

    def flush() -> None:
        if batch:
            proba = np.asarray(pipeline.predict_proba(batch), dtype=np.float64)
            for row, p in zip(batch_rows, proba):
                probas[row] = p
            batch.clear()
            batch_rows.clear()

    with sound:
        file_sr = sound.samplerate
        for start, end, samples in _windows(sound, window, hop, where):
            y = samples.mean(axis=1, dtype=np.float32) if samples.shape[1] > 1 else samples[:, 0]
            span = f"{where} at {start / file_sr:.3f}-{end / file_sr:.3f} s"
            _check_samples(y, span)
            power = float(np.mean(np.square(y, dtype=np.float64)))
            level = 10.0 * math.log10(power + _POWER_FLOOR)
            if energy_vad and level < vad_threshold_db:
                is_speech = False
            else:
                if file_sr != sr:
                    y = soxr.resample(y, file_sr, sr, quality=_RESAMPLE_QUALITY)
                y = np.ascontiguousarray(y, dtype=np.float32)
                is_speech = True
                if callable(vad):
                    found = _speech_fraction(vad(y, sr), y.shape[0] / sr, span, vad)
                    is_speech = found >= vad_min_speech
            starts.append(start / file_sr)
            ends.append(end / file_sr)
            levels.append(level)
            speech.append(is_speech)
            probas.append(None)
            if not is_speech:
                continue
            batch.append(y)
            batch_rows.append(len(probas) - 1)
            if len(batch) == batch_size:
                flush()
        flush()

    missing = np.full(len(classes), np.nan)
    proba_table = np.vstack([missing if p is None else p for p in probas])
    names = classes.tolist()
    labels = [names[int(np.argmax(p))] if p is not None else None for p in probas]
    df = pd.DataFrame(
        {
            "start": np.asarray(starts, dtype=np.float64),
            "end": np.asarray(ends, dtype=np.float64),
            "speech": np.asarray(speech, dtype=bool),
            "rms_db": np.asarray(levels, dtype=np.float64),
            "label": pd.Series(labels, dtype=object),
        }
    )
    for k, name in enumerate(names):
        df[name] = proba_table[:, k]
    df.attrs.update(
        path=os.fspath(path),
        window=float(window),
        hop=float(hop),
        sr=int(sr),
        vad=_vad_name(vad),
        vad_threshold_db=float(vad_threshold_db),
        vad_min_speech=float(vad_min_speech),
        skipped=int(len(speech) - sum(speech)),
    )
    return df


def _vad_name(vad: Any) -> str | None:
    if vad is None or isinstance(vad, str):
        return vad
    return getattr(vad, "__name__", None) or repr(vad)


def _speech_fraction(found: Any, duration: float, span: str, vad: Any) -> float:
    """Fraction of a window that a VAD's answer marks as speech.

    ``found`` is a bool, a 1-D boolean mask over equal frames, or ``(start,
    end)`` segments in seconds from the window's start (overlaps counted once).
    """
    if isinstance(found, (bool, np.bool_)):
        return float(found)
    answer = np.asarray(found)
    if answer.dtype == bool and answer.ndim == 1:
        return float(answer.mean()) if answer.size else 0.0
    if answer.size == 0 and answer.ndim in (1, 2):
        return 0.0  # no segments
    if answer.ndim == 2 and answer.shape[1] == 2 and answer.dtype.kind in "iuf":
        segments = np.clip(answer.astype(np.float64), 0.0, duration)
        segments = segments[np.argsort(segments[:, 0])]
        covered, reach = 0.0, 0.0
        for begin, end in segments:
            begin = max(begin, reach)
            if end > begin:
                covered += end - begin
                reach = end
        return covered / duration if duration > 0 else 0.0
    raise ParameterError(
        f"vad {_vad_name(vad)} returned {type(found).__name__} (shape {answer.shape}, "
        f"dtype {answer.dtype}) for {span}; return a bool, a 1-D boolean mask over "
        "frames, or a list of (start, end) speech segments in seconds."
    )


class TorchScriptVAD:
    """Speech detector from a TorchScript VAD model in a local file.

    Made for `Silero VAD <https://github.com/snakers4/silero-vad>`_'s
    ``silero_vad.jit``, which you download yourself (skser never downloads
    it), and any TorchScript model with the same interface: called as
    ``model(chunk, sample_rate)`` on a ``(1, frame_length)`` float32 tensor,
    it returns the probability that the chunk is speech (a one-element
    tensor); an optional ``reset_states()`` method clears its state. Pass an
    instance as ``predict_timeline(..., vad=TorchScriptVAD(path))``.

    Parameters
    ----------
    path : str or os.PathLike
        Local TorchScript file (``torch.jit.save`` output).
    sample_rate : int, default=16000
        Rate in Hz the model expects; windows at another rate are resampled
        (soxr "HQ"). Silero VAD takes 16000 or 8000.
    frame_length : int, default=512
        Samples per model call at ``sample_rate`` (Silero VAD v5: 512 at
        16 kHz, 256 at 8 kHz). The last chunk of a window is zero-padded.
    threshold : float, default=0.5
        Probability from which a chunk counts as speech.

    Notes
    -----
    The model is loaded on the first call, on the CPU, once per instance
    (and again after unpickling). Its state is reset at the start of every
    window, so each window is judged on its own. Torch is imported only then.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        sample_rate: int = 16000,
        frame_length: int = 512,
        threshold: float = 0.5,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise ParameterError(f"path must be a file path, got {type(path).__name__}.")
        for name, value in (("sample_rate", sample_rate), ("frame_length", frame_length)):
            if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
                raise ParameterError(f"{name} must be an integer >= 1, got {value!r}.")
        _check_number("threshold", threshold, positive=False)
        if not 0 < threshold < 1:
            raise ParameterError(f"threshold must be in (0, 1), got {threshold!r}.")
        self.path = path
        self.sample_rate = int(sample_rate)
        self.frame_length = int(frame_length)
        self.threshold = float(threshold)
        self._model: Any = None

    def __repr__(self) -> str:
        return f"TorchScriptVAD({os.fspath(self.path)!r})"

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_model": None}  # reloaded where it is used

    def _load(self) -> Any:
        if self._model is None:
            import torch

            where = repr(os.fspath(self.path))
            if not os.path.isfile(self.path):
                raise FileNotFoundError(
                    f"VAD model {where} does not exist. skser does not download models: "
                    "save the TorchScript file (e.g. silero_vad.jit from the silero-vad "
                    "repository) locally and pass its path."
                )
            try:
                with warnings.catch_warnings():
                    # Recent torch deprecates TorchScript in favour of torch.export;
                    # published VAD models (Silero) still ship as TorchScript.
                    warnings.filterwarnings("ignore", category=DeprecationWarning)
                    model = torch.jit.load(os.fspath(self.path), map_location="cpu")
            except Exception as exc:  # torch raises RuntimeError, ValueError, ...
                raise ModelFileError(
                    f"VAD model {where} is not a TorchScript file torch can load ({exc})."
                ) from exc
            self._model = model.eval()
        return self._model

    def __call__(self, waveform: np.ndarray, sample_rate: int) -> np.ndarray:
        """Speech mask of one waveform, one bool per ``frame_length`` chunk.

        Parameters
        ----------
        waveform : np.ndarray of shape (n_samples,), float32
        sample_rate : int
            Rate of ``waveform`` in Hz.

        Returns
        -------
        mask : np.ndarray of shape (ceil(n / frame_length),), dtype bool
            ``n`` is the length at ``self.sample_rate``.
        """
        import torch

        model = self._load()
        y = np.asarray(waveform, dtype=np.float32)
        if sample_rate != self.sample_rate:
            y = soxr.resample(y, sample_rate, self.sample_rate, quality=_RESAMPLE_QUALITY)
        n_chunks = max(1, math.ceil(y.shape[0] / self.frame_length))
        chunks = np.zeros((n_chunks, self.frame_length), dtype=np.float32)
        chunks.reshape(-1)[: y.shape[0]] = y
        if hasattr(model, "reset_states"):
            model.reset_states()
        probabilities = np.empty(n_chunks)
        with torch.inference_mode():
            for k, chunk in enumerate(torch.from_numpy(chunks)):
                probabilities[k] = float(model(chunk[None], self.sample_rate).reshape(-1)[0])
        return probabilities >= self.threshold


def _windows(
    sound: sf.SoundFile, window: float, hop: float, where: str
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(start, end, samples)`` in file frames, reading the file once in order.

    ``samples`` has shape (end - start, n_channels), float32. Only the frames
    shared by consecutive windows are kept between steps.
    """
    file_sr, n_frames = sound.samplerate, sound.frames
    win = round(window * file_sr)
    step = round(hop * file_sr)
    if win < 1 or step < 1:
        raise ParameterError(
            f"window={window} s and hop={hop} s must each span at least one sample "
            f"of {where} ({file_sr} Hz)."
        )
    if n_frames < 1:
        raise AudioDecodeError(
            f"Audio file {where} holds no samples (or its length is unknown to "
            "libsndfile); convert it to WAV or FLAC."
        )
    n_windows = 1 if n_frames <= win else math.ceil((n_frames - win) / step) + 1
    buffer = np.empty((0, sound.channels), dtype=np.float32)
    buffer_start = 0  # file frame of buffer[0]
    for k in range(n_windows):
        start = k * step
        end = min(start + win, n_frames)
        kept = max(0, buffer_start + len(buffer) - start)
        buffer = buffer[len(buffer) - kept :]
        if kept == 0 and sound.tell() != start:
            sound.seek(start)
        buffer_start = start
        fresh = sound.read(end - start - kept, dtype="float32", always_2d=True)
        buffer = np.concatenate([buffer, fresh]) if kept else fresh
        if len(buffer) != end - start:
            raise AudioDecodeError(
                f"Audio file {where} ended early: expected {n_frames} frames, decoding "
                f"stopped at {buffer_start + len(buffer)}. The file may be truncated."
            )
        yield start, end, buffer


def _check_number(name: str, value: Any, *, positive: bool) -> None:
    if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {value!r}.")
    if positive and value <= 0:
        raise ParameterError(f"{name} must be > 0 seconds, got {value!r}.")


def _check_class_names(classes: np.ndarray) -> None:
    clash = [c for c in classes.tolist() if c in _RESERVED_COLUMNS]
    if clash:
        raise ParameterError(
            f"The pipeline's class(es) {clash} have the name of a timeline column "
            f"({', '.join(_RESERVED_COLUMNS)}); rename the labels before fitting."
        )


def _pipeline_sr(pipeline: Any) -> int:
    params = pipeline.get_params(deep=True) if hasattr(pipeline, "get_params") else {}
    for key, value in params.items():
        if (key == "sr" or key.endswith("__sr")) and value is not None:
            return value
    raise ParameterError(
        f"Cannot tell the sampling rate {type(pipeline).__name__} expects: none of its "
        "parameters is named sr. Pass predict_timeline(..., sr=16000) (the rate the "
        "pipeline was trained at)."
    )


def plot_timeline(df: pd.DataFrame, ax: Any = None, *, classes: Any = None) -> Any:
    """Draw class probabilities against time.

    Each class is a line at the window centres; windows skipped by the VAD
    (NaN) leave gaps, shaded grey.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`predict_timeline`.
    ax : matplotlib.axes.Axes or None, default=None
        Axes to draw on; a new figure is made when None.
    classes : sequence or None, default=None
        Classes to draw; default every probability column.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    missing = [c for c in ("start", "end", "speech") if c not in df.columns]
    if missing:
        raise ParameterError(
            f"df lacks the column(s) {missing}; pass the output of predict_timeline."
        )
    if classes is None:
        classes = [c for c in df.columns if c not in _RESERVED_COLUMNS]
    unknown = [c for c in classes if c not in df.columns]
    if unknown:
        raise ParameterError(f"classes {unknown} are not columns of df: {list(df.columns)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3))
    centre = (df["start"].to_numpy() + df["end"].to_numpy()) / 2
    for name in classes:
        ax.plot(centre, df[name].to_numpy(dtype=float), label=str(name))
    for start, end in df.loc[~df["speech"].to_numpy(dtype=bool), ["start", "end"]].to_numpy():
        ax.axvspan(start, end, color="0.9", zorder=0, linewidth=0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("probability")
    ax.set_ylim(0.0, 1.0)
    if classes:
        ax.legend(loc="upper right", fontsize="small", ncols=min(len(classes), 4))
    return ax
