"""openSMILE feature sets (eGeMAPS, GeMAPS, ComParE, emobase) as a transformer.

The features are computed by audEERING's ``opensmile`` package, which bundles
the SMILExtract library and the feature-set configurations: it is an optional
dependency (``pip install "skser[opensmile]"``) imported on first use.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ..exceptions import ParameterError
from ._base import BaseAudioTransformer, centre_fit, pad_frames

__all__ = ["OpenSMILE", "FEATURE_SETS"]

#: Feature sets, as ``opensmile.FeatureSet`` names them, and the feature levels each offers.
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "eGeMAPSv02": ("functionals", "lld"),
    "eGeMAPSv01b": ("functionals", "lld"),
    "GeMAPSv01b": ("functionals", "lld"),
    "ComParE_2016": ("functionals", "lld", "lld_deltas"),
    "emobase": ("functionals", "lld", "lld_deltas"),
}
_LEVELS = {"functionals": "Functionals", "lld": "LowLevelDescriptors",
           "lld_deltas": "LowLevelDescriptors_Deltas"}
#: Shorter waveforms are centre-zero-padded to this length: the eGeMAPS pitch
#: analysis needs about 62.5 ms, and openSMILE returns NaN below it.
MIN_SECONDS = 0.1
_INSTALL = 'pip install "skser[opensmile]"  (or: pip install opensmile)'


def _import_opensmile() -> Any:
    try:
        import opensmile
    except ImportError as exc:
        raise ImportError(
            f"OpenSMILE needs audEERING's opensmile package, which is not installed: {_INSTALL}."
        ) from exc
    return opensmile


@lru_cache(maxsize=8)
def _smile(feature_set: str, feature_level: str) -> Any:
    """One ``opensmile.Smile`` per process and configuration (building one parses its config)."""
    opensmile = _import_opensmile()
    return opensmile.Smile(
        feature_set=opensmile.FeatureSet[feature_set],
        feature_level=opensmile.FeatureLevel[_LEVELS[feature_level]],
    )


class OpenSMILE(BaseAudioTransformer, auto_wrap_output_keys=None):
    """openSMILE's standard feature sets: eGeMAPS functionals by default.

    Computes one of openSMILE's published feature sets with audEERING's
    ``opensmile`` package (the SMILExtract C++ library and its configuration
    files). The default, the 88 eGeMAPSv02 functionals (Eyben et al., 2016,
    "The Geneva Minimalistic Acoustic Parameter Set"), is the usual classical
    baseline of speech emotion recognition: F0, loudness, jitter, shimmer,
    HNR, formants, spectral slopes and MFCCs 1-4, summarised over voiced and
    unvoiced segments.

    Parameters
    ----------
    feature_set : str, default="eGeMAPSv02"
        openSMILE configuration, as ``opensmile.FeatureSet`` names it: one of
        ``"eGeMAPSv02"``, ``"eGeMAPSv01b"``, ``"GeMAPSv01b"``,
        ``"ComParE_2016"``, ``"emobase"``.
    feature_level : {"functionals", "lld", "lld_deltas"}, default="functionals"
        ``"functionals"``: one row per utterance, shape ``(n_samples,
        n_features)`` (88 for eGeMAPSv02, 62 for GeMAPSv01b, 6373 for
        ComParE_2016, 988 for emobase). ``"lld"``: the frame-level low-level
        descriptors, shape ``(n_samples, n_frames, n_features)`` (25 for
        eGeMAPSv02, 10 ms hop), NaN-padded at the end of shorter utterances
        like skser's other frame-level transformers. ``"lld_deltas"``: their
        deltas (ComParE_2016 and emobase only).
    sr : int, default=16000
        Sampling rate in Hz at which openSMILE analyses the audio: paths are
        decoded and resampled to it, arrays are taken to be at it. The
        configurations were designed for 16 kHz speech.
    n_jobs : int or None, default=None
        Number of joblib workers in ``transform``.
    verbose : bool or int, default=False
        Show a progress bar in ``transform``.
    memory : str, joblib.Memory or None, default=None
        Cache of per-utterance features.

    See Also
    --------
    MFCC, Functionals : skser's own MFCC-functionals baseline.
    Prosody : F0, energy, jitter, shimmer and HNR written in numpy.

    Notes
    -----
    Needs the optional ``opensmile`` package (``pip install
    "skser[opensmile]"``); without it ``fit`` and ``transform`` raise
    ImportError saying so. Audio shorter than 0.1 s is centre-zero-padded to
    0.1 s first (openSMILE returns NaN below about 62.5 ms). The output is a
    NumPy float32 array: ``set_output`` does not wrap it (the LLD output is
    3-D); the column names are in :meth:`get_feature_names_out`.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import OpenSMILE
    >>> t = np.arange(16000) / 16000
    >>> y = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    >>> OpenSMILE().fit_transform([y]).shape  # doctest: +SKIP
    (1, 88)
    """

    _parameter_constraints: dict = {
        **BaseAudioTransformer._parameter_constraints,
        "feature_set": [StrOptions(set(FEATURE_SETS))],
        "feature_level": [StrOptions(set(_LEVELS))],
    }

    def __init__(
        self,
        feature_set: str = "eGeMAPSv02",
        feature_level: str = "functionals",
        *,
        sr: int = 16000,
        n_jobs: int | None = None,
        verbose: bool | int = False,
        memory: Any = None,
    ):
        self.feature_set = feature_set
        self.feature_level = feature_level
        self.sr = sr
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory

    def _check_params(self) -> None:
        if self.feature_level not in FEATURE_SETS[self.feature_set]:
            raise ParameterError(
                f"OpenSMILE: feature_level={self.feature_level!r} is not available for "
                f"feature_set={self.feature_set!r}; choose one of "
                f"{list(FEATURE_SETS[self.feature_set])}."
            )
        _import_opensmile()

    def _features_of_waveform(self, y: np.ndarray) -> np.ndarray:
        min_samples = int(np.ceil(MIN_SECONDS * self.sr))
        if y.shape[0] < min_samples:
            y = centre_fit(y, min_samples)
        with warnings.catch_warnings():  # "Segment too short": NaN, raised by the base class
            warnings.simplefilter("ignore", UserWarning)
            frame = _smile(self.feature_set, self.feature_level).process_signal(y, self.sr)
        features = frame.to_numpy(dtype=np.float32)
        return features[0] if self.feature_level == "functionals" else features

    def _assemble(self, results: list[np.ndarray]) -> np.ndarray:
        if self.feature_level == "functionals":
            return super()._assemble(results)
        return pad_frames(results)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """openSMILE's names of the output columns (functionals) or descriptors (axis 2).

        Parameters
        ----------
        input_features : None
            Ignored: the input is audio, which has no feature names.

        Returns
        -------
        feature_names_out : np.ndarray of shape (n_features,), dtype object
            E.g. ``"F0semitoneFrom27.5Hz_sma3nz_amean"`` for eGeMAPSv02.
        """
        self._validate_params()
        self._check_params()
        names = _smile(self.feature_set, self.feature_level).feature_names
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
