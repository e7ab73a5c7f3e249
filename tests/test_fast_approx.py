"""The kernels' own tanh and sigmoid (bptt.functional.fast.kernels) against exact values.

The float64 kernels use ``tanh`` / ``sigmoid`` (float64 arithmetic), the float32 kernels
``tanh32`` / ``sigmoid32`` (float32 arithmetic throughout). Swept over the whole float
range: dense near 0, around the clamp points (tanh's 20 and 9, the exp ranges' ends),
subnormals, every binade up to the largest float, ±inf and nan; float32 also over
random bit patterns. Reference: NumPy's tanh / exp in long double (x86: 64-bit
mantissa), rounded to the tested dtype's precision only at the comparison. Float64:
max relative error ≤ 1e-15 where the result is normal (and absolute error below
2.2e-308 where it is not); float32: ≤ 2.5 ulp (measured 2.21 for tanh, 2.25 for σ;
NumPy's own float32 tanh: 1.36), subnormal results of σ included.
"""

import re

import numpy as np
import pytest

from bptt.functional.fast import kernels

numba = pytest.importorskip("numba", reason="the compiled kernels need numba (bptt[fast])")
if np.finfo(np.longdouble).nmant < 63:  # pragma: no cover - platforms without x87 long double
    pytest.skip("the exact reference needs an 80-bit long double", allow_module_level=True)

K = kernels.get(np.float64) if kernels.enabled() else None
K32 = kernels.get(np.float32) if kernels.enabled() else None
pytestmark = pytest.mark.skipif(K is None, reason="compiled kernels switched off")


def _loops(ns):
    tanh, sigmoid = ns.tanh, ns.sigmoid

    @numba.njit(nogil=True, error_model="numpy")
    def loop_tanh(x, out):
        for i in range(x.shape[0]):
            out[i] = tanh(x[i])

    @numba.njit(nogil=True, error_model="numpy")
    def loop_sigmoid(x, out):
        for i in range(x.shape[0]):
            out[i] = sigmoid(x[i])

    return {"tanh": loop_tanh, "sigmoid": loop_sigmoid}


# per dtype: the activations that dtype's kernels call
LOOPS = {np.float64: _loops(K), np.float32: _loops(K32)} if K is not None else {}


def _exact(name, x):
    xl = x.astype(np.longdouble)
    with np.errstate(over="ignore"):
        return np.tanh(xl) if name == "tanh" else 1 / (1 + np.exp(-xl))


def _sweep(dtype):
    fi = np.finfo(dtype)
    pos = np.append(np.geomspace(float(fi.smallest_subnormal), float(fi.max) / 4, 400_000), float(fi.max))
    parts = [
        np.linspace(-1e-3, 1e-3, 200_001), np.linspace(-2, 2, 400_001), np.linspace(-30, 30, 600_001),
        np.linspace(15, 25, 100_001), np.linspace(-750, -700, 100_001), np.linspace(700, 750, 100_001),
        np.linspace(5, 12, 100_001), np.linspace(-120, -80, 200_001), np.linspace(80, 120, 100_001),
        np.linspace(-1000, 1000, 200_001), pos, -pos,
    ]
    x = np.concatenate([p.astype(dtype) for p in parts])
    if dtype == np.float32:
        bits = np.random.default_rng(0).integers(0, 2**32, 2_000_000, dtype=np.uint64).astype(np.uint32)
        x = np.concatenate([x, bits.view(np.float32)])
    x = x[np.isfinite(x)]
    return x


