"""Activations, linear and losses: finite differences, torch, and numerical stability."""

import numpy as np
import pytest

import bptt
from bptt.functional import activations as A
from bptt.functional import losses as L
from bptt.functional.linear import linear_backward, linear_forward

torch = pytest.importorskip("torch", reason="torch reference values need PyTorch (bptt[torch])")

PAIRS = {
    "tanh": (A.tanh_forward, A.tanh_backward, torch.tanh),
    "sigmoid": (A.sigmoid_forward, A.sigmoid_backward, torch.sigmoid),
    "relu": (A.relu_forward, A.relu_backward, torch.relu),
    "leaky_relu": (A.leaky_relu_forward, A.leaky_relu_backward, torch.nn.functional.leaky_relu),
    "identity": (A.identity_forward, A.identity_backward, lambda t: t * 1),
}


@pytest.mark.parametrize("name", PAIRS)
def test_activation_matches_torch_and_finite_differences(name, rng):
    fwd, bwd, tfn = PAIRS[name]
    x = rng.standard_normal((3, 4)) * 3
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the ReLU kink for finite differences
    y, cache = fwd(x)
    dy = rng.standard_normal(x.shape)
    dx = bwd(dy, cache)
    xt = torch.tensor(x, requires_grad=True)
    yt = tfn(xt)
    (yt * torch.from_numpy(dy)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-15)
    res = bptt.gradcheck((fwd, lambda d, c: (bwd(d, c),)), (x,))
    assert res.max_rel <= 1e-8, str(res)


def test_sigmoid_is_stable_at_extremes():
    x = np.array([-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is the right answer
        y = A.sigmoid(x)
        yf = A.sigmoid(x.astype(np.float32))
    assert yf.dtype == np.float32
    np.testing.assert_array_equal(y[[0, -1]], [0.0, 1.0])
    assert y[2] == pytest.approx(1 / (1 + np.exp(30.0)), rel=1e-15)  # tiny value kept to full precision
    assert y[3] == 0.5
    np.testing.assert_allclose(y, torch.sigmoid(torch.from_numpy(x)).numpy(), rtol=1e-15, atol=0)


def test_linear_over_leading_dims_matches_torch(rng):
    x, W, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    y, cache = linear_forward(x, W, b)
    dy = rng.standard_normal(y.shape)
    dx, dW, db = linear_backward(dy, cache)
    ts = [torch.tensor(a, requires_grad=True) for a in (x, W, b)]
    yt = torch.nn.functional.linear(*ts)
    (yt * torch.from_numpy(dy)).sum().backward()
    for a, t in zip((y, dx, dW, db), (yt.detach(), ts[0].grad, ts[1].grad, ts[2].grad)):
        np.testing.assert_allclose(a, t.numpy(), rtol=0, atol=1e-13)
    assert bptt.gradcheck((linear_forward, linear_backward), (x, W, b)).max_rel <= 1e-8


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5, 4), (4,), (3, 4, 2)])
def test_cross_entropy_matches_torch(reduction, shape, rng):
    z = rng.standard_normal(shape) * 2
    C = shape[1] if len(shape) > 1 else shape[0]
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    t = rng.integers(0, C, size=tshape)
    loss, cache = L.cross_entropy_forward(z, t, reduction)
    dl = rng.standard_normal(np.shape(loss)) if reduction == "none" else np.asarray(0.7)
    dz = L.cross_entropy_backward(dl, cache)
    zt = torch.tensor(z, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(zt, torch.from_numpy(np.asarray(t)), reduction=reduction)
    (lt * torch.from_numpy(np.asarray(dl))).sum().backward()
    np.testing.assert_allclose(loss, lt.detach().numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_cross_entropy_ignore_index_matches_torch(rng):
    z, t = rng.standard_normal((6, 3)), np.array([0, -100, 2, 1, -100, 2])
    loss, cache = L.cross_entropy_forward(z, t, "mean")
    dz = L.cross_entropy_backward(np.asarray(1.0), cache)
    zt = torch.tensor(z, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(zt, torch.from_numpy(t))
    lt.backward()
    assert loss == pytest.approx(lt.item(), rel=1e-14)
    np.testing.assert_allclose(dz, zt.grad.numpy(), atol=1e-15)
    assert not dz[[1, 4]].any()


def test_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    loss, cache = L.cross_entropy_forward(z, np.array([1, 2]), "sum")
    dz = L.cross_entropy_backward(np.asarray(1.0), cache)
    assert np.isfinite(loss) and np.isfinite(dz).all()
    assert loss == pytest.approx(2e4 + np.log(2), rel=1e-12)  # item 0: 2e4; item 1: log 2
    np.testing.assert_allclose(dz, [[1, -1, 0], [0, 0.5, -0.5]], atol=1e-15)
    z32 = z.astype(np.float32)
    l32, _ = L.cross_entropy_forward(z32, np.array([1, 2]), "mean")
    assert l32.dtype == np.float32 and np.isfinite(l32)


def test_cross_entropy_finite_differences(rng):
    z, t = rng.standard_normal((4, 5)), rng.integers(0, 5, 4)
    res = bptt.gradcheck((lambda z: L.cross_entropy_forward(z, t, "mean"), lambda d, c: (L.cross_entropy_backward(d, c),)), (z,))
    assert res.max_rel <= 1e-8


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_matches_torch(reduction, rng):
    y, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    loss, cache = L.mse_forward(y, t, reduction)
    dl = rng.standard_normal(np.shape(loss)) if reduction == "none" else np.asarray(1.3)
    dy = L.mse_backward(dl, cache)
    yt = torch.tensor(y, requires_grad=True)
    lt = torch.nn.functional.mse_loss(yt, torch.from_numpy(t), reduction=reduction)
    (lt * torch.from_numpy(np.asarray(dl))).sum().backward()
    np.testing.assert_allclose(loss, lt.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(dy, yt.grad.numpy(), rtol=1e-14)


def test_sum_squares_is_half_sum_of_squares(rng):
    y, t = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    loss, cache = L.sum_squares_forward(y, t)
    assert loss == pytest.approx(0.5 * ((y - t) ** 2).sum(), rel=1e-15)
    np.testing.assert_allclose(L.sum_squares_backward(np.asarray(2.0), cache), 2 * (y - t))


def test_loss_modules_backward_equals_functional(rng):
    z, t = rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])
    ce = bptt.CrossEntropyLoss(reduction="sum")
    loss = ce(z, t)
    assert isinstance(loss, np.floating)
    np.testing.assert_allclose(ce.backward(), L.cross_entropy_backward(np.asarray(1.0), L.cross_entropy_forward(z, t, "sum")[1]))
    mse = bptt.MSELoss()
    y = rng.standard_normal((2, 2))
    mse(y, np.zeros((2, 2)))
    np.testing.assert_allclose(mse.backward(), 2 * y / 4)


def test_log_softmax_and_softmax_are_consistent(rng):
    z = rng.standard_normal((3, 6)) * 50
    np.testing.assert_allclose(np.exp(L.log_softmax(z)), L.softmax(z), rtol=1e-12)
    np.testing.assert_allclose(L.softmax(z).sum(-1), 1.0, rtol=1e-15)
