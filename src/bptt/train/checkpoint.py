"""Atomic ``.npz`` files — kept as an alias: the functions live in :mod:`bptt.serialization` (below ``nn``)."""

from ..serialization import atomic_savez, load_npz, npz_headers, remove_stale_temps

__all__ = ["atomic_savez", "load_npz", "npz_headers", "remove_stale_temps"]
