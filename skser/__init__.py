"""skser: speech emotion recognition inside the scikit-learn ecosystem.

Subpackages
-----------
features
    Stateless audio feature transformers (MFCC, LogMel, LowLevel) and the
    Functionals pooling step.
model_selection
    Speaker-independent splitters and :func:`~skser.model_selection.evaluate`.
metrics
    UAR, WA and macro-F1 and their scorers.
datasets
    Corpus loaders and fetchers with one emotion vocabulary.
models
    Neural classifiers (LightSERNet, TIMNet, CNN1D, CNN2D, SERNet) on skorch.
augmentation
    Waveform augmentation as an imbalanced-learn sampler (fit-time only).
io
    ``save``/``load`` of fitted models as one file that is safe to load.
utils
    ``all_estimators``: discovery of skser's public estimators.

The neural classifiers and the augmenter are importable from the top level
too; they are loaded on first access, so ``import skser`` does not import
torch.
"""

# SPDX-License-Identifier: BSD-3-Clause

__version__ = "0.1.0.dev0"

import importlib
from typing import Any

from ._audio import load_audio
from .features import (
    MFCC,
    Functionals,
    LoadAudio,
    LogMel,
    LowLevel,
    frame_lengths,
    frame_mask,
)

_LAZY = {
    "LightSERNet": "skser.models",
    "TIMNet": "skser.models",
    "CNN1D": "skser.models",
    "CNN2D": "skser.models",
    "SERNet": "skser.models",
    "SpectrogramCNN": "skser.models",
    "SpectrogramImage": "skser.features",
    "WaveformAugmenter": "skser.augmentation",
    "SpeechEncoder": "skser.features",
    "FeatureDict": "skser.features",
    "FusionNet": "skser.models",
    "SpeechEncoderClassifier": "skser.models",
    "SpeakerNormalizer": "skser.preprocessing",
    "make_default_classifier": "skser._default",
    "Prosody": "skser.features",
    "SERNetFeatures": "skser.features",
    "MFCCModule": "skser.features",
    "FeatureCache": "skser.features",
    "extract_to_disk": "skser.features",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skser' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "__version__",
    "LoadAudio",
    "load_audio",
    "MFCC",
    "LogMel",
    "LowLevel",
    "Functionals",
    "frame_lengths",
    "frame_mask",
    *_LAZY,
]
