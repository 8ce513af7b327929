"""TIM-Net (Ye et al., ICASSP 2023) as a scikit-learn classifier."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral, Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval
from torch import nn

from ._base import SPEC_AUGMENT_CONSTRAINTS, BaseNeuralClassifier
from ._masking import (
    MaskedBatchNorm1d,
    masked_mean_time,
    reverse_within_lengths,
    time_mask,
)
from .._weight_cache import CachedInferenceWeights, tracing

__all__ = ["TIMNet", "TIMNetModule"]

# False trains through the time-major path (_forward_directions) as before:
# only for A/B benchmarks and equality tests.
_CHANNELS_FIRST_TRAINING = True


def _causal_columns(x: torch.Tensor, kernel_size: int, dilation: int) -> torch.Tensor:
    """The ``kernel_size`` causally shifted copies of time-major ``x``, side by side.

    ``x`` is (..., time, channels); returns (..., time, kernel_size * channels)
    where tap ``j`` holds frame ``t - (kernel_size - 1 - j) * dilation`` (zero
    before the start).
    """
    n_frames = x.shape[-2]
    xp = F.pad(x, (0, 0, (kernel_size - 1) * dilation, 0))
    taps = [xp[..., j * dilation : j * dilation + n_frames, :] for j in range(kernel_size)]
    return torch.cat(taps, dim=-1)


class _CausalConv1d(nn.Conv1d):
    """Keras ``Conv1D(padding="causal")`` on time-major input (batch, time, channels).

    Left-pads ``(k - 1) * d`` frames and computes the convolution as one
    matrix product over the ``k`` shifted copies of the input. PyTorch's CPU
    kernel for dilated 1-D convolutions is an order of magnitude slower at
    these sizes, and the time-major layout lets the bias fuse into the product
    (``addmm``). The weights are those of an ordinary :class:`torch.nn.Conv1d`
    (``(out, in, k)``), so parameter names and counts are unchanged.
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int):
        super().__init__(channels, channels, kernel_size, dilation=dilation)
        nn.init.xavier_uniform_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cols = _causal_columns(x, self.kernel_size[0], self.dilation[0])
        w = self.weight.permute(0, 2, 1).reshape(self.out_channels, -1)
        return F.linear(cols, w, self.bias)


