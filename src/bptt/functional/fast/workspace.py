"""Per-call arrays of one layer and direction, reused from call to call (speed machinery)."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

Array = np.ndarray


class Workspace:
    """Per-call arrays of one layer and direction, reused from call to call.

    Why: the history and gate buffers of a large layer are tens of MB. Fresh
    from the allocator every call, they are fresh pages from the kernel, and
    their first touch costs more than the arithmetic written into them (on
    this project's machines a large GRU forward took 300 ms with reused memory
    and 800 ms with fresh). A module keeps one workspace per layer and
    direction and passes it to :func:`layer_forward`.

    Safety: an array is handed out again only when nothing but the workspace
    references it — no cache, no output view a caller kept (``out`` of a
    buffered layer *is* a view of ``H``) — which CPython's reference count
    tells exactly. Otherwise a fresh array is allocated (and kept for the next
    call, at most ``keep`` per name, so a caller who holds on to last call's
    outputs makes the pool alternate between two sets). Small arrays always
    come fresh: the allocator recycles those cheaply, and the lookup would cost
    more than it saves.
    """

    MIN_BYTES = 1 << 16
    # References to a free pooled array while ``_free`` looks at it: the pool's list, the loop
    # variable and getrefcount's own argument.
    _FREE_REFS = 3
    _enabled = sys.implementation.name == "cpython"

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._pool: dict[str, list[Array]] = {}

    def empty(self, name: str, shape: tuple[int, ...], dtype: Any) -> Array:
        """An uninitialised array of this shape and dtype, reused if one is free."""
        dtype = np.dtype(dtype)
        if math.prod(shape) * dtype.itemsize < self.MIN_BYTES or not self._enabled:
            return np.empty(shape, dtype=dtype)
        pool = self._pool.setdefault(name, [])
        for a in pool:
            if a.shape == shape and a.dtype == dtype and sys.getrefcount(a) == self._FREE_REFS:
                return a
        a = np.empty(shape, dtype=dtype)
        if len(pool) >= self.keep:
            pool.pop(0)
        pool.append(a)
        return a

    def clear(self) -> None:
        """Drop every pooled array (they are freed once no cache uses them)."""
        self._pool.clear()



def fresh(name: str, shape: tuple[int, ...], dtype: Any) -> Array:
    """The allocator of a call without a workspace: always a new array."""
    return np.empty(shape, dtype=dtype)
