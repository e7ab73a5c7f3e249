"""The Elman RNN step, as torch.nn.RNN computes it.

    a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh
    h_t = f(a_t),   f ∈ {tanh, relu, sigmoid}

Backward, with dh_t the total gradient reaching h_t:

    da_t      = dh_t ⊙ f'(a_t)            (f' written through h_t, see activations)
    dh_{t−1}  = da_t W_hh
    dW_ih    += da_tᵀ x_t,   dW_hh += da_tᵀ h_{t−1},   db_ih = db_hh += Σ_b da_t

``ElmanCell`` is the step as :mod:`bptt.functional.recurrent` runs it (the
input projection of all steps is done before the loop). ``rnn_step_forward`` /
``rnn_step_backward`` are the same step written out whole, cs231n-style, for
reading and for checking one step by hand.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .activations import Activation, get_activation, tanh_float64_is_avx512
from .recurrent import backward_steps, transposed

Array = np.ndarray


_KIND = {"tanh": 0, "relu": 1, "sigmoid": 2}  # the nonlinearity as kernels.rnn_forward_seq takes it


class ElmanCell:
    """h_t = f(P_t + h_{t−1} W_hhᵀ), with P_t = x_t W_ihᵀ + b_ih + b_hh precomputed.

    Shapes: P_t (B, H), h (B, H), W_hh (H, H). Cache: h_t.

    Buffered protocol (see :mod:`bptt.functional.recurrent`): step t is three
    NumPy calls, ``H[t+1] = f(H[t] W_hhᵀ + P[t])`` written in place; backward
    computes f'(a) = f'(h) for every step at once, then per step
    ``dA_t = g_t ⊙ f'_t`` and ``dh_{t−1} = dA_t W_hh``. In float64 from B·H = 256
    on, tanh runs as 2 / (1 + e^{−2a}) − 1 (W_ih, W_hh, bias scaled by −2). The sigmoid runs as
    σ(a) = ½·tanh(a/2) + ½ with W_ih, W_hh and the bias halved beforehand
    (exact: scaling by ½ is).
    """

    gates = 1
    has_cell_state = False
    shared_bias_grad = True
    buffered = True

    def __init__(self, nonlinearity: str = "tanh") -> None:
        self.nonlinearity = nonlinearity
        self.act: Activation = get_activation(nonlinearity)

    def split_bias(self, b_ih, b_hh):
        # Both biases enter a_t as a plain sum: add them once, outside the loop.
        return (None if b_ih is None else b_ih + b_hh), None

    def step_forward(self, p, h, c, W_hh, b_step):
        a = np.dot(h, W_hh.T)
        a += p
        h_new = self.act.fn(a)
        return h_new, None, h_new

    def step_backward(self, dh, dc, cache, W_hh):
        da = dh * self.act.grad_from_output(cache)
        return da, da, np.dot(da, W_hh), None

    # -- buffered protocol ---------------------------------------------------
    def prepare_forward(self, S):
        b = None if S.b_ih is None else S.b_ih + S.b_hh
        # tanh(a) = 2 / (1 + e^{−2a}) − 1: in float64, where NumPy's tanh has no AVX-512 loop, its
        # exp is 2–3× cheaper than its tanh (float32 tanh is SIMD and as fast), which pays for the
        # three extra calls from about 256 elements on. Scaling by −2 is exact.
        S.tanh_by_exp = S.uses_exp = (self.nonlinearity == "tanh" and S.dtype == np.float64
                                      and S.B * S.hidden >= 256 and not tanh_float64_is_avx512())
        if self.nonlinearity == "sigmoid":
            half = S.dtype.type(0.5)
            S.W_in = S.W_ih * half
            S.W_hh_T = transposed(S.W_hh, half)
            S.b_in = None if b is None else b * half
        elif S.tanh_by_exp:
            m2 = S.dtype.type(-2)
            S.W_in = S.W_ih * m2
            S.W_hh_T = transposed(S.W_hh, m2)
            S.b_in = None if b is None else b * m2
        else:
            S.W_hh_T = transposed(S.W_hh)
            S.b_in = b
        # With numba (bptt[fast]): the tiniest layers run all steps in one compiled call; at every
        # size the backward step is one kernel and the GEMM (backward_loop).
        S.kern = kernels.get()
        tiny = S.B * S.hidden <= kernels.WHOLE_STEP_ELEMENTS and not S.tanh_by_exp and self.nonlinearity in _KIND
        S.compiled_loop = S.kern is not None and tiny
        S.own_backward_loop = S.kern is not None

    def forward_loop(self, S):
        S.kern.rnn_forward_seq(S.P, S.W_hh_T, S.H, _KIND[self.nonlinearity])

    def backward_loop(self, S, dout, dh, dc):
        dh = kernels.state_grad(dh, S)  # ∂L/∂h_T in, ∂L/∂h0 out
        dout = kernels.outputs_grad(dout, S)
        if S.compiled_loop:
            S.kern.rnn_backward_seq(dout, dh, S.H, S.dP, S.W_hh, _KIND[self.nonlinearity])
            return dh, None
        kern, W_hh = S.kern.elman_backward, S.W_hh
        buf = np.zeros((3, S.B, S.hidden), dtype=S.dtype)  # zeros, then dh of alternate steps
        for t in backward_steps(S, self.backward_factors):
            kern(dh, kernels.step_rows(dout, t, buf[0]), S.dP[t])  # dA_t = (dh + dout_t) ⊙ f'_t
            dh = np.dot(S.dP[t], W_hh, out=buf[1 + (t & 1)])
        return dh, None

    def step_forward_into(self, t, S):
        h = S.H[t + 1]
        np.dot(S.H[t], S.W_hh_T, out=h)
        np.add(h, S.P[t], out=h)
        nl = self.nonlinearity
        if S.tanh_by_exp:
            np.exp(h, out=h)
            np.add(h, 1, out=h)
            np.divide(2, h, out=h)
            np.subtract(h, 1, out=h)
        elif nl == "tanh":
            np.tanh(h, out=h)
        elif nl == "relu":
            np.maximum(h, 0, out=h)
        elif nl == "sigmoid":
            np.tanh(h, out=h)
            h *= 0.5
            h += 0.5

    def prepare_backward(self, S):
        S.dP = S.dQ = S.empty("dP", S.H[1:].shape, S.H.dtype)  # f'(a_t) for every step, then dA_t in place
        S.dh_buf = np.empty((2,) + S.H.shape[1:], dtype=S.H.dtype)

    def backward_factors(self, S, t0, t1):
        Y, D = S.H[t0 + 1:t1 + 1], S.dP[t0:t1]
        nl = self.nonlinearity
        if nl == "tanh":
            np.multiply(Y, Y, out=D)
            np.subtract(1, D, out=D)
        elif nl == "sigmoid":
            np.subtract(1, Y, out=D)
            D *= Y
        elif nl == "relu":
            np.greater(Y, 0, out=D)
        else:
            D.fill(1)

    def step_backward_into(self, t, g, dc, S):
        d = S.dP[t]
        np.multiply(g, d, out=d)
        return np.dot(d, S.W_hh, out=S.dh_buf[t & 1]), None


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
        x: (B, I)   h_prev: (B, H)   W_ih: (H, I)   W_hh: (H, H)   b_ih, b_hh: (H,)
        h: (B, H)
    Cache: (x, h_prev, W_ih, W_hh, h, activation, has_bias).
    """
    act = get_activation(nonlinearity)
    a = x @ W_ih.T + h_prev @ W_hh.T
    if b_ih is not None:
        a = a + b_ih + b_hh
    h = act.fn(a)
    return h, (x, h_prev, W_ih, W_hh, h, act, b_ih is not None)


def rnn_step_backward(dh: Array, cache: tuple) -> tuple[Array, Array, Array, Array, Array | None, Array | None]:
    """Gradients of one step: (dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh).

    Shapes: dh (B, H) -> dx (B, I), dh_prev (B, H), dW_ih (H, I), dW_hh (H, H), db_* (H,)
    """
    x, h_prev, W_ih, W_hh, h, act, has_bias = cache
    da = dh * act.grad_from_output(h)
    db = da.sum(axis=0) if has_bias else None
    return da @ W_ih, da @ W_hh, da.T @ x, da.T @ h_prev, db, None if db is None else db.copy()
