"""The LSTM step, as torch.nn.LSTM computes it (gate order i, f, g, o).

    a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh          (4H: blocks i, f, g, o)
    i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
    c_t = f ⊙ c_{t−1} + i ⊙ g
    h_t = o ⊙ tanh(c_t)

Backward, with dh_t and dc_t the total gradients reaching h_t and c_t:

    dc   = dc_t + dh_t ⊙ o ⊙ (1 − tanh²(c_t))            (both paths into c_t)
    da_i = dc ⊙ g ⊙ i(1 − i)        da_f = dc ⊙ c_{t−1} ⊙ f(1 − f)
    da_g = dc ⊙ i ⊙ (1 − g²)        da_o = dh_t ⊙ tanh(c_t) ⊙ o(1 − o)
    dh_{t−1} = da W_hh,   dc_{t−1} = dc ⊙ f
    dW_ih += daᵀ x_t,   dW_hh += daᵀ h_{t−1},   db_ih = db_hh += Σ_b da

Both biases enter ``a_t`` as a plain sum, so their gradients are equal and the
layer adds them once, outside the time loop. ``LSTMCell`` is the step as
:mod:`bptt.functional.recurrent` runs it; ``lstm_step_forward`` /
``lstm_step_backward`` are one whole step (input projection included),
cs231n-style, built on that same cell.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid
from .cellstep import cell_step_backward, cell_step_forward

Array = np.ndarray


class LSTMCell:
    """c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t), with [i f g o] = act(P_t + h_{t−1} W_hhᵀ).

    ``P_t = x_t W_ihᵀ + b_ih + b_hh`` is precomputed by the layer.
    Shapes: P_t (B, 4H), h, c (B, H), W_hh (4H, H).
    Cache: (c_{t−1}, c_t, gates [i f g o] (B, 4H), tanh(c_t)).
    """

    gates = 4
    has_cell_state = True
    shared_bias_grad = True

    def split_bias(self, b_ih, b_hh):
        # a_t = … + b_ih + b_hh: fold both into the one input GEMM.
        return (None if b_ih is None else b_ih + b_hh), None

    def step_forward(self, p, h, c, W_hh, b_step):
        H = h.shape[1]
        a = np.dot(h, W_hh.T)
        a += p
        gates = sigmoid(a)  # i, f, o read from here; the g block is replaced by tanh
        gates[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])
        i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        c_new = f * c
        c_new += i * g
        tc = np.tanh(c_new)
        return o * tc, c_new, (c, c_new, gates, tc)

    def step_backward(self, dh, dc, cache, W_hh):
        c_prev, _, gates, tc = cache
        H = tc.shape[1]
        i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        dct = dh * o * (1 - tc * tc)
        if dc is not None:
            dct += dc
        da = np.empty_like(gates)
        da[:, :H] = dct * g * i * (1 - i)
        da[:, H:2 * H] = dct * c_prev * f * (1 - f)
        da[:, 2 * H:3 * H] = dct * i * (1 - g * g)
        da[:, 3 * H:] = dh * tc * o * (1 - o)
        return da, da, np.dot(da, W_hh), dct * f


_CELL = LSTMCell()


def lstm_step_forward(
    x: Array,
    h_prev: Array,
    c_prev: Array,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None = None,
    b_hh: Array | None = None,
) -> tuple[tuple[Array, Array], tuple]:
    """(h, c) = one LSTM step (equations in the module docstring), and its cache.

    Shapes:
        x: (B, I)   h_prev, c_prev: (B, H)   W_ih: (4H, I)   W_hh: (4H, H)   b_ih, b_hh: (4H,) or None
        h, c: (B, H)
    """
    h, c, cache = cell_step_forward(_CELL, x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    return (h, c), cache


def lstm_step_backward(dh: Array | None, dc: Array | None, cache: tuple) -> tuple:
    """Gradients of one step: (dx, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh).

    ``dh``/``dc`` are ∂L/∂h and ∂L/∂c of this step's outputs (None = zeros).
    Shapes: dh, dc (B, H) -> dx (B, I), dh_prev, dc_prev (B, H), dW_ih (4H, I),
    dW_hh (4H, H), db_ih, db_hh (4H,) or None
    """
    return cell_step_backward(dh, dc, cache)
