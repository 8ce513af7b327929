"""SER-Net (Ponnam, MSP-Podcast technical report) as a scikit-learn classifier.

Two networks share one estimator, :class:`SERNet`:

- ``variant="report"`` (default): the architecture the technical report draws
  (multi-scale dilated convolutions, three residual blocks, multi-head
  self-attention, temporal attention pooling, dense 256);
- ``variant="code"``: the network the public Keras code actually builds (conv
  stem, three multi-scale dilated blocks, learned-query attention pooling, two
  dense layers), with its channel bug fixed.

Both read the frame layout of :class:`~skser.features.SERNetFeatures`:
``n_spectral`` MFCC (+ deltas) columns, then ``n_mel`` log-mel bands, then any
number of prosodic columns. Every operation is length-aware (padded frames are
zeroed before each convolution, excluded from batch-norm statistics, masked in
attention and pooling), so a batch of ragged utterances gets the predictions
each utterance gets alone. ``docs/sernet.md`` lists what the report leaves open
and what was chosen.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..exceptions import InputError, ParameterError
from ._base import SPEC_AUGMENT_CONSTRAINTS, BaseNeuralClassifier
from ._losses import FocalLoss
from ._masking import MaskedBatchNorm1d, masked_mean_time, pooled_lengths, time_mask
from ._net import take_batch
from ._schedules import WarmupCosineSteps
from ._specaugment import spec_augment

__all__ = [
    "SERNet",
    "SERNetModule",
    "SERNetCodeModule",
    "plot_attention",
]

#: Widths of ``variant="report"`` per ``size``: filters per dilation branch,
#: residual channels, self-attention heads, attention-pooling hidden size, dense units.
REPORT_SIZES: dict[str, dict[str, int]] = {
    "small": {"filters": 8, "channels": 16, "heads": 2, "attention_dim": 16, "dense": 32},
    "base": {"filters": 64, "channels": 128, "heads": 4, "attention_dim": 128, "dense": 256},
    "large": {"filters": 128, "channels": 256, "heads": 8, "attention_dim": 256, "dense": 512},
}

#: Widths of ``variant="code"`` per ``size`` (``SERNet`` / ``SERNetLarge`` of the public code).
CODE_SIZES: dict[str, dict[str, Any]] = {
    "small": {"channels": (8, 16, 32), "dilations": (1, 2, 4), "heads": 2, "dense": (32, 16)},
    "base": {"channels": (64, 128, 256), "dilations": (1, 2, 4), "heads": 8, "dense": (256, 128)},
    "large": {
        "channels": (128, 256, 512),
        "dilations": (1, 2, 4, 8),
        "heads": 16,
        "dense": (256, 128),
    },
}


# --------------------------------------------------------------------- helpers
def _mask_or_none(lengths: torch.Tensor | None, n_frames: int) -> torch.Tensor | None:
    """Bool (batch, n_frames) mask of real frames, or None when nothing is padded."""
    if lengths is None or bool((lengths >= n_frames).all()):
        return None
    return time_mask(lengths, n_frames)


def _zero_padding(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``x`` (batch, channels, n_frames) with padded frames set to 0 ("same" conv padding)."""
    if mask is None:
        return x
    return x * mask[:, None, :].to(x.dtype)


def _split_widths(total: int, n: int) -> list[int]:
    """``n`` branch widths that add up to ``total`` (the last takes the remainder)."""
    base = total // n
    return [base] * (n - 1) + [total - base * (n - 1)]


class _MultiScaleConv(nn.Module):
    """Parallel 'same' Conv1d branches with different dilations, concatenated.

    With ``multiscale=False`` (the ablation) one dilation-1 convolution of the
    same total width replaces the branches.
    """

    def __init__(
        self,
        c_in: int,
        widths: list[int],
        dilations: tuple[int, ...],
        kernel_size: int,
        multiscale: bool,
    ):
        super().__init__()
        if not multiscale:
            widths, dilations = [sum(widths)], (1,)
        self.branches = nn.ModuleList(
            nn.Conv1d(
                c_in, w, kernel_size, dilation=d, padding=d * (kernel_size - 1) // 2, bias=False
            )
            for w, d in zip(widths, dilations)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(x) for conv in self.branches], dim=1)


