"""Write a file so that readers never see it half-written."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike, *, prefix: str | None = None,
                suffix: str = ".part") -> Iterator[Path]:
    """A fresh temporary path beside ``path``, moved onto ``path`` when the block succeeds.

    The temporary file is created in ``path``'s folder with a unique name (so
    concurrent writers never share one) and renamed with :func:`os.replace`,
    which is atomic on one file system: ``path`` is either the old file, absent,
    or complete. If the block raises, the temporary file is removed and
    ``path`` is untouched.

    Parameters
    ----------
    path : str or path-like
        Final location; its folder must exist.
    prefix : str, optional
        Start of the temporary file's name (default ``".<name>."``).
    suffix : str, default=".part"
        End of the temporary file's name (some writers choose the format by it).

    Yields
    ------
    tmp : pathlib.Path
        The (empty) temporary file to write.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}." if prefix is None else prefix,
                                suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
