"""Fast backends of the LSTM (equations and the readable step pair: :mod:`bptt.functional.lstm`).

* :class:`LSTMNumpy`: the gate rows of W_ih, W_hh and the bias are scaled once per
  forward by −1 (i, f, o) and −2 (g), exactly, so that one ``exp`` over all four
  blocks gives every gate: σ(a) = 1 / (1 + e^{−a}) and tanh(a) = 2σ(2a) − 1 (``exp``
  is 2–3× cheaper than ``tanh`` in NumPy). P[t] keeps the activated gates, ``S.TC``
  tanh(c_t). Backward first forms, for all steps at once, the factors that do not
  depend on the recursion — K = o ⊙ (1 − tanh²c) and F = [g⊙i(1−i), c_{t−1}⊙f(1−f),
  i⊙(1−g²), tanh c⊙o(1−o)] — so that a step is ``dc = dc_t + g_t ⊙ K_t``,
  ``dA_t = [dc, dc, dc, g_t] ⊙ F_t``, ``dc_{t−1} = dc ⊙ f``, ``dh_{t−1} = dA_t W_hh``.
* :class:`LSTMFused` (numba): the arithmetic between GEMM and ``exp`` runs fused in
  :mod:`.kernels` (same equations, no factors); a backward step is one kernel (which
  also sums dh and dout_t) and the GEMM. With ``whole_step`` (tiny layers) the exp
  goes inside the kernel too: one kernel per forward step.
* :class:`LSTMWhole` (numba): every unmasked step in one compiled call (step GEMM included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels, parallel
from .blas import gate_scale, transposed
from .cpu import tanh_float64_is_avx512
from .layer import Buffered, LayerState

Array = np.ndarray


@dataclass(eq=False, slots=True)
class LSTMState(LayerState):
    """The fast LSTM backends' state: the layer's buffers plus tanh(c_t) of every step, scratch and backward factors."""

    TC: Array | None = None  # tanh(c_t) of every step (T, B, H)
    q: Array | None = None  # (B, 4H): the step GEMM's output
    tmp: Array | None = None  # (B, H) scratch
    tanh_by_exp: bool = False  # float64 tanh(c) as 2 / (1 + e^{−2c}) − 1
    dc_buf: Array | None = None  # (2, B, H): dc of alternate steps
    K: Array | None = None  # backward factors (NumPy backend)
    F4: Array | None = None
    f: Array | None = None
    dct: Array | None = None
    zero: Array | None = None  # zeros: the kernel's second part of ∂L/∂h_t, when given whole
    kern: object = None  # the compiled kernels (fused backends)


class LSTMNumpy(Buffered):
    """LSTM, pure NumPy in place (one exp for all gates)."""

    State = LSTMState
    has_cell_state = True

    def prepare(self, S: LSTMState, cell) -> None:
        H, B, T, dt = S.H, S.B, S.T, S.dtype
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

    def step(self, t: int, S: LSTMState) -> None:
        H = S.H
        a, tmp = S.P[t], S.tmp
        np.dot(S.Hs[t], S.W_hh_T, out=S.q)
        np.add(a, S.q, out=a)  # −a_i, −a_f, −2a_g, −a_o
        np.exp(a, out=a)
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
        np.multiply(a[:, 3 * H:], tc, out=S.Hs[t + 1])

    def prepare_backward(self, S: LSTMState) -> None:
        T, B, H, dt = S.T, S.B, S.H, S.dtype
        S.dP = S.dQ = S.empty("dP", (T, B, 4 * H), dt)  # the factors, then dA in place
        S.dh_buf = np.empty((2, B, H), dtype=dt)
        S.dc_buf = np.empty((2, B, H), dtype=dt)
        S.K = S.empty("K", (T, B, H), dt)
        S.F4 = S.dP.reshape(T, B, 4, H)
        S.f = S.P[..., H:2 * H]
        S.dct = np.empty((B, H), dtype=dt)

    def factors(self, S: LSTMState, t0: int, t1: int) -> None:
        H = S.H
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

    def step_back(self, t: int, g: Array, dc: Array, S: LSTMState):
        k = t & 1
        dct = S.dct
        np.multiply(g, S.K[t], out=dct)
        np.add(dct, dc, out=dct)
        F4 = S.F4[t]
        np.multiply(dct[:, None, :], F4[:, :3], out=F4[:, :3])
        np.multiply(g, F4[:, 3], out=F4[:, 3])
        return np.dot(S.dP[t], S.W_hh, out=S.dh_buf[k]), np.multiply(dct, S.f[t], out=S.dc_buf[k])


class LSTMFused(LSTMNumpy):
    """LSTM with numba: fused gate kernels around NumPy's GEMM and exp."""

    name = "fused"
    own_backward_loop = True
    backward_in_place = True  # step t reads P[t]; its dP goes to row t+1 (layer.Buffered)

    def __init__(self, whole_step: bool = False) -> None:
        self.whole_step = whole_step  # tiny layers: exp inside the kernel, one kernel per forward step

    def prepare(self, S: LSTMState, cell) -> None:
        super().prepare(S, cell)
        S.kern = kernels.get(S.dtype)

    factors = Buffered.factors  # the fused backward step needs no factors

    def step(self, t: int, S: LSTMState) -> None:
        a, q, kern = S.P[t], S.q, S.kern
        np.dot(S.Hs[t], S.W_hh_T, out=q)
        if self.whole_step:
            kern.lstm_step(a, q, S.C[t], S.C[t + 1], S.TC[t], S.Hs[t + 1])
            return
        np.add(a, q, out=a)  # −a_i, −a_f, −2a_g, −a_o
        np.exp(a, out=a)
        tc = S.TC[t]
        kern.lstm_gates(a, S.C[t], S.C[t + 1], tc)
        np.exp(tc, out=tc)
        kern.lstm_out(a, tc, S.Hs[t + 1])

    def prepare_backward(self, S: LSTMState) -> None:
        T, B, H, dt = S.T, S.B, S.H, S.dtype
        S.dP = S.dQ = self.grad_buffer(S, "dP", S.P)  # with S.spend: in the gates' buffer
        S.dh_buf = np.empty((2, B, H), dtype=dt)
        S.dc_buf = np.empty((2, B, H), dtype=dt)
        S.zero = np.zeros((B, H), dtype=dt)

    def step_back(self, t: int, g: Array, dc: Array, S: LSTMState):
        k = t & 1
        S.kern.lstm_backward(g, S.zero, dc, S.P[t], S.C[t], S.TC[t], S.dP[t], S.dc_buf[k])
        return np.dot(S.dP[t], S.W_hh, out=S.dh_buf[k]), S.dc_buf[k]

    def backward_loop(self, S: LSTMState, dout, dh, dc):
        dh, dc = kernels.state_grad(dh, S), kernels.state_grad(dc, S)  # ∂L/∂(h_T, c_T) in, ∂L/∂(h0, c0) out
        zero, dc_prev = np.zeros((2, S.B, S.H), dtype=S.dtype)
        dout = kernels.outputs_grad(dout, S)
        kern, W_hh = S.kern.lstm_backward, S.W_hh
        for t in range(S.T - 1, -1, -1):
            kern(dh, kernels.step_rows(dout, t, zero), dc, S.P[t], S.C[t], S.TC[t], S.dP[t], dc_prev)
            np.dot(S.dP[t], W_hh, out=dh)
            dc, dc_prev = dc_prev, dc
        return dh, dc


class LSTMWhole(LSTMFused):
    """LSTM with numba: each unmasked loop is one compiled call (step GEMM included)."""

    name = "whole"
    compiled = True

    def __init__(self) -> None:
        super().__init__(whole_step=True)

    def forward_loop(self, S: LSTMState) -> None:
        kern, gemm = S.kern.lstm_forward_seq, kernels.step_gemm(S)
        parallel.over_rows(S.split, S.B, lambda b0, b1: kern(S.P, S.W_hh_T, S.Hs, S.C, S.TC, S.q, gemm, b0, b1))

    def backward_loop(self, S: LSTMState, dout, dh, dc):
        dh, dc = kernels.state_grad(dh, S), kernels.state_grad(dc, S)
        zero, dc_prev = np.zeros((2, S.B, S.H), dtype=S.dtype)
        dout = kernels.outputs_grad(dout, S)
        kern, gemm = S.kern.lstm_backward_seq, kernels.step_gemm(S)
        parallel.over_rows(S.split, S.B, lambda b0, b1: kern(dout, dh, dc, S.P, S.C, S.TC, S.dP, S.W_hh, zero,
                                                             dc_prev, gemm, b0, b1))
        return dh, dc
