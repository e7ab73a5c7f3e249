"""torch's projected LSTM (proj_size): h_t = (o ⊙ tanh c_t) W_hrᵀ, against torch autograd and finite differences."""

import numpy as np
import pytest

import bptt

torch = pytest.importorskip("torch", reason="parity with torch.nn.LSTM(proj_size=…) needs torch")
from bptt.interop.torch import compare, from_torch, to_torch  # noqa: E402


@pytest.mark.parametrize("layers,bi,bf", [(1, False, False), (2, True, False), (2, False, True)])
@pytest.mark.parametrize("lengths", [None, [6, 2, 5]])
def test_projected_lstm_matches_torch(layers, bi, bf, lengths):
    m = bptt.LSTM(4, 6, num_layers=layers, bidirectional=bi, batch_first=bf, proj_size=3, dtype=np.float64, seed=2)
    assert m.state_dict()["weight_hr_l0"].shape == (3, 6) and m.state_dict()["weight_hh_l0"].shape == (24, 3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 4) if bf else (6, 3, 4))
    D = 2 if bi else 1
    h0, c0 = rng.standard_normal((layers * D, 3, 3)), rng.standard_normal((layers * D, 3, 6))
    res = compare(m, (x, (h0, c0)), lengths=None if lengths is None else np.array(lengths))
    assert res.max_abs <= 1e-12, str(res)
    out, (h_n, c_n) = m(x, (h0, c0))
    assert out.shape[-1] == 3 * D and h_n.shape == (layers * D, 3, 3) and c_n.shape == (layers * D, 3, 6)


def test_projected_lstm_passes_finite_differences_and_round_trips_torch():
    m = bptt.LSTM(3, 5, proj_size=2, dtype=np.float64, seed=1)
    rng = np.random.default_rng(1)
    assert bptt.gradcheck(m, (rng.standard_normal((4, 2, 3)),)).passed(1e-7)
    back = from_torch(to_torch(m))
    assert back.proj_size == 2
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k], v)


def test_proj_size_is_checked_and_runs_on_the_reference_backend():
    with pytest.raises(ValueError, match=r"proj_size: expected an int in \[0, hidden_size=4\), got 4"):
        bptt.LSTM(3, 4, proj_size=4)
    m = bptt.LSTM(3, 4, proj_size=2, dtype=np.float64)
    m(np.ones((2, 1, 3)))
    assert m._cache["caches"][0].backend.name == "reference"
    with pytest.raises(ValueError, match="backend: an LSTM with proj_size runs on the reference backend only"):
        bptt.LSTM(3, 4, proj_size=2, backend="numpy")(np.ones((2, 1, 3), dtype=np.float32))


@pytest.mark.parametrize("batched", [True, False])
def test_cell_modules_round_trip_torch(batched):
    for name, kw in (("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {})):
        m = getattr(bptt, name)(3, 4, dtype=np.float64, seed=0, **kw)
        back = from_torch(to_torch(m))
        assert type(back) is type(m)
        for k, v in m.state_dict().items():
            np.testing.assert_array_equal(back.state_dict()[k], v)