def _conv_bn(
    conv: _CausalConv1d, bn: MaskedBatchNorm1d, x: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """Causal convolution then batch norm on time-major (batch, time, channels) tensors.

    ``mask`` (batch, time), True on real frames, keeps padded frames out of
    the training batch-norm statistics.
    """
    batch, n_frames, channels = x.shape
    h = conv(x).reshape(batch * n_frames, channels)
    return bn(h, None if mask is None else mask.reshape(-1)).reshape(batch, n_frames, channels)


def _folded(conv: _CausalConv1d, bn: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight ``(out, k, in)`` and bias of the causal conv followed by the eval-mode batch norm."""
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    bias = (conv.bias - bn.running_mean) * scale + bn.bias
    return (conv.weight * scale[:, None, None]).permute(0, 2, 1), bias


class _TemporalAwareBlock(nn.Module):
    """TAB: two causal dilated convs (BN, ReLU, SpatialDropout1D) gating the input: ``x * sigmoid(h)``.

    Works on time-major tensors (batch, time, channels).
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        self.conv1 = _CausalConv1d(channels, kernel_size, dilation)
        self.bn1 = MaskedBatchNorm1d(channels, momentum=0.01, eps=1e-3)
        self.conv2 = _CausalConv1d(channels, kernel_size, dilation)
        self.bn2 = MaskedBatchNorm1d(channels, momentum=0.01, eps=1e-3)
        self.drop = nn.Dropout1d(dropout)

    def _dropout(self, h: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drop.p == 0:
            return h
        return self.drop(h.transpose(1, 2)).transpose(1, 2)  # whole channels per sample

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self._dropout(F.relu(_conv_bn(self.conv1, self.bn1, x, mask)))
        h = self._dropout(F.relu(_conv_bn(self.conv2, self.bn2, h, mask)))
        return x * torch.sigmoid(h)


def _tap_major(weight: torch.Tensor) -> torch.Tensor:
    """Conv weight ``(..., C_out, C_in, k)`` as ``(..., k * C_out, C_in)``: tap ``j`` in rows ``j * C_out ...``."""
    *lead, c_out, c_in, k = weight.shape
    d = weight.ndim  # positive dims: the ONNX exporter's constant folding mishandles negative ones
    return weight.movedim(d - 1, d - 3).reshape(*lead, k * c_out, c_in)


def _shifted_sum(taps: torch.Tensor, bias: torch.Tensor, dilation: int) -> torch.Tensor:
    """Causal convolution from its per-tap products: ``sum_j shift_j(taps[..., j, :, :, :]) + bias``.

    ``taps`` is (..., k, C_out, batch, time), tap ``j`` the product of the
    weights of tap ``j`` with the unshifted input; tap ``j`` reads frame
    ``t - (k - 1 - j) * dilation`` (zero before the start), and a time shift
    commutes with a product over channels, so each tap's product is shifted
    into place instead of building shifted copies of the input. ``bias``
    broadcasts against (..., C_out, batch, time). Inference only: the sums
    go in place into views, which autograd would have to copy.
    """
    tap_dim = taps.ndim - 4
    k, n_frames = taps.shape[tap_dim], taps.shape[-1]
    out = taps.select(tap_dim, k - 1) + bias
    for j in range(k - 1):
        shift = (k - 1 - j) * dilation
        if shift >= n_frames:
            continue
        if tracing():  # the exporters mishandle in-place sums into views
            out = out + F.pad(taps.select(tap_dim, j)[..., : n_frames - shift], (shift, 0))
        else:
            out[..., shift:] += taps.select(tap_dim, j)[..., : n_frames - shift]
    return out


def _causal_conv_channels_first(conv: _CausalConv1d, h: torch.Tensor) -> torch.Tensor:
    """The causal convolution on channels-first ``h`` (C_in, batch, time) -> (C_out, batch, time).

    One matrix product ``W (C_out, k * C_in) @ columns (k * C_in, batch * time)``:
    with the long batch-time axis last, the product and its two backward
    products run about a quarter faster on CPU than the time-major ones for
    TIM-Net's 39 channels.
    """
    c_in, batch, n_frames = h.shape
    k, dilation = conv.kernel_size[0], conv.dilation[0]
    taps = []
    for j in range(k):  # tap j holds frame t - (k - 1 - j) * dilation, zero before the start
        shift = (k - 1 - j) * dilation
        taps.append(F.pad(h, (shift, 0))[..., :n_frames] if shift else h)
    cols = torch.cat(taps).view(k * c_in, batch * n_frames)
    weight = conv.weight.permute(0, 2, 1).reshape(conv.out_channels, k * c_in)
    return torch.addmm(conv.bias[:, None], weight, cols).view(-1, batch, n_frames)


def _spatial_dropout_channels_first(h: torch.Tensor, p: float) -> torch.Tensor:
    """:class:`torch.nn.Dropout1d` of the time-major path, on channels-first ``h`` (C, batch, time).

    The noise is drawn exactly as ``Dropout1d`` draws it for a (batch, C, time)
    input (one (batch, C, 1) Bernoulli tensor, scaled by ``1 / (1 - p)``), so
    both paths drop the same channels from the same generator state.
    """
    if p == 0:
        return h
    if p == 1:
        return h * torch.zeros((), dtype=h.dtype, device=h.device)
    c, batch, _ = h.shape
    noise = torch.empty((batch, c, 1), dtype=h.dtype, device=h.device).bernoulli_(1 - p)
    return h * noise.div_(1 - p).permute(1, 0, 2)


def _tab_channels_first(
    tab: _TemporalAwareBlock, x: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """:meth:`_TemporalAwareBlock.forward` in training mode on channels-first ``x`` (C, batch, time).

    ``mask`` (batch * time,), True on real frames, or None: batch-norm
    statistics over real frames only, the batch norm seeing its input as
    ``(1, C, batch * time)``.
    """
    c, batch, n_frames = x.shape
    h = x
    for conv, bn in ((tab.conv1, tab.bn1), (tab.conv2, tab.bn2)):
        h = _causal_conv_channels_first(conv, h)
        h = bn(h.view(1, c, batch * n_frames), mask).view(c, batch, n_frames)
        h = _spatial_dropout_channels_first(F.relu(h), tab.drop.p)
    return x * torch.sigmoid(h)


class TIMNetModule(CachedInferenceWeights, nn.Module):
    """The TIM-Net network (``Code/TIMNET.py``), length-aware.

    Input 1x1 convolutions (separate for the forward and the time-reversed
    direction), then ``n_blocks`` temporal-aware blocks per direction with
    dilations 1, 2, 4, ..., separate weights per block and direction; after
    block j the global average over time of ``f_j + b_j`` gives ``g_j``. The
    fusion ``z = sum_j w_j g_j`` uses ``n_blocks`` learned scalars
    (Keras ``uniform`` init U(-0.05, 0.05), no softmax, input independent);
    a linear layer gives the logits.

    Causal convolutions make right padding irrelevant in the forward
    direction; the backward direction reverses every sequence within its own
    length (padding stays at the end), and the time averages count real frames
    only, so predictions do not depend on padding. In training, batch-norm
    statistics count real frames only
    (:class:`~skser.models._masking.MaskedBatchNorm1d`).

    Parameters
    ----------
    n_features : int
        Features per frame (39 MFCCs in the paper).
    n_classes : int
    n_filters : int or None, default=None
        Channels of every convolution; None = ``n_features`` (the paper's 39).
    kernel_size : int, default=2
    n_blocks : int, default=8
        Temporal-aware blocks per direction (10 for IEMOCAP in the paper).
    dropout : float, default=0.1
        SpatialDropout1D rate (whole channels, :class:`torch.nn.Dropout1d`).

    Notes
    -----
    Parameter count (trainable + BN running statistics): 106,992 for 39
    features, 7 classes and 8 blocks; 132,770 for 4 classes and 10 blocks.
    """

    _cache_attr = "_merged"

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        n_filters: int | None = None,
        kernel_size: int = 2,
        n_blocks: int = 8,
        dropout: float = 0.1,
    ):
        super().__init__()
        nf = n_features if n_filters is None else n_filters
        self.in_fwd = nn.Conv1d(n_features, nf, 1)
        self.in_bwd = nn.Conv1d(n_features, nf, 1)
        for conv in (self.in_fwd, self.in_bwd):
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)
        self.fwd = nn.ModuleList(
            _TemporalAwareBlock(nf, kernel_size, 2**j, dropout) for j in range(n_blocks)
        )
        self.bwd = nn.ModuleList(
            _TemporalAwareBlock(nf, kernel_size, 2**j, dropout) for j in range(n_blocks)
        )
        self.fusion = nn.Parameter(torch.empty(n_blocks).uniform_(-0.05, 0.05))
        self.classifier = nn.Linear(nf, n_classes)
        nn.init.xavier_uniform_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)
        self.kernel_size = kernel_size
        self._merged = None  # (sources, their versions, weights) of _forward_merged

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits.

        In eval mode without autograd (``torch.no_grad`` / ``torch.inference_mode``,
        as in ``predict``) both directions run as one network
        (:meth:`_forward_merged`, the same numbers to float rounding); in
        training mode the network runs channels-first
        (:meth:`_forward_channels_first`, likewise).

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_frames, n_features)
        lengths : torch.Tensor of shape (batch,) or None

        Returns
        -------
        logits : torch.Tensor of shape (batch, n_classes)
        """
        if self.training and _CHANNELS_FIRST_TRAINING:
            return self._forward_channels_first(x, lengths)
        if self.training or torch.is_grad_enabled():
            return self._forward_directions(x, lengths)
        return self._forward_merged(x, lengths)

    def _forward_channels_first(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Training forward on channels-first (C, batch, time) tensors.

        The network of :meth:`_forward_directions`, the same parameters, the
        same dropout draws; each causal convolution is one product with the
        batch-time axis last (:func:`_causal_conv_channels_first`), the
        faster layout for its forward and backward products on CPU. Same
        numbers to float rounding (its gradients are closer to a float64
        computation than the time-major path's batch-norm backward).
        """
        n_features, batch, n_frames = x.shape[2], x.shape[0], x.shape[1]
        xr = reverse_within_lengths(x.transpose(1, 2), lengths)  # (batch, n_features, time)
        inputs = []
        for conv, seq in ((self.in_fwd, x.permute(2, 0, 1)), (self.in_bwd, xr.transpose(0, 1))):
            cols = seq.reshape(n_features, batch * n_frames)
            inputs.append(torch.addmm(conv.bias[:, None], conv.weight[..., 0], cols))
        f, b = (u.view(-1, batch, n_frames) for u in inputs)
        mask = None
        if lengths is not None:
            mask = time_mask(lengths, n_frames).reshape(-1)  # batch-norm statistics over real frames
        z = 0.0
        for j, (tab_f, tab_b) in enumerate(zip(self.fwd, self.bwd)):
            f = _tab_channels_first(tab_f, f, mask)
            b = _tab_channels_first(tab_b, b, mask)
            z = z + self.fusion[j] * masked_mean_time((f + b).transpose(0, 1), lengths)
        return self.classifier(z)

    def _forward_directions(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """The network as written: one stack of blocks per direction (train or eval mode)."""
        # time-major (B, T, C) throughout: the 1x1 and causal convs are matrix products
        f = F.linear(x, self.in_fwd.weight[..., 0], self.in_fwd.bias)
        xr = reverse_within_lengths(x.transpose(1, 2), lengths).transpose(1, 2)
        b = F.linear(xr, self.in_bwd.weight[..., 0], self.in_bwd.bias)
        mask = None
        if self.training and lengths is not None:
            mask = time_mask(lengths, x.shape[1])  # batch-norm statistics over real frames
        z = 0.0
        for j, (tab_f, tab_b) in enumerate(zip(self.fwd, self.bwd)):
            f = tab_f(f, mask)
            b = tab_b(b, mask)
            z = z + self.fusion[j] * masked_mean_time((f + b).transpose(1, 2), lengths)
        return self.classifier(z)

    def _forward_merged(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Eval-mode forward, both directions stacked, channels-first: ``u`` is (2, C, batch, time).

        Each convolution of a block is one batched matrix product for both
        directions and all taps (``bmm``, weights ``(2, k * C_out, C_in)``)
        with the eval-mode batch norm folded into its weights
        (:meth:`_merged_weights`), the taps then shifted into place
        (:func:`_shifted_sum`): a quarter of the products of running the
        directions, taps and batch norms apart, and no shifted copies of the
        input. Same numbers as :meth:`_forward_directions` to float rounding.
        """
        w_in, b_in, blocks = self._merged_weights()
        batch, n_frames, n_features = x.shape
        xt = x.transpose(1, 2)
        xr = reverse_within_lengths(xt, lengths)  # (batch, n_features, time)
        stacked = torch.stack([xt, xr], dim=1).transpose(0, 2)  # (n_features, 2, batch, time)
        cols = stacked.reshape(n_features, 2, batch * n_frames).transpose(0, 1)
        u = torch.baddbmm(b_in, w_in, cols).view(2, -1, batch, n_frames)
        pooled = []
        for convs in blocks:
            h = u
            for weight, bias, dilation in convs:
                taps = torch.bmm(weight, h.flatten(2)).view(2, -1, *u.shape[1:])
                h = _shifted_sum(taps, bias, dilation).relu_()
            u = u * torch.sigmoid(h)
            pooled.append(masked_mean_time((u[0] + u[1]).transpose(0, 1), lengths))
        return self.classifier(torch.stack(pooled, dim=2) @ self.fusion)

    def _merged_weights(self) -> tuple:
        """Direction-stacked weights of :meth:`_forward_merged`, cached while the parameters hold.

        See :class:`CachedInferenceWeights` for when the cache is rebuilt; it
        is never pickled.
        """
        return self._cached_weights(self._stack_directions)

    def _stack_directions(self) -> tuple:
        w_in = torch.stack([self.in_fwd.weight[..., 0], self.in_bwd.weight[..., 0]])
        b_in = torch.stack([self.in_fwd.bias, self.in_bwd.bias])[..., None]
        blocks = []
        for tab_f, tab_b in zip(self.fwd, self.bwd):
            convs = []
            for pair in (
                ((tab_f.conv1, tab_f.bn1), (tab_b.conv1, tab_b.bn1)),
                ((tab_f.conv2, tab_f.bn2), (tab_b.conv2, tab_b.bn2)),
            ):
                (w_f, bias_f), (w_b, bias_b) = (_folded(conv, bn) for conv, bn in pair)
                weight = _tap_major(torch.stack([w_f, w_b]).movedim(2, 3)).contiguous()
                bias = torch.stack([bias_f, bias_b])[:, :, None, None]  # (2, C_out, 1, 1)
                convs.append((weight, bias, pair[0][0].dilation[0]))
            blocks.append(convs)
        return w_in.contiguous(), b_in, blocks


class TIMNet(BaseNeuralClassifier):
    """TIM-Net temporal-aware bi-directional multi-scale classifier (Ye et al., 2023).

    A faithful PyTorch port of the authors' Keras TIM-Net (see
    :class:`TIMNetModule`), trained through skorch, for MFCC frames
    ``(n_samples, n_frames, 39)`` (any feature count works; the filter count
    follows it unless ``n_filters`` is set). Variable-length input is masked.

    Defaults follow the paper: Adam(lr 1e-3, betas (0.93, 0.98), eps 1e-8),
    cross-entropy with label smoothing 0.1, batch 64, no schedule, 8 blocks
    (10 for IEMOCAP). The paper trains 500 epochs and keeps the epoch with the
    best accuracy *on the test fold*; here ``max_epochs=100`` by default and a
    best epoch is only chosen on ``validation_fraction`` of the training data.

    Parameters
    ----------
    n_filters : int or None, default=None
        Convolution channels; None = number of input features (39 in the paper).
    kernel_size : int, default=2
    n_blocks : int, default=8
        Temporal-aware blocks per direction (dilations 1 ... 2**(n_blocks-1)).
    dropout : float, default=0.1
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
    net_ : skorch.NeuralNetClassifier
    module_ : TIMNetModule
    history_ : skorch.History
    n_params_ : int
        Parameters incl. BN running statistics (106,992 for 39 MFCCs, 7 classes).
    device_ : str

    See Also
    --------
    LightSERNet

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import TIMNet
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 50, 39)).astype(np.float32)
    >>> y = np.array(["ang", "sad"] * 4)
    >>> TIMNet(max_epochs=1, random_state=0).fit(X, y).predict_proba(X).shape
    (8, 2)
    """

    _parameter_constraints: dict = {
        **BaseNeuralClassifier._parameter_constraints,
        **SPEC_AUGMENT_CONSTRAINTS,
        "n_filters": [Interval(Integral, 1, None, closed="left"), None],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        n_filters=None,
        kernel_size=2,
        n_blocks=8,
        dropout=0.1,
        lr=1e-3,
        batch_size=64,
        max_epochs=100,
        optimizer="adam",
        betas=(0.93, 0.98),
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        schedule=None,
        schedule_kwargs=None,
        loss="cross_entropy",
        focal_gamma=2.0,
        focal_alpha=None,
        label_smoothing=0.1,
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
        self.n_filters = n_filters
        self.kernel_size = kernel_size
        self.n_blocks = n_blocks
        self.dropout = dropout
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
        return TIMNetModule(
            n_features,
            n_classes,
            n_filters=self.n_filters,
            kernel_size=self.kernel_size,
            n_blocks=self.n_blocks,
            dropout=self.dropout,
        )