class _ResidualBlock(nn.Module):
    """Conv1D -> BN -> ReLU -> Conv1D -> add (report §3.2), 1x1 projection when widths differ."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int = 3):
        super().__init__()
        pad = (kernel_size - 1) // 2
        self.conv1 = nn.Conv1d(c_in, c_out, kernel_size, padding=pad, bias=False)
        self.bn = MaskedBatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel_size, padding=pad)
        self.proj = nn.Conv1d(c_in, c_out, 1, bias=False) if c_in != c_out else None

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h = F.relu(self.bn(self.conv1(x), mask))
        h = self.conv2(_zero_padding(h, mask))
        skip = x if self.proj is None else self.proj(x)
        return _zero_padding(h + skip, mask)


class _AdditiveAttentionPooling(nn.Module):
    """alpha_t = softmax_t(w2 . tanh(W1 h_t + b1) + b2) over real frames; c = sum_t alpha_t h_t."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.W1 = nn.Linear(channels, hidden)
        self.w2 = nn.Linear(hidden, 1)  # its bias is the report's b2 (cancels in the softmax)

    def forward(
        self, h: torch.Tensor, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Pooled ``h`` (batch, channels) and the weights (batch, n_frames).

        ``h`` is (batch, n_frames, channels); ``mask`` (batch, n_frames) is True on real frames.
        """
        scores = self.w2(torch.tanh(self.W1(h)))[..., 0].float()
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alpha = torch.softmax(scores, dim=1)
        return torch.einsum("bt,btc->bc", alpha.to(h.dtype), h), alpha


def _mean_pooling(h: torch.Tensor, lengths: torch.Tensor | None, mask: torch.Tensor | None):
    """Masked mean over time of ``h`` (batch, n_frames, channels) and its uniform weights."""
    pooled = masked_mean_time(h.transpose(1, 2), None if mask is None else lengths)
    n_frames = h.shape[1]
    if mask is None:
        weights = torch.full(h.shape[:2], 1.0 / n_frames, device=h.device)
    else:
        weights = mask.float() / mask.sum(dim=1, keepdim=True).float()
    return pooled, weights


class _ColumnLayout(nn.Module):
    """Shared front end: choose the columns, SpecAugment in training, learned mel projection."""

    def __init__(
        self,
        n_features: int,
        n_spectral: int,
        n_mel: int,
        n_mel_projected: int | None,
        use_prosody: bool,
        augment: dict | None,
    ):
        super().__init__()
        if n_features < n_spectral + n_mel:
            raise InputError(
                f"SERNet expects frames of n_spectral={n_spectral} MFCC columns, then "
                f"n_mel={n_mel} log-mel columns, then optional prosodic columns (the "
                f"SERNetFeatures layout), i.e. at least {n_spectral + n_mel} features per frame; "
                f"got {n_features}. Set n_spectral and n_mel to the layout of your features."
            )
        self.n_spectral = n_spectral
        self.n_mel = n_mel
        self.n_prosody = n_features - n_spectral - n_mel if use_prosody else 0
        self.n_used = n_spectral + n_mel + self.n_prosody
        if self.n_used == 0:
            raise ParameterError(
                "SERNet has no input column to use: n_spectral=0, n_mel=0 and use_prosody=False "
                f"(or no prosodic column in {n_features} features). Keep at least one column group."
            )
        self.mel_proj = (
            nn.Linear(n_mel, n_mel_projected) if (n_mel and n_mel_projected is not None) else None
        )
        n_mel_out = n_mel if self.mel_proj is None else n_mel_projected
        self.n_out = n_spectral + n_mel_out + self.n_prosody
        self.augment = augment

    def select(self, x: torch.Tensor) -> torch.Tensor:
        """The used columns of raw ``x`` (batch, n_frames, n_features)."""
        return x[..., : self.n_used] if x.shape[-1] != self.n_used else x

    def spec_augment(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Training-time masks: frequency masks on the mel bands, time masks on every column."""
        aug = self.augment
        if not self.training or aug is None:
            return x
        if aug["freq_mask_param"] > 0 and aug["n_freq_masks"] > 0:
            lo, hi = (self.n_spectral, self.n_spectral + self.n_mel)
            if not self.n_mel:
                lo, hi = 0, x.shape[-1]
            band = spec_augment(
                x[..., lo:hi], None,
                freq_mask_param=aug["freq_mask_param"], n_freq_masks=aug["n_freq_masks"],
            )
            x = torch.cat([x[..., :lo], band, x[..., hi:]], dim=-1)
        if aug["time_mask_param"] > 0 and aug["n_time_masks"] > 0:
            x = spec_augment(
                x, lengths,
                time_mask_param=aug["time_mask_param"], n_time_masks=aug["n_time_masks"],
            )
        return x

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, n_frames, n_used) -> (batch, n_frames, n_out), the mel block projected."""
        if self.mel_proj is None:
            return x
        s, m = self.n_spectral, self.n_mel
        return torch.cat([x[..., :s], self.mel_proj(x[..., s : s + m]), x[..., s + m :]], dim=-1)


# ---------------------------------------------------------- the report network
class SERNetModule(nn.Module):
    """The network of the SER-Net technical report (§3.2), length-aware.

    Input (batch, n_frames, n_features) -> used columns -> masked batch norm
    per column (input standardisation) -> [SpecAugment in training] ->
    mel bands through a learned linear projection (128 -> 40) -> multi-scale
    block (3 'same' Conv1d, k=3, dilations 1/2/4, ``filters`` each,
    concatenated, BN, ReLU) -> 3 residual blocks of ``channels``
    (Conv1D-BN-ReLU-Conv1D-add, 1x1 projection on the first) -> multi-head
    self-attention (``heads``, padding masked, dropout 0.1, residual +
    LayerNorm) -> attention pooling (or masked mean) -> dense ``dense`` + ReLU
    -> dropout -> logits.

    Parameters
    ----------
    n_features : int
        Columns per frame (``n_spectral + n_mel + n_prosody``).
    n_classes : int
    n_spectral : int, default=120
    n_mel : int, default=128
    n_mel_projected : int, default=40
    filters, channels, heads, attention_dim, dense : int
        Widths (see :data:`REPORT_SIZES`).
    dilations : tuple of int, default=(1, 2, 4)
    multiscale : bool, default=True
        False: one dilation-1 convolution of width ``len(dilations) * filters``.
    pooling : {"attention", "mean"}, default="attention"
    use_prosody : bool, default=True
        False: the prosodic columns are dropped.
    dropout : float, default=0.3
    augment : dict or None
        SpecAugment keyword arguments (training only).
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        *,
        n_spectral: int = 120,
        n_mel: int = 128,
        n_mel_projected: int = 40,
        filters: int = 64,
        channels: int = 128,
        heads: int = 4,
        attention_dim: int = 128,
        dense: int = 256,
        dilations: tuple[int, ...] = (1, 2, 4),
        multiscale: bool = True,
        pooling: str = "attention",
        use_prosody: bool = True,
        dropout: float = 0.3,
        augment: dict | None = None,
    ):
        super().__init__()
        self.columns = _ColumnLayout(
            n_features, n_spectral, n_mel, n_mel_projected, use_prosody, augment
        )
        self.input_bn = MaskedBatchNorm1d(self.columns.n_used)
        width = filters * len(dilations)
        self.multiscale = _MultiScaleConv(
            self.columns.n_out, [filters] * len(dilations), dilations, 3, multiscale
        )
        self.multiscale_bn = MaskedBatchNorm1d(width)
        self.res_blocks = nn.ModuleList(
            _ResidualBlock(width if i == 0 else channels, channels) for i in range(3)
        )
        self.mhsa = nn.MultiheadAttention(channels, heads, dropout=0.1, batch_first=True)
        self.mhsa_drop = nn.Dropout(0.1)
        self.mhsa_norm = nn.LayerNorm(channels, eps=1e-6)
        self.pooling = pooling
        self.attention_pool = (
            _AdditiveAttentionPooling(channels, attention_dim) if pooling == "attention" else None
        )
        self.dense = nn.Linear(channels, dense)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dense, n_classes)

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        return_attention: bool = False,
    ):
        """Logits (batch, n_classes); with ``return_attention``, also the weights (batch, n_frames).

        ``x`` is (batch, n_frames, n_features); ``lengths`` (batch,) the real frame counts.
        """
        n_frames = x.shape[1]
        mask = _mask_or_none(lengths, n_frames)
        h = self.columns.select(x)
        h = self.input_bn(h.transpose(1, 2), mask).transpose(1, 2)
        h = self.columns.spec_augment(h, lengths)
        h = self.columns.project(h).transpose(1, 2)  # (batch, channels, time)
        h = F.relu(self.multiscale_bn(self.multiscale(_zero_padding(h, mask)), mask))
        h = _zero_padding(h, mask)
        for block in self.res_blocks:
            h = block(h, mask)
        h = h.transpose(1, 2)  # (batch, time, channels)
        pad = None if mask is None else ~mask
        att, _ = self.mhsa(h, h, h, key_padding_mask=pad, need_weights=False)
        h = self.mhsa_norm(h + self.mhsa_drop(att))
        if self.attention_pool is not None:
            pooled, weights = self.attention_pool(h, mask)
        else:
            pooled, weights = _mean_pooling(h, lengths, mask)
        logits = self.out(self.drop(F.relu(self.dense(pooled))))
        return (logits, weights) if return_attention else logits


