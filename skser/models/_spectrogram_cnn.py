"""ImageNet CNN backbones (EfficientNet, ResNet, ConvNeXt via ``transformers``) fine-tuned on spectrogram images."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
import os
import socket
from numbers import Integral, Real
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_array, validate_data
from skorch.callbacks import Callback
from torch import nn

from ..exceptions import DownloadError, InputError, ParameterError
from ._base import SPEC_AUGMENT_CONSTRAINTS, BaseNeuralClassifier
from ._specaugment import spec_augment

__all__ = [
    "BACKBONES",
    "SpectrogramCNN",
    "SpectrogramCNNModule",
    "backbone_config",
    "build_backbone",
]

# EfficientNet-B0..B7 compound scaling (Tan & Le, 2019, and the reference
# implementation's ``efficientnet_params``): width coefficient, depth
# coefficient, input resolution, dropout before the classifier.
_EFFICIENTNET_SCALING: dict[str, tuple[float, float, int, float]] = {
    "b0": (1.0, 1.0, 224, 0.2),
    "b1": (1.0, 1.1, 240, 0.2),
    "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4),
    "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5),
    "b7": (2.0, 3.1, 600, 0.5),
}

# ResNet (He et al., 2016): blocks per stage, output channels per stage, block type.
_RESNET_LAYOUT: dict[str, tuple[list[int], list[int], str]] = {
    "resnet-18": ([2, 2, 2, 2], [64, 128, 256, 512], "basic"),
    "resnet-34": ([3, 4, 6, 3], [64, 128, 256, 512], "basic"),
    "resnet-50": ([3, 4, 6, 3], [256, 512, 1024, 2048], "bottleneck"),
}

#: Named architectures and the hub checkpoints of their ImageNet-1k weights.
BACKBONES: dict[str, str] = {
    **{f"efficientnet-{v}": f"google/efficientnet-{v}" for v in _EFFICIENTNET_SCALING},
    **{name: f"microsoft/{name}" for name in _RESNET_LAYOUT},
    "convnext-tiny": "facebook/convnext-tiny-224",
}


def _round_filters(width: float, channels: int, divisor: int = 8) -> int:
    """EfficientNet's channel rounding (``transformers``' ``round_filters``)."""
    channels *= width
    new = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    if new < 0.9 * channels:
        new += divisor
    return int(new)


def backbone_config(name: str, n_channels: int = 3):
    """``transformers`` configuration of a named architecture, without hub access.

    Parameters
    ----------
    name : str
        One of :data:`BACKBONES` (``"efficientnet-b0"`` .. ``"efficientnet-b7"``,
        ``"resnet-18"``, ``"resnet-34"``, ``"resnet-50"``, ``"convnext-tiny"``).
    n_channels : int, default=3
        Input channels of the stem.

    Returns
    -------
    config : transformers.PretrainedConfig
        ``EfficientNetConfig``, ``ResNetConfig`` or ``ConvNextConfig``, the
        architecture of the ImageNet checkpoint of that name.
    """
    from transformers import ConvNextConfig, EfficientNetConfig, ResNetConfig

    if name.startswith("efficientnet-") and name[len("efficientnet-") :] in _EFFICIENTNET_SCALING:
        width, depth, resolution, dropout = _EFFICIENTNET_SCALING[name[len("efficientnet-") :]]
        # The other fields keep EfficientNetConfig's defaults, which are B0's block layout.
        return EfficientNetConfig(
            num_channels=n_channels,
            width_coefficient=width,
            depth_coefficient=depth,
            image_size=resolution,
            dropout_rate=dropout,
            hidden_dim=_round_filters(width, 1280),
        )
    if name in _RESNET_LAYOUT:
        depths, hidden_sizes, layer_type = _RESNET_LAYOUT[name]
        return ResNetConfig(
            num_channels=n_channels,
            embedding_size=64,
            depths=depths,
            hidden_sizes=hidden_sizes,
            layer_type=layer_type,
        )
    if name == "convnext-tiny":
        return ConvNextConfig(num_channels=n_channels, depths=[3, 3, 9, 3], hidden_sizes=[96, 192, 384, 768])
    raise ParameterError(
        f"backbone={name!r} is not a named architecture; use one of {sorted(BACKBONES)}, "
        "a local folder written by save_pretrained, or a Hugging Face hub id."
    )


def _reinitialise(module: nn.Module) -> None:
    """torchvision's initialisation of a randomly initialised backbone.

    Kaiming-normal (fan-out) convolutions, normalisation layers at weight 1 and
    bias 0. (``transformers`` draws EfficientNet's batch-norm weights from
    N(0, 0.02), which nearly switches every block off for training from scratch.)
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm)):
            if m.weight is not None:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        elif hasattr(m, "normalized_shape") and getattr(m, "weight", None) is not None:
            nn.init.ones_(m.weight)  # ConvNeXt's channels-first LayerNorm
            nn.init.zeros_(m.bias)


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face endpoint answers a TCP connection (a fast offline test)."""
    try:
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            return False
        url = urlparse(constants.ENDPOINT)
    except Exception:  # pragma: no cover - very old huggingface_hub
        url = urlparse("https://huggingface.co")
    host = url.hostname or "huggingface.co"
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _unavailable(ident: str, reason: str) -> DownloadError:
    return DownloadError(
        f"SpectrogramCNN(pretrained=True) could not load the weights of {ident!r}: {reason}. "
        "On a machine with internet access run\n"
        "    python -c \"from transformers import AutoModel; "
        f"AutoModel.from_pretrained('{ident}').save_pretrained('backbone-dir')\"\n"
        "then copy backbone-dir here and pass backbone='path/to/backbone-dir' (or put it in the "
        "Hugging Face cache, HF_HOME). Use pretrained=False to train the architecture from a "
        "random initialisation."
    )


def _from_pretrained(ident: str) -> nn.Module:
    from transformers import AutoModel

    try:
        return AutoModel.from_pretrained(ident, local_files_only=True)
    except OSError as exc:
        local_error = exc
    if os.path.isdir(ident):
        raise _unavailable(ident, f"the folder holds no loadable checkpoint ({local_error})")
    if not _hub_reachable():
        raise _unavailable(
            ident, "they are not in the local Hugging Face cache and the hub cannot be reached"
        )
    try:
        return AutoModel.from_pretrained(ident)
    except OSError as exc:
        raise _unavailable(ident, str(exc).splitlines()[0]) from exc


def build_backbone(backbone: Any, *, pretrained: bool, n_channels: int) -> nn.Module:
    """A ``transformers`` vision backbone (the model without its classification head).

    Parameters
    ----------
    backbone : str, path-like or transformers.PretrainedConfig
        A name of :data:`BACKBONES`, a local folder written by
        ``save_pretrained`` (of the base model or of a
        ``*ForImageClassification`` model), a hub id, or a configuration
        (architecture only: ``pretrained`` must be False).
    pretrained : bool
        Load the checkpoint's weights (named architectures: their ImageNet
        hub checkpoint). Otherwise build the architecture randomly
        initialised (:func:`_reinitialise`); named architectures then need
        no hub access.
    n_channels : int
        Input channels, used when the architecture is built from scratch
        (a pretrained stem keeps its channels).

    Returns
    -------
    backbone : transformers.PreTrainedModel

    Raises
    ------
    skser.exceptions.DownloadError
        Weights (or a hub id's configuration) not available offline.
    """
    from transformers import AutoConfig, AutoModel

    if hasattr(backbone, "to_dict") and hasattr(backbone, "model_type"):
        if pretrained:
            raise ParameterError(
                "backbone is a configuration object, which holds no weights; use "
                "pretrained=False, or pass a folder or hub id for pretrained weights."
            )
        config = type(backbone).from_dict(backbone.to_dict())
        if hasattr(config, "num_channels"):
            config.num_channels = n_channels
        model = AutoModel.from_config(config)
        _reinitialise(model)
        return model
    ident = os.fspath(backbone)
    if ident in BACKBONES:
        if pretrained:
            return _from_pretrained(BACKBONES[ident])
        model = AutoModel.from_config(backbone_config(ident, n_channels))
    elif pretrained:
        return _from_pretrained(ident)
    else:
        try:
            config = AutoConfig.from_pretrained(ident, local_files_only=True)
        except OSError:
            if os.path.isdir(ident) or not _hub_reachable():
                raise ParameterError(
                    f"backbone={ident!r} is neither a named architecture ({sorted(BACKBONES)}) "
                    "nor a folder with a config.json nor a hub id whose configuration is cached "
                    "locally (the hub cannot be reached)."
                ) from None
            config = AutoConfig.from_pretrained(ident)
        if hasattr(config, "num_channels"):
            config.num_channels = n_channels
        model = AutoModel.from_config(config)
    _reinitialise(model)
    return model


def _backbone_from_config_dict(config: dict) -> nn.Module:
    """The architecture of a saved ``config.to_dict()``, weights left as built (no hub access)."""
    from transformers import AutoConfig, AutoModel

    template = AutoConfig.for_model(config["model_type"])
    return AutoModel.from_config(type(template).from_dict(config))


def _backbone_stages(backbone: nn.Module) -> list[list[str]] | None:
    """Names of the submodules of each stage, stem first; None for other architectures."""
    model_type = getattr(getattr(backbone, "config", None), "model_type", None)
    if model_type == "efficientnet":
        cfg = backbone.config
        counts = [int(math.ceil(cfg.depth_coefficient * n)) for n in cfg.num_block_repeats]
        stages, start = [["embeddings"]], 0
        for n in counts:
            stages.append([f"encoder.blocks.{i}" for i in range(start, start + n)])
            start += n
        stages[-1] += ["encoder.top_conv", "encoder.top_bn"]
        return stages
    if model_type == "resnet":
        n = len(backbone.encoder.stages)
        return [["embedder"]] + [[f"encoder.stages.{i}"] for i in range(n)]
    if model_type == "convnext":
        n = len(backbone.encoder.stages)
        stages = [["embeddings"]] + [[f"encoder.stages.{i}"] for i in range(n)]
        stages[-1].append("layernorm")
        return stages
    return None


class SpectrogramCNNModule(nn.Module):
    """Backbone, global average pooling, dense ReLU layer, dropout, linear output.

    The head of the spectrogram report: the backbone's pooled output (global
    average pooling of its last feature map for EfficientNet, ResNet and
    ConvNeXt) -> ``Linear(d, hidden)`` -> ReLU -> dropout ->
    ``Linear(hidden, n_classes)`` (softmax in the loss / ``predict_proba``).

    Parameters
    ----------
    backbone : transformers.PreTrainedModel
        Takes ``pixel_values`` of shape (batch, C, H, W); its output has ``pooler_output``.
    n_features : int
        Width ``d`` of the pooled output.
    n_classes : int
    hidden : int or None, default=256
        Units of the dense ReLU layer; None for a linear head on the pooled output.
    dropout : float, default=0.3
    repeat_channels : bool, default=False
        Repeat one-channel input three times (a pretrained RGB stem).
    augment : dict or None, default=None
        :func:`~skser.models.spec_augment` keyword arguments; frequency masks
        hide image rows, time masks columns, in training mode only.
    seed : int, default=0
        Seed of the masking generator.
    """

    def __init__(
        self,
        backbone: nn.Module,
        n_features: int,
        n_classes: int,
        hidden: int | None = 256,
        dropout: float = 0.3,
        repeat_channels: bool = False,
        augment: dict | None = None,
        seed: int = 0,
    ):
        super().__init__()
        self.backbone = backbone
        if hidden is None:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_features, n_classes))
        else:
            self.head = nn.Sequential(
                nn.Linear(n_features, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes)
            )
        self.repeat_channels = repeat_channels
        self.augment = augment
        self.seed = seed
        self.stages = _backbone_stages(backbone)
        self.frozen_norms: tuple[str, ...] = ()
        self._generator: torch.Generator | None = None

    # -- fine-tuning ---------------------------------------------------------
    def freeze_backbone(self) -> None:
        """Stop the gradients of every backbone parameter; its norm layers stay in eval mode."""
        for p in self.backbone.parameters():
            p.requires_grad_(False)
        self.frozen_norms = tuple(
            f"backbone.{name}"
            for name, m in self.backbone.named_modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)
        )
        self.train(self.training)

    def stage_modules(self, last: str | int) -> list[str]:
        """Backbone submodule names trained by ``unfreeze(last)`` (``[""]``: all of it)."""
        if last == "all":
            return [""]
        if self.stages is None:
            raise ParameterError(
                f"unfreeze={last!r} needs the stages of the backbone, known for EfficientNet, "
                f"ResNet and ConvNeXt only; this backbone is {type(self.backbone).__name__}. "
                "Use unfreeze='all'."
            )
        if last > len(self.stages):
            raise ParameterError(
                f"unfreeze={last} but the backbone has {len(self.stages)} stages (stem "
                "included); use at most that many, or unfreeze='all'."
            )
        return [n for stage in self.stages[-last:] for n in stage]

    def unfreeze(self, last: str | int = "all") -> None:
        """Train the whole backbone (``"all"``) or its last ``last`` stages again."""
        names = self.stage_modules(last)
        for name in names:
            sub = self.backbone.get_submodule(name) if name else self.backbone
            for p in sub.parameters():
                p.requires_grad_(True)
        prefixes = tuple(f"backbone.{n}." if n else "backbone." for n in names)
        self.frozen_norms = tuple(
            n for n in self.frozen_norms if not (n + ".").startswith(prefixes)
        )
        self.train(self.training)

    def train(self, mode: bool = True) -> SpectrogramCNNModule:
        super().train(mode)
        if mode:
            for name in self.frozen_norms:
                self.get_submodule(name).eval()
        return self

    # -- forward -------------------------------------------------------------
    def _mask(self, x: torch.Tensor) -> torch.Tensor:
        if self._generator is None or self._generator.device != x.device:
            self._generator = torch.Generator(device=x.device).manual_seed(self.seed)
        batch, _, height, width = x.shape
        ones = torch.ones((batch, width, height), dtype=x.dtype, device=x.device)
        keep = spec_augment(ones, None, generator=self._generator, **self.augment)
        return x * keep.transpose(1, 2)[:, None]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits for images ``x`` of shape (batch, C, H, W)."""
        if self.training and self.augment is not None:
            x = self._mask(x)
        if self.repeat_channels:
            x = x.expand(-1, 3, -1, -1)
        pooled = self.backbone(pixel_values=x).pooler_output
        return self.head(pooled.flatten(1))

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_generator"] = None
        return state


