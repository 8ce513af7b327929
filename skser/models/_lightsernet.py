"""Light-SERNet (Aftab et al., ICASSP 2022) as a scikit-learn classifier."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval
from torch import nn

from ._base import SPEC_AUGMENT_CONSTRAINTS, BaseNeuralClassifier
from ._masking import (
    MaskedBatchNorm2d,
    masked_avg_pool2d_time,
    masked_mean_time,
    time_mask,
)
from .._weight_cache import CachedInferenceWeights, tracing

__all__ = ["LightSERNet", "LightSERNetModule"]


# PyTorch's CPU dispatch runs small-input convolutions (batch 1 here) on its
# native im2col kernel; oneDNN's kernel is faster for these k x k layers. The
# aten op is not documented API: without it, convolutions go through F.conv2d.
_ONEDNN_CONV = getattr(torch.ops.aten, "mkldnn_convolution", None)

# False restores the previous eval path (batch norm folded on every call, PyTorch's
# own convolution dispatch): only for A/B benchmarks and equality tests.
_FAST_EVAL = True

# Utterances per chunk of an inference batch on CPU (see LightSERNetModule.forward).
_EVAL_CHUNK = 8


def _eval_conv2d(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, conv: nn.Conv2d
) -> torch.Tensor:
    """Inference convolution with folded weights, on oneDNN where that is the faster kernel.

    oneDNN for k x k kernels (k > 1) on float32 CPU tensors when PyTorch has
    it enabled; PyTorch's own dispatch otherwise (the 1x1 layer is faster on
    its native kernel).
    """
    if (
        _ONEDNN_CONV is not None
        and weight.shape[2] * weight.shape[3] > 1
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and torch.backends.mkldnn.is_available()
        and torch.backends.mkldnn.enabled
    ):
        return _ONEDNN_CONV(x, weight, bias, conv.padding, conv.stride, conv.dilation, conv.groups)
    return F.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)


class _ConvBN(nn.Module):
    """Conv2d -> BatchNorm (Keras defaults: momentum 0.99, eps 1e-3) -> ReLU, glorot init.

    In eval mode the batch norm is the affine map of its running statistics and
    is folded into the convolution (:meth:`folded`): one convolution and an
    in-place ReLU, the same numbers to float rounding.
    """

    def __init__(self, c_in: int, c_out: int, kernel, padding, bias: bool):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=padding, bias=bias)
        self.bn = MaskedBatchNorm2d(c_out, momentum=0.01, eps=1e-3)
        nn.init.xavier_uniform_(self.conv.weight)
        if bias:
            nn.init.zeros_(self.conv.bias)

    def folded(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Weight and bias of the convolution followed by the eval-mode batch norm."""
        bn = self.bn
        scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
        bias = bn.bias - bn.running_mean * scale
        if self.conv.bias is not None:
            bias = bias + self.conv.bias * scale
        return self.conv.weight * scale.reshape(-1, 1, 1, 1), bias

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        folded: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """``x`` (batch, C, n_frames, n_freq); ``mask`` (batch, n_frames), True on real frames.

        The mask only matters in training mode: batch-norm statistics then
        count real frames only (:class:`MaskedBatchNorm2d`). ``folded``: the
        cached result of :meth:`folded` (eval mode without autograd only).
        """
        if self.training:
            return F.relu(self.bn(self.conv(x), mask), inplace=True)
        conv = self.conv
        if folded is not None:
            return F.relu(_eval_conv2d(x, *folded, conv), inplace=True)
        weight, bias = self.folded()
        return F.relu(F.conv2d(x, weight, bias, conv.stride, conv.padding), inplace=True)


