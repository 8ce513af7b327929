"""Corpus loaders and fetchers for speech emotion recognition.

Every ``load_<corpus>(path)`` reads a corpus as its owners distribute it and
returns a :class:`~sklearn.utils.Bunch` with ``frame`` (one row per utterance),
``data`` (paths), ``target`` (emotions from one vocabulary, :data:`EMOTIONS`),
``groups`` (speakers) and ``DESCR``; ``return_X_y=True`` gives ``(data, target)``.
``data``, ``target`` and ``groups`` are numpy object arrays, so they index
cleanly inside scikit-learn splitters and ``cross_val_predict``.
``fetch_<corpus>`` downloads the openly licensed corpora into ``data_home``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ..exceptions import (
    CorpusLayoutError,
    DownloadError,
    LabelFileError,
    UnmatchedFilesWarning,
)
from ._acted import load_cremad, load_emodb, load_ravdess, load_savee, load_tess
from ._base import EMOTIONS
from ._fetch import (
    fetch_cremad,
    fetch_emodb,
    fetch_ravdess,
    fetch_tess,
    get_data_home,
)
from ._generic import combine, load_folder, load_table
from ._iemocap import load_iemocap
from ._msp_podcast import load_msp_podcast
from ._pooled import POOLED_EMOTIONS, load_pooled

__all__ = [
    "EMOTIONS",
    "CorpusLayoutError",
    "DownloadError",
    "LabelFileError",
    "UnmatchedFilesWarning",
    "combine",
    "fetch_cremad",
    "fetch_emodb",
    "fetch_ravdess",
    "fetch_tess",
    "get_data_home",
    "load_cremad",
    "load_emodb",
    "load_folder",
    "load_iemocap",
    "load_msp_podcast",
    "load_pooled", "POOLED_EMOTIONS",  # noqa: E231
    "load_ravdess",
    "load_savee",
    "load_table",
    "load_tess",
]