class _FineTuning(Callback):
    """Freeze the backbone at the start of training; unfreeze it after some epochs.

    Parameters
    ----------
    n_frozen_epochs : int or None
        Epochs trained with the backbone frozen (None: all of them).
    unfreeze : "all" or int
        What is trained afterwards: the whole backbone, or its last k stages.
    """

    def __init__(self, n_frozen_epochs: int | None, unfreeze: str | int):
        self.n_frozen_epochs = n_frozen_epochs
        self.unfreeze = unfreeze

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        net.module_.freeze_backbone()
        if self.n_frozen_epochs == 0:
            net.module_.unfreeze(self.unfreeze)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        epoch = len(net.history) - 1  # 0-based index of the epoch that starts
        if self.n_frozen_epochs is not None and epoch == self.n_frozen_epochs and epoch > 0:
            net.module_.unfreeze(self.unfreeze)


_SHARED_DOC = """    lr, batch_size, max_epochs, optimizer, betas, eps, weight_decay, momentum,
    schedule, schedule_kwargs, loss, focal_gamma, focal_alpha, label_smoothing,
    class_weight, classes, validation_fraction, patience, device, amp,
    random_state, verbose, callbacks, n_threads :
        Training parameters shared by all skser networks; see ``docs/models.md``.
        ``lr`` is the learning rate of the head (and of the backbone when
        ``backbone_lr`` is None)."""


