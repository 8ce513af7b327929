"""The skorch side of the neural classifiers: the net subclass, the batch dataset, AMP, seeding."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score
from skorch import NeuralNetClassifier
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator, to_tensor
from torch.utils.data import Dataset

from ._specaugment import spec_augment

__all__ = ["OPTIMIZERS", "frames_to_tensor", "seeded_rng", "take_batch"]

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


def _softmax(logits: torch.Tensor) -> torch.Tensor:
    return torch.softmax(logits, dim=-1)


def _whole_batch(batch: Any) -> Any:
    """Collate function for datasets that already return whole batches."""
    return batch


def _silent(*args: Any, **kwargs: Any) -> None:
    return None


def _uar(net: NeuralNetClassifier, X: Any, y: Any) -> float:
    """Unweighted average recall (balanced accuracy) of the net on encoded labels."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(np.asarray(y), net.predict(X)))


def frames_to_tensor(x: np.ndarray, padded: bool) -> torch.Tensor:
    """A batch of rows as a tensor: NaN padding set to 0 on a copy, never on the caller's array.

    ``x`` is a slice (a view) of the input or a fresh fancy-indexed copy. It
    is copied only when it holds padding (then the NaN are replaced in place
    on the copy) or is read-only (:func:`torch.from_numpy` warns on those);
    otherwise the tensor shares its memory.
    """
    fresh = x.flags.owndata and x.flags.writeable  # e.g. a fancy-indexed batch
    if (padded or not x.flags.writeable) and not fresh:
        x = np.array(x, order="C")
    t = torch.from_numpy(x)
    if padded:
        t.nan_to_num_(nan=0.0)
    return t


def take_batch(x: Any, lengths: np.ndarray | None, rows: Any, trim: bool) -> dict:
    """Keyword arguments of the module's ``forward`` for the rows ``rows`` of validated input.

    Parameters
    ----------
    x : np.ndarray or dict of str to np.ndarray
        Validated input; a dict is a named bundle of per-row arrays, whose
        entry ``"x"`` is the frame-level one (if any).
    lengths : np.ndarray of shape (n_samples,) or None
        Frame lengths of ``x`` (or of ``x["x"]``); None without padding.
    rows : slice or np.ndarray of int
        The rows of the batch.
    trim : bool
        Cut the frame-level array to the longest utterance of the batch.

    Returns
    -------
    batch : dict of str to torch.Tensor
        CPU tensors, one per entry of ``x`` (``"x"`` for an array), plus
        ``"lengths"`` when there is padding; NaN padding set to 0 on a copy.
    """
    arrays = x if isinstance(x, dict) else {"x": x}
    batch = {}
    for name, array in arrays.items():
        if name == "x" and lengths is not None:
            lb = lengths[rows]
            n_frames = int(lb.max()) if trim else array.shape[1]
            batch["x"] = frames_to_tensor(array[rows, :n_frames], padded=True)
            batch["lengths"] = torch.from_numpy(np.ascontiguousarray(lb))
        else:
            batch[name] = frames_to_tensor(array[rows], padded=False)
    return batch


