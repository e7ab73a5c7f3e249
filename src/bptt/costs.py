"""What BPTT costs and what replaces it: time and peak memory of one gradient, by method.

One forward + backward of a one-layer network for the loss Σ_t ⟨dout_t, h_t⟩
(random dout, float64), by each method of :data:`METHODS`:

    full        module, memory="full"                      every step's activations kept: O(T)
    checkpoint  module, memory=("checkpoint", k or ⌈√T⌉)   the state every k steps: O(T/k + k), one extra forward
    truncated   tbptt.run_truncated, chunks of k           the gradient cut every k steps: biased
    rtrl        rtrl.rtrl_gradients                        forward only, M = ∂s/∂θ carried: O(H⁴) per step

Time: the best of ``repeats`` runs (``time.perf_counter``). Peak memory:
``tracemalloc``'s peak over one separate run, counting only what the method
allocates (the inputs exist before tracing starts; NumPy reports its arrays to
tracemalloc). The benchmark ``benchmarks/memory_methods.py`` prints the table;
a lab experiment calls :func:`cost_table` and plots its rows.

Shapes: x (T, B, I), dout (T, B, H); the gradient is θ = every parameter, flattened.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any, Callable, Iterable

import numpy as np

from .functional import cells
from .rtrl import rtrl_gradients
from .tbptt import run_truncated

Array = np.ndarray

__all__ = ["METHODS", "measure", "cost_table"]


def _module_grads(module: Any) -> Array:
    return np.concatenate([p.grad.ravel() for _, p in module.named_parameters()])


def _full(module, x, dout, k):
    module.memory = "full"
    module(x)
    module.backward(dout, None, input_grad=False)
    return _module_grads(module)


def _checkpoint(module, x, dout, k):
    module.memory = "checkpoint" if k is None else ("checkpoint", k)
    module(x)
    module.backward(dout, None, input_grad=False)
    return _module_grads(module)


def _truncated(module, x, dout, k):
    run_truncated(module, x, k, dout_fn=lambda t0, out: dout[t0:t0 + k])
    return _module_grads(module)


def _rtrl(module, x, dout, k):
    W = [module._params.get(n) for n in module._names(0, 0)]
    g = rtrl_gradients(module.cell, x, None, None, *[None if p is None else p.data for p in W], dout=dout)
    return np.concatenate([g[key].ravel() for key in ("dW_ih", "dW_hh", "db_ih", "db_hh") if g[key] is not None])


# name -> (runner(module, x, dout, k) -> flat gradient, what k means for it)
METHODS: dict[str, tuple[Callable, str]] = {
    "full": (_full, "unused"),
    "checkpoint": (_checkpoint, "segment length (None: ⌈√T⌉)"),
    "truncated": (_truncated, "chunk length"),
    "rtrl": (_rtrl, "unused"),
}


def _inputs(cell: str, B: int, I: int, H: int, T: int, seed: int):
    rng = np.random.default_rng(seed)
    module = cells.get(cell).module(I, H, dtype=np.float64, seed=seed)
    return module, rng.standard_normal((T, B, I)), rng.standard_normal((T, B, H))


def measure(method: str, T: int, cell: str = "lstm", batch_size: int = 1, input_size: int = 4,
            hidden_size: int = 8, k: int | None = None, repeats: int = 1, seed: int = 0) -> dict[str, Any]:
    """Time and peak memory of one gradient by ``method`` -> {"seconds", "peak_bytes", "grad"}.

    ``k``: the checkpoint segment (None: ⌈√T⌉) or the truncation chunk (None: 32).
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {tuple(METHODS)}, got {method!r}")
    run = METHODS[method][0]
    if method == "truncated" and k is None:
        k = 32
    args = (cell, batch_size, input_size, hidden_size, T, seed)
    best, grad = np.inf, None
    for _ in range(repeats):
        module, x, dout = _inputs(*args)
        t0 = time.perf_counter()
        grad = run(module, x, dout, k)
        best = min(best, time.perf_counter() - t0)
    module, x, dout = _inputs(*args)
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        run(module, x, dout, k)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return {"seconds": best, "peak_bytes": peak, "grad": grad}


def cost_table(methods: Iterable[str] = ("full", "checkpoint", "truncated", "rtrl"),
               lengths: Iterable[int] = (100, 1000, 10000), checkpoint_k: int | None = None,
               truncation_k: int = 32, **kwargs: Any) -> list[dict[str, Any]]:
    """One row per (T, method): T, method, k, seconds, peak_bytes, grad_rel_error = ‖g − g_full‖/‖g_full‖.

    ``checkpoint_k`` (None: ⌈√T⌉) and ``truncation_k`` are the k of those two methods;
    ``kwargs`` go to :func:`measure` (cell, batch_size, input_size, hidden_size, repeats, seed).
    Each method runs once at a tiny size first (numba compiles, BLAS starts) so no row pays for that.
    """
    methods = list(methods)
    ks = {"checkpoint": checkpoint_k, "truncated": truncation_k}
    for m in methods:
        measure(m, 8, k=ks.get(m), **{**kwargs, "repeats": 1})
    rows = []
    for T in lengths:
        runs = {m: measure(m, T, k=ks.get(m), **kwargs) for m in methods}
        full = runs["full"]["grad"] if "full" in runs else measure("full", T, **{**kwargs, "repeats": 1})["grad"]
        for m, r in runs.items():
            err = float(np.linalg.norm(r.pop("grad") - full) / np.linalg.norm(full))
            rows.append({"T": T, "method": m, "k": ks.get(m), **r, "grad_rel_error": err})
    return rows
