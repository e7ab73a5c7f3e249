"""Inputs torch accepts and bptt used to refuse: an empty batch, dropout=1.0."""

import numpy as np
import pytest

import bptt

torch = pytest.importorskip("torch", reason="compared with torch.nn")
from bptt.interop.torch import to_torch  # noqa: E402


@pytest.mark.parametrize("cls", [bptt.RNN, bptt.LSTM, bptt.GRU])
@pytest.mark.parametrize("batch_first", [False, True])
def test_empty_batch_runs_like_torch(cls, batch_first):
    m = cls(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first, dtype=np.float64, seed=0)
    x = np.zeros((0, 5, 3) if batch_first else (5, 0, 3))
    out, state = m(x)
    t_out, t_state = to_torch(m)(torch.from_numpy(x))
    assert out.shape == tuple(t_out.shape) == ((0, 5, 8) if batch_first else (5, 0, 8))
    h, th = (state[0], t_state[0]) if cls is bptt.LSTM else (state, t_state)
    assert h.shape == tuple(th.shape) == (4, 0, 4)
    dx, _ = m.backward(np.zeros_like(out))
    assert dx.shape == x.shape
    assert all(not g.any() for g in m.grads.values())  # no sequence, no gradient


def test_zero_time_steps_is_refused_as_torch_does():
    with pytest.raises(ValueError, match=r"input: expected at least one time step, got shape \(0, 2, 3\)"):
        bptt.GRU(3, 4)(np.zeros((0, 2, 3), dtype=np.float32))


@pytest.mark.parametrize("cls", [bptt.RNN, bptt.LSTM, bptt.GRU])
def test_dropout_one_drops_everything_between_layers_like_torch(cls):
    """p = 1: layer 2 reads zeros in training (torch's F.dropout(p=1) is zeros), so both are deterministic."""
    m = cls(3, 4, num_layers=2, dropout=1.0, dtype=np.float64, seed=1)
    tm = to_torch(m)
    m.train()
    tm.train()
    x = np.random.default_rng(2).standard_normal((5, 2, 3))
    tx = torch.tensor(x, requires_grad=True)
    out, _ = m(x)
    t_out, _ = tm(tx)
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=0, atol=1e-13)
    up = np.random.default_rng(3).standard_normal(out.shape)
    dx, _ = m.backward(up)
    (t_out * torch.from_numpy(up)).sum().backward()
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=0, atol=1e-13)  # zero: nothing reaches layer 1's input
    assert not dx.any()
    for k, p in tm.named_parameters():
        np.testing.assert_allclose(m.grads[k], p.grad.numpy(), rtol=0, atol=1e-12, err_msg=k)
