"""The Elman RNN step, as torch.nn.RNN computes it.

    a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh
    h_t = f(a_t),   f ∈ {tanh, relu, sigmoid}

Backward, with dh_t the total gradient reaching h_t:

    da_t      = dh_t ⊙ f'(a_t)            (f' written through h_t, see activations)
    dh_{t−1}  = da_t W_hh
    dW_ih    += da_tᵀ x_t,   dW_hh += da_tᵀ h_{t−1},   db_ih = db_hh += Σ_b da_t

``rnn_step_forward`` / ``rnn_step_backward`` are the readable step pair,
cs231n-style: the reference backend of every Elman layer runs them, one step at
a time (:mod:`bptt.functional.recurrent`); the fast backends of
:mod:`bptt.functional.fast.elman` compute the same numbers and are tested
against them.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_step, check_step_grad
from .activations import get_activation

Array = np.ndarray


def rnn_step_forward(
    x: Array,
    h_prev: Array,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None = None,
    b_hh: Array | None = None,
    nonlinearity: str = "tanh",
) -> tuple[Array, tuple]:
    """h = f(x W_ihᵀ + b_ih + h_prev W_hhᵀ + b_hh)  — one step, written out.

    Shapes:
        x: (B, I)   h_prev: (B, H)   W_ih: (H, I)   W_hh: (H, H)   b_ih, b_hh: (H,) or None
        h: (B, H)                     (unbatched: x (I,), h_prev (H,) -> h (H,), as torch.nn.RNNCell)
    Cache: (x, h_prev, W_ih, W_hh, h, activation, has_bias, unbatched).
    """
    act = get_activation(nonlinearity)
    x, h_prev, _, unbatched = check_step(x, h_prev, None, W_ih, W_hh, b_ih, b_hh, gates=1)
    a = x @ W_ih.T + h_prev @ W_hh.T
    if b_ih is not None:
        a = a + b_ih + b_hh
    h = act.fn(a)
    return (h[0] if unbatched else h), (x, h_prev, W_ih, W_hh, h, act, b_ih is not None, unbatched)


def rnn_step_backward(dh: Array, cache: tuple) -> tuple[Array, Array, Array, Array, Array | None, Array | None]:
    """Gradients of one step: (dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh).

        da = dh ⊙ f'(a)   (written through h: 1 − h² for tanh, h(1 − h) for σ, [h > 0] for ReLU)
        dx = da W_ih,  dh_prev = da W_hh,  dW_ih = daᵀ x,  dW_hh = daᵀ h_prev,  db_ih = db_hh = Σ_b da

    Shapes: dh (B, H) -> dx (B, I), dh_prev (B, H), dW_ih (H, I), dW_hh (H, H), db_* (H,)
    """
    x, h_prev, W_ih, W_hh, h, act, has_bias, unbatched = cache
    da = check_step_grad("dh", dh, h, unbatched) * act.grad_from_output(h)
    db = da.sum(axis=0) if has_bias else None
    dx, dh_prev = da @ W_ih, da @ W_hh
    if unbatched:
        dx, dh_prev = dx[0], dh_prev[0]
    return dx, dh_prev, da.T @ x, da.T @ h_prev, db, None if db is None else db.copy()
