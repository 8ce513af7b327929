"""What the ``skser`` commands share: exit codes, data arguments, file lists, output."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._atomic import atomic_path

__all__ = [
    "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "EXIT_MISSING_FILE", "EXIT_BAD_AUDIO",
    "EXIT_NOT_A_MODEL", "DEFAULT_N_JOBS", "UsageError", "CORPORA", "Corpus",
    "add_data_arguments", "add_run_arguments", "data_home", "find_copies", "load_data",
    "expand_audio_paths",
    "write_atomic", "info",
]

#: Exit statuses of every ``skser`` command (documented in docs/cli.md).
EXIT_OK = 0
EXIT_FAILURE = 1  # the work failed: unusable corpus folder, bad labels, training error
EXIT_USAGE = 2  # bad arguments (argparse uses 2 too)
EXIT_MISSING_FILE = 3  # a file or folder named on the command line does not exist
EXIT_BAD_AUDIO = 4  # an audio file cannot be read or decoded
EXIT_NOT_A_MODEL = 5  # MODEL is not a skser model file, or is damaged

#: ``-j`` default: one process. Measured with benchmarks/cli_n_jobs.py on a 2-core
#: machine, all cores (``-j -1``) was not faster than one job (see docs/cli.md).
DEFAULT_N_JOBS = 1


class UsageError(Exception):
    """A combination of arguments that cannot work; exits with status 2."""


def info(message: str) -> None:
    """A progress or status line, on stderr so that stdout stays data only."""
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Corpus:
    """A corpus skser knows: its loader, its folder in the data home, how to get it."""

    name: str
    title: str
    loader: str  # name in skser.datasets
    fetcher: str | None  # name in skser.datasets, or None for licensed corpora
    how_to_get: str
    marker: str  # glob that matches something in a copy's root folder


CORPORA: dict[str, Corpus] = {c.name: c for c in (
    Corpus("emodb", "EMO-DB (Berlin Database of Emotional Speech)", "load_emodb",
           "fetch_emodb", "CC0; skser.datasets.fetch_emodb() downloads it "
           "(http://emodb.bilderbar.info/)", "wav/*"),
    Corpus("ravdess", "RAVDESS speech", "load_ravdess", "fetch_ravdess",
           "CC BY-NC-SA 4.0; skser.datasets.fetch_ravdess() downloads it "
           "(Zenodo record 1188976, about 200 MB)", "Actor_[0-9][0-9]/*"),
    Corpus("cremad", "CREMA-D", "load_cremad", "fetch_cremad",
           "ODbL 1.0; skser.datasets.fetch_cremad() downloads it (7442 clips from "
           "GitHub CheyneyComputerScience/CREMA-D, Git LFS)", "AudioWAV/*"),
    Corpus("tess", "TESS (Toronto emotional speech set)", "load_tess", "fetch_tess",
           "CC BY-NC-ND 4.0; skser.datasets.fetch_tess() downloads it "
           "(Borealis Dataverse doi:10.5683/SP2/E8H2MF)", "*AF_*"),
    Corpus("savee", "SAVEE", "load_savee", None,
           "research use after registration at http://kahlan.eps.surrey.ac.uk/savee/ ; "
           "put it in <data home>/savee/", "AudioData/*/*"),
    Corpus("iemocap", "IEMOCAP", "load_iemocap", None,
           "licence from SAIL, USC: https://sail.usc.edu/iemocap/ ; "
           "put it in <data home>/iemocap/", "Session[1-5]"),
    Corpus("msp_podcast", "MSP-Podcast", "load_msp_podcast", None,
           "academic licence from the MSP lab, UT Dallas: https://ecs.utdallas.edu/"
           "research/researchlabs/msp-lab/MSP-Podcast.html ; put it in "
           "<data home>/msp_podcast/", "Audios/*"),
)}


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """``-j`` and ``-q``, as every long-running command takes them."""
    parser.add_argument("-j", "--n-jobs", type=int, default=DEFAULT_N_JOBS, metavar="N",
                        help=f"parallel worker processes for the features (default: "
                             f"{DEFAULT_N_JOBS}; -1 = all cores, which was not faster on "
                             "2 cores, see docs/cli.md)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars or status lines")


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``DATA`` argument of ``train`` and ``evaluate`` and how it is read."""
    parser.add_argument(
        "data", metavar="DATA",
        help="a corpus name (" + ", ".join(CORPORA) + "; looked up in the data home), "
             "a folder (a corpus in its own layout, or <label>/<file> folders), or a "
             "CSV/TSV table with a path and a label column")
    group = parser.add_argument_group("data")
    group.add_argument("--corpus", choices=[*CORPORA, "folder"], default=None,
                       help="how to read a DATA folder (default: recognised from its "
                            "layout, else 'folder': labels from folder names)")
    group.add_argument("--data-home", metavar="DIR", type=Path, default=None,
                       help="where corpus names are looked up (default: $SKSER_DATA or "
                            "~/skser_data)")
    group.add_argument("--emotions", metavar="LIST", default=None,
                       help="keep only these emotions, comma-separated "
                            "(e.g. anger,happiness,neutral,sadness)")
    group.add_argument("--label-pattern", metavar="REGEX", default=None,
                       help="folder: regular expression for the label in each relative "
                            "path (group 'label' or 1); default: the parent folder's name")
    group.add_argument("--speaker-pattern", metavar="REGEX", default=None,
                       help="folder: regular expression for the speaker (group 'speaker' "
                            "or 1); without it a folder has no speakers")
    group.add_argument("--path-column", default="path", metavar="NAME",
                       help="table: column of audio paths (default: path)")
    group.add_argument("--label-column", default="emotion", metavar="NAME",
                       help="table: column of labels (default: emotion)")
    group.add_argument("--speaker-column", default=None, metavar="NAME",
                       help="table: column of speakers (default: none)")


