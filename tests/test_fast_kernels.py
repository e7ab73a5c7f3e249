"""The compiled gate kernels (:mod:`bptt.functional.fast.kernels`) against the pure-NumPy backend.

test_fast_backends.py runs every layer test on both paths against the reference
backend; here the fast backends are compared directly, and the choice
between them (:func:`bptt.functional.fast.select`) is tested.
"""

import numpy as np
import pytest

from bptt.functional.fast import kernels

from test_fast_backends import _problem, _run, force_tanh_route

numba = pytest.importorskip("numba", reason="the compiled kernels need numba (bptt[fast])")


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("B,H", [(1, 2), (8, 8), (4, 17), (32, 256), (33, 256)])
def test_kernels_are_used_and_the_whole_step_only_for_the_tiniest(kind, B, H):
    from bptt.functional.fast import WHOLE_MAX_ELEMENTS

    cell, args, up = _problem(kind, 3, B, 4, H, np.float64, seed=11)
    tiny = B * H <= kernels.WHOLE_STEP_ELEMENTS
    _, cache = _run(cell, args, up)
    assert cache.backend.name == ("whole" if B * H <= WHOLE_MAX_ELEMENTS else "fused")
    assert cache.backend.own_backward_loop  # every size: the fused backward kernel sums the parts of ∂L/∂h_t
    _, cache = _run(cell, args, up, lengths=np.full(B, 2))  # lengths: the Python loop, whole-step kernel if tiny
    assert cache.backend.name == "fused" and cache.backend.whole_step == tiny
    with kernels.disabled():
        _, cache = _run(cell, args, up)
    assert cache.backend.name == "numpy" and not cache.backend.own_backward_loop
    assert kernels.enabled()  # the context manager restores the switch


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-13), (np.float32, 2e-6)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("B,H", [(12, 24), (3, 4)])  # the two-kernel step / the whole-step kernel
def test_compiled_path_equals_numpy_path(kind, dtype, tol, bias, B, H):
    """Same sizes, same dtype, with and without lengths and bias; float32 stays float32."""
    cell, args, up = _problem(kind, 6, B, 5, H, dtype, seed=12, bias=bias)
    lengths = np.array([6, 1, 3, 6, 2, 5, 4, 6, 1, 2, 3, 5])[:B]
    for ln, keep_dh in ((None, True), (lengths, True), (None, False)):  # the last: the cell's own backward loop
        fast, cache = _run(cell, args, up, lengths=ln, keep_dh=keep_dh)
        assert cache.backend.name in ("fused", "whole")
        with kernels.disabled():
            ref, _ = _run(cell, args, up, lengths=ln, keep_dh=keep_dh)
        assert fast.keys() == ref.keys()
        for k in fast:
            assert fast[k].dtype == dtype, k
            np.testing.assert_allclose(fast[k], ref[k], rtol=tol, atol=tol, err_msg=k)


