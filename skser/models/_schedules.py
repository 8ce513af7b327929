"""Learning-rate schedules of the papers.

Per epoch as picklable ``LambdaLR`` factors (:class:`LightSERNetDecay`,
:class:`WarmupCosine`); per training step as a skorch callback
(:class:`WarmupCosineSteps`).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math

from skorch.callbacks import Callback

__all__ = ["LightSERNetDecay", "WarmupCosine", "WarmupCosineSteps"]


class LightSERNetDecay:
    """Light-SERNet's step decay: ``lr * exp(-0.15)`` at epochs 60, 80, 100, ...

    The Keras original runs ``if epoch >= 50 and epoch % 20 == 0: lr *= e^-0.15``
    at the *start* of each 0-based epoch, so the first decay hits 0-based
    epoch 60. ``LambdaLR`` calls this with the number of epochs completed,
    which is the 0-based index of the epoch about to run, so the factor for
    epoch ``e`` is ``exp(-0.15 * #{k in 60, 80, ... : k <= e})``.

    Parameters
    ----------
    start : int, default=50
    every : int, default=20
    rate : float, default=0.15
    """

    def __init__(self, start: int = 50, every: int = 20, rate: float = 0.15):
        self.start = start
        self.every = every
        self.rate = rate

    def n_decays(self, epoch: int) -> int:
        first = self.start + (-self.start) % self.every  # first multiple of `every` >= start
        if epoch < first:
            return 0
        return (epoch - first) // self.every + 1

    def __call__(self, epoch: int) -> float:
        return math.exp(-self.rate * self.n_decays(epoch))


class WarmupCosine:
    """Linear warm-up over ``warmup_epochs``, then cosine decay to ``min_factor``.

    Parameters
    ----------
    total_epochs : int
    warmup_epochs : int, default=5
    min_factor : float, default=0.0
        Final learning rate as a fraction of the initial one.
    """

    def __init__(self, total_epochs: int, warmup_epochs: int = 5, min_factor: float = 0.0):
        self.total_epochs = total_epochs
        self.warmup_epochs = warmup_epochs
        self.min_factor = min_factor

    def __call__(self, epoch: int) -> float:
        if epoch < self.warmup_epochs:
            return (epoch + 1) / (self.warmup_epochs + 1)
        span = max(self.total_epochs - self.warmup_epochs, 1)
        progress = min((epoch - self.warmup_epochs) / span, 1.0)
        return self.min_factor + (1.0 - self.min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))


class WarmupCosineSteps(Callback):
    """Per-step learning rate: linear warm-up, then cosine decay to ``min_lr`` (skorch callback).

    Step ``s`` (0-based, one per training batch) uses
    ``lr * (s + 1) / warmup_steps`` during the warm-up and
    ``min_lr + (lr - min_lr) * (1 + cos(pi * p)) / 2`` after it, with ``p`` going
    from 0 at the first step after the warm-up to 1 at the last step; the total is
    ``max_epochs * ceil(n_train / batch_size)``, known when training starts.

    Parameters
    ----------
    warmup_steps : int or float, default=1000
        Warm-up length in steps, or (a float in (0, 1)) as a fraction of all steps.
    min_lr : float, default=1e-6
    """

    def __init__(self, warmup_steps: float = 1000, min_lr: float = 1e-6):
        self.warmup_steps = warmup_steps
        self.min_lr = min_lr

    def initialize(self):
        self.step_ = 0
        self.total_steps_ = 1
        self.warmup_ = 1
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        per_epoch = max(math.ceil(len(X) / net.batch_size), 1)
        self.total_steps_ = per_epoch * net.max_epochs
        w = self.warmup_steps
        fraction = isinstance(w, float) and w < 1
        self.warmup_ = max(round(w * self.total_steps_) if fraction else int(w), 0)
        self.step_ = 0

    def factor(self, step: int, lr: float) -> float:
        """Learning rate of 0-based step ``step`` for a base rate ``lr``."""
        if step < self.warmup_:
            return lr * (step + 1) / self.warmup_
        span = max(self.total_steps_ - self.warmup_ - 1, 1)  # the last step reaches min_lr
        progress = min((step - self.warmup_) / span, 1.0)
        low = min(self.min_lr, lr)
        return low + (lr - low) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        lr = self.factor(self.step_, net.lr)
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
        self.step_ += 1

    def on_epoch_end(self, net, **kwargs):
        net.history.record("event_lr", net.optimizer_.param_groups[0]["lr"])