def data_home(args: argparse.Namespace) -> Path:
    from ..datasets._fetch import DATA_HOME_ENV

    # Resolved as get_data_home does, without creating it: looking is not writing.
    name = args.data_home or os.environ.get(DATA_HOME_ENV) or os.path.join("~", "skser_data")
    return Path(os.fspath(name)).expanduser()


def find_copies(home: Path, corpus: str) -> list[tuple[Path, int]]:
    """Copies of ``corpus`` at or directly below ``home``, best first, with file counts.

    EMO-DB and RAVDESS use ``skser demo``'s search (any folder holding the
    corpus's layout); the other corpora count the files matching their marker
    in ``home/<corpus>/``.
    """
    from ._demo import find_corpus_copies

    if corpus in ("emodb", "ravdess"):
        return find_corpus_copies(home, corpus)
    from ..datasets._base import scan_audio

    folder = home / corpus
    if not folder.is_dir() or not any(folder.glob(CORPORA[corpus].marker)):
        return []
    count = len(scan_audio(folder))
    return [(folder, count)] if count else []


def _recognise(folder: Path) -> str | None:
    """The corpus whose own layout ``folder`` holds, or None."""
    for name, corpus in CORPORA.items():
        if any(folder.glob(corpus.marker)) and (
            name not in ("emodb", "ravdess") or find_copies(folder, name)
        ):
            return name
    return None


def _emotions(args: argparse.Namespace) -> list[str] | None:
    if not args.emotions:
        return None
    return [e.strip() for e in args.emotions.split(",") if e.strip()]


def load_data(args: argparse.Namespace) -> Any:
    """The corpus ``args.data`` names, as the ``skser.datasets`` loaders return it.

    Raises
    ------
    UsageError
        For options that do not fit the kind of DATA.
    FileNotFoundError
        If DATA is neither a corpus name nor an existing path.
    skser.exceptions.CorpusLayoutError
        If a corpus name has no copy in the data home.
    """
    from .. import datasets
    from ..exceptions import CorpusLayoutError

    emotions = _emotions(args)
    if args.data in CORPORA and not Path(args.data).exists():
        home = data_home(args)
        copies = find_copies(home, args.data)
        if not copies:
            corpus = CORPORA[args.data]
            raise CorpusLayoutError(
                f"No copy of {corpus.title} in the data home {str(home)!r} (set by "
                "--data-home, $SKSER_DATA or ~/skser_data). Pass its folder as DATA, or "
                f"get it: {corpus.how_to_get}. `skser datasets` lists what is present."
            )
        folder = copies[0][0]
        if len(copies) > 1:
            others = ", ".join(str(p) for p, _ in copies[1:])
            info(f"Using {folder} ({copies[0][1]} files); other copies: {others} "
                 "(pass one as DATA to use it).")
        return getattr(datasets, CORPORA[args.data].loader)(folder, emotions=emotions)
    path = Path(args.data).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"DATA {args.data!r} is neither a corpus name ({', '.join(CORPORA)}) nor an "
            "existing folder or table."
        )
    if path.is_file():
        if args.corpus not in (None, "folder") or args.label_pattern or args.speaker_pattern:
            raise UsageError("--corpus, --label-pattern and --speaker-pattern apply to a "
                             f"DATA folder; {path} is a file (read as a table).")
        return datasets.load_table(path, path_column=args.path_column,
                                   label_column=args.label_column,
                                   speaker_column=args.speaker_column, emotions=emotions)
    corpus = args.corpus or _recognise(path) or "folder"
    if corpus == "folder":
        return datasets.load_folder(path, label_pattern=args.label_pattern,
                                    speaker_pattern=args.speaker_pattern, emotions=emotions)
    if args.label_pattern or args.speaker_pattern:
        raise UsageError(f"{path} is read as {CORPORA[corpus].title}, whose labels and "
                         "speakers come from its own layout; --label-pattern and "
                         "--speaker-pattern need --corpus folder.")
    if corpus in ("emodb", "ravdess"):
        copies = find_copies(path, corpus)
        path = copies[0][0] if copies else path
    return getattr(datasets, CORPORA[corpus].loader)(path, emotions=emotions)


def expand_audio_paths(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Files as given; folders replaced by the audio files below them, sorted.

    Raises
    ------
    FileNotFoundError
        If a path does not exist, or a folder holds no audio file.
    """
    from ..datasets._base import scan_audio

    files: list[Path] = []
    for name in paths:
        path = Path(name).expanduser()
        if path.is_dir():
            found = scan_audio(path)
            if not found:
                raise FileNotFoundError(f"{path} holds no audio file (looked recursively "
                                        "for .wav, .flac, .ogg, .mp3, ... files).")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist.")
    return files


def write_atomic(path: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp)`` then rename ``tmp`` to ``path``: no half-written output."""
    with atomic_path(path, suffix=path.suffix or ".part") as tmp:
        write(tmp)