class LightSERNetModule(CachedInferenceWeights, nn.Module):
    """The Light-SERNet network (``models.py: Light_SERNet_V1``), length-aware.

    Three parallel convolutions ((11,1), (1,9), (3,3); 32 filters each, with
    bias) on the MFCC "image" (time x coefficient), each followed by BN, ReLU
    and 2x2 average pooling; their concatenation (96 channels) goes through
    five bias-free LFLB convolutions (3x3: 64, 96, 128, 160; 1x1: 320) with BN
    and ReLU, average pools (2,2), (2,2), (2,1), (2,1) and none; then global
    average pooling, dropout and a linear layer (logits; the softmax lives in
    the loss).

    Pools are Keras ``AveragePooling2D(padding="same")``: windows cut by the
    edge are averaged over their real cells. Padded frames of shorter
    utterances are treated the same way (masked), and the global average runs
    over the real time steps only, so a prediction never depends on padding.
    During training, batch-norm statistics count real frames only
    (:class:`~skser.models._masking.MaskedBatchNorm2d`), so padding of
    variable-length batches does not shift them either.

    Parameters
    ----------
    n_classes : int
    dropout : float, default=0.3

    Notes
    -----
    Parameter count (trainable + BN running statistics): 462,468 for 4 classes,
    463,431 for 7; independent of the input size.
    """

    _cache_attr = "_folded_cache"

    lflb_channels = (64, 96, 128, 160, 320)
    lflb_pools = ((2, 2), (2, 2), (2, 1), (2, 1), None)

    def __init__(self, n_classes: int, dropout: float = 0.3):
        super().__init__()
        self.path1 = _ConvBN(1, 32, (11, 1), (5, 0), bias=True)
        self.path2 = _ConvBN(1, 32, (1, 9), (0, 4), bias=True)
        self.path3 = _ConvBN(1, 32, (3, 3), (1, 1), bias=True)
        layers = []
        c_in = 96
        for c_out, pool in zip(self.lflb_channels, self.lflb_pools):
            k, p = ((3, 3), (1, 1)) if pool is not None else ((1, 1), (0, 0))
            layers.append(_ConvBN(c_in, c_out, k, p, bias=False))
            c_in = c_out
        self.lflb = nn.ModuleList(layers)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(c_in, n_classes)
        nn.init.xavier_uniform_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)
        # Channels-last kernels keep every feature map channels-last, where oneDNN
        # convolutions and, above all, average pooling are several times faster on CPU.
        self.to(memory_format=torch.channels_last)
        self._folded_cache = None  # (sources, their versions, folded weights) of _folded_weights

    def _blocks(self) -> list[_ConvBN]:
        return [self.path1, self.path2, self.path3, *self.lflb]

    def _folded_weights(self) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
        """Folded conv + BN weights of every block for inference, cached while the parameters hold.

        None (fold on the fly, autograd-aware) in training mode, with autograd
        enabled, or with ``_FAST_EVAL`` off. The cache is checked against the
        version counter of every parameter and buffer (an optimiser step, new
        running statistics or an in-place ``load_state_dict`` rebuild it) and
        dropped by ``train()``/``eval()``, device or dtype moves and
        ``load_state_dict`` (see :class:`CachedInferenceWeights`). It is never pickled.
        """
        if self.training or torch.is_grad_enabled() or not _FAST_EVAL or tracing():
            return None
        return self._cached_weights(self._fold_blocks)

    def _fold_blocks(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        folded = []
        for block in self._blocks():
            weight, bias = block.folded()
            folded.append((weight.contiguous(memory_format=torch.channels_last), bias))
        return folded

    def _bn_mask(self, lengths: torch.Tensor | None, n_frames: int) -> torch.Tensor | None:
        """Real-frame mask for the training batch norms (None in eval mode or without padding)."""
        if not self.training or lengths is None:
            return None
        return time_mask(lengths, n_frames)

    def _paths(
        self, x: torch.Tensor, lengths: torch.Tensor | None, folded: list | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The three parallel conv -> BN -> ReLU -> 2x2 pool paths, concatenated (96 channels).

        Pooling is per channel, so each path is pooled before the
        concatenation: a quarter of the data to copy, and to back-propagate
        through the pools, compared with pooling the full-resolution
        concatenation.
        """
        x = x.unsqueeze(1)  # (B, 1, T, F)
        paths = (self.path1, self.path2, self.path3)
        mask = self._bn_mask(lengths, x.shape[2])
        folded = folded or [None] * len(paths)
        pooled = [
            masked_avg_pool2d_time(p(x, mask, w), lengths, (2, 2)) for p, w in zip(paths, folded)
        ]
        return torch.cat([h for h, _ in pooled], dim=1), pooled[0][1]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_frames, n_mfcc)
            Padding frames must be 0.
        lengths : torch.Tensor of shape (batch,) or None
            True frame counts (None: no padding).

        Returns
        -------
        logits : torch.Tensor of shape (batch, n_classes)
        """
        folded = self._folded_weights()
        if folded is not None and x.device.type == "cpu" and x.shape[0] > _EVAL_CHUNK:
            # Inference is per utterance: small chunks keep every feature map in the CPU's
            # caches instead of streaming 30 MB maps of the whole batch through memory.
            return torch.cat([
                self._logits(x[i : i + _EVAL_CHUNK],
                             None if lengths is None else lengths[i : i + _EVAL_CHUNK], folded)
                for i in range(0, x.shape[0], _EVAL_CHUNK)
            ])
        return self._logits(x, lengths, folded)

    def _logits(
        self, x: torch.Tensor, lengths: torch.Tensor | None, folded: list | None
    ) -> torch.Tensor:
        """:meth:`forward` on one batch; ``folded``: :meth:`_folded_weights`."""
        h, lengths = self._paths(x, lengths, folded and folded[:3])
        lflb_folded = folded[3:] if folded else [None] * len(self.lflb)
        for block, pool, w in zip(self.lflb, self.lflb_pools, lflb_folded):
            h = block(h, self._bn_mask(lengths, h.shape[2]), w)
            if pool is not None:
                h, lengths = masked_avg_pool2d_time(h, lengths, pool)
        h = masked_mean_time(h.mean(dim=3), lengths)  # GAP: freq, then real time steps
        return self.classifier(self.dropout(h))


class LightSERNet(BaseNeuralClassifier):
    """Light-SERNet speech emotion classifier on MFCC frames (Aftab et al., 2022).

    A faithful PyTorch port of the authors' TensorFlow ``Light_SERNet_V1``
    (see :class:`LightSERNetModule`) trained through skorch, used after the
    Light-SERNet MFCC preset (``MFCC.light_sernet(duration=3.0)`` gives
    ``(n, 184, 40)``; 7 s gives ``(n, 434, 40)``). Any number of frames and
    coefficients works; variable-length (NaN-padded) input is masked.

    Defaults follow the paper: Adam(lr 1e-4, eps 1e-7), batch 32, the step
    decay ``lr * e^-0.15`` at epochs 60, 80, ... (``schedule="light_sernet"``),
    cross-entropy (the focal loss of the paper is ``loss="focal"``,
    ``focal_gamma=2``, no alpha), dropout 0.3, L2 1e-6 on the five LFLB
    convolution kernels (Keras adds ``1e-6 * sum(w^2)`` to the loss: here a
    parameter group with ``weight_decay = 2 * l2``). The paper trains 300
    epochs and picks the epoch with the best accuracy *on the test fold*; here
    ``max_epochs=100`` by default and the best epoch is only ever chosen on a
    ``validation_fraction`` carved out of the training data.

    Parameters
    ----------
    dropout : float, default=0.3
        Dropout before the output layer.
    l2 : float, default=1e-6
        Keras-style L2 coefficient of the LFLB convolution kernels.
    lr, batch_size, max_epochs, optimizer, betas, eps, weight_decay, momentum,
    schedule, schedule_kwargs, loss, focal_gamma, focal_alpha, label_smoothing,
    class_weight, classes, freq_mask_param, n_freq_masks, time_mask_param,
    n_time_masks, validation_fraction, patience, device, amp, random_state,
    verbose, callbacks, n_threads :
        Training parameters shared by all skser networks; see ``docs/models.md``.

    Attributes
    ----------
    classes_ : np.ndarray of shape (n_classes,)
    n_features_in_ : int
        MFCC coefficients per frame.
    net_ : skorch.NeuralNetClassifier
    module_ : LightSERNetModule
    history_ : skorch.History
    n_params_ : int
        Parameters incl. BN running statistics (462,468 for 4 classes).
    device_ : str

    See Also
    --------
    TIMNet, CNN2D

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import LightSERNet
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 30, 40)).astype(np.float32)
    >>> y = np.array(["ang", "sad"] * 4)
    >>> clf = LightSERNet(max_epochs=1, random_state=0).fit(X, y)
    >>> clf.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints: dict = {
        **BaseNeuralClassifier._parameter_constraints,
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        **SPEC_AUGMENT_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        dropout=0.3,
        l2=1e-6,
        lr=1e-4,
        batch_size=32,
        max_epochs=100,
        optimizer="adam",
        betas=(0.9, 0.999),
        eps=1e-7,
        weight_decay=0.0,
        momentum=0.0,
        schedule="light_sernet",
        schedule_kwargs=None,
        loss="cross_entropy",
        focal_gamma=2.0,
        focal_alpha=None,
        label_smoothing=0.0,
        class_weight=None,
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
        return LightSERNetModule(n_classes, dropout=self.dropout)

    def _param_groups(self):
        if self.l2:
            return [("lflb.*.conv.weight", {"weight_decay": 2.0 * self.l2})]
        return []
