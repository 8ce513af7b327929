"""``LoadAudio``: the audio input contract as a transformer."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import Any

import numpy as np

from .._audio import as_object_array
from ._base import BaseAudioTransformer

__all__ = ["LoadAudio"]


class LoadAudio(BaseAudioTransformer):
    """Decode paths (or check waveforms) into mono float32 waveforms at ``sr``.

    A stateless transformer exposing the audio input contract on its own, e.g.
    to decode and resample a corpus once (in parallel, optionally cached)
    before several feature extractors.

    Parameters
    ----------
    sr : int, default=16000
        Sampling rate in Hz of the output waveforms. Files are resampled with
        soxr ("HQ"); arrays are taken to be at ``sr`` already.
    n_jobs : int or None, default=None
        Number of joblib workers used by ``transform``.
    verbose : bool or int, default=False
        Show a progress bar during ``transform``.
    memory : str, os.PathLike, FeatureCache, joblib.Memory or None, default=None
        On-disk cache of the decoded waveforms (keyed by ``sr`` and the
        content of each row; see :class:`~skser.features.FeatureCache`).

    See Also
    --------
    skser.load_audio : The same logic for a single file.

    Examples
    --------
    >>> import numpy as np
    >>> from skser import LoadAudio
    >>> waves = LoadAudio(sr=16000).transform([np.zeros(800, dtype=np.int16)])
    >>> waves.shape, waves[0].dtype
    ((1,), dtype('float32'))
    """

    def __init__(
        self,
        sr: int = 16000,
        *,
        n_jobs: int | None = None,
        verbose: bool | int = False,
        memory: Any = None,
    ):
        self.sr = sr
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory

    def _features_of_waveform(self, y: np.ndarray) -> np.ndarray:
        return y

    def _assemble(self, results: list[np.ndarray]) -> np.ndarray:
        """One float32 waveform per row, in a 1-D object array (never stacked)."""
        return as_object_array(results)
