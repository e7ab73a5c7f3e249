"""What the CPU (through NumPy's SIMD dispatch) makes fast: consulted once by the fast backends."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def tanh_float64_is_avx512() -> bool:
    """Whether NumPy's float64 ``tanh`` runs its AVX-512 loop on this machine.

    The recurrent cells use it to choose how to compute tanh in float64: as
    ``np.tanh``, or as 2 / (1 + e^{−2a}) − 1 through ``exp`` (four NumPy calls,
    exact to rounding). Measured: on an AVX-512 host ``np.tanh`` wins at every
    size (1024 elements: 1.6 µs against 3.4 µs); on an AVX2 host ``tanh`` was
    2–3× slower than ``exp`` and the exp form won from about 256 elements on.
    Without ``numpy.lib.introspect`` (NumPy < 2) the answer is False.
    """
    try:
        from numpy.lib.introspect import opt_func_info
    except ImportError:
        return False
    loops = opt_func_info(func_name="^tanh$", signature="float64").get("tanh", {})
    current = next(iter(loops.values()), {}).get("current", "")
    return current == "X86_V4" or current.startswith("AVX512")  # NumPy ≥ 2.3 / older target names
