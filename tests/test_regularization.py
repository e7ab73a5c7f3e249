"""L1/L2 regularization: values, gradients, parameter selection, and L2-as-loss == weight decay."""

import numpy as np
import pytest

from bptt import MLP, RNN
from bptt.nn import MSELoss
from bptt.optim import SGD, Adam, Regularizer, decay_groups, l1_penalty, l2_penalty, select_parameters


def _mlp(seed=0):
    return MLP([3, 4, 2], activation="tanh", dtype=np.float64, seed=seed)


def test_selection_by_kind_names_and_predicate():
    m = _mlp()
    assert [n for n, _ in select_parameters(m, "weights")] == ["0.weight", "2.weight"]
    assert [n for n, _ in select_parameters(m, "biases")] == ["0.bias", "2.bias"]
    assert len(select_parameters(m, "all")) == 4
    assert [n for n, _ in select_parameters(m, ["2.bias"])] == ["2.bias"]
    assert [n for n, _ in select_parameters(m, lambda n, p: p.data.ndim == 2 and n.startswith("2"))] == ["2.weight"]
    rnn = RNN(2, 3, dtype=np.float64, seed=0)
    assert [n for n, _ in select_parameters(rnn, "weights")] == ["weight_ih_l0", "weight_hh_l0"]


def test_l2_value_and_gradient_match_finite_differences():
    m = _mlp(1)
    m.zero_grad()
    lam = 0.3
    r = l2_penalty(m, lam, "weights")
    expect = 0.5 * lam * sum(np.sum(p.data**2) for n, p in m.named_parameters() if n.endswith("weight"))
    assert r == pytest.approx(expect, rel=1e-14)
    w = m._modules["0"]._params["weight"]
    eps = 1e-6
    w.data[1, 2] += eps
    up = l2_penalty(m, lam, accumulate=False)
    w.data[1, 2] -= 2 * eps
    down = l2_penalty(m, lam, accumulate=False)
    w.data[1, 2] += eps
    assert w.grad[1, 2] == pytest.approx((up - down) / (2 * eps), rel=1e-7)
    assert np.all(m._modules["0"]._params["bias"].grad == 0)  # biases not selected


def test_l1_value_and_subgradient():
    m = _mlp(2)
    m.zero_grad()
    w = m._modules["2"]._params["weight"]
    w.data[0, 0] = 0.0
    lam = 0.05
    r = l1_penalty(m, lam, "weights")
    assert r == pytest.approx(lam * sum(np.abs(p.data).sum() for n, p in m.named_parameters() if n.endswith("weight")), rel=1e-14)
    np.testing.assert_array_equal(w.grad, lam * np.sign(w.data))
    assert w.grad[0, 0] == 0.0
    eps = 1e-7
    w.data[1, 1] += eps
    up = l1_penalty(m, lam, accumulate=False)
    w.data[1, 1] -= 2 * eps
    down = l1_penalty(m, lam, accumulate=False)
    w.data[1, 1] += eps
    assert w.grad[1, 1] == pytest.approx((up - down) / (2 * eps), rel=1e-6)


def _train(m, opt, reg, x, y, steps=30):
    loss_fn = MSELoss()
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(m(x), y)
        m.backward(loss_fn.backward())
        if reg is not None:
            reg(m)
        opt.step()


def test_l2_loss_term_equals_sgd_weight_decay_on_the_same_parameters():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    a, b = _mlp(3), _mlp(3)
    _train(a, SGD(a, lr=0.1), Regularizer(l2=0.2, select="all"), x, y)
    _train(b, SGD(b, lr=0.1, weight_decay=0.2), None, x, y)
    for (na, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_allclose(pa.data, pb.data, rtol=1e-13, atol=1e-15, err_msg=na)
    # and per group: decay only weights == L2 term on weights only
    c, d = _mlp(3), _mlp(3)
    _train(c, SGD(c, lr=0.1), Regularizer(l2=0.2, select="weights"), x, y)
    _train(d, SGD(decay_groups(d, 0.2, "weights"), lr=0.1), None, x, y)
    for (nc, pc), (_, pd) in zip(c.named_parameters(), d.named_parameters()):
        np.testing.assert_allclose(pc.data, pd.data, rtol=1e-13, atol=1e-15, err_msg=nc)


def test_l1_drives_weights_smaller_than_no_regularization():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((32, 3)), rng.standard_normal((32, 2))
    plain, sparse = _mlp(4), _mlp(4)
    _train(plain, Adam(plain, lr=0.01), None, x, y, steps=200)
    _train(sparse, Adam(sparse, lr=0.01), Regularizer(l1=0.05), x, y, steps=200)
    l1 = lambda m: sum(np.abs(p.data).sum() for n, p in m.named_parameters() if n.endswith("weight"))  # noqa: E731
    assert l1(sparse) < 0.7 * l1(plain)


def test_decay_groups_layout():
    m = _mlp()
    groups = decay_groups(m, 1e-3, "weights", lr=0.5)
    assert [len(g["params"]) for g in groups] == [2, 2]
    assert groups[0]["weight_decay"] == 1e-3 and groups[1]["weight_decay"] == 0.0 and groups[1]["lr"] == 0.5
    assert len(decay_groups(m, 1e-3, "all")) == 1


@pytest.mark.parametrize(
    "call,exc,fragment",
    [
        (lambda m: l2_penalty(m, -1.0), ValueError, "strength"),
        (lambda m: l1_penalty(m, 0.1, select="weight"), ValueError, "select"),
        (lambda m: l1_penalty(m, 0.1, select=["nope"]), ValueError, "unknown parameter"),
        (lambda m: l2_penalty(object(), 0.1), TypeError, "module"),
        (lambda m: Regularizer(l1=-0.1), ValueError, "l1"),
        (lambda m: Regularizer(select="bias"), ValueError, "select"),
    ],
)
def test_bad_arguments(call, exc, fragment):
    with pytest.raises(exc, match=fragment):
        call(_mlp())
