"""The "typical" CNN baselines: a 1-D CNN on descriptor vectors and a 2-D CNN on log-mel frames."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
from numbers import Integral, Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ..exceptions import InputError, ParameterError
from ._base import SPEC_AUGMENT_CONSTRAINTS, BaseNeuralClassifier
from ._masking import (
    MaskedBatchNorm2d,
    is_full,
    masked_mean_time,
    pooled_lengths,
    time_mask,
)

__all__ = ["CNN1D", "CNN2D", "CNN1DModule", "CNN2DModule"]


def _same_pool_length(n: int, stride: int) -> int:
    return math.ceil(n / stride)


class _SameMaxPool1d(nn.Module):
    """Keras ``MaxPool1D(pool_size, strides, padding="same")`` (asymmetric -inf padding)."""

    def __init__(self, kernel_size: int, stride: int):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        out = _same_pool_length(n, self.stride)
        pad = max((out - 1) * self.stride + self.kernel_size - n, 0)
        x = F.pad(x, (pad // 2, pad - pad // 2), value=float("-inf"))
        return F.max_pool1d(x, self.kernel_size, self.stride)


class CNN1DModule(nn.Module):
    """The Kaggle 1-D CNN over a per-utterance descriptor vector (reference §4.1).

    Conv1D(256, 5) -> pool, Conv1D(256, 5) -> pool, Conv1D(128, 5) -> pool ->
    dropout, Conv1D(64, 5) -> pool, flatten, Dense(32) -> dropout, Dense(C);
    "same" convolutions with ReLU, max pools of 5 with stride 2 ("same").

    Parameters
    ----------
    n_features : int
        Length of the descriptor vector (162 in the notebook).
    n_classes : int
    dropout : float, default=0.2
    n_hidden : int, default=32
    dense_dropout : float, default=0.3

    Notes
    -----
    557,288 parameters for a 162-dim input and 8 classes.
    """

    channels = (256, 256, 128, 64)

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        dropout: float = 0.2,
        n_hidden: int = 32,
        dense_dropout: float = 0.3,
    ):
        super().__init__()
        self.convs = nn.ModuleList()
        c_in, length = 1, n_features
        for c_out in self.channels:
            conv = nn.Conv1d(c_in, c_out, 5, padding=2)
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)
            self.convs.append(conv)
            c_in, length = c_out, _same_pool_length(length, 2)
        self.pool = _SameMaxPool1d(5, 2)
        self.dropout = nn.Dropout(dropout)
        self.hidden = nn.Linear(c_in * length, n_hidden)
        self.dense_dropout = nn.Dropout(dense_dropout)
        self.classifier = nn.Linear(n_hidden, n_classes)
        for lin in (self.hidden, self.classifier):
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits for descriptor vectors ``x`` of shape (batch, n_features)."""
        h = x.unsqueeze(1)
        for i, conv in enumerate(self.convs):
            h = self.pool(F.relu(conv(h)))
            if i == 2:
                h = self.dropout(h)
        h = self.dense_dropout(F.relu(self.hidden(h.flatten(1))))
        return self.classifier(h)


