"""What BPTT costs and what replaces it: time and peak memory against T (a benchmark, never a test).

    python -m benchmarks.memory_methods                      # T = 100, 1000, 10000
    python -m benchmarks.memory_methods --T 100 1000 --cell gru --json costs.json

For each configuration and length T, one forward + backward of a one-layer
network for the loss Σ_t ⟨dout_t, h_t⟩ (random dout), by

    full        bptt module, memory="full"             stores every step
    checkpoint  bptt module, memory="checkpoint"       the state every ⌈√T⌉ steps, one extra forward
    truncated   tbptt.run_truncated, chunks of k       the state carried, gradient cut every k steps
    rtrl        rtrl.rtrl_gradients                    forward only, carries ∂s_t/∂θ (small sizes)

Time: the best of ``--repeats`` runs (perf_counter, no tracing). Peak memory:
tracemalloc's peak over one separate run, counting only what the method
allocates (inputs are made before tracing starts; NumPy reports its arrays to
tracemalloc). ``grad err``: ‖g − g_full‖/‖g_full‖ over all parameter gradients
(checkpoint and RTRL: rounding; truncated: its bias). RTRL runs only in the
small configuration (its M is S × P per sequence, O(H⁴) work per step).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
import tracemalloc

import numpy as np

from bptt.functional import cells
from bptt.rtrl import rtrl_gradients
from bptt.tbptt import run_truncated

CONFIGS = {  # name: (B, I, H, methods)
    "small": (1, 4, 8, ("full", "checkpoint", "truncated", "rtrl")),
    "medium": (8, 32, 64, ("full", "checkpoint", "truncated")),
}


def _inputs(cell, B, I, H, T, seed=0):
    rng = np.random.default_rng(seed)
    module = cells.get(cell).module(I, H, dtype=np.float64, seed=seed)
    return module, rng.standard_normal((T, B, I)), rng.standard_normal((T, B, H))


def _grads(module):
    return np.concatenate([p.grad.ravel() for _, p in module.named_parameters()])


def _runner(method, module, x, dout, k):
    """The measured part of one method: forward + backward -> flat gradient."""
    if method in ("full", "checkpoint"):
        module.memory = method
        module(x)
        module.backward(dout, None, input_grad=False)
        return _grads(module)
    if method == "truncated":
        run_truncated(module, x, k, dout_fn=lambda t0, out: dout[t0:t0 + k])
        return _grads(module)
    W = [module._params[n].data for n in module._names(0, 0)]
    g = rtrl_gradients(module.cell, x, None, None, *W, dout=dout)
    return np.concatenate([g[key].ravel() for key in ("dW_ih", "dW_hh", "db_ih", "db_hh")])


def measure(method, cell, B, I, H, T, k, repeats):
    """(seconds, peak bytes, flat gradient) of one method at one size."""
    best, grad = np.inf, None
    for r in range(repeats):
        module, x, dout = _inputs(cell, B, I, H, T)
        t0 = time.perf_counter()
        grad = _runner(method, module, x, dout, k)
        best = min(best, time.perf_counter() - t0)
    module, x, dout = _inputs(cell, B, I, H, T)
    tracemalloc.start()
    try:
        _runner(method, module, x, dout, k)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return best, peak, grad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", default="lstm", choices=[n for n in cells.names() if cells.get(n).reset_after])
    ap.add_argument("--T", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--k", type=int, default=32, help="truncation length of truncated BPTT")
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS threads (threadpoolctl; default 1: on a shared machine many small GEMMs "
                         "with a busy thread pool cost more than the arithmetic)")
    ap.add_argument("--json", help="also write the rows to this file (under the current directory)")
    args = ap.parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # nothing limited: say so in the header
        threadpool_limits, args.threads = None, "unlimited (no threadpoolctl)"
    with threadpool_limits(args.threads) if threadpool_limits else _nothing():
        rows = _table(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cell": args.cell, "k": args.k, "threads": args.threads, "rows": rows}, f, indent=1)
    return 0


@contextlib.contextmanager
def _nothing():
    yield


def _table(args):
    rows = []
    print(f"cell={args.cell} float64, truncated k={args.k}, checkpoint k=ceil(sqrt(T)), BLAS threads={args.threads}")
    print(f"{'config':<7} {'B':>2} {'H':>3} {'T':>6} {'method':<10} {'time s':>9} {'peak MiB':>9} {'grad err':>9}")
    for name in args.configs:
        B, I, H, methods = CONFIGS[name]
        for method in methods:  # warm-up: numba compiles, BLAS threads start
            measure(method, args.cell, B, I, H, 2 * args.k, args.k, 1)
        for T in args.T:
            ref = None
            for method in methods:
                reps = 1 if T >= 10000 else args.repeats
                sec, peak, g = measure(method, args.cell, B, I, H, T, args.k, reps)
                ref = g if method == "full" else ref
                err = float(np.linalg.norm(g - ref) / np.linalg.norm(ref))
                rows.append({"config": name, "B": B, "I": I, "H": H, "T": T, "method": method,
                             "seconds": sec, "peak_bytes": peak, "grad_rel_error": err})
                print(f"{name:<7} {B:>2} {H:>3} {T:>6} {method:<10} {sec:>9.4f} {peak / 2**20:>9.2f} {err:>9.2e}",
                      flush=True)
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
