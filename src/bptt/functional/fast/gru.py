"""Fast backends of torch's GRU (``reset_after=True``; equations and the readable step pair:
:mod:`bptt.functional.gru`). The textbook form (``reset_after=False``) runs on the reference backend.

* :class:`GRUNumpy`: the r, z rows of W_ih, W_hh and their biases are scaled by −1 and
  the n rows (b_hn included) by −2, exactly, so that σ(a) = 1 / (1 + e^{−a}) and
  tanh(u) = 2 / (1 + e^{−2u}) − 1 are each one ``exp``. P[t] keeps [r, z, n] and
  ``S.Qn[t]`` the n block of the recurrent projection, −2·q_n: of Q = h W_hhᵀ + b_hh
  backward reads nothing else (the equations' minimum: h, r, z, n, q_n). Backward forms
  for all steps at once F = [da_r, da_z, da_n] / dh and FQ = r ⊙ da_n / dh, so a step is
  ``dP_t = g_t ⊙ F_t``, ``dQn_t = g_t ⊙ FQ_t``, ``dh_{t−1} = dQ_t W_hh + g_t ⊙ z`` with
  dQ_t = [dP_t's r, z blocks, dQn_t] formed in a (B, 3H) scratch.

dQ = ∂L/∂Q differs from dP only in its n block (r ⊙ da_n), so ``S.dQ`` holds only that
block (T, B, H) and dW_hh is two GEMMs by gate rows: its r, z rows from dP's r, z
columns, its n rows from dQn (:meth:`GRUNumpy.hh_grads`); db_hh likewise.
* :class:`GRUFused` (numba): the arithmetic between GEMM and ``exp`` fused in
  :mod:`.kernels`; a backward step is one kernel (summing the recurrent part, the direct
  part g ⊙ z and dout_t) and the GEMM. ``whole_step``: the exp inside the kernel too.
* :class:`GRUWhole` (numba): every unmasked step in one compiled call (step GEMM included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import blas, kernels, parallel
from .blas import gate_scale, transposed
from .layer import Buffered, LayerState

Array = np.ndarray


@dataclass(eq=False, slots=True)
class GRUState(LayerState):
    """The fast GRU backends' state: the layer's buffers plus the recurrent projection Q of every step, scratch and
    backward factors.
    """

    Qn: Array | None = None  # −2·q_n of every step (T, B, H), q_n = W_hn h + b_hn
    q: Array | None = None  # (B, 3H): the step GEMM's output, forward; dQ_t, backward
    tmp: Array | None = None  # (B, H) scratch
    b_hn: Array | None = None  # −2·b_hn, or None without bias
    b_hn_k: Array | None = None  # −2·b_hn, or zeros (the kernels' form)
    F3: Array | None = None  # backward factors (NumPy backend)
    z: Array | None = None
    zero: Array | None = None
    kern: object = None  # the compiled kernels (fused backends)


class GRUNumpy(Buffered):
    """torch's GRU, pure NumPy in place (one exp per gate group)."""

    State = GRUState

    def prepare(self, S: GRUState, cell) -> None:
        T, B, H, dt = S.T, S.B, S.H, S.dtype
        scale = gate_scale((-1, -1, -2), H, dt)
        S.W_in = S.W_ih * scale
        S.W_hh_T = transposed(S.W_hh, scale)
        if S.b_ih is not None:
            b_all = S.b_ih.copy()
            b_all[:2 * H] += S.b_hh[:2 * H]  # b_hn stays in the step: r multiplies it
            S.b_in = b_all * scale[:, 0]
            S.b_hn = S.b_hh[2 * H:] * scale[2 * H:, 0]
        S.Qn = self.forward_buffer(S, "Qn", (T, B, H))
        S.q = np.empty((B, 3 * H), dtype=dt)
        S.tmp = np.empty((B, H), dtype=dt)

    def step(self, t: int, S: GRUState) -> None:
        H = S.H
        a, q, qn, tmp = S.P[t], S.q, S.Qn[t], S.tmp
        np.dot(S.Hs[t], S.W_hh_T, out=q)
        rz, n = a[:, :2 * H], a[:, 2 * H:]
        np.add(rz, q[:, :2 * H], out=rz)  # −a_r, −a_z
        np.exp(rz, out=rz)
        np.add(rz, 1, out=rz)
        np.divide(1, rz, out=rz)  # r, z
        if S.b_hn is not None:
            np.add(q[:, 2 * H:], S.b_hn, out=qn)  # −2 q_n = −2 (W_hn h + b_hn)
        else:
            np.copyto(qn, q[:, 2 * H:])
        np.multiply(rz[:, :H], qn, out=tmp)
        np.add(n, tmp, out=n)  # −2 (P_n + r ⊙ q_n)
        np.exp(n, out=n)
        np.add(n, 1, out=n)
        np.divide(2, n, out=n)
        np.subtract(n, 1, out=n)  # n = tanh(P_n + r ⊙ q_n)
        h = S.Hs[t + 1]
        np.subtract(S.Hs[t], n, out=h)
        np.multiply(h, rz[:, H:], out=h)
        np.add(h, n, out=h)  # h' = n + z ⊙ (h − n)

    def prepare_backward(self, S: GRUState) -> None:
        T, B, H, dt = S.T, S.B, S.H, S.dtype
        S.dP = S.empty("dP", (T, B, 3 * H), dt)  # factors, then dP in place
        S.dQ = S.empty("dQn", (T, B, H), dt)  # dQ's n block: its factor, then r ⊙ da_n in place
        S.F3 = S.dP.reshape(T, B, 3, H)
        S.z = S.P[..., H:2 * H]
        S.dh_buf = np.empty((2, B, H), dtype=dt)

    def factors(self, S: GRUState, t0: int, t1: int) -> None:
        H = S.H
        A, F, FQn = S.P[t0:t1], S.dP[t0:t1], S.dQ[t0:t1]
        r, z, n = A[..., :H], A[..., H:2 * H], A[..., 2 * H:]
        Fr, Fz, Fn = F[..., :H], F[..., H:2 * H], F[..., 2 * H:]
        np.multiply(n, n, out=Fn)
        np.subtract(1, Fn, out=Fn)
        np.subtract(1, z, out=Fz)
        Fn *= Fz  # (1 − z)(1 − n²)
        np.multiply(Fz, z, out=Fz)
        np.subtract(S.Hs[t0:t1], n, out=FQn)
        Fz *= FQn  # (h − n) z(1 − z)
        np.subtract(1, r, out=Fr)
        Fr *= r
        Fr *= S.Qn[t0:t1]
        Fr *= S.dtype.type(-0.5)  # S.Qn holds −2 q_n
        Fr *= Fn  # q_n r(1 − r)(1 − z)(1 − n²)
        np.multiply(r, Fn, out=FQn)

    def step_back(self, t: int, g: Array, dc, S: GRUState):
        H, F3, dqn, dq = S.H, S.F3[t], S.dQ[t], S.q
        np.multiply(g[:, None, :], F3, out=F3)  # dP_t
        np.multiply(g, dqn, out=dqn)  # dQ_t's n block, r ⊙ da_n
        np.copyto(dq[:, :2 * H], S.dP[t, :, :2 * H])  # dQ_t = [da_r, da_z, r ⊙ da_n]
        np.copyto(dq[:, 2 * H:], dqn)
        dh = np.dot(dq, S.W_hh, out=S.dh_buf[t & 1])
        tmp = S.tmp
        np.multiply(g, S.z[t], out=tmp)
        np.add(dh, tmp, out=dh)
        return dh, None


    def hh_grads(self, S: GRUState, dP2: Array, db_ih: Array | None):
        """dW_hh = dQᵀ H_prev and db_hh = Σ dQ by gate rows: dQ's r, z blocks are dP's, its n block S.dQ."""
        H = S.H
        Hp = S.Hs[:-1].reshape(-1, H)
        dQn = S.dQ.reshape(-1, H)
        dW_hh = np.empty((3 * H, H), dtype=S.dtype)
        # matmul, not dot: np.dot copies a strided operand (here a (T·B, 2H) temporary), matmul hands
        # BLAS its row stride
        np.matmul(dP2[:, :2 * H].T, Hp, out=dW_hh[:2 * H])
        np.matmul(dQn.T, Hp, out=dW_hh[2 * H:])
        db_hh = None
        if db_ih is not None:
            db_hh = np.concatenate([db_ih[:2 * H], blas.sum_rows(dQn)])
        return dW_hh, db_hh


