"""Property-based tests (Hypothesis): random shapes and options, same exactness contract."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bptt
from bptt.functional import activations as A
from bptt.functional import losses as L

torch = pytest.importorskip("torch", reason="torch parity needs PyTorch (bptt[torch])")
from bptt.interop.torch import compare  # noqa: E402


@st.composite
def rnn_configs(draw):
    T, B = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    cfg = dict(
        input_size=draw(st.integers(1, 4)), hidden_size=draw(st.integers(1, 5)),
        num_layers=draw(st.integers(1, 3)), nonlinearity=draw(st.sampled_from(["tanh", "relu"])),
        bias=draw(st.booleans()), batch_first=draw(st.booleans()), bidirectional=draw(st.booleans()),
    )
    lengths = draw(st.none() | st.lists(st.integers(1, T), min_size=B, max_size=B))
    return cfg, T, B, lengths, draw(st.integers(0, 2**31 - 1))


@settings(max_examples=40, deadline=None)
@given(rnn_configs())
def test_random_rnn_configs_match_torch(args):
    cfg, T, B, lengths, seed = args
    rng = np.random.default_rng(seed)
    m = bptt.RNN(**cfg, dtype=np.float64, seed=seed)
    D, I, H = m.num_directions, cfg["input_size"], cfg["hidden_size"]
    x = rng.standard_normal((B, T, I) if cfg["batch_first"] else (T, B, I))
    h0 = rng.standard_normal((cfg["num_layers"] * D, B, H))
    res = compare(m, (x, h0), lengths=None if lengths is None else np.array(lengths), seed=seed)
    assert res.max_abs <= 1e-10, str(res)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4), min_size=2, max_size=8), st.floats(-1e3, 1e3))
def test_cross_entropy_is_shift_invariant_and_finite(logits, shift):
    z = np.array([logits])
    t = np.array([len(logits) - 1])
    l1, c1 = L.cross_entropy_forward(z, t)
    l2, c2 = L.cross_entropy_forward(z + shift, t)
    g = L.cross_entropy_backward(np.asarray(1.0), c1)
    assert np.isfinite(l1) and np.isfinite(g).all() and l1 >= 0
    assert l1 == pytest.approx(l2, rel=1e-9, abs=1e-9 * (1 + abs(shift)))
    assert abs(g.sum()) <= 1e-12  # softmax − onehot sums to zero


@settings(max_examples=50, deadline=None)
@given(st.floats(-1e4, 1e4))
def test_sigmoid_symmetry_and_range(x):
    y, ym = A.sigmoid(np.array([x])), A.sigmoid(np.array([-x]))
    assert 0.0 <= y[0] <= 1.0
    assert y[0] + ym[0] == pytest.approx(1.0, abs=1e-15)
