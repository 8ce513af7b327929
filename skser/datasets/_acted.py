"""Loaders of the acted corpora whose labels live in the file names.

EMO-DB, RAVDESS, CREMA-D, TESS and SAVEE.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import csv
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sklearn.utils import Bunch

from ..exceptions import ParameterError
from . import _descr
from ._base import (
    CorpusLayoutError,
    LabelFileError,
    UnmatchedFilesWarning,
    as_emotion,
    check_root,
    drop_duplicates,
    make_bunch,
    match_files,
    scan_audio,
    warn_unmatched,
)

__all__ = ["load_emodb", "load_ravdess", "load_cremad", "load_tess", "load_savee"]

Labels = Sequence[str] | None
Mapped = Mapping[str, str] | None


def _load(
    path: str | os.PathLike,
    *,
    corpus: str,
    parse,
    scheme: str,
    layout: str,
    descr: str,
    emotions: Labels,
    mapping: Mapped,
    return_X_y: bool,
    keep=None,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    root = check_root(path, corpus, layout)
    records, rejected = match_files(scan_audio(root), parse)
    warn_unmatched(rejected, corpus, scheme)
    records = drop_duplicates(records, corpus)
    if keep is not None:
        records = [r for r in records if keep(r)]
    return make_bunch(
        records, corpus=corpus, descr=descr, emotions=emotions, mapping=mapping,
        return_X_y=return_X_y, layout=layout,
    )


# --------------------------------------------------------------------- EMO-DB
_EMODB_EMOTIONS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
                   "F": "happiness", "T": "sadness", "N": "neutral"}
_EMODB_SPEAKERS = {"03": ("male", 31), "08": ("female", 34), "09": ("female", 21),
                   "10": ("male", 32), "11": ("male", 26), "12": ("male", 30),
                   "13": ("female", 32), "14": ("female", 35), "15": ("male", 25),
                   "16": ("female", 31)}
_EMODB_TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}
_EMODB_RE = re.compile(r"^(\d\d)([ab]\d\d)([WLEAFTN])([a-z])$")
_EMODB_LAYOUT = "  <path>/wav/03a01Fa.wav  (any folder below <path>; .wav or .flac ...)"


def _parse_emodb(f: Path) -> dict[str, Any] | None:
    m = _EMODB_RE.match(f.stem)
    if m is None or m.group(1) not in _EMODB_SPEAKERS:
        return None
    speaker, text, code, version = m.groups()
    gender, age = _EMODB_SPEAKERS[speaker]
    return {"_id": f.stem, "emotion": _EMODB_EMOTIONS[code], "speaker": speaker, "code": code,
            "gender": gender, "age": age, "text_id": text,
            "text": _EMODB_TEXTS.get(text, ""), "version": version}


def load_emodb(
    path: str | os.PathLike,
    *,
    emotions: Labels = None,
    mapping: Mapped = None,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load EMO-DB (Berlin Database of Emotional Speech) from a folder.

    Labels come from the file names (``03a01Fa``: speaker 03, text a01,
    emotion F = Freude = happiness, version a). Letters: W anger,
    L boredom (Langeweile), E disgust (Ekel), A fear (Angst), F happiness
    (Freude), T sadness (Trauer), N neutral.

    Parameters
    ----------
    path : str or path-like
        A folder at or above the audio files (e.g. the extracted
        ``download.zip`` holding ``wav/``). Found recursively, any audio
        extension soundfile reads. Non-audio files are ignored.
    emotions : list of str, default=None
        Keep only these emotions (after ``mapping``). None keeps all.
    mapping : dict of str to str, default=None
        Merge emotions, e.g. ``{"boredom": "neutral"}``.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``frame`` (DataFrame: path, emotion, speaker, corpus, code, gender,
        age, text_id, text, version), ``data`` (object array of paths, shape
        (n_utterances,)), ``target`` (object array of emotions), ``groups``
        (object array of speaker ids ``"03"`` ...), ``target_names``, ``DESCR``.
    (data, target) : tuple of ndarray of object, shape (n_utterances,)
        If ``return_X_y`` is True.

    Raises
    ------
    CorpusLayoutError
        If ``path`` is not a folder or holds no EMO-DB audio.

    Warns
    -----
    UnmatchedFilesWarning
        Once, naming how many audio files do not fit the naming scheme.

    Examples
    --------
    >>> from skser.datasets import load_emodb
    >>> emodb = load_emodb("emodb/")  # doctest: +SKIP
    >>> emodb.frame.emotion.value_counts()  # doctest: +SKIP
    """
    return _load(path, corpus="emodb", parse=_parse_emodb,
                 scheme="'03a01Fa' (speaker, text, emotion W/L/E/A/F/T/N, version)",
                 layout=_EMODB_LAYOUT, descr=_descr.EMODB, emotions=emotions,
                 mapping=mapping, return_X_y=return_X_y)


