"""Fine-tuning a pretrained speech encoder: its upper layers and an attentive-pooling head, on raw audio."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from torch import nn
from torch.utils.data import Dataset

from .._audio import as_audio_items, as_object_array, prepare_waveform
from ..exceptions import AudioInputError, ParameterError
from ..features._base import centre_fit
from ..features._encoder import (
    LoadedEncoder,
    encoder_inputs,
    load_encoder,
    normalize_waveform,
)
from ._base import BaseNeuralClassifier
from ._masking import time_mask

__all__ = ["AttentivePooling", "SpeechEncoderClassifier", "SpeechEncoderClassifierModule"]


class AttentivePooling(nn.Module):
    """Attention-weighted statistics over the valid frames (Okabe et al., 2018).

    Scores ``w_t = v^T tanh(W h_t + b)``, softmax over the real frames, then
    the weighted mean (and, with ``stats=True``, the weighted standard
    deviation) of the frames.

    Parameters
    ----------
    dim : int
        Frame dimension D.
    hidden : int, default=128
    stats : bool, default=False
        Return ``[mean, std]`` (2 D values) instead of the mean.
    """

    def __init__(self, dim: int, hidden: int = 128, stats: bool = False):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.stats = stats
        self.out_features = 2 * dim if stats else dim

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``h`` (batch, T, D), ``mask`` (batch, T) True on real frames -> (batch, out_features)."""
        scores = self.score(h).squeeze(-1).float()
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        w = torch.softmax(scores, dim=1).to(h.dtype).unsqueeze(-1)
        mean = (w * h).sum(dim=1)
        if not self.stats:
            return mean
        var = (w * (h - mean.unsqueeze(1)) ** 2).sum(dim=1)
        return torch.cat([mean, var.clamp_min(1e-8).sqrt()], dim=1)


def _encoder_layers(encoder: nn.Module) -> nn.ModuleList:
    """The transformer layers of a wav2vec2-family encoder or a Whisper encoder."""
    inner = getattr(encoder, "encoder", None)
    if inner is not None and hasattr(inner, "layers"):
        return inner.layers
    if hasattr(encoder, "layers"):
        return encoder.layers
    raise ParameterError(f"Cannot find the transformer layers of {type(encoder).__name__}.")


def _top_norm(encoder: nn.Module) -> nn.Module | None:
    """The layer norm after the last layer (pre-norm encoders and Whisper), or None."""
    if hasattr(encoder, "layers") and hasattr(encoder, "layer_norm"):  # Whisper encoder
        return encoder.layer_norm
    if getattr(encoder.config, "do_stable_layer_norm", False):
        return encoder.encoder.layer_norm
    return None


class SpeechEncoderClassifierModule(nn.Module):
    """A pretrained speech encoder (upper layers trainable), attentive pooling, dropout, linear output.

    Parameters
    ----------
    encoder : torch.nn.Module
        A copy of the encoder (it is modified: parameters frozen).
    n_classes : int
    n_trainable_layers : int
        Transformer layers trained, counted from the top; 0 trains the head only.
    pooling : {"attentive", "attentive_stats", "mean"}
    head_dropout : float

    Notes
    -----
    The frozen part stays in eval mode while training (no dropout, no
    layer drop), so its output is the pretrained one; the trainable layers
    use their own dropout.
    """

    def __init__(self, encoder: nn.Module, n_classes: int, n_trainable_layers: int, pooling: str, head_dropout: float):
        super().__init__()
        self.encoder = encoder
        for p in encoder.parameters():
            p.requires_grad_(False)
        layers = _encoder_layers(encoder)
        if n_trainable_layers > len(layers):
            raise ParameterError(
                f"n_trainable_layers={n_trainable_layers} but the encoder has {len(layers)} layers."
            )
        self.trainable = nn.ModuleList(list(layers)[len(layers) - n_trainable_layers :]) if n_trainable_layers else nn.ModuleList()
        top = _top_norm(encoder)
        if n_trainable_layers and top is not None:
            self.trainable.append(top)
        for p in self.trainable.parameters():
            p.requires_grad_(True)
        dim = int(getattr(encoder.config, "hidden_size", None) or encoder.config.d_model)
        self.pool = None if pooling == "mean" else AttentivePooling(dim, stats=pooling == "attentive_stats")
        self.dropout = nn.Dropout(head_dropout)
        self.output = nn.Linear(dim if self.pool is None else self.pool.out_features, n_classes)

    def train(self, mode: bool = True) -> "SpeechEncoderClassifierModule":
        super().train(mode)
        self.encoder.eval()
        for m in self.trainable:
            m.train(mode)
        return self

    def forward(self, n_frames: torch.Tensor, **inputs: torch.Tensor) -> torch.Tensor:
        """Logits from the encoder inputs (``input_values`` [+ ``attention_mask``] or ``input_features``).

        ``n_frames`` (batch,) gives each utterance's valid output frames.
        """
        h = self.encoder(**inputs).last_hidden_state
        n_frames = n_frames.clamp(1, h.shape[1])
        mask = time_mask(n_frames, h.shape[1])
        if self.pool is None:
            m = mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(dim=1) / n_frames.unsqueeze(-1).to(h.dtype)
        else:
            pooled = self.pool(h, mask)
        return self.output(self.dropout(pooled))


