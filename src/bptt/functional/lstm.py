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

Both biases enter ``a_t`` as a plain sum, so their gradients are equal.
``lstm_step_forward`` / ``lstm_step_backward`` are the readable step pair,
cs231n-style: the reference backend of every LSTM layer runs them, one step at
a time (:mod:`bptt.functional.recurrent`); the fast backends of
:mod:`bptt.functional.fast.lstm` compute the same numbers and are tested
against them.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_step, check_step_grad
from .activations import sigmoid

Array = np.ndarray


def lstm_step_forward(
    x: Array,
    h_prev: Array,
    c_prev: Array,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None = None,
    b_hh: Array | None = None,
    W_hr: Array | None = None,
) -> tuple[tuple[Array, Array], tuple]:
    """(h, c) = one LSTM step, and its cache.

        a = x W_ihᵀ + b_ih + h_prev W_hhᵀ + b_hh         blocks i, f, g, o
        i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
        c = f ⊙ c_prev + i ⊙ g,    h = o ⊙ tanh(c)      (torch's proj_size: h = (o ⊙ tanh c) W_hrᵀ)

    Shapes:
        x: (B, I)   h_prev: (B, P)   c_prev: (B, H)   W_ih: (4H, I)   W_hh: (4H, P)   b_ih, b_hh: (4H,) or None
        W_hr: (P, H) or None (then P = H)        h: (B, P)   c: (B, H)      (unbatched: no B)
    """
    x, h_prev, c_prev, unbatched = check_step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, 4, True, W_hr)
    H = c_prev.shape[-1]
    a = x @ W_ih.T + h_prev @ W_hh.T
    if b_ih is not None:
        a = a + b_ih + b_hh
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = m = o * tc
    if W_hr is not None:
        h = m @ W_hr.T
    cache = (x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, tc, b_ih is not None, unbatched, W_hr, m)
    return ((h[0], c[0]) if unbatched else (h, c)), cache


def lstm_step_backward(dh: Array | None, dc: Array | None, cache: tuple) -> tuple:
    """Gradients of one step: (dx, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh), and dW_hr with W_hr.

        (with W_hr: dW_hr = dhᵀ (o ⊙ tanh c), then dh ← dh W_hr below)
        dc_t = dc + dh ⊙ o ⊙ (1 − tanh²c)               (both paths into c)
        da   = [dc_t⊙g⊙i(1−i), dc_t⊙c_prev⊙f(1−f), dc_t⊙i⊙(1−g²), dh⊙tanh c⊙o(1−o)]
        dx = da W_ih,  dh_prev = da W_hh,  dc_prev = dc_t ⊙ f
        dW_ih = daᵀ x,  dW_hh = daᵀ h_prev,  db_ih = db_hh = Σ_b da

    ``dh``/``dc`` are ∂L/∂h and ∂L/∂c of this step's outputs (None = zeros).
    Shapes: dh (B, P), dc (B, H) -> dx (B, I), dh_prev (B, P), dc_prev (B, H), dW_ih (4H, I),
    dW_hh (4H, P), db_ih, db_hh (4H,) or None, dW_hr (P, H)
    """
    x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, tc, has_bias, unbatched, W_hr, m = cache
    dh = np.zeros_like(h_prev) if dh is None else check_step_grad("dh", dh, h_prev, unbatched)
    dW_hr = None if W_hr is None else dh.T @ m
    if W_hr is not None:
        dh = dh @ W_hr
    dc_t = dh * o * (1 - tc * tc)
    if dc is not None:
        dc_t = dc_t + check_step_grad("dc", dc, tc, unbatched)
    da = np.concatenate(
        [dc_t * g * i * (1 - i), dc_t * c_prev * f * (1 - f), dc_t * i * (1 - g * g), dh * tc * o * (1 - o)],
        axis=1,
    )
    db = da.sum(axis=0) if has_bias else None
    dx, dh_prev, dc_prev = da @ W_ih, da @ W_hh, dc_t * f
    if unbatched:
        dx, dh_prev, dc_prev = dx[0], dh_prev[0], dc_prev[0]
    grads = (dx, dh_prev, dc_prev, da.T @ x, da.T @ h_prev, db, None if db is None else db.copy())
    return grads if W_hr is None else grads + (dW_hr,)
