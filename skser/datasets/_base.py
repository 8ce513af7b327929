"""Shared machinery of the corpus loaders: vocabulary, scanning, Bunch building."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..exceptions import (
    CorpusLayoutError,
    LabelFileError,
    ParameterError,
    UnmatchedFilesWarning,
)

__all__ = [
    "EMOTIONS",
    "AUDIO_EXTENSIONS",
    "CorpusLayoutError",
    "LabelFileError",
    "UnmatchedFilesWarning",
    "as_emotion",
    "check_root",
    "scan_audio",
    "warn_unmatched",
    "make_bunch",
    "match_files",
    "drop_duplicates",
]

#: The one emotion vocabulary of skser, as English nouns, in alphabetical
#: order with the catch-all ``"other"`` last.
EMOTIONS: tuple[str, ...] = (
    "anger",
    "boredom",
    "calm",
    "contempt",
    "disgust",
    "excitement",
    "fear",
    "frustration",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
    "other",
)

#: File extensions taken to be audio when scanning a corpus folder (formats
#: libsndfile, and so soundfile, decodes). Other files (label tables, ``.txt``,
#: ``.lab``, video) are ignored without warning.
AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif",
        ".aiff", ".aifc", ".au", ".snd", ".w64", ".caf", ".rf64", ".sph",
        ".nist", ".voc",
    }
)

# Common spellings of the vocabulary in folder names, file names and tables.
_ALIASES: dict[str, str] = {
    "angry": "anger", "ang": "anger", "anger": "anger", "mad": "anger",
    "bored": "boredom", "boredom": "boredom", "boring": "boredom",
    "calm": "calm",
    "contempt": "contempt", "contemptuous": "contempt",
    "disgust": "disgust", "disgusted": "disgust", "dis": "disgust",
    "excited": "excitement", "excitement": "excitement", "exc": "excitement",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear",
    "fea": "fear",
    "frustrated": "frustration", "frustration": "frustration", "fru": "frustration",
    "happy": "happiness", "happiness": "happiness", "joy": "happiness", "hap": "happiness",
    "neutral": "neutral", "neu": "neutral",
    "sad": "sadness", "sadness": "sadness",
    "surprise": "surprise", "surprised": "surprise", "sur": "surprise",
    "pleasant_surprise": "surprise", "pleasant_surprised": "surprise", "ps": "surprise",
    "other": "other", "oth": "other",
}


def as_emotion(label: str) -> str | None:
    """The vocabulary noun for a common spelling of an emotion, or None."""
    key = re.sub(r"[\s\-]+", "_", str(label).strip().lower())
    return _ALIASES.get(key)


def check_root(path: str | os.PathLike, corpus: str, layout: str) -> Path:
    """Return ``path`` as a Path, or raise CorpusLayoutError describing ``layout``."""
    if path is None:
        raise ParameterError(f"{corpus}: path must be the corpus folder, got None.")
    root = Path(os.fspath(path)).expanduser()
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise CorpusLayoutError(f"{corpus}: {str(root)!r} {what}. Expected layout:\n{layout}")
    return root


def scan_audio(root: Path) -> list[Path]:
    """Every audio file below ``root`` (recursively, sorted, hidden files skipped)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS:
                found.append(Path(dirpath) / name)
    return found


def warn_unmatched(
    files: Sequence[Path | str], corpus: str, scheme: str, *, what: str = "do not fit"
) -> None:
    """Emit ONE UnmatchedFilesWarning naming how many files were left out, with examples."""
    if not files:
        return
    examples = ", ".join(repr(os.fspath(f)) for f in list(files)[:3])
    more = f" and {len(files) - 3} more" if len(files) > 3 else ""
    warnings.warn(
        f"{corpus}: {len(files)} audio file(s) {what} the naming scheme {scheme} and were "
        f"left out: {examples}{more}.",
        UnmatchedFilesWarning,
        stacklevel=3,
    )


