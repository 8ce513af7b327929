"""SpecAugment-style time and frequency masking of frame-level training batches."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import torch
from torch import nn

from ..exceptions import InputError

__all__ = ["SpecAugment", "spec_augment"]


def _band_mask(
    size: int,
    extent: torch.Tensor,
    max_width: int,
    n_masks: int,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Union of ``n_masks`` random bands per row, vectorised over the batch.

    Each band has a width drawn uniformly from ``{0, ..., max_width}`` (clipped
    to the row's ``extent``) and a start drawn uniformly so the band lies
    within ``[0, extent)``. Returns a bool tensor of shape (batch, size).
    """
    batch = extent.shape[0]
    device = extent.device
    shape = (batch, n_masks)
    width = torch.floor(
        torch.rand(shape, generator=generator, device=device) * (max_width + 1)
    ).long()
    width = torch.minimum(width, extent[:, None])
    room = (extent[:, None] - width + 1).clamp_min(1)
    start = torch.floor(torch.rand(shape, generator=generator, device=device) * room).long()
    pos = torch.arange(size, device=device)[None, None, :]
    inside = (pos >= start[..., None]) & (pos < (start + width)[..., None])
    return inside.any(dim=1)


def spec_augment(
    x: torch.Tensor,
    lengths: torch.Tensor | None = None,
    *,
    freq_mask_param: int = 0,
    n_freq_masks: int = 1,
    time_mask_param: int = 0,
    n_time_masks: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Mask random frequency bands and time spans of a batch (Park et al., 2019).

    Masked cells are set to 0 (the value padding frames carry inside the
    networks). Time masks fall inside each utterance's true length, so padding
    is never mistaken for signal and short utterances are not wiped out.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_frames, n_features)
        Frame-level features (time on axis 1).
    lengths : torch.Tensor of shape (batch,) or None
        True frame counts; None means every row uses all ``n_frames``.
    freq_mask_param : int, default=0
        Maximum width (in feature bins) of each frequency mask; 0 disables them.
    n_freq_masks : int, default=1
        Number of frequency masks per utterance.
    time_mask_param : int, default=0
        Maximum width (in frames) of each time mask; 0 disables them.
    n_time_masks : int, default=1
        Number of time masks per utterance.
    generator : torch.Generator or None
        Random source (for reproducible training).

    Returns
    -------
    x_masked : torch.Tensor of shape (batch, n_frames, n_features)
        A new tensor; ``x`` is not modified.
    """
    if x.ndim != 3:
        raise InputError(f"spec_augment expects (batch, n_frames, n_features); got {tuple(x.shape)}")
    batch, n_frames, n_features = x.shape
    keep = torch.ones((batch, n_frames, n_features), dtype=torch.bool, device=x.device)
    if freq_mask_param > 0 and n_freq_masks > 0:
        extent = torch.full((batch,), n_features, dtype=torch.long, device=x.device)
        fmask = _band_mask(n_features, extent, freq_mask_param, n_freq_masks, generator)
        keep &= ~fmask[:, None, :]
    if time_mask_param > 0 and n_time_masks > 0:
        if lengths is None:
            extent = torch.full((batch,), n_frames, dtype=torch.long, device=x.device)
        else:
            extent = lengths.to(device=x.device, dtype=torch.long)
        tmask = _band_mask(n_frames, extent, time_mask_param, n_time_masks, generator)
        keep &= ~tmask[:, :, None]
    return x * keep.to(x.dtype)


class SpecAugment(nn.Module):
    """Module form of :func:`spec_augment`, active in training mode only.

    Parameters
    ----------
    freq_mask_param, n_freq_masks, time_mask_param, n_time_masks : int
        See :func:`spec_augment`.

    Examples
    --------
    >>> import torch
    >>> aug = SpecAugment(freq_mask_param=8, time_mask_param=20)
    >>> x = torch.ones(4, 100, 40)
    >>> _ = aug.train(); bool((aug(x) == 0).any())
    True
    >>> _ = aug.eval(); bool((aug(x) == x).all())
    True
    """

    def __init__(
        self,
        freq_mask_param: int = 0,
        n_freq_masks: int = 1,
        time_mask_param: int = 0,
        n_time_masks: int = 1,
    ):
        super().__init__()
        self.freq_mask_param = int(freq_mask_param)
        self.n_freq_masks = int(n_freq_masks)
        self.time_mask_param = int(time_mask_param)
        self.n_time_masks = int(n_time_masks)
        self.generator: torch.Generator | None = None

    @property
    def active(self) -> bool:
        return (self.freq_mask_param > 0 and self.n_freq_masks > 0) or (
            self.time_mask_param > 0 and self.n_time_masks > 0
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if not self.training or not self.active:
            return x
        return spec_augment(
            x,
            lengths,
            freq_mask_param=self.freq_mask_param,
            n_freq_masks=self.n_freq_masks,
            time_mask_param=self.time_mask_param,
            n_time_masks=self.n_time_masks,
            generator=self.generator,
        )
