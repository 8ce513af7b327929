"""The two-branch fusion model of the four-corpus report: an MFCC temporal branch and an utterance embedding."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Iterator, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.utils.data import Dataset

from ..exceptions import InputError, ParameterError
from ..features._base import frame_mask
from ._base import BaseNeuralClassifier
from ._masking import (
    MaskedBatchNorm1d,
    masked_mean_time,
    reverse_within_lengths,
    time_mask,
)
from ._timnet import TIMNetModule, _CausalConv1d

__all__ = ["FusionNet", "FusionNetModule"]


class _DilatedCausalBlock(nn.Module):
    """The report's block: (dilated causal conv, batch norm, ReLU, spatial dropout) x 2.

    TIM-Net's temporal-aware block without its sigmoid gate (the report drops
    the gate, "attention mechanism"); time-major tensors (batch, time, channels).
    Batch-norm statistics count real frames only.
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        self.conv1 = _CausalConv1d(channels, kernel_size, dilation)
        self.bn1 = MaskedBatchNorm1d(channels, momentum=0.01, eps=1e-3)
        self.conv2 = _CausalConv1d(channels, kernel_size, dilation)
        self.bn2 = MaskedBatchNorm1d(channels, momentum=0.01, eps=1e-3)
        self.drop = nn.Dropout1d(dropout)

    def _stage(self, conv: nn.Module, bn: nn.Module, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h = bn(conv(x).transpose(1, 2), mask)  # (batch, channels, time) for the batch norm
        h = F.relu(h)
        if self.training and self.drop.p > 0:
            h = self.drop(h)  # whole channels per sample (SpatialDropout1D)
        return h.transpose(1, 2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self._stage(self.conv2, self.bn2, self._stage(self.conv1, self.bn1, x, mask), mask)


class _TemporalBranch(nn.Module):
    """The report's TIM-Net-inspired MFCC branch: bidirectional dilated causal blocks, summed, pooled.

    A 1x1 input projection per direction, ``n_blocks`` blocks per direction
    (dilations 1, 2, 4, ...; separate weights), the time-reversed direction
    reversed within each utterance's length, the two outputs added and
    averaged over the real frames: one vector of ``n_filters`` values.
    """

    def __init__(self, n_features: int, n_filters: int, kernel_size: int, n_blocks: int, dropout: float):
        super().__init__()
        self.in_fwd = nn.Linear(n_features, n_filters)
        self.in_bwd = nn.Linear(n_features, n_filters)
        self.fwd = nn.ModuleList(
            _DilatedCausalBlock(n_filters, kernel_size, 2**j, dropout) for j in range(n_blocks)
        )
        self.bwd = nn.ModuleList(
            _DilatedCausalBlock(n_filters, kernel_size, 2**j, dropout) for j in range(n_blocks)
        )
        self.out_features = n_filters

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        mask = None if lengths is None else time_mask(lengths, x.shape[1])
        f = self.in_fwd(x)
        b = self.in_bwd(reverse_within_lengths(x.transpose(1, 2), lengths).transpose(1, 2))
        for block_f, block_b in zip(self.fwd, self.bwd):
            f = block_f(f, mask)
            b = block_b(b, mask)
        return masked_mean_time((f + b).transpose(1, 2), lengths)


class _TIMNetBranch(nn.Module):
    """The full TIM-Net (gated blocks, multi-scale fusion) without its classifier."""

    def __init__(self, n_features: int, n_filters: int, kernel_size: int, n_blocks: int, dropout: float):
        super().__init__()
        self.timnet = TIMNetModule(
            n_features, 1, n_filters=n_filters, kernel_size=kernel_size, n_blocks=n_blocks, dropout=dropout
        )
        self.timnet.classifier = nn.Identity()
        self.out_features = n_filters

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        return self.timnet(x, lengths)


class FusionNetModule(nn.Module):
    """MFCC branch and embedding branch, concatenated, dropout, linear output.

    Parameters
    ----------
    n_classes : int
    n_mfcc_features : int or None
        Features per MFCC frame (39 in the report); None switches the MFCC branch off.
    embedding_shape : tuple of int or None
        ``(D,)`` for one utterance vector, ``(L, D)`` for stacked layers
        (combined by a learned softmax-weighted sum, the SUPERB recipe); None
        switches the embedding branch off.
    mfcc_branch : {"tim", "timnet"}, default="tim"
        The report's simplified branch or the full :class:`TIMNetModule`.
    n_filters : int or None, default=None
        Channels of the MFCC branch (None: ``n_mfcc_features``).
    kernel_size, n_blocks, dropout :
        MFCC-branch convolution width, blocks per direction, spatial dropout.
    embedding_units : int, default=128
        Width of the dense (ReLU) layer of the embedding branch.
    fusion_dropout : float, default=0.3
        Dropout on the concatenated vector before the output layer.
    """

    def __init__(
        self,
        n_classes: int,
        n_mfcc_features: int | None,
        embedding_shape: tuple[int, ...] | None,
        *,
        mfcc_branch: str = "tim",
        n_filters: int | None = None,
        kernel_size: int = 2,
        n_blocks: int = 8,
        dropout: float = 0.1,
        embedding_units: int = 128,
        fusion_dropout: float = 0.3,
    ):
        super().__init__()
        width = 0
        self.mfcc = None
        if n_mfcc_features is not None:
            branch = _TIMNetBranch if mfcc_branch == "timnet" else _TemporalBranch
            nf = n_mfcc_features if n_filters is None else n_filters
            self.mfcc = branch(n_mfcc_features, nf, kernel_size, n_blocks, dropout)
            width += self.mfcc.out_features
        self.embedding = None
        self.layer_weights = None
        if embedding_shape is not None:
            if len(embedding_shape) == 2:
                self.layer_weights = nn.Parameter(torch.zeros(embedding_shape[0]))
            self.embedding = nn.Sequential(nn.Linear(embedding_shape[-1], embedding_units), nn.ReLU())
            width += embedding_units
        self.dropout = nn.Dropout(fusion_dropout)
        self.output = nn.Linear(width, n_classes)

    def forward(
        self,
        mfcc: torch.Tensor | None = None,
        embedding: torch.Tensor | None = None,
        lengths: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits.

        Parameters
        ----------
        mfcc : torch.Tensor of shape (batch, n_frames, n_mfcc_features) or None
            Padding (after ``lengths``) set to 0.
        embedding : torch.Tensor of shape (batch, D) or (batch, L, D) or None
        lengths : torch.Tensor of shape (batch,) or None
            Real MFCC frames of each utterance (None: no padding).

        Returns
        -------
        logits : torch.Tensor of shape (batch, n_classes)
        """
        parts = []
        if self.mfcc is not None:
            parts.append(self.mfcc(mfcc, lengths))
        if self.embedding is not None:
            if self.layer_weights is not None:
                w = torch.softmax(self.layer_weights, dim=0)
                embedding = (embedding * w[None, :, None]).sum(dim=1)
            parts.append(self.embedding(embedding))
        return self.output(self.dropout(torch.cat(parts, dim=1)))


def _to_tensor(x: np.ndarray) -> torch.Tensor:
    x = np.where(np.isnan(x), np.float32(0.0), x) if np.isnan(x).any() else x
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


class _BundleBatches(Dataset):
    """Rows of the validated named inputs, a whole batch at a time (``__getitems__``).

    MFCC batches are cut to their longest utterance and their NaN padding set to 0.
    """

    def __init__(self, x: dict, lengths: np.ndarray | None, y: np.ndarray | None, indices: np.ndarray | None):
        self.x = x
        self.lengths = lengths
        self.y = y
        n = len(next(iter(x.values())))
        self.indices = np.arange(n) if indices is None else np.asarray(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def batch(self, rows: np.ndarray) -> dict:
        out = {}
        if "mfcc" in self.x:
            m = self.x["mfcc"][rows]
            if self.lengths is not None:
                lb = self.lengths[rows]
                m = m[:, : int(lb.max())]
                out["lengths"] = torch.from_numpy(lb)
            out["mfcc"] = _to_tensor(m)
        if "embedding" in self.x:
            out["embedding"] = _to_tensor(self.x["embedding"][rows])
        return out

    def __getitems__(self, positions: list[int]) -> tuple[dict, torch.Tensor]:
        rows = self.indices[np.asarray(positions, dtype=np.int64)]
        yb = torch.from_numpy(self.y[rows]) if self.y is not None else torch.zeros(len(rows), dtype=torch.long)
        return self.batch(rows), yb

    def __getitem__(self, i: int) -> tuple[dict, torch.Tensor]:
        xb, yb = self.__getitems__([i])
        return {k: v[0] for k, v in xb.items()}, yb[0]


def _check_mfcc(m: Any, key: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Float32 NaN-padded frames and their lengths (None without padding)."""
    m = np.asarray(m, dtype=np.float32)
    if m.ndim == 2:
        m = m[:, :, None]
    if m.ndim != 3 or 0 in m.shape:
        raise InputError(
            f"X[{key!r}] must be frame-level features of shape (n_samples, n_frames, "
            f"n_features); got shape {m.shape}."
        )
    if np.isinf(m).any():
        row = int(np.argwhere(np.isinf(m))[0, 0])
        raise InputError(f"X[{key!r}] contains infinity (row {row}); features must be finite.")
    if np.isfinite(m).all():
        return m, None
    real = frame_mask(m)
    lengths = real.sum(axis=1)
    contiguous = np.arange(m.shape[1])[None, :] < lengths[:, None]
    partial = (np.isnan(m).any(axis=2) & real).any(axis=1)
    bad = np.flatnonzero((contiguous != real).any(axis=1) | (lengths == 0) | partial)
    if bad.size:
        raise InputError(
            f"X[{key!r}] contains NaN in row {int(bad[0])} that is not end-of-utterance padding "
            "(whole NaN frames after the real ones); impute those values."
        )
    return m, lengths.astype(np.int64)


class FusionNet(BaseNeuralClassifier):
    """Two-branch fusion classifier of the four-corpus report (MFCC temporal branch + utterance embedding).

    Input is a :class:`~skser.features.FeatureBundle` (the output of
    :class:`~skser.features.FeatureDict`) or a dict of arrays with

    * ``X[mfcc_key]``: MFCC frames ``(n, n_frames, n_mfcc)`` (the report:
      39 coefficients x 162 frames), NaN-padded or fixed length;
    * ``X[embedding_key]``: utterance embeddings ``(n, D)`` (the report:
      768-d mean-pooled wav2vec2-base), or ``(n, L, D)`` stacked layers that
      the network combines with learned softmax weights.

    Branch 1 (``mfcc_branch="tim"``) is the report's TIM-Net-inspired branch:
    a 1x1 projection and ``n_blocks`` blocks of two dilated causal
    convolutions (batch norm, ReLU, spatial dropout) per direction, the
    forward and time-reversed outputs added and averaged over time;
    ``"timnet"`` uses the full :class:`TIMNetModule` instead (gated blocks,
    multi-scale fusion). Branch 2 is a dense ReLU layer on the embedding. The
    two vectors are concatenated, passed through dropout and a linear output
    layer. ``use_embedding=False`` is the report's "without embeddings"
    baseline; ``use_mfcc=False`` the embedding alone.

    Parameters
    ----------
    use_mfcc, use_embedding : bool, default=True
        Which branches to build (at least one).
    mfcc_key, embedding_key : str, default="mfcc", "embedding"
        Names of the inputs in ``X``.
    mfcc_branch : {"tim", "timnet"}, default="tim"
    n_filters : int or None, default=None
        MFCC-branch channels (None: the number of MFCC features).
    kernel_size : int, default=2
    n_blocks : int, default=8
        Blocks per direction (dilations 1 ... 2**(n_blocks-1)).
    dropout : float, default=0.1
        Spatial dropout in the MFCC branch.
    embedding_units : int, default=128
    fusion_dropout : float, default=0.3
    lr, batch_size, max_epochs, optimizer, betas, eps, weight_decay, momentum,
    schedule, schedule_kwargs, loss, focal_gamma, focal_alpha, label_smoothing,
    class_weight, classes, validation_fraction, patience, device, amp,
    random_state, verbose, callbacks, n_threads :
        Training parameters shared by all skser networks; see ``docs/models.md``.
        Defaults follow Keras' Adam (the report's framework).

    Attributes
    ----------
    classes_ : np.ndarray of shape (n_classes,)
    n_mfcc_features_ : int or None
    embedding_shape_ : tuple of int or None
    net_, module_, history_, n_params_, device_ :
        As in every skser network.

    Notes
    -----
    The report does not give the block count, widths or dropout rates; the
    defaults here are TIM-Net's (8 blocks, 39 channels for 39 MFCCs, spatial
    dropout 0.1) and common choices for the rest (128 embedding units, fusion
    dropout 0.3). Its blocks have no residual connection, as the report
    describes them.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import FusionNet
    >>> rng = np.random.default_rng(0)
    >>> X = {"mfcc": rng.standard_normal((8, 40, 39)).astype(np.float32),
    ...      "embedding": rng.standard_normal((8, 768)).astype(np.float32)}
    >>> y = np.array(["ang", "sad"] * 4)
    >>> FusionNet(max_epochs=1, random_state=0).fit(X, y).predict_proba(X).shape
    (8, 2)
    """

    _input_kind = "bundle"

    _parameter_constraints: dict = {
        **BaseNeuralClassifier._parameter_constraints,
        "use_mfcc": ["boolean"],
        "use_embedding": ["boolean"],
        "mfcc_key": [str],
        "embedding_key": [str],
        "mfcc_branch": [StrOptions({"tim", "timnet"})],
        "n_filters": [Interval(Integral, 1, None, closed="left"), None],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "embedding_units": [Interval(Integral, 1, None, closed="left")],
        "fusion_dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        use_mfcc=True,
        use_embedding=True,
        mfcc_key="mfcc",
        embedding_key="embedding",
        mfcc_branch="tim",
        n_filters=None,
        kernel_size=2,
        n_blocks=8,
        dropout=0.1,
        embedding_units=128,
        fusion_dropout=0.3,
        lr=1e-3,
        batch_size=64,
        max_epochs=100,
        optimizer="adam",
        betas=(0.9, 0.999),
        eps=1e-7,
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
        self.use_mfcc = use_mfcc
        self.use_embedding = use_embedding
        self.mfcc_key = mfcc_key
        self.embedding_key = embedding_key
        self.mfcc_branch = mfcc_branch
        self.n_filters = n_filters
        self.kernel_size = kernel_size
        self.n_blocks = n_blocks
        self.dropout = dropout
        self.embedding_units = embedding_units
        self.fusion_dropout = fusion_dropout
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

    # -- input --------------------------------------------------------------------------
    def _validate_X(self, X: Any, *, reset: bool) -> tuple[dict, np.ndarray | None]:
        if not (self.use_mfcc or self.use_embedding):
            raise ParameterError(
                "FusionNet: use_mfcc=False and use_embedding=False leave no branch; keep at least one."
            )
        if not (isinstance(X, Mapping) or hasattr(X, "keys")):
            raise InputError(
                f"FusionNet takes named features (a FeatureBundle from FeatureDict, or a dict) "
                f"with {self._wanted_keys()}; got {type(X).__name__}. Build X with "
                "FeatureDict(mfcc=MFCC(...), embedding=SpeechEncoder(...))."
            )
        missing = [k for k in self._wanted_keys() if k not in X.keys()]
        if missing:
            raise InputError(
                f"X has no {missing} (it has {list(X.keys())}); set mfcc_key/embedding_key to "
                "the names used in FeatureDict, or switch the branch off (use_mfcc / use_embedding)."
            )
        x: dict = {}
        lengths = None
        mfcc_features = embedding_shape = None
        if self.use_mfcc:
            x["mfcc"], lengths = _check_mfcc(X[self.mfcc_key], self.mfcc_key)
            mfcc_features = int(x["mfcc"].shape[2])
        if self.use_embedding:
            e = np.asarray(X[self.embedding_key], dtype=np.float32)
            if e.ndim not in (2, 3) or 0 in e.shape:
                raise InputError(
                    f"X[{self.embedding_key!r}] must be embeddings of shape (n_samples, D) or "
                    f"(n_samples, n_layers, D); got shape {e.shape}."
                )
            if not np.isfinite(e).all():
                row = int(np.argwhere(~np.isfinite(e))[0, 0])
                raise InputError(f"X[{self.embedding_key!r}] has NaN or infinity in row {row}.")
            x["embedding"] = e
            embedding_shape = tuple(int(v) for v in e.shape[1:])
        sizes = {k: len(v) for k, v in x.items()}
        if len(set(sizes.values())) != 1:
            raise InputError(f"The inputs of X have different numbers of rows: {sizes}.")
        if reset:
            self.n_mfcc_features_ = mfcc_features
            self.embedding_shape_ = embedding_shape
        elif (mfcc_features, embedding_shape) != (self.n_mfcc_features_, self.embedding_shape_):
            raise InputError(
                f"X has {mfcc_features} MFCC features per frame and embeddings of shape "
                f"{embedding_shape}, but FusionNet was fitted with {self.n_mfcc_features_} and "
                f"{self.embedding_shape_}."
            )
        return x, lengths

    def _wanted_keys(self) -> list[str]:
        return [k for k, on in ((self.mfcc_key, self.use_mfcc), (self.embedding_key, self.use_embedding)) if on]

    def _n_samples(self, x: dict) -> int:
        return len(next(iter(x.values())))

    def _module_shape(self, x: dict) -> tuple[int, int | None]:
        if "mfcc" in x:
            return int(x["mfcc"].shape[2]), int(x["mfcc"].shape[1])
        return int(x["embedding"].shape[-1]), None

    def _make_dataset(self, x, lengths, y, indices) -> Dataset:
        return _BundleBatches(x, lengths, y, indices)

    def _predict_batches(self, x: dict, lengths: np.ndarray | None) -> Iterator[dict]:
        data = _BundleBatches(x, lengths, None, None)
        n = len(data)
        for start in range(0, n, self.batch_size):
            yield data.batch(np.arange(start, min(start + self.batch_size, n)))

    def _build_module(self, n_features: int, n_frames: int | None, n_classes: int) -> FusionNetModule:
        return FusionNetModule(
            n_classes,
            self.n_mfcc_features_,
            self.embedding_shape_,
            mfcc_branch=self.mfcc_branch,
            n_filters=self.n_filters,
            kernel_size=self.kernel_size,
            n_blocks=self.n_blocks,
            dropout=self.dropout,
            embedding_units=self.embedding_units,
            fusion_dropout=self.fusion_dropout,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.dict = True
        return tags
