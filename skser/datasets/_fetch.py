"""Download the openly licensed corpora, verified and atomically installed.

Every fetcher first looks for ``<data_home>/<corpus>/``; when it exists no
network is touched. Otherwise the archive is streamed to a temporary file in
``data_home``, checked (byte count against Content-Length, SHA-256 when known
or given, ZIP CRCs), extracted into a temporary folder next to the target and
renamed into place in one step. A failed or interrupted fetch removes its
temporary files, so nothing that looks complete is left behind, and the next
call starts clean.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any

from sklearn.utils import Bunch
from tqdm.auto import tqdm

from ..exceptions import CorpusLayoutError, DownloadError, ParameterError
from ._acted import load_cremad, load_emodb, load_ravdess, load_tess

__all__ = [
    "DATA_HOME_ENV",
    "DownloadError",
    "get_data_home",
    "fetch_emodb",
    "fetch_ravdess",
    "fetch_tess",
    "fetch_cremad",
]

#: Environment variable naming the default data home.
DATA_HOME_ENV = "SKSER_DATA"
_CHUNK = 1 << 16
_TIMEOUT = 60.0


@dataclass(frozen=True)
class _Archive:
    folder: str
    url: str
    # SHA-256 of the official archive. None where the project has not
    # recorded the official digest: the archive is then verified by its
    # byte count and the CRC of every ZIP member instead. Never guessed.
    sha256: str | None
    loader: Callable[..., Any]
    source: str


_ARCHIVES = {
    "emodb": _Archive(
        "emodb", "http://emodb.bilderbar.info/download/download.zip", None, load_emodb,
        "http://emodb.bilderbar.info/ (CC0)"),
    "ravdess": _Archive(
        "ravdess",
        "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip?download=1",
        None, load_ravdess, "Zenodo record 1188976 (CC BY-NC-SA 4.0)"),
    "tess": _Archive(
        "tess",
        "https://borealisdata.ca/api/access/dataset/:persistentId/"
        "?persistentId=doi:10.5683/SP2/E8H2MF",
        None, load_tess, "Borealis Dataverse doi:10.5683/SP2/E8H2MF (CC BY-NC-ND 4.0)"),
}
# CREMA-D's audio is stored with Git LFS: the metadata come from the raw host,
# each clip from the LFS media host (7442 files, listed in SentenceFilenames.csv).
_CREMAD_RAW = "https://raw.githubusercontent.com/CheyneyComputerScience/CREMA-D/master"
_CREMAD_MEDIA = "https://media.githubusercontent.com/media/CheyneyComputerScience/CREMA-D/master"


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """The folder corpora are kept in, created if needed.

    ``data_home`` if given, else ``$SKSER_DATA``, else ``~/skser_data``.
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or os.path.join("~", "skser_data")
    home = Path(os.fspath(data_home)).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def _check_checksum(checksum: str | None) -> str | None:
    if checksum is None:
        return None
    value = checksum.lower().removeprefix("sha256:")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ParameterError(
            f"checksum must be a SHA-256 hex digest (64 hex digits), got {checksum!r}."
        )
    return value


def _download(url: str, dest: Path, *, verbose: bool, desc: str) -> str:
    """Stream ``url`` into ``dest``; return its SHA-256. Raise DownloadError if cut short."""
    digest = hashlib.sha256()
    opener = urllib.request.build_opener()  # proxies read from the environment now
    opener.addheaders = [("User-Agent", "skser")]
    received = 0
    try:
        with opener.open(url, timeout=_TIMEOUT) as response, open(dest, "wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=desc, disable=not verbose, leave=False) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, HTTPException, OSError) as exc:
        raise DownloadError(f"download of {url} failed after {received} bytes: {exc}") from exc
    if total is not None and received != total:
        raise DownloadError(
            f"download of {url} was interrupted: {received} of {total} bytes received."
        )
    return digest.hexdigest()


def _remove_partials(home: Path, folder: str) -> None:
    for stale in home.glob(f".{folder}.*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _extract_zip(archive: Path, into: Path, url: str) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise DownloadError(f"{url}: member {bad!r} of the archive fails its CRC check.")
            root = into.resolve()
            for member in zf.namelist():
                if not (root / member).resolve().is_relative_to(root):
                    raise DownloadError(
                        f"{url}: archive member {member!r} escapes the target folder."
                    )
            zf.extractall(into)
    except zipfile.BadZipFile as exc:
        raise DownloadError(f"{url}: the download is not a valid ZIP archive ({exc}).") from exc


def _content_root(folder: Path) -> Path:
    """The single top-level folder of an extracted archive, else the folder itself."""
    entries = [p for p in folder.iterdir() if p.name not in ("__MACOSX",)
               and not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder


def _install(staging: Path, target: Path) -> None:
    """Rename the staged content into place (atomic on one file system)."""
    content = _content_root(staging)
    try:
        os.replace(content, target)
    except OSError:
        if not target.is_dir():  # not "someone else installed it meanwhile"
            raise


def _fetch_archive(
    name: str,
    data_home: str | os.PathLike | None,
    *,
    download_if_missing: bool,
    url: str | None,
    checksum: str | None,
    verbose: bool,
) -> Path:
    spec = _ARCHIVES[name]
    expected = _check_checksum(checksum) or spec.sha256
    home = get_data_home(data_home)
    target = home / spec.folder
    if target.is_dir():
        return target
    if not download_if_missing:
        raise CorpusLayoutError(
            f"{name}: {str(target)!r} does not exist and download_if_missing=False. Download "
            f"it from {spec.source} and extract it there, or pass download_if_missing=True."
        )
    url = url or spec.url
    _remove_partials(home, spec.folder)
    fd, tmp = tempfile.mkstemp(prefix=f".{spec.folder}.", suffix=".download", dir=home)
    os.close(fd)
    staging = None
    try:
        digest = _download(url, Path(tmp), verbose=verbose, desc=f"skser: {name}")
        if expected is not None and digest != expected:
            raise DownloadError(
                f"{url}: SHA-256 {digest} does not match the expected {expected}; the download "
                "is corrupt (or the host changed the file) and was deleted. Retry, or pass "
                "checksum= with the digest published by the host."
            )
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.folder}.", suffix=".partial", dir=home))
        _extract_zip(Path(tmp), staging, url)
        _install(staging, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return target


_FETCH_DOC = """
    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder the corpus is kept in (as ``<data_home>/{folder}/``). None uses
        ``$SKSER_DATA``, else ``~/skser_data``.
    download_if_missing : bool, default=True
        If False and the corpus is absent, raise instead of downloading.
    url : str, default=None
        Download from this address (a mirror) instead of the official host.
    checksum : str, default=None
        Expected SHA-256 hex digest of the archive. None uses the digest
        recorded in skser, if any; the archive is always checked for its full
        length and ZIP integrity.
    verbose : bool, default=True
        Show a progress bar.
    **kwargs
        Passed to :func:`{loader}` (``emotions``, ``mapping``, ``return_X_y`` ...).

    Returns
    -------
    data : Bunch or tuple
        What :func:`{loader}` returns for ``<data_home>/{folder}/``.

    Raises
    ------
    DownloadError
        If the download fails, is cut short or does not verify; nothing is
        installed and temporary files are removed.
"""


def fetch_emodb(
    data_home: str | os.PathLike | None = None,
    *,
    download_if_missing: bool = True,
    url: str | None = None,
    checksum: str | None = None,
    verbose: bool = True,
    **kwargs: Any,
) -> Bunch | tuple:
    path = _fetch_archive("emodb", data_home, download_if_missing=download_if_missing, url=url,
                          checksum=checksum, verbose=verbose)
    return load_emodb(path, **kwargs)


def fetch_ravdess(
    data_home: str | os.PathLike | None = None,
    *,
    download_if_missing: bool = True,
    url: str | None = None,
    checksum: str | None = None,
    verbose: bool = True,
    **kwargs: Any,
) -> Bunch | tuple:
    path = _fetch_archive("ravdess", data_home, download_if_missing=download_if_missing, url=url,
                          checksum=checksum, verbose=verbose)
    return load_ravdess(path, **kwargs)


def fetch_tess(
    data_home: str | os.PathLike | None = None,
    *,
    download_if_missing: bool = True,
    url: str | None = None,
    checksum: str | None = None,
    verbose: bool = True,
    **kwargs: Any,
) -> Bunch | tuple:
    path = _fetch_archive("tess", data_home, download_if_missing=download_if_missing, url=url,
                          checksum=checksum, verbose=verbose)
    return load_tess(path, **kwargs)


fetch_emodb.__doc__ = (
    "Load EMO-DB from ``data_home``, downloading it from http://emodb.bilderbar.info/ if absent.\n"
    + _FETCH_DOC.format(folder="emodb", loader="load_emodb"))
fetch_ravdess.__doc__ = (
    "Load RAVDESS speech from ``data_home``, downloading it from Zenodo if absent.\n\n"
    "    The archive is ``Audio_Speech_Actors_01-24.zip`` of Zenodo record 1188976\n"
    "    (about 200 MB). An existing ``<data_home>/ravdess/Actor_XX/...`` copy, in any\n"
    "    audio format, is used as it is.\n"
    + _FETCH_DOC.format(folder="ravdess", loader="load_ravdess"))
fetch_tess.__doc__ = (
    "Load TESS from ``data_home``, downloading it from Borealis Dataverse if absent.\n\n"
    "    The whole dataset is requested as one ZIP through the Dataverse access API.\n"
    + _FETCH_DOC.format(folder="tess", loader="load_tess"))


def _read_name_list(csv_bytes: bytes, source: str) -> list[str]:
    reader = csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig")))
    if reader.fieldnames is None or "Filename" not in reader.fieldnames:
        raise DownloadError(f"{source}: expected a 'Filename' column, got {reader.fieldnames}.")
    names = [row["Filename"].strip() for row in reader if row["Filename"].strip()]
    if not names:
        raise DownloadError(f"{source}: lists no file.")
    return names


def _check_wav(path: Path, url: str) -> None:
    with open(path, "rb") as fh:
        head = fh.read(12)
    # A Git LFS pointer or an HTML error page would otherwise pass as a download.
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise DownloadError(f"{url}: the download is not a RIFF/WAVE file.")


def fetch_cremad(
    data_home: str | os.PathLike | None = None,
    *,
    download_if_missing: bool = True,
    url: str | None = None,
    checksum: str | None = None,
    verbose: bool = True,
    n_workers: int = 8,
    **kwargs: Any,
) -> Bunch | tuple:
    """Load CREMA-D from ``data_home``, downloading it from GitHub if absent.

    The clips are stored with Git LFS in the repository
    CheyneyComputerScience/CREMA-D: ``SentenceFilenames.csv`` and
    ``VideoDemographics.csv`` are downloaded first, then every clip listed
    (7442 files, about 600 MB) into ``AudioWAV/`` of a temporary folder that
    is renamed to ``<data_home>/cremad/`` once all are there and verified
    (full length, RIFF/WAVE header). The project records no per-file digests.

    Parameters
    ----------
    data_home, download_if_missing, verbose
        As in :func:`fetch_ravdess`.
    url : str, default=None
        Base address of a mirror serving ``SentenceFilenames.csv``,
        ``VideoDemographics.csv`` and ``AudioWAV/<name>.wav``.
    checksum : str, default=None
        SHA-256 of ``SentenceFilenames.csv`` (the list of clips), if known.
    n_workers : int, default=8
        Parallel downloads.
    **kwargs
        Passed to :func:`load_cremad`.

    Returns
    -------
    data : Bunch or tuple
        What :func:`load_cremad` returns for ``<data_home>/cremad/``.
    """
    expected = _check_checksum(checksum)
    home = get_data_home(data_home)
    target = home / "cremad"
    if not target.is_dir():
        if not download_if_missing:
            raise CorpusLayoutError(
                f"cremad: {str(target)!r} does not exist and download_if_missing=False. Get "
                "AudioWAV/ and VideoDemographics.csv from "
                "https://github.com/CheyneyComputerScience/CREMA-D (Git LFS) and put them there."
            )
        raw = (url or _CREMAD_RAW).rstrip("/")
        media = (url or _CREMAD_MEDIA).rstrip("/")
        _remove_partials(home, "cremad")
        staging = Path(tempfile.mkdtemp(prefix=".cremad.", suffix=".partial", dir=home))
        try:
            for meta in ("SentenceFilenames.csv", "VideoDemographics.csv"):
                digest = _download(f"{raw}/{meta}", staging / meta, verbose=False, desc=meta)
                if meta == "SentenceFilenames.csv" and expected and digest != expected:
                    raise DownloadError(
                        f"{raw}/{meta}: SHA-256 {digest} does not match the expected {expected}."
                    )
            names = _read_name_list((staging / "SentenceFilenames.csv").read_bytes(),
                                    f"{raw}/SentenceFilenames.csv")
            (staging / "AudioWAV").mkdir()

            def get(name: str) -> None:
                file_url = f"{media}/AudioWAV/{name}.wav"
                dest = staging / "AudioWAV" / f"{name}.wav"
                _download(file_url, dest, verbose=False, desc=name)
                _check_wav(dest, file_url)

            with ThreadPoolExecutor(max_workers=max(1, int(n_workers))) as pool:
                for _ in tqdm(pool.map(get, names), total=len(names), desc="skser: cremad",
                              unit="file", disable=not verbose, leave=False):
                    pass
            _install(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return load_cremad(target, **kwargs)
