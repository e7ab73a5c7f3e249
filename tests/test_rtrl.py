"""RTRL equals BPTT's gradient (<= 1e-10, float64) and learns online a dependency of several steps."""

import itertools

import numpy as np
import pytest

import bptt
from bptt.functional import cells
from bptt.functional.recurrent import layer_backward, layer_forward
from bptt.nn import MSELoss
from bptt.optim import Adam
from bptt.rtrl import RTRL, OnlineRTRL, delayed_echo, rtrl_gradients, train_online

TOL = 1e-10
KINDS = [n for n in cells.names() if cells.get(n).reset_after]
KEYS = ("dW_ih", "dW_hh", "db_ih", "db_hh")


def _rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


def _layer(rng, kind, T=7, B=3, I=2, H=4):
    G = kind.gates
    x = rng.standard_normal((T, B, I))
    W_ih, W_hh = 0.7 * rng.standard_normal((G * H, I)), 0.7 * rng.standard_normal((G * H, H))
    b_ih, b_hh = rng.standard_normal(G * H), rng.standard_normal(G * H)
    h0 = rng.standard_normal((B, H))
    c0 = rng.standard_normal((B, H)) if kind.has_cell_state else None
    return x, h0, c0, W_ih, W_hh, b_ih, b_hh


@pytest.mark.parametrize("name,bias,final", list(itertools.product(KINDS, [True, False], [True, False])))
def test_rtrl_equals_bptt(name, bias, final):
    rng = np.random.default_rng(KINDS.index(name) + 10 * bias + 100 * final)
    kind = cells.get(name)
    x, h0, c0, W_ih, W_hh, b_ih, b_hh = _layer(rng, kind)
    if not bias:
        b_ih = b_hh = None
    dout = rng.standard_normal((x.shape[0], x.shape[1], W_hh.shape[1]))
    dh_T = rng.standard_normal(h0.shape) if final else None
    dc_T = rng.standard_normal(h0.shape) if final and kind.has_cell_state else None
    out, h_T, c_T, cache = layer_forward(kind, x, h0, c0, W_ih, W_hh, b_ih, b_hh, backend="reference")
    want = layer_backward(dout, dh_T, dc_T, cache)
    got = rtrl_gradients(kind, x, h0, c0, W_ih, W_hh, b_ih, b_hh, dout=dout, dh_T=dh_T, dc_T=dc_T)
    assert _rel(got["out"], out) <= TOL and _rel(got["h_T"], h_T) <= TOL
    if c_T is not None:
        assert _rel(got["c_T"], c_T) <= TOL
    for key in KEYS:
        if want[key] is None:
            assert got[key] is None
        else:
            assert got[key].shape == want[key].shape and _rel(got[key], want[key]) <= TOL, key


def test_loss_grad_callback_sees_h_t_online():
    """A callback loss J_t = ½‖h_t − y_t‖² gives the same gradient as its dout array."""
    rng = np.random.default_rng(3)
    kind = cells.get("lstm")
    x, h0, c0, W_ih, W_hh, b_ih, b_hh = _layer(rng, kind)
    y = rng.standard_normal((x.shape[0], x.shape[1], W_hh.shape[1]))
    out = layer_forward(kind, x, h0, c0, W_ih, W_hh, b_ih, b_hh)[0]
    seen = []

    def loss_grad(t, h_t):
        seen.append(t)
        return h_t - y[t]

    got = rtrl_gradients(kind, x, h0, c0, W_ih, W_hh, b_ih, b_hh, loss_grad=loss_grad)
    want = rtrl_gradients(kind, x, h0, c0, W_ih, W_hh, b_ih, b_hh, dout=out - y)
    assert seen == list(range(x.shape[0]))
    for key in KEYS:
        assert _rel(got[key], want[key]) <= 1e-13


