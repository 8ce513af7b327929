"""Neural speech emotion classifiers as scikit-learn estimators (skorch underneath).

Each classifier takes features from a :mod:`skser.features` transformer
(frame-level ``(n_samples, n_frames, n_features)`` for the sequence models,
descriptor vectors for :class:`CNN1D`), accepts any labels, and trains on CUDA
when present and on CPU otherwise.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._base import BaseNeuralClassifier, count_parameters
from ._cnn import CNN1D, CNN2D, CNN1DModule, CNN2DModule
from ._encoder_classifier import SpeechEncoderClassifier
from ._fusion import FusionNet, FusionNetModule
from ._lightsernet import LightSERNet, LightSERNetModule
from ._losses import FocalLoss
from ._sernet import SERNet, SERNetCodeModule, SERNetModule, plot_attention
from ._specaugment import SpecAugment, spec_augment
from ._spectrogram_cnn import SpectrogramCNN, SpectrogramCNNModule
from ._timnet import TIMNet, TIMNetModule

__all__ = [
    "CNN1D",
    "CNN2D",
    "BaseNeuralClassifier",
    "CNN1DModule",
    "CNN2DModule",
    "FocalLoss",
    "FusionNet",
    "FusionNetModule",
    "LightSERNet",
    "LightSERNetModule",
    "SERNet",
    "SERNetCodeModule",
    "SERNetModule",
    "SpecAugment",
    "SpeechEncoderClassifier",
    "SpectrogramCNN",
    "SpectrogramCNNModule",
    "TIMNet",
    "TIMNetModule",
    "count_parameters",
    "plot_attention",
    "spec_augment",
]
