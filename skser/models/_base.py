"""The scikit-learn base of the neural classifiers: a skorch net built and trained in ``fit``."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import (
    GroupShuffleSplit,
    ShuffleSplit,
    StratifiedShuffleSplit,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch.callbacks import EarlyStopping, EpochScoring, LRScheduler
from skorch.helper import predefined_split
from skorch.history import History
from torch import nn
from torch.utils.data import Dataset

from ..exceptions import InputError, ParameterError
from ._heap import retained_heap
from ._losses import FocalLoss
from ._net import (
    OPTIMIZERS,
    _BatchDataset,
    _silent,
    _SkserNet,
    _softmax,
    _uar,
    _whole_batch,
    seeded_rng,
    take_batch,
)
from ._schedules import LightSERNetDecay, WarmupCosine
from ._specaugment import SpecAugment
from ._validation import (
    check_frames,
    missing_label_rows,
    padding_lengths,
    resolve_device,
)

__all__ = ["SPEC_AUGMENT_CONSTRAINTS", "BaseNeuralClassifier", "count_parameters"]

#: Adam/AdamW on the CPU use torch's fused kernel (False: the per-tensor loop; A/B only).
FUSED_CPU_ADAM = True

SPEC_AUGMENT_CONSTRAINTS: dict = {
    "freq_mask_param": [Interval(Integral, 0, None, closed="left")],
    "n_freq_masks": [Interval(Integral, 0, None, closed="left")],
    "time_mask_param": [Interval(Integral, 0, None, closed="left")],
    "n_time_masks": [Interval(Integral, 0, None, closed="left")],
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


@contextmanager
def intra_op_threads(n_threads: int | None) -> Iterator[None]:
    """Run the block with ``n_threads`` torch intra-op threads, then restore the previous count.

    ``None`` leaves torch's setting alone. One thread is the right choice inside
    parallel workers (``n_jobs`` of a cross-validation) and on busy machines,
    where torch's OpenMP pool busy-waits for cores that other processes hold.
    """
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _is_fitted_name(name: str) -> bool:
    """Attributes that ``fit`` sets: ``name_`` (scikit-learn convention) and ``_module_args``."""
    return (name.endswith("_") and not name.startswith("__")) or name == "_module_args"


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    """A CPU numpy copy of a tensor (no memory shared with the module)."""
    return t.detach().cpu().numpy().copy()


def _to_tensor(a: Any) -> torch.Tensor:
    """A tensor owning a writable copy of a stored array."""
    return torch.from_numpy(np.array(a))


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


class BaseNeuralClassifier(ClassifierMixin, BaseEstimator):
    """Base of the skser neural classifiers (composition over a skorch net).

    ``fit`` validates ``X``/``y``, encodes the labels (``classes_``), builds a
    :class:`skorch.NeuralNetClassifier` (``net_``) around a fresh module and
    trains it. ``predict``/``predict_proba`` run the module directly under
    :func:`torch.inference_mode` in eval mode, one batch at a time.

    Notes
    -----
    Guarantees:

    - *Transactional fit*: the work happens on a scratch copy holding the
      parameters only; its fitted attributes (every ``name_`` and
      ``_module_args``) replace this estimator's when training succeeded. A
      ``fit`` that raises leaves the previous fit untouched.
    - *Reproducible without side effects*: the CPU default generator and,
      when training on CUDA, that device's generator are forked and seeded
      from ``random_state`` (initialisation, shuffling, dropout); SpecAugment
      has its own seeded generator. The caller's generators are left as they
      were, and no other device's generator is touched.
    - *No copy of the input*: a float32 3-D ndarray (memmaps and read-only
      arrays included) is used in place; NaN padding is set to 0 on the
      per-batch copy only.
    - *Portable state*: pickling stores no torch or skorch object (see
      :meth:`__getstate__`); unpickling rebuilds the module and ``net_`` and
      falls back to the CPU when the model was trained on CUDA and this
      machine has none.

    Subclass protocol, required:

    - ``__init__``: keyword-only architecture parameters plus the shared
      training parameters (``docs/models.md``), stored unchanged, and
      ``_parameter_constraints`` extending this class's.
    - ``_input_kind``: ``"sequence"`` (frame-level ``(n, n_frames,
      n_features)``, NaN-padded) or ``"vector"`` (``(n, n_features)``); other
      values are allowed when :meth:`_validate_X` is overridden.
    - ``_build_module(n_features, n_frames, n_classes)``: a fresh
      :class:`torch.nn.Module` whose ``forward(x, lengths=None)`` returns
      logits ``(batch, n_classes)``; ``x`` arrives with padding set to 0 and
      ``lengths`` (int64, ``(batch,)``) only when the batch holds padding.
      It runs with the seeded generators (draw initial weights from the
      global torch RNG) and must work offline.

    Optional hooks (defaults in brackets):

    - ``_param_groups()`` skorch ``optimizer__param_groups`` [none];
      ``_penalty()`` ``(l1, l2)`` on ``module.penalized_parameters()`` [None];
      ``_check_module_input(n_features, n_frames)`` raises at predict time
      for shapes the fitted module cannot take [accept];
      ``_trims_padding()`` whether batches may be cut to their longest
      utterance [True]; ``_spec_augment()``, ``_make_criterion(y_enc)``,
      ``_callbacks(has_valid)``, ``_schedule_callback(has_valid)``.
    - Input: ``_validate_X(X, reset=...) -> (x, lengths)`` (``x`` an array or
      a dict of per-row arrays, e.g. ``{"x": frames, "embedding": vectors}``;
      with ``reset`` it sets ``n_features_in_``), ``_n_samples(x)``,
      ``_module_shape(x) -> (n_features, n_frames)``,
      ``_make_dataset(x, lengths, y_enc, indices)`` (items: dict of
      ``forward`` keyword arguments, label) and ``_predict_batches(x,
      lengths)`` (dicts of ``forward`` keyword arguments). The defaults
      already handle a dict ``x``: each entry becomes the ``forward``
      argument of that name, entry ``"x"`` gets the padding treatment.
    - ``_rebuild_module(module_args)`` builds the module when unpickling
      [``_build_module(**module_args)``]; override it when
      ``_build_module`` would download pretrained weights that the saved
      state dict replaces anyway.
    """

    # With metadata routing on, the speakers reach fit without a set_fit_request
    # call (they keep validation_fraction's split speaker-independent).
    __metadata_request__fit = {"groups": True}

    _input_kind = "sequence"

    _parameter_constraints: dict = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
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
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    # ------------------------------------------------------------------ hooks
    def _build_module(self, n_features: int, n_frames: int | None, n_classes: int) -> nn.Module:
        raise NotImplementedError

    def _rebuild_module(self, module_args: dict) -> nn.Module:
        """The module to load a saved state dict into (unpickling); see the class docstring."""
        return self._build_module(**module_args)

    def _param_groups(self) -> list[tuple[str, dict]]:
        """skorch ``optimizer__param_groups`` (fnmatch pattern, options)."""
        return []

    def _penalty(self) -> tuple[float, float] | None:
        return None

    def _check_module_input(self, n_features: int, n_frames: int) -> None:
        """Raise at predict time when the fitted module cannot take inputs of this shape."""

    # ------------------------------------------------------------- validation
    def _validate_X(self, X: Any, *, reset: bool) -> tuple[Any, np.ndarray | None]:
        """Checked input and frame lengths (hook: override for other input types).

        Frame-level input comes back as a float32 array *with its NaN padding
        kept* (and without a copy when it is a 3-D float32 ndarray); batches
        get their NaN set to 0 one at a time (:meth:`_make_dataset`,
        :meth:`_predict_batches`). The lengths are None for vector input and
        for frame-level input without padding (the networks then skip all
        masking). With ``reset`` it sets ``n_features_in_`` (on the scratch
        copy that :meth:`fit` adopts); otherwise it checks it.
        """
        if self._input_kind == "vector":
            X = validate_data(self, X, reset=reset, dtype=np.float32)
            return X, None
        X = check_frames(X, type(self).__name__)
        n_features = X.shape[2]
        if not reset and n_features != self.n_features_in_:
            raise InputError(
                f"X has {n_features} features per frame, but {type(self).__name__} was fitted "
                f"with {self.n_features_in_} features per frame."
            )
        lengths = padding_lengths(X)
        if reset:
            self.n_features_in_ = n_features
        return X, lengths

    def _n_samples(self, x: Any) -> int:
        """Rows of validated input (hook; a dict of arrays: their common first dimension)."""
        if isinstance(x, dict):
            sizes = {name: len(v) for name, v in x.items()}
            if len(set(sizes.values())) != 1:
                raise InputError(f"The arrays of X have different numbers of rows: {sizes}.")
            return next(iter(sizes.values()))
        return x.shape[0]

    def _module_shape(self, x: Any) -> tuple[int, int | None]:
        """``(n_features, n_frames)`` passed to :meth:`_build_module` (hook).

        Frame-level input: ``(x.shape[2], x.shape[1])``; vector input:
        ``(x.shape[1], None)``; other array input: ``(x.shape[-1], x.shape[1])``.
        """
        if self._input_kind == "vector":
            return int(x.shape[1]), None
        return int(x.shape[-1]), int(x.shape[1])

    def _trims_padding(self) -> bool:
        """Whether batches may be cut to their longest utterance (hook).

        True by default; a network whose output size depends on the number
        of frames (the flatten head of CNN2D) returns False.
        """
        return True

    def _make_dataset(
        self, x: Any, lengths: np.ndarray | None, y: np.ndarray | None, indices: np.ndarray | None
    ) -> Dataset:
        """The training/validation dataset over rows ``indices`` of validated ``x`` (hook).

        Items are ``(dict of module ``forward`` keyword arguments, label)``;
        the default yields ``{"x": ..., "lengths": ...}`` a whole batch at a
        time (see :class:`~skser.models._net._BatchDataset`).
        """
        trim = self._input_kind == "sequence" and self._trims_padding()
        return _BatchDataset(x, lengths, y, trim, indices)

    def _predict_batches(self, x: Any, lengths: np.ndarray | None) -> Iterator[dict]:
        """Keyword arguments of the module's ``forward`` for each prediction batch (hook).

        Tensors on the CPU, ``batch_size`` rows at a time, in row order;
        NaN padding set to 0 on a per-batch copy and the batch cut to its
        longest utterance (when :meth:`_trims_padding`).
        """
        trim = self._input_kind == "sequence" and self._trims_padding()
        for start in range(0, self._n_samples(x), self.batch_size):
            yield take_batch(x, lengths, slice(start, start + self.batch_size), trim)

    def _encode_y(self, y: Any) -> np.ndarray:
        y = column_or_1d(y, warn=True)
        missing = missing_label_rows(y)
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
            raise InputError(
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

    def _optimizer_kwargs(self, device: str = "cpu") -> dict:
        kw: dict = {"weight_decay": self.weight_decay}
        if self.optimizer in ("adam", "adamw"):
            kw["betas"] = tuple(float(b) for b in self.betas)
            kw["eps"] = self.eps
            if device == "cpu" and FUSED_CPU_ADAM:
                # One fused kernel per parameter instead of about ten tensor operations:
                # the same update to float rounding (tests/test_models_train_speed.py).
                kw["fused"] = True
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
        with intra_op_threads(self.n_threads):
            trial._fit(X, y, groups)
        for name in [k for k in self.__dict__ if _is_fitted_name(k)]:
            delattr(self, name)
        self.__dict__.update({k: v for k, v in trial.__dict__.items() if _is_fitted_name(k)})
        return self

    def _fit(self, X: Any, y: Any, groups: Any) -> None:
        """The body of :meth:`fit`, run on a scratch copy that ``fit`` then adopts."""
        x, lengths = self._validate_X(X, reset=True)
        if not hasattr(y, "dtype"):
            # numpy would turn None/NaN in a list of strings into the label "None"/"nan":
            # keep such a list as objects so that _encode_y reports the missing label.
            y_objects = np.asarray(y, dtype=object)
            if y_objects.ndim == 1 and missing_label_rows(y_objects).size:
                y = y_objects
        y = column_or_1d(y, warn=True)
        n_samples = self._n_samples(x)
        if len(y) != n_samples:
            raise InputError(
                f"X has {n_samples} samples but y has {len(y)}; give one label per sample."
            )
        y_enc = self._encode_y(y)
        n_classes = len(self.classes_)
        n_features, n_frames = self._module_shape(x)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        device = resolve_device(self.device)
        self.device_ = device
        use_amp = bool(self.amp) and device.startswith("cuda")
        if self.amp and not use_amp:
            warnings.warn("amp=True has no effect on CPU; training in float32.", UserWarning, stacklevel=2)

        has_valid = self.validation_fraction is not None
        if has_valid:
            tr, va = self._split(y_enc, groups, seed)
            train_ds = self._make_dataset(x, lengths, y_enc, tr)
            train_split = predefined_split(self._make_dataset(x, lengths, y_enc, va))
        else:
            train_ds = self._make_dataset(x, lengths, y_enc, None)
            train_split = None

        module_args = {"n_features": n_features, "n_frames": n_frames, "n_classes": n_classes}
        with seeded_rng(device, seed):
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
            heap = retained_heap() if device == "cpu" else nullcontext()
            try:
                with heap:
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
            optimizer=OPTIMIZERS[self.optimizer],
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
            **self._optimizer_kwargs(device),
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
                              "weight": np.ndarray | None, "alpha": np.ndarray | None}
                             or None (a criterion other than FocalLoss),
                "history": [{...}, ...],  # skorch History as lists/dicts of Python scalars
            }

        Every other entry is the estimator's ``__dict__`` as it is (parameters
        as given, fitted attributes such as ``classes_`` as numpy arrays or
        Python scalars, and ``_sklearn_version``).
        """
        state = dict(super().__getstate__())  # object.__getstate__ returns __dict__ itself
        if "net_" not in state or "_module_args" not in state:
            return state  # unfitted (or unpickled from a pickle of an older skser as it was)
        net = state.pop("net_")
        module_args = state.pop("_module_args")
        crit = net.criterion_
        state["_skser_net"] = {
            "format": 1,
            "module_args": dict(module_args),
            "module_state": {k: _to_numpy(v) for k, v in net.module_.state_dict().items()},
            "criterion": None,
            "history": _to_builtins(list(net.history)),
        }
        if isinstance(crit, FocalLoss):  # the skser criterion; others are rebuilt as plain CE
            state["_skser_net"]["criterion"] = {
                "gamma": float(crit.gamma),
                "label_smoothing": float(crit.label_smoothing),
                "weight": None if crit.weight is None else _to_numpy(crit.weight),
                "alpha": None if crit.alpha is None else _to_numpy(crit.alpha),
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
            module = self._rebuild_module(args)
        module.load_state_dict({k: _to_tensor(v) for k, v in saved["module_state"].items()})
        crit = saved["criterion"] or {"gamma": 0.0, "label_smoothing": 0.0, "weight": None, "alpha": None}
        criterion = FocalLoss(
            weight=None if crit["weight"] is None else _to_tensor(crit["weight"]),
            gamma=crit["gamma"],
            alpha=None if crit["alpha"] is None else _to_tensor(crit["alpha"]),
            label_smoothing=crit["label_smoothing"],
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
        if isinstance(x, np.ndarray) and x.ndim == 3:
            self._check_module_input(x.shape[2], x.shape[1])
        module = self.net_.module_
        device = self.net_.device
        if module.training:  # Module.eval() walks every submodule: skip it when already done
            module.eval()
        out = []
        with intra_op_threads(self.n_threads), torch.inference_mode():
            for batch in self._predict_batches(x, lengths):
                batch = {k: v.to(device) for k, v in batch.items()}
                out.append(module(**batch).float().cpu())
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
