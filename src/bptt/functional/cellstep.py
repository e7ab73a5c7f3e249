"""One whole step of any cell, cs231n-style: from ``x_t`` to ``h_t`` and back.

The layer loop in :mod:`bptt.functional.recurrent` splits a step in two: the
input projection ``P_t = x_t W_ihᵀ + b`` (done for all steps at once) and the
cell's own step (``cell.step_forward`` / ``cell.step_backward``). For reading
and for checking one step by hand, this module glues the two back together —
with the *same* cell code, so the per-cell step functions
(``lstm_step_forward``, ``gru_step_forward``, …) never repeat an equation:

    forward     P = x W_ihᵀ + b_all                 (b_all, b_step = cell.split_bias)
                h, c = cell.step_forward(P, h_prev, c_prev, W_hh, b_step)
    backward    dP, dQ, dh_prev, dc_prev = cell.step_backward(dh, dc)
                dx = dP W_ih,  dW_ih = dPᵀ x,  dW_hh = dQᵀ h_prev (or the cell's own rule),
                db_ih = Σ_b dP,  db_hh = Σ_b dQ

Shapes (G gate blocks): x (B, I), h_prev, c_prev (B, H), W_ih (G·H, I),
W_hh (G·H, H), b_ih, b_hh (G·H,) or None.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .recurrent import Cell, weight_hh_grad

Array = np.ndarray


def cell_step_forward(
    cell: Cell,
    x: Array,
    h_prev: Array,
    c_prev: Array | None,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None,
    b_hh: Array | None,
) -> tuple[Array, Array | None, tuple]:
    """(h, c, cache) for one step of ``cell``; c is None for cells without a cell state."""
    if (b_ih is None) != (b_hh is None):
        raise ValueError("b_ih, b_hh: expected both arrays or both None, got one of each")
    b_all, b_step = cell.split_bias(b_ih, b_hh)
    p = np.dot(x, W_ih.T)
    if b_all is not None:
        p += b_all
    h, c, step = cell.step_forward(p, h_prev, c_prev, W_hh, b_step)
    return h, c, (cell, x, h_prev, W_ih, W_hh, step, b_ih is not None)


def cell_step_backward(dh: Array | None, dc: Array | None, cache: tuple) -> tuple[Any, ...]:
    """(dx, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh) for one step; None upstream means zeros."""
    cell, x, h_prev, W_ih, W_hh, step, has_bias = cache
    if dh is None:
        dh = np.zeros_like(h_prev)
    if cell.has_cell_state and dc is None:
        dc = np.zeros_like(h_prev)
    dP, dQ, dh_prev, dc_prev = cell.step_backward(dh, dc, step, W_hh)
    db_ih = dP.sum(axis=0) if has_bias else None
    db_hh = dQ.sum(axis=0) if has_bias else None
    return (
        np.dot(dP, W_ih), dh_prev, dc_prev, np.dot(dP.T, x),
        weight_hh_grad(cell, dQ, h_prev, [step]), db_ih, db_hh,
    )