# -------------------------------------------------------------------- RAVDESS
_RAVDESS_EMOTIONS = {"01": "neutral", "02": "calm", "03": "happiness", "04": "sadness",
                     "05": "anger", "06": "fear", "07": "disgust", "08": "surprise"}
_RAVDESS_STATEMENTS = {"01": "Kids are talking by the door",
                       "02": "Dogs are sitting by the door"}
_RAVDESS_RE = re.compile(r"^(0[123])-(0[12])-(0[1-8])-(0[12])-(0[12])-(0[12])-(\d\d)$")
_RAVDESS_LAYOUT = ("  <path>/Actor_01/03-01-01-01-01-01-01.wav ... Actor_24/...\n"
                   "  (the extracted Audio_Speech_Actors_01-24.zip from Zenodo record 1188976)")


def _parse_ravdess(f: Path) -> dict[str, Any] | None:
    m = _RAVDESS_RE.match(f.stem)
    if m is None or not 1 <= int(m.group(7)) <= 24:
        return None
    modality, channel, emo, intensity, statement, repetition, actor = m.groups()
    return {"_id": f.stem, "emotion": _RAVDESS_EMOTIONS[emo], "speaker": actor, "code": emo,
            "gender": "male" if int(actor) % 2 else "female",
            "vocal_channel": "speech" if channel == "01" else "song",
            "modality": {"01": "audio-video", "02": "video", "03": "audio"}[modality],
            "intensity": "normal" if intensity == "01" else "strong",
            "statement": _RAVDESS_STATEMENTS[statement], "repetition": int(repetition)}


