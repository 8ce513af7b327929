"""The scikit-learn base of the neural classifiers: a skorch net built and trained in ``fit``."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import copy
import warnings
from numbers import Integral, Real
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import (
    GroupShuffleSplit,
    ShuffleSplit,
    StratifiedShuffleSplit,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, EpochScoring, LRScheduler
from skorch.dataset import unpack_data
from skorch.helper import predefined_split
from skorch.history import History
from skorch.utils import TeeGenerator, to_tensor
from torch import nn
from torch.utils.data import Dataset

from ..exceptions import ParameterError
from ..features._base import frame_mask
from ._losses import FocalLoss
from ._schedules import LightSERNetDecay, WarmupCosine
from ._specaugment import SpecAugment, spec_augment

__all__ = ["SPEC_AUGMENT_CONSTRAINTS", "BaseNeuralClassifier", "count_parameters"]

SPEC_AUGMENT_CONSTRAINTS: dict = {
    "freq_mask_param": [Interval(Integral, 0, None, closed="left")],
    "n_freq_masks": [Interval(Integral, 0, None, closed="left")],
    "time_mask_param": [Interval(Integral, 0, None, closed="left")],
    "n_time_masks": [Interval(Integral, 0, None, closed="left")],
}

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


def count_parameters(module: nn.Module, *, bn_statistics: bool = True) -> int:
    """Number of parameters of a module, counted as Keras reports them.

    Parameters
    ----------
    module : torch.nn.Module
    bn_statistics : bool, default=True
        Also count the batch-norm running means and variances (Keras counts
        them as non-trainable weights); ``num_batches_tracked`` is never counted.

    Returns
    -------
    n : int
    """
    n = sum(p.numel() for p in module.parameters())
    if bn_statistics:
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
                n += m.running_mean.numel() + m.running_var.numel()
    return n


def _is_fitted_name(name: str) -> bool:
    """Attributes that ``fit`` sets: ``name_`` (scikit-learn convention) and ``_module_args``."""
    return (name.endswith("_") and not name.startswith("__")) or name == "_module_args"


def _missing_label_rows(y: np.ndarray) -> np.ndarray:
    """Indices of labels that are None, NaN, NaT or ``pd.NA``."""
    import pandas as pd

    return np.flatnonzero(pd.isna(y))


def _to_builtins(obj: Any) -> Any:
    """``obj`` with numpy/torch scalars and arrays turned into Python scalars and lists."""
    if isinstance(obj, dict):
        return {str(k): _to_builtins(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_builtins(v) for v in obj]
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.tolist()
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().tolist()
    return obj


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


class _BatchDataset(Dataset):
    """Tensors indexed a whole batch at a time (``__getitems__``), no per-sample Python work.

    Each batch is cut to the longest utterance it holds when ``trim`` is set, so
    a batch of short utterances does not pay for the longest one of the data set.
    """

    def __init__(
        self, x: np.ndarray, lengths: np.ndarray | None, y: np.ndarray | None, trim: bool
    ):
        self.x = torch.from_numpy(np.ascontiguousarray(x))
        self.lengths = None if lengths is None else torch.from_numpy(lengths)
        self.y = None if y is None else torch.from_numpy(np.asarray(y, dtype=np.int64))
        self.trim = trim and lengths is not None and bool((lengths < x.shape[1]).any())

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitems__(self, indices: list[int]) -> tuple[dict, torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        x = self.x[idx]
        Xb = {"x": x}
        if self.lengths is not None:
            lengths = self.lengths[idx]
            if self.trim:
                Xb["x"] = x[:, : int(lengths.max())]
            Xb["lengths"] = lengths
        yb = self.y[idx] if self.y is not None else torch.zeros(len(idx), dtype=torch.long)
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
def _seeded_rng(device: str, seed: int) -> Iterator[None]:
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


def _resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError(
            f"device={device!r} was asked for but CUDA is not available on this machine; "
            "use device='auto' (CUDA when present, else CPU) or device='cpu'."
        )
    try:
        torch.device(device)
    except RuntimeError as exc:
        raise ParameterError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    return device


class BaseNeuralClassifier(ClassifierMixin, BaseEstimator):
    """Base of the skser neural classifiers (composition over a skorch net).

    Subclasses define ``__init__`` (architecture parameters plus the shared
    training parameters documented in :doc:`models`), ``_input_kind``
    (``"sequence"`` for frame-level input, ``"vector"`` for descriptor
    vectors) and ``_build_module(n_features, n_frames, n_classes)``.

    ``fit`` validates ``X``/``y``, encodes the labels (``classes_``), builds a
    :class:`skorch.NeuralNetClassifier` (``net_``) around a fresh module and
    trains it with the global torch RNG forked and seeded from
    ``random_state`` (module initialisation, shuffling, dropout and
    SpecAugment are reproducible and the caller's RNG state is untouched).
    ``predict``/``predict_proba`` run the module directly under
    :func:`torch.inference_mode` in eval mode.
    """

    _input_kind = "sequence"

    _parameter_constraints: dict = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        "betas": ["array-like"],
        "eps": [Interval(Real, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "schedule": [StrOptions({"light_sernet", "warmup_cosine", "plateau"}), None],
        "schedule_kwargs": [dict, None],
        "loss": [StrOptions({"cross_entropy", "focal"})],
        "focal_gamma": [Interval(Real, 0, None, closed="left")],
        "focal_alpha": ["array-like", dict, None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "classes": ["array-like", None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "device": [str],
        "amp": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
    }

    # ------------------------------------------------------------------ hooks
    def _build_module(self, n_features: int, n_frames: int | None, n_classes: int) -> nn.Module:
        raise NotImplementedError

    def _param_groups(self) -> list[tuple[str, dict]]:
        """skorch ``optimizer__param_groups`` (fnmatch pattern, options)."""
        return []

    def _penalty(self) -> tuple[float, float] | None:
        return None

    def _check_module_input(self, n_features: int, n_frames: int) -> None:
        """Raise at predict time when the fitted module cannot take inputs of this shape."""

    # ------------------------------------------------------------- validation
    def _validate_X(self, X: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Checked float32 input with NaN padding replaced by 0, and frame lengths.

        The lengths are None for vector input and for frame-level input
        without padding (the networks then skip all masking).
        """
        if self._input_kind == "vector":
            X = validate_data(self, X, reset=reset, dtype=np.float32)
            return np.ascontiguousarray(X), None

        # A non-empty float32 3-D ndarray (what the skser front ends return) needs no
        # conversion: skip check_array (~0.4 ms per call, a sixth of a one-utterance
        # TIMNet forward); the finiteness checks below still run.
        if not (type(X) is np.ndarray and X.dtype == np.float32 and X.ndim == 3 and X.size):
            X = check_array(
                X,
                dtype=np.float32,
                allow_nd=True,
                ensure_all_finite="allow-nan",
                ensure_min_features=1,
            )
            if X.ndim == 2:
                X = X[:, :, None]
            if X.ndim != 3:
                raise ValueError(
                    f"{type(self).__name__} expects frame-level features of shape "
                    f"(n_samples, n_frames, n_features) (or (n_samples, n_frames) for one "
                    f"feature); got an array of shape {X.shape}."
                )
        lengths = None
        if not np.isfinite(X).all():
            lengths = self._padding_lengths(X)
            X = np.where(np.isnan(X), np.float32(0.0), X)
        n_features = X.shape[2]
        if reset:
            self.n_features_in_ = n_features
        elif n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features per frame, but {type(self).__name__} was fitted "
                f"with {self.n_features_in_} features per frame."
            )
        return np.ascontiguousarray(X), lengths

    @staticmethod
    def _padding_lengths(X: np.ndarray) -> np.ndarray:
        """Frame lengths of NaN-padded ``X``; raise for infinity and NaN that is not padding."""
        if np.isinf(X).any():
            row = int(np.argwhere(np.isinf(X))[0, 0])
            raise ValueError(f"Input X contains infinity (row {row}); features must be finite.")
        real = frame_mask(X)  # the project-wide padding convention
        pad = ~real
        partial = np.isnan(X).any(axis=2) & real
        if partial.any():
            row, frame = (int(v) for v in np.argwhere(partial)[0])
            raise ValueError(
                f"Input X contains NaN in row {row}, frame {frame}, which is not a padding "
                "frame (padding frames are entirely NaN, at the end of an utterance). "
                "Impute or drop the NaN values before this estimator."
            )
        lengths = real.sum(axis=1)
        contiguous = np.arange(X.shape[1])[None, :] < lengths[:, None]
        bad = np.flatnonzero((contiguous != ~pad).any(axis=1) | (lengths == 0))
        if bad.size:
            row = int(bad[0])
            what = "has no real frame" if lengths[row] == 0 else "has NaN frames before real ones"
            raise ValueError(
                f"Input X contains NaN: row {row} {what}. NaN marks padding only at the end "
                "of an utterance (the skser frame-level layout); impute other NaN values."
            )
        return lengths.astype(np.int64)

    def _encode_y(self, y: Any) -> np.ndarray:
        y = column_or_1d(y, warn=True)
        missing = _missing_label_rows(y)
        if missing.size:
            row = int(missing[0])
            raise ParameterError(
                f"y has a missing label ({y[row]}) at row {row} ({missing.size} missing in "
                "all); every training sample needs a label: drop those rows or label them "
                "before fit."
            )
        check_classification_targets(y)
        if self.classes is not None:
            classes = np.unique(np.asarray(self.classes))
            unknown = np.setdiff1d(np.unique(y), classes)
            if unknown.size:
                raise ParameterError(
                    f"y contains labels {unknown.tolist()} that are not in classes={classes.tolist()}."
                )
        else:
            classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes to train; got 1 class "
                f"({classes.tolist()})."
            )
        self.classes_ = classes
        return np.searchsorted(classes, y).astype(np.int64)

    def _per_class(self, values: Any, name: str, default: float) -> np.ndarray:
        n = len(self.classes_)
        if isinstance(values, dict):
            out = np.full(n, default, dtype=np.float64)
            for label, w in values.items():
                pos = np.flatnonzero(self.classes_ == label)
                if pos.size == 0:
                    raise ParameterError(
                        f"{name} names label {label!r}, which is not one of the classes "
                        f"{self.classes_.tolist()}."
                    )
                out[pos[0]] = float(w)
            return out
        out = np.asarray(values, dtype=np.float64).ravel()
        if out.shape != (n,):
            raise ParameterError(
                f"{name} must have one value per class ({n}, in the order of classes_); "
                f"got {out.shape[0]} values."
            )
        return out

    def _class_weights(self, y_enc: np.ndarray) -> np.ndarray | None:
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, str):  # "balanced": n / (n_classes * n_c)
            counts = np.bincount(y_enc, minlength=len(self.classes_)).astype(np.float64)
            w = np.zeros_like(counts)
            present = counts > 0
            w[present] = len(y_enc) / (present.sum() * counts[present])
            return w
        return self._per_class(self.class_weight, "class_weight", 1.0)

    # ------------------------------------------------------------------ build
    def _make_criterion(self, y_enc: np.ndarray) -> FocalLoss:
        weight = self._class_weights(y_enc)
        alpha = None
        gamma = 0.0
        if self.loss == "focal":
            gamma = float(self.focal_gamma)
            if self.focal_alpha is not None:
                alpha = torch.as_tensor(self._per_class(self.focal_alpha, "focal_alpha", 1.0))
        return FocalLoss(
            weight=None if weight is None else torch.as_tensor(weight),
            gamma=gamma,
            alpha=alpha,
            label_smoothing=self.label_smoothing,
        )

    def _optimizer_kwargs(self) -> dict:
        kw: dict = {"weight_decay": self.weight_decay}
        if self.optimizer in ("adam", "adamw"):
            kw["betas"] = tuple(float(b) for b in self.betas)
            kw["eps"] = self.eps
        elif self.optimizer == "rmsprop":
            kw["alpha"] = float(self.betas[0]) if len(self.betas) else 0.9
            kw["eps"] = self.eps
            kw["momentum"] = self.momentum
        else:
            kw["momentum"] = self.momentum
        groups = self._param_groups()
        if groups:
            kw["param_groups"] = groups
        return {f"optimizer__{k}": v for k, v in kw.items()}

    def _schedule_callback(self, has_valid: bool) -> LRScheduler | None:
        kw = dict(self.schedule_kwargs or {})
        if self.schedule is None:
            return None
        if self.schedule == "light_sernet":
            return LRScheduler(policy=torch.optim.lr_scheduler.LambdaLR, lr_lambda=LightSERNetDecay(**kw))
        if self.schedule == "warmup_cosine":
            kw.setdefault("total_epochs", self.max_epochs)
            return LRScheduler(policy=torch.optim.lr_scheduler.LambdaLR, lr_lambda=WarmupCosine(**kw))
        monitor = kw.pop("monitor", "valid_loss" if has_valid else "train_loss")
        for k, v in (("factor", 0.4), ("patience", 2), ("min_lr", 1e-7)):
            kw.setdefault(k, v)
        return LRScheduler(policy=torch.optim.lr_scheduler.ReduceLROnPlateau, monitor=monitor, **kw)

    def _callbacks(self, has_valid: bool) -> list:
        cbs: list = [("train_uar", EpochScoring(_uar, lower_is_better=False, on_train=True, name="train_uar"))]
        if has_valid:
            cbs.append(("valid_uar", EpochScoring(_uar, lower_is_better=False, name="valid_uar")))
        sched = self._schedule_callback(has_valid)
        if sched is not None:
            cbs.append(("lr_scheduler", sched))
        if has_valid:
            cbs.append(
                (
                    "best_epoch",
                    EarlyStopping(
                        monitor="valid_uar",
                        lower_is_better=False,
                        patience=self.patience if self.patience is not None else self.max_epochs + 1,
                        threshold=0.0,
                        load_best=True,
                        sink=print if self.verbose else _silent,
                    ),
                )
            )
        for i, cb in enumerate(self.callbacks or []):
            if isinstance(cb, tuple):
                cbs.append((cb[0], copy.deepcopy(cb[1])))
            else:
                cbs.append((f"user_{i}", copy.deepcopy(cb)))
        return cbs

    def _split(self, y_enc: np.ndarray, groups: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(len(y_enc))
        frac = self.validation_fraction
        if groups is not None:
            groups = column_or_1d(groups)
            check_consistent_length(y_enc, groups)
            if np.unique(groups).size < 2:
                raise ParameterError("validation_fraction with groups needs at least 2 distinct groups.")
            splitter = GroupShuffleSplit(n_splits=1, test_size=frac, random_state=seed)
            return next(splitter.split(idx, y_enc, groups))
        try:
            return next(StratifiedShuffleSplit(n_splits=1, test_size=frac, random_state=seed).split(idx, y_enc))
        except ValueError:
            warnings.warn(
                "validation_fraction: a stratified split is impossible (a class has too few "
                "samples); using a plain random split.",
                UserWarning,
                stacklevel=3,
            )
            return next(ShuffleSplit(n_splits=1, test_size=frac, random_state=seed).split(idx))

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, groups: Any = None) -> BaseNeuralClassifier:
        """Train a fresh network on ``X``, ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_frames, n_features) or (n_samples, n_features)
            Frame-level features (NaN-padded at the end) for sequence models,
            descriptor vectors for :class:`CNN1D`.
        y : array-like of shape (n_samples,)
            Labels of any type (strings included).
        groups : array-like of shape (n_samples,), default=None
            Group (speaker) of each sample; only used by the
            ``validation_fraction`` split, which then keeps groups apart.

        Returns
        -------
        self : object

        Notes
        -----
        ``fit`` is transactional: the work happens on a scratch copy of the
        estimator (parameters only), and its fitted attributes replace this
        estimator's all at once when training has succeeded. A ``fit`` that
        raises leaves the previous fit (or the unfitted state) untouched.
        """
        trial = object.__new__(type(self))
        trial.__dict__.update({k: v for k, v in self.__dict__.items() if not _is_fitted_name(k)})
        trial._fit(X, y, groups)
        for name in [k for k in self.__dict__ if _is_fitted_name(k)]:
            delattr(self, name)
        self.__dict__.update({k: v for k, v in trial.__dict__.items() if _is_fitted_name(k)})
        return self

    def _fit(self, X: Any, y: Any, groups: Any) -> None:
        """The body of :meth:`fit`, run on a scratch copy that ``fit`` then adopts."""
        x, lengths = self._validate_X(X, reset=True)
        check_consistent_length(x, y)
        y_enc = self._encode_y(y)
        n_classes = len(self.classes_)
        n_frames = None if self._input_kind == "vector" else x.shape[1]
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        device = _resolve_device(self.device)
        self.device_ = device
        use_amp = bool(self.amp) and device.startswith("cuda")
        if self.amp and not use_amp:
            warnings.warn("amp=True has no effect on CPU; training in float32.", UserWarning, stacklevel=2)

        trim = self._input_kind == "sequence" and getattr(self, "pooling", "mean") != "flatten"
        has_valid = self.validation_fraction is not None
        if has_valid:
            tr, va = self._split(y_enc, groups, seed)
            l_tr = None if lengths is None else lengths[tr]
            l_va = None if lengths is None else lengths[va]
            train_ds = _BatchDataset(x[tr], l_tr, y_enc[tr], trim)
            train_split = predefined_split(_BatchDataset(x[va], l_va, y_enc[va], trim))
        else:
            train_ds = _BatchDataset(x, lengths, y_enc, trim)
            train_split = None

        module_args = {"n_features": int(x.shape[-1]), "n_frames": n_frames, "n_classes": n_classes}
        with _seeded_rng(device, seed):
            module = self._build_module(**module_args)
            net = self._make_net(
                module,
                self._make_criterion(y_enc if not has_valid else y_enc[tr]),
                device,
                n_classes,
                train_split=train_split,
                callbacks=self._callbacks(has_valid),
                verbose=int(self.verbose),
            )
            aug = self._spec_augment()
            if aug is not None and aug.active:
                net.augment_ = {
                    "freq_mask_param": aug.freq_mask_param,
                    "n_freq_masks": aug.n_freq_masks,
                    "time_mask_param": aug.time_mask_param,
                    "n_time_masks": aug.n_time_masks,
                }
                net.augment_generator_ = torch.Generator(device=device).manual_seed(seed)
            net.penalty_ = self._penalty()
            net.amp_ = use_amp
            try:
                net.fit(train_ds, None)
            finally:
                net.augment_generator_ = None  # not picklable state; training is over
        self.net_ = net
        self.n_params_ = count_parameters(net.module_)
        self._module_args = module_args

    def _make_net(
        self,
        module: nn.Module,
        criterion: nn.Module,
        device: str,
        n_classes: int,
        *,
        train_split: Any = None,
        callbacks: list | None = None,
        verbose: int = 0,
    ) -> _SkserNet:
        """The skorch net around ``module`` (not yet initialised)."""
        return _SkserNet(
            module=module,
            criterion=criterion,
            optimizer=_OPTIMIZERS[self.optimizer],
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            train_split=train_split,
            callbacks=callbacks or [],
            classes=list(range(n_classes)),
            predict_nonlinearity=_softmax,
            iterator_train__shuffle=True,
            iterator_train__collate_fn=_whole_batch,
            iterator_valid__collate_fn=_whole_batch,
            device=device,
            verbose=verbose,
            **self._optimizer_kwargs(),
        )

    # ------------------------------------------------------------ persistence
    def __getstate__(self) -> dict:
        """Picklable state free of torch and skorch objects (see :meth:`__setstate__`).

        The fitted skorch net ``net_`` is replaced by ``state["_skser_net"]``::

            {
                "format": 1,
                "module_args": {"n_features": int, "n_frames": int | None, "n_classes": int},
                "module_state": {name: np.ndarray, ...},  # module.state_dict() on CPU
                "criterion": {"gamma": float, "label_smoothing": float,
                              "weight": np.ndarray | None, "alpha": np.ndarray | None},
                "history": [{...}, ...],  # skorch History as lists/dicts of Python scalars
            }

        Every other entry is the estimator's ``__dict__`` as it is (parameters
        as given, fitted attributes such as ``classes_`` as numpy arrays or
        Python scalars, and ``_sklearn_version``).
        """
        state = dict(super().__getstate__())  # object.__getstate__ returns __dict__ itself
        net = state.pop("net_", None)
        if net is None:
            return state
        module_args = state.pop("_module_args")
        crit = net.criterion_
        state["_skser_net"] = {
            "format": 1,
            "module_args": dict(module_args),
            "module_state": {
                k: v.detach().cpu().numpy().copy() for k, v in net.module_.state_dict().items()
            },
            "criterion": {
                "gamma": float(crit.gamma),
                "label_smoothing": float(crit.label_smoothing),
                "weight": None if crit.weight is None else crit.weight.detach().cpu().numpy().copy(),
                "alpha": None if crit.alpha is None else crit.alpha.detach().cpu().numpy().copy(),
            },
            "history": _to_builtins(list(net.history)),
        }
        return state

    def __setstate__(self, state: dict) -> None:
        """Restore from :meth:`__getstate__`: rebuild the module, load its weights, make ``net_``.

        The module is rebuilt by ``_build_module(**module_args)`` (with the
        torch RNG forked, so loading never moves the caller's random stream)
        and put on ``device_``; a model trained on CUDA loads on the CPU
        when this machine has no CUDA, and ``device_`` then says ``"cpu"``.
        """
        state = dict(state)
        saved = state.pop("_skser_net", None)
        super().__setstate__(state)
        if saved is None:
            return
        device = self.device_
        if device.startswith("cuda") and not torch.cuda.is_available():
            device = "cpu"
        args = dict(saved["module_args"])
        with torch.random.fork_rng(devices=[]):
            module = self._build_module(**args)
        module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in saved["module_state"].items()})
        crit_state = saved["criterion"]
        criterion = FocalLoss(
            weight=None if crit_state["weight"] is None else torch.from_numpy(np.array(crit_state["weight"])),
            gamma=crit_state["gamma"],
            alpha=None if crit_state["alpha"] is None else torch.from_numpy(np.array(crit_state["alpha"])),
            label_smoothing=crit_state["label_smoothing"],
        )
        net = self._make_net(module, criterion, device, args["n_classes"])
        net.initialize()
        net.history = History(saved["history"])
        module.eval()
        self.net_ = net
        self.device_ = device
        self._module_args = args

    def _spec_augment(self) -> SpecAugment | None:
        if self._input_kind != "sequence":
            return None
        return SpecAugment(
            freq_mask_param=self.freq_mask_param,
            n_freq_masks=self.n_freq_masks,
            time_mask_param=self.time_mask_param,
            n_time_masks=self.n_time_masks,
        )

    # ---------------------------------------------------------------- predict
    @property
    def module_(self) -> nn.Module:
        """The trained :class:`torch.nn.Module` (``net_.module_``)."""
        check_is_fitted(self, "net_")
        return self.net_.module_

    @property
    def history_(self):
        """Per-epoch training history (skorch ``History``): ``train_loss``, ``train_uar``, ..."""
        check_is_fitted(self, "net_")
        return self.net_.history

    def _logits(self, X: Any) -> torch.Tensor:
        check_is_fitted(self, "net_")
        x, lengths = self._validate_X(X, reset=False)
        if x.ndim == 3:
            self._check_module_input(x.shape[2], x.shape[1])
        module = self.net_.module_
        device = self.net_.device
        if module.training:  # Module.eval() walks every submodule: skip it when already done
            module.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, x.shape[0], self.batch_size):
                xb = torch.from_numpy(x[start : start + self.batch_size])
                kwargs = {}
                if lengths is not None:
                    lb = lengths[start : start + self.batch_size]
                    if getattr(self, "pooling", "mean") != "flatten":
                        xb = xb[:, : int(lb.max())]
                    kwargs["lengths"] = torch.from_numpy(lb).to(device)
                out.append(module(xb.to(device), **kwargs).float().cpu())
        return torch.cat(out)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_frames, n_features) or (n_samples, n_features)

        Returns
        -------
        proba : np.ndarray of shape (n_samples, n_classes)
        """
        return torch.softmax(self._logits(X).double(), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (values of ``classes_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_frames, n_features) or (n_samples, n_features)

        Returns
        -------
        y : np.ndarray of shape (n_samples,)
        """
        index = self._logits(X).argmax(dim=1).numpy()
        return self.classes_[index]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self._input_kind == "sequence":
            # NaN is accepted only as end-of-utterance padding (whole frames), not as
            # missing values, so allow_nan stays False.
            tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags
