"""Classification losses of the neural classifiers: cross-entropy and focal loss."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["FocalLoss"]


class FocalLoss(nn.Module):
    """Cross-entropy with optional focusing term, class weights and label smoothing.

    For the logits of one sample with target ``y``, ``log p = log_softmax(z)``,
    ``C`` classes, class weights ``w`` (all 1 when None), per-class factors
    ``alpha`` (all 1 when None), smoothing ``eps`` and focusing ``gamma``, the
    code computes the per-sample loss::

        ce_i = (1 - eps) * w[y] * (-log p[y])  +  (eps / C) * sum_c w[c] * (-log p[c])
        l_i  = alpha[y] * max(1 - p[y], tiny) ** gamma * ce_i

    and the batch loss ``sum_i l_i / sum_i w[y_i]`` (``tiny`` is the smallest
    normal float32, so ``gamma -> 0`` tends to the ``gamma = 0`` loss even for a
    saturated ``p[y] = 1``). ``ce_i`` and the normaliser are exactly those of
    :func:`torch.nn.functional.cross_entropy` with ``weight`` and
    ``label_smoothing`` (the smoothing term weights each class ``c`` by
    ``w[c]``), so with ``gamma == 0`` and ``alpha is None`` the loss *is* that
    call (used as is, bit-identical), and the focal path agrees with it to
    float rounding at ``gamma = 0`` and continuously as ``gamma -> 0``.

    Light-SERNet's focal loss is ``gamma=2`` with no ``alpha`` and no class
    weights; it clips ``p`` to ``[1e-7, 1 - 1e-7]``, which this implementation
    replaces by working on ``log_softmax`` (numerically stable, no clipping).

    Class weights and ``alpha`` are registered buffers, so they follow the
    module to its device (``net.criterion_.to(device)``), avoiding the
    weight-on-the-wrong-device failure of a plain tensor argument (skorch #734).

    Parameters
    ----------
    weight : torch.Tensor of shape (n_classes,) or None, default=None
        Class weights (e.g. ``"balanced"``: ``n_samples / (n_classes * n_c)``).
    gamma : float, default=0.0
        Focusing parameter (>= 0).
    alpha : torch.Tensor of shape (n_classes,) or None, default=None
        Per-class factor of the focal loss (not normalised away, unlike ``weight``).
    label_smoothing : float, default=0.0
        Smoothing ``eps`` in ``[0, 1)``.
    """

    def __init__(
        self,
        weight: torch.Tensor | None = None,
        gamma: float = 0.0,
        alpha: torch.Tensor | None = None,
        label_smoothing: float = 0.0,
    ):
        super().__init__()
        self.register_buffer(
            "weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32)
        )
        self.register_buffer(
            "alpha", None if alpha is None else torch.as_tensor(alpha, dtype=torch.float32)
        )
        self.gamma = float(gamma)
        self.label_smoothing = float(label_smoothing)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Loss of a batch.

        Parameters
        ----------
        logits : torch.Tensor of shape (batch, n_classes)
        target : torch.Tensor of shape (batch,), integer class indices

        Returns
        -------
        loss : torch.Tensor, scalar
        """
        logits = logits.float()
        target = target.long()
        if self.gamma == 0.0 and self.alpha is None:
            return F.cross_entropy(
                logits, target, weight=self.weight, label_smoothing=self.label_smoothing
            )
        logp = F.log_softmax(logits, dim=1)
        logp_y = logp.gather(1, target[:, None])[:, 0]
        n_classes = logits.shape[1]
        eps = self.label_smoothing
        if self.weight is None:
            w_y = torch.ones_like(logp_y)
            smooth = -logp.sum(dim=1)
        else:
            w_y = self.weight[target]
            smooth = -(logp * self.weight).sum(dim=1)
        loss = (1.0 - eps) * w_y * -logp_y
        if eps > 0.0:
            loss = loss + (eps / n_classes) * smooth
        if self.gamma != 0.0:
            tiny = torch.finfo(logp.dtype).tiny
            loss = (1.0 - logp_y.exp()).clamp_min(tiny).pow(self.gamma) * loss
        if self.alpha is not None:
            loss = self.alpha[target] * loss
        return loss.sum() / w_y.sum()

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, label_smoothing={self.label_smoothing}"
