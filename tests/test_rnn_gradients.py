"""bptt.RNN against central finite differences, and structural gradient properties."""

import numpy as np
import pytest

import bptt
from bptt.functional.recurrent import layer_backward, layer_forward
from bptt.functional.rnn import rnn_step_backward, rnn_step_forward

RTOL = 1e-7


@pytest.mark.parametrize("nl", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("layers,bi", [(1, False), (2, True)])
@pytest.mark.parametrize("bf", [False, True])
def test_rnn_finite_differences(nl, layers, bi, bf, rng):
    m = bptt.RNN(3, 4, layers, nonlinearity=nl, batch_first=bf, bidirectional=bi, dtype=np.float64, seed=3)
    D = 2 if bi else 1
    x = rng.standard_normal((2, 4, 3) if bf else (4, 2, 3))
    h0 = rng.standard_normal((layers * D, 2, 4))
    res = bptt.gradcheck(m, (x, h0))
    assert len(res.rows) == 2 + len(m.state_dict())
    assert res.max_rel <= RTOL, str(res)


def test_rnn_finite_differences_with_lengths_and_no_bias(rng):
    m = bptt.RNN(2, 3, 2, nonlinearity="sigmoid", bias=False, bidirectional=True, dtype=np.float64, seed=4)
    x, h0 = rng.standard_normal((5, 3, 2)), rng.standard_normal((4, 3, 3))
    res = bptt.gradcheck(m, (x, h0), kwargs={"lengths": np.array([5, 1, 3])})
    assert res.max_rel <= RTOL, str(res)


def test_unbatched_finite_differences(rng):
    m = bptt.RNN(2, 3, nonlinearity="sigmoid", dtype=np.float64, seed=5)
    res = bptt.gradcheck(m, (rng.standard_normal((4, 2)), rng.standard_normal((1, 3))))
    assert res.max_rel <= RTOL, str(res)


def test_bias_gradients_are_equal_for_elman(rng):
    """b_ih and b_hh enter a_t as a sum, so their gradients must be identical."""
    m = bptt.RNN(3, 4, 2, bidirectional=True, dtype=np.float64, seed=1)
    out, h_n = m(rng.standard_normal((5, 2, 3)))
    m.backward(rng.standard_normal(out.shape), rng.standard_normal(h_n.shape))
    for s in ["_l0", "_l1", "_l0_reverse", "_l1_reverse"]:
        np.testing.assert_array_equal(m.grads["bias_ih" + s], m.grads["bias_hh" + s])
        assert np.abs(m.grads["bias_ih" + s]).max() > 0


def test_backward_does_not_mutate_its_inputs(rng):
    m = bptt.RNN(3, 4, 2, bidirectional=True, dtype=np.float64, seed=1)
    x, h0 = rng.standard_normal((5, 2, 3)), rng.standard_normal((4, 2, 4))
    out, h_n = m(x, h0)
    dout, dh = rng.standard_normal(out.shape), rng.standard_normal(h_n.shape)
    copies = [a.copy() for a in (x, h0, dout, dh)]
    m.backward(dout, dh)
    m.backward(None, dh)  # dout=None path: dh is then the very array the loop starts from
    for a, c in zip((x, h0, dout, dh), copies):
        np.testing.assert_array_equal(a, c)


def test_gradients_accumulate_until_zero_grad(rng):
    m = bptt.RNN(2, 3, dtype=np.float64, seed=0)
    x = rng.standard_normal((3, 1, 2))
    out, h = m(x)
    g = rng.standard_normal(out.shape)
    m.backward(g)
    once = {k: v.copy() for k, v in m.grads.items()}
    m.backward(g)
    for k in once:
        np.testing.assert_allclose(m.grads[k], 2 * once[k], rtol=1e-14)
    m.zero_grad()
    assert all(not v.any() for v in m.grads.values())


def test_step_functions_agree_with_finite_differences(rng):
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    W_ih, W_hh = rng.standard_normal((4, 3)), rng.standard_normal((4, 4)) * 0.5
    b_ih, b_hh = rng.standard_normal(4), rng.standard_normal(4)
    for nl in ["tanh", "sigmoid", "relu"]:
        fwd = lambda *a, nl=nl: rnn_step_forward(*a, nonlinearity=nl)  # noqa: E731
        res = bptt.gradcheck((fwd, rnn_step_backward), (x, h, W_ih, W_hh, b_ih, b_hh))
        assert len(res.rows) == 6 and res.max_rel <= RTOL, str(res)


def test_layer_loop_equals_repeated_step_function(rng):
    T, B = 4, 2
    x, h0 = rng.standard_normal((T, B, 3)), rng.standard_normal((B, 4))
    W_ih, W_hh, b_ih, b_hh = rng.standard_normal((4, 3)), rng.standard_normal((4, 4)), rng.standard_normal(4), rng.standard_normal(4)
    out, hT, _, cache = layer_forward("rnn-tanh", x, h0, None, W_ih, W_hh, b_ih, b_hh)
    h, caches = h0, []
    for t in range(T):
        h, c = rnn_step_forward(x[t], h, W_ih, W_hh, b_ih, b_hh)
        caches.append(c)
        np.testing.assert_allclose(out[t], h, rtol=0, atol=1e-14)
    dout = rng.standard_normal(out.shape)
    g = layer_backward(dout, None, None, cache)
    dh, dW = np.zeros((B, 4)), np.zeros((4, 4))
    for t in reversed(range(T)):
        dx, dh, _, dWt, _, _ = rnn_step_backward(dh + dout[t], caches[t])
        np.testing.assert_allclose(g["dx"][t], dx, atol=1e-13)
        dW += dWt
    np.testing.assert_allclose(g["dW_hh"], dW, atol=1e-13)
    np.testing.assert_allclose(g["dh0"], dh, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_end_to_end(dtype, rng):
    m = bptt.RNN(3, 4, 2, bidirectional=True, dtype=dtype, seed=0)
    x = rng.standard_normal((5, 2, 3)).astype(dtype)
    out, h_n = m(x, lengths=[5, 2])
    assert out.dtype == dtype and h_n.dtype == dtype
    dx, dh0 = m.backward(rng.standard_normal(out.shape).astype(dtype), rng.standard_normal(h_n.shape).astype(dtype))
    assert dx.dtype == dtype and dh0.dtype == dtype
    assert all(v.dtype == dtype for v in m.grads.values())
    assert all(v.dtype == dtype for v in m.state_dict().values())


def test_keep_dh_gives_total_gradient_of_each_state(rng):
    """layer_backward(keep_dh=True)['dh'][t] = ∂L/∂h_t, checked by perturbing h_t's input path."""
    T, B, H = 3, 1, 2
    x = rng.standard_normal((T, B, 2))
    W_ih, W_hh, b = rng.standard_normal((H, 2)), rng.standard_normal((H, H)), rng.standard_normal(H)
    cell = "rnn-tanh"
    out, _, _, cache = layer_forward(cell, x, np.zeros((B, H)), None, W_ih, W_hh, b, b)
    w = rng.standard_normal(out.shape)
    dh = layer_backward(w, None, None, cache, keep_dh=True)["dh"]
    # ∂L/∂h_0 equals the gradient wrt h0 of the tail sequence started from h_0.
    _, _, _, tail = layer_forward(cell, x[1:], out[0], None, W_ih, W_hh, b, b)
    g_tail = layer_backward(w[1:], None, None, tail)["dh0"]
    np.testing.assert_allclose(dh[0], g_tail + w[0], atol=1e-14)
