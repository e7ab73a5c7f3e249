"""Linear, activations, Sequential, MLP: torch parity, state_dict, parameters and grads."""

import numpy as np
import pytest

import bptt

torch = pytest.importorskip("torch", reason="torch parity tests need PyTorch (bptt[torch])")
from bptt.interop.torch import compare, from_torch, to_torch  # noqa: E402


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu", "leaky_relu", "identity"])
@pytest.mark.parametrize("out_act", [None, "sigmoid"])
def test_mlp_matches_torch(act, out_act, rng):
    m = bptt.MLP([3, 6, 5, 2], activation=act, output_activation=out_act, dtype=np.float64, seed=1)
    res = compare(m, (rng.standard_normal((7, 3)),), seed=2)
    assert res.max_abs <= 1e-12, str(res)
    assert bptt.gradcheck(m, (rng.standard_normal((4, 3)),)).max_rel <= 1e-7


def test_linear_without_bias_and_leading_dims(rng):
    m = bptt.Linear(4, 3, bias=False, dtype=np.float64, seed=0)
    assert list(m.state_dict()) == ["weight"]
    res = compare(m, (rng.standard_normal((2, 5, 4)),))
    assert res.max_abs <= 1e-13


def test_sequential_names_equal_torch_and_round_trip(rng):
    tm = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
    m = from_torch(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    x = rng.standard_normal((3, 2))
    np.testing.assert_allclose(m(x), tm(torch.from_numpy(x)).detach().numpy(), atol=1e-15)
    tm2 = to_torch(m)
    np.testing.assert_allclose(tm2(torch.from_numpy(x)).detach().numpy(), m(x), atol=1e-15)


def test_parameters_are_live_views(rng):
    m = bptt.Linear(2, 2, dtype=np.float64, seed=0)
    p = m.parameters()[0]
    p.data -= 1.0  # what an optimizer does
    np.testing.assert_array_equal(m.weight, p.data)
    out = m(rng.standard_normal((1, 2)))
    m.backward(np.ones_like(out) * 0.5)
    assert m.grads["weight"] is p.grad


def test_load_state_dict_errors_leave_module_untouched():
    m = bptt.RNN(3, 4, 2)
    before = m.state_dict()
    sd = {k: v + 1 for k, v in before.items()}
    bad_shape = dict(sd, weight_hh_l1=np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"weight_hh_l1.*\(4, 4\).*\(4, 5\)"):
        m.load_state_dict(bad_shape)
    missing = {k: v for k, v in sd.items() if k != "bias_ih_l0"}
    with pytest.raises(ValueError, match="missing keys \\['bias_ih_l0'\\]"):
        m.load_state_dict(missing)
    with pytest.raises(ValueError, match="unexpected keys \\['foo'\\]"):
        m.load_state_dict(dict(sd, foo=np.zeros(1)))
    with pytest.raises(ValueError, match="NaN"):
        m.load_state_dict(dict(sd, weight_ih_l0=np.full((4, 3), np.nan)))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    m.load_state_dict(missing, strict=False)
    np.testing.assert_array_equal(m.bias_ih_l0, before["bias_ih_l0"])
    np.testing.assert_array_equal(m.bias_hh_l0, before["bias_hh_l0"] + 1)


def test_load_state_dict_accepts_torch_tensors_and_casts_to_module_dtype():
    tm = torch.nn.Linear(3, 2)  # float32
    m = bptt.Linear(3, 2, dtype=np.float64).load_state_dict(tm.state_dict())
    assert m.weight.dtype == np.float64
    np.testing.assert_array_equal(m.weight, tm.weight.detach().numpy().astype(np.float64))


def test_repr_mentions_structure():
    r = repr(bptt.MLP([2, 3, 1], activation="relu"))
    assert "Linear(in_features=2, out_features=3" in r and "ReLU" in r


def test_train_eval_propagates_to_children():
    m = bptt.MLP([2, 3, 1])
    m.eval()
    assert all(not c.training for c in m.modules())
    m.train()
    assert all(c.training for c in m.modules())
