"""The GRU step: torch.nn.GRU's form (``reset_after=True``) and the textbook form.

Gate order r, z, n in ``W_ih`` (3H × I) and ``W_hh`` (3H × H), as torch.

torch / cuDNN (``reset_after=True``, the default) — r scales the *projected* h:

    r = σ(W_ir x + b_ir + W_hr h + b_hr)
    z = σ(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    h' = (1 − z) ⊙ n + z ⊙ h

textbook, Cho et al. 2014 / d2l (``reset_after=False``) — r scales h before the GEMM:

    n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)          (r, z, h' as above)

Backward (dh the total gradient reaching h'):

    dn = dh ⊙ (1 − z),   da_n = dn ⊙ (1 − n²),   da_z = dh ⊙ (h − n) ⊙ z(1 − z)
    reset_after=True:   q_n = W_hn h + b_hn
        da_r = da_n ⊙ q_n ⊙ r(1 − r)
        dP = [da_r, da_z, da_n]          dQ = [da_r, da_z, r ⊙ da_n]
        dh_prev = dh ⊙ z + dQ W_hh,   dW_hh = dQᵀ h,   db_hh = Σ dQ ≠ db_ih = Σ dP (n block)
    reset_after=False:  s = r ⊙ h
        ds = da_n W_hn,   da_r = ds ⊙ h ⊙ r(1 − r)
        dP = dQ = [da_r, da_z, da_n]
        dh_prev = dh ⊙ z + ds ⊙ r + [da_r, da_z] W_h{r,z}
        dW_h{r,z} = [da_r, da_z]ᵀ h,   dW_hn = da_nᵀ (r ⊙ h)      (not dQᵀ h: the cell's
        ``weight_hh_grad`` says so to the layer loop)

In torch's form b_hn sits inside r ⊙ (…), so it stays in the step and its
gradient differs from b_in's; everything else of b_hh is folded into the input
GEMM. In the textbook form both biases are plain sums, so dP = dQ.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .activations import sigmoid
from .cellstep import cell_step_backward, cell_step_forward
from .recurrent import gate_scale, transposed

Array = np.ndarray


class GRUCell:
    """h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}; see the module docstring for r, z, n in both forms.

    ``P_t = x_t W_ihᵀ + b_ih (+ b_hh except b_hn when reset_after)`` is
    precomputed by the layer.
    Shapes: P_t (B, 3H), h (B, H), W_hh (3H, H), b_step: b_hn (H,) or None.
    Cache: (h_{t−1}, [r z] (B, 2H), n, q_n = W_hn h + b_hn  or  r ⊙ h_{t−1}).

    Buffered protocol (torch's form; see :mod:`bptt.functional.recurrent`;
    the textbook form runs through the step protocol): the r, z rows of W_ih,
    W_hh and their biases are scaled by −1 and the n rows (b_hn included) by −2,
    exactly, so that σ(a) = 1 / (1 + e^{−a}) and tanh(u) = 2 / (1 + e^{−2u}) − 1
    are each one ``exp``. P[t] keeps [r, z, n], ``S.Q[t]`` the recurrent
    projection (its n block −2·q_n). Backward forms for all steps at once
    F = [da_r, da_z, da_n] / dh and FQ = [da_r, da_z, r ⊙ da_n] / dh, so a step is
    ``dP_t = g_t ⊙ F_t``, ``dQ_t = g_t ⊙ FQ_t``, ``dh_{t−1} = dQ_t W_hh + g_t ⊙ z``.
    With numba installed (``bptt[fast]``) the arithmetic between GEMM and ``exp``
    runs fused in :mod:`bptt.functional.kernels` (same equations, no factors);
    this NumPy path is the reference.
    """

    gates = 3
    has_cell_state = False

    def __init__(self, reset_after: bool = True) -> None:
        self.reset_after = bool(reset_after)
        # torch's form multiplies r into b_hn's path: db_hh ≠ db_ih in the n block.
        self.shared_bias_grad = not self.reset_after
        self.buffered = self.reset_after

    def split_bias(self, b_ih, b_hh):
        if b_ih is None:
            return None, None
        if not self.reset_after:
            return b_ih + b_hh, None
        H = b_ih.shape[0] // 3
        b_all = b_ih.copy()
        b_all[:2 * H] += b_hh[:2 * H]
        return b_all, b_hh[2 * H:]

    def step_forward(self, p, h, c, W_hh, b_step):
        H = h.shape[1]
        if self.reset_after:
            q = np.dot(h, W_hh.T)
            q_n = q[:, 2 * H:]
            if b_step is not None:
                q_n += b_step
            rz = sigmoid(p[:, :2 * H] + q[:, :2 * H])
            r, z = rz[:, :H], rz[:, H:]
            n = np.tanh(p[:, 2 * H:] + r * q_n)
            s = q_n
        else:
            rz = sigmoid(p[:, :2 * H] + np.dot(h, W_hh[:2 * H].T))
            r, z = rz[:, :H], rz[:, H:]
            s = r * h
            n = np.tanh(p[:, 2 * H:] + np.dot(s, W_hh[2 * H:].T))
        h_new = h - n
        h_new *= z
        h_new += n
        return h_new, None, (h, rz, n, s)

    def step_backward(self, dh, dc, cache, W_hh):
        h, rz, n, s = cache
        H = h.shape[1]
        r, z = rz[:, :H], rz[:, H:]
        da_n = dh * (1 - z) * (1 - n * n)
        dP = np.empty((h.shape[0], 3 * H), dtype=h.dtype)
        dP[:, H:2 * H] = dh * (h - n) * z * (1 - z)
        dP[:, 2 * H:] = da_n
        dh_prev = dh * z
        if self.reset_after:
            dP[:, :H] = da_n * s * r * (1 - r)
            dQ = dP.copy()
            dQ[:, 2 * H:] *= r
            dh_prev += np.dot(dQ, W_hh)
            return dP, dQ, dh_prev, None
        ds = np.dot(da_n, W_hh[2 * H:])
        dP[:, :H] = ds * h * r * (1 - r)
        dh_prev += ds * r
        dh_prev += np.dot(dP[:, :2 * H], W_hh[:2 * H])
        return dP, dP, dh_prev, None

    # -- buffered protocol (reset_after=True) ----------------------------------
    def prepare_forward(self, S):
        T, B, H, dt = S.T, S.B, S.hidden, S.dtype
        scale = gate_scale((-1, -1, -2), H, dt)
        S.W_in = S.W_ih * scale
        S.W_hh_T = transposed(S.W_hh, scale)
        S.b_in = S.b_hn = None
        if S.b_ih is not None:
            b_all, b_hn = self.split_bias(S.b_ih, S.b_hh)
            S.b_in = b_all * scale[:, 0]
            S.b_hn = b_hn * scale[2 * H:, 0]
        S.Q = S.empty("Q", (T, B, 3 * H), dt)
        S.tmp = np.empty((B, H), dtype=dt)
        S.kern = kernels.get()  # fused elementwise gate kernels (optional numba, bptt[fast])
        if S.kern is not None:
            S.b_hn_k = np.zeros(H, dtype=dt) if S.b_hn is None else S.b_hn
        S.whole_step = S.compiled_loop = S.kern is not None and B * H <= kernels.WHOLE_STEP_ELEMENTS
        S.own_backward_loop = S.kern is not None  # backward_loop: the fused kernel sums the parts of dh

    def forward_loop(self, S):
        S.kern.gru_forward_seq(S.P, S.W_hh_T, S.b_hn_k, S.H, S.Q)

    def step_forward_into(self, t, S):
        H = S.hidden
        a, q, tmp = S.P[t], S.Q[t], S.tmp
        np.dot(S.H[t], S.W_hh_T, out=q)
        if S.whole_step:
            S.kern.gru_step(a, q, S.b_hn_k, S.H[t], S.H[t + 1])
            return
        rz, qn, n = a[:, :2 * H], q[:, 2 * H:], a[:, 2 * H:]
        np.add(rz, q[:, :2 * H], out=rz)  # −a_r, −a_z
        np.exp(rz, out=rz)
        if S.kern is not None:  # the same equations, fused (bptt.functional.kernels)
            S.kern.gru_gates(a, q, S.b_hn_k)
            np.exp(n, out=n)
            S.kern.gru_out(a, S.H[t], S.H[t + 1])
            return
        np.add(rz, 1, out=rz)
        np.divide(1, rz, out=rz)  # r, z
        if S.b_hn is not None:
            np.add(qn, S.b_hn, out=qn)  # −2 q_n = −2 (W_hn h + b_hn)
        np.multiply(rz[:, :H], qn, out=tmp)
        np.add(n, tmp, out=n)  # −2 (P_n + r ⊙ q_n)
        np.exp(n, out=n)
        np.add(n, 1, out=n)
        np.divide(2, n, out=n)
        np.subtract(n, 1, out=n)  # n = tanh(P_n + r ⊙ q_n)
        h = S.H[t + 1]
        np.subtract(S.H[t], n, out=h)
        np.multiply(h, rz[:, H:], out=h)
        np.add(h, n, out=h)  # h' = n + z ⊙ (h − n)

    def prepare_backward(self, S):
        T, B, H, dt = S.T, S.B, S.hidden, S.dtype
        S.dP = S.empty("dP", (T, B, 3 * H), dt)  # factors, then dP in place
        S.dQ = S.empty("dQ", (T, B, 3 * H), dt)  # factors, then dQ in place
        S.F3, S.FQ3 = S.dP.reshape(T, B, 3, H), S.dQ.reshape(T, B, 3, H)
        S.z = S.P[..., H:2 * H]
        S.dh_buf = np.empty((2, B, H), dtype=dt)
        if S.kern is not None:
            S.zero = np.zeros((B, H), dtype=dt)  # the kernel's other parts of ∂L/∂h_t, when given whole

    def backward_loop(self, S, dout, dh, dc):
        dh = kernels.state_grad(dh, S)  # ∂L/∂h_T in, ∂L/∂h0 out
        buf = np.zeros((3, S.B, S.hidden), dtype=S.dtype)
        zero, gz = buf[0], buf[1:]  # gz: g ⊙ z of step t+1 and of step t, alternating
        dout = kernels.outputs_grad(dout, S)
        if S.compiled_loop:
            S.kern.gru_backward_seq(dout, dh, S.P, S.H, S.Q, S.dP, S.dQ, S.W_hh, zero, gz)
            return dh, None
        kern, W_hh = S.kern.gru_backward, S.W_hh
        for t in range(S.T - 1, -1, -1):
            # ∂L/∂h_t = dh (= dQ_{t+1} W_hh) + g_{t+1} ⊙ z_{t+1} + dout_t, summed in the kernel
            kern(dh, gz[(t + 1) & 1], kernels.step_rows(dout, t, zero), S.P[t], S.H[t], S.Q[t], S.dP[t], S.dQ[t],
                 gz[t & 1])
            np.dot(S.dQ[t], W_hh, out=dh)
        dh += gz[0]
        return dh, None

    def backward_factors(self, S, t0, t1):
        if S.kern is not None:  # the fused backward needs no factors
            return
        H = S.hidden
        A, F, FQ = S.P[t0:t1], S.dP[t0:t1], S.dQ[t0:t1]
        r, z, n = A[..., :H], A[..., H:2 * H], A[..., 2 * H:]
        Fr, Fz, Fn, FQn = F[..., :H], F[..., H:2 * H], F[..., 2 * H:], FQ[..., 2 * H:]
        np.multiply(n, n, out=Fn)
        np.subtract(1, Fn, out=Fn)
        np.subtract(1, z, out=Fz)
        Fn *= Fz  # (1 − z)(1 − n²)
        np.multiply(Fz, z, out=Fz)
        np.subtract(S.H[t0:t1], n, out=FQn)
        Fz *= FQn  # (h − n) z(1 − z)
        np.subtract(1, r, out=Fr)
        Fr *= r
        Fr *= S.Q[t0:t1, :, 2 * H:]
        Fr *= S.dtype.type(-0.5)  # S.Q holds −2 q_n
        Fr *= Fn  # q_n r(1 − r)(1 − z)(1 − n²)
        FQ[..., :2 * H] = F[..., :2 * H]
        np.multiply(r, Fn, out=FQn)

    def step_backward_into(self, t, g, dc, S):
        if S.kern is not None:
            S.kern.gru_backward(g, S.zero, S.zero, S.P[t], S.H[t], S.Q[t], S.dP[t], S.dQ[t], S.tmp)
            dh = np.dot(S.dQ[t], S.W_hh, out=S.dh_buf[t & 1])
            return np.add(dh, S.tmp, out=dh), None
        g3 = g[:, None, :]
        F3, FQ3 = S.F3[t], S.FQ3[t]
        np.multiply(g3, F3, out=F3)
        np.multiply(g3, FQ3, out=FQ3)
        dh = np.dot(S.dQ[t], S.W_hh, out=S.dh_buf[t & 1])
        tmp = S.tmp
        np.multiply(g, S.z[t], out=tmp)
        np.add(dh, tmp, out=dh)
        return dh, None

    def weight_hh_grad(self, dQ, h_prev, steps):
        """dW_hh = dQᵀ h_prev; textbook form: the n block reads r ⊙ h_prev instead.

        Shapes: dQ (N, 3H), h_prev (N, H), steps: per-step caches (N/B of them) -> (3H, H)
        """
        if self.reset_after:
            return np.dot(dQ.T, h_prev)
        H = h_prev.shape[1]
        rh = steps[0][3] if len(steps) == 1 else np.concatenate([st[3] for st in steps])
        dW = np.empty((3 * H, H), dtype=h_prev.dtype)
        np.dot(dQ[:, :2 * H].T, h_prev, out=dW[:2 * H])
        np.dot(dQ[:, 2 * H:].T, rh, out=dW[2 * H:])
        return dW


_CELLS = {True: GRUCell(True), False: GRUCell(False)}


def gru_step_forward(
    x: Array,
    h_prev: Array,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None = None,
    b_hh: Array | None = None,
    reset_after: bool = True,
) -> tuple[Array, tuple]:
    """h = one GRU step (equations in the module docstring), and its cache.

    Shapes:
        x: (B, I)   h_prev: (B, H)   W_ih: (3H, I)   W_hh: (3H, H)   b_ih, b_hh: (3H,) or None
        h: (B, H)
    """
    h, _, cache = cell_step_forward(_CELLS[bool(reset_after)], x, h_prev, None, W_ih, W_hh, b_ih, b_hh)
    return h, cache


def gru_step_backward(dh: Array, cache: tuple) -> tuple:
    """Gradients of one step: (dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh).

    Shapes: dh (B, H) -> dx (B, I), dh_prev (B, H), dW_ih (3H, I), dW_hh (3H, H), db_ih, db_hh (3H,) or None
    """
    dx, dh_prev, _, dW_ih, dW_hh, db_ih, db_hh = cell_step_backward(dh, None, cache)
    return dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh
