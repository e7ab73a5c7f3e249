"""Gradient clipping equals torch.nn.utils.clip_grad_norm_ / clip_grad_value_ on the same gradients."""

import numpy as np
import pytest

import bptt
from bptt.optim.clip import clip_grad_norm_, clip_grad_value_, get_total_norm

torch = pytest.importorskip("torch", reason="clipping parity needs PyTorch (bptt[torch])")


def _model_with_grads(rng, scale=1.0):
    """An LSTM and a Linear head with random gradients (as after a backward), and torch twins."""
    lstm = bptt.LSTM(3, 4, 2, dtype=np.float64, seed=0)
    head = bptt.Linear(4, 5, dtype=np.float64, seed=1)
    for p in lstm.parameters() + head.parameters():
        p.grad[...] = scale * rng.standard_normal(p.shape)
    tparams = []
    for p in lstm.parameters() + head.parameters():
        t = torch.nn.Parameter(torch.from_numpy(p.data.copy()))
        t.grad = torch.from_numpy(p.grad.copy())
        tparams.append(t)
    return lstm, head, tparams


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])  # clips, and leaves alone
def test_clip_grad_norm_matches_torch(rng, norm_type, max_norm):
    lstm, head, tparams = _model_with_grads(rng)
    total = clip_grad_norm_([lstm, head], max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    assert abs(total - float(t_total)) <= 1e-12 * float(t_total)
    for p, t in zip(lstm.parameters() + head.parameters(), tparams):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-13, atol=0)
    after = get_total_norm([lstm, head], norm_type)
    if max_norm < total:
        assert after == pytest.approx(max_norm, rel=1e-5)  # max_norm · N / (N + 1e-6)
        assert after < max_norm
    else:
        assert after == total


def test_total_norm_is_norm_of_all_gradients_as_one_vector(rng):
    lstm, head, _ = _model_with_grads(rng)
    flat = np.concatenate([p.grad.ravel() for p in lstm.parameters() + head.parameters()])
    assert get_total_norm([lstm, head]) == pytest.approx(np.linalg.norm(flat), rel=1e-14)
    assert get_total_norm([lstm, head], 1) == pytest.approx(np.abs(flat).sum(), rel=1e-14)


def test_every_accepted_container(rng):
    lstm, head, _ = _model_with_grads(rng)
    ref = get_total_norm([lstm, head])
    params = lstm.parameters() + head.parameters()
    assert get_total_norm(params) == ref
    assert get_total_norm(iter(params)) == ref
    assert get_total_norm({**lstm.grads, **{"head." + k: v for k, v in head.grads.items()}}) == ref
    assert get_total_norm([p.grad for p in params]) == ref
    assert get_total_norm([lstm, head, lstm, params[0]]) == ref  # each gradient counted once
    assert get_total_norm(params[0]) == pytest.approx(np.linalg.norm(params[0].grad), rel=1e-15)
    assert get_total_norm([]) == 0.0 and clip_grad_norm_([], 1.0) == 0.0


def test_clip_on_bare_arrays_and_dtype(rng):
    g32 = rng.standard_normal((4, 5)).astype(np.float32)
    before = g32.copy()
    n = clip_grad_norm_(g32, 1.0)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, before / (n + 1e-6), rtol=1e-6)


def test_clip_grad_value_matches_torch(rng):
    lstm, head, tparams = _model_with_grads(rng)
    assert clip_grad_value_([lstm, head], 0.7) is None
    torch.nn.utils.clip_grad_value_(tparams, 0.7)
    for p, t in zip(lstm.parameters() + head.parameters(), tparams):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())
    assert max(np.abs(p.grad).max() for p in lstm.parameters()) == 0.7


def test_nonfinite(rng):
    lstm, head, tparams = _model_with_grads(rng)
    lstm.parameters()[0].grad[0, 0] = np.nan
    saved = [p.grad.copy() for p in head.parameters()]
    with pytest.raises(RuntimeError, match="total norm.*nan"):
        clip_grad_norm_([lstm, head], 1.0, error_if_nonfinite=True)
    for p, s in zip(head.parameters(), saved):
        np.testing.assert_array_equal(p.grad, s)  # nothing changed
    tparams[0].grad[0, 0] = float("nan")
    total = clip_grad_norm_([lstm, head], 1.0)
    assert np.isnan(total) and np.isnan(float(torch.nn.utils.clip_grad_norm_(tparams, 1.0)))


def test_clipping_in_a_training_step(rng):
    """After backward, clip_grad_norm_ on the module leaves every gradient scaled by one common factor."""
    m = bptt.GRU(2, 3, dtype=np.float64, seed=0)
    x = rng.standard_normal((30, 2, 2))
    out, h = m(x)
    m.backward(50 * rng.standard_normal(out.shape))
    before = {k: v.copy() for k, v in m.grads.items()}
    total = clip_grad_norm_(m, 1.0)
    ratios = {k: (m.grads[k] / before[k]).ravel() for k in before}
    for r in ratios.values():
        np.testing.assert_allclose(r, 1.0 / (total + 1e-6), rtol=1e-12)


def test_bad_arguments(rng):
    lstm, head, _ = _model_with_grads(rng)
    with pytest.raises(ValueError, match="max_norm: expected a real number >= 0, got -1"):
        clip_grad_norm_(lstm, -1)
    with pytest.raises(TypeError, match="max_norm: expected a real number"):
        clip_grad_norm_(lstm, "1")
    with pytest.raises(ValueError, match="norm_type: expected a positive real number or inf, got 0"):
        clip_grad_norm_(lstm, 1.0, norm_type=0)
    with pytest.raises(TypeError, match="norm_type"):
        clip_grad_norm_(lstm, 1.0, norm_type="l2")
    with pytest.raises(TypeError, match=r"parameters\[1\]: expected a Module, a Parameter, a gradient ndarray"):
        clip_grad_norm_([lstm, 3], 1.0)
    with pytest.raises(TypeError, match="floating-point gradient"):
        clip_grad_value_(np.arange(3), 1.0)
    with pytest.raises(ValueError, match="clip_value: expected a real number >= 0"):
        clip_grad_value_(lstm, float("nan"))
