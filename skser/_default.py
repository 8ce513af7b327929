"""skser's default speaker-independent SER system: a recipe, as an unfitted Pipeline."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import Any

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from .features import MFCC, Functionals, LogMel, LowLevel
from .preprocessing import SpeakerNormalizer

__all__ = ["make_default_classifier"]

#: 25 ms Hann frames every 10 ms at 16 kHz.
_FRAMING = dict(sr=16000, n_fft=512, win_length=400, hop_length=160)
#: Ten statistics per frame-level track.
_FUNCTIONALS = ("mean", "std", "min", "max", "slope", "p10", "p50", "p90", "skew", "kurtosis")


def make_default_classifier(
    *, n_jobs: int | None = None, memory: Any = None, verbose: bool = False
) -> Pipeline:
    """The default speaker-independent SER system (unfitted).

    Audio (paths or waveforms) in, emotion labels out::

        features            FeatureUnion of
          mfcc              MFCC(40, 64 mel bands, + deltas; 25 ms / 10 ms at 16 kHz)
                              -> Functionals(10 statistics)                 800 values
          lowlevel          LowLevel (ZCR, RMS, 12 chroma, centroid, roll-off,
                              flatness; same frames) -> Functionals(10)    170 values
          logmel            LogMel(64 mel bands, dB; same frames)
                              -> Functionals(10)                           640 values
        speakernormalizer   SpeakerNormalizer(): each speaker's functionals
                              standardised with that speaker's statistics
        standardscaler      StandardScaler()
        classifier          LogisticRegression(C=0.01, class_weight="balanced")

    It was chosen among a fixed pool of candidates by nested
    speaker-independent evaluation (inner ``GroupKFold`` over the training
    speakers of every outer leave-one-speaker-out fold) on the shared EMO-DB
    and RAVDESS copies; see ``benchmarks/default_system.py`` and
    ``docs/speaker-normalisation.md`` for the pool, the choice and the results.
    It trains in seconds on a CPU once the features are extracted.

    The speakers must be passed as ``groups`` at fit **and** at predict time
    (the normaliser standardises each speaker with its own statistics; a new
    speaker's statistics come from the recordings passed with it, at least
    ``min_utterances=10`` of them, or from ``enroll``). Inside
    :func:`skser.model_selection.evaluate` this happens by itself; elsewhere
    turn on metadata routing (``sklearn.set_config(enable_metadata_routing=True)``)
    and call ``fit(X, y, groups=speakers)`` / ``predict(X, groups=speakers)``.

    Parameters
    ----------
    n_jobs : int or None, default=None
        Parallel workers of each feature extractor.
    memory : str, os.PathLike, FeatureCache, joblib.Memory or None, default=None
        Cache of the frame-level features (see :class:`skser.MFCC`).
    verbose : bool, default=False
        Progress bars of the feature extractors.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``features``, ``speakernormalizer``, ``standardscaler``,
        ``classifier``; ``pipeline[:1]`` is the stateless feature part and
        ``pipeline[1:]`` the part that is trained.

    Examples
    --------
    >>> import skser
    >>> model = skser.make_default_classifier()
    >>> [name for name, _ in model.steps]
    ['features', 'speakernormalizer', 'standardscaler', 'classifier']
    """
    extractor = dict(n_jobs=n_jobs, memory=memory, verbose=verbose, **_FRAMING)
    features = FeatureUnion([
        ("mfcc", make_pipeline(MFCC(n_mfcc=40, n_mels=64, deltas=1, **extractor),
                               Functionals(_FUNCTIONALS))),
        ("lowlevel", make_pipeline(LowLevel(**extractor), Functionals(_FUNCTIONALS))),
        ("logmel", make_pipeline(LogMel(n_mels=64, **extractor), Functionals(_FUNCTIONALS))),
    ])
    return Pipeline([
        ("features", features),
        ("speakernormalizer", SpeakerNormalizer()),
        ("standardscaler", StandardScaler()),
        ("classifier", LogisticRegression(C=0.01, class_weight="balanced", max_iter=2000)),
    ])