class CNN2DModule(nn.Module):
    """The 2-D CNN block of the "Parallel 2D CNN - Transformer" on log-mel spectrograms (§4.2).

    Four blocks Conv2d(3x3, padding 1) -> BN -> ReLU -> MaxPool -> Dropout with
    16, 32, 64, 64 channels and pools 2, 4, 4, 4 over (mel, time), then a linear
    layer to the classes.

    ``pooling="flatten"`` is the reference: floor-mode pools and a flatten of
    the last feature map (64 x 1 x 4 = 256 for 128 mels x 563 frames), so the
    network only takes the number of frames it was built for (62,632 trainable
    parameters for 8 classes; a simplification of the reference's two-branch
    model, whose conv branch this is). ``pooling="mean"`` (default) uses
    ceil-mode pools and a mean over the real time steps of the last map
    (64 x mel' features), so any length works and padded frames are masked
    (zeroed after every ReLU, which max pooling of non-negative values then
    ignores); in training, batch-norm statistics count real frames only.

    Parameters
    ----------
    n_features : int
        Mel bands per frame.
    n_classes : int
    n_frames : int or None
        Frames of the input; needed for ``pooling="flatten"``.
    dropout : float, default=0.3
    pooling : {"mean", "flatten"}, default="mean"
    """

    channels = (16, 32, 64, 64)
    pools = (2, 4, 4, 4)

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        n_frames: int | None = None,
        dropout: float = 0.3,
        pooling: str = "mean",
    ):
        super().__init__()
        self.pooling = pooling
        ceil = pooling == "mean"
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        c_in, f = 1, n_features
        t = n_frames
        for c_out, k in zip(self.channels, self.pools):
            self.convs.append(nn.Conv2d(c_in, c_out, 3, padding=1))
            self.bns.append(MaskedBatchNorm2d(c_out, time_axis=3))
            c_in = c_out
            f = math.ceil(f / k) if ceil else f // k
            if t is not None:
                t = math.ceil(t / k) if ceil else t // k
        if pooling == "flatten":
            if n_frames is None or f < 1 or t < 1:
                raise ParameterError(
                    f"CNN2D(pooling='flatten') needs at least {math.prod(self.pools)} mel bands "
                    f"and frames (the four max pools shrink each by {math.prod(self.pools)}); got "
                    f"{n_features} bands x {n_frames} frames. Use pooling='mean' for shorter input."
                )
            n_out = c_in * f * t
        else:
            n_out = c_in * f
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(n_out, n_classes)

    def penalized_parameters(self) -> list[nn.Parameter]:
        """Convolution kernels (the Keras ``kernel_regularizer`` targets)."""
        return [conv.weight for conv in self.convs]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits for log-mel frames ``x`` of shape (batch, n_frames, n_mels)."""
        h = x.transpose(1, 2).unsqueeze(1)  # (B, 1, F, T), as the reference
        ceil = self.pooling == "mean"
        masked = ceil and not is_full(lengths, h.shape[-1])
        for conv, bn, k in zip(self.convs, self.bns, self.pools):
            mask = time_mask(lengths, h.shape[-1]) if masked else None
            h = F.relu(bn(conv(h), mask if self.training else None))
            if masked:
                h = h * mask.to(h.dtype)[:, None, None, :]
                lengths = pooled_lengths(lengths, k, ceil=True)
            elif lengths is not None:
                lengths = pooled_lengths(lengths, k, ceil=ceil)
            h = self.dropout(F.max_pool2d(h, k, k, ceil_mode=ceil))
        if self.pooling == "flatten":
            return self.classifier(h.flatten(1))
        return self.classifier(masked_mean_time(h, lengths if masked else None).flatten(1))


_SHARED_DOC = """    lr, batch_size, max_epochs, optimizer, betas, eps, weight_decay, momentum,
    schedule, schedule_kwargs, loss, focal_gamma, focal_alpha, label_smoothing,
    class_weight, classes, validation_fraction, patience, device, amp,
    random_state, verbose, callbacks, n_threads :
        Training parameters shared by all skser networks; see ``docs/models.md``."""


class CNN1D(BaseNeuralClassifier):
    """1-D CNN on per-utterance descriptor vectors (the popular Kaggle baseline).

    Takes 2-D input ``(n_samples, n_features)`` (e.g. the 162-dim
    ZCR + chroma + MFCC + RMS + mel mean vector, or
    :class:`~skser.features.Functionals` output), ideally standardised
    (put a :class:`~sklearn.preprocessing.StandardScaler` before it). See
    :class:`CNN1DModule`. Defaults follow the notebook: Keras Adam (lr 1e-3,
    eps 1e-7), cross-entropy, batch 64, 50 epochs, ``ReduceLROnPlateau`` on the
    training loss (factor 0.4, patience 2, min lr 1e-7). The notebook's
    augmentation before the train/test split leaked copies of test files into
    training; here waveform augmentation belongs in the training fold only
    (``skser.augmentation`` inside an imbalanced-learn pipeline).

    Parameters
    ----------
    dropout : float, default=0.2
        Dropout after the third convolution block.
    n_hidden : int, default=32
        Units of the dense hidden layer.
    dense_dropout : float, default=0.3