# ------------------------------------------------------------ the code network
class _CodeDilatedBlock(nn.Module):
    """The public code's ``DilatedConvBlock``: branches, concat, BN, ReLU, dropout (+ residual).

    The branch widths add up to ``filters`` (the code's ``filters // 3`` gives
    63 of 64 channels and breaks its own residual add: the bug fixed here).
    """

    def __init__(self, c_in: int, filters: int, dilations, multiscale: bool, dropout: float):
        super().__init__()
        widths = _split_widths(filters, len(dilations))
        self.conv = _MultiScaleConv(c_in, widths, dilations, 3, multiscale)
        self.bn = MaskedBatchNorm1d(filters, eps=1e-3, momentum=0.01)
        self.drop = nn.Dropout(dropout)
        self.residual = c_in == filters

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h = self.drop(F.relu(self.bn(self.conv(x), mask)))
        if self.residual:
            h = h + x
        return _zero_padding(h, mask)


class _QueryAttentionPooling(nn.Module):
    """The public code's ``TemporalAttentionPooling``: a learned query attends over the frames.

    Multi-head attention (``heads`` heads of 32 dims, dropout on the weights),
    then Dense(no bias) and LayerNorm. The pooling weights are the attention
    weights averaged over heads.
    """

    def __init__(self, channels: int, heads: int, dropout: float):
        super().__init__()
        self.query = nn.Parameter(torch.empty(1, 1, channels))
        nn.init.xavier_uniform_(self.query)
        self.attention = nn.MultiheadAttention(channels, heads, dropout=dropout, batch_first=True)
        self.dense = nn.Linear(channels, channels, bias=False)
        self.norm = nn.LayerNorm(channels, eps=1e-6)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None):
        q = self.query.expand(h.shape[0], 1, -1).to(h.dtype)
        pooled, weights = self.attention(
            q, h, h, key_padding_mask=None if mask is None else ~mask,
            need_weights=True, average_attn_weights=True,
        )
        return self.norm(self.dense(pooled[:, 0])), weights[:, 0].float()