class _WaveBatches(Dataset):
    """Batches of decoded waveforms turned into encoder inputs (whole batch per ``__getitems__``)."""

    def __init__(self, encoder: LoadedEncoder, waves: np.ndarray, y: np.ndarray | None, indices: np.ndarray | None):
        self.encoder = encoder
        self.waves = waves
        self.y = y
        self.indices = np.arange(len(waves)) if indices is None else np.asarray(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def batch(self, rows: np.ndarray) -> dict:
        inputs, n_frames = encoder_inputs(self.encoder, [self.waves[i] for i in rows], normalized=True)
        return {**inputs, "n_frames": torch.from_numpy(np.asarray(n_frames, dtype=np.int64))}

    def __getitems__(self, positions: list[int]) -> tuple[dict, torch.Tensor]:
        rows = self.indices[np.asarray(positions, dtype=np.int64)]
        yb = torch.from_numpy(self.y[rows]) if self.y is not None else torch.zeros(len(rows), dtype=torch.long)
        return self.batch(rows), yb

    def __getitem__(self, i: int):
        xb, yb = self.__getitems__([i])
        return {k: v[0] for k, v in xb.items()}, yb[0]


class SpeechEncoderClassifier(BaseNeuralClassifier):
    """Fine-tune a pretrained speech encoder (wav2vec2, HuBERT, WavLM, data2vec, Whisper) for emotions.

    The report's future work, "fine-tuning Wav2Vec2" with "attentive pooling
    of the hidden states": the encoder's upper ``n_trainable_layers``
    transformer layers and a head (attentive pooling over the valid frames,
    dropout, linear output) are trained on raw audio; the rest of the encoder
    stays frozen and in eval mode. The encoder learns with ``encoder_lr``, the
    head with ``lr`` (two optimizer parameter groups).

    Parameters
    ----------
    model : str or os.PathLike, default="facebook/wav2vec2-base"
        Hub id or local folder, as in :class:`~skser.features.SpeechEncoder`.
    n_trainable_layers : int, default=2
        Top transformer layers trained (0: the head only).
    encoder_lr : float, default=1e-5
        Learning rate of the trainable encoder layers.
    pooling : {"attentive", "attentive_stats", "mean"}, default="attentive"
        Attentive weighted mean, attentive mean and standard deviation, or the plain mean.
    head_dropout : float, default=0.1
    max_seconds : float or None, default=20.0
        Longer utterances are centre-cropped to this length (bounds memory).
    sr : int, default=16000
        Sampling rate of array input; must equal the encoder's.
    lr, batch_size, max_epochs, optimizer, betas, eps, weight_decay, momentum,
    schedule, schedule_kwargs, loss, focal_gamma, focal_alpha, label_smoothing,
    class_weight, classes, validation_fraction, patience, device, amp,
    random_state, verbose, callbacks, n_threads :
        Training parameters shared by all skser networks (``lr`` is the
        head's); see ``docs/models.md``.

    Attributes
    ----------
    classes_, net_, module_, history_, n_params_, device_ :
        As in every skser network. ``n_params_`` counts the whole encoder.

    Notes
    -----
    ``X`` is audio (paths or waveforms, :mod:`skser._audio`); it is decoded
    once per ``fit``/``predict`` call and held in memory. Pickling stores
    the whole fine-tuned module (for wav2vec2-base about 380 MB); loading
    needs the base encoder available by the same ``model`` path or id.
    """

    _input_kind = "waveform"

    _parameter_constraints: dict = {
        **BaseNeuralClassifier._parameter_constraints,
        "model": [str, HasMethods(["__fspath__"])],
        "n_trainable_layers": [Interval(Integral, 0, None, closed="left")],
        "encoder_lr": [Interval(Real, 0, None, closed="left")],
        "pooling": [StrOptions({"attentive", "attentive_stats", "mean"})],
        "head_dropout": [Interval(Real, 0, 1, closed="left")],
        "max_seconds": [Interval(Real, 0, None, closed="neither"), None],
        "sr": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        model="facebook/wav2vec2-base",
        *,
        n_trainable_layers=2,
        encoder_lr=1e-5,
        pooling="attentive",
        head_dropout=0.1,
        max_seconds=20.0,
        sr=16000,
        lr=1e-3,
        batch_size=8,
        max_epochs=10,
        optimizer="adamw",
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        schedule=None,
        schedule_kwargs=None,
        loss="cross_entropy",
        focal_gamma=2.0,
        focal_alpha=None,
        label_smoothing=0.0,
        class_weight=None,
        classes=None,
        validation_fraction=None,
        patience=None,
        device="auto",
        amp=False,
        random_state=None,
        verbose=0,
        callbacks=None,
        n_threads=None,
    ):
        self.model = model
        self.n_trainable_layers = n_trainable_layers
        self.encoder_lr = encoder_lr
        self.pooling = pooling
        self.head_dropout = head_dropout
        self.max_seconds = max_seconds
        self.sr = sr
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.optimizer = optimizer
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.schedule = schedule
        self.schedule_kwargs = schedule_kwargs
        self.loss = loss
        self.focal_gamma = focal_gamma
        self.focal_alpha = focal_alpha
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        self.classes = classes
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.amp = amp
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.n_threads = n_threads

    def _loaded(self) -> LoadedEncoder:
        encoder = load_encoder(os.fspath(self.model), "cpu")
        if encoder.sampling_rate != self.sr:
            raise ParameterError(
                f"sr={self.sr!r} but the encoder {self.model!r} takes audio at "
                f"{encoder.sampling_rate} Hz; set sr={encoder.sampling_rate}."
            )
        return encoder

    # -- input --------------------------------------------------------------------------
    def _validate_X(self, X: Any, *, reset: bool) -> tuple[np.ndarray, None]:
        encoder = self._loaded()
        items = as_audio_items(X)
        if not items:
            raise AudioInputError(f"{type(self).__name__} got 0 rows of audio.")
        limit = None if self.max_seconds is None else int(self.max_seconds * self.sr)
        waves = []
        for row, item in enumerate(items):
            y = prepare_waveform(item, self.sr, row)
            if limit is not None and y.shape[0] > limit:
                y = centre_fit(y, limit)
            if y.shape[0] < encoder.receptive_field:
                y = np.pad(y, (0, encoder.receptive_field - y.shape[0]))
            waves.append(normalize_waveform(encoder, y))
        return as_object_array(waves), None

    def _n_samples(self, x: np.ndarray) -> int:
        return len(x)

    def _module_shape(self, x: np.ndarray) -> tuple[int, None]:
        return self._loaded().hidden_size, None

    def _make_dataset(self, x, lengths, y, indices) -> Dataset:
        return _WaveBatches(self._loaded(), x, y, indices)

    def _predict_batches(self, x: np.ndarray, lengths: None) -> Iterator[dict]:
        data = _WaveBatches(self._loaded(), x, None, None)
        for start in range(0, len(x), self.batch_size):
            yield data.batch(np.arange(start, min(start + self.batch_size, len(x))))

    def _build_module(self, n_features: int, n_frames: int | None, n_classes: int) -> SpeechEncoderClassifierModule:
        encoder = copy.deepcopy(self._loaded().model)
        return SpeechEncoderClassifierModule(
            encoder, n_classes, self.n_trainable_layers, self.pooling, self.head_dropout
        )

    def _param_groups(self) -> list[tuple[str, dict]]:
        return [("encoder.*", {"lr": self.encoder_lr})]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags
