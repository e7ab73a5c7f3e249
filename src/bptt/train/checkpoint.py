"""Atomic ``.npz`` files: written to a temporary file in the same folder, then renamed."""

from __future__ import annotations

import os
import tempfile
from typing import Mapping

import numpy as np


def atomic_savez(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Save ``arrays`` so that ``path`` is either the old file or the complete new one.

    The data goes to a temporary file beside ``path``, is flushed and fsynced,
    and only then replaces ``path`` with ``os.replace`` (atomic on POSIX and
    Windows). A crash mid-write leaves at most a stray temporary file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _starts_like_a_zip(path: str | os.PathLike) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"PK"  # every zip archive, empty or not


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load every array of an ``.npz`` (``allow_pickle=False``); a damaged file is a ``ValueError``."""
    import zipfile

    if os.path.isfile(path) and not _starts_like_a_zip(path):  # else NumPy's error is about unpickling
        raise ValueError(f"path: {os.fspath(path)!r} is not a bptt checkpoint (not an .npz archive)")
    try:
        with np.load(os.fspath(path), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ValueError(f"path: {os.fspath(path)!r} is not a complete .npz checkpoint ({exc})") from exc