def _run(name, x):
    out = np.empty_like(x)
    LOOPS[x.dtype.type][name](x, out)
    return out


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_float64_relative_error_at_most_1e15_over_the_whole_range(name):
    x = _sweep(np.float64)
    got, exact = _run(name, x), _exact(name, x)
    normal = np.abs(exact) >= np.finfo(np.float64).tiny
    rel = np.abs((got.astype(np.longdouble) - exact)[normal] / exact[normal])
    assert rel.max() <= 1e-15, (name, float(rel.max()), x[normal][np.argmax(rel)])
    assert np.abs(got[~normal] - exact[~normal].astype(np.float64)).max(initial=0) < np.finfo(np.float64).tiny


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_float32_error_at_most_two_and_a_half_ulp_over_the_whole_range(name):
    x = _sweep(np.float32)
    got, exact = _run(name, x), _exact(name, x)
    assert got.dtype == np.float32
    # one ulp of the exact value in float32 (subnormal results: the subnormal spacing)
    ulp = np.spacing(np.abs(exact.astype(np.float32))).astype(np.longdouble)
    err = np.abs(got.astype(np.longdouble) - exact) / ulp
    assert err.max() <= 2.5, (name, float(err.max()), x[np.argmax(err)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, np.finfo(dtype).max, -np.finfo(dtype).max], dtype=dtype)
    t, s = _run("tanh", x), _run("sigmoid", x)
    np.testing.assert_array_equal(t, np.array([np.nan, 1, -1, 0, 0, 1, -1], dtype=dtype))
    assert np.signbit(t[4]) and not np.signbit(t[3])  # tanh(−0) = −0
    np.testing.assert_array_equal(s, np.array([np.nan, 1, 0, 0.5, 0.5, 1, 0], dtype=dtype))


def test_plain_python_functions_equal_the_compiled_ones():
    """The kernels stay plain Python (testable without numba): same numbers as compiled, to rounding."""
    x = np.concatenate([np.linspace(-25, 25, 501), [1e-300, -1e-12, 700.0, -709.5, 800.0]])
    for name, plain in (("tanh", kernels.tanh), ("sigmoid", kernels.sigmoid)):
        want = _run(name, x)
        got = np.array([plain(np.float64(v)) for v in x])
        np.testing.assert_allclose(got, want, rtol=4e-16, atol=0, err_msg=name)
    x32 = np.concatenate([np.linspace(-12, 12, 481), [1e-30, -1e-40, -95.0, 100.0]]).astype(np.float32)
    for name, plain in (("tanh", kernels.tanh32), ("sigmoid", kernels.sigmoid32)):
        want = _run(name, x32)
        got = np.array([plain(v) for v in x32], dtype=np.float32)
        np.testing.assert_allclose(got, want, rtol=2.4e-7, atol=0, err_msg=name)


@pytest.mark.parametrize("dtype, vector", [(np.float64, "double"), (np.float32, "float")])
def test_a_loop_of_them_compiles_to_vector_code_without_calls(dtype, vector):
    """No scalar libm call inside: LLVM turns the loop into SIMD (vectors of the dtype itself)."""
    loop = LOOPS[dtype]["tanh"]
    _run("tanh", np.zeros(4, dtype=dtype))
    sig = [s for s in loop.signatures if s[0].dtype == numba.from_dtype(np.dtype(dtype))][0]
    ir = loop.inspect_llvm(sig)
    body = ir[ir.index("define"):]
    assert re.search(rf"<\d+ x {vector}>", body), "the tanh loop was not vectorised"
    assert not re.search(r"call [^\n]*@(tanh|exp)", body)
    if dtype == np.float32:
        assert not re.search(r"<\d+ x double>", body)  # no widening to float64


def test_each_dtype_gets_its_own_kernels():
    """float32 arrays run the float32-native activations; everything else the float64 ones."""
    assert kernels.get(np.float32) is K32 and kernels.get(np.float64) is K and kernels.get() is K
    x = np.array([0.3], dtype=np.float32)
    a, q = np.zeros((1, 4), np.float32), np.zeros((1, 4), np.float32)
    a[0] = -x[0]  # the i, f, o rows hold −a, the g row −2a (lstm_step's scaling)
    a[0, 2] = -2 * x[0]
    c, tc, h = (np.zeros((1, 1), np.float32) for _ in range(3))
    K32.lstm_step(a, q, np.zeros((1, 1), np.float32), c, tc, h)
    s, t = kernels.sigmoid32(x[0]), kernels.tanh32(x[0])
    assert a[0].tolist() == [s, s, t, s]  # the float32 functions' own values, bit for bit
    assert c[0, 0] == np.float32(s * t)
