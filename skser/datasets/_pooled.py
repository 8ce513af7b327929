"""The pooled four-corpus set of the fusion report: RAVDESS + CREMA-D + TESS + SAVEE, six emotions."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.utils import Bunch

from ..exceptions import ParameterError
from ._acted import load_cremad, load_ravdess, load_savee, load_tess
from ._base import make_bunch
from ._generic import combine

__all__ = ["POOLED_EMOTIONS", "load_pooled"]

#: The six emotions the four corpora share (calm and surprise are dropped).
POOLED_EMOTIONS: tuple[str, ...] = ("anger", "disgust", "fear", "happiness", "neutral", "sadness")

_LOADERS = {
    "ravdess": load_ravdess,
    "cremad": load_cremad,
    "tess": load_tess,
    "savee": load_savee,
}


def load_pooled(
    ravdess: str | os.PathLike | None = None,
    cremad: str | os.PathLike | None = None,
    tess: str | os.PathLike | None = None,
    savee: str | os.PathLike | None = None,
    *,
    emotions: Sequence[str] = POOLED_EMOTIONS,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Pool RAVDESS, CREMA-D, TESS and SAVEE into the six-emotion set of the fusion report.

    Each corpus given is read with its loader (:func:`load_ravdess` speech
    only, :func:`load_cremad`, :func:`load_tess`, :func:`load_savee`), kept to
    ``emotions`` (neutral, happiness, sadness, anger, fear, disgust: RAVDESS's
    calm and the surprise of RAVDESS, TESS and SAVEE are dropped) and pooled
    with :func:`combine`, which makes speaker ids unique across corpora
    (``"ravdess:01"``, ``"cremad:1001"``, ``"tess:OAF"``, ``"savee:DC"``).
    Corpora not given are listed in ``missing`` and a warning names them,
    so a result on fewer corpora is never mistaken for the four-corpus one.

    Parameters
    ----------
    ravdess, cremad, tess, savee : str, path-like or None, default=None
        Folder of each corpus as its loader reads it; None when you do not
        have it. At least one is needed. A folder given but unreadable raises
        the loader's error.
    emotions : sequence of str, default=POOLED_EMOTIONS
        Emotions kept from every corpus.
    return_X_y : bool, default=False
        Return ``(data, target)``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``frame`` (path, emotion, speaker, corpus, and each corpus's columns),
        ``data`` (paths), ``target``, ``groups`` (corpus-prefixed speakers),
        ``target_names``, ``DESCR``, ``corpora`` (the corpora pooled, in the
        order ravdess, cremad, tess, savee) and ``missing`` (corpus -> reason).
    (data, target) : tuple of ndarray of object
        If ``return_X_y`` is True.

    Raises
    ------
    skser.exceptions.ParameterError
        If no corpus folder is given.

    Notes
    -----
    Full sizes with the six emotions (from the corpora's documented sizes):
    RAVDESS 1 056 (of 1 440 speech files), CREMA-D 7 442, TESS 2 400 (of
    2 800), SAVEE 420 (of 480): 11 318 utterances from 24 + 91 + 2 + 4 = 121
    speakers. The corpora differ in
    recording conditions and class balance; TESS has only two speakers.

    Examples
    --------
    >>> from skser.datasets import load_pooled
    >>> pooled = load_pooled(ravdess="ravdess/", cremad="CREMA-D/")  # doctest: +SKIP
    >>> pooled.missing  # doctest: +SKIP
    {'tess': 'not given', 'savee': 'not given'}
    """
    paths = {"ravdess": ravdess, "cremad": cremad, "tess": tess, "savee": savee}
    missing = {name: "not given" for name, p in paths.items() if p is None}
    if len(missing) == len(paths):
        raise ParameterError(
            "load_pooled needs at least one corpus folder: pass ravdess=, cremad=, tess= "
            "and/or savee= (see docs/datasets.md for where to obtain each)."
        )
    bunches = [
        _LOADERS[name](path, emotions=list(emotions))
        for name, path in paths.items()
        if path is not None
    ]
    corpora = [name for name, p in paths.items() if p is not None]
    if missing:
        warnings.warn(
            f"load_pooled: {len(corpora)} of the 4 corpora pooled ({', '.join(corpora)}); "
            f"not given: {', '.join(missing)}. Results on this set are not comparable with "
            "the four-corpus figures.",
            UserWarning,
            stacklevel=2,
        )
    if len(bunches) >= 2:
        pooled = combine(*bunches, emotions=list(emotions), return_X_y=return_X_y)
    else:  # one corpus: the same corpus-prefixed speakers as combine gives
        frame = bunches[0].frame.copy()
        frame["speaker"] = [f"{c}:{s}" for c, s in zip(frame["corpus"], frame["speaker"])]
        pooled = make_bunch(
            frame, corpus=corpora[0], descr=bunches[0].DESCR, emotions=list(emotions),
            return_X_y=return_X_y,
        )
    if return_X_y:
        return pooled
    counts = pooled.frame.groupby("corpus", sort=False).size()
    summary = ", ".join(f"{c} {n}" for c, n in counts.items())
    pooled.DESCR = (
        f"Pooled four-corpus SER set (fusion report protocol): {summary} utterances; "
        f"emotions {', '.join(emotions)}."
        + (f" Missing: {', '.join(missing)}." if missing else "")
        + "\n\n"
        + pooled.DESCR
    )
    pooled.corpora = corpora
    pooled.missing = missing
    return pooled
