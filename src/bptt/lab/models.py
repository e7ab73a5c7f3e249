"""The one model the sequence experiments need: a recurrent layer and a linear read-out.

    h_1 … h_T = RNN/LSTM/GRU(x_1 … x_T)
    ŷ = V h_ℓ + c                 readout="last": at each sequence's last valid step ℓ
    ŷ_t = V h_t + c               readout="all":  at every step

Built from :mod:`bptt.nn` modules (so the optimizers of :mod:`bptt.optim`
walk its ``parameters()``), with ``forward``/``backward`` like every module.
Batch-first, like the data sets of :mod:`bptt.data`.

Shapes: x (B, T, I); lengths (B,) or None;
    readout="last": ŷ (B, O)      readout="all": ŷ (B, T, O)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_choice
from ..nn import RNN, Linear, Module

Array = np.ndarray
CELL_KINDS = ("rnn-tanh", "rnn-sigmoid", "rnn-relu", "lstm", "gru")


def make_recurrent(kind: str, input_size: int, hidden_size: int, dtype: Any = np.float64, seed: Any = None,
                   forget_bias: float | None = None, batch_first: bool = True) -> Module:
    """"rnn-tanh" | "rnn-sigmoid" | "rnn-relu" | "lstm" | "gru" as a bptt module (torch's init)."""
    check_choice("cell", kind, CELL_KINDS)
    if kind.startswith("rnn-"):
        return RNN(input_size, hidden_size, nonlinearity=kind[4:], batch_first=batch_first, dtype=dtype, seed=seed)
    from ..nn import GRU, LSTM

    if kind == "lstm":
        return LSTM(input_size, hidden_size, batch_first=batch_first, dtype=dtype, seed=seed, forget_bias=forget_bias)
    return GRU(input_size, hidden_size, batch_first=batch_first, dtype=dtype, seed=seed)


class SequenceModel(Module):
    """A recurrent layer (child ``rnn``) and a Linear read-out (child ``head``)."""

    def __init__(self, kind: str, input_size: int, hidden_size: int, output_size: int, readout: str = "last",
                 dtype: Any = np.float64, seed: Any = None, forget_bias: float | None = None) -> None:
        super().__init__(dtype)
        rng = np.random.default_rng(seed)
        self.kind = kind
        self.readout = check_choice("readout", readout, ("last", "all"))
        self.add_module("rnn", make_recurrent(kind, input_size, hidden_size, dtype, rng, forget_bias))
        self.add_module("head", Linear(hidden_size, output_size, dtype=dtype, seed=rng))
        self._ctx = None

    def forward(self, x: Array, lengths: Array | None = None) -> Array:
        out, _ = self.rnn(x, None, lengths=lengths)
        B, T, H = out.shape
        if self.readout == "all":
            self._ctx = ("all", out.shape, None)
            return self.head(out)
        last = (np.full(B, T) if lengths is None else np.asarray(lengths)) - 1
        h_last = out[np.arange(B), last]
        self._ctx = ("last", out.shape, last)
        return self.head(h_last)

    def backward(self, dy: Array) -> Array:
        mode, shape, last = self._ctx
        dh = self.head.backward(dy)
        if mode == "all":
            dout = dh
        else:
            dout = np.zeros(shape, dtype=self.dtype)
            dout[np.arange(shape[0]), last] = dh
        dx, _ = self.rnn.backward(dout)
        return dx