class SERNetCodeModule(nn.Module):
    """The network the public SER-Net code builds (``src/models/ser_net.py``), length-aware.

    LayerNorm(eps 1e-6) per frame -> [SpecAugment in training] -> conv stem
    (Conv1d k=7 'same' no bias, BN, ReLU, MaxPool 2, dropout ``dropout/2``) ->
    three multi-scale dilated blocks (``channels``; residual on the first only)
    -> learned-query attention pooling -> Dense 256 -> LN -> ReLU -> dropout ->
    Dense 128 -> LN -> ReLU -> dropout -> logits. All columns are used as they
    come (no mel projection: the code has none), prosody unless ``use_prosody``
    is False. The max pool is ceil-mode (a trailing odd frame is kept; Keras'
    'valid' pooling drops it), so ``ceil(n_frames / 2)`` frames are pooled.

    Parameters
    ----------
    n_features, n_classes : int
    n_spectral, n_mel : int
        Only used to find the prosodic columns and the mel band of SpecAugment.
    channels : tuple of 3 int, default=(64, 128, 256)
    dilations : tuple of int, default=(1, 2, 4)
    heads : int, default=8
    dense : tuple of 2 int, default=(256, 128)
    multiscale, pooling, use_prosody, dropout, augment :
        As :class:`SERNetModule`.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        *,
        n_spectral: int = 120,
        n_mel: int = 128,
        channels: tuple[int, ...] = (64, 128, 256),
        dilations: tuple[int, ...] = (1, 2, 4),
        heads: int = 8,
        dense: tuple[int, int] = (256, 128),
        multiscale: bool = True,
        pooling: str = "attention",
        use_prosody: bool = True,
        dropout: float = 0.3,
        augment: dict | None = None,
    ):
        super().__init__()
        self.columns = _ColumnLayout(n_features, n_spectral, n_mel, None, use_prosody, augment)
        n_in = self.columns.n_used
        self.input_norm = nn.LayerNorm(n_in, eps=1e-6)
        self.stem = nn.Conv1d(n_in, channels[0], 7, padding=3, bias=False)
        self.stem_bn = MaskedBatchNorm1d(channels[0], eps=1e-3, momentum=0.01)
        self.stem_drop = nn.Dropout(dropout / 2)
        blocks, c_in = [], channels[0]
        for c in channels:
            blocks.append(_CodeDilatedBlock(c_in, c, dilations, multiscale, dropout))
            c_in = c
        self.blocks = nn.ModuleList(blocks)
        self.pooling = pooling
        self.attention_pool = (
            _QueryAttentionPooling(c_in, heads, dropout) if pooling == "attention" else None
        )
        self.head = nn.Sequential(
            nn.Linear(c_in, dense[0]),
            nn.LayerNorm(dense[0], eps=1e-6),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(dense[0], dense[1]),
            nn.LayerNorm(dense[1], eps=1e-6),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(dense[1], n_classes),
        )

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        return_attention: bool = False,
    ):
        """Logits (batch, n_classes); with ``return_attention``, also the pooling weights.

        The weights are (batch, ceil(n_frames / 2)), one per pooled frame: the
        stem's max pool halves the frame rate.
        """
        mask = _mask_or_none(lengths, x.shape[1])
        h = self.input_norm(self.columns.select(x))
        h = self.columns.spec_augment(h, lengths).transpose(1, 2)
        h = F.relu(self.stem_bn(self.stem(_zero_padding(h, mask)), mask))
        # after the ReLU the values are >= 0, so zeroed padding never wins a max
        h = F.max_pool1d(_zero_padding(h, mask), 2, 2, ceil_mode=True)
        if lengths is not None:
            lengths = pooled_lengths(lengths, 2, True)
        mask = _mask_or_none(lengths, h.shape[-1])
        h = self.stem_drop(h)
        for block in self.blocks:
            h = block(h, mask)
        h = h.transpose(1, 2)
        if self.attention_pool is not None:
            pooled, weights = self.attention_pool(h, mask)
        else:
            pooled, weights = _mean_pooling(h, lengths, mask)
        logits = self.head(pooled)
        return (logits, weights) if return_attention else logits


# ------------------------------------------------------------------ estimator
class SERNet(BaseNeuralClassifier):
    """SER-Net: multi-scale dilated CNN with attention pooling (Ponnam's MSP-Podcast report).

    Input: frame-level features ``(n_samples, n_frames, n_features)``,
    NaN-padded at the end, in the layout of
    :class:`~skser.features.SERNetFeatures`: columns ``[0, n_spectral)`` MFCC +
    deltas (120), ``[n_spectral, n_spectral + n_mel)`` log-mel bands (128),
    then prosodic columns (any number, 0 included). With the report's 20
    prosodic columns the report network sees 120 + 40 (projected mel) + 20 =
    180 values per frame.

    Defaults follow the report: focal loss (gamma 2, alpha 0.25), label
    smoothing 0.1, AdamW(1e-3, weight decay 1e-4), 1000 warm-up steps then
    cosine decay to 1e-6 (``schedule="warmup_cosine_steps"``), SpecAugment,
    batch 64, 100 epochs with early stopping (patience 10) on a 10 %
    validation split of the training data (group-aware with
    ``fit(X, y, groups=speakers)``). ``amp=True`` trains in FP16 on CUDA.

    Parameters
    ----------
    variant : {"report", "code"}, default="report"
        ``"report"``: :class:`SERNetModule`; ``"code"``: :class:`SERNetCodeModule`.
    size : {"small", "base", "large"}, default="base"
        Widths (:data:`REPORT_SIZES`, :data:`CODE_SIZES`): ``"large"`` doubles
        every width of the report network (128 filters per dilation, 256
        residual channels, 8 heads, dense 512) and is the code's
        ``SERNetLarge`` for ``variant="code"``; ``"small"`` is a tiny
        configuration for tests and smoke runs.
    n_spectral : int, default=120
        MFCC (+ delta) columns at the start of each frame.
    n_mel : int, default=128
        Log-mel columns after them (0: none).
    n_mel_projected : int, default=40
        Output width of the learned mel projection (``variant="report"``).
    multiscale : bool, default=True
        Ablation: False replaces each multi-scale block by one plain convolution.
    pooling : {"attention", "mean"}, default="attention"
        Ablation: masked mean instead of attention pooling.
    use_prosody : bool, default=True
        Ablation: False drops the prosodic columns inside the network.
    dropout : float, default=0.3
    lr, batch_size, max_epochs, optimizer, betas, eps, weight_decay, momentum,
    schedule, schedule_kwargs, loss, focal_gamma, focal_alpha, label_smoothing,
    class_weight, classes, freq_mask_param, n_freq_masks, time_mask_param,
    n_time_masks, validation_fraction, patience, device, amp, random_state,
    verbose, callbacks, n_threads :
        Training parameters shared by all skser networks (``docs/models.md``).
        SER-Net specifics: ``schedule`` also accepts ``"warmup_cosine_steps"``
        (:class:`WarmupCosineSteps`, ``schedule_kwargs`` ``warmup_steps``,
        ``min_lr``); ``focal_alpha`` also accepts one number for every class;
        SpecAugment runs inside the network after the input normalisation,
        with frequency masks on the mel bands only (all columns when
        ``n_mel=0``) and time masks on every column. ``freq_mask_param=0`` and
        ``time_mask_param=0`` switch it off (the "no augmentation" ablation);
        ``loss="cross_entropy"`` is the "no focal loss" ablation.

    Attributes
    ----------
    classes_ : np.ndarray of shape (n_classes,)
    n_features_in_ : int
        Features per frame.
    net_ : skorch.NeuralNetClassifier
    module_ : SERNetModule or SERNetCodeModule
    history_ : skorch.History
    n_params_ : int
        Parameters incl. batch-norm running statistics.
    device_ : str

    See Also
    --------
    skser.features.SERNetFeatures, plot_attention

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import SERNet
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 30, 268)).astype(np.float32)
    >>> y = np.array(["ang", "sad"] * 4)
    >>> clf = SERNet(size="small", max_epochs=1, validation_fraction=None, random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape
    (8, 2)
    >>> [w.shape for w in clf.attention_weights(X[:2])]
    [(30,), (30,)]
    """

    _parameter_constraints: dict = {
        **BaseNeuralClassifier._parameter_constraints,
        **SPEC_AUGMENT_CONSTRAINTS,
        "variant": [StrOptions({"report", "code"})],
        "size": [StrOptions(set(REPORT_SIZES))],
        "n_spectral": [Interval(Integral, 0, None, closed="left")],
        "n_mel": [Interval(Integral, 0, None, closed="left")],
        "n_mel_projected": [Interval(Integral, 1, None, closed="left")],
        "multiscale": ["boolean"],
        "pooling": [StrOptions({"attention", "mean"})],
        "use_prosody": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "schedule": [
            StrOptions({"light_sernet", "warmup_cosine", "plateau", "warmup_cosine_steps"}),
            None,
        ],
        "focal_alpha": [Interval(Real, 0, None, closed="neither"), "array-like", dict, None],
    }

    def __init__(
        self,
        *,
        variant="report",
        size="base",
        n_spectral=120,
        n_mel=128,
        n_mel_projected=40,
        multiscale=True,
        pooling="attention",
        use_prosody=True,
        dropout=0.3,
        lr=1e-3,
        batch_size=64,
        max_epochs=100,
        optimizer="adamw",
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-4,
        momentum=0.0,
        schedule="warmup_cosine_steps",
        schedule_kwargs=None,
        loss="focal",
        focal_gamma=2.0,
        focal_alpha=0.25,
        label_smoothing=0.1,
        class_weight=None,
        classes=None,
        freq_mask_param=15,
        n_freq_masks=2,
        time_mask_param=20,
        n_time_masks=2,
        validation_fraction=0.1,
        patience=10,
        device="auto",
        amp=False,
        random_state=None,
        verbose=0,
        callbacks=None,
        n_threads=None,
    ):
        self.variant = variant
        self.size = size
        self.n_spectral = n_spectral
        self.n_mel = n_mel
        self.n_mel_projected = n_mel_projected
        self.multiscale = multiscale
        self.pooling = pooling
        self.use_prosody = use_prosody
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

    # ------------------------------------------------------------ base hooks
    def _augment_kwargs(self) -> dict | None:
        kw = {
            "freq_mask_param": self.freq_mask_param,
            "n_freq_masks": self.n_freq_masks,
            "time_mask_param": self.time_mask_param,
            "n_time_masks": self.n_time_masks,
        }
        active = (kw["freq_mask_param"] > 0 and kw["n_freq_masks"] > 0) or (
            kw["time_mask_param"] > 0 and kw["n_time_masks"] > 0
        )
        return kw if active else None

    def _spec_augment(self):
        # SpecAugment runs inside the module (after the input normalisation, with
        # frequency masks on the mel bands only), not on the raw batch.
        return None

    def _build_module(self, n_features, n_frames, n_classes):
        common = {
            "n_spectral": self.n_spectral,
            "n_mel": self.n_mel,
            "multiscale": self.multiscale,
            "pooling": self.pooling,
            "use_prosody": self.use_prosody,
            "dropout": self.dropout,
            "augment": self._augment_kwargs(),
        }
        if self.variant == "report":
            return SERNetModule(
                n_features, n_classes, n_mel_projected=self.n_mel_projected,
                **REPORT_SIZES[self.size], **common,
            )
        return SERNetCodeModule(n_features, n_classes, **CODE_SIZES[self.size], **common)

    def _schedule_callback(self, has_valid):
        if self.schedule != "warmup_cosine_steps":
            return super()._schedule_callback(has_valid)
        kw = {"warmup_steps": 1000, "min_lr": 1e-6, **(self.schedule_kwargs or {})}
        unknown = set(kw) - {"warmup_steps", "min_lr"}
        if unknown:
            raise ParameterError(
                f"schedule_kwargs={self.schedule_kwargs!r}: schedule='warmup_cosine_steps' takes "
                f"'warmup_steps' and 'min_lr' only; got {sorted(unknown)}."
            )
        return WarmupCosineSteps(**kw)

    def _make_criterion(self, y_enc):
        scalar = isinstance(self.focal_alpha, Real) and not isinstance(self.focal_alpha, bool)
        if self.loss != "focal" or not scalar:
            return super()._make_criterion(y_enc)
        weight = self._class_weights(y_enc)
        return FocalLoss(
            weight=None if weight is None else torch.as_tensor(weight),
            gamma=float(self.focal_gamma),
            alpha=torch.full((len(self.classes_),), float(self.focal_alpha)),
            label_smoothing=self.label_smoothing,
        )

    # --------------------------------------------------------- interpretation
    def attention_weights(self, X: Any) -> list[np.ndarray]:
        """Temporal pooling weights of each utterance over its real frames.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_frames, n_features)
            Frame-level features (NaN-padded), as for :meth:`predict`.

        Returns
        -------
        weights : list of np.ndarray
            One float64 array per utterance, of that utterance's frame count,
            summing to 1. ``pooling="mean"`` gives uniform weights. For
            ``variant="code"`` (which pools after a 2x max pool) the weight of
            each pooled pair of frames is split equally between the two frames.
        """
        check_is_fitted(self, "net_")
        x, lengths = self._validate_X(X, reset=False)
        if lengths is None:
            lengths = np.full(x.shape[0], x.shape[1], dtype=np.int64)
        module = self.net_.module_
        device = self.net_.device
        module.eval()
        out: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, x.shape[0], self.batch_size):
                lb = lengths[start : start + self.batch_size]
                # NaN padding of the validated input is set to 0 on the batch copy (base contract)
                xb = take_batch(x, lengths, slice(start, start + self.batch_size), True)["x"].to(device)
                _, w = module(xb, torch.from_numpy(lb).to(device), return_attention=True)
                w = w.double().cpu().numpy()
                for row, n in zip(w, lb):
                    out.append(self._frame_weights(row, int(n)))
        return out

    def _frame_weights(self, row: np.ndarray, n_frames: int) -> np.ndarray:
        if self.variant == "report":
            return row[:n_frames].copy()
        pooled = row[: (n_frames + 1) // 2]
        share = np.full(pooled.shape, 0.5)
        if n_frames % 2:
            share[-1] = 1.0
        return np.repeat(pooled * share, 2)[:n_frames]


def plot_attention(
    estimator: Any,
    X: Any,
    *,
    index: int = 0,
    logmel: np.ndarray | None = None,
    hop_seconds: float = 0.01,
    ax: Any = None,
):
    """Overlay the SER-Net pooling weights of one utterance on its log-mel spectrogram.

    The report's attention figure (§5.1): the spectrogram as an image and the
    weights ``alpha_t`` as a curve on a second y axis, both over time in seconds.

    Parameters
    ----------
    estimator : SERNet or Pipeline ending in SERNet
        Fitted. For a pipeline, ``X`` is the pipeline's input (e.g. paths) and
        the steps before the classifier compute the features.
    X : array-like
        Features of shape (n_samples, n_frames, n_features) for a
        :class:`SERNet`, or the pipeline input.
    index : int, default=0
        The utterance of ``X`` to draw.
    logmel : np.ndarray of shape (n_frames, n_mel) or None, default=None
        Spectrogram to draw; None takes the log-mel columns of the features.
    hop_seconds : float, default=0.01
        Frame hop (10 ms for :class:`~skser.features.SERNetFeatures`).
    ax : matplotlib.axes.Axes or None, default=None
        Axes to draw on; None makes a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The spectrogram axes (the weight curve is on ``ax.twinx()``, reachable
        as ``ax.sernet_weights_ax``).
    """
    import matplotlib.pyplot as plt

    if hasattr(estimator, "steps"):  # a pipeline: compute the features of this one utterance
        clf, features, row = estimator[-1], estimator[:-1].transform(X[index : index + 1]), 0
    else:
        clf, features, row = estimator, X, index
    if not isinstance(clf, SERNet):
        raise ParameterError(
            "plot_attention needs a fitted SERNet or a pipeline ending in one; "
            f"got {type(clf).__name__}."
        )
    features = np.asarray(features, dtype=np.float32)
    one = features[row : row + 1]
    weights = clf.attention_weights(one)[0]
    n = weights.shape[0]
    if logmel is None:
        if clf.n_mel == 0:
            raise ParameterError(
                "plot_attention: the classifier has n_mel=0; pass logmel= to draw a spectrogram."
            )
        logmel = one[0, :n, clf.n_spectral : clf.n_spectral + clf.n_mel]
    logmel = np.asarray(logmel, dtype=np.float64)[:n]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    extent = (0.0, logmel.shape[0] * hop_seconds, 0, logmel.shape[1])
    ax.imshow(logmel.T, origin="lower", aspect="auto", extent=extent, cmap="magma")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    twin = ax.twinx()
    t = (np.arange(n) + 0.5) * hop_seconds
    twin.plot(t, weights, color="cyan", linewidth=1.5)
    twin.set_ylabel("attention weight")
    twin.set_ylim(0, float(weights.max()) * 1.1 if n else 1)
    ax.sernet_weights_ax = twin
    return ax
