"""A run folder belongs to one run: created on demand, locked while the run writes, removed if left empty.

    with RunFolder("runs/adding") as folder:   # ValueError at once if another process holds it
        folder.existing()                        # the run files already there (a finished run?)
        ...                                      # train, write checkpoint and history

The lock is ``fcntl.flock`` on the folder itself (no lock file): the kernel
drops it when the process ends, however it ends, so a killed run never leaves
a stale lock. Where ``fcntl`` does not exist (Windows) the folder is not locked.
"""

from __future__ import annotations

import os
from typing import Any

RUN_FILES = ("checkpoint.npz", "history.json", "history.csv", "history_steps.csv", "loss.png")

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class RunFolder:
    """Create (if needed) and lock ``path`` for the duration of a ``with`` block."""

    def __init__(self, path: str | os.PathLike, flag: str = "--out") -> None:
        self.path = os.fspath(path)
        self.flag = flag
        self.created = False
        self._fd: int | None = None

    def __enter__(self) -> "RunFolder":
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ValueError(f"{self.flag}: {self.path!r} exists and is not a folder")
        if not os.path.isdir(self.path):
            os.makedirs(self.path)
            self.created = True
        if fcntl is not None:
            self._fd = os.open(self.path, os.O_RDONLY)
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(self._fd)
                self._fd = None
                raise ValueError(f"{self.flag}: {self.path!r} is in use by another 'bptt train' right now; "
                                 "wait for it to finish or choose another --out") from None
        return self

    def existing(self) -> list[str]:
        """The run files already in the folder."""
        return [f for f in RUN_FILES if os.path.exists(os.path.join(self.path, f))]

    def clear(self) -> None:
        """Remove the files of the run that was here (``--overwrite``)."""
        for f in self.existing():
            os.unlink(os.path.join(self.path, f))

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None
        if kind is not None and self.created:
            try:
                os.rmdir(self.path)  # only succeeds when the failed run wrote nothing
            except OSError:
                pass
