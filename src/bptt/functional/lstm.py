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

from . import kernels
from .activations import sigmoid, tanh_float64_is_avx512
from .cellstep import cell_step_backward, cell_step_forward
from .recurrent import gate_scale, transposed

Array = np.ndarray


class LSTMCell:
    """c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t), with [i f g o] = act(P_t + h_{t−1} W_hhᵀ).

    ``P_t = x_t W_ihᵀ + b_ih + b_hh`` is precomputed by the layer.
    Shapes: P_t (B, 4H), h, c (B, H), W_hh (4H, H).
    Cache: (c_{t−1}, c_t, gates [i f g o] (B, 4H), tanh(c_t)).

    Buffered protocol (see :mod:`bptt.functional.recurrent`): the gate rows of
    W_ih, W_hh and the bias are scaled once per forward by −1 (i, f, o) and −2
    (g), exactly, so that one ``exp`` over all four blocks gives every gate:
    σ(a) = 1 / (1 + e^{−a}) and tanh(a) = 2σ(2a) − 1 (``exp`` is 2–3× cheaper
    than ``tanh`` in NumPy). P[t] keeps the activated gates, ``S.TC`` tanh(c_t).
    Backward first forms, for all steps at once, the factors that do not depend
    on the recursion — K = o ⊙ (1 − tanh²c) and F = [g⊙i(1−i), c_{t−1}⊙f(1−f),
    i⊙(1−g²), tanh c⊙o(1−o)] — so that a step is
    ``dc = dc_t + g_t ⊙ K_t``, ``dA_t = [dc, dc, dc, g_t] ⊙ F_t``,
    ``dc_{t−1} = dc ⊙ f``, ``dh_{t−1} = dA_t W_hh``.
    With numba installed (``bptt[fast]``) the arithmetic between GEMM and ``exp``
    runs fused in :mod:`bptt.functional.kernels` (same equations, no factors);
    this NumPy path is the reference.
    """

    gates = 4
    has_cell_state = True
    shared_bias_grad = True
    buffered = True

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

    # -- buffered protocol ---------------------------------------------------
    def prepare_forward(self, S):
        H, B, T, dt = S.hidden, S.B, S.T, S.dtype
        scale = gate_scale((-1, -1, -2, -1), H, dt)
        S.W_in = S.W_ih * scale
        S.W_hh_T = transposed(S.W_hh, scale)
        S.b_in = None if S.b_ih is None else (S.b_ih + S.b_hh) * scale[:, 0]
        S.q = np.empty((B, 4 * H), dtype=dt)
        S.tmp = np.empty((B, H), dtype=dt)
        S.TC = S.empty("TC", (T, B, H), dt)
        # tanh(c) through exp pays for its four extra calls from about 256 elements on, in float64
        # without NumPy's AVX-512 tanh (NumPy's float32 tanh is SIMD and about as fast as its exp).
        S.tanh_by_exp = dt == np.float64 and B * H >= 256 and not tanh_float64_is_avx512()
        S.kern = kernels.get()  # fused elementwise gate kernels (optional numba, bptt[fast])
        S.whole_step = S.compiled_loop = S.kern is not None and B * H <= kernels.WHOLE_STEP_ELEMENTS
        S.own_backward_loop = S.kern is not None  # backward_loop: the fused kernel sums dh and dout

    def forward_loop(self, S):
        S.kern.lstm_forward_seq(S.P, S.W_hh_T, S.H, S.C, S.TC, S.q)

    def step_forward_into(self, t, S):
        H = S.hidden
        a, q, tmp = S.P[t], S.q, S.tmp
        np.dot(S.H[t], S.W_hh_T, out=q)
        if S.whole_step:
            S.kern.lstm_step(a, q, S.C[t], S.C[t + 1], S.TC[t], S.H[t + 1])
            return
        np.add(a, q, out=a)  # −a_i, −a_f, −2a_g, −a_o
        np.exp(a, out=a)
        if S.kern is not None:  # the same equations, fused (bptt.functional.kernels)
            tc = S.TC[t]
            S.kern.lstm_gates(a, S.C[t], S.C[t + 1], tc)
            np.exp(tc, out=tc)
            S.kern.lstm_out(a, tc, S.H[t + 1])
            return
        np.add(a, 1, out=a)
        np.divide(1, a, out=a)  # σ(a_i), σ(a_f), σ(2a_g), σ(a_o)
        g = a[:, 2 * H:3 * H]
        np.multiply(g, 2, out=g)
        np.subtract(g, 1, out=g)  # tanh(a_g) = 2σ(2a_g) − 1
        c = S.C[t + 1]
        np.multiply(a[:, H:2 * H], S.C[t], out=c)
        np.multiply(a[:, :H], g, out=tmp)
        np.add(c, tmp, out=c)
        tc = S.TC[t]
        if S.tanh_by_exp:
            np.multiply(c, -2, out=tc)
            np.exp(tc, out=tc)
            np.add(tc, 1, out=tc)
            np.divide(2, tc, out=tc)
            np.subtract(tc, 1, out=tc)
        else:
            np.tanh(c, out=tc)
        np.multiply(a[:, 3 * H:], tc, out=S.H[t + 1])

    def prepare_backward(self, S):
        T, B, H, dt = S.T, S.B, S.hidden, S.dtype
        S.dP = S.dQ = S.empty("dP", (T, B, 4 * H), dt)  # the factors, then dA in place
        S.dh_buf = np.empty((2, B, H), dtype=dt)
        S.dc_buf = np.empty((2, B, H), dtype=dt)
        if S.kern is not None:  # the fused backward needs no factors
            S.zero = np.zeros((B, H), dtype=dt)  # its second part of ∂L/∂h_t, when given whole
            return
        S.K = S.empty("K", (T, B, H), dt)
        S.F4 = S.dP.reshape(T, B, 4, H)
        S.f = S.P[..., H:2 * H]
        S.dct = np.empty((B, H), dtype=dt)

    def backward_loop(self, S, dout, dh, dc):
        dh, dc = kernels.state_grad(dh, S), kernels.state_grad(dc, S)  # ∂L/∂(h_T, c_T) in, ∂L/∂(h0, c0) out
        zero, dc_prev = np.zeros((2, S.B, S.hidden), dtype=S.dtype)
        dout = kernels.outputs_grad(dout, S)
        if S.compiled_loop:
            S.kern.lstm_backward_seq(dout, dh, dc, S.P, S.C, S.TC, S.dP, S.W_hh, zero, dc_prev)
            return dh, dc
        kern, W_hh = S.kern.lstm_backward, S.W_hh
        for t in range(S.T - 1, -1, -1):
            kern(dh, kernels.step_rows(dout, t, zero), dc, S.P[t], S.C[t], S.TC[t], S.dP[t], dc_prev)
            np.dot(S.dP[t], W_hh, out=dh)
            dc, dc_prev = dc_prev, dc
        return dh, dc

    def backward_factors(self, S, t0, t1):
        if S.kern is not None:
            return
        H = S.hidden
        G, TC, F, K = S.P[t0:t1], S.TC[t0:t1], S.dP[t0:t1], S.K[t0:t1]
        i, g, o = G[..., :H], G[..., 2 * H:3 * H], G[..., 3 * H:]
        Fi, Ff, Fg, Fo = F[..., :H], F[..., H:2 * H], F[..., 2 * H:3 * H], F[..., 3 * H:]
        np.subtract(1, G, out=F)
        np.multiply(F, G, out=F)  # x(1 − x) in every block (the g block is redone)
        np.multiply(g, g, out=Fg)
        np.subtract(1, Fg, out=Fg)
        Fi *= g
        Ff *= S.C[t0:t1]  # c_{t−1}
        Fg *= i
        Fo *= TC
        np.multiply(TC, TC, out=K)
        np.subtract(1, K, out=K)
        K *= o

    def step_backward_into(self, t, g, dc, S):
        k = t & 1
        if S.kern is not None:
            S.kern.lstm_backward(g, S.zero, dc, S.P[t], S.C[t], S.TC[t], S.dP[t], S.dc_buf[k])
            return np.dot(S.dP[t], S.W_hh, out=S.dh_buf[k]), S.dc_buf[k]
        dct = S.dct
        np.multiply(g, S.K[t], out=dct)
        np.add(dct, dc, out=dct)
        F4 = S.F4[t]
        np.multiply(dct[:, None, :], F4[:, :3], out=F4[:, :3])
        np.multiply(g, F4[:, 3], out=F4[:, 3])
        return np.dot(S.dP[t], S.W_hh, out=S.dh_buf[k]), np.multiply(dct, S.f[t], out=S.dc_buf[k])


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
