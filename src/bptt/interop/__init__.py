"""Bridges to other frameworks (``bptt.interop.torch`` needs PyTorch)."""
