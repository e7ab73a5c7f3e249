"""Atomic ``.npz`` files, read member by member with every header checked before any data is read.

This is the lowest layer of saving: ``bptt.nn`` (``Module.save``) and
``bptt.train`` (checkpoints) both use it, and it imports nothing of bptt.

* :func:`atomic_savez` writes to a temporary file beside the target, fsyncs and
  renames it, so ``path`` is always either the old file or the complete new one.
  Temporary files left by an interrupted save (a killed process) are removed by
  the next save of the same path. Files are created with the usual permissions
  (0666 minus the umask), like any file the user writes.
* :func:`npz_headers` reads only the ``.npy`` headers (shape, dtype) of an
  ``.npz``: no array is allocated, so a header claiming 10¹² elements costs
  nothing and can be refused by the caller.
* :func:`load_npz` loads the members asked for (all by default) after checking
  that each header is consistent with the bytes actually stored.
"""

from __future__ import annotations

import os
import secrets
import zipfile
from typing import Iterable, Mapping

import numpy as np

Array = np.ndarray
# A member may not unpack to more than this many times the whole file (zip bombs);
# np.savez stores members uncompressed (ratio 1), float data deflates by ~1.1x.
_MAX_RATIO = 16


def _tmp_prefix(path: str) -> str:
    return f".{os.path.basename(path)}.tmp-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_stale_temps(path: str | os.PathLike) -> list[str]:
    """Delete the temporary files an interrupted save of ``path`` left (their writer is gone)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    prefix = _tmp_prefix(path)
    removed = []
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return removed
    for name in names:
        if not name.startswith(prefix):
            continue
        pid_s = name[len(prefix):].split("-", 1)[0]
        if pid_s.isdigit() and int(pid_s) != os.getpid() and _pid_alive(int(pid_s)):
            continue  # another live process is writing it right now
        try:
            os.unlink(os.path.join(folder, name))
            removed.append(name)
        except FileNotFoundError:
            pass
    return removed


def atomic_savez(path: str | os.PathLike, arrays: Mapping[str, Array]) -> None:
    """Save ``arrays`` so that ``path`` is either the old file or the complete new one.

    The data goes to ``.NAME.tmp-PID-RANDOM`` beside ``path``, is flushed and
    fsynced, and only then replaces ``path`` with ``os.replace`` (atomic on
    POSIX and Windows). A crash mid-write leaves at most that temporary file,
    which the next save of ``path`` removes.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    remove_stale_temps(path)
    tmp = os.path.join(folder, f"{_tmp_prefix(path)}{os.getpid()}-{secrets.token_hex(4)}")
    # mode 0o666 through os.open: the umask applies, as for any file the user creates
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
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


def _damaged(path: str, why: str) -> ValueError:
    return ValueError(f"checkpoint: {path!r} is damaged or not a bptt .npz ({why})")


def npz_headers(path: str | os.PathLike) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """``{member: (shape, dtype)}`` from the ``.npy`` headers only (no array data is read).

    A header whose shape and dtype do not match the bytes stored for that
    member, an object dtype, or a member unpacking to far more than the file
    holds is a ``ValueError``; so is a file that is not a zip archive.
    """
    path = os.fspath(path)
    out: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    total = os.path.getsize(path)
    with open(path, "rb") as f:
        if f.read(2) != b"PK":  # every zip archive starts so, empty or not
            raise ValueError(f"checkpoint: {path!r} is not a bptt checkpoint (not an .npz archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise _damaged(path, f"member {info.filename!r} is not an .npy array")
                name = info.filename[:-4]
                if info.file_size > _MAX_RATIO * total + (1 << 20):
                    raise _damaged(path, f"member {name!r} unpacks to {info.file_size} bytes from a {total}-byte file")
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                    else:
                        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                    header_end = f.tell()
                if dtype.hasobject:
                    raise _damaged(path, f"member {name!r} holds Python objects (dtype {dtype})")
                nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if header_end + nbytes != info.file_size:
                    raise _damaged(path, f"member {name!r} declares shape {shape} {dtype} "
                                         f"({nbytes} bytes) but stores {info.file_size - header_end}")
                out[name] = (tuple(int(s) for s in shape), dtype)
    except zipfile.BadZipFile as exc:
        raise _damaged(path, str(exc)) from exc
    except (OSError, EOFError, ValueError, KeyError, NotImplementedError) as exc:
        if isinstance(exc, FileNotFoundError) or str(exc).startswith("checkpoint:"):
            raise
        raise _damaged(path, str(exc) or type(exc).__name__) from exc
    return out


def load_npz(path: str | os.PathLike, keys: Iterable[str] | None = None) -> dict[str, Array]:
    """Load the members ``keys`` (default: all) of an ``.npz``; ``allow_pickle=False``.

    Every header is checked first (:func:`npz_headers`); a damaged file or a
    missing member is one ``ValueError`` naming the file and the problem.
    """
    path = os.fspath(path)
    headers = npz_headers(path)
    keys = list(headers) if keys is None else list(keys)
    missing = [k for k in keys if k not in headers]
    if missing:
        raise _damaged(path, f"no member(s) {missing}")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in keys}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise _damaged(path, str(exc)) from exc
