"""Preprocessing of SER features: per-speaker normalisation.

:class:`SpeakerNormalizer` standardises each speaker's features with that
speaker's own statistics; the speakers arrive as ``groups`` through
scikit-learn's metadata routing (see ``docs/speaker-normalisation.md``).
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._speaker import (
    SingleEmotionSpeakerWarning,
    SpeakerNormalizationWarning,
    SpeakerNormalizer,
)

__all__ = [
    "SpeakerNormalizer",
    "SpeakerNormalizationWarning",
    "SingleEmotionSpeakerWarning",
]
