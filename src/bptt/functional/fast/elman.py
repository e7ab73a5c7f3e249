"""Fast backends of the Elman RNN: h_t = f(P_t + h_{t−1} W_hhᵀ), P_t = x_t W_ihᵀ + b_ih + b_hh.

The equations and the readable step pair are in :mod:`bptt.functional.rnn`.

* :class:`ElmanNumpy`: step t is three NumPy calls, ``H[t+1] = f(H[t] W_hhᵀ + P[t])``
  written in place, P[t] itself stored in H[t+1] (backward reads only H: P needs no
  buffer of its own, and forward keeps one (T, B, H) array, the equations' minimum); backward forms f'(a) = f'(h) for every step at once, then per
  step ``dA_t = g_t ⊙ f'_t`` and ``dh_{t−1} = dA_t W_hh``. In float64 from
  B·H = 256 on, where NumPy's tanh has no AVX-512 loop, tanh runs as
  2 / (1 + e^{−2a}) − 1 (W_ih, W_hh, bias scaled by −2, exactly): its exp is 2–3×
  cheaper than its tanh, which pays for the three extra calls. The sigmoid runs
  as σ(a) = ½·tanh(a/2) + ½ with the weights halved beforehand (exact).
* :class:`ElmanFused` (numba): the same forward; a backward step is one kernel,
  ``dA_t = (dh + dout_t) ⊙ f'_t``, and the GEMM.
* :class:`ElmanWhole` (numba): every step of the forward and of the backward in one
  compiled call, step GEMM (BLAS's, from compiled code) and activations included.

Backward in chunks of steps (every backend, unmasked layers without ``keep_dh``): dA_t is
needed by the parameter GEMMs only together with x_t and h_{t−1}, so the recursion runs over
chunks of about :data:`BACKWARD_CHUNK_ROWS` rows (k steps · B), latest first, each chunk's dA
in one (k, B, H) buffer, and after each chunk dx[t0:t1] = dA W_ih, dW_ih += dAᵀ x,
dW_hh += dAᵀ H_prev, db += Σ dA. The backward then holds k steps of dA instead of T: the
forward keeps h_t only (the equations' minimum), and backward adds little beyond dx.
(The same sums in another order: equal to rounding. Measured: issue 17's memory column.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import blas, kernels, parallel
from .blas import transposed
from .cpu import tanh_float64_is_avx512
from .layer import Buffered, LayerState

Array = np.ndarray

_KIND = {"tanh": 0, "relu": 1, "sigmoid": 2}  # the nonlinearity as kernels.rnn_forward_seq takes it
# Rows (steps · B) of one backward chunk: enough for the parameter GEMMs to run near full speed, few
# enough that dA of a chunk is small (and OpenBLAS packs less: a (T·B)-row dx GEMM in one call
# touched 12–16 MiB of its buffer at the long and large sizes, in 1024-row pieces about 1).
BACKWARD_CHUNK_ROWS = 1024


@dataclass(eq=False, slots=True)
class ElmanState(LayerState):
    """The fast Elman backends' state: the layer's buffers plus the nonlinearity and the tanh route."""

    nonlinearity: str = "tanh"
    tanh_by_exp: bool = False  # float64 tanh as 2 / (1 + e^{−2a}) − 1
    kern: object = None  # the compiled kernels (fused backends)
    q: Array | None = None  # (B, H): the step GEMM's output, when P[t] sits in H[t+1]


class ElmanNumpy(Buffered):
    """Elman RNN, pure NumPy in place."""

    State = ElmanState
    late_input_grad = False  # the chunked backward forms dx chunk by chunk, keeping no dP of every step
    exp_tanh = True  # may take the float64 tanh-by-exp route (the compiled loop computes tanh itself)
    def projection_buffer(self, S: ElmanState, shape) -> Array:
        S.q = np.empty((S.B, S.H), dtype=S.dtype)
        return S.Hs[1:]  # step t reads P[t] from H[t+1] before it writes h_t there

    def prepare(self, S: ElmanState, cell) -> None:
        S.nonlinearity = nl = cell.nonlinearity
        b = None if S.b_ih is None else S.b_ih + S.b_hh
        S.tanh_by_exp = (self.exp_tanh and nl == "tanh" and S.dtype == np.float64 and S.B * S.H >= 256
                         and not tanh_float64_is_avx512())
        if nl == "sigmoid":
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

    def uses_exp(self, S: ElmanState) -> bool:
        return S.tanh_by_exp  # only the float64 tanh-by-exp route calls exp

    def step(self, t: int, S: ElmanState) -> None:
        h = S.Hs[t + 1]
        if S.q is not None:  # h holds P[t]
            np.dot(S.Hs[t], S.W_hh_T, out=S.q)
            np.add(h, S.q, out=h)
        else:
            np.dot(S.Hs[t], S.W_hh_T, out=h)
            np.add(h, S.P[t], out=h)
        nl = S.nonlinearity
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

    def backward(self, S: ElmanState, dout, dh_T, dc_T, keep_dh: bool, input_grad: bool) -> dict:
        """As :meth:`Buffered.backward`, in chunks of steps when unmasked (the module docstring)."""
        k = max(1, -(-BACKWARD_CHUNK_ROWS // max(S.B, 1)))
        if S.mask is not None or keep_dh or k >= S.T:
            return super().backward(S, dout, dh_T, dc_T, keep_dh, input_grad)
        T, B, H, I, dt = S.T, S.B, S.H, S.x.shape[2], S.dtype
        buf = S.empty("dA", (k, B, H), dt)  # f'(a_t) of a chunk's steps, then dA_t in place
        dh = np.zeros((B, H), dtype=dt) if dh_T is None else np.array(dh_T, dtype=dt, order="C")
        dx = np.empty((T, B, I), dtype=dt) if input_grad else None
        sums: list = [None, None, None]  # dW_ih, dW_hh, db
        for t1 in range(T, 0, -k):
            t0 = max(0, t1 - k)
            n = t1 - t0
            C = replace(S, T=n, Hs=S.Hs[t0:t1 + 1], dP=buf[:n], dQ=buf[:n], dh_buf=np.empty((2, B, H), dtype=dt))
            d = None if dout is None else dout[t0:t1]
            if self.own_backward_loop:
                with blas.threads_for_loop(B, H, H, dt):
                    dh, _ = self.backward_loop(C, d, dh, None)
            else:
                dh, _, _ = self._backward_step_loop(C, d, dh, None, False)
            dh = dh.copy()  # the next chunk's steps write into C's buffers
            A = buf[:n].reshape(n * B, H)
            if dx is not None:
                np.dot(A, S.W_ih, out=dx[t0:t1].reshape(n * B, I))
            parts = (lambda: np.dot(A.T, S.x[t0:t1].reshape(n * B, I)),
                     lambda: np.dot(A.T, S.Hs[t0:t1].reshape(n * B, H)),
                     None if S.b_ih is None else lambda: blas.sum_rows(A))
            for i, part in enumerate(parts):  # one part alive at a time
                if part is not None:
                    sums[i] = part() if sums[i] is None else np.add(sums[i], part(), out=sums[i])
        db = sums[2]
        return {"dx": dx, "dh0": dh, "dc0": None, "dW_ih": sums[0], "dW_hh": sums[1], "db_ih": db,
                "db_hh": None if db is None else db.copy()}

    def prepare_backward(self, S: ElmanState) -> None:
        S.dP = S.dQ = S.empty("dP", S.Hs[1:].shape, S.dtype)  # f'(a_t) for every step, then dA_t in place
        S.dh_buf = np.empty((2,) + S.Hs.shape[1:], dtype=S.dtype)

    def factors(self, S: ElmanState, t0: int, t1: int) -> None:
        Y, D = S.Hs[t0 + 1:t1 + 1], S.dP[t0:t1]
        nl = S.nonlinearity
        if nl == "tanh":
            np.multiply(Y, Y, out=D)
            np.subtract(1, D, out=D)
        elif nl == "sigmoid":
            np.subtract(1, Y, out=D)
            D *= Y
        else:  # relu
            np.greater(Y, 0, out=D)

    def step_back(self, t: int, g: Array, dc, S: ElmanState):
        d = S.dP[t]
        np.multiply(g, d, out=d)
        return np.dot(d, S.W_hh, out=S.dh_buf[t & 1]), None


class ElmanFused(ElmanNumpy):
    """Elman RNN with numba: NumPy forward, one kernel and the GEMM per backward step."""

    name = "fused"
    own_backward_loop = True

    def prepare(self, S: ElmanState, cell) -> None:
        super().prepare(S, cell)
        S.kern = kernels.get(S.dtype)

    def backward_loop(self, S: ElmanState, dout, dh, dc):
        kern = S.kern
        dh = kernels.state_grad(dh, S)  # ∂L/∂h_T in, ∂L/∂h0 out
        dout = kernels.outputs_grad(dout, S)
        W_hh = S.W_hh
        buf = np.zeros((3, S.B, S.H), dtype=S.dtype)  # zeros, then dh of alternate steps
        for t in self.backward_steps(S):
            kern.elman_backward(dh, kernels.step_rows(dout, t, buf[0]), S.dP[t])  # dA_t = (dh + dout_t) ⊙ f'_t
            dh = np.dot(S.dP[t], W_hh, out=buf[1 + (t & 1)])
        return dh, None


class ElmanWhole(ElmanFused):
    """Elman RNN with numba: each unmasked loop is one compiled call (step GEMM included)."""

    name = "whole"
    compiled = True
    exp_tanh = False

    def forward_loop(self, S: ElmanState) -> None:
        # S.P is H[1:] (projection_buffer): the forward keeps H only, the equations' minimum.
        kern, kind, gemm = S.kern.rnn_forward_seq, _KIND[S.nonlinearity], kernels.step_gemm(S)
        parallel.over_rows(S.split, S.B, lambda b0, b1: kern(S.W_hh_T, S.Hs, S.q, kind, gemm, b0, b1))

    def backward_loop(self, S: ElmanState, dout, dh, dc):
        dh = kernels.state_grad(dh, S)
        dout = kernels.outputs_grad(dout, S)
        kern, kind, gemm = S.kern.rnn_backward_seq, _KIND[S.nonlinearity], kernels.step_gemm(S)
        parallel.over_rows(S.split, S.B, lambda b0, b1: kern(dout, dh, S.Hs, S.dP, S.W_hh, kind, gemm, b0, b1))
        return dh, None
