"""``python -m benchmarks``: a shim for :mod:`bptt.bench` (the harness ships inside the package).

The saved results of this repository stay here, in ``benchmarks/results/``; see README.md.
"""
