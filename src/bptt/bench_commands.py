"""``bptt bench``: the benchmark suite against PyTorch (``benchmarks/`` of a source checkout).

The suite lives beside the package, not inside it (it needs torch and is never
part of the tests), so this command only works from a source checkout: it
finds ``benchmarks/`` next to ``src/`` and runs ``python -m benchmarks`` with
the same arguments (see ``bptt bench --help``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _checkout_root() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    return root if (root / "benchmarks" / "run.py").is_file() else None


def register(subparsers) -> None:
    root = _checkout_root()
    p = subparsers.add_parser(
        "bench",
        help="forward+backward speed of RNN/LSTM/GRU against torch.nn (source checkout only)",
        description="Benchmark bptt against torch.nn on the CPU: each library in its own process, "
                    "same threads, alternated samples, median [min–max], table + JSON.",
    )
    if root is not None:
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        from benchmarks.run import add_arguments

        add_arguments(p)
    else:
        p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_run)


def _run(args) -> int:
    if _checkout_root() is None:
        raise FileNotFoundError("bench: benchmarks/ not found; run `python -m benchmarks` from a source checkout of bptt")
    from benchmarks.run import run

    return run(args)
