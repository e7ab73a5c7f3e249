"""Optional compiled kernels for the elementwise math of recurrent layers (LSTM and GRU gates).

Why: a time step of the pure-NumPy loop is a dozen NumPy calls — each a pass
over the gate arrays and, on small arrays, ~0.5–1 µs of fixed cost. Fusing the
arithmetic between the GEMM and the ``exp`` into one compiled loop cuts a
forward step to the GEMM, one ``exp`` pair and two kernels, a backward step to
one kernel and the GEMM, and makes the precomputed backward factors
unnecessary. Measured on 2 cores, whole forward+backward of a module,
compiled vs NumPy path: small (B 16, H 64) LSTM float32 1.59×, GRU 1.42×;
medium (B 32, H 256) 1.06–1.16×; large (B 64, H 512, 2 layers) 1.04–1.10×
(the per-step GEMM dominates there). The backward kernels also take ∂L/∂h_t in its
parts (the recurrent product, ∂L/∂out_t, and for the GRU the direct path g ⊙ z)
and sum them, so a backward step is one kernel and the GEMM for the Elman RNN
too (its f'(a) is formed for all steps before the loop): 1.00–1.05× more.

In the two-kernel steps every ``exp`` stays a NumPy call. The whole-step
kernels and the whole-sequence loops compute their activations themselves, with
:func:`tanh` and :func:`sigmoid` below: plain arithmetic that LLVM vectorises
(``np.exp`` / ``np.tanh`` inside numba are scalar libm calls). In the
whole-sequence loops (``*_forward_seq`` / ``*_backward_seq``, Elman RNN too) the
whole recurrence — every step, forward or backward, the recurrent product
included (BLAS's gemm called from compiled code, or a plain loop for the
tiniest) — is one compiled call; the input GEMM before and the parameter GEMMs
after stay NumPy. With ``lengths`` the tiniest layers run one whole-step kernel
call per step. Measured: benchmarks/README.md.

The pure-NumPy cells are the reference implementation and always available.
These kernels need ``numba`` (``pip install bptt[fast]``); without it, or with
the environment variable ``BPTT_KERNELS=numpy``, or inside
``with kernels.disabled():``, the NumPy path runs. Both paths are tested for
parity against each other and against torch.

Each kernel states its equation; the arrays are C-contiguous, shapes as in the
docstrings (B batch, H hidden size), and nothing is allocated.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from types import FunctionType, SimpleNamespace
from typing import Iterator

import numpy as np

# B·H up to which a masked (``lengths``) forward step is one kernel, activations included, rather
# than two kernels around NumPy's exp (the whole-sequence loops always compute their own).
WHOLE_STEP_ELEMENTS = 64

_state: dict = {"kernels": None, "tried": False, "off": os.environ.get("BPTT_KERNELS", "").lower() == "numpy"}


# Style: the loop over the batch takes 1-D row views (one per gate block) and the inner loop runs
# over j on those. Written with 2-D indexing (a[b, H + j]) the same loop is 8–10× slower, because
# LLVM then does not vectorise it (measured: LSTM gates at B·H = 32·256, float32: 23 µs vs 2.6 µs).


# -- vectorisable activations -------------------------------------------------------------
# tanh and the logistic sigmoid in plain arithmetic that LLVM vectorises inside the numba kernels.
#
# Why: numba compiles ``np.exp`` / ``np.tanh`` inside a loop to a scalar libm call per element,
# so a compiled loop with them ran its activations one element at a time (the reason the
# compiled gate kernels used to leave every ``exp`` to NumPy). Written as below — a clamp, a
# range reduction, a polynomial and 2ⁿ built from exponent bits, no call and no branch that
# LLVM cannot turn into a select — the loop around them compiles to AVX2/AVX-512 code.
#
#     exp(y) = 2ⁿ · (1 + p(r)),   n = round(y / ln 2),  r = y − n·ln2_hi − n·ln2_lo,  |r| ≲ ½ ln 2
#     p(r)   = expm1(r) = r + r²/2! + … + r¹³/13!      (Taylor: the remainder is < 0.02 ulp there)
#     2ⁿ     = the float64 whose exponent field is n + 1023 (n read from the low bits of
#              y/ln 2 + 1.5·2⁵², the "shifter": no float→int conversion, which AVX2 lacks)
#     tanh x = sign(x) · e / (e + 2),   e = expm1(2|x|) = (2ⁿ − 1) + 2ⁿ·p(r),  |x| clamped to 20
#              (tanh = 1 in float64 from 19.06 on); no cancellation near 0: there n = 0, e = p(2x)
#     σ(x)   = 1 / (1 + exp(−x)),  −x clamped to [−708, 709], exp(−x) = inf above 709
#
# These two are the float64 kernels' (float32 kernels: tanh32 / sigmoid32 below; a float32 array
# through these widens, computes and rounds once: 0.50 ulp). Measured against long-double
# references over the whole range (tests/test_fast_approx.py: dense near 0 and around the clamps,
# subnormals to the largest float, ±inf, nan): max relative error tanh 3.3e-16, σ 2.3e-16
# (where the result is normal; below 2.2e-308 the absolute error is smaller than that). nan gives nan, ±inf gives ±1 (tanh) and
# 0 / 1 (σ), tanh(−0) = −0. Compiled with FMA contraction allowed (``fastmath={"contract"}``, no
# other fast-math flag: nan and inf must keep their meaning): a loop of them is 4-wide AVX2 on
# the development host, 1.9 ns per float64 tanh against 2.9 without FMA, 12.5 for NumPy's tanh
# (no AVX-512 there) and 14 for numba's own np.tanh (a scalar libm call).
#
# The functions are plain Python (callable without numba, on numpy scalars); they are compiled
# first and the kernels below call the compiled ones, which LLVM inlines into their loops. (Here,
# not in a module of their own: numba's cache of a kernel is invalidated by its own file only.)
_LOG2E = 1.4426950408889634
# ln 2 in two parts (fdlibm's): n·LN2_HI is exact for |n| < 2²⁰, so r keeps its accuracy.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SHIFT = 6755399441055744.0  # 1.5·2⁵²: y/ln2 + _SHIFT rounds to an integer held in the low bits
_SHIFT_BITS = 0x4338000000000000  # the bits of _SHIFT
_EXP_BIAS = 1023
_TANH_CLAMP = 20.0
_EXP_MAX = 709.0  # 2ⁿ stays finite (n ≤ 1023)
_EXP_MIN = -708.0  # 2ⁿ stays normal (n ≥ −1021)
# 1/k! for k = 2 … 13
_C2, _C3, _C4, _C5 = 0.5, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0
_C6, _C7, _C8, _C9 = 1.0 / 720.0, 1.0 / 5040.0, 1.0 / 40320.0, 1.0 / 362880.0
_C10, _C11, _C12, _C13 = 1.0 / 3628800.0, 1.0 / 39916800.0, 1.0 / 479001600.0, 1.0 / 6227020800.0


def exp_parts(y):
    """(s, p) with exp(y) = s·(1 + p), s = 2ⁿ exactly, p = expm1(r), for float64 y in [−708, 709]."""
    k = y * _LOG2E + _SHIFT
    n = k - _SHIFT  # round(y / ln 2), exact
    r = (y - n * _LN2_HI) - n * _LN2_LO
    q = _C12 + r * _C13
    q = _C11 + r * q
    q = _C10 + r * q
    q = _C9 + r * q
    q = _C8 + r * q
    q = _C7 + r * q
    q = _C6 + r * q
    q = _C5 + r * q
    q = _C4 + r * q
    q = _C3 + r * q
    q = _C2 + r * q
    p = r + (r * r) * q
    bits = (np.float64(k).view(np.int64) - _SHIFT_BITS + _EXP_BIAS) << 52
    return np.int64(bits).view(np.float64), p


def tanh(x):
    """tanh(x) in float64 (any real x, float32 widened): sign(x)·e/(e + 2), e = expm1(2|x|)."""
    a = abs(float(x))
    a = _TANH_CLAMP if a > _TANH_CLAMP else a  # nan stays nan (the comparison is false)
    s, p = exp_parts(a + a)
    e = (s - 1.0) + s * p
    return math.copysign(e / (e + 2.0), x)


def sigmoid(x):
    """σ(x) = 1 / (1 + e^{−x}) in float64 (any real x, float32 widened)."""
    y = -float(x)
    c = _EXP_MAX if y > _EXP_MAX else (_EXP_MIN if y < _EXP_MIN else y)
    s, p = exp_parts(c)
    e = s + s * p
    e = math.inf if y > _EXP_MAX else e
    return 1.0 / (1.0 + e)


# -- float32-native activations -----------------------------------------------------------
# The same functions computed in float32 throughout, for the float32 kernels: 8 lanes of AVX2
# instead of 4, and a degree-7 polynomial instead of 13: a loop of them takes 0.68 ns per element
# against 2.3 for the widened float64 tanh (one thread, 65536 elements, development host). Only
# float32 constants appear (a float64 literal would widen the whole expression: the kernels that
# call them type their own constants by the array's dtype), and 2ⁿ comes from int32 bits.
#
#     exp(y) = 2ⁿ · (1 + p(r)),  n = round(y·log₂e) (shifter 1.5·2²³), r = y − n·ln2_hi − n·ln2_lo
#     p(r)   = r + r²·P(r), P Cephes' expf minimax polynomial of degree 5 (|r| ≤ ½ ln 2)
#     tanh x = sign(x) · e / (e + 2),  e = expm1(2|x|), |x| clamped to 9 (tanh = 1 in float32 from 9.01)
#     σ(x)   = (x ≥ 0 ? 1 : e) / (1 + e),  e = exp(−|x|) ≤ 1, with 2ⁿ = 2^⌊n/2⌋ · 2^(n − ⌊n/2⌋) so
#              that e^{−|x|} reaches the subnormals correctly rounded; −|x| clamped to −110 (e = 0)
#
# Accuracy (tests/test_fast_approx.py, the same sweep as above, 4.9 M float32 points): max 2.21 ulp
# (tanh) and 2.25 ulp (σ, subnormal results included); NumPy's own float32 tanh: 1.36 ulp. nan,
# ±inf, ±0 as above.
_F1 = np.float32(1.0)
_F2 = np.float32(2.0)
_F0 = np.float32(0.0)
_LOG2E_F = np.float32(1.44269504088896341)
_LN2_HI_F = np.float32(0.693359375)  # Cephes' split: n·LN2_HI_F exact for |n| < 2¹⁰
_LN2_LO_F = np.float32(-2.12194440e-4)
_SHIFT_F = np.float32(12582912.0)  # 1.5·2²³
_SHIFT_F_BITS = 0x4B400000
_TANH_CLAMP_F = np.float32(9.0)
_EXP_MIN_F = np.float32(-110.0)  # e^{−110} < half the smallest subnormal: exp = 0
_P0F, _P1F, _P2F = np.float32(1.9875691500e-4), np.float32(1.3981999507e-3), np.float32(8.3334519073e-3)
_P3F, _P4F, _P5F = np.float32(4.1665795894e-2), np.float32(1.6666665459e-1), np.float32(5.0000001201e-1)


def expm1_parts32(y):
    """(n, p) with exp(y) = 2ⁿ·(1 + p), n an int, p = expm1(r), for float32 y in [−110, 88]."""
    k = y * _LOG2E_F + _SHIFT_F
    r = k - _SHIFT_F  # round(y·log₂e), exact
    r = (y - r * _LN2_HI_F) - r * _LN2_LO_F
    q = _P1F + r * _P0F
    q = _P2F + r * q
    q = _P3F + r * q
    q = _P4F + r * q
    q = _P5F + r * q
    p = r + (r * r) * q
    n = np.int32(np.float32(k).view(np.int32) - _SHIFT_F_BITS)
    return n, p


def pow2_32(n):
    """2ⁿ as float32 from its exponent bits, for n in [−126, 127]."""
    return np.int32((n + 127) << 23).view(np.float32)


def tanh32(x):
    """tanh(x) for float32 x, in float32 arithmetic: sign(x)·e/(e + 2), e = expm1(2|x|)."""
    a = abs(x)
    a = _TANH_CLAMP_F if a > _TANH_CLAMP_F else a  # nan stays nan
    n, p = expm1_parts32(a + a)
    s = pow2_32(n)
    e = (s - _F1) + s * p
    t = e / (e + _F2)
    return math.copysign(t, x)


def sigmoid32(x):
    """σ(x) = 1 / (1 + e^{−x}) for float32 x, in float32 arithmetic, through e = exp(−|x|) ≤ 1."""
    y = -abs(x)
    y = _EXP_MIN_F if y < _EXP_MIN_F else y
    n, p = expm1_parts32(y)
    h = n >> 1
    e = (pow2_32(h) * (_F1 + p)) * pow2_32(n - h)
    return (_F1 if x >= _F0 else e) / (_F1 + e)


# -- Elman RNN -------------------------------------------------------------------
def elman_backward(g1, g2, d):
    """In place: d = (g1 + g2) ⊙ d, i.e. dA_t = ∂L/∂h_t ⊙ f'(a_t).

    On entry d holds f'(a_t) (formed for all steps before the loop); ∂L/∂h_t comes in two parts,
    the recurrent dA_{t+1} W_hh and ∂L/∂out_t, summed here: one call per step instead of two.
    Shapes: g1, g2, d (B, H)
    """
    B, H = d.shape
    for b in range(B):
        g1b, g2b, db = g1[b], g2[b], d[b]
        for j in range(H):
            db[j] = (g1b[j] + g2b[j]) * db[j]


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
        ai, af, ag, ao = a[b, :H], a[b, H:2 * H], a[b, 2 * H:3 * H], a[b, 3 * H:]
        cp, cn, m = c_prev[b], c[b], m2c[b]
        for j in range(H):
            i = one / (one + ai[j])
            f = one / (one + af[j])
            g = two / (one + ag[j]) - one
            ai[j] = i
            af[j] = f
            ag[j] = g
            ao[j] = one / (one + ao[j])
            x = f * cp[j] + i * g
            cn[j] = x
            m[j] = -two * x


def lstm_out(a, tc, h):
    """tc = e^{−2c} on entry, tanh c on exit; h = o ⊙ tanh c.  Shapes: a (B, 4H); tc, h (B, H)"""
    B, H = h.shape
    one = a.dtype.type(1.0)
    two = a.dtype.type(2.0)
    for b in range(B):
        ao, t, hb = a[b, 3 * H:], tc[b], h[b]
        for j in range(H):
            x = two / (one + t[j]) - one
            t[j] = x
            hb[j] = ao[j] * x


def lstm_step(a, q, c_prev, c, tc, h):
    """One whole LSTM forward step after the GEMM, activations included (:func:`sigmoid`, :func:`tanh`).

    a = P_t (gate rows pre-scaled by −1, −1, −2, −1) and q = h_{t−1} W_hhᵀ (scaled alike) on
    entry; on exit a = [i, f, g, o], c = f ⊙ c_prev + i ⊙ g, tc = tanh c, h = o ⊙ tanh c.
    Shapes: a, q (B, 4H); c_prev, c, tc, h (B, H)
    """
    B, H = c.shape
    mhalf = a.dtype.type(-0.5)  # typed: a float64 literal would widen a float32 kernel's arithmetic
    for b in range(B):
        ai, af, ag, ao = a[b, :H], a[b, H:2 * H], a[b, 2 * H:3 * H], a[b, 3 * H:]
        qi, qf, qg, qo = q[b, :H], q[b, H:2 * H], q[b, 2 * H:3 * H], q[b, 3 * H:]
        cp, cn, t, hb = c_prev[b], c[b], tc[b], h[b]
        for j in range(H):
            i = sigmoid(-(ai[j] + qi[j]))
            f = sigmoid(-(af[j] + qf[j]))
            g = tanh(mhalf * (ag[j] + qg[j]))  # the g rows are scaled by −2 (exactly undone)
            o = sigmoid(-(ao[j] + qo[j]))
            ai[j] = i
            af[j] = f
            ag[j] = g
            ao[j] = o
            x = f * cp[j] + i * g
            cn[j] = x
            y = tanh(x)
            t[j] = y
            hb[j] = o * y


def lstm_backward(g1, g2, dc, a, c_prev, tc, da, dc_prev):
    """One LSTM step back (the equations of :mod:`bptt.functional.lstm`).

    g = g1 + g2 is ∂L/∂h_t (the recurrent part dP_{t+1} W_hh and ∂L/∂out_t: summed here, so
    the loop makes no NumPy call for it);  dct = dc + g ⊙ o ⊙ (1 − tanh²c);
    da = [dct⊙g⊙i(1−i), dct⊙c_prev⊙f(1−f), dct⊙i⊙(1−g²), g⊙tanh c⊙o(1−o)];
    dc_prev = dct ⊙ f.  (The gate g is ``gg``.)
    Shapes: g1, g2, dc, c_prev, tc, dc_prev (B, H); a, da (B, 4H)
    """
    B, H = g1.shape
    one = a.dtype.type(1.0)
    for b in range(B):
        ai, af, ag, ao = a[b, :H], a[b, H:2 * H], a[b, 2 * H:3 * H], a[b, 3 * H:]
        di, df, dg, do = da[b, :H], da[b, H:2 * H], da[b, 2 * H:3 * H], da[b, 3 * H:]
        g1b, g2b, dcb, cp, t, dcp = g1[b], g2[b], dc[b], c_prev[b], tc[b], dc_prev[b]
        for j in range(H):
            i = ai[j]
            f = af[j]
            gg = ag[j]
            o = ao[j]
            y = t[j]
            gh = g1b[j] + g2b[j]
            d = dcb[j] + gh * o * (one - y * y)
            di[j] = d * gg * i * (one - i)
            df[j] = d * cp[j] * f * (one - f)
            dg[j] = d * i * (one - gg * gg)
            do[j] = gh * y * o * (one - o)
            dcp[j] = d * f


# -- GRU (torch's form) -------------------------------------------------------------
def gru_gates(a, q, b_hn, qn):
    """In place: r, z from their exponentials, and the n pre-activation (scaled by −2).

    On entry a[:, :2H] = [e^{−a_r}, e^{−a_z}], a[:, 2H:] = −2·P_n,
    q[:, 2H:] = −2·W_hn h; b_hn = −2·b_hn (zeros without bias). On exit
    a = [r, z, −2(P_n + r ⊙ q_n)] and qn = −2·q_n with q_n = W_hn h + b_hn (what backward
    reads of the recurrent product; its r, z blocks are not read again).
    Shapes: a, q (B, 3H); b_hn (H,); qn (B, H)
    """
    B = a.shape[0]
    H = b_hn.shape[0]
    one = a.dtype.type(1.0)
    for b in range(B):
        # r and z in a loop of their own: fused with the n block below, LLVM's vector code did
        # not run (measured 3–4× slower at B·H ≥ 1024).
        rz = a[b, :2 * H]
        for j in range(2 * H):
            rz[j] = one / (one + rz[j])
        ar, an, qb, qnb = a[b, :H], a[b, 2 * H:], q[b, 2 * H:], qn[b]
        for j in range(H):
            x = qb[j] + b_hn[j]
            qnb[j] = x
            an[j] += ar[j] * x


def gru_out(a, h_prev, h):
    """a[:, 2H:] = e^{−2(P_n + r ⊙ q_n)} on entry, n on exit; h = n + z ⊙ (h_prev − n).

    Shapes: a (B, 3H); h_prev, h (B, H)
    """
    B, H = h.shape
    one = a.dtype.type(1.0)
    two = a.dtype.type(2.0)
    for b in range(B):
        an = a[b, 2 * H:]
        for j in range(H):  # a loop of its own, as in gru_gates (measured 2.5–3.5× faster)
            an[j] = two / (one + an[j]) - one
        az, hp, hb = a[b, H:2 * H], h_prev[b], h[b]
        for j in range(H):
            n = an[j]
            hb[j] = n + az[j] * (hp[j] - n)


def gru_step(a, q, b_hn, h_prev, h, qn):
    """One whole GRU forward step after the GEMM, activations included (:func:`sigmoid`, :func:`tanh`).

    a = P_t and q = h_{t−1} W_hhᵀ (r, z rows scaled by −1, n rows by −2), b_hn = −2·b_hn on
    entry; on exit a = [r, z, n], qn = −2·q_n (q_n = W_hn h + b_hn), h = n + z ⊙ (h_prev − n).
    Shapes: a, q (B, 3H); b_hn (H,); h_prev, h, qn (B, H)
    """
    B, H = h.shape
    mhalf = a.dtype.type(-0.5)  # typed, as in lstm_step
    for b in range(B):
        ar, az, an = a[b, :H], a[b, H:2 * H], a[b, 2 * H:]
        qr, qz, qb = q[b, :H], q[b, H:2 * H], q[b, 2 * H:]
        hp, hb, qnb = h_prev[b], h[b], qn[b]
        for j in range(H):
            r = sigmoid(-(ar[j] + qr[j]))
            z = sigmoid(-(az[j] + qz[j]))
            x = qb[j] + b_hn[j]
            qnb[j] = x
            n = tanh(mhalf * (an[j] + r * x))  # the n rows are scaled by −2 (exactly undone)
            ar[j] = r
            az[j] = z
            an[j] = n
            hb[j] = n + z * (hp[j] - n)


def gru_backward(g1, g2, g3, a, h_prev, qn, dp, dq, dqn, gz):
    """One GRU step back (torch's form; equations of :mod:`bptt.functional.gru`).

    g = (g1 + g2) + g3 is ∂L/∂h_t: the recurrent part dQ_{t+1} W_hh, the direct part
    g_{t+1} ⊙ z_{t+1} and ∂L/∂out_t, summed here so that the loop makes no NumPy call for
    them.  da_n = g(1−z)(1−n²), da_z = g(h−n)z(1−z), da_r = da_n q_n r(1−r) with
    q_n = −½·qn;  dp = [da_r, da_z, da_n], dq = [da_r, da_z, r ⊙ da_n] (the step's dQ_t, for
    dQ_t W_hh), dqn = r ⊙ da_n (kept for dW_hh: dQ's r, z blocks are dp's),
    gz = g ⊙ z (this step's direct part; gz must not be g1, g2 or g3).
    Shapes: g1, g2, g3, h_prev, qn, dqn, gz (B, H); a, dp, dq (B, 3H)
    """
    B, H = g1.shape
    one = a.dtype.type(1.0)
    half = a.dtype.type(-0.5)
    for b in range(B):
        ar, az, an, qb = a[b, :H], a[b, H:2 * H], a[b, 2 * H:], qn[b]
        pr, pz, pn = dp[b, :H], dp[b, H:2 * H], dp[b, 2 * H:]
        sr, sz, sn, kn = dq[b, :H], dq[b, H:2 * H], dq[b, 2 * H:], dqn[b]
        g1b, g2b, g3b, hp, gzb = g1[b], g2[b], g3[b], h_prev[b], gz[b]
        for j in range(H):
            r = ar[j]
            z = az[j]
            n = an[j]
            gh = (g1b[j] + g2b[j]) + g3b[j]
            dn = gh * (one - z) * (one - n * n)
            dz = gh * (hp[j] - n) * z * (one - z)
            dr = dn * (half * qb[j]) * r * (one - r)
            pr[j] = dr
            pz[j] = dz
            pn[j] = dn
            sr[j] = dr
            sz[j] = dz
            x = r * dn
            sn[j] = x
            kn[j] = x
            gzb[j] = gh * z


# -- whole-sequence loops ----------------------------------------------------------------
# What a step of the Python loop costs besides its arithmetic is the Python around it: a method
# call and two to six NumPy calls, ~1 µs each. These loops run every step in one compiled call:
# the recurrent product (:func:`mm`: BLAS's gemm called from inside the loop, or for the tiniest
# layers a plain loop, cheaper than a BLAS call there), then the step kernel above. The input
# projection before and the parameter GEMMs after stay NumPy. Only for the unmasked loop; with
# ``lengths`` the Python loop runs the same step kernels.
def matmul_into(x, w, out):
    """out = x w.  Shapes: x (B, K), w (K, N), out (B, N)"""
    B, K = x.shape
    N = w.shape[1]
    zero = out.dtype.type(0.0)
    for b in range(B):
        o, xb = out[b], x[b]
        for j in range(N):
            o[j] = zero
        for k in range(K):
            xk, wk = xb[k], w[k]
            for j in range(N):
                o[j] += xk * wk[j]


def mm(x, w, out, gemm):
    """out = x w, through ``gemm`` (BLAS's cblas_?gemm as a ctypes function, :func:`.blas.cblas_gemm`)
    or, with gemm None, :func:`matmul_into`.  Shapes: x (B, K), w (K, N), out (B, N), C-contiguous rows
    """
    if gemm is None:
        matmul_into(x, w, out)
    else:
        M, K = x.shape
        N = w.shape[1]
        gemm(101, 111, 111, M, N, K, 1.0, x.ctypes, K, w.ctypes, N, 0.0, out.ctypes, N)  # row-major, no transposes


def step_rows(dout, t, zero):
    """dout[t], or zeros when dout has no steps (no gradient from the outputs)."""
    return zero if dout.shape[0] == 0 else dout[t]


def step_rows_of(dout, t, zero, b0, b1):
    """Rows b0…b1−1 of dout[t], or of ``zero`` when dout has no steps."""
    return zero[b0:b1] if dout.shape[0] == 0 else dout[t, b0:b1]


# Every sequence loop runs the rows b0…b1−1 of the batch: rows never read each other's state, so
# two halves of a batch may run at once on two threads (:func:`.parallel.choose_rows`); a slice of
# rows of a C-contiguous step array stays C-contiguous, so the step kernels keep their vector loops.
def rnn_forward_seq(W_hh_T, Hs, q, kind, gemm, b0, b1):
    """Elman forward over all steps: H[t+1] = f(P[t] + H[t] W_hhᵀ), with P[t] in H[t+1] on entry.

    kind 0: tanh, 1: ReLU, 2: sigmoid as ½·tanh + ½ (P and W_hh_T already halved, as the
    NumPy path does); gemm as in :func:`mm`; rows b0…b1−1. P is stored where h_t goes, so the
    forward keeps one (T, B, H) array; the step product goes to ``q``, and each element is read
    and written through the one array (a separate P view of the same rows lost the vector loop:
    small RNN 0.74×).
    Shapes: W_hh_T (H, H), Hs (T+1, B, H) with Hs[0] = h0 and Hs[1:] = P, q (B, H)
    """
    T = Hs.shape[0] - 1
    half = Hs.dtype.type(0.5)
    zero = Hs.dtype.type(0.0)
    qr = q[b0:b1]
    for t in range(T):
        h = Hs[t + 1, b0:b1]
        mm(Hs[t, b0:b1], W_hh_T, qr, gemm)
        B, H = h.shape
        for b in range(B):
            hb, qb = h[b], qr[b]
            for j in range(H):
                a = qb[j] + hb[j]
                if kind == 0:
                    hb[j] = tanh(a)
                elif kind == 1:
                    hb[j] = max(a, zero)
                else:
                    hb[j] = half * tanh(a) + half


def rnn_backward_seq(dout, dh, Hs, dA, W_hh, kind, gemm, b0, b1):
    """Elman backward over all steps: dA_t = (dh_t + dout_t) ⊙ f'(h_t), dh_{t−1} = dA_t W_hh; rows b0…b1−1.

    dh: ∂L/∂h_T on entry, ∂L/∂h0 on exit (the caller's own buffer).
    Shapes: dout (T, B, H) or (0, B, H); dh (B, H); Hs (T+1, B, H); dA (T, B, H); W_hh (H, H)
    """
    T = dA.shape[0]
    one = dA.dtype.type(1.0)
    zero = dA.dtype.type(0.0)
    dhr = dh[b0:b1]
    for t in range(T - 1, -1, -1):
        d = dA[t, b0:b1]
        if dout.shape[0] == 0:
            d[:] = dhr
        else:
            d[:] = dhr + dout[t, b0:b1]
        B, H = d.shape
        for b in range(B):
            db, yb = d[b], Hs[t + 1, b0 + b]
            for j in range(H):
                y = yb[j]
                if kind == 0:
                    db[j] *= one - y * y
                elif kind == 1:
                    db[j] = db[j] if y > zero else zero
                else:
                    db[j] *= (one - y) * y
        mm(d, W_hh, dhr, gemm)


def lstm_forward_seq(P, W_hh_T, Hs, Cs, TC, q, gemm, b0, b1):
    """LSTM forward over all steps, rows b0…b1−1: q = H[t] W_hhᵀ, then :func:`lstm_step`.

    Shapes: P (T, B, 4H); W_hh_T (H, 4H); Hs, Cs (T+1, B, H); TC (T, B, H); q (B, 4H) scratch
    """
    qr = q[b0:b1]
    for t in range(P.shape[0]):
        mm(Hs[t, b0:b1], W_hh_T, qr, gemm)
        lstm_step(P[t, b0:b1], qr, Cs[t, b0:b1], Cs[t + 1, b0:b1], TC[t, b0:b1], Hs[t + 1, b0:b1])


def lstm_backward_seq(dout, dh, dc, P, Cs, TC, dP, W_hh, zero, dc_prev, gemm, b0, b1):
    """LSTM backward over all steps, rows b0…b1−1: :func:`lstm_backward`, then dh_{t−1} = dP_t W_hh.

    dh, dc: ∂L/∂h_T, ∂L/∂c_T on entry, ∂L/∂h0, ∂L/∂c0 on exit (the caller's own buffers).
    Shapes: dout (T, B, H) or (0, B, H); dh, dc, zero, dc_prev (B, H) (zero: zeros, dc_prev:
    scratch); P, dP (T, B, 4H); Cs (T+1, B, H); TC (T, B, H); W_hh (4H, H)
    """
    dhr, dcr, dcp = dh[b0:b1], dc[b0:b1], dc_prev[b0:b1]
    for t in range(dP.shape[0] - 1, -1, -1):
        lstm_backward(dhr, step_rows_of(dout, t, zero, b0, b1), dcr, P[t, b0:b1], Cs[t, b0:b1], TC[t, b0:b1],
                      dP[t, b0:b1], dcp)
        mm(dP[t, b0:b1], W_hh, dhr, gemm)
        dcr[:] = dcp


def gru_forward_seq(P, W_hh_T, b_hn, Hs, Qn, q, gemm, b0, b1):
    """GRU (torch's form) forward over all steps, rows b0…b1−1: q = H[t] W_hhᵀ, then :func:`gru_step`
    (which keeps Qn[t] = −2·q_n, the one block of q that backward reads).

    Shapes: P (T, B, 3H); W_hh_T (H, 3H); b_hn (H,); Hs (T+1, B, H); Qn (T, B, H); q (B, 3H) scratch
    """
    qr = q[b0:b1]
    for t in range(P.shape[0]):
        mm(Hs[t, b0:b1], W_hh_T, qr, gemm)
        gru_step(P[t, b0:b1], qr, b_hn, Hs[t, b0:b1], Hs[t + 1, b0:b1], Qn[t, b0:b1])


def gru_backward_seq(dout, dh, P, Hs, Qn, dP, dq, dQn, W_hh, zero, gz, gemm, b0, b1):
    """GRU backward over all steps, rows b0…b1−1: :func:`gru_backward`, then dh_{t−1} = dQ_t W_hh
    (+ g ⊙ z, which the next step's kernel adds; the last one is added here).

    dh: ∂L/∂h_T on entry, ∂L/∂h0 on exit (the caller's own buffer).
    Shapes: dout (T, B, H) or (0, B, H); dh, zero (B, H) (zero: zeros); gz (2, B, H) (zeros:
    g ⊙ z of the step before and of this one); P, dP (T, B, 3H); Qn, dQn (T, B, H); dq (B, 3H)
    scratch; Hs (T+1, B, H); W_hh (3H, H)
    """
    dhr, dqr = dh[b0:b1], dq[b0:b1]
    for t in range(dP.shape[0] - 1, -1, -1):
        gru_backward(dhr, gz[(t + 1) & 1, b0:b1], step_rows_of(dout, t, zero, b0, b1), P[t, b0:b1], Hs[t, b0:b1],
                     Qn[t, b0:b1], dP[t, b0:b1], dqr, dQn[t, b0:b1], gz[t & 1, b0:b1])
        mm(dqr, W_hh, dhr, gemm)
    dhr += gz[0, b0:b1]


def state_grad(d, S):
    """∂L/∂(final state) as the loops take it: a C-contiguous copy they may write (zeros when None)."""
    if d is None:
        return np.zeros((S.B, S.H), dtype=S.dtype)
    return np.array(d, dtype=S.dtype, order="C")


def outputs_grad(dout, S):
    """dout as the loops take it: C-contiguous in the layer's dtype, or no steps when None."""
    if dout is None:
        return np.empty((0, S.B, S.H), dtype=S.dtype)
    return np.ascontiguousarray(dout, dtype=S.dtype)


# Where the whole-sequence loops multiply by W_hh in their own loop rather than call BLAS: B·H up to
# this, or a batch of at most MATMUL_LOOP_BATCH rows. Measured per step product (h, 4H) on one
# thread: B·H = 8: loop 0.06 µs, gemm 0.11; 4·16: 0.31 / 0.24 (float32), 0.53 / 0.48 (float64);
# 8·32: 2.0 / 1.2; and for one or two rows gemm (packing all of W each call) loses at every size
# measured: 1·64 1.05 / 3.1 µs, 2·128 8.3 / 20.6 µs (float32; float64 alike).
MATMUL_LOOP_ELEMENTS = 64
MATMUL_LOOP_BATCH = 2


def step_gemm(S):
    """What :func:`mm` takes for the step product of a layer state ``S``: None (the plain loop) for
    the tiniest layers and one- or two-row batches, else BLAS's gemm for S.dtype (None if not found)."""
    if S.B * S.H <= MATMUL_LOOP_ELEMENTS or S.B <= MATMUL_LOOP_BATCH:
        return None
    from .blas import cblas_gemm

    return cblas_gemm(S.dtype)


def has_step_product(B, H):
    """Whether the whole-sequence loops form the step product of a (B, H) layer without a slow loop:
    the plain loop where it is the faster one, else BLAS's gemm, found for float32 and float64."""
    if B * H <= MATMUL_LOOP_ELEMENTS or B <= MATMUL_LOOP_BATCH:
        return True
    from .blas import cblas_gemm

    return cblas_gemm(np.float32) is not None and cblas_gemm(np.float64) is not None


# Compiled in this order, each against the compiled ones before it (a kernel calls the others by
# their global names).
# The activations per dtype of the arrays: the float32 kernels are the same functions compiled
# against the float32-native tanh and sigmoid (as ``tanh`` / ``sigmoid`` in their namespace).
_ACTIVATIONS = {"float64": ("exp_parts", "tanh", "sigmoid"),
                "float32": ("expm1_parts32", "pow2_32", "tanh32", "sigmoid32")}
_ORDER = ("elman_backward", "lstm_gates", "lstm_out", "lstm_step", "lstm_backward", "gru_gates", "gru_out",
          "gru_step", "gru_backward", "matmul_into", "mm", "step_rows", "step_rows_of",
          "rnn_forward_seq", "rnn_backward_seq", "lstm_forward_seq", "lstm_backward_seq", "gru_forward_seq",
          "gru_backward_seq")


def _compile() -> dict | None:
    try:
        import numba
    except ImportError:
        return None
    # error_model="numpy": no ZeroDivisionError checks (1/(1+e) is never a division by zero, and
    # the checks would block vectorisation); cache=True: compiled once per machine, not per process;
    # fastmath "contract" only (a·b + c as one FMA: fewer roundings, never more error; no flag that
    # assumes away nan or inf); nogil: a layer's two directions may run in two threads.
    jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})

    # Each function is compiled against a copy of this module's globals in which the names of the
    # ones before it are their compiled versions (the Python functions stay plain Python, callable
    # and testable without numba). The float32 set gets its own qualified names: numba's cache
    # tells functions apart by them, not by the globals they were compiled against.
    def build(names, compiled, suffix=""):
        for name in names:
            fn = globals()[name]
            f = FunctionType(fn.__code__, {**globals(), **compiled}, name, fn.__defaults__, fn.__closure__)
            f.__qualname__ = name + suffix
            compiled[name] = jit(f)
        return compiled

    f64 = build(_ACTIVATIONS["float64"] + _ORDER, {})
    act32 = build(_ACTIVATIONS["float32"], {})
    f32 = build(_ORDER, {**act32, "tanh": act32["tanh32"], "sigmoid": act32["sigmoid32"]}, "_f32")
    return {np.dtype(np.float64): SimpleNamespace(**f64), np.dtype(np.float32): SimpleNamespace(**f32)}


_F32 = np.dtype(np.float32)


def get(dtype=None) -> SimpleNamespace | None:
    """The compiled kernels for arrays of ``dtype`` (float32: float32-native activations; anything
    else, or None: float64 activations) if numba is installed and they are not switched off, else None."""
    if _state["off"]:
        return None
    if not _state["tried"]:
        _state["kernels"] = _compile()
        _state["tried"] = True
    kern = _state["kernels"]
    if kern is None:
        return None
    return kern[_F32] if dtype is not None and np.dtype(dtype) == _F32 else kern[np.dtype(np.float64)]


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
