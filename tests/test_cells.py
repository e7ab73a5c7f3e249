"""RNNCell / LSTMCell / GRUCell modules against torch.nn's cells, and the functional step helpers' checks."""

import numpy as np
import pytest

import bptt
from bptt.functional import gru_step_forward, lstm_step_forward, rnn_step_backward, rnn_step_forward

torch = pytest.importorskip("torch", reason="parity with torch.nn's cells needs torch")

I, H, B = 3, 5, 4
CASES = [("RNNCell", dict(nonlinearity="tanh")), ("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", {}),
         ("GRUCell", {})]


def _pair(name, opts, bias):
    ours = getattr(bptt, name)(I, H, bias=bias, dtype=np.float64, seed=3, **opts)
    theirs = getattr(torch.nn, name)(I, H, bias=bias, dtype=torch.float64, **opts)
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("name,opts", CASES)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_module_matches_torch(name, opts, batched, bias):
    rng = np.random.default_rng(0)
    ours, theirs = _pair(name, opts, bias)
    lead = (B,) if batched else ()
    x, h = rng.standard_normal(lead + (I,)), rng.standard_normal(lead + (H,))
    lstm = name == "LSTMCell"
    c = rng.standard_normal(lead + (H,))
    out = ours(x, (h, c) if lstm else h)
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    tout = theirs(tx, (th, tc) if lstm else th)
    outs, touts = (out, tout) if lstm else ((out,), (tout,))
    ups = [rng.standard_normal(o.shape) for o in outs]
    for o, t in zip(outs, touts):
        np.testing.assert_allclose(o, t.detach().numpy(), rtol=0, atol=1e-13)
    dx, dhx = ours.backward(*ups)
    sum((t * torch.from_numpy(u)).sum() for t, u in zip(touts, ups)).backward()
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=0, atol=1e-12)
    dh = dhx[0] if lstm else dhx
    np.testing.assert_allclose(dh, th.grad.numpy(), rtol=0, atol=1e-12)
    if lstm:
        np.testing.assert_allclose(dhx[1], tc.grad.numpy(), rtol=0, atol=1e-12)
    for k, p in theirs.named_parameters():
        np.testing.assert_allclose(ours.grads[k], p.grad.numpy(), rtol=0, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("make", [lambda: bptt.RNNCell(I, H, nonlinearity="sigmoid", dtype=np.float64, seed=1),
                                  lambda: bptt.GRUCell(I, H, reset_after=False, dtype=np.float64, seed=1)])
def test_cells_without_torch_equivalent_pass_finite_differences(make):
    rng = np.random.default_rng(2)
    res = bptt.gradcheck(make(), (rng.standard_normal((B, I)), rng.standard_normal((B, H))))
    assert res.passed(1e-7), str(res)


def test_lstm_cell_default_state_is_zeros_and_errors_name_the_argument():
    cell = bptt.LSTMCell(I, H, dtype=np.float64, seed=0)
    x = np.ones((B, I))
    h, c = cell(x)
    h2, c2 = cell(x, (np.zeros((B, H)), np.zeros((B, H))))
    np.testing.assert_array_equal(h, h2)
    with pytest.raises(ValueError, match=r"hx: expected shape \(4, 5\), got \(3, 5\)"):
        cell(x, (np.zeros((3, H)), None))
    with pytest.raises(TypeError, match="hx: LSTMCell expects a tuple"):
        cell(x, np.zeros((B, H)))
    with pytest.raises(ValueError, match="input: expected last dimension input_size=3"):
        cell(np.ones((B, 4)))
    with pytest.raises(TypeError, match="dc: RNNCell has no cell state"):
        rnn = bptt.RNNCell(I, H, dtype=np.float64)
        rnn(x)
        rnn.backward(np.ones((B, H)), np.ones((B, H)))


# -- the functional step helpers ---------------------------------------------------------
def _weights(rng, G):
    return (rng.standard_normal((G * H, I)), rng.standard_normal((G * H, H)), rng.standard_normal(G * H),
            rng.standard_normal(G * H))


def test_step_helpers_take_unbatched_input_like_torch_cells():
    rng = np.random.default_rng(4)
    x, h, c = rng.standard_normal(I), rng.standard_normal(H), rng.standard_normal(H)
    W = _weights(rng, 1)
    h1, cache = rnn_step_forward(x, h, *W)
    assert h1.shape == (H,)
    hb, _ = rnn_step_forward(x[None], h[None], *W)
    np.testing.assert_array_equal(h1, hb[0])
    dx, dh, *_ = rnn_step_backward(np.ones(H), cache)
    assert dx.shape == (I,) and dh.shape == (H,)
    (h2, c2), _ = lstm_step_forward(x, h, c, *_weights(rng, 4))
    assert h2.shape == c2.shape == (H,)
    assert gru_step_forward(x, h, *_weights(rng, 3))[0].shape == (H,)


@pytest.mark.parametrize("fn,G,extra", [(rnn_step_forward, 1, ()), (gru_step_forward, 3, ())])
def test_step_helpers_name_a_wrong_batch_size(fn, G, extra):
    rng = np.random.default_rng(5)
    with pytest.raises(ValueError, match=r"h_prev: expected shape \(4, 5\), got \(2, 5\)"):
        fn(rng.standard_normal((B, I)), rng.standard_normal((2, H)), *_weights(rng, G))
    with pytest.raises(ValueError, match=r"W_ih: expected shape"):
        fn(rng.standard_normal((B, I + 1)), rng.standard_normal((B, H)), *_weights(rng, G))


def test_lstm_step_names_c_prev_and_dh():
    rng = np.random.default_rng(6)
    W = _weights(rng, 4)
    with pytest.raises(ValueError, match=r"c_prev: expected shape \(4, 5\), got \(4, 6\)"):
        lstm_step_forward(rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, 6)), *W)
    _, cache = rnn_step_forward(rng.standard_normal((B, I)), rng.standard_normal((B, H)), *_weights(rng, 1))
    with pytest.raises(ValueError, match=r"dh: expected shape \(4, 5\), got \(5,\)"):
        rnn_step_backward(np.ones(H), cache)