class GRUFused(GRUNumpy):
    """torch's GRU with numba: fused gate kernels around NumPy's GEMM and exp."""

    name = "fused"
    own_backward_loop = True
    backward_in_place = True  # step t reads P[t], Qn[t]; its dP, dQn go to rows t+1 (layer.Buffered)

    def __init__(self, whole_step: bool = False) -> None:
        self.whole_step = whole_step  # tiny layers: exp inside the kernel, one kernel per forward step

    def prepare(self, S: GRUState, cell) -> None:
        super().prepare(S, cell)
        S.kern = kernels.get(S.dtype)
        S.b_hn_k = np.zeros(S.H, dtype=S.dtype) if S.b_hn is None else S.b_hn

    factors = Buffered.factors  # the fused backward step needs no factors

    def step(self, t: int, S: GRUState) -> None:
        a, q, kern = S.P[t], S.q, S.kern
        np.dot(S.Hs[t], S.W_hh_T, out=q)
        if self.whole_step:
            kern.gru_step(a, q, S.b_hn_k, S.Hs[t], S.Hs[t + 1], S.Qn[t])
            return
        rz, n = a[:, :2 * S.H], a[:, 2 * S.H:]
        np.add(rz, q[:, :2 * S.H], out=rz)  # −a_r, −a_z
        np.exp(rz, out=rz)
        kern.gru_gates(a, q, S.b_hn_k, S.Qn[t])
        np.exp(n, out=n)
        kern.gru_out(a, S.Hs[t], S.Hs[t + 1])

    def prepare_backward(self, S: GRUState) -> None:
        T, B, H = S.T, S.B, S.H
        S.dP = self.grad_buffer(S, "dP", S.P)  # with S.spend: P's and Qn's buffers, step by step
        S.dQ = self.grad_buffer(S, "dQn", S.Qn)  # dQ's n block (its r, z blocks are dP's)
        S.dh_buf = np.empty((2, B, H), dtype=S.dtype)
        S.zero = np.zeros((S.B, S.H), dtype=S.dtype)  # the kernel's other parts of ∂L/∂h_t, when given whole

    def step_back(self, t: int, g: Array, dc, S: GRUState):
        S.kern.gru_backward(g, S.zero, S.zero, S.P[t], S.Hs[t], S.Qn[t], S.dP[t], S.q, S.dQ[t], S.tmp)
        dh = np.dot(S.q, S.W_hh, out=S.dh_buf[t & 1])
        return np.add(dh, S.tmp, out=dh), None

    def backward_loop(self, S: GRUState, dout, dh, dc):
        dh = kernels.state_grad(dh, S)  # ∂L/∂h_T in, ∂L/∂h0 out
        buf = np.zeros((3, S.B, S.H), dtype=S.dtype)
        zero, gz = buf[0], buf[1:]  # gz: g ⊙ z of step t+1 and of step t, alternating
        dout = kernels.outputs_grad(dout, S)
        kern, W_hh = S.kern.gru_backward, S.W_hh
        for t in range(S.T - 1, -1, -1):
            # ∂L/∂h_t = dh (= dQ_{t+1} W_hh) + g_{t+1} ⊙ z_{t+1} + dout_t, summed in the kernel
            kern(dh, gz[(t + 1) & 1], kernels.step_rows(dout, t, zero), S.P[t], S.Hs[t], S.Qn[t], S.dP[t], S.q,
                 S.dQ[t], gz[t & 1])
            np.dot(S.q, W_hh, out=dh)
        dh += gz[0]
        return dh, None


class GRUWhole(GRUFused):
    """torch's GRU with numba: each unmasked loop is one compiled call (step GEMM included)."""

    name = "whole"
    compiled = True

    def __init__(self) -> None:
        super().__init__(whole_step=True)

    def forward_loop(self, S: GRUState) -> None:
        kern, gemm = S.kern.gru_forward_seq, kernels.step_gemm(S)
        parallel.over_rows(S.split, S.B, lambda b0, b1: kern(S.P, S.W_hh_T, S.b_hn_k, S.Hs, S.Qn, S.q, gemm, b0, b1))

    def backward_loop(self, S: GRUState, dout, dh, dc):
        dh = kernels.state_grad(dh, S)
        buf = np.zeros((3, S.B, S.H), dtype=S.dtype)
        dout = kernels.outputs_grad(dout, S)
        kern, gemm = S.kern.gru_backward_seq, kernels.step_gemm(S)
        parallel.over_rows(S.split, S.B, lambda b0, b1: kern(dout, dh, S.P, S.Hs, S.Qn, S.dP, S.q, S.dQ, S.W_hh,
                                                             buf[0], buf[1:], gemm, b0, b1))
        return dh, None