def _check_labels(
    emotions: Sequence[str] | None, mapping: Mapping[str, str] | None, corpus: str
) -> tuple[set[str] | None, dict[str, str]]:
    mapping = dict(mapping or {})
    for key, value in mapping.items():
        if key not in EMOTIONS:
            raise ParameterError(
                f"{corpus}: mapping key {key!r} is not in the skser emotion vocabulary "
                f"{list(EMOTIONS)}; map vocabulary nouns, e.g. {{'excitement': 'happiness'}}."
            )
        if not isinstance(value, str) or not value:
            raise ParameterError(f"{corpus}: mapping[{key!r}] must be a non-empty str, got {value!r}.")
    if emotions is None:
        return None, mapping
    if isinstance(emotions, str):
        raise ParameterError(
            f"{corpus}: emotions must be a list of names, got the string {emotions!r}; "
            f"write emotions=[{emotions!r}]."
        )
    allowed = set(EMOTIONS) | set(mapping.values())
    unknown = [e for e in emotions if e not in allowed]
    if unknown:
        raise ParameterError(
            f"{corpus}: emotions {unknown} are neither in the skser vocabulary {list(EMOTIONS)} "
            "nor values of mapping."
        )
    return set(emotions), mapping


def _object_column(values: pd.Series) -> np.ndarray:
    # Arrow-backed strings break integer indexing inside sklearn's
    # cross_val_predict under pandas 3; hand sklearn plain object arrays.
    return np.array(values.tolist(), dtype=object)


def make_bunch(
    records: Sequence[Mapping[str, Any]] | pd.DataFrame,
    *,
    corpus: str,
    descr: str,
    emotions: Sequence[str] | None = None,
    mapping: Mapping[str, str] | None = None,
    return_X_y: bool = False,
    layout: str = "",
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Apply ``mapping`` then ``emotions`` and build the loader's return value.

    ``records`` hold one dict per utterance with at least ``path``,
    ``emotion`` and ``speaker``. Raises CorpusLayoutError when nothing is
    left, naming the layout.
    """
    keep, mapping = _check_labels(emotions, mapping, corpus)
    frame = records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame.from_records(
        list(records)
    )
    if frame.empty:
        raise CorpusLayoutError(
            f"{corpus}: no utterance was found."
            + (f" Expected layout:\n{layout}" if layout else "")
        )
    frame["path"] = [os.fspath(p) for p in frame["path"]]
    if mapping:
        frame["emotion"] = [mapping.get(e, e) for e in frame["emotion"]]
    if keep is not None:
        frame = frame[frame["emotion"].isin(sorted(keep))]
        if frame.empty:
            raise ParameterError(f"{corpus}: no utterance has one of the emotions {sorted(keep)}.")
    if "corpus" not in frame.columns:
        frame.insert(0, "corpus", corpus)
    front = [c for c in ("path", "emotion", "speaker") if c in frame.columns]
    frame = frame[front + [c for c in frame.columns if c not in front]].reset_index(drop=True)
    data = _object_column(frame["path"])
    target = _object_column(frame["emotion"])
    if return_X_y:
        return data, target
    groups = None
    if "speaker" in frame.columns and frame["speaker"].notna().all():
        groups = _object_column(frame["speaker"].astype(str))
    return Bunch(
        frame=frame,
        data=data,
        target=target,
        groups=groups,
        target_names=np.array(sorted(set(target)), dtype=object),
        DESCR=descr,
    )


def drop_duplicates(records: list[dict[str, Any]], corpus: str) -> list[dict[str, Any]]:
    """Keep the first file of each utterance id (``_id``), warning once about copies.

    Copies in circulation sometimes hold an utterance twice (a nested second
    copy of the corpus, or both a WAV and a FLAC version); every copy would
    otherwise count as another training example.
    """
    seen: dict[str, str] = {}
    kept, copies = [], []
    for r in records:
        key = r.pop("_id")
        if key in seen:
            copies.append((r["path"], seen[key]))
        else:
            seen[key] = r["path"]
            kept.append(r)
    if copies:
        examples = "; ".join(f"{a!r} (copy of {b!r})" for a, b in copies[:2])
        warnings.warn(
            f"{corpus}: {len(copies)} audio file(s) repeat an utterance already found and were "
            f"left out, keeping the first file of each: {examples}"
            + (f" and {len(copies) - 2} more." if len(copies) > 2 else "."),
            UnmatchedFilesWarning,
            stacklevel=3,
        )
    return kept


def match_files(
    files: Iterable[Path],
    parse: Callable[[Path], dict[str, Any] | None],
) -> tuple[list[dict[str, Any]], list[Path]]:
    """Split files into parsed records and the files ``parse`` rejected (None)."""
    records: list[dict[str, Any]] = []
    rejected: list[Path] = []
    for f in files:
        rec = parse(f)
        if rec is None:
            rejected.append(f)
        else:
            rec.setdefault("path", os.fspath(f))
            records.append(rec)
    return records, rejected
