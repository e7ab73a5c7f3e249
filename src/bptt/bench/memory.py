"""Memory of one forward + backward: peak, what forward keeps for backward, and the equations' minimum.

Measured in a fresh worker process per (library, config, cell, dtype), never
in a process that has timed anything (:func:`measure`, run by
:mod:`bptt.bench.worker` for ``{"op": "memory"}``):

* **RSS** (both libraries): ``VmHWM − VmRSS`` from ``/proc/self/status``, the
  high-water mark reset (``/proc/self/clear_refs`` ← 5) just before the first
  forward and read after two forward+backward calls of a model built just
  before; ``kept`` is ``VmRSS`` after the first forward minus the same base.
  Two calls, because what a library keeps from one call to the next (bptt's
  workspaces, torch's gradients) counts. torch's CPU tensors come from
  ``malloc``, which tracemalloc does not see, so RSS is the one measure both
  share and the ratio bptt/torch uses it. The workers run with glibc's mmap
  threshold fixed (``MALLOC_MMAP_THRESHOLD_``): every large array is its own
  mapping, returned to the kernel when freed, so RSS follows the live arrays
  rather than how the allocator recycles freed heap. Before the measured model
  is built, a throw-away model of the same config with T = 2 runs once: the
  libraries load, numba compiles (same B·H: same backend), and none of that
  is counted.
* **tracemalloc** (bptt only; NumPy reports its arrays to it): the same two calls
  on a second fresh model, peak and kept over the traced memory at the start.

The minimum the equations need (per step, layer and sequence; numbers of H
each) is what the backward formulas read, without recomputing a GEMM or a
nonlinearity (recomputation is what ``memory="checkpoint"`` trades for time):

    Elman   h_t                       1   f'(a_t) is a function of h_t (tanh: 1 − h_t², sigmoid: h_t(1 − h_t),
                                          relu: [h_t > 0]); h_{t−1} enters dW_hh. Nothing else.
    LSTM    h_t, c_t, i, f, g, o,     7   σ' = σ(1 − σ) and tanh' = 1 − tanh² read the activations; c_{t−1}
            tanh(c_t)                     enters ∂f, tanh(c_t) both ∂o and ∂c; h_{t−1} enters dW_hh.
    GRU     h_t, r, z, n, q_n         5   h' = (1 − z) n + z h with n = tanh(p_n + r ⊙ q_n),
                                          q_n = W_hn h + b_hn: ∂r needs q_n, ∂z needs h − n, ∂q_n needs r;
                                          the r, z blocks of the recurrent product are not read again.

(the state h_0 and c_0 are one step more, not counted per step). Bytes per step =
that × B · H · itemsize · layers. :func:`cache_bytes_per_step` divides what bptt
kept after the forward by T; it also holds the per-call weight copies (scaled
W_ihᵀ, W_hhᵀ), a few per cent at the benchmark sizes.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from typing import Iterator

# Numbers of H per step, layer and sequence the backward reads (module docstring).
MIN_NUMBERS_PER_STEP = {"rnn": 1, "lstm": 7, "gru": 5}
# Environment of a memory worker: large arrays are mappings of their own (see the module docstring).
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(1 << 17)}


def min_cache_bytes_per_step(cell: str, B: int, H: int, L: int, itemsize: int) -> int:
    """Bytes per time step the backward of L layer-directions (layers × 2 when bidirectional) needs kept:
    ``MIN_NUMBERS_PER_STEP · B·H·L·itemsize``."""
    return MIN_NUMBERS_PER_STEP[cell] * B * H * L * itemsize


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int | None:
    """This process's resident set size now (Linux; None elsewhere)."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def hwm_bytes() -> int | None:
    """This process's resident-set high-water mark since start or the last :func:`reset_hwm`."""
    kib = _status_kib("VmHWM")
    return None if kib is None else kib * 1024


def reset_hwm() -> bool:
    """Reset the high-water mark to the current RSS (Linux ≥ 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _two_calls(bench) -> Iterator[None]:
    """Forward, [kept], backward, forward + backward: the library's own two calls."""
    bench.forward()
    gc.collect()
    yield
    bench.backward()
    bench.step()
    gc.collect()


def measure_rss(bench) -> dict:
    """RSS peak and kept-after-forward of two forward+backward calls of a fresh ``bench`` (bytes over the base)."""
    gc.collect()
    base = rss_bytes()
    if base is None or not reset_hwm():
        return {"rss_peak": None, "rss_kept": None, "why": "no /proc/self/status or clear_refs on this system"}
    run = _two_calls(bench)
    next(run)
    kept = rss_bytes() - base
    for _ in run:
        pass
    hwm = hwm_bytes()
    return {"rss_peak": hwm - base, "rss_kept": kept, "rss_base": base, "rss_process_peak": hwm}


def measure_traced(make_bench) -> dict:
    """tracemalloc peak and kept-after-forward of the same two calls of a fresh ``make_bench()`` (bytes)."""
    bench = make_bench()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        run = _two_calls(bench)
        next(run)
        kept = tracemalloc.get_traced_memory()[0] - base
        for _ in run:
            pass
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return {"traced_peak": peak, "traced_kept": kept}


def measure(lib: str, make_bench, make_warm_bench) -> dict:
    """Everything :mod:`bptt.bench.run` records for one library and row (see the module docstring)."""
    warm = make_warm_bench()
    warm.step()
    del warm
    gc.collect()
    bench = make_bench()
    res = measure_rss(bench)
    del bench
    gc.collect()
    if lib == "bptt":
        res.update(measure_traced(make_bench))
    res["malloc_env"] = {k: os.environ.get(k) for k in MALLOC_ENV}
    return res
