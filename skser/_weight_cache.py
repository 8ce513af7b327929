"""Inference weights derived from a module's parameters, cached while the parameters hold."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["CachedInferenceWeights", "tracing"]


def tracing() -> bool:
    """True while torch.jit or the ONNX exporter traces: they need the plain operators."""
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


class CachedInferenceWeights:
    """Mixin for a :class:`torch.nn.Module` that caches weights derived for inference.

    :meth:`_cached_weights` returns the result of ``build()`` and keeps it in the
    attribute named by ``_cache_attr`` as ``(sources, their versions, weights)``.
    The cache is checked against the version counter of every parameter and
    buffer (an optimiser step, new running statistics or an in-place
    ``load_state_dict`` rebuild it) and dropped by ``train()``/``eval()``,
    device or dtype moves and ``load_state_dict``. It is never pickled.
    """

    _cache_attr: str = "_weight_cache"

    def _cached_weights(self, build: Callable[[], Any]) -> Any:
        cache = getattr(self, self._cache_attr, None)
        if cache is not None:
            sources, versions, weights = cache
            if tuple(t._version for t in sources) == versions:
                return weights
        sources = [*self.parameters(), *self.buffers()]
        with torch.no_grad():
            weights = build()
        setattr(self, self._cache_attr, (sources, tuple(t._version for t in sources), weights))
        return weights

    def _drop_cached_weights(self) -> None:
        setattr(self, self._cache_attr, None)

    def train(self, mode: bool = True):
        self._drop_cached_weights()
        return super().train(mode)

    def _apply(self, fn, recurse: bool = True):
        self._drop_cached_weights()
        return super()._apply(fn, recurse)

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        self._drop_cached_weights()
        super()._load_from_state_dict(*args, **kwargs)

    def __getstate__(self) -> dict:
        return {**super().__getstate__(), self._cache_attr: None}
