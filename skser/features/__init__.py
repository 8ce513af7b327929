"""Audio feature transformers (stateless scikit-learn transformers).

Frame-level transformers return float32 arrays of shape
``(n_samples, n_frames, n_features)``; variable-length output is NaN-padded at
the end of shorter utterances (see :func:`frame_lengths`).
"""

# SPDX-License-Identifier: BSD-3-Clause

from .._cache import FeatureCache, FeatureCacheWarning
from ._base import frame_lengths, frame_mask
from ._encoder import SpeechEncoder, Wav2Vec2Embedder
from ._extract import CachedFeatures, extract_to_disk
from ._feature_dict import FeatureBundle, FeatureDict
from ._functionals import Functionals
from ._load_audio import LoadAudio
from ._logmel import LogMel
from ._lowlevel import LowLevel
from ._mfcc import MFCC
from ._prosody import Prosody
from ._sernet_features import SERNetFeatures
from ._spectrogram_image import SpectrogramImage

__all__ = [
    "CachedFeatures",
    "FeatureCache",
    "FeatureCacheWarning",
    "FeatureBundle",
    "FeatureDict",
    "Functionals",
    "LoadAudio",
    "LogMel",
    "LowLevel",
    "MFCC",
    "MFCCModule",
    "Prosody",
    "SERNetFeatures",
    "SpectrogramImage",
    "SpeechEncoder",
    "Wav2Vec2Embedder",
    "extract_to_disk",
    "frame_lengths",
    "frame_mask",
]


def __getattr__(name: str):
    # Imports torch: loaded on first access so that ``import skser`` stays light.
    if name == "MFCCModule":
        from ._torch_frontend import MFCCModule

        return MFCCModule
    raise AttributeError(f"module 'skser.features' has no attribute {name!r}")
