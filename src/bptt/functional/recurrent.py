"""One recurrent layer in one direction, forward and backward through time.

This is the only place where time is looped over. A *cell* (Elman RNN, LSTM,
GRU) contributes only its step: how the gate pre-activations of one step become
the new state, and the reverse. Everything else is shared and vectorised:

    forward
        P = X W_ihᵀ + b            one GEMM for every step and every gate
        for t = 0 … T−1:           the recurrence, the only Python loop
            h_t, c_t = cell.step(P_t, h_{t−1}, c_{t−1})
    backward
        for t = T−1 … 0:           gradients of the gate pre-activations
            dP_t, dQ_t, dh_{t−1}, dc_{t−1} = cell.step_backward(dh_t, dc_t)
        dW_ih = dPᵀ X              one GEMM over all steps
        dW_hh = dQᵀ H_prev         one GEMM over all steps
        dX    = dP W_ih            one GEMM over all steps

``P`` is the input part of the gate pre-activations and ``Q`` the recurrent
part (``h_{t−1} W_hhᵀ + b_hh``). For the Elman RNN and the LSTM both enter the
gates as a plain sum, so ``dQ`` *is* ``dP`` (and grad b_ih = grad b_hh); the GRU
multiplies ``r`` into its n-block of ``Q``, so there they differ.

Variable lengths follow ``pack_padded_sequence``: a sequence of length ℓ updates
its state only for t < ℓ, its outputs past ℓ are zero, and the reverse direction
reads each sequence from its own last valid step backwards.

Shapes (time-major, G = number of gate blocks, H = hidden size):
    x: (T, B, I)        h0, c0: (B, H)        W_ih: (G·H, I)    W_hh: (G·H, H)
    b_ih, b_hh: (G·H,) or None               lengths: (B,) ints in [1, T] or None
    out: (T, B, H)      h_T, c_T: (B, H)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

Array = np.ndarray


class Cell(Protocol):
    """What a recurrent cell must provide to run through :func:`layer_forward`."""

    gates: int  # G: number of H-sized blocks in W_ih / W_hh
    has_cell_state: bool  # True for the LSTM (it carries c)
    shared_bias_grad: bool  # True when dQ == dP (Elman, LSTM)

    def split_bias(self, b_ih: Array | None, b_hh: Array | None) -> tuple[Array | None, Array | None]:
        """Return (bias added to P once for all steps, bias kept inside the step)."""

    def step_forward(
        self, p: Array, h: Array, c: Array | None, W_hh: Array, b_step: Array | None
    ) -> tuple[Array, Array | None, Any]:
        """(P_t, h_{t−1}, c_{t−1}) -> (h_t, c_t, cache_t)."""

    def step_backward(
        self, dh: Array, dc: Array | None, cache: Any, W_hh: Array
    ) -> tuple[Array, Array, Array, Array | None]:
        """(dh_t, dc_t, cache_t) -> (dP_t, dQ_t, dh_{t−1}, dc_{t−1})."""

    # Optional: ``weight_hh_grad(dQ, h_prev, steps) -> dW_hh``, for a cell whose
    # recurrent GEMM does not read h_{t−1} unchanged in every gate block (the
    # textbook GRU multiplies W_hn by r ⊙ h_{t−1}). dQ: (N, G·H), h_prev: (N, H)
    # with N = (steps)·B in step order, steps: the per-step caches. Without it,
    # dW_hh = dQᵀ H_prev (see :func:`weight_hh_grad`).


def weight_hh_grad(cell: Cell, dQ: Array, h_prev: Array, steps: list) -> Array:
    """dW_hh = dQᵀ H_prev, or the cell's own ``weight_hh_grad`` when it has one.

    Shapes: dQ (N, G·H), h_prev (N, H), steps: N/B per-step caches -> (G·H, H)
    """
    hook = getattr(cell, "weight_hh_grad", None)
    if hook is not None:
        return hook(dQ, h_prev, steps)
    return np.dot(dQ.T, h_prev)


@dataclass
class LayerCache:
    """Everything :func:`layer_backward` needs from :func:`layer_forward`."""

    cell: Cell
    x: Array  # (T, B, I) in processing order (already reversed for the reverse direction)
    h_prev: Array  # (T, B, H): h_{t−1} for every step
    steps: list  # per-step caches of the cell
    W_ih: Array
    W_hh: Array
    has_bias: bool
    mask: Array | None  # (T, B, 1) 1.0 where t < length, else None
    order: Array | None  # (T, B) time index gather for the reverse direction, else None


def length_mask(lengths: Array, T: int, dtype: np.dtype) -> Array:
    """m[t, b] = 1 if t < lengths[b] else 0.  Shapes: lengths (B,) -> (T, B, 1)."""
    return (np.arange(T)[:, None] < lengths[None, :]).astype(dtype)[:, :, None]


def reverse_order(T: int, B: int, lengths: Array | None) -> Array:
    """Time indices that reverse each sequence within its own length.

    order[t, b] = ℓ_b − 1 − t for t < ℓ_b, and t otherwise (padding stays put),
    so ``x[order, arange(B)]`` is each sequence read backwards, padded at the
    end, and applying the same gather again undoes it.
    Shapes: lengths (B,) or None -> (T, B)
    """
    t = np.arange(T)[:, None]
    ell = np.full(B, T) if lengths is None else lengths
    return np.where(t < ell[None, :], ell[None, :] - 1 - t, t)


def _gather_time(a: Array, order: Array) -> Array:
    return a[order, np.arange(a.shape[1])[None, :]]


def layer_forward(
    cell: Cell,
    x: Array,
    h0: Array,
    c0: Array | None,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None,
    b_hh: Array | None,
    lengths: Array | None = None,
    reverse: bool = False,
) -> tuple[Array, Array, Array | None, LayerCache]:
    """Run one direction of one layer over the whole sequence.

    Returns (out, h_T, c_T, cache); see the module docstring for the equations
    and shapes. With ``lengths``, h_T/c_T are each sequence's state after its
    own last valid step.
    """
    T, B, I = x.shape
    H = W_hh.shape[1]
    order = reverse_order(T, B, lengths) if reverse else None
    xs = _gather_time(x, order) if reverse else x
    b_all, b_step = cell.split_bias(b_ih, b_hh)
    P = np.dot(xs.reshape(T * B, I), W_ih.T)
    if b_all is not None:
        P += b_all
    P = P.reshape(T, B, cell.gates * H)
    mask = None if lengths is None else length_mask(lengths, T, x.dtype)

    out = np.empty((T, B, H), dtype=x.dtype)
    h_prev = np.empty((T, B, H), dtype=x.dtype)
    steps = []
    h, c = h0, c0
    for t in range(T):
        h_prev[t] = h
        h_new, c_new, step = cell.step_forward(P[t], h, c, W_hh, b_step)
        steps.append(step)
        if mask is None:
            h, c = h_new, c_new
            out[t] = h_new
        else:
            m = mask[t]
            np.multiply(h_new, m, out=out[t])
            h = out[t] + (1 - m) * h
            if c is not None:
                c = m * c_new + (1 - m) * c
    if reverse:
        out = _gather_time(out, order)
    cache = LayerCache(cell, xs, h_prev, steps, W_ih, W_hh, b_ih is not None, mask, order)
    return out, h, c, cache


def layer_backward(
    dout: Array | None,
    dh_T: Array | None,
    dc_T: Array | None,
    cache: LayerCache,
    keep_dh: bool = False,
) -> dict[str, Array | None]:
    """Backpropagate through time for one direction of one layer.

    ``dout`` (T, B, H) is ∂L/∂out, ``dh_T``/``dc_T`` (B, H) are ∂L/∂h_T, ∂L/∂c_T;
    any of them may be None (zero). Nothing given is modified.

    Returns a dict with dx (T, B, I), dh0, dc0 (B, H), dW_ih, dW_hh, db_ih,
    db_hh and, with ``keep_dh``, dh (T, B, H): the total ∂L/∂h_t of every step
    (what ``h_t.retain_grad()`` shows in torch).
    """
    cell, xs, order, mask = cache.cell, cache.x, cache.order, cache.mask
    T, B, I = xs.shape
    H = cache.W_hh.shape[1]
    GH = cell.gates * H
    dtype = xs.dtype
    if dout is not None and order is not None:
        dout = _gather_time(dout, order)

    dP = np.empty((T, B, GH), dtype=dtype)
    dQ = dP if cell.shared_bias_grad else np.empty((T, B, GH), dtype=dtype)
    dh_steps = np.empty((T, B, H), dtype=dtype) if keep_dh else None
    dh = np.zeros((B, H), dtype=dtype) if dh_T is None else dh_T
    dc = None
    if cell.has_cell_state:
        dc = np.zeros((B, H), dtype=dtype) if dc_T is None else dc_T
    for t in range(T - 1, -1, -1):
        g = dh if dout is None else dh + dout[t]
        if keep_dh:
            dh_steps[t] = g
        if mask is None:
            dP[t], dQ_t, dh, dc = cell.step_backward(g, dc, cache.steps[t], cache.W_hh)
        else:
            m = mask[t]
            dc_new = None if dc is None else m * dc
            dP[t], dQ_t, dh_prev, dc_prev = cell.step_backward(m * g, dc_new, cache.steps[t], cache.W_hh)
            dh = dh_prev + (1 - m) * dh
            if dc is not None:
                dc = dc_prev + (1 - m) * dc
        if dQ is not dP:
            dQ[t] = dQ_t

    dP2 = dP.reshape(T * B, GH)
    dQ2 = dQ.reshape(T * B, GH)
    dx = np.dot(dP2, cache.W_ih).reshape(T, B, I)
    if order is not None:
        dx = _gather_time(dx, order)
        if keep_dh:
            dh_steps = _gather_time(dh_steps, order)
    grads = {
        "dx": dx,
        "dh0": dh,
        "dc0": dc,
        "dW_ih": np.dot(dP2.T, xs.reshape(T * B, I)),
        "dW_hh": weight_hh_grad(cell, dQ2, cache.h_prev.reshape(T * B, H), cache.steps),
        "db_ih": dP2.sum(axis=0) if cache.has_bias else None,
        "db_hh": dQ2.sum(axis=0) if cache.has_bias else None,
    }
    if keep_dh:
        grads["dh"] = dh_steps
    return grads
