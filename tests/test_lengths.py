"""Variable-length batches for RNN, LSTM and GRU: equal to torch's pack_padded_sequence round trip.

torch: pack_padded_sequence(x, lengths, enforce_sorted=False) -> module -> pad_packed_sequence(total_length=T).
Outputs past a sequence's length are zero, h_n/c_n are each sequence's own final state (for the
reverse direction: after reading its first step), and every gradient matches.
"""

import itertools

import numpy as np
import pytest

import bptt

torch = pytest.importorskip("torch", reason="packed-sequence parity needs PyTorch (bptt[torch])")
from bptt.interop.torch import compare  # noqa: E402

TOL = 1e-10
I, H, T = 3, 4, 6
LENGTHS = np.array([3, T, 1, 5])  # unsorted, with a length-1 and a full-length sequence


def _make(cell, layers, bi, bf, seed):
    kw = dict(num_layers=layers, bidirectional=bi, batch_first=bf, dtype=np.float64, seed=seed)
    return {"rnn": bptt.RNN, "lstm": bptt.LSTM, "gru": bptt.GRU}[cell](I, H, **kw)


def _inputs(rng, m, cell, B):
    x = rng.standard_normal((B, T, I) if m.batch_first else (T, B, I))
    shape = (m.num_layers * m.num_directions, B, H)
    if cell == "lstm":
        return x, (rng.standard_normal(shape), rng.standard_normal(shape))
    return x, rng.standard_normal(shape)


@pytest.mark.parametrize("cell,layers,bi,bf", list(itertools.product(["rnn", "lstm", "gru"], [1, 2], [False, True], [False, True])))
def test_lengths_match_torch_packed(cell, layers, bi, bf):
    seed = 1000 + 100 * ["rnn", "lstm", "gru"].index(cell) + 10 * layers + 2 * bi + bf
    rng = np.random.default_rng(seed)
    m = _make(cell, layers, bi, bf, seed)
    res = compare(m, _inputs(rng, m, cell, len(LENGTHS)), lengths=LENGTHS, seed=seed)
    n_out = 3 if cell == "lstm" else 2
    assert len(res.rows) == 2 * n_out + len(m.state_dict())
    assert res.max_abs <= TOL, str(res)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_each_sequence_as_if_alone(cell, rng):
    """Padding never leaks: every sequence's outputs and final state equal a run on that sequence alone."""
    m = _make(cell, 2, True, False, 3)
    x, hx = _inputs(rng, m, cell, len(LENGTHS))
    x[1:, 2] = 1e3  # garbage in the padding
    out, state = m(x, hx, lengths=LENGTHS)
    h_n = state[0] if cell == "lstm" else state
    for b, ell in enumerate(LENGTHS):
        hb = (hx[0][:, b], hx[1][:, b]) if cell == "lstm" else hx[:, b]
        out_b, state_b = m(x[:ell, b], hb)
        np.testing.assert_allclose(out[:ell, b], out_b, rtol=0, atol=1e-13)
        assert not out[ell:, b].any()
        np.testing.assert_allclose(h_n[:, b], state_b[0] if cell == "lstm" else state_b, rtol=0, atol=1e-13)


def test_full_lengths_equal_no_lengths(rng):
    for cell in ("rnn", "lstm", "gru"):
        m = _make(cell, 2, True, True, 5)
        x, hx = _inputs(rng, m, cell, 3)
        a = m(x, hx)
        b = m(x, hx, lengths=np.full(3, T))
        flat = lambda o: [o] if isinstance(o, np.ndarray) else [v for u in o for v in flat(u)]  # noqa: E731
        assert len(flat(a)) == (3 if cell == "lstm" else 2)
        for u, v in zip(flat(a), flat(b)):
            np.testing.assert_array_equal(u, v)


def test_padding_gets_zero_input_gradient(rng):
    m = _make("lstm", 2, True, False, 1)
    x, hx = _inputs(rng, m, "lstm", len(LENGTHS))
    out, (h, c) = m(x, hx, lengths=LENGTHS)
    dx, _ = m.backward(rng.standard_normal(out.shape), (rng.standard_normal(h.shape), rng.standard_normal(c.shape)))
    for b, ell in enumerate(LENGTHS):
        assert not dx[ell:, b].any()
        assert np.abs(dx[:ell, b]).min() > 0


def test_lengths_accept_lists_and_tensors(rng):
    m = _make("gru", 1, False, False, 0)
    x, h0 = _inputs(rng, m, "gru", len(LENGTHS))
    ref = m(x, h0, lengths=LENGTHS)[0]
    np.testing.assert_array_equal(m(x, h0, lengths=LENGTHS.tolist())[0], ref)
    np.testing.assert_array_equal(m(x, h0, lengths=torch.tensor(LENGTHS))[0], ref)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_bad_lengths(cell, rng):
    m = _make(cell, 1, False, False, 0)
    x, hx = _inputs(rng, m, cell, 4)
    with pytest.raises(ValueError, match=r"lengths: expected 4 integers .* got shape \(3,\)"):
        m(x, hx, lengths=np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"lengths: expected values in \[1, 6\].*min 0"):
        m(x, hx, lengths=np.array([0, 2, 3, 4]))
    with pytest.raises(ValueError, match=r"lengths: expected values in \[1, 6\].*max 7"):
        m(x, hx, lengths=np.array([7, 2, 3, 4]))
    with pytest.raises(ValueError, match="lengths: expected 4 integers.*float64"):
        m(x, hx, lengths=np.array([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match="lengths: only valid for batched"):
        m(x[:, 0], None, lengths=np.array([3]))
