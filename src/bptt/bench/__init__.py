"""Benchmarks of bptt against PyTorch on the CPU: ``bptt bench`` (or ``python -m bptt.bench``).

Shipped with the package so that an installed bptt can measure itself; torch is
needed only to run it (it is imported in the torch worker process alone). Never
part of the tests. Results go to ``bench-results/`` under the current directory.
"""
