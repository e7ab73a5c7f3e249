"""Benchmarks of bptt against PyTorch. Run with ``python -m benchmarks``; never part of the tests."""
