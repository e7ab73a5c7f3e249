"""Fast backends of the recurrent layer, and the one place that chooses which one runs.

Every backend computes what the reference backend (the readable step pairs,
:mod:`bptt.functional.recurrent`) computes, and is tested against it.

    backend     what runs                                               module
    reference   the cell's readable step pair, once per step            bptt.functional.recurrent
    numpy       in-place NumPy steps, exp-scaled gates, factors          .layer + .elman/.lstm/.gru
                formed outside the loop
    fused       numba kernels for the arithmetic between GEMM and exp;   .kernels
                a backward step is one kernel and the GEMM
    whole       numba, one compiled call for every step, the step GEMM    .kernels
                (BLAS's, called from compiled code) and the activations
                (vectorised tanh/sigmoid; float32-native for float32)
                inside; with two threads allowed, the batch's two halves
                may run at once (.parallel.choose_rows: forced only)

:func:`select` — the table below, read top to bottom — picks one per layer
call, from (cell, B, H, lengths):

    BPTT_BACKEND / backend= names one      -> that one
    cell without fast backends             -> reference   (the textbook GRU, the LSTM with proj_size)
    numba missing or BPTT_KERNELS=numpy    -> numpy
    B·H ≤ WHOLE_MAX_ELEMENTS, no lengths,  -> whole       (no Python or NumPy call per step: measured
      step product available                             faster than fused from the course's size to
                                                         B 32 H 256, benchmarks/README.md)
    B·H ≤ WHOLE_STEP_ELEMENTS, lengths     -> fused, activations inside the kernel (one kernel per step)
    otherwise                              -> fused
"""

from __future__ import annotations

import os
from typing import Any

from ..recurrent import REFERENCE
from . import kernels
from .elman import ElmanFused, ElmanNumpy, ElmanWhole
from .gru import GRUFused, GRUNumpy, GRUWhole
from .lstm import LSTMFused, LSTMNumpy, LSTMWhole

BACKENDS = ("auto", "reference", "numpy", "fused", "whole")

# family -> (numpy, fused, fused with the exp inside the kernel, whole); textbook GRU: none.
_FAST: dict[str, tuple[Any, Any, Any, Any]] = {
    "rnn": (ElmanNumpy(), ElmanFused(), ElmanFused(), ElmanWhole()),
    "lstm": (LSTMNumpy(), LSTMFused(), LSTMFused(whole_step=True), LSTMWhole()),
    "gru": (GRUNumpy(), GRUFused(), GRUFused(whole_step=True), GRUWhole()),
}


def check_backend(name: Any, argname: str = "backend") -> str:
    """``name`` if it is one of :data:`BACKENDS`, else one ValueError naming ``argname``."""
    if name not in BACKENDS:
        raise ValueError(f"{argname}: expected one of {BACKENDS}, got {name!r}")
    return name


_ENV = check_backend(os.environ.get("BPTT_BACKEND", "auto") or "auto", "BPTT_BACKEND")


# B·H up to which ``auto`` runs the whole-sequence loop (measured up to the medium size, B 32 H 256;
# larger layers keep ``fused``, where the step GEMM is nearly all of a step).
WHOLE_MAX_ELEMENTS = 32 * 256


def select(cell: Any, B: int, H: int, lengths: bool, backend: str = "auto", projected: bool = False) -> Any:
    """The backend object that runs one layer call (see the module docstring's table).

    ``backend`` (a module's ``backend=`` option, else the ``BPTT_BACKEND``
    environment variable) forces one: ``fused`` and ``whole`` need numba, and
    ``whole`` runs no lengths (its loops are unmasked).
    """
    name = _ENV if backend == "auto" else backend
    fast = None if projected or (cell.family == "gru" and not cell.reset_after) else _FAST[cell.family]
    if name == "reference" or fast is None:
        if name not in ("auto", "reference"):
            what = "an LSTM with proj_size" if projected else repr(cell.name)
            raise ValueError(f"backend: {what} runs on the reference backend only, got backend={name!r}")
        return REFERENCE
    kern = kernels.get()
    if name == "numpy" or (name == "auto" and kern is None):
        return fast[0]
    if kern is None:
        raise ValueError(f"backend: {name!r} needs numba (pip install bptt[fast]) and BPTT_KERNELS unset")
    tiny = B * H <= kernels.WHOLE_STEP_ELEMENTS
    if name == "whole" and lengths:
        raise ValueError("backend: 'whole' runs sequences without lengths only, got lengths")
    if name == "whole" or (name == "auto" and not lengths and B * H <= WHOLE_MAX_ELEMENTS
                           and kernels.has_step_product(B, H)):
        return fast[3]
    return fast[2] if tiny else fast[1]


def available(cell: Any) -> tuple[str, ...]:
    """The backends that can run ``cell`` in this process (reference first)."""
    if cell.family == "gru" and not cell.reset_after:
        return ("reference",)
    return ("reference", "numpy") + (("fused", "whole") if kernels.get() is not None else ())