def load_ravdess(
    path: str | os.PathLike,
    *,
    vocal_channel: Literal["speech", "song", "both"] = "speech",
    emotions: Labels = None,
    mapping: Mapped = None,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load RAVDESS (speech and/or song) from a folder.

    Labels come from the 7-field names ``03-01-05-01-02-01-12``: modality,
    vocal channel (01 speech, 02 song), emotion (01 neutral, 02 calm,
    03 happiness, 04 sadness, 05 anger, 06 fear, 07 disgust, 08 surprise),
    intensity (01 normal, 02 strong), statement, repetition, actor (odd male).

    Parameters
    ----------
    path : str or path-like
        Folder at or above the ``Actor_XX`` folders.
    vocal_channel : {"speech", "song", "both"}, default="speech"
        Which part to keep; the standard 1440-file set is "speech".
    emotions : list of str, default=None
        Keep only these emotions (after ``mapping``).
    mapping : dict of str to str, default=None
        Merge emotions, e.g. ``{"calm": "neutral"}``.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``frame`` (path, emotion, speaker, corpus, code, gender,
        vocal_channel, modality, intensity, statement, repetition), ``data``,
        ``target``, ``groups`` (actor ids ``"01"`` .. ``"24"``), ``target_names``,
        ``DESCR``. All arrays are object arrays of shape (n_utterances,).
    (data, target) : tuple of ndarray of object
        If ``return_X_y`` is True.

    Examples
    --------
    >>> from skser.datasets import load_ravdess
    >>> X, y = load_ravdess("ravdess/", return_X_y=True)  # doctest: +SKIP
    """
    if vocal_channel not in ("speech", "song", "both"):
        raise ParameterError(
            f"vocal_channel must be 'speech', 'song' or 'both', got {vocal_channel!r}."
        )
    keep = None if vocal_channel == "both" else (lambda r: r["vocal_channel"] == vocal_channel)
    return _load(path, corpus="ravdess", parse=_parse_ravdess,
                 scheme="'03-01-05-01-02-01-12' (7 two-digit fields)",
                 layout=_RAVDESS_LAYOUT, descr=_descr.RAVDESS, emotions=emotions,
                 mapping=mapping, return_X_y=return_X_y, keep=keep)


# -------------------------------------------------------------------- CREMA-D
_CREMAD_EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happiness",
                    "NEU": "neutral", "SAD": "sadness"}
_CREMAD_LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
_CREMAD_SENTENCES = {
    "IEO": "It's eleven o'clock", "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting", "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full", "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock", "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket", "ITS": "I think I've seen this before",
    "TSI": "The surface is slick", "WSI": "We'll stop in a couple of minutes",
}
_CREMAD_RE = re.compile(r"^(1\d\d\d)_([A-Z]{3})_(ANG|DIS|FEA|HAP|NEU|SAD)_(LO|MD|HI|XX|X)$")
_CREMAD_LAYOUT = ("  <path>/AudioWAV/1001_DFA_ANG_XX.wav ...\n"
                  "  <path>/VideoDemographics.csv  (optional: sex, age, race, ethnicity)")


def _parse_cremad(f: Path) -> dict[str, Any] | None:
    m = _CREMAD_RE.match(f.stem)
    if m is None or m.group(2) not in _CREMAD_SENTENCES:
        return None
    actor, sentence, emo, level = m.groups()
    return {"_id": f.stem, "emotion": _CREMAD_EMOTIONS[emo], "speaker": actor, "code": emo,
            "intensity": _CREMAD_LEVELS["XX" if level == "X" else level],
            "sentence": sentence, "text": _CREMAD_SENTENCES[sentence]}


def _read_cremad_demographics(csv_path: Path) -> dict[str, dict[str, Any]]:
    people: dict[str, dict[str, Any]] = {}
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        need = {"ActorID", "Age", "Sex"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise LabelFileError(
                f"{csv_path}: line 1 must name the columns {sorted(need)} (and Race, "
                f"Ethnicity); found {reader.fieldnames}."
            )
        for lineno, row in enumerate(reader, start=2):
            try:
                age = int(row["Age"])
            except (TypeError, ValueError):
                raise LabelFileError(
                    f"{csv_path}, line {lineno}: Age {row['Age']!r} is not an integer."
                ) from None
            people[str(row["ActorID"]).strip()] = {
                "gender": str(row["Sex"]).strip().lower(), "age": age,
                "race": row.get("Race"), "ethnicity": row.get("Ethnicity"),
            }
    return people


#: Files of the public CREMA-D release reported broken in its issue tracker
#: (github.com/CheyneyComputerScience/CREMA-D/issues/8).
_CREMAD_SUSPECTS = {
    "1076_MTI_NEU_XX": "reported undecodable",
    "1076_MTI_SAD_XX": "reported silent",
}
_LFS_MAGIC = b"version https://git-lfs"


def _check_not_lfs_pointers(records: list[dict[str, Any]], corpus: str) -> None:
    """Raise when audio files are Git LFS pointers (a clone made without git-lfs)."""
    pointers = []
    for r in records:
        path = r["path"]
        if os.path.getsize(path) < 1024:
            with open(path, "rb") as fh:
                if fh.read(len(_LFS_MAGIC)) == _LFS_MAGIC:
                    pointers.append(path)
    if pointers:
        raise CorpusLayoutError(
            f"{corpus}: {len(pointers)} of {len(records)} audio files are Git LFS pointers "
            f"(small text files), not audio, e.g. {pointers[0]!r}. The repository was "
            "downloaded without git-lfs: run `git lfs install && git lfs pull` in the clone, "
            "or use skser.datasets.fetch_cremad()."
        )


def _drop_defective_cremad(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leave out, with one warning, known-broken files that are broken in this copy.

    A suspect is only left out when it really cannot be decoded or holds no
    sound here, so a repaired release keeps every file.
    """
    import soundfile as sf

    kept, dropped = [], []
    for r in records:
        reason = _CREMAD_SUSPECTS.get(Path(r["path"]).stem)
        if reason is not None:
            try:
                y, _ = sf.read(r["path"], dtype="float32")
                defect = "holds no sound" if y.size == 0 or not np.any(y) else None
            except Exception:  # soundfile raises LibsndfileError, RuntimeError, ...
                defect = "cannot be decoded"
            if defect is not None:
                dropped.append(f"{r['path']!r} ({defect})")
                continue
        kept.append(r)
    if dropped:
        warnings.warn(
            f"cremad: {len(dropped)} file(s) known to be broken in the public release "
            f"(CREMA-D issue #8) are broken in this copy too and were left out: "
            f"{', '.join(dropped)}.",
            UnmatchedFilesWarning,
            stacklevel=3,
        )
    return kept


def load_cremad(
    path: str | os.PathLike,
    *,
    demographics: str | os.PathLike | None = None,
    emotions: Labels = None,
    mapping: Mapped = None,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load CREMA-D from a folder.

    Labels come from names ``1001_DFA_ANG_XX``: actor, sentence, emotion
    (ANG DIS FEA HAP NEU SAD) and level (LO, MD, HI, XX = unspecified).

    Parameters
    ----------
    path : str or path-like
        Folder at or above ``AudioWAV/``.
    demographics : str or path-like, default=None
        ``VideoDemographics.csv``. None looks for it below ``path``; when it
        is found, ``gender``, ``age``, ``race`` and ``ethnicity`` columns are
        added (an actor missing from it raises LabelFileError).
    emotions, mapping, return_X_y
        As in :func:`load_emodb`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``frame`` (path, emotion, speaker, corpus, code, intensity, sentence,
        text, and the demographic columns), ``data``, ``target``, ``groups``
        (actor ids ``"1001"`` ...), ``target_names``, ``DESCR``.
    (data, target) : tuple of ndarray of object
        If ``return_X_y`` is True.

    Raises
    ------
    CorpusLayoutError
        If ``path`` holds no CREMA-D audio, or if its audio files are Git LFS
        pointers (the GitHub repository cloned without git-lfs).

    Warns
    -----
    UnmatchedFilesWarning
        When ``1076_MTI_NEU_XX`` or ``1076_MTI_SAD_XX``, reported broken in the
        public release (CREMA-D issue #8), cannot be decoded or hold no sound in
        this copy: they are left out, named in the warning. ``1040_ITH_SAD_X``
        (one ``X``, a misnamed file of older releases) is read as ``XX``.
    """
    root = check_root(path, "cremad", _CREMAD_LAYOUT)
    if demographics is None:
        found = sorted(root.rglob("VideoDemographics.csv"))
        demographics = found[0] if found else None
    people = _read_cremad_demographics(Path(demographics)) if demographics else None
    records, rejected = match_files(scan_audio(root), _parse_cremad)
    warn_unmatched(rejected, "cremad", "'1001_DFA_ANG_XX' (actor, sentence, emotion, level)")
    records = drop_duplicates(records, "cremad")
    _check_not_lfs_pointers(records, "cremad")
    records = _drop_defective_cremad(records)
    if people is not None:
        missing = sorted({r["speaker"] for r in records} - set(people))
        if missing:
            raise LabelFileError(
                f"{demographics}: actors {missing[:5]} of the audio files are not listed; "
                "pass the VideoDemographics.csv of the same release or demographics=None "
                "with the file removed."
            )
        for r in records:
            r.update(people[r["speaker"]])
    return make_bunch(records, corpus="cremad", descr=_descr.CREMAD, emotions=emotions,
                      mapping=mapping, return_X_y=return_X_y, layout=_CREMAD_LAYOUT)


# ----------------------------------------------------------------------- TESS
_TESS_SPEAKERS = {"OAF": 64, "YAF": 26}
_TESS_LAYOUT = ("  <path>/OAF_back_angry.wav ... (flat, as on Dataverse) or\n"
                "  <path>/OAF_angry/OAF_back_angry.wav,\n"
                "  <path>/YAF_pleasant_surprised/YAF_back_ps.wav")
_TESS_FOLDER_RE = re.compile(r"^(OAF|YAF)[_ ](.+)$", re.IGNORECASE)


_TESS_EMOTIONS = frozenset({"anger", "disgust", "fear", "happiness", "neutral", "sadness",
                            "surprise"})


def _tess_folder(f: Path) -> tuple[str, str] | None:
    """(speaker, emotion) of an ``OAF_angry`` style parent folder, or None."""
    m = _TESS_FOLDER_RE.match(f.parent.name)
    if m is None:
        return None
    emotion = as_emotion(m.group(2))
    return (m.group(1).upper(), emotion) if emotion in _TESS_EMOTIONS else None


def _parse_tess(f: Path) -> dict[str, Any] | None:
    parts = f.stem.split("_")
    if len(parts) < 3:
        return None
    speaker = parts[0].upper() if parts[0].upper() in _TESS_SPEAKERS else None
    word = parts[1].lower()
    token = "_".join(parts[2:])
    emotion = as_emotion(token)
    if emotion not in _TESS_EMOTIONS:
        emotion = None
    folder = _tess_folder(f)
    source = "name"
    if folder is not None and (speaker, emotion) != folder:
        # The folder is the corpus's own grouping; a name that disagrees with it
        # is a typo, e.g. OAF_neutral/OA_bite_neutral.wav of the public copies.
        speaker, emotion = folder
        source = "folder"
    if speaker is None or emotion is None:
        return None
    return {"_id": f"{speaker}_{word}_{emotion}", "emotion": emotion, "speaker": speaker,
            "code": token.lower(),
            "gender": "female", "age": _TESS_SPEAKERS[speaker], "word": word,
            "text": f"Say the word {word}", "_source": source}


def load_tess(
    path: str | os.PathLike,
    *,
    emotions: Labels = None,
    mapping: Mapped = None,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load TESS (Toronto Emotional Speech Set) from a folder.

    Labels come from names ``OAF_back_angry``: speaker (OAF, YAF), word,
    emotion (angry disgust fear happy neutral sad ps; ``ps`` = pleasant
    surprise -> "surprise"). Speaker and emotion are matched case-insensitively
    with the usual spelling variants. Inside a ``<speaker>_<emotion>`` folder
    the folder decides: a file whose name gives another (or no recognised)
    speaker or emotion, such as ``OAF_neutral/OA_bite_neutral.wav`` of the
    public copies, is labelled from the folder, with one UnmatchedFilesWarning
    giving the count and examples. Without such a folder a file whose name
    does not parse is left out with an UnmatchedFilesWarning.

    Parameters
    ----------
    path : str or path-like
        Folder at or above the audio (flat or in ``OAF_angry/`` folders).
    emotions, mapping, return_X_y
        As in :func:`load_emodb`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``frame`` (path, emotion, speaker, corpus, code, gender, age, word,
        text), ``data``, ``target``, ``groups`` (``"OAF"``, ``"YAF"``),
        ``target_names``, ``DESCR``. Note that with two speakers a
        speaker-independent split has only two folds.
    (data, target) : tuple of ndarray of object
        If ``return_X_y`` is True.
    """
    root = check_root(path, "tess", _TESS_LAYOUT)
    records, rejected = match_files(scan_audio(root), _parse_tess)
    warn_unmatched(rejected, "tess", "'OAF_back_angry' (speaker OAF/YAF, word, emotion)")
    records = drop_duplicates(records, "tess")
    repaired = [r["path"] for r in records if r.pop("_source") == "folder"]
    if repaired:
        examples = ", ".join(repr(p) for p in repaired[:3])
        warnings.warn(
            f"tess: {len(repaired)} file(s) whose name does not give the speaker and emotion "
            f"of their folder (a misspelt or unknown token, e.g. OA_bite_neutral.wav in "
            f"OAF_neutral/) were labelled from their folder: {examples}"
            + (f" and {len(repaired) - 3} more." if len(repaired) > 3 else "."),
            UnmatchedFilesWarning,
            stacklevel=2,
        )
    return make_bunch(records, corpus="tess", descr=_descr.TESS, emotions=emotions,
                      mapping=mapping, return_X_y=return_X_y, layout=_TESS_LAYOUT)


# ---------------------------------------------------------------------- SAVEE
_SAVEE_EMOTIONS = {"a": "anger", "d": "disgust", "f": "fear", "h": "happiness",
                   "n": "neutral", "sa": "sadness", "su": "surprise"}
_SAVEE_SPEAKERS = ("DC", "JE", "JK", "KL")
_SAVEE_FLAT_RE = re.compile(r"^(DC|JE|JK|KL)_?(sa|su|a|d|f|h|n)(\d\d)$")
_SAVEE_NESTED_RE = re.compile(r"^(sa|su|a|d|f|h|n)(\d\d)$")
_SAVEE_LAYOUT = (
    "  <path>/AudioData/DC/a01.wav, .../JE/sa01.wav ... (official release), or a flat copy\n"
    "  <path>/DC_a01.wav ...\n"
    "  SAVEE needs registration at http://kahlan.eps.surrey.ac.uk/savee/ ; skser cannot\n"
    "  download it."
)


def _parse_savee(f: Path) -> dict[str, Any] | None:
    m = _SAVEE_FLAT_RE.match(f.stem)
    if m is not None:
        speaker, code, number = m.groups()
    else:
        m = _SAVEE_NESTED_RE.match(f.stem)
        if m is None or f.parent.name not in _SAVEE_SPEAKERS:
            return None
        speaker = f.parent.name
        code, number = m.groups()
    return {"_id": f"{speaker}_{code}{number}", "emotion": _SAVEE_EMOTIONS[code],
            "speaker": speaker, "code": code,
            "gender": "male", "sentence": f"{code}{number}"}


def load_savee(
    path: str | os.PathLike,
    *,
    emotions: Labels = None,
    mapping: Mapped = None,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load SAVEE (Surrey Audio-Visual Expressed Emotion) from a folder.

    SAVEE needs a (free, research) registration at
    http://kahlan.eps.surrey.ac.uk/savee/ ; skser cannot download it. Read
    both the official layout ``AudioData/DC/a01.wav`` and flat copies
    ``DC_a01.wav``. Codes: a anger, d disgust, f fear, h happiness,
    n neutral, sa sadness, su surprise. Speakers DC, JE, JK, KL (all male).

    Parameters
    ----------
    path : str or path-like
        Folder at or above ``AudioData/`` (or the flat files).
    emotions, mapping, return_X_y
        As in :func:`load_emodb`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``frame`` (path, emotion, speaker, corpus, code, gender, sentence),
        ``data``, ``target``, ``groups``, ``target_names``, ``DESCR``.
    (data, target) : tuple of ndarray of object
        If ``return_X_y`` is True.
    """
    return _load(path, corpus="savee", parse=_parse_savee,
                 scheme="'DC/a01' or 'DC_a01' (speaker DC/JE/JK/KL, code a/d/f/h/n/sa/su, number)",
                 layout=_SAVEE_LAYOUT, descr=_descr.SAVEE, emotions=emotions,
                 mapping=mapping, return_X_y=return_X_y)
