"""bptt.RNN against torch.nn.RNN autograd in float64: outputs and every gradient ≤ 1e-10."""

import itertools
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch parity tests need PyTorch (bptt[torch])")

import bptt  # noqa: E402
from bptt.interop.torch import compare  # noqa: E402

TOL = 1e-10
CONFIGS = list(itertools.product(
    ["tanh", "relu"], [1, 2, 3], [False, True], [False, True], [True, False], [True, False], [1, 2, 6]
))


def _inputs(rng, m, T, B, batched):
    D = m.num_directions
    if not batched:
        return rng.standard_normal((T, m.input_size)), rng.standard_normal((m.num_layers * D, m.hidden_size))
    shape = (B, T, m.input_size) if m.batch_first else (T, B, m.input_size)
    return rng.standard_normal(shape), rng.standard_normal((m.num_layers * D, B, m.hidden_size))


@pytest.mark.parametrize("nl,layers,bi,bf,bias,batched,T", CONFIGS)
def test_rnn_matches_torch(nl, layers, bi, bf, bias, batched, T):
    rng = np.random.default_rng(zlib.crc32(repr((nl, layers, bi, bf, bias, batched, T)).encode()))  # stable across runs
    m = bptt.RNN(3, 4, layers, nonlinearity=nl, bias=bias, batch_first=bf, bidirectional=bi, dtype=np.float64, seed=7)
    res = compare(m, _inputs(rng, m, T, 3, batched), seed=1)
    expected_rows = 2 + 2 + len(m.state_dict())  # out, h_n, dx, dh0, every parameter
    assert len(res.rows) == expected_rows
    assert res.max_abs <= TOL, str(res)


def test_default_h0_is_zeros_like_torch(rng):
    m = bptt.RNN(2, 3, 2, bidirectional=True, dtype=np.float64, seed=0)
    x = rng.standard_normal((4, 2, 2))
    res = compare(m, (x,), seed=3)
    assert res.max_abs <= TOL


def test_output_last_step_is_not_h_n_for_bidirectional(rng):
    """out[-1] holds the reverse direction's *first* step; h_n holds its final state."""
    m = bptt.RNN(2, 3, bidirectional=True, dtype=np.float64, seed=0)
    out, h_n = m(rng.standard_normal((5, 1, 2)))
    np.testing.assert_array_equal(out[-1, :, :3], h_n[0])
    np.testing.assert_array_equal(out[0, :, 3:], h_n[1])
    assert not np.allclose(out[-1, :, 3:], h_n[1])


def test_state_dict_moves_both_ways(rng):
    tm = torch.nn.RNN(3, 5, 2, bidirectional=True, dtype=torch.float64)
    m = bptt.RNN(3, 5, 2, bidirectional=True, dtype=np.float64).load_state_dict(tm.state_dict())
    x = rng.standard_normal((4, 2, 3))
    out, h = m(x)
    tout, th = tm(torch.from_numpy(x))
    assert np.abs(out - tout.detach().numpy()).max() <= TOL
    tm2 = torch.nn.RNN(3, 5, 2, bidirectional=True, dtype=torch.float64)
    tm2.load_state_dict({k: torch.from_numpy(v) for k, v in m.state_dict().items()})
    assert np.abs(tm2(torch.from_numpy(x))[0].detach().numpy() - out).max() <= TOL


def test_init_distribution_matches_torch_bounds():
    m = bptt.RNN(10, 64, 2, seed=0)
    for name, v in m.state_dict().items():
        assert np.abs(v).max() <= 1 / np.sqrt(64), name
        assert np.abs(v).max() > 0.9 / np.sqrt(64), name  # uses the whole range, not a smaller one
        assert abs(v.mean()) < 0.1 / np.sqrt(64), name  # centred
    tm = torch.nn.RNN(10, 64, 2)
    assert {k: tuple(v.shape) for k, v in tm.state_dict().items()} == {k: v.shape for k, v in m.state_dict().items()}