class SpectrogramCNN(BaseNeuralClassifier):
    """ImageNet CNN (EfficientNet, ResNet, ConvNeXt) fine-tuned on spectrogram images.

    The spectrogram report's system: a backbone (EfficientNet-B7 in the
    report, ResNet-50 compared) whose classifier is replaced by global
    average pooling, a dense ReLU layer (``hidden``), dropout and a softmax
    output, trained with class-weighted cross-entropy. Input: images
    ``(n_samples, C, H, W)`` from :class:`~skser.features.SpectrogramImage`
    (e.g. ``make_pipeline(LogMel(), SpectrogramImage(), SpectrogramCNN())``).
    Backbones come from ``transformers`` (pure PyTorch; torchvision is not
    needed).

    Parameters
    ----------
    backbone : str, path-like or transformers.PretrainedConfig, default="efficientnet-b0"
        ``"efficientnet-b0"`` .. ``"efficientnet-b7"``, ``"resnet-18"``,
        ``"resnet-34"``, ``"resnet-50"``, ``"convnext-tiny"`` (see
        :data:`BACKBONES`), a local folder written by ``save_pretrained``, a
        hub id, or a ``transformers`` vision configuration (e.g. a small
        ``ResNetConfig``; with ``pretrained=False``).
    pretrained : bool, default=True
        Load the weights (named architectures: their ImageNet-1k hub
        checkpoint, e.g. ``google/efficientnet-b0``). Offline, only the local
        Hugging Face cache or a local folder can serve them; otherwise
        ``fit`` fails at once with :class:`~skser.exceptions.DownloadError`
        saying how to fetch them elsewhere. False builds the architecture
        from its configuration (shipped here for the named ones: no hub
        access), randomly initialised.
    hidden : int or None, default=256
        Units of the dense ReLU layer of the head (None: linear head).
    dropout : float, default=0.3
        Dropout before the output layer.
    freeze : {"backbone"} or None, default="backbone"
        Train only the head during the first ``n_frozen_epochs`` epochs
        (frozen batch-norm layers stay in eval mode: their statistics are
        not updated). None trains everything from the first epoch.
    n_frozen_epochs : int or None, default=2
        Epochs with the backbone frozen (``freeze="backbone"``); None keeps
        it frozen throughout (the backbone as a fixed feature extractor).
    unfreeze : "all" or int, default="all"
        After the frozen epochs, train the whole backbone or only its last
        ``k`` stages (stem + 7 block stages for EfficientNet, the last one
        with the top convolution; stem + 4 stages for ResNet and ConvNeXt).
    backbone_lr : float or None, default=1e-4
        Learning rate of the backbone parameters (an optimizer parameter
        group); None uses ``lr``.
    freq_mask_param, n_freq_masks, time_mask_param, n_time_masks : int
        SpecAugment on training images (0 = off): frequency masks blank
        image rows, time masks columns (set to 0, the mean after
        normalisation).
""" + _SHARED_DOC + """

    Attributes
    ----------
    classes_ : np.ndarray of shape (n_classes,)
    image_shape_ : tuple of int
        ``(C, H, W)`` of the training images; ``predict`` requires the same.
    backbone_config_ : dict
        ``config.to_dict()`` of the backbone: a pickled model is rebuilt from
        it (and its saved weights) without the hub or the weights folder.
    n_features_in_ : int
        ``C * H * W``.
    net_ : skorch.NeuralNetClassifier
    module_ : SpectrogramCNNModule
    history_ : skorch.History
    n_params_ : int
    device_ : str

    Notes
    -----
    **Class weights.** ``class_weight="balanced"`` gives class ``j`` the
    weight ``N / (K n_j)`` (scikit-learn's convention; ``K`` classes, ``N``
    training samples), the report's ``W_j = N / n_j`` divided by ``K``. The
    loss is the weighted mean ``sum_i w_{y_i} l_i / sum_i w_{y_i}``, so a
    constant factor cancels and both weightings train identically. (Keras,
    which the report used, divides by the batch size instead, so there the
    report's weights also scale the loss by about ``K``: an effective
    learning-rate factor for SGD, nearly none for Adam.)

    **Input.** 4-D float32 images. 3-D input ``(n, H, W)`` is read as
    one-channel images and 2-D input ``(n, d)`` as one-channel images of a
    single row (what scikit-learn's generic checks feed); EfficientNet
    needs images of at least about 32 x 32 pixels, and too small images are
    rejected at ``fit`` with the size that failed.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import SpectrogramCNN
    >>> X = np.random.default_rng(0).standard_normal((8, 3, 32, 32)).astype(np.float32)
    >>> y = np.array(["ang", "sad"] * 4)
    >>> clf = SpectrogramCNN(backbone="resnet-18", pretrained=False, max_epochs=1, random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape
    (8, 2)
    """

    _input_kind = "image"

    _parameter_constraints: dict = {
        **BaseNeuralClassifier._parameter_constraints,
        **SPEC_AUGMENT_CONSTRAINTS,
        "backbone": [str, os.PathLike, HasMethods(["to_dict"])],
        "pretrained": ["boolean"],
        "hidden": [Interval(Integral, 1, None, closed="left"), None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "freeze": [StrOptions({"backbone"}), None],
        "n_frozen_epochs": [Interval(Integral, 0, None, closed="left"), None],
        "unfreeze": [StrOptions({"all"}), Interval(Integral, 1, None, closed="left")],
        "backbone_lr": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        *,
        backbone="efficientnet-b0",
        pretrained=True,
        hidden=256,
        dropout=0.3,
        freeze="backbone",
        n_frozen_epochs=2,
        unfreeze="all",
        backbone_lr=1e-4,
        freq_mask_param=0,
        n_freq_masks=1,
        time_mask_param=0,
        n_time_masks=1,
        lr=1e-3,
        batch_size=32,
        max_epochs=10,
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
        class_weight="balanced",
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
        self.backbone = backbone
        self.pretrained = pretrained
        self.hidden = hidden
        self.dropout = dropout
        self.freeze = freeze
        self.n_frozen_epochs = n_frozen_epochs
        self.unfreeze = unfreeze
        self.backbone_lr = backbone_lr
        self.freq_mask_param = freq_mask_param
        self.n_freq_masks = n_freq_masks
        self.time_mask_param = time_mask_param
        self.n_time_masks = n_time_masks
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

    # -- input ---------------------------------------------------------------
    def _validate_X(self, X: Any, *, reset: bool) -> tuple[np.ndarray, None]:
        """Checked float32 images (n, C, H, W); 3-D input is one channel, 2-D one row."""
        ndim = getattr(X, "ndim", None)
        if ndim is None:
            try:
                ndim = np.asarray(X).ndim
            except ValueError:  # ragged nested lists: check_array below explains
                ndim = -1
        if ndim == 2:
            X = validate_data(self, X, reset=reset, dtype=np.float32)
            X = X[:, None, None, :]
        else:
            X = check_array(X, dtype=np.float32, allow_nd=True, ensure_min_features=1)
            if X.ndim == 3:
                X = X[:, None]
            if X.ndim != 4:
                raise InputError(
                    f"{type(self).__name__} expects images of shape (n_samples, n_channels, "
                    f"height, width), e.g. from skser.features.SpectrogramImage; got an array "
                    f"of shape {X.shape}."
                )
        shape = tuple(int(s) for s in X.shape[1:])
        n_values = int(np.prod(shape))
        if reset:
            self.image_shape_ = shape
            self.n_features_in_ = n_values
        elif shape != tuple(self.image_shape_):
            raise InputError(
                f"X has {n_values} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input: it was fitted on images of shape "
                f"(C, H, W) = {tuple(self.image_shape_)} and got {shape}. Use the same "
                "SpectrogramImage settings for training and prediction."
            )
        return np.ascontiguousarray(X), None

    # -- network ---------------------------------------------------------------
    def _build_module(self, n_features: int, n_frames: int | None, n_classes: int) -> nn.Module:
        n_channels, height, width = self.image_shape_
        saved_config = getattr(self, "backbone_config_", None)
        if saved_config is not None:
            # Unpickling a fitted model: the architecture only, its weights come from the state.
            backbone = _backbone_from_config_dict(saved_config)
        else:
            backbone = build_backbone(self.backbone, pretrained=self.pretrained, n_channels=n_channels)
            self.backbone_config_ = backbone.config.to_dict()
        stem_channels = getattr(backbone.config, "num_channels", n_channels)
        if stem_channels != n_channels and not (n_channels == 1 and stem_channels == 3):
            raise InputError(
                f"The backbone takes {stem_channels}-channel images but X has {n_channels} "
                "channels; use SpectrogramImage(channels='repeat') (3 channels) or "
                "channels='single' (repeated inside the network)."
            )
        repeat = stem_channels == 3 and n_channels == 1
        backbone.eval()
        try:
            with torch.no_grad():
                probe = torch.zeros((1, stem_channels, height, width))
                n_pooled = backbone(pixel_values=probe).pooler_output.flatten(1).shape[1]
        except RuntimeError as exc:
            raise InputError(
                f"Images of {height} x {width} pixels are too small for backbone "
                f"{self._backbone_name()} ({str(exc).splitlines()[0]}); use larger images, e.g. "
                "SpectrogramImage(size=(64, 64)) or more."
            ) from None
        backbone.train()
        augment = None
        if (self.freq_mask_param > 0 and self.n_freq_masks > 0) or (
            self.time_mask_param > 0 and self.n_time_masks > 0
        ):
            augment = {
                "freq_mask_param": int(self.freq_mask_param),
                "n_freq_masks": int(self.n_freq_masks),
                "time_mask_param": int(self.time_mask_param),
                "n_time_masks": int(self.n_time_masks),
            }
        seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
        module = SpectrogramCNNModule(
            backbone,
            n_pooled,
            n_classes,
            hidden=None if self.hidden is None else int(self.hidden),
            dropout=float(self.dropout),
            repeat_channels=repeat,
            augment=augment,
            seed=seed,
        )
        if self.freeze is not None:
            module.stage_modules(self.unfreeze if self.unfreeze == "all" else int(self.unfreeze))
        return module

    def _backbone_name(self) -> str:
        if isinstance(self.backbone, (str, os.PathLike)):
            return repr(os.fspath(self.backbone))
        return type(self.backbone).__name__

    def _param_groups(self) -> list[tuple[str, dict]]:
        if self.backbone_lr is None:
            return []
        return [("backbone.*", {"lr": float(self.backbone_lr)})]

    def _callbacks(self, has_valid: bool) -> list:
        cbs = super()._callbacks(has_valid)
        if self.freeze == "backbone":
            n = None if self.n_frozen_epochs is None else int(self.n_frozen_epochs)
            unfreeze = self.unfreeze if self.unfreeze == "all" else int(self.unfreeze)
            cbs.insert(0, ("fine_tuning", _FineTuning(n, unfreeze)))
        return cbs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
