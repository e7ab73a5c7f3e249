"""Dropout between recurrent layers: torch's placement, seeded masks, train/eval, exact gradients.

Masks cannot be shared with torch's RNG, so: (1) with the mask fixed (the
module's generator reseeded before every forward) the gradient equals finite
differences; (2) the mask bptt drew, applied by hand between torch's layers,
gives torch's outputs and gradients; (3) in eval mode bptt equals torch exactly.
"""

import numpy as np
import pytest

import bptt

torch = pytest.importorskip("torch", reason="dropout parity needs PyTorch (bptt[torch])")
from bptt.interop.torch import compare, to_torch  # noqa: E402

TOL = 1e-10
CLASSES = {"rnn": bptt.RNN, "lstm": bptt.LSTM, "gru": bptt.GRU}


def _fixed_mask(cls):
    """A subclass whose dropout masks are the same on every forward (for finite differences)."""

    class FixedMask(cls):
        def forward(self, *args, **kwargs):
            self._rng = np.random.default_rng(2024)
            return super().forward(*args, **kwargs)

    FixedMask.__name__ = cls.__name__
    return FixedMask


def _randomize(m, rng, scale=0.5):
    for p in m.parameters():
        p.data[...] = scale * rng.standard_normal(p.shape)
    return m


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bi", [False, True])
def test_dropout_gradients_match_finite_differences(cell, bi):
    rng = np.random.default_rng(7 + bi)
    layers = 2 if bi else 3
    m = _randomize(_fixed_mask(CLASSES[cell])(2, 3, layers, dropout=0.4, bidirectional=bi, dtype=np.float64), rng)
    x = rng.standard_normal((4, 2, 2))
    out = m(x)[0]
    assert all(mask is not None for mask in m._cache["masks"][1:])
    assert m._cache["masks"][0] is None
    np.testing.assert_array_equal(m(x)[0], out)  # the mask really is fixed
    res = bptt.gradcheck(m, (x,), kwargs={"lengths": np.array([4, 2])}, seed=3)
    assert res.max_rel <= 1e-7, str(res)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_dropout_mask_applied_where_torch_applies_it(cell):
    """bptt's masks, multiplied by hand between single-layer torch modules, reproduce out, h_n and every gradient."""
    rng = np.random.default_rng(1)
    L, D, Hs = 3, 2, 4
    m = CLASSES[cell](3, Hs, L, dropout=0.3, bidirectional=True, dtype=np.float64, seed=5)
    x = rng.standard_normal((5, 2, 3))
    out, state = m(x)
    masks = m._cache["masks"]
    flat_state = list(state) if cell == "lstm" else [state]
    w_out = rng.standard_normal(out.shape)
    w_state = [rng.standard_normal(s.shape) for s in flat_state]
    dx, _ = m.backward(w_out, tuple(w_state) if cell == "lstm" else w_state[0])

    tcls = getattr(torch.nn, type(m).__name__)
    sd = m.state_dict()
    tx = torch.tensor(x, requires_grad=True)
    inp, finals, layers = tx, [], []
    for layer in range(L):
        tl = tcls(3 if layer == 0 else D * Hs, Hs, bidirectional=True, dtype=torch.float64)
        tl.load_state_dict({k.replace(f"_l{layer}", "_l0"): torch.from_numpy(v) for k, v in sd.items() if f"_l{layer}" in k})
        layers.append(tl)
        if masks[layer] is not None:
            inp = inp * torch.from_numpy(masks[layer])
        inp, st = tl(inp)
        finals.append(st)
    t_state = [torch.cat([f[i] for f in finals]) for i in range(2)] if cell == "lstm" else [torch.cat(finals)]
    loss = (inp * torch.from_numpy(w_out)).sum() + sum((s * torch.from_numpy(w)).sum() for s, w in zip(t_state, w_state))
    loss.backward()
    assert np.abs(out - inp.detach().numpy()).max() <= TOL
    for a, b in zip(flat_state, t_state):
        assert np.abs(a - b.detach().numpy()).max() <= TOL
    assert np.abs(dx - tx.grad.numpy()).max() <= TOL
    for layer, tl in enumerate(layers):
        for k, p in tl.named_parameters():
            assert np.abs(m.grads[k.replace("_l0", f"_l{layer}")] - p.grad.numpy()).max() <= TOL, k


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_eval_is_deterministic_and_equals_torch_eval(cell, rng):
    m = CLASSES[cell](3, 4, 3, dropout=0.5, bidirectional=True, dtype=np.float64, seed=0).eval()
    x = rng.standard_normal((5, 2, 3))
    a, b = m(x)[0], m(x)[0]
    np.testing.assert_array_equal(a, b)
    tm = to_torch(m)
    assert not tm.training and tm.dropout == 0.5
    res = compare(m, (x,), tmodule=tm, seed=1)
    assert res.max_abs <= TOL, str(res)


def test_train_mode_masks_statistics_and_seeding(rng):
    p = 0.3
    m = bptt.LSTM(3, 50, 2, dropout=p, dtype=np.float64, seed=9)
    x = rng.standard_normal((20, 10, 3))
    out1 = m(x)[0]
    mask = m._cache["masks"][1]
    assert mask.shape == (20, 10, 50)
    kept = mask != 0
    assert abs(1 - kept.mean() - p) < 0.02  # about p of the units dropped
    np.testing.assert_allclose(mask[kept], 1 / (1 - p), rtol=1e-15)  # inverted dropout scaling
    out2 = m(x)[0]
    assert np.abs(out1 - out2).max() > 1e-3  # a new mask per forward
    m2 = bptt.LSTM(3, 50, 2, dropout=p, dtype=np.float64, seed=9)
    np.testing.assert_array_equal(m2(x)[0], out1)  # same seed, same first mask
    m.eval()
    out_eval = m(x)[0]
    m.train()
    assert np.abs(m(x)[0] - out_eval).max() > 1e-3


def test_single_layer_dropout_warns_and_does_nothing(rng):
    with pytest.warns(UserWarning, match="dropout > 0 with num_layers=1"):
        m = bptt.GRU(3, 4, 1, dropout=0.5, dtype=np.float64, seed=0)
    x = rng.standard_normal((4, 2, 3))
    a = m(x)[0]
    np.testing.assert_array_equal(a, m.eval()(x)[0])