@pytest.mark.parametrize("kind", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("B,H,dtype", [(1, 2, np.float64), (8, 8, np.float32), (4, 17, np.float64), (1, 300, np.float64),
                                       (33, 256, np.float32)])
def test_elman_whole_sequence_loop_up_to_the_medium_size_fused_backward_beyond(kind, B, H, dtype):
    from bptt.functional.fast import WHOLE_MAX_ELEMENTS

    cell, args, up = _problem(kind, 3, B, 4, H, dtype, seed=14)
    fast, cache = _run(cell, args, up)
    assert cache.backend.name == ("whole" if B * H <= WHOLE_MAX_ELEMENTS else "fused")
    assert cache.backend.own_backward_loop  # larger layers: one kernel (dA = (dh + dout) ⊙ f') and the GEMM per step
    with kernels.disabled():
        ref, cache = _run(cell, args, up)
    assert cache.backend.name == "numpy" and not cache.backend.own_backward_loop
    tol = 1e-13 if dtype == np.float64 else 2e-6
    for k in fast:
        np.testing.assert_allclose(fast[k], ref[k], rtol=tol, atol=tol, err_msg=k)


@pytest.mark.parametrize("kind", ["tanh", "relu", "sigmoid"])
def test_elman_sequence_kernels_as_plain_python_equal_the_equations(kind):
    """rnn_forward_seq / rnn_backward_seq run as plain Python (no numba) against the equations by hand."""
    rng = np.random.default_rng(15)
    T, B, H = 3, 2, 2
    P, W = rng.standard_normal((T, B, H)), rng.standard_normal((H, H))
    f, df = {"tanh": (np.tanh, lambda y: 1 - y * y), "relu": (lambda a: np.maximum(a, 0), lambda y: (y > 0) * 1.0),
             "sigmoid": (lambda a: 0.5 * np.tanh(a) + 0.5, lambda y: y * (1 - y))}[kind]
    Hs = np.zeros((T + 1, B, H))
    Hs[0] = rng.standard_normal((B, H))
    code = {"tanh": 0, "relu": 1, "sigmoid": 2}[kind]
    # P stored where h_t goes (as ElmanWhole keeps it): each step reads P[t] before it writes h_t over it
    Hs[1:] = P
    q, WT = np.empty((B, H)), W.T.copy()
    for b0, b1 in ((0, 1), (1, B)):  # row ranges: each half of the batch alone, as two threads run them
        kernels.rnn_forward_seq(WT, Hs, q, code, None, b0, b1)  # None: the plain product loop
    h = Hs[0]
    for t in range(T):
        h = f(P[t] + h @ W.T)
        np.testing.assert_allclose(Hs[t + 1], h, rtol=1e-14, atol=1e-15)
    dout, dh_T = rng.standard_normal((T, B, H)), rng.standard_normal((B, H))
    dA, dh = np.empty((T, B, H)), dh_T.copy()
    for b0, b1 in ((1, B), (0, 1)):
        kernels.rnn_backward_seq(dout, dh, Hs, dA, W, code, None, b0, b1)
    g = dh_T
    for t in range(T - 1, -1, -1):
        da = (g + dout[t]) * df(Hs[t + 1])
        np.testing.assert_allclose(dA[t], da, rtol=1e-14, atol=1e-15)
        g = da @ W
    np.testing.assert_allclose(dh, g, rtol=1e-14, atol=1e-15)


def test_kernels_written_out_equal_the_module_docstring_equations():
    """lstm_backward called as plain Python (no numba) on one element, against the equations by hand."""
    rng = np.random.default_rng(13)
    i, f, gg, o, c_prev, t, g1, g2, dc = rng.uniform(0.1, 0.9, 9)
    a = np.array([[i, f, gg, o]])
    da = np.empty((1, 4))
    dcp = np.empty((1, 1))
    kernels.lstm_backward(np.array([[g1]]), np.array([[g2]]), np.array([[dc]]), a, np.array([[c_prev]]),
                          np.array([[t]]), da, dcp)
    gh = g1 + g2  # ∂L/∂h_t, given in two parts (recurrent, from the output)
    d = dc + gh * o * (1 - t * t)
    np.testing.assert_allclose(da[0], [d * gg * i * (1 - i), d * c_prev * f * (1 - f), d * i * (1 - gg * gg),
                                       gh * t * o * (1 - o)], rtol=1e-15)
    np.testing.assert_allclose(dcp[0, 0], d * f, rtol=1e-15)


def test_without_numba_the_numpy_path_runs(monkeypatch):
    """bptt installed without the `fast` extra: no numba, same results through NumPy."""
    import sys

    cell, args, up = _problem("lstm", 5, 6, 4, 7, np.float64, seed=14)
    with_numba, _ = _run(cell, args, up)
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now raises ImportError
    monkeypatch.setattr(kernels, "_state", {"kernels": None, "tried": False, "off": False})
    assert not kernels.available() and not kernels.enabled() and kernels.get() is None
    without, cache = _run(cell, args, up)
    assert cache.backend.name == "numpy"
    for k in with_numba:
        np.testing.assert_allclose(without[k], with_numba[k], rtol=1e-13, atol=1e-13, err_msg=k)


def test_gru_backward_kernel_equals_the_equations_by_hand():
    """gru_backward called as plain Python (no numba) on one element, against torch's GRU equations."""
    rng = np.random.default_rng(15)
    r, z, n = rng.uniform(0.1, 0.9, 3)
    h_prev, q_n, g1, g2, g3 = rng.standard_normal(5)
    a = np.array([[r, z, n]])
    qn = np.array([[-2.0 * q_n]])  # the cell keeps −2·q_n
    dp, dq, dqn, gz = np.empty((1, 3)), np.empty((1, 3)), np.empty((1, 1)), np.empty((1, 1))
    kernels.gru_backward(np.array([[g1]]), np.array([[g2]]), np.array([[g3]]), a, np.array([[h_prev]]), qn, dp, dq,
                         dqn, gz)
    gh = g1 + g2 + g3  # ∂L/∂h_t, given in three parts (recurrent, direct, from the output)
    da_n = gh * (1 - z) * (1 - n * n)
    da_z = gh * (h_prev - n) * z * (1 - z)
    da_r = da_n * q_n * r * (1 - r)
    np.testing.assert_allclose(dp[0], [da_r, da_z, da_n], rtol=1e-14)
    np.testing.assert_allclose(dq[0], [da_r, da_z, r * da_n], rtol=1e-14)
    np.testing.assert_allclose(dqn[0, 0], r * da_n, rtol=1e-14)  # dQ's n block, kept for dW_hh
    np.testing.assert_allclose(gz[0, 0], gh * z, rtol=1e-15)


@pytest.mark.parametrize("avx512_tanh", [False, True])
def test_float64_tanh_through_exp_only_without_avx512_tanh_and_from_256_elements(avx512_tanh, monkeypatch):
    force_tanh_route(monkeypatch, avx512_tanh)
    for kind in ("tanh", "lstm"):
        for B, H, dtype, by_exp in ((16, 20, np.float64, not avx512_tanh), (16, 20, np.float32, False),
                                    (4, 20, np.float64, False)):
            cell, args, up = _problem(kind, 3, B, 4, H, dtype, seed=16)
            _, cache = _run(cell, args, up, backend="fused")  # the route of the NumPy-exp steps
            assert cache.state.tanh_by_exp is by_exp, (kind, B, H, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B,K,N", [(1, 2, 8), (3, 5, 12), (16, 64, 256)])
def test_step_product_by_loop_and_by_blas_gemm_equals_numpy(dtype, B, K, N):
    """kernels.mm: BLAS's cblas_?gemm called from compiled code, and the plain loop, against np.dot."""
    from bptt.functional.fast import blas

    gemm = blas.cblas_gemm(dtype)
    if gemm is None:
        pytest.skip("NumPy's BLAS exports no 64-bit-integer cblas gemm here")
    rng = np.random.default_rng(16)
    big = rng.standard_normal((2, B, K)).astype(dtype)  # a row view of a 3-D array, as the loops pass
    w = rng.standard_normal((K, N)).astype(dtype)
    want = np.dot(big[1].astype(np.float64), w.astype(np.float64))
    K_ = kernels.get()
    for g in (gemm, None):
        out = np.full((B, N), np.nan, dtype=dtype)
        K_.mm(big[1], w, out, g)
        assert out.dtype == dtype
        np.testing.assert_allclose(out, want, rtol=1e-4 if dtype == np.float32 else 1e-13, atol=1e-4 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("kind", ["tanh", "relu", "sigmoid", "lstm", "gru"])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("B,H", [(4, 24), (3, 40), (2, 48)])  # gemm inside the loop / two rows: the plain loop
def test_whole_sequence_loop_with_the_step_gemm_inside_equals_the_reference(kind, dtype, tol, B, H):
    """Past the tiniest sizes the whole-sequence loop calls BLAS's gemm from compiled code; float32 stays float32."""
    cell, args, up = _problem(kind, 7, B, 5, H, dtype, seed=17)
    assert (kernels.step_gemm(type("S", (), {"B": B, "H": H, "dtype": np.dtype(dtype)})) is None) == (B <= 2)
    for none in ([], ["dout"], ["dh_T", "dc_T"]):
        up2 = {k: (None if k in none else v) for k, v in up.items()}
        fast, cache = _run(cell, args, up2, backend="whole")
        assert cache.backend.name == "whole"
        ref, _ = _run(cell, args, up2, backend="reference")
        assert fast.keys() == ref.keys()
        for k in fast:
            assert fast[k].dtype == dtype, k
            np.testing.assert_allclose(fast[k], ref[k], rtol=tol, atol=tol, err_msg=k)
