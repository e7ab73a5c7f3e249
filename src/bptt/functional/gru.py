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
        dW_h{r,z} = [da_r, da_z]ᵀ h,   dW_hn = da_nᵀ (r ⊙ h)      (not dQᵀ h)

In torch's form b_hn sits inside r ⊙ (…), so its gradient differs from b_in's;
in the textbook form both biases are plain sums, so db_ih = db_hh.
``gru_step_forward`` / ``gru_step_backward`` are the readable step pair, for both
forms: the reference backend runs them one step at a time
(:mod:`bptt.functional.recurrent`); the fast backends of
:mod:`bptt.functional.fast.gru` (torch's form) are tested against them.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_step, check_step_grad
from .activations import sigmoid

Array = np.ndarray


def gru_step_forward(
    x: Array,
    h_prev: Array,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None = None,
    b_hh: Array | None = None,
    reset_after: bool = True,
) -> tuple[Array, tuple]:
    """h = one GRU step (gate blocks r, z, n), and its cache.

        r = σ(x W_irᵀ + b_ir + h_prev W_hrᵀ + b_hr),   z = σ(x W_izᵀ + b_iz + h_prev W_hzᵀ + b_hz)
        q_n = h_prev W_hnᵀ + b_hn,  n = tanh(x W_inᵀ + b_in + r ⊙ q_n)          reset_after=True
        q_n = (r ⊙ h_prev) W_hnᵀ + b_hn,  n = tanh(x W_inᵀ + b_in + q_n)        reset_after=False
        h = (1 − z) ⊙ n + z ⊙ h_prev

    Shapes:
        x: (B, I)   h_prev: (B, H)   W_ih: (3H, I)   W_hh: (3H, H)   b_ih, b_hh: (3H,) or None
        h: (B, H)                     (unbatched: x (I,), h_prev (H,) -> h (H,), as torch.nn.GRUCell)
    """
    x, h_prev, _, unbatched = check_step(x, h_prev, None, W_ih, W_hh, b_ih, b_hh, gates=3)
    H = h_prev.shape[-1]
    gi = x @ W_ih.T
    gh = h_prev @ W_hh[:2 * H].T
    if b_ih is not None:
        gi = gi + b_ih
        gh = gh + b_hh[:2 * H]
    r, z = sigmoid(gi[:, :H] + gh[:, :H]), sigmoid(gi[:, H:2 * H] + gh[:, H:])
    s = h_prev if reset_after else r * h_prev  # what W_hn multiplies
    q_n = s @ W_hh[2 * H:].T
    if b_ih is not None:
        q_n = q_n + b_hh[2 * H:]
    n = np.tanh(gi[:, 2 * H:] + (r * q_n if reset_after else q_n))
    h = (1 - z) * n + z * h_prev
    return (h[0] if unbatched else h), (x, h_prev, W_ih, W_hh, r, z, n, s, q_n, bool(reset_after),
                                         b_ih is not None, unbatched)


def gru_step_backward(dh: Array, cache: tuple) -> tuple:
    """Gradients of one step: (dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh).

        da_n = dh ⊙ (1 − z) ⊙ (1 − n²),   da_z = dh ⊙ (h_prev − n) ⊙ z(1 − z)
        reset_after=True:   dq_n = r ⊙ da_n,   da_r = da_n ⊙ q_n ⊙ r(1 − r)
        reset_after=False:  dq_n = da_n,       da_r = (dq_n W_hn) ⊙ h_prev ⊙ r(1 − r)
        dgi = [da_r, da_z, da_n],  dgh = [da_r, da_z, dq_n]     (pre-activations of x, h parts)
        dx = dgi W_ih,  dW_ih = dgiᵀ x,  dW_h{r,z} = dgh_{r,z}ᵀ h_prev,  dW_hn = dq_nᵀ s
        dh_prev = dh ⊙ z + dgh_{r,z} W_h{r,z} + (dq_n W_hn) ⊙ (1 or r)
        db_ih = Σ_b dgi,  db_hh = Σ_b dgh

    Shapes: dh (B, H) -> dx (B, I), dh_prev (B, H), dW_ih (3H, I), dW_hh (3H, H), db_ih, db_hh (3H,) or None
    """
    x, h_prev, W_ih, W_hh, r, z, n, s, q_n, reset_after, has_bias, unbatched = cache
    H = h_prev.shape[-1]
    dh = check_step_grad("dh", dh, h_prev, unbatched)
    da_n = dh * (1 - z) * (1 - n * n)
    da_z = dh * (h_prev - n) * z * (1 - z)
    dq_n = r * da_n if reset_after else da_n
    ds = dq_n @ W_hh[2 * H:]  # ∂L/∂s, s = h_prev (reset_after) or r ⊙ h_prev
    da_r = (da_n * q_n if reset_after else ds * h_prev) * r * (1 - r)
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)
    dgh_rz = dgi[:, :2 * H]
    dh_prev = dh * z + dgh_rz @ W_hh[:2 * H] + (ds if reset_after else ds * r)
    dW_hh = np.concatenate([dgh_rz.T @ h_prev, dq_n.T @ s])
    db_ih = dgi.sum(axis=0) if has_bias else None
    db_hh = np.concatenate([dgh_rz.sum(axis=0), dq_n.sum(axis=0)]) if has_bias else None
    dx = dgi @ W_ih
    if unbatched:
        dx, dh_prev = dx[0], dh_prev[0]
    return dx, dh_prev, dgi.T @ x, dW_hh, db_ih, db_hh
