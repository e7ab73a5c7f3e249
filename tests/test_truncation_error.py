"""Truncated BPTT's gradient against full BPTT: the chunked path sum, its relative error and cosine."""

import numpy as np
import pytest

from bptt.functional import cells
from bptt.reference import reference_bptt
from bptt.tbptt import truncated_gradient, truncation_error

T, B, I, H = 9, 2, 3, 4
NAMES = ("W_ih", "W_hh", "b_ih", "b_hh")


def _setup(name, seed=0, batch_first=False):
    rng = np.random.default_rng(seed)
    m = cells.get(name).module(I, H, dtype=np.float64, seed=seed, batch_first=batch_first)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I))
    dout = rng.standard_normal((B, T, H) if batch_first else (T, B, H))
    return m, x, dout


@pytest.mark.parametrize("name,k", [("rnn-tanh", 1), ("rnn-tanh", 4), ("lstm", 3), ("gru", 2), ("gru", 5)])
def test_truncated_gradient_is_the_in_chunk_path_sum(name, k):
    """Independent: the sum over paths of seed 003, keeping the (t, j) with t and j in one chunk of k steps."""
    m, x, dout = _setup(name)
    got = truncated_gradient(m, x, dout, k)
    h0 = np.zeros((B, H))
    ref = reference_bptt(name, x, h0, h0 if name == "lstm" else None, *[m._params[n].data for n in m._names(0, 0)],
                         dout=dout, keep_paths=True)
    want = {n: 0.0 for n in NAMES}
    for p in ref.paths:
        if (p.t - 1) // k == (p.k - 1) // k:
            for n in NAMES:
                want[n] = want[n] + p.terms[n]
    for n, pname in zip(NAMES, m._names(0, 0)):
        np.testing.assert_allclose(got[pname], want[n], rtol=1e-10, atol=1e-12)


def test_truncation_error_rows_and_limits():
    m, x, dout = _setup("lstm", 1, batch_first=True)
    m.weight_hh_l0[...] *= 3  # long memory: truncation matters
    m.zero_grad()
    m._params["bias_ih_l0"].grad[...] = 7.0  # left as it was
    rows = truncation_error(m, x, dout, [1, 2, 4, T, 50])
    assert [r["k"] for r in rows] == [1, 2, 4, T, 50]
    for r in rows[3:]:  # k >= T: full BPTT
        assert r["relative_error"] <= 1e-12 and abs(r["cosine"] - 1) <= 1e-12
    full = np.concatenate([g.ravel() for g in truncated_gradient(m, x, dout, T).values()])
    g1 = np.concatenate([g.ravel() for g in truncated_gradient(m, x, dout, 1).values()])
    assert rows[0]["relative_error"] == pytest.approx(np.linalg.norm(g1 - full) / np.linalg.norm(full), rel=1e-12)
    assert rows[0]["cosine"] == pytest.approx(g1 @ full / np.linalg.norm(g1) / np.linalg.norm(full), rel=1e-12)
    assert rows[0]["relative_error"] > 0.01 and rows[0]["cosine"] < 0.9999
    assert (m._params["bias_ih_l0"].grad == 7.0).all()


@pytest.mark.parametrize("name,k", [("gru", 40), ("lstm", 7)])
def test_train_truncated_on_a_stream(name, k):
    """No optimizer: the same per-step losses as the online loop; k >= T sums to the online (= BPTT) gradient,
    k < T to the truncated gradient of the same loss."""
    import bptt
    from bptt.nn import MSELoss
    from bptt.rtrl import OnlineRTRL, delayed_echo, train_online
    from bptt.tbptt import train_truncated

    xs, ys = delayed_echo(30, 4, batch_size=2, seed=2)

    def net():
        return cells.get(name).module(1, 5, dtype=np.float64, seed=0), bptt.Linear(5, 1, dtype=np.float64, seed=1)

    rnn, head = net()
    online = train_online(OnlineRTRL(rnn, head, MSELoss(), batch_size=2), xs, ys)
    rnn2, head2 = net()
    losses = train_truncated(rnn2, head2, MSELoss(), None, xs, ys, k)
    np.testing.assert_allclose(losses, online, rtol=1e-13, equal_nan=True)
    np.testing.assert_allclose(head2._params["weight"].grad,
                               head._params["weight"].grad, rtol=1e-10)
    dout = np.zeros((30, 2, 5))
    out, _ = rnn(xs)
    for t, y in enumerate(ys):
        if y is not None:
            dout[t] = (2 * (head(out[t]) - y) / y.size) @ head.weight
    want = truncated_gradient(rnn, xs, dout, k)
    for n, p in rnn2.named_parameters():
        np.testing.assert_allclose(p.grad, want[n], rtol=1e-10, atol=1e-13)
        if k >= 30:
            np.testing.assert_allclose(p.grad, rnn._params[n].grad, rtol=1e-10, atol=1e-13)
