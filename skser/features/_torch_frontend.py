"""A batched torch version of a fixed-length :class:`~skser.features.MFCC` front end.

:class:`MFCCModule` computes what ``MFCC.transform`` computes for fixed-length
audio (``duration`` or ``n_frames`` set) on a ``(batch, samples)`` tensor, on
the CPU or a CUDA device, and traces into ONNX (see :mod:`skser.export`). The
constant matrices (window times DFT basis, mel filterbank, DCT, delta operator)
are built once from the numpy implementation's own helpers, so both paths share
one definition of the analysis.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._weight_cache import CachedInferenceWeights
from ..exceptions import AudioInputError, ParameterError
from ._base import _validate, centre_fit
from ._logmel import _AMPLITUDE_EPS
from ._mfcc import MFCC, dct_matrix
from ._spectral import _stft_window, mel_filterbank, n_frames_of

__all__ = ["MFCCModule"]

_TORCH_PAD_MODES = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}

#: Framed samples (rows x frames x n_fft) analysed at once on the CPU: about
#: 2.3 MB of frames per chunk (rows are independent), so that the per-thread
#: work buffers stay small whatever the batch size. 3 s clips: 3 rows of
#: Light-SERNet, 2 of TIM-Net; 4-5 rows were slower when other jobs shared the
#: L3 cache, 1 row slower from per-operator overhead.
_CPU_CHUNK_SAMPLES = 2**19 + 2**16

#: Consecutive mel bands multiplied as one dense block on the CPU.
_MEL_BLOCK_BANDS = 16


#: Smallest |X|^2 passed to the square root of the magnitude (see
#: :meth:`MFCCModule._magnitude`).
_POWER_FLOOR = 1e-30

#: Largest number of consecutive samples per group of :func:`_largest_abs`.
_TOPK_GROUP_SAMPLES = 64


def _largest_abs(values: torch.Tensor, k: int, *, nonnegative: bool = False) -> torch.Tensor:
    """The ``k`` largest absolute values of each row of ``values`` (batch, n), descending.

    The values of ``torch.topk(values.abs(), k).values`` (``nonnegative=True``:
    ``values`` are known to be non-negative, so no absolute value is taken).
    On the CPU, when ``k`` is small, each row is cut into groups of up to :data:`_TOPK_GROUP_SAMPLES`
    consecutive samples (about ``8 k`` groups or more), the largest
    ``|value|`` of each group comes from its largest and smallest values (no
    ``|values|`` tensor), and only the ``k`` groups with the largest maxima
    are searched, the same way: every value outside them is at most the k-th
    largest group maximum, so at most the k-th largest value of the kept
    groups. Several times faster than a top-k over the whole row for a
    99.9th percentile of 48,000 samples.
    """
    batch, n = values.shape
    size = min(_TOPK_GROUP_SAMPLES, n // (8 * k))
    if torch.onnx.is_in_onnx_export() or values.device.type != "cpu" or size < 4:
        return torch.topk(values if nonnegative else values.abs(), k, dim=1).values
    n_groups = -(-n // size)
    if n_groups * size != n:
        values = F.pad(values, (0, n_groups * size - n))  # zeros sort last
    grid = values.view(batch, n_groups, size)
    # amax and amin: two vectorised passes, 7.5x faster than aminmax here.
    peaks = grid.amax(dim=2) if nonnegative else torch.maximum(grid.amax(dim=2),
                                                          grid.amin(dim=2).neg_())
    keep = peaks.topk(k, dim=1, sorted=False).indices
    rows = torch.arange(0, batch * n_groups, n_groups, device=values.device).unsqueeze(1)
    kept = grid.reshape(batch * n_groups, size).index_select(0, (keep + rows).view(-1))
    kept = kept.view(batch, k * size)
    return _largest_abs(kept if nonnegative else kept.abs_(), k, nonnegative=True)


def _mel_blocks(fb: np.ndarray) -> tuple[tuple[int, int], tuple[tuple[int, int, int, int], ...]]:
    """Where a (n_mels, n_bins) filterbank is non-zero, as dense blocks.

    Returns the bin range ``(lo, hi)`` that any band uses, and for each group
    of :data:`_MEL_BLOCK_BANDS` consecutive bands ``(band_start, band_stop,
    bin_start, bin_stop)``, bins relative to ``lo``. Mel triangles cover
    contiguous bins, so the product of a spectrum with these blocks is the
    dense product restricted to its non-zero part: a few dense matrix
    products doing about an eighth of the dense work.
    """
    used = np.flatnonzero(fb.any(axis=0))
    lo, hi = (int(used[0]), int(used[-1]) + 1) if used.size else (0, 1)
    blocks = []
    for start in range(0, fb.shape[0], _MEL_BLOCK_BANDS):
        stop = min(start + _MEL_BLOCK_BANDS, fb.shape[0])
        cols = np.flatnonzero(fb[start:stop].any(axis=0))
        first, last = (int(cols[0]), int(cols[-1]) + 1) if cols.size else (lo, lo + 1)
        blocks.append((start, stop, first - lo, last - lo))
    return (lo, hi), tuple(blocks)


def _delta_operator(n_frames: int, deltas: int, width: int) -> np.ndarray:
    """Matrices ``D_k`` (deltas, T, T) with ``librosa.feature.delta(x, order=k) = x @ D_k``.

    The delta is linear in its input, so applying the numpy path's delta to the
    identity gives its exact operator (edge handling, width shrinking included).
    """
    from ._logmel import add_deltas

    eye = np.eye(n_frames, dtype=np.float64)
    stacked = add_deltas(eye, deltas, width)  # rows: [I, delta rows, delta2 rows]
    return stacked[n_frames:].reshape(deltas, n_frames, n_frames)


#: Per-thread scratch buffers of the CPU analysis (see :func:`_scratch`).
_WORKSPACE = threading.local()


def _workspace(y: torch.Tensor) -> dict | None:
    """This thread's scratch buffers for analysing ``y`` on the CPU, or None.

    Fresh multi-megabyte tensors for every chunk and call cost page faults
    (glibc hands freed memory back to the system) that can take more CPU time
    than the FFT itself, so the CPU path writes its samples, frames, power and
    mel bands into buffers kept per thread (about 4 MB for 3 s Light-SERNet
    clips: sized by :data:`_CPU_CHUNK_SAMPLES` or one row, whatever the batch
    size; reused by every module on that thread; thread-local so concurrent
    calls cannot share them). The spectrum is the exception: ``torch.fft.rfft``
    with ``out=`` computes into a fresh tensor and copies it, which costs more
    than the occasional page faults of a fresh spectrum. None, and
    so fresh tensors, when ``y`` needs gradients (autograd keeps them) or is
    not on the CPU.
    """
    if y.device.type != "cpu" or y.requires_grad:
        return None
    inference = torch.is_inference_mode_enabled()
    work = getattr(_WORKSPACE, "buffers", None)
    if work is None or work.get("inference") != inference:
        work = _WORKSPACE.buffers = {"inference": inference}
    return work


def _scratch(
    work: dict | None, name: str, shape: Sequence[int], dtype: torch.dtype, device: torch.device
) -> torch.Tensor | None:
    """Buffer ``name`` of ``shape`` from ``work`` (:func:`_workspace`), or None.

    A buffer with the right trailing shape and at least ``shape[0]`` rows is
    reused (its first rows); otherwise it is replaced. None when ``work`` is
    None (the operation then allocates its own output).
    """
    if work is None:
        return None
    shape = tuple(shape)
    buffer = work.get(name)
    if (buffer is None or buffer.dtype != dtype or buffer.shape[1:] != shape[1:]
            or buffer.shape[0] < shape[0]):
        buffer = work[name] = torch.empty(shape, dtype=dtype, device=device)
    return buffer[: shape[0]]


class MFCCModule(CachedInferenceWeights, nn.Module):
    """Batched torch MFCC front end equal to a fixed-length :class:`MFCC`.

    Build it with :meth:`from_transformer`. ``forward`` maps waveforms of shape
    ``(batch, n_samples)`` at the transformer's ``sr`` to features of shape
    ``(batch, n_frames, n_features)``, float32, the same numbers as
    ``mfcc.transform`` (tolerances in ``tests/test_torch_frontend.py``: about
    1e-3 absolute on coefficients of magnitude up to a few hundred, float32
    rounding of a different FFT).

    Rows longer than the transformer's fixed length are centre-cropped and
    shorter ones centre-zero-padded as in the numpy path. The percentile
    amplitude normalisation of a padded row must see only its real samples:
    pass ``lengths`` (or use :meth:`transform`, which does it for you).

    Parameters
    ----------
    params : dict
        ``mfcc.get_params()`` of a supported :class:`MFCC` (use
        :meth:`from_transformer`).
    """

    _cache_attr = "_block_cache"  # :meth:`_block_bases`

    def __init__(self, params: dict[str, Any]):
        super().__init__()
        p = dict(params)
        self.params = p
        self.sr = int(p["sr"])
        self.n_fft = int(p["n_fft"])
        self.hop_length = int(p["hop_length"])
        self.center = bool(p["center"])
        self.pad_mode = _TORCH_PAD_MODES[p["pad_mode"]]
        self.power = float(p["power"])
        self.log = p["log"]
        self.top_db = None if p["top_db"] is None else float(p["top_db"])
        self.amin = float(p["amin"])
        self.log_offset = float(p["log_offset"])
        self.cmvn = bool(p["cmvn"])
        self.clip = None if p["clip"] is None else float(p["clip"])
        self.amplitude_norm = p["amplitude_norm"]
        self.amplitude_percentile = float(p["amplitude_percentile"])
        self.preemphasis = None if p["preemphasis"] is None else float(p["preemphasis"])
        self.deltas = int(p["deltas"])
        self.use_fft = True
        #: Rows analysed at once on the CPU; None: as many as keep about
        #: :data:`_CPU_CHUNK_SAMPLES` framed samples (rows are independent).
        self.cpu_rows_per_chunk: int | None = None

        mfcc = MFCC(**p)
        self.target_samples = int(mfcc._target_samples())
        self.n_samples = max(self.target_samples, mfcc._min_samples())
        self.n_frames = n_frames_of(self.n_samples, self.n_fft, self.hop_length, self.center)

        window = _stft_window(p["window"], p["win_length"] or self.n_fft, self.n_fft)
        fb = mel_filterbank(
            sr=self.sr, n_fft=self.n_fft, n_mels=int(p["n_mels"]), fmin=float(p["fmin"]),
            fmax=p["fmax"], mel_scale=p["mel_scale"], mel_norm=p["mel_norm"],
        ).toarray()
        dct = dct_matrix(int(p["n_mfcc"]), int(p["n_mels"]), p["dct_norm"])
        self._bins, self._mel_blocks = _mel_blocks(fb)
        self.register_buffer("window", torch.from_numpy(np.array(window, np.float32)))
        self.register_buffer("mel_basis", torch.from_numpy(fb.T.astype(np.float32)))
        self.register_buffer("dct_basis", torch.from_numpy(np.array(dct.T, np.float32)))
        if self.deltas:
            ops = _delta_operator(self.n_frames, self.deltas, int(p["delta_width"]))
            self.register_buffer("delta_ops", torch.from_numpy(ops.astype(np.float32)))
        else:
            self.delta_ops = None

    # -- construction -------------------------------------------------------
    @classmethod
    def from_transformer(cls, mfcc: MFCC) -> "MFCCModule":
        """Module computing what the fixed-length ``mfcc`` computes.

        Parameters
        ----------
        mfcc : MFCC
            Configured (fitting is not needed: it is stateless) with
            ``duration`` or ``n_frames`` set, e.g. ``MFCC.light_sernet()`` or
            ``MFCC.timnet(duration=96000 / 22050)``.

        Returns
        -------
        module : MFCCModule
            On the CPU, in eval mode; move it with ``.to(device)``.

        Raises
        ------
        ParameterError
            If ``mfcc`` is not an :class:`MFCC`, has invalid parameters, or uses
            a setting the torch path does not implement (named in the message).
        """
        if not isinstance(mfcc, MFCC):
            raise ParameterError(
                f"MFCCModule.from_transformer needs an skser.features.MFCC, got "
                f"{type(mfcc).__name__}."
            )
        _validate(mfcc)
        mfcc._check_params()
        if mfcc.duration is None and mfcc.n_frames is None:
            raise ParameterError(
                "MFCCModule needs a fixed length: set duration= (seconds) or n_frames= on "
                "the MFCC, e.g. MFCC.timnet(duration=96000 / 22050); got duration=None "
                "and n_frames=None."
            )
        if mfcc.pad_mode not in _TORCH_PAD_MODES:
            raise ParameterError(
                f"MFCCModule does not implement pad_mode={mfcc.pad_mode!r}; use one of "
                f"{sorted(_TORCH_PAD_MODES)}."
            )
        return cls(mfcc.get_params()).eval()

    # -- analysis -----------------------------------------------------------
    def _amplitude_scale(self, y: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Per-row scale (batch, 1) of the amplitude normalisation."""
        if self.amplitude_norm == "peak":
            return torch.maximum(y.amax(dim=1, keepdim=True), y.amin(dim=1, keepdim=True).neg_())
        # numpy's linear percentile of each row's real samples. Zero padding
        # sorts below every real |sample|, so the k largest values are the
        # real ones: a top-k over the padded row is enough.
        q = self.amplitude_percentile / 100.0
        if lengths is None:
            n = y.shape[1]
            pos = q * (n - 1)
            lo = math.floor(pos)
            hi = min(lo + 1, n - 1)
            top = _largest_abs(y, n - lo)
            v_lo, v_hi = top[:, n - 1 - lo : n - lo], top[:, n - 1 - hi : n - hi]
            frac = pos - lo
        else:
            n = lengths.to(torch.float64)
            pos = q * (n - 1)
            lo = torch.floor(pos)
            hi = torch.minimum(lo + 1, n - 1)
            k = int((n - lo).max().item())
            top = _largest_abs(y, min(k, y.shape[1]))
            rank_lo = (n - 1 - lo).long().unsqueeze(1)
            rank_hi = (n - 1 - hi).long().unsqueeze(1)
            v_lo, v_hi = top.gather(1, rank_lo), top.gather(1, rank_hi)
            frac = (pos - lo).to(y.dtype).unsqueeze(1)
        return v_lo + frac * (v_hi - v_lo)

    def _fit_length(self, y: torch.Tensor) -> torch.Tensor:
        """Centre-crop to the fixed length, then centre-zero-pad to the analysed length."""
        n = y.shape[1]
        if n > self.target_samples:
            start = (n - self.target_samples) // 2
            y = y[:, start : start + self.target_samples]
            n = self.target_samples
        if n < self.n_samples:
            before = (self.n_samples - n) // 2
            y = F.pad(y, (before, self.n_samples - n - before))
        return y

    def _padded_into(
        self, work: dict, y: torch.Tensor, scale: torch.Tensor | None
    ) -> torch.Tensor:
        """Normalised, zero-padded and centred rows written into one work buffer.

        What the functional path computes (``clamp(y / scale, -1, 1)``,
        :meth:`_fit_length`, constant centring) without a fresh tensor per step.
        """
        batch, n = y.shape
        half = self.n_fft // 2 if self.center else 0
        signal = _scratch(work, "signal", (batch, self.n_samples + 2 * half), y.dtype, y.device)
        before = half + (self.n_samples - n) // 2
        signal[:, :before].zero_()
        signal[:, before + n :].zero_()
        middle = signal[:, before : before + n]
        if scale is None:
            middle.copy_(y)
        else:
            torch.div(y, scale, out=middle).clamp_(-1.0, 1.0)
        return signal

    def _centred_frames_into(self, work: dict, y: torch.Tensor) -> torch.Tensor | None:
        """Windowed frames (batch, n_frames, n_fft) of rows of the analysed
        length, centred with zeros, in the ``"frames"`` work buffer.

        The frames inside the rows come straight from ``y`` and the few that
        overlap the centring from short zero-padded edges, so the rows are
        not copied into a padded signal first. None when the rows are too
        short for that split.
        """
        batch, n = y.shape
        n_fft, hop, half = self.n_fft, self.hop_length, self.n_fft // 2
        first = -(-half // hop)  # first frame that starts inside the row
        last = (n + half - n_fft) // hop  # last frame that ends inside it
        head = (first - 1) * hop + n_fft - half  # samples of the frames before ``first``
        if last < first or head > n:
            return None
        frames = _scratch(work, "frames", (batch, self.n_frames, n_fft), y.dtype, y.device)
        inner = y[:, first * hop - half :].unfold(1, n_fft, hop)[:, : last - first + 1]
        torch.mul(inner, self.window, out=frames[:, first : last + 1])
        if first > 0:
            edge = F.pad(y[:, :head], (half, 0))
            torch.mul(edge.unfold(1, n_fft, hop), self.window, out=frames[:, :first])
        if last + 1 < self.n_frames:
            start = (last + 1) * hop - half
            stop = (self.n_frames - 1) * hop - half + n_fft
            edge = F.pad(y[:, start:], (0, stop - n))
            torch.mul(edge.unfold(1, n_fft, hop), self.window, out=frames[:, last + 1 :])
        return frames

    def _mel_spectrum(
        self, y: torch.Tensor, work: dict | None = None, windowed: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mel bands of ``|STFT|^power`` of uncentred frames, (batch, n_frames, n_mels).

        Eager: an FFT of the windowed frames, the power of the bins that some
        band uses only, and the filterbank product as :func:`_mel_blocks`
        dense blocks on the CPU (one restricted dense product on a GPU). While
        exporting to ONNX (or with ``use_fft=False``): the real-valued
        :func:`torch.stft`, which exports to ONNX's STFT operator (opset 17;
        the complex form does not export), and the full dense product.
        The CPU path writes the bands into the work buffer ``"mel"`` (changed
        in place by :meth:`_cepstra`); ``windowed``: its windowed frames when
        already computed (then ``y`` is not read).
        """
        if torch.onnx.is_in_onnx_export() or not self.use_fft:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*return_complex=False.*")
                spectrum = torch.stft(
                    y, self.n_fft, hop_length=self.hop_length, window=self.window,
                    center=False, onesided=True, return_complex=False,
                ).transpose(1, 2)  # (B, T, n_bins, 2)
            real, imag = spectrum[..., 0], spectrum[..., 1]
            return self._magnitude(torch.addcmul(real * real, imag, imag)) @ self.mel_basis
        lo, hi = self._bins
        if windowed is None:
            frames = y.unfold(1, self.n_fft, self.hop_length)  # (B, T, n_fft), a view
            windowed = torch.mul(frames, self.window,
                                 out=_scratch(work, "frames", frames.shape, y.dtype, y.device))
        batch, n_frames = windowed.shape[:2]
        spectrum = torch.fft.rfft(windowed)
        # Squares of the interleaved (real, imag) pairs in one contiguous pass,
        # then their sums: 2x faster than addcmul on strided real/imag views.
        squares = torch.view_as_real(spectrum[..., lo:hi]).square_()
        power = torch.add(squares[..., 0], squares[..., 1],
                          out=_scratch(work, "power", (batch, n_frames, hi - lo), y.dtype, y.device))
        spec = self._magnitude(power)
        if spec.device.type != "cpu":
            return spec @ self.mel_basis[lo:hi]
        n_mels = self.mel_basis.shape[1]
        flat = spec.view(batch * n_frames, hi - lo)
        mel = torch.cat(
            [torch.mm(flat[:, first:last], basis)
             for (_, _, first, last), basis in zip(self._mel_blocks, self._block_bases())],
            dim=1, out=_scratch(work, "mel", (batch * n_frames, n_mels), y.dtype, y.device),
        )
        return mel.view(batch, n_frames, n_mels)

    def _block_bases(self) -> list[torch.Tensor]:
        """The :func:`_mel_blocks` of ``mel_basis`` as contiguous matrices.

        Cached while the module's buffers hold (see
        :class:`~skser._weight_cache.CachedInferenceWeights`: rebuilt when
        ``mel_basis`` changes in place, dropped by ``.to()`` and
        ``load_state_dict``, never pickled); contiguous blocks make the
        products 1.1x faster than slices of the whole filterbank.
        """
        return self._cached_weights(self._contiguous_blocks)

    def _contiguous_blocks(self) -> list[torch.Tensor]:
        lo = self._bins[0]
        return [self.mel_basis[lo + first : lo + last, start:stop].contiguous()
                for start, stop, first, last in self._mel_blocks]

    def _magnitude(self, power: torch.Tensor) -> torch.Tensor:
        """``|X|^self.power`` from a freshly computed ``|X|^2`` (modified in place).

        Powers below :data:`_POWER_FLOOR` are raised to it first: torch's
        vectorised square root takes 1.6x as long on arrays holding exact
        zeros (the silent frames of zero-padded clips), and a magnitude of
        1e-15 instead of 0 is far below every preset's log offset or floor.
        """
        if self.power == 2.0:
            return power
        power = power.clamp_(min=_POWER_FLOOR)
        if self.power == 1.0:
            return power.sqrt_()
        return power.pow_(self.power / 2.0)

    def _rows_per_chunk(self) -> int:
        if self.cpu_rows_per_chunk is not None:
            return max(1, int(self.cpu_rows_per_chunk))
        return max(1, _CPU_CHUNK_SAMPLES // (self.n_frames * self.n_fft))

    def forward(self, waveform: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """MFCC features of a batch of waveforms.

        Parameters
        ----------
        waveform : torch.Tensor of shape (batch, n_samples), float32
            Audio at ``sr``. Every row is analysed as one utterance.
        lengths : torch.Tensor of shape (batch,), int, optional
            Number of real samples of each row, when rows were zero-padded to a
            common length (only the percentile normalisation needs it). None:
            every sample is real.

        Returns
        -------
        features : torch.Tensor of shape (batch, n_frames, n_features), float32
        """
        y = waveform.to(torch.float32)
        if y.shape[1] > self.target_samples:
            y = self._fit_length(y)
            lengths = None if lengths is None else lengths.clamp(max=self.target_samples)
        is_export = torch.onnx.is_in_onnx_export()
        work = None if is_export else _workspace(y)
        scale = None
        if self.amplitude_norm is not None:
            scale = self._amplitude_scale(y, lengths) + _AMPLITUDE_EPS
        rows = self._rows_per_chunk()
        if y.device.type == "cpu" and y.shape[0] > rows and not is_export:
            # Rows are independent; a few at a time keep the spectra in cache.
            return torch.cat([
                self._cepstra(self._mel_of(
                    y[i : i + rows], None if scale is None else scale[i : i + rows], work))
                for i in range(0, y.shape[0], rows)
            ])
        return self._cepstra(self._mel_of(y, scale, work))

    def _mel_of(
        self, y: torch.Tensor, scale: torch.Tensor | None, work: dict | None
    ) -> torch.Tensor:
        """Mel bands (batch, n_frames, n_mels) of cropped rows ``y`` given their
        amplitude ``scale`` (batch, 1)."""
        if work is not None and self.preemphasis is None and (
            not self.center or self.pad_mode == "constant"
        ):
            if self.use_fft and scale is None and self.center and y.shape[1] == self.n_samples:
                windowed = self._centred_frames_into(work, y)
                if windowed is not None:
                    return self._mel_spectrum(y, work, windowed)
            y = self._padded_into(work, y, scale)
        else:
            if scale is not None:
                y = torch.clamp(y / scale, -1.0, 1.0)
            y = self._fit_length(y)
            if self.preemphasis is not None:
                y = torch.cat([y[:, :1], y[:, 1:] - self.preemphasis * y[:, :-1]], dim=1)
            if self.center:
                half = self.n_fft // 2
                y = F.pad(y.unsqueeze(1), (half, half), mode=self.pad_mode).squeeze(1)
        return self._mel_spectrum(y, work)

    def _cepstra(self, mel: torch.Tensor) -> torch.Tensor:
        """Features (batch, n_frames, n_features) of mel bands (changed in place)."""
        if self.log == "db":
            mel = mel.clamp_(min=self.amin).log10_().mul_(10.0)
            if self.top_db is not None:
                peak = mel.amax(dim=(1, 2), keepdim=True)
                mel = torch.maximum(mel, peak - self.top_db)
        elif self.log == "natural":
            mel = mel.add_(self.log_offset).log_()
        feats = mel @ self.dct_basis  # (B, T, n_mfcc)
        if self.delta_ops is not None:
            parts = [feats]
            for op in self.delta_ops:
                parts.append(torch.einsum("btf,ts->bsf", feats, op))
            feats = torch.cat(parts, dim=-1)
        if self.cmvn:
            mean = feats.mean(dim=1, keepdim=True)
            std = feats.std(dim=1, keepdim=True, unbiased=False)
            std = torch.where(std < 1e-8, torch.ones_like(std), std)
            feats = (feats - mean) / std
        if self.clip is not None:
            feats = feats.clamp_(-self.clip, self.clip)
        return feats

    # -- numpy convenience --------------------------------------------------
    @torch.no_grad()
    def transform(
        self, waveforms: Sequence[np.ndarray] | np.ndarray, *, batch_size: int = 64
    ) -> np.ndarray:
        """Features of 1-D waveforms of any lengths, like ``MFCC.transform``.

        Parameters
        ----------
        waveforms : sequence of np.ndarray of shape (n_i,), or array (n, samples)
            Audio at ``sr`` (decode and resample paths first, e.g. with
            :class:`~skser.features.LoadAudio`).
        batch_size : int, default=64
            Rows sent to the module at once, on the module's device.

        Returns
        -------
        features : np.ndarray of shape (n, n_frames, n_features), float32
        """
        device = self.window.device
        # Rows of a float32 array already of the analysed length go to torch
        # without a copy (a fresh stacked batch costs page faults).
        whole = (isinstance(waveforms, np.ndarray) and waveforms.ndim == 2
                 and waveforms.dtype == np.float32 and waveforms.shape[1] == self.n_samples
                 and self.n_samples == self.target_samples)
        out = []
        for start in range(0, len(waveforms), batch_size):
            if whole:
                x = torch.from_numpy(np.ascontiguousarray(waveforms[start : start + batch_size]))
                out.append(self(x.to(device)).cpu().numpy())
                continue
            rows = [np.asarray(w, dtype=np.float32).reshape(-1)
                    for w in waveforms[start : start + batch_size]]
            lengths = [min(r.shape[0], self.target_samples) for r in rows]
            batch = np.stack([centre_fit(centre_fit(r, self.target_samples), self.n_samples)
                              for r in rows])
            x = torch.from_numpy(batch).to(device)
            # Rows of the full analysed length need no lengths (fewer small ops).
            n = (None if min(lengths) == self.n_samples
                 else torch.tensor(lengths, device=device))
            out.append(self(x, n).cpu().numpy())
        if not out:
            raise AudioInputError("No waveforms to transform: got 0 rows; pass at least one waveform.")
        return out[0] if len(out) == 1 else np.concatenate(out)
