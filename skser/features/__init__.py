"""Audio feature transformers (stateless scikit-learn transformers).

Frame-level transformers return float32 arrays of shape
``(n_samples, n_frames, n_features)``; variable-length output is NaN-padded at
the end of shorter utterances (see :func:`frame_lengths`).
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._base import frame_lengths, frame_mask
from ._functionals import Functionals
from ._load_audio import LoadAudio
from ._logmel import LogMel
from ._lowlevel import LowLevel
from ._mfcc import MFCC
from ._prosody import Prosody
from ._sernet_features import SERNetFeatures

__all__ = [
    "Functionals",
    "LoadAudio",
    "LogMel",
    "LowLevel",
    "MFCC",
    "Prosody",
    "SERNetFeatures",
    "frame_lengths",
    "frame_mask",
]
