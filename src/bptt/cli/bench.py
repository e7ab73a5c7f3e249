"""``bptt bench``: the benchmark suite against PyTorch (:mod:`bptt.bench`).

Same arguments as ``python -m bptt.bench``; torch is needed to run it, not to list it.
"""

from __future__ import annotations


def register(subparsers) -> None:
    """Add ``bptt bench`` to ``subparsers``."""
    from ..bench.run import add_arguments

    p = subparsers.add_parser(
        "bench",
        help="forward+backward speed of RNN/LSTM/GRU against torch.nn (needs torch)",
        description="Benchmark bptt against torch.nn on the CPU: each library in its own process, "
                    "same threads, alternated samples, median [min–max], table + JSON in ./bench-results/.",
    )
    add_arguments(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    import importlib.util

    from ..bench.run import run

    if not args.show and importlib.util.find_spec("torch") is None:
        raise ModuleNotFoundError("bptt bench measures against torch: pip install 'bptt[torch]'", name="torch")

    return run(args)