""" + _SHARED_DOC + """

    Attributes
    ----------
    classes_ : np.ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : np.ndarray of shape (n_features_in_,)
        Only when ``X`` has string column names.
    net_ : skorch.NeuralNetClassifier
    module_ : CNN1DModule
    history_ : skorch.History
    n_params_ : int
        557,288 for 162 features and 8 classes.
    device_ : str

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import CNN1D
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 162)).astype(np.float32)
    >>> y = np.array(["ang", "sad"] * 4)
    >>> CNN1D(max_epochs=1, random_state=0).fit(X, y).n_params_
    557090
    """

    _input_kind = "vector"

    _parameter_constraints: dict = {
        **BaseNeuralClassifier._parameter_constraints,
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
        "dense_dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        dropout=0.2,
        n_hidden=32,
        dense_dropout=0.3,
        lr=1e-3,
        batch_size=64,
        max_epochs=50,
        optimizer="adam",
        betas=(0.9, 0.999),
        eps=1e-7,
        weight_decay=0.0,
        momentum=0.0,
        schedule="plateau",
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
        self.dropout = dropout
        self.n_hidden = n_hidden
        self.dense_dropout = dense_dropout
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

    def _build_module(self, n_features, n_frames, n_classes):
        return CNN1DModule(
            n_features,
            n_classes,
            dropout=self.dropout,
            n_hidden=self.n_hidden,
            dense_dropout=self.dense_dropout,
        )


class CNN2D(BaseNeuralClassifier):
    """2-D CNN on log-mel spectrogram frames with class weights and L1/L2 regularisation.

    The conv block of the reference 2-D CNN (see :class:`CNN2DModule`) plus a
    linear output layer, trained the way the CREMA-D report trains its 2-D
    model: RMSprop, ``class_weight="balanced"`` (the report's
    ``W_j = N / n_j`` up to a constant factor), optional L1/L2 penalties on the
    convolution kernels (Keras ``kernel_regularizer=l1_l2``; the report gives
    no coefficients, so both default to 0), ``ReduceLROnPlateau``, and
    frequency masking of training batches (``freq_mask_param``; SpecAugment
    time masks too with ``time_mask_param``).

    Input: frame-level log-mel ``(n_samples, n_frames, n_mels)``, variable
    length NaN-padded (masked) with the default ``pooling="mean"``;
    ``pooling="flatten"`` is the reference head and needs a fixed frame count.

    Parameters
    ----------
    dropout : float, default=0.3
    pooling : {"mean", "flatten"}, default="mean"
    l1 : float, default=0.0
        L1 coefficient on the convolution kernels (added to the loss).
    l2 : float, default=0.0
        L2 coefficient on the convolution kernels (added to the loss).
    freq_mask_param, n_freq_masks, time_mask_param, n_time_masks : int
        SpecAugment on training batches (0 = off).
""" + _SHARED_DOC + """

    Attributes
    ----------
    classes_ : np.ndarray of shape (n_classes,)
    n_features_in_ : int
        Mel bands per frame.
    n_frames_ : int
        Frames of the training input (the only length ``pooling="flatten"`` accepts).
    net_ : skorch.NeuralNetClassifier
    module_ : CNN2DModule
    history_ : skorch.History
    n_params_ : int
    device_ : str

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import CNN2D
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 64, 32)).astype(np.float32)
    >>> y = np.array(["ang", "sad"] * 4)
    >>> CNN2D(max_epochs=1, freq_mask_param=4, random_state=0).fit(X, y).predict(X).shape
    (8,)
    """

    _parameter_constraints: dict = {
        **BaseNeuralClassifier._parameter_constraints,
        **SPEC_AUGMENT_CONSTRAINTS,
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "pooling": [StrOptions({"mean", "flatten"})],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        dropout=0.3,
        pooling="mean",
        l1=0.0,
        l2=0.0,
        lr=1e-3,
        batch_size=32,
        max_epochs=50,
        optimizer="rmsprop",
        betas=(0.9, 0.999),
        eps=1e-7,
        weight_decay=0.0,
        momentum=0.0,
        schedule="plateau",
        schedule_kwargs=None,
        loss="cross_entropy",
        focal_gamma=2.0,
        focal_alpha=None,
        label_smoothing=0.0,
        class_weight="balanced",
        classes=None,
        freq_mask_param=0,
        n_freq_masks=1,
        time_mask_param=0,
        n_time_masks=1,
        validation_fraction=None,
        patience=None,
        device="auto",
        amp=False,
        random_state=None,
        verbose=0,
        callbacks=None,
        n_threads=None,
    ):
        self.dropout = dropout
        self.pooling = pooling
        self.l1 = l1
        self.l2 = l2
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
        self.freq_mask_param = freq_mask_param
        self.n_freq_masks = n_freq_masks
        self.time_mask_param = time_mask_param
        self.n_time_masks = n_time_masks
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.amp = amp
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.n_threads = n_threads

    def _build_module(self, n_features, n_frames, n_classes):
        self.n_frames_ = n_frames
        return CNN2DModule(n_features, n_classes, n_frames, dropout=self.dropout, pooling=self.pooling)

    def _trims_padding(self):
        return self.pooling != "flatten"  # the flatten head needs every batch at the fitted length

    def _check_module_input(self, n_features, n_frames):
        fitted = getattr(self, "n_frames_", None)
        if self.pooling == "flatten" and fitted != n_frames:
            raise InputError(
                f"CNN2D(pooling='flatten') was fitted on {fitted} frames and cannot take "
                f"{n_frames}; give fixed-length input (e.g. duration= in the feature "
                "transformer) or use pooling='mean'."
            )

    def _penalty(self):
        if self.l1 or self.l2:
            return (float(self.l1), float(self.l2))
        return None
