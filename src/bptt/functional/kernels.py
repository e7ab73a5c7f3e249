"""Optional compiled kernels for the elementwise gate math of small LSTM/GRU layers.

Why: at the sizes a learner uses (the seeds' B = 1, H = 2 up to about
B·H = 4096) a time step of the pure-NumPy loop is a dozen NumPy calls on tiny
arrays, and each call's fixed cost (~0.5–1 µs) is the whole bill. Fusing the
arithmetic between the GEMM and the ``exp`` into one compiled loop cuts a
forward step from ~13 calls to 5 and a backward step to 2, and makes the
backward factors unnecessary (measured, float32, B·H = 16·64: LSTM forward
elementwise 12.9 → 6.8 µs, backward 6.8 µs + factors → 2.9 µs).

Why only there: numba compiles ``exp`` to a scalar libm call, while NumPy's
``exp`` is SIMD. Above a few thousand elements per step the NumPy path is as
fast or faster (B·H = 32·256: 39.9 µs NumPy vs 43.8 µs fused), so the cells
use these kernels only up to :data:`MAX_ELEMENTS` = B·H, and every ``exp``
stays a NumPy call even here.

The pure-NumPy cells are the reference implementation and always available.
These kernels need ``numba`` (``pip install bptt[fast]``); without it, or with
the environment variable ``BPTT_KERNELS=numpy``, or inside
``with kernels.disabled():``, the NumPy path runs. Both paths are tested for
parity against each other and against torch.

Each kernel states its equation; the arrays are C-contiguous, shapes as in the
docstrings (B batch, H hidden size), and nothing is allocated.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Iterator

import numpy as np

MAX_ELEMENTS = 4096  # B·H up to which the fused kernels are faster than NumPy (see above)
# B·H up to which even the exp goes inside the kernel (one call per forward step): a scalar exp on
# a handful of elements costs less than one more NumPy call.
WHOLE_STEP_ELEMENTS = 64

_state: dict = {"kernels": None, "tried": False, "off": os.environ.get("BPTT_KERNELS", "").lower() == "numpy"}


# -- LSTM ------------------------------------------------------------------------
def lstm_gates(a, c_prev, c, m2c):
    """In place: e → gates, and the new cell state.

    On entry a = [e^{−a_i}, e^{−a_f}, e^{−2a_g}, e^{−a_o}]; on exit
    a = [i, f, g, o] with σ(x) = 1/(1 + e^{−x}), tanh(x) = 2/(1 + e^{−2x}) − 1;
    c = f ⊙ c_prev + i ⊙ g and m2c = −2c (the caller exponentiates it for tanh c).
    Shapes: a (B, 4H); c_prev, c, m2c (B, H)
    """
    B, H = c.shape
    one = a.dtype.type(1.0)
    two = a.dtype.type(2.0)
    for b in range(B):
        for j in range(H):
            i = one / (one + a[b, j])
            f = one / (one + a[b, H + j])
            g = two / (one + a[b, 2 * H + j]) - one
            o = one / (one + a[b, 3 * H + j])
            a[b, j] = i
            a[b, H + j] = f
            a[b, 2 * H + j] = g
            a[b, 3 * H + j] = o
            cn = f * c_prev[b, j] + i * g
            c[b, j] = cn
            m2c[b, j] = -two * cn


def lstm_out(a, tc, h):
    """tc = e^{−2c} on entry, tanh c on exit; h = o ⊙ tanh c.  Shapes: a (B, 4H); tc, h (B, H)"""
    B, H = h.shape
    one = a.dtype.type(1.0)
    two = a.dtype.type(2.0)
    for b in range(B):
        for j in range(H):
            t = two / (one + tc[b, j]) - one
            tc[b, j] = t
            h[b, j] = a[b, 3 * H + j] * t


def lstm_backward(g, dc, a, c_prev, tc, da, dc_prev):
    """One LSTM step back (the equations of :mod:`bptt.functional.lstm`).

    dct = dc + g ⊙ o ⊙ (1 − tanh²c);  da = [dct⊙g⊙i(1−i), dct⊙c_prev⊙f(1−f),
    dct⊙i⊙(1−g²), g⊙tanh c⊙o(1−o)];  dc_prev = dct ⊙ f.  (g here is ∂L/∂h_t;
    the gate g is ``gg``.)
    Shapes: g, dc, c_prev, tc, dc_prev (B, H); a, da (B, 4H)
    """
    B, H = g.shape
    one = a.dtype.type(1.0)
    for b in range(B):
        for j in range(H):
            i = a[b, j]
            f = a[b, H + j]
            gg = a[b, 2 * H + j]
            o = a[b, 3 * H + j]
            t = tc[b, j]
            gh = g[b, j]
            d = dc[b, j] + gh * o * (one - t * t)
            da[b, j] = d * gg * i * (one - i)
            da[b, H + j] = d * c_prev[b, j] * f * (one - f)
            da[b, 2 * H + j] = d * i * (one - gg * gg)
            da[b, 3 * H + j] = gh * t * o * (one - o)
            dc_prev[b, j] = d * f


def lstm_step(a, q, c_prev, c, tc, h):
    """One whole LSTM forward step after the GEMM, exp included (for B·H ≤ WHOLE_STEP_ELEMENTS).

    a = P_t (gate rows pre-scaled by −1, −1, −2, −1) and q = h_{t−1} W_hhᵀ (scaled alike) on
    entry; on exit a = [i, f, g, o], c = f ⊙ c_prev + i ⊙ g, tc = tanh c, h = o ⊙ tanh c.
    Shapes: a, q (B, 4H); c_prev, c, tc, h (B, H)
    """
    B, H = c.shape
    one = a.dtype.type(1.0)
    two = a.dtype.type(2.0)
    for b in range(B):
        for j in range(H):
            i = one / (one + np.exp(a[b, j] + q[b, j]))
            f = one / (one + np.exp(a[b, H + j] + q[b, H + j]))
            g = two / (one + np.exp(a[b, 2 * H + j] + q[b, 2 * H + j])) - one
            o = one / (one + np.exp(a[b, 3 * H + j] + q[b, 3 * H + j]))
            a[b, j] = i
            a[b, H + j] = f
            a[b, 2 * H + j] = g
            a[b, 3 * H + j] = o
            cn = f * c_prev[b, j] + i * g
            c[b, j] = cn
            t = two / (one + np.exp(-two * cn)) - one
            tc[b, j] = t
            h[b, j] = o * t


# -- GRU (torch's form) -------------------------------------------------------------
def gru_gates(a, q, b_hn):
    """In place: r, z from their exponentials, and the n pre-activation (scaled by −2).

    On entry a[:, :2H] = [e^{−a_r}, e^{−a_z}], a[:, 2H:] = −2·P_n,
    q[:, 2H:] = −2·W_hn h; b_hn = −2·b_hn (zeros without bias). On exit
    a = [r, z, −2(P_n + r ⊙ q_n)] and q[:, 2H:] = −2·q_n with q_n = W_hn h + b_hn.
    Shapes: a, q (B, 3H); b_hn (H,)
    """
    B = a.shape[0]
    H = b_hn.shape[0]
    one = a.dtype.type(1.0)
    for b in range(B):
        for j in range(H):
            r = one / (one + a[b, j])
            a[b, j] = r
            a[b, H + j] = one / (one + a[b, H + j])
            qn = q[b, 2 * H + j] + b_hn[j]
            q[b, 2 * H + j] = qn
            a[b, 2 * H + j] += r * qn


def gru_out(a, h_prev, h):
    """a[:, 2H:] = e^{−2(P_n + r ⊙ q_n)} on entry, n on exit; h = n + z ⊙ (h_prev − n).

    Shapes: a (B, 3H); h_prev, h (B, H)
    """
    B, H = h.shape
    one = a.dtype.type(1.0)
    two = a.dtype.type(2.0)
    for b in range(B):
        for j in range(H):
            n = two / (one + a[b, 2 * H + j]) - one
            a[b, 2 * H + j] = n
            h[b, j] = n + a[b, H + j] * (h_prev[b, j] - n)


def gru_step(a, q, b_hn, h_prev, h):
    """One whole GRU forward step after the GEMM, exp included (for B·H ≤ WHOLE_STEP_ELEMENTS).

    a = P_t and q = h_{t−1} W_hhᵀ (r, z rows scaled by −1, n rows by −2), b_hn = −2·b_hn on
    entry; on exit a = [r, z, n], q[:, 2H:] = −2·q_n, h = n + z ⊙ (h_prev − n).
    Shapes: a, q (B, 3H); b_hn (H,); h_prev, h (B, H)
    """
    B, H = h.shape
    one = a.dtype.type(1.0)
    two = a.dtype.type(2.0)
    for b in range(B):
        for j in range(H):
            r = one / (one + np.exp(a[b, j] + q[b, j]))
            z = one / (one + np.exp(a[b, H + j] + q[b, H + j]))
            qn = q[b, 2 * H + j] + b_hn[j]
            q[b, 2 * H + j] = qn
            n = two / (one + np.exp(a[b, 2 * H + j] + r * qn)) - one
            a[b, j] = r
            a[b, H + j] = z
            a[b, 2 * H + j] = n
            h[b, j] = n + z * (h_prev[b, j] - n)


def gru_backward(g, a, h_prev, q, dp, dq, gz):
    """One GRU step back (torch's form; equations of :mod:`bptt.functional.gru`).

    da_n = g(1−z)(1−n²), da_z = g(h−n)z(1−z), da_r = da_n q_n r(1−r) with
    q_n = −½·q[:, 2H:];  dp = [da_r, da_z, da_n], dq = [da_r, da_z, r ⊙ da_n],
    gz = g ⊙ z (the direct path to h_{t−1}; the caller adds dq W_hh).
    Shapes: g, h_prev, gz (B, H); a, q, dp, dq (B, 3H)
    """
    B, H = g.shape
    one = a.dtype.type(1.0)
    half = a.dtype.type(-0.5)
    for b in range(B):
        for j in range(H):
            r = a[b, j]
            z = a[b, H + j]
            n = a[b, 2 * H + j]
            gh = g[b, j]
            dn = gh * (one - z) * (one - n * n)
            dz = gh * (h_prev[b, j] - n) * z * (one - z)
            dr = dn * (half * q[b, 2 * H + j]) * r * (one - r)
            dp[b, j] = dr
            dp[b, H + j] = dz
            dp[b, 2 * H + j] = dn
            dq[b, j] = dr
            dq[b, H + j] = dz
            dq[b, 2 * H + j] = r * dn
            gz[b, j] = gh * z


_KERNELS = ("lstm_gates", "lstm_out", "lstm_step", "lstm_backward", "gru_gates", "gru_out", "gru_step", "gru_backward")


def _compile() -> SimpleNamespace | None:
    try:
        import numba
    except ImportError:
        return None
    # error_model="numpy": no ZeroDivisionError checks (1/(1+e) is never a division by zero, and
    # the checks would block vectorisation); cache=True: compiled once per machine, not per process.
    jit = numba.njit(cache=True, nogil=True, error_model="numpy")
    return SimpleNamespace(**{name: jit(globals()[name]) for name in _KERNELS})


def get(elements: int) -> SimpleNamespace | None:
    """The compiled kernels if they are on and worth it for B·H = ``elements``, else None."""
    if _state["off"] or elements > MAX_ELEMENTS:
        return None
    if not _state["tried"]:
        _state["kernels"] = _compile()
        _state["tried"] = True
    return _state["kernels"]


def available() -> bool:
    """True when numba is installed (whether or not the kernels are switched off)."""
    if not _state["tried"]:
        _state["kernels"] = _compile()
        _state["tried"] = True
    return _state["kernels"] is not None


def enabled() -> bool:
    """True when small LSTM/GRU layers run through the compiled kernels."""
    return available() and not _state["off"]


@contextmanager
def disabled() -> Iterator[None]:
    """Run the pure-NumPy path inside this block (the reference implementation)."""
    off = _state["off"]
    _state["off"] = True
    try:
        yield
    finally:
        _state["off"] = off
