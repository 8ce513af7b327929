"""Generic loaders (folder of class folders, table of paths) and ``combine``."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..exceptions import InputError, ParameterError
from ._base import (
    EMOTIONS,
    LabelFileError,
    as_emotion,
    check_root,
    make_bunch,
    scan_audio,
    warn_unmatched,
)

__all__ = ["load_folder", "load_table", "combine"]


def _vocabulary_label(raw: str, label_map: Mapping[str, str] | None) -> str | None:
    if label_map and raw in label_map:
        value = label_map[raw]
        return value if value in EMOTIONS else None
    return as_emotion(raw)


def _unknown_labels_error(where: str, unknown: Sequence[str]) -> LabelFileError:
    return LabelFileError(
        f"{where}: label(s) {sorted(set(unknown))[:10]} are not spellings of the skser emotion "
        f"vocabulary {list(EMOTIONS)}; pass label_map={{'<label>': '<emotion>'}}."
    )


def _group(pattern: re.Pattern, text: str, name: str) -> str | None:
    m = pattern.search(text)
    if m is None:
        return None
    return m.group(name) if name in pattern.groupindex else m.group(1 if pattern.groups else 0)


def load_folder(
    path: str | os.PathLike,
    *,
    label_pattern: str | None = None,
    speaker_pattern: str | None = None,
    label_map: Mapping[str, str] | None = None,
    emotions: Sequence[str] | None = None,
    mapping: Mapping[str, str] | None = None,
    corpus: str = "folder",
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load any folder of audio, labels from folder names or a regular expression.

    Parameters
    ----------
    path : str or path-like
        Folder scanned recursively for audio files.
    label_pattern : str, default=None
        Regular expression searched in each file's path relative to ``path``
        (``/``-separated, extension included). The label is the named group
        ``label``, else group 1, else the whole match. None takes the name of
        the file's parent folder (``angry/x.wav`` -> "anger").
    speaker_pattern : str, default=None
        Regular expression for the speaker, same rules with group ``speaker``.
        None leaves ``speaker`` empty and ``groups`` None.
    label_map : dict of str to str, default=None
        Raw label -> vocabulary noun, for labels that are not a common spelling
        of the vocabulary (``{"pos": "happiness"}``). Common spellings
        (angry, happy, sad, fearful, surprised, ...) are recognised without it.
    emotions, mapping, return_X_y
        As in :func:`load_emodb`.
    corpus : str, default="folder"
        Value of the ``corpus`` column (used by :func:`combine`).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``frame`` (path, emotion, speaker, corpus, label (raw)), ``data``,
        ``target``, ``groups`` (None without ``speaker_pattern``),
        ``target_names``, ``DESCR``.
    (data, target) : tuple of ndarray of object
        If ``return_X_y`` is True.

    Raises
    ------
    LabelFileError
        If a label is not a spelling of the vocabulary and not in ``label_map``.

    Warns
    -----
    UnmatchedFilesWarning
        Once, for files where ``label_pattern`` or ``speaker_pattern`` does not match.
    """
    layout = "  <path>/<label>/<file>.wav (or pass label_pattern=)"
    root = check_root(path, corpus, layout)
    label_re = re.compile(label_pattern) if label_pattern else None
    speaker_re = re.compile(speaker_pattern) if speaker_pattern else None
    records: list[dict[str, Any]] = []
    rejected: list[Path] = []
    unknown: list[str] = []
    for f in scan_audio(root):
        rel = f.relative_to(root).as_posix()
        raw = _group(label_re, rel, "label") if label_re else (
            f.parent.name if f.parent != root else None)
        speaker = _group(speaker_re, rel, "speaker") if speaker_re else None
        if raw is None or (speaker_re is not None and speaker is None):
            rejected.append(f)
            continue
        emotion = _vocabulary_label(raw, label_map)
        if emotion is None:
            unknown.append(raw)
            continue
        records.append({"path": os.fspath(f), "emotion": emotion, "speaker": speaker,
                        "label": raw})
    if unknown:
        raise _unknown_labels_error(f"{corpus} ({root})", unknown)
    scheme = (f"label_pattern={label_pattern!r}" if label_re else "'<label>/<file>'") + (
        f", speaker_pattern={speaker_pattern!r}" if speaker_re else "")
    warn_unmatched(rejected, corpus, scheme)
    descr = f"Audio files found under {root} ({scheme}).\n"
    return make_bunch(records, corpus=corpus, descr=descr, emotions=emotions, mapping=mapping,
                      return_X_y=return_X_y, layout=layout)


def load_table(
    path: str | os.PathLike,
    *,
    path_column: str = "path",
    label_column: str = "emotion",
    speaker_column: str | None = None,
    root: str | os.PathLike | None = None,
    sep: str | None = None,
    label_map: Mapping[str, str] | None = None,
    emotions: Sequence[str] | None = None,
    mapping: Mapping[str, str] | None = None,
    corpus: str = "table",
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load a CSV/TSV table with a path, a label and optionally a speaker column.

    Parameters
    ----------
    path : str or path-like
        The table. ``.tsv``/``.tab`` files are tab-separated, others comma-separated
        unless ``sep`` is given.
    path_column, label_column : str, default="path", "emotion"
        Columns holding the audio path and the label.
    speaker_column : str, default=None
        Column holding the speaker; None leaves ``groups`` None.
    root : str or path-like, default=None
        Folder relative paths are resolved against; None uses the table's folder.
    sep : str, default=None
        Field separator.
    label_map, emotions, mapping, return_X_y, corpus
        As in :func:`load_folder`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``frame`` (the table's columns, with ``path`` absolute, ``emotion``
        from the vocabulary, ``speaker``, ``label`` (raw)), ``data``,
        ``target``, ``groups``, ``target_names``, ``DESCR``.
    (data, target) : tuple of ndarray of object
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If the table or any audio file it lists is missing (count and examples).
    LabelFileError
        If a column is missing or a row has an empty path or label (names the line).
    """
    table = Path(os.fspath(path)).expanduser()
    if not table.is_file():
        raise FileNotFoundError(f"{corpus}: table {str(table)!r} does not exist.")
    if sep is None:
        sep = "\t" if table.suffix.lower() in (".tsv", ".tab") else ","
    df = pd.read_csv(table, sep=sep, dtype=str, keep_default_na=False)
    needed = [path_column, label_column] + ([speaker_column] if speaker_column else [])
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise LabelFileError(
            f"{table}, line 1: missing column(s) {missing}; found {list(df.columns)}."
        )
    base = Path(os.fspath(root)).expanduser() if root is not None else table.parent
    for column in needed:
        empty = np.flatnonzero(df[column].str.strip().to_numpy() == "")
        if empty.size:
            raise LabelFileError(f"{table}, line {empty[0] + 2}: empty {column!r}.")
    paths = [p if os.path.isabs(p) else os.fspath(base / p) for p in df[path_column]]
    absent = [p for p in paths if not os.path.isfile(p)]
    if absent:
        raise FileNotFoundError(
            f"{table}: {len(absent)} listed audio file(s) do not exist, e.g. {absent[:3]}; "
            "check the paths or pass root= (the folder relative paths start from)."
        )
    raw = df[label_column].tolist()
    labels = [_vocabulary_label(r, label_map) for r in raw]
    unknown = [r for r, e in zip(raw, labels) if e is None]
    if unknown:
        raise _unknown_labels_error(str(table), unknown)
    frame = df.drop(columns=[c for c in needed]).copy()
    frame.insert(0, "path", paths)
    frame.insert(1, "emotion", labels)
    frame.insert(2, "speaker", df[speaker_column].tolist() if speaker_column else None)
    frame["label"] = raw
    descr = f"Audio files listed in {table} (columns {path_column!r}, {label_column!r}).\n"
    return make_bunch(frame, corpus=corpus, descr=descr, emotions=emotions, mapping=mapping,
                      return_X_y=return_X_y)


def combine(
    *bunches: Bunch,
    emotions: Sequence[str] | None = None,
    mapping: Mapping[str, str] | None = None,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Pool corpora loaded by the ``load_*`` functions into one Bunch.

    Speaker ids are prefixed with the corpus (``"ravdess:01"``) so that they
    are unique across corpora; the ``corpus`` column tells the rows apart.

    Parameters
    ----------
    *bunches : Bunch
        Results of ``load_*`` (with ``frame``), at least two, from distinct corpora.
    emotions : list of str, default=None
        Keep only these emotions (after ``mapping``), e.g. the six shared by
        EMO-DB, RAVDESS, CREMA-D and TESS: anger, disgust, fear, happiness,
        neutral, sadness.
    mapping : dict of str to str, default=None
        Merge emotions.
    return_X_y : bool, default=False
        Return ``(data, target)``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Same fields as the loaders; ``frame`` has the union of the columns.
    (data, target) : tuple of ndarray of object
        If ``return_X_y`` is True.

    Examples
    --------
    >>> from skser.datasets import combine, load_emodb, load_ravdess
    >>> pooled = combine(load_emodb("emodb"), load_ravdess("ravdess"),
    ...                  emotions=["anger", "happiness", "neutral", "sadness"])  # doctest: +SKIP
    """
    if len(bunches) < 2:
        raise ParameterError(f"combine needs at least two loaded corpora, got {len(bunches)}.")
    frames = []
    for i, b in enumerate(bunches):
        if not isinstance(b, Mapping) or "frame" not in b:
            raise InputError(
                f"combine: argument {i} is not a Bunch returned by a skser loader "
                "(call it without return_X_y=True)."
            )
        f = b["frame"].copy()
        if f["speaker"].isna().any():
            raise InputError(f"combine: corpus {f['corpus'].iloc[0]!r} has rows without a speaker.")
        f["speaker"] = [f"{c}:{s}" for c, s in zip(f["corpus"], f["speaker"])]
        frames.append(f)
    corpora = [f["corpus"].iloc[0] for f in frames]
    if len(set(corpora)) != len(corpora):
        raise InputError(f"combine: a corpus is given twice: {corpora}.")
    frame = pd.concat(frames, ignore_index=True, sort=False)
    duplicated = frame["path"][frame["path"].duplicated()].tolist()
    if duplicated:
        raise InputError(f"combine: {len(duplicated)} file(s) appear twice, e.g. {duplicated[:3]}.")
    descr = "Pooled corpora: " + ", ".join(corpora) + ".\n\n" + "\n".join(
        b.get("DESCR", "") for b in bunches)
    return make_bunch(frame, corpus="+".join(corpora), descr=descr, emotions=emotions,
                      mapping=mapping, return_X_y=return_X_y)
