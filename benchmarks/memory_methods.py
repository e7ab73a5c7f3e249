"""What BPTT costs and what replaces it: time and peak memory against T (a benchmark, never a test).

    python -m benchmarks.memory_methods                      # T = 100, 1000, 10000
    python -m benchmarks.memory_methods --T 100 1000 --cell gru --json costs.json

Prints :func:`bptt.costs.cost_table` (full, checkpointed, truncated BPTT and
RTRL; see :mod:`bptt.costs` for what is measured and how) for two sizes:
"small" (B=1, I=4, H=8: every method, RTRL included) and "medium" (B=8, I=32,
H=64: RTRL's O(H⁴) per step is left out). ``grad err`` is ‖g − g_full‖/‖g_full‖:
rounding for checkpoint and RTRL, the bias of truncation for truncated.
"""

from __future__ import annotations

import argparse
import contextlib
import json

from bptt import costs
from bptt.functional import cells

CONFIGS = {  # name: (B, I, H, methods)
    "small": (1, 4, 8, ("full", "checkpoint", "truncated", "rtrl")),
    "medium": (8, 32, 64, ("full", "checkpoint", "truncated")),
}


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
    with threadpool_limits(args.threads) if threadpool_limits else contextlib.nullcontext():
        rows = _table(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cell": args.cell, "k": args.k, "threads": args.threads, "rows": rows}, f, indent=1)
    return 0


def _table(args):
    print(f"cell={args.cell} float64, truncated k={args.k}, checkpoint k=ceil(sqrt(T)), BLAS threads={args.threads}")
    print(f"{'config':<7} {'B':>2} {'H':>3} {'T':>6} {'method':<10} {'time s':>9} {'peak MiB':>9} {'grad err':>9}")
    rows = []
    for name in args.configs:
        B, I, H, methods = CONFIGS[name]
        for T in args.T:  # one T at a time, so rows print as they come
            for r in costs.cost_table(methods, [T], truncation_k=args.k, cell=args.cell, batch_size=B, input_size=I,
                                      hidden_size=H, repeats=1 if T >= 10000 else args.repeats):
                rows.append({"config": name, "B": B, "I": I, "H": H, **r})
                print(f"{name:<7} {B:>2} {H:>3} {T:>6} {r['method']:<10} {r['seconds']:>9.4f} "
                      f"{r['peak_bytes'] / 2**20:>9.2f} {r['grad_rel_error']:>9.2e}", flush=True)
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