class _BatchDataset(Dataset):
    """Rows of the validated input indexed a whole batch at a time (``__getitems__``).

    Holds the caller's array (or dict of arrays, see :func:`take_batch`)
    itself, no copy; ``indices`` selects the rows of this dataset (a training
    or validation part). Each batch is one fancy-indexed copy of its rows, cut
    to the longest utterance it holds when ``trim`` is set (a batch of short
    utterances does not pay for the longest one of the data set), with NaN
    padding set to 0 on that copy.
    """

    def __init__(
        self,
        x: Any,
        lengths: np.ndarray | None,
        y: np.ndarray | None,
        trim: bool,
        indices: np.ndarray | None = None,
    ):
        n_samples = len(next(iter(x.values()))) if isinstance(x, dict) else x.shape[0]
        self.x = x
        self.indices = np.arange(n_samples) if indices is None else np.asarray(indices)
        self.lengths = lengths
        self.y = None if y is None else np.asarray(y, dtype=np.int64)
        self.trim = trim and lengths is not None

    def __len__(self) -> int:
        return len(self.indices)

    def __getitems__(self, indices: list[int]) -> tuple[dict, torch.Tensor]:
        rows = self.indices[np.asarray(indices, dtype=np.int64)]
        Xb = take_batch(self.x, self.lengths, rows, self.trim)
        if self.y is not None:
            yb = torch.from_numpy(self.y[rows])
        else:
            yb = torch.zeros(len(rows), dtype=torch.long)
        return Xb, yb

    def __getitem__(self, i: int) -> tuple[dict, torch.Tensor]:
        Xb, yb = self.__getitems__([i])
        return {k: v[0] for k, v in Xb.items()}, yb[0]


class _SkserNet(NeuralNetClassifier):
    """skorch classifier with training-only SpecAugment, a weight penalty and AMP.

    The extra state is held in the attributes ``augment_`` (keyword
    arguments of :func:`spec_augment`, or None), ``augment_generator_``, ``penalty_`` (``(l1, l2)`` or None) and
    ``amp_`` (bool), set by :class:`BaseNeuralClassifier` before training.
    """

    augment_: dict | None = None
    augment_generator_: torch.Generator | None = None
    penalty_: tuple[float, float] | None = None
    amp_: bool = False
    amp_dtype_: torch.dtype = torch.float16
    scaler_: Any = None

    def infer(self, x: Any, **fit_params: Any) -> torch.Tensor:
        aug = self.augment_
        if aug is not None and self.module_.training and isinstance(x, dict):
            xt = to_tensor(x["x"], device=self.device)
            if xt.ndim == 3:
                x = dict(x)
                lengths = x.get("lengths")
                if lengths is not None:
                    lengths = to_tensor(lengths, device=self.device)
                x["x"] = spec_augment(xt, lengths, generator=self.augment_generator_, **aug)
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training and self.penalty_ is not None:
            l1, l2 = self.penalty_
            for p in self.module_.penalized_parameters():
                if l1:
                    loss = loss + l1 * p.abs().sum()
                if l2:
                    loss = loss + l2 * p.pow(2).sum()
        return loss

    def train_step(self, batch, **fit_params):
        """One optimisation step; with ``amp_`` under autocast and a gradient scaler.

        The scaler unscales the gradients (``scaler.unscale_``) before
        ``on_grad_computed`` fires, so callbacks (gradient clipping, norm
        logging) see gradients in their true units; ``scaler.step`` then
        skips the step when they hold inf/NaN.
        """
        if not self.amp_:
            return super().train_step(batch, **fit_params)
        device_type = torch.device(self.device).type
        if self.scaler_ is None:
            self.scaler_ = torch.amp.GradScaler(device_type)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        self._zero_grad_optimizer()
        with torch.autocast(device_type=device_type, dtype=self.amp_dtype_):
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.scaler_.scale(loss).backward()
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        for optimizer in optimizers:
            self.scaler_.unscale_(optimizer)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        for optimizer in optimizers:
            self.scaler_.step(optimizer)
        self.scaler_.update()
        return {"loss": loss, "y_pred": y_pred}

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("scaler_", None)
        return state


@contextlib.contextmanager
def seeded_rng(device: str, seed: int) -> Iterator[None]:
    """Fork and seed the torch generators that training on ``device`` draws from.

    The CPU default generator (initialisation, shuffling, CPU dropout) and,
    when training on CUDA, that one device's default generator (GPU dropout)
    are saved, seeded with ``seed`` and restored on exit. Unlike
    :func:`torch.manual_seed`, no other generator (other CUDA devices, MPS) is
    touched, and no CUDA context is created when training on the CPU.
    """
    cuda_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.default_generator.manual_seed(seed)
        for index in cuda_devices:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield
