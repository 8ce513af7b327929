"""Speaker-independent cross-validation splitters.

A speaker's utterances share voice, microphone and recording session; when
they appear on both sides of a split the classifier partly recognises the
speaker, and accuracies are inflated (by 10-20 points on EMO-DB with
utterance-level features). These splitters take the speaker of every sample
as ``groups`` and never put one speaker in both the training and the test set.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedGroupKFold

from .._groups import check_speakers
from ..exceptions import InputError, ParameterError

__all__ = ["LeaveOneSpeakerOut", "SpeakerKFold"]


def _require_speakers(splitter: Any, groups: Any, n_samples: int | None = None) -> np.ndarray:
    """``groups`` checked by :func:`check_speakers`, or an InputError that says how to pass speakers."""
    name = type(splitter).__name__
    if groups is None:
        raise InputError(
            f"{name} needs the speaker of every sample: pass groups=speakers (one "
            "speaker id per row, e.g. the first two characters of an EMO-DB file name), "
            f"as in cross_validate(clf, X, y, groups=speakers, cv={name}()) or "
            "skser.model_selection.evaluate(clf, X, y, groups=speakers)."
        )
    return check_speakers(groups, n_samples, name)


class LeaveOneSpeakerOut(LeaveOneGroupOut):
    """Leave-one-speaker-out (LOSO) cross-validation.

    Each fold tests on all utterances of one speaker and trains on all the
    others: as many folds as speakers. This is the standard speaker-independent
    protocol for small acted corpora (EMO-DB: 10 folds; RAVDESS: 24). It is
    :class:`sklearn.model_selection.LeaveOneGroupOut` with speakers as groups,
    plus an error that says how to pass them.

    See Also
    --------
    SpeakerKFold : Fewer, larger speaker-disjoint folds.
    skser.model_selection.evaluate : Run a protocol and report UAR/WA/F1.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.model_selection import LeaveOneSpeakerOut
    >>> speakers = np.array(["03", "03", "08", "08", "09"])
    >>> cv = LeaveOneSpeakerOut()
    >>> cv.get_n_splits(groups=speakers)
    3
    >>> [test.tolist() for _, test in cv.split(np.zeros(5), groups=speakers)]
    [[0, 1], [2, 3], [4]]
    """

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate (train, test) indices, one fold per speaker.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data; only its length is used.
        y : array-like of shape (n_samples,), default=None
            Ignored.
        groups : array-like of shape (n_samples,)
            Speaker of each sample (required).

        Yields
        ------
        train : np.ndarray of int
        test : np.ndarray of int
        """
        groups = _require_speakers(self, groups)
        return super().split(X, y, groups)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds: the number of distinct speakers in ``groups`` (required)."""
        groups = _require_speakers(self, groups)
        return super().get_n_splits(X, y, groups)


class SpeakerKFold(StratifiedGroupKFold):
    """K-fold cross-validation over speakers, class-stratified by default.

    Speakers are distributed over ``n_splits`` folds; every speaker is in the
    test set of exactly one fold and never in training and test at once.
    With ``stratify=True`` (default) the assignment of speakers to folds
    balances each fold's class distribution
    (:class:`sklearn.model_selection.StratifiedGroupKFold`), which matters
    when speakers have different emotion distributions (CREMA-D, natural
    corpora) or few speakers fall in each fold. With ``stratify=False`` it is
    :class:`sklearn.model_selection.GroupKFold`, which balances the fold sizes
    and does not look at ``y``.

    Parameters
    ----------
    n_splits : int >= 2, default=5
        Number of folds; at most the number of speakers.
    shuffle : bool, default=False
        Shuffle the speakers before assigning them to folds (with
        ``stratify=True``: shuffle speakers before the greedy stratified
        assignment, which randomises ties).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling; only used when ``shuffle=True``.
    stratify : bool, default=True
        Balance class proportions across folds (needs ``y``).

    See Also
    --------
    LeaveOneSpeakerOut : One fold per speaker.

    Notes
    -----
    Stratification is best-effort: the classes of one speaker stay together,
    so folds are only as balanced as the speakers allow, and scikit-learn
    warns when a class has fewer samples than ``n_splits``.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.model_selection import SpeakerKFold
    >>> speakers = np.repeat(["a", "b", "c", "d"], 2)
    >>> y = np.tile(["anger", "sad"], 4)
    >>> cv = SpeakerKFold(n_splits=2)
    >>> for train, test in cv.split(np.zeros(8), y, groups=speakers):
    ...     assert not set(speakers[train]) & set(speakers[test])
    """

    def __init__(
        self,
        n_splits: int = 5,
        *,
        shuffle: bool = False,
        random_state: Any = None,
        stratify: bool = True,
    ):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)
        self.stratify = stratify

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate (train, test) indices with speaker-disjoint folds.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data; only its length is used.
        y : array-like of shape (n_samples,), default=None
            Class labels; required when ``stratify=True``.
        groups : array-like of shape (n_samples,)
            Speaker of each sample (required).

        Yields
        ------
        train : np.ndarray of int
        test : np.ndarray of int
        """
        groups = _require_speakers(self, groups)
        n_speakers = np.unique(groups).shape[0]
        if self.n_splits > n_speakers:
            raise ParameterError(
                f"SpeakerKFold(n_splits={self.n_splits}) needs at least {self.n_splits} "
                f"speakers; groups holds {n_speakers}. Lower n_splits or use "
                "LeaveOneSpeakerOut()."
            )
        if not self.stratify:
            return GroupKFold(
                self.n_splits, shuffle=self.shuffle, random_state=self.random_state
            ).split(X, y, groups)
        if y is None:
            raise InputError(
                "SpeakerKFold(stratify=True) balances classes across folds and needs y: "
                "call split(X, y, groups) or use SpeakerKFold(stratify=False)."
            )
        return super().split(X, np.asarray(y), groups)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds, ``n_splits``."""
        return self.n_splits