def test_sensitivity_is_finite_difference_of_the_state():
    """M_t = ∂h_t/∂θ, one column at a time against central differences of the forward."""
    rng = np.random.default_rng(5)
    kind = cells.get("gru")
    x, h0, _, W_ih, W_hh, b_ih, b_hh = _layer(rng, kind, T=5, B=1)
    r = RTRL(kind, W_ih, W_hh, b_ih, b_hh, h0)
    for t in range(x.shape[0]):
        r.step(x[t])
    eps = 1e-6
    for j in rng.choice(W_hh.size, 6, replace=False):
        hs = []
        for sgn in (1, -1):
            W = W_hh.copy()
            W.flat[j] += sgn * eps
            hs.append(layer_forward(kind, x, h0, None, W_ih, W, b_ih, b_hh)[1])
        fd = (hs[0] - hs[1]) / (2 * eps)
        np.testing.assert_allclose(r.M[:, :4, W_ih.size + j], fd, rtol=1e-7, atol=1e-9)


def _net(name, H=5, seed=0):
    rnn = cells.get(name).module(1, H, dtype=np.float64, seed=seed)
    head = bptt.Linear(H, 1, dtype=np.float64, seed=seed + 1)
    return rnn, head


@pytest.mark.parametrize("name", ["rnn-tanh", "lstm", "gru"])
def test_online_without_updates_sums_to_bptt(name):
    """No optimizer: Σ_t ∂J_t/∂θ from the online loop equals BPTT through the modules (rnn and head)."""
    xs, ys = delayed_echo(30, 4, batch_size=2, seed=1)
    rnn, head = _net(name)
    train_online(OnlineRTRL(rnn, head, MSELoss(), batch_size=2), xs, ys)
    online = {n: p.grad.copy() for n, p in [*rnn.named_parameters(), *head.named_parameters()]}
    rnn2, head2 = _net(name)
    out, _ = rnn2(xs)
    dout = np.zeros_like(out)
    for t, y in enumerate(ys):
        if y is not None:
            pred = head2(out[t])
            dout[t] = head2.backward(2 * (pred - y) / y.size)  # MSELoss (mean) of step t
    rnn2.backward(dout)
    for n, p in [*rnn2.named_parameters(), *head2.named_parameters()]:
        assert _rel(online[n], p.grad) <= TOL, n


def test_online_rtrl_learns_a_delayed_echo():
    """y_t = x_{t−3}: after 1500 online steps (no unrolling) a fresh stream is echoed without error."""
    rnn, head = _net("rnn-tanh", H=8)
    model = OnlineRTRL(rnn, head, MSELoss(), Adam([*rnn.parameters(), *head.parameters()], lr=0.01))
    losses = train_online(model, *delayed_echo(1500, 3, seed=0))
    assert np.nanmean(losses[-300:]) < 0.1 * np.nanmean(losses[3:300])
    model.optimizer = None
    model.reset()
    xs, ys = delayed_echo(300, 3, seed=1)
    hits = [(model.step(xs[t])[0] > 0.5) == (ys[t] > 0.5) for t in range(3, 300)]
    assert np.mean(hits) >= 0.95


def test_rtrl_errors():
    rng = np.random.default_rng(0)
    x, h0, _, W_ih, W_hh, b_ih, b_hh = _layer(rng, cells.get("gru"))
    with pytest.raises(ValueError, match="cell: RTRL has the Jacobians of torch's GRU form only"):
        rtrl_gradients("gru-textbook", x, h0, None, W_ih, W_hh)
    with pytest.raises(ValueError, match="dout, loss_grad"):
        rtrl_gradients("gru", x, h0, None, W_ih, W_hh, dout=np.zeros((7, 3, 4)), loss_grad=lambda t, h: h)
    with pytest.raises(ValueError, match="b_ih, b_hh"):
        RTRL("gru", W_ih, W_hh, b_ih, None)
    with pytest.raises(ValueError, match="rnn: online RTRL runs one unidirectional layer"):
        OnlineRTRL(bptt.GRU(1, 3, num_layers=2), bptt.Linear(3, 1), MSELoss())
    with pytest.raises(ValueError, match="proj_size=2"):
        OnlineRTRL(bptt.LSTM(1, 3, proj_size=2), bptt.Linear(2, 1), MSELoss())
    with pytest.raises(ValueError, match="targets: expected 5 items"):
        train_online(OnlineRTRL(bptt.GRU(1, 3), bptt.Linear(3, 1), MSELoss()), np.zeros((5, 1, 1)), [None] * 4)
