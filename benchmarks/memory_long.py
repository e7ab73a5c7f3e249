"""Checkpointed BPTT on a very long sequence: peak memory of one forward + backward (a benchmark, never a test).

    python -m benchmarks.memory_long                         # T = 20,000, every cell, float64, checkpoint and full
    python -m benchmarks.memory_long --T 20000 --cells lstm --modes checkpoint --json long20k.json

The ``long`` row of the suite (B 8, I 32, H 128, one layer) at T steps, run by bptt
with ``memory="checkpoint"`` (k = ⌈√T⌉) and, for comparison, ``"full"``. Each
measurement runs in a fresh process, as the suite's memory rows do
(:mod:`bptt.bench.memory`: glibc's mmap threshold fixed, a T = 2 run first, then
two forward+backward calls of a fresh model, BLAS on one thread): ``rss peak``
is the resident-set growth over the state before the first call (weights, inputs
and loss weights exist then), ``process peak`` the process's whole high-water
mark (Python, NumPy, numba and the inputs included: x and the loss weights alone
are T·B·(I + H)·itemsize), ``traced`` tracemalloc's peak over the same two calls.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CELLS = ("rnn", "lstm", "gru")


def child(cell: str, dtype: str, mode: str, T: int) -> dict:
    """In this (fresh) process: one row, measured by bptt.bench.memory.measure."""
    import dataclasses

    from bptt.bench import memory
    from bptt.bench.configs import CONFIGS
    from bptt.bench.worker import BpttBench

    cfg = dataclasses.replace(CONFIGS["long"], name=f"long-T{T}", T=T)

    def make(T_=T):
        b = BpttBench(cell, dtype, dataclasses.replace(cfg, T=T_), seed=0)
        b.model.memory = mode
        return b

    return memory.measure("bptt", make, lambda: make(2))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=20000)
    ap.add_argument("--cells", default=",".join(CELLS))
    ap.add_argument("--dtypes", default="float64")
    ap.add_argument("--modes", default="checkpoint,full")
    ap.add_argument("--json", help="also write the rows to this file (under the current directory)")
    ap.add_argument("--child", nargs=3, metavar=("CELL", "DTYPE", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child, args.T)))
        return 0
    from bptt.bench.memory import MALLOC_ENV

    env = {**os.environ, **MALLOC_ENV, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    mib = 2.0 ** 20
    print(f"B 8, I 32, H 128, T {args.T}; checkpoint k = ceil(sqrt(T)); MiB")
    print(f"{'cell':<5} {'dtype':<8} {'memory':<10} {'rss peak':>9} {'process peak':>12} {'traced peak':>11}")
    rows = []
    for cell in args.cells.split(","):
        for dtype in args.dtypes.split(","):
            for mode in args.modes.split(","):
                out = subprocess.run([sys.executable, "-m", "benchmarks.memory_long", "--T", str(args.T),
                                      "--child", cell, dtype, mode], env=env, capture_output=True, text=True)
                if out.returncode != 0:
                    print(f"{cell:<5} {dtype:<8} {mode:<10} failed: {out.stderr.strip().splitlines()[-1:]}")
                    continue
                r = {"cell": cell, "dtype": dtype, "memory": mode, "T": args.T, **json.loads(out.stdout)}
                rows.append(r)
                print(f"{cell:<5} {dtype:<8} {mode:<10} {r['rss_peak'] / mib:>9.1f} {r['rss_process_peak'] / mib:>12.1f} "
                      f"{r['traced_peak'] / mib:>11.1f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"B": 8, "I": 32, "H": 128, "T": args.T, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
