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
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..exceptions import AudioInputError, ParameterError
from ._base import _validate, centre_fit
from ._logmel import _AMPLITUDE_EPS
from ._mfcc import MFCC, dct_matrix
from ._spectral import _stft_window, mel_filterbank, n_frames_of

__all__ = ["MFCCModule"]

_TORCH_PAD_MODES = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}


def _delta_operator(n_frames: int, deltas: int, width: int) -> np.ndarray:
    """Matrices ``D_k`` (deltas, T, T) with ``librosa.feature.delta(x, order=k) = x @ D_k``.

    The delta is linear in its input, so applying the numpy path's delta to the
    identity gives its exact operator (edge handling, width shrinking included).
    """
    from ._logmel import add_deltas

    eye = np.eye(n_frames, dtype=np.float64)
    stacked = add_deltas(eye, deltas, width)  # rows: [I, delta rows, delta2 rows]
    return stacked[n_frames:].reshape(deltas, n_frames, n_frames)


class MFCCModule(nn.Module):
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
        #: Rows analysed at once on the CPU (cache-sized; rows are independent).
        self.cpu_rows_per_chunk = 4
        self._sparse_mel: torch.Tensor | None = None

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

    def __getstate__(self) -> dict:
        # The sparse copy of the filterbank is a cache that cannot be pickled.
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__
        return {**state, "_sparse_mel": None}

    # -- analysis -----------------------------------------------------------
    def _amplitude_scale(self, y: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Per-row scale (batch, 1) of the amplitude normalisation."""
        mag = y.abs()
        if self.amplitude_norm == "peak":
            return mag.amax(dim=1, keepdim=True)
        # numpy's linear percentile of each row's real samples. Zero padding
        # sorts below every real |sample|, so the k largest values are the
        # real ones: a top-k over the padded row is enough.
        q = self.amplitude_percentile / 100.0
        if lengths is None:
            n = y.shape[1]
            pos = q * (n - 1)
            lo = math.floor(pos)
            hi = min(lo + 1, n - 1)
            top = torch.topk(mag, n - lo, dim=1, sorted=True).values
            v_lo, v_hi = top[:, n - 1 - lo : n - lo], top[:, n - 1 - hi : n - hi]
            frac = pos - lo
        else:
            n = lengths.to(torch.float64)
            pos = q * (n - 1)
            lo = torch.floor(pos)
            hi = torch.minimum(lo + 1, n - 1)
            k = int((n - lo).max().item())
            top = torch.topk(mag, min(k, y.shape[1]), dim=1, sorted=True).values
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

    def _power_spectrum(self, y: torch.Tensor) -> torch.Tensor:
        """``|STFT|^2`` of uncentred frames, (batch, n_frames, 1 + n_fft // 2).

        An FFT of the unfolded frames normally; the real-valued
        :func:`torch.stft` while exporting to ONNX (or with ``use_fft=False``).
        """
        if torch.onnx.is_in_onnx_export() or not self.use_fft:
            # Real-valued STFT: exports to ONNX's STFT operator (opset 17); the
            # complex form that torch prefers does not export.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*return_complex=False.*")
                spectrum = torch.stft(
                    y, self.n_fft, hop_length=self.hop_length, window=self.window,
                    center=False, onesided=True, return_complex=False,
                ).transpose(1, 2)  # (B, T, n_bins, 2)
            real, imag = spectrum[..., 0], spectrum[..., 1]
        else:
            frames = y.unfold(1, self.n_fft, self.hop_length)  # (B, T, n_fft)
            spectrum = torch.fft.rfft(frames * self.window)
            real, imag = spectrum.real, spectrum.imag
        return torch.addcmul(real * real, imag, imag)

    def _mel(self, spec: torch.Tensor) -> torch.Tensor:
        """Mel bands (batch, n_frames, n_mels) of a (batch, n_frames, n_bins) spectrum.

        On the CPU the filterbank is used in sparse CSR form (every bin feeds at
        most two bands; about 3x faster than the dense product).
        """
        if spec.device.type != "cpu" or torch.onnx.is_in_onnx_export() or not self.use_fft:
            return spec @ self.mel_basis
        if self._sparse_mel is None or self._sparse_mel.dtype != self.mel_basis.dtype:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "CSR support is in beta"
                self._sparse_mel = self.mel_basis.to_sparse_csr()
        batch, n_frames, n_bins = spec.shape
        mel = spec.reshape(batch * n_frames, n_bins) @ self._sparse_mel
        return mel.reshape(batch, n_frames, -1)

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
        rows = self.cpu_rows_per_chunk
        if y.device.type == "cpu" and y.shape[0] > rows and not torch.onnx.is_in_onnx_export():
            # Rows are independent; a few at a time keep the spectra in cache
            # (about 2x less CPU time than one 32-row pass).
            parts = [self(y[i : i + rows], None if lengths is None else lengths[i : i + rows])
                     for i in range(0, y.shape[0], rows)]
            return torch.cat(parts)
        if y.shape[1] > self.target_samples:
            y = self._fit_length(y)
            lengths = None if lengths is None else lengths.clamp(max=self.target_samples)
        if self.amplitude_norm is not None:
            scale = self._amplitude_scale(y, lengths)
            y = torch.clamp(y / (scale + _AMPLITUDE_EPS), -1.0, 1.0)
        y = self._fit_length(y)
        if self.preemphasis is not None:
            y = torch.cat([y[:, :1], y[:, 1:] - self.preemphasis * y[:, :-1]], dim=1)
        if self.center:
            half = self.n_fft // 2
            y = F.pad(y.unsqueeze(1), (half, half), mode=self.pad_mode).squeeze(1)
        power = self._power_spectrum(y)  # (B, T, n_bins)
        if self.power == 1.0:
            spec = power.sqrt()
        elif self.power == 2.0:
            spec = power
        else:
            spec = power.pow(self.power / 2.0)
        mel = self._mel(spec)
        if self.log == "db":
            mel = 10.0 * torch.log10(torch.clamp(mel, min=self.amin))
            if self.top_db is not None:
                peak = mel.amax(dim=(1, 2), keepdim=True)
                mel = torch.maximum(mel, peak - self.top_db)
        elif self.log == "natural":
            mel = torch.log(mel + self.log_offset)
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
            feats = torch.clamp(feats, -self.clip, self.clip)
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
        out = []
        for start in range(0, len(waveforms), batch_size):
            rows = [np.asarray(w, dtype=np.float32).reshape(-1)
                    for w in waveforms[start : start + batch_size]]
            lengths = [min(r.shape[0], self.target_samples) for r in rows]
            batch = np.stack([centre_fit(centre_fit(r, self.target_samples), self.n_samples)
                              for r in rows])
            x = torch.from_numpy(batch).to(device)
            n = torch.tensor(lengths, device=device)
            out.append(self(x, n).cpu().numpy())
        if not out:
            raise AudioInputError("No waveforms to transform: got 0 rows; pass at least one waveform.")
        return np.concatenate(out)
