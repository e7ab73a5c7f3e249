"""Truncated BPTT: chunked forward equals the full forward; chunked gradients equal torch with h.detach()."""

import numpy as np
import pytest

import bptt
from bptt.tbptt import detach, run_truncated, time_chunks

torch = pytest.importorskip("torch", reason="truncated-BPTT parity needs PyTorch (bptt[torch])")
from bptt.interop.torch import to_torch  # noqa: E402

CLASSES = {"rnn": bptt.RNN, "lstm": bptt.LSTM, "gru": bptt.GRU}
T = 10


def _state(rng, m, cell, B=2):
    shape = (m.num_layers, B, m.hidden_size)
    return (rng.standard_normal(shape), rng.standard_normal(shape)) if cell == "lstm" else rng.standard_normal(shape)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("k", [1, 3, T, T + 5])
@pytest.mark.parametrize("bf", [False, True])
def test_chunked_forward_equals_full_forward(cell, k, bf):
    rng = np.random.default_rng(k + 100 * bf)
    m = CLASSES[cell](3, 4, 2, batch_first=bf, dtype=np.float64, seed=1)
    x = rng.standard_normal((2, T, 3) if bf else (T, 2, 3))
    hx = _state(rng, m, cell)
    out_full, st_full = m(x, hx)
    out, st = run_truncated(m, x, k, hx)
    assert out.shape == out_full.shape
    np.testing.assert_allclose(out, out_full, rtol=0, atol=1e-14)
    for a, b in zip(st if cell == "lstm" else [st], st_full if cell == "lstm" else [st_full]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)


def test_unbatched_chunks(rng):
    m = bptt.LSTM(3, 4, dtype=np.float64, seed=1)
    x = rng.standard_normal((7, 3))
    out, (h, c) = run_truncated(m, x, 3)
    out_full, (h_full, c_full) = m(x)
    np.testing.assert_allclose(out, out_full, rtol=0, atol=1e-14)
    np.testing.assert_allclose(c, c_full, rtol=0, atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("k", [1, 4, T])
def test_truncated_gradients_equal_torch_with_detach(cell, k):
    """Σ over chunks of ⟨w, out_chunk⟩ with the state detached at every boundary, gradients as torch."""
    rng = np.random.default_rng(10 * k)
    m = CLASSES[cell](3, 4, 2, dtype=np.float64, seed=2)
    tm = to_torch(m)
    x = rng.standard_normal((T, 2, 3))
    hx = _state(rng, m, cell)
    w = rng.standard_normal((T, 2, 4))
    starts = []

    m.zero_grad()
    run_truncated(m, x, k, hx, dout_fn=lambda t0, out: w[t0:t0 + out.shape[0]], after_backward=starts.append)
    assert starts == list(range(0, T, k))

    h = tuple(torch.from_numpy(a) for a in hx) if cell == "lstm" else torch.from_numpy(hx)
    loss = 0
    for t0 in range(0, T, k):
        out, h = tm(torch.from_numpy(x[t0:t0 + k]), h)
        loss = loss + (out * torch.from_numpy(w[t0:t0 + k])).sum()
        h = tuple(s.detach() for s in h) if cell == "lstm" else h.detach()
    loss.backward()
    for name, p in tm.named_parameters():
        assert np.abs(m.grads[name] - p.grad.numpy()).max() <= 1e-10, name


def test_truncation_changes_the_gradient_and_k_ge_T_is_full_bptt(rng):
    m = bptt.GRU(3, 4, dtype=np.float64, seed=0)
    x = rng.standard_normal((T, 2, 3))
    w = rng.standard_normal((T, 2, 4))
    m.zero_grad()
    m(x)
    m.backward(w)
    full = {k: v.copy() for k, v in m.grads.items()}
    for k, same in ((T, True), (2, False)):
        m.zero_grad()
        run_truncated(m, x, k, dout_fn=lambda t0, out: w[t0:t0 + out.shape[0]])
        diff = max(np.abs(m.grads[n] - full[n]).max() for n in full)
        assert (diff <= 1e-13) if same else (diff > 1e-6)


def test_min_char_rnn_style_training_loop_reduces_loss(rng):
    """RNN + Linear head + softmax loss, k-step chunks, clipping and plain SGD: the loss goes down."""
    from bptt.functional.losses import cross_entropy_backward, cross_entropy_forward
    from bptt.optim.clip import clip_grad_norm_

    V, Hs, k = 5, 16, 8
    seq = np.tile(np.arange(V), 12)  # a periodic "text"
    x = np.eye(V)[seq[:-1]][:, None, :]  # (T, 1, V) one-hot
    y = seq[1:]
    rnn, head = bptt.RNN(V, Hs, dtype=np.float64, seed=0), bptt.Linear(Hs, V, dtype=np.float64, seed=1)
    losses = []

    def dout_fn(t0, out):
        logits = head(out[:, 0])
        loss, cache = cross_entropy_forward(logits, y[t0:t0 + out.shape[0]])
        losses.append(loss)
        return head.backward(cross_entropy_backward(1.0, cache))[:, None, :]

    def step(t0):
        clip_grad_norm_([rnn, head], 5.0)
        for p in rnn.parameters() + head.parameters():
            p.data -= 0.1 * p.grad
            p.grad[...] = 0

    for _ in range(15):
        run_truncated(rnn, x, k, dout_fn=dout_fn, after_backward=step)
    n = len(range(0, len(y), k))
    assert np.mean(losses[-n:]) < 0.5 * np.mean(losses[:n])


def test_time_chunks_and_detach(rng):
    x = rng.standard_normal((2, 7, 3))
    chunks = list(time_chunks(x, 3, batch_first=True))
    assert [t0 for t0, _ in chunks] == [0, 3, 6]
    assert [c.shape[1] for _, c in chunks] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([c for _, c in chunks], axis=1), x)
    h = rng.standard_normal((1, 2, 4))
    state = (h, h + 1)
    d = detach(state)
    d[0][...] = 0
    assert h.any() and detach(None) is None


def test_bad_arguments(rng):
    x = rng.standard_normal((5, 2, 3))
    with pytest.raises(ValueError, match="bidirectional"):
        run_truncated(bptt.LSTM(3, 4, bidirectional=True, dtype=np.float64), x, 2)
    with pytest.raises(ValueError, match="k: expected an int >= 1, got 0"):
        run_truncated(bptt.RNN(3, 4, dtype=np.float64), x, 0)
    with pytest.raises(TypeError, match="module: expected a bptt recurrent module"):
        run_truncated(bptt.Linear(3, 4), x, 2)
    with pytest.raises(TypeError, match="dout_fn: expected a callable"):
        run_truncated(bptt.RNN(3, 4, dtype=np.float64), x, 2, dout_fn=3)
    with pytest.raises(ValueError, match="x: expected a 2-D or 3-D array"):
        list(time_chunks(x[0, 0], 2))
    with pytest.raises(TypeError, match="state: expected an array"):
        detach([x])
