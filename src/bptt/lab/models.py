"""The sequence models of the lab: :class:`bptt.train.models.SequenceNet` with the two options it lacks.

    h_1 … h_T = RNN/LSTM/GRU(x_1 … x_T);  ŷ = V h_ℓ + c  (readout "last")  or  ŷ_t = V h_t + c  ("all")

The experiments also need an Elman RNN with a *sigmoid* non-linearity (seed 001's
cell) and an LSTM with its forget-gate bias set to 1; both are built here on top of
``SequenceNet`` (its ``rnn`` child is replaced by ``bptt.RNN(nonlinearity="sigmoid")``,
and the forget block of the LSTM's biases is set as ``bptt.LSTM(forget_bias=…)`` does).

Shapes (batch-first, like :mod:`bptt.data`): x (B, T, I); lengths (B,) or None;
    readout="last": ŷ (B, O)      readout="all": ŷ (B, T, O)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_choice
from ..functional import cells

CELL_KINDS = cells.names(jacobians=True)  # the lab's cells: those whose Jacobians its gradient study reads


def SequenceModel(kind: str, input_size: int, hidden_size: int, output_size: int, readout: str = "last",
                  dtype: Any = np.float64, seed: Any = None, forget_bias: float | None = None):
    """A ``SequenceNet`` for "rnn-tanh" | "rnn-sigmoid" | "rnn-relu" | "lstm" | "gru" (torch's init)."""
    from ..train.models import SequenceNet

    check_choice("cell", kind, CELL_KINDS)
    net = SequenceNet(kind, input_size, hidden_size, output_size, readout=readout, dtype=dtype, seed=seed)
    if forget_bias is not None:
        if not cells.get(kind).has_cell_state:
            raise ValueError(f"forget_bias: only for the LSTM, got cell={kind!r}")
        H = hidden_size
        net.rnn._params["bias_ih_l0"].data[H:2 * H] = forget_bias  # effective forget bias b_ih + b_hh = forget_bias
        net.rnn._params["bias_hh_l0"].data[H:2 * H] = 0.0
    net.kind = kind
    return net
