"""bptt.LSTM against torch.nn.LSTM autograd (float64, ≤ 1e-10) and finite differences (≤ 1e-7 rel)."""

import itertools

import numpy as np
import pytest

import bptt
from bptt.functional.cells import get as cell_kind
from bptt.functional.lstm import lstm_step_backward, lstm_step_forward

torch = pytest.importorskip("torch", reason="LSTM parity tests need PyTorch (bptt[torch])")
from bptt.interop.torch import compare, from_torch, to_torch  # noqa: E402
from _inputs import rand_state as _state  # noqa: E402
from _inputs import rand_x as _x  # noqa: E402

TOL = 1e-10
FD_TOL = 1e-7
I, H, B = 3, 4, 3
CONFIGS = list(itertools.product([1, 2, 3], [False, True], [False, True], [True, False], [True, False], [1, 2, 7]))


def _randomize(m, rng, scale=0.5):
    """Non-zero weights and biases of order one (torch's init is small for H = 4 too, but this is harsher)."""
    for p in m.parameters():
        p.data[...] = scale * rng.standard_normal(p.shape)
    return m


@pytest.mark.parametrize("layers,bi,bf,bias,batched,T", CONFIGS)
def test_lstm_matches_torch(layers, bi, bf, bias, batched, T):
    seed = int("".join(str(int(v)) for v in (layers, bi, bf, bias, batched, T)))
    rng = np.random.default_rng(seed)
    m = bptt.LSTM(I, H, layers, bias=bias, batch_first=bf, bidirectional=bi, dtype=np.float64, seed=seed)
    res = compare(m, (_x(rng, m, T, batched), _state(rng, m, batched)), seed=seed + 1)
    assert len(res.rows) == 3 + 3 + len(m.state_dict())  # out, h_n, c_n, dx, dh0, dc0, every parameter
    assert res.max_abs <= TOL, str(res)


def test_default_state_is_zeros_like_torch(rng):
    m = bptt.LSTM(I, H, 2, bidirectional=True, dtype=np.float64, seed=0)
    res = compare(m, (rng.standard_normal((5, 2, I)),), seed=3)
    assert len(res.rows) == 3 + 1 + len(m.state_dict())
    assert res.max_abs <= TOL, str(res)


def test_partial_state_and_gradients_none(rng):
    """(h0, None) means c0 = 0; backward accepts (dh_n, None), (None, dc_n) and None."""
    m = bptt.LSTM(I, H, 2, dtype=np.float64, seed=0)
    x = rng.standard_normal((4, 2, I))
    h0, c0 = _state(rng, m, B=2)
    out_a, (h_a, c_a) = m(x, (h0, None))
    out_b, (h_b, c_b) = m(x, (h0, np.zeros_like(c0)))
    np.testing.assert_array_equal(out_a, out_b)
    dout = rng.standard_normal(out_a.shape)
    dh_n, dc_n = rng.standard_normal(h_a.shape), rng.standard_normal(c_a.shape)
    dx_full, (dh0_full, dc0_full) = m.backward(dout, (dh_n, dc_n))
    dx1, (dh01, dc01) = m.backward(dout, (dh_n, None))
    dx2, (dh02, dc02) = m.backward(None, (None, dc_n))
    np.testing.assert_allclose(dx1 + dx2, dx_full, rtol=0, atol=1e-13)
    np.testing.assert_allclose(dc01 + dc02, dc0_full, rtol=0, atol=1e-13)
    dx3, _ = m.backward(dout, None)  # linear in the upstream gradients
    np.testing.assert_allclose(dx3 + m.backward(None, (dh_n, None))[0], dx1, rtol=0, atol=1e-13)
    assert not m.backward(None, None)[0].any()


def test_bias_grads_equal(rng):
    m = bptt.LSTM(I, H, 2, bidirectional=True, dtype=np.float64, seed=1)
    x = rng.standard_normal((5, 2, I))
    out, (h, c) = m(x, _state(rng, m, B=2), lengths=np.array([5, 2]))
    m.backward(rng.standard_normal(out.shape), (rng.standard_normal(h.shape), rng.standard_normal(c.shape)))
    g = m.grads
    for name in g:
        if name.startswith("bias_ih"):
            other = name.replace("bias_ih", "bias_hh")
            np.testing.assert_array_equal(g[name], g[other])
            assert np.abs(g[name]).max() > 0


@pytest.mark.parametrize("layers,bi,batched", [(1, False, True), (2, True, True), (2, True, False), (3, False, True)])
def test_lstm_finite_differences(layers, bi, batched):
    rng = np.random.default_rng(layers * 10 + bi)
    m = _randomize(bptt.LSTM(2, 3, layers, bidirectional=bi, dtype=np.float64, seed=0), rng)
    x = _x(rng, m, 4, batched, B=2)
    kwargs = {"lengths": np.array([4, 1])} if batched else {}
    res = bptt.gradcheck(m, (x, _state(rng, m, batched, B=2)), kwargs=kwargs, seed=5)
    assert res.max_rel <= FD_TOL, str(res)


def test_backward_does_not_mutate_inputs(rng):
    m = bptt.LSTM(I, H, 2, bidirectional=True, batch_first=True, dtype=np.float64, seed=0)
    x = _x(rng, m, 5)
    hx = _state(rng, m)
    inputs = [x, *hx]
    saved = [a.copy() for a in inputs]
    out, (h, c) = m(x, hx, lengths=np.array([5, 1, 3]))
    ups = [rng.standard_normal(out.shape), rng.standard_normal(h.shape), rng.standard_normal(c.shape)]
    ups_saved = [a.copy() for a in ups]
    m.backward(ups[0], (ups[1], ups[2]))
    for a, b in zip(inputs + ups, saved + ups_saved):
        np.testing.assert_array_equal(a, b)


def test_grads_accumulate_like_torch(rng):
    m = bptt.LSTM(I, H, dtype=np.float64, seed=0)
    x = rng.standard_normal((3, 2, I))
    out, (h, c) = m(x)
    dout = rng.standard_normal(out.shape)
    m.backward(dout)
    once = {k: v.copy() for k, v in m.grads.items()}
    m(x)
    m.backward(dout)
    for k, v in m.grads.items():
        np.testing.assert_allclose(v, 2 * once[k], rtol=1e-14, atol=0)


# -- the step functions (cs231n style) -----------------------------------------------


def test_step_functions_match_torch_lstmcell(rng):
    x, h0, c0 = rng.standard_normal((3, I)), rng.standard_normal((3, H)), rng.standard_normal((3, H))
    W_ih, W_hh = rng.standard_normal((4 * H, I)), rng.standard_normal((4 * H, H))
    b_ih, b_hh = rng.standard_normal(4 * H), rng.standard_normal(4 * H)
    (h, c), cache = lstm_step_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    dh, dc = rng.standard_normal(h.shape), rng.standard_normal(c.shape)
    grads = lstm_step_backward(dh, dc, cache)

    cell = torch.nn.LSTMCell(I, H, dtype=torch.float64)
    cell.load_state_dict({k: torch.from_numpy(v) for k, v in
                          dict(weight_ih=W_ih, weight_hh=W_hh, bias_ih=b_ih, bias_hh=b_hh).items()})
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    th1, tc1 = cell(tx, (th, tc))
    ((th1 * torch.from_numpy(dh)).sum() + (tc1 * torch.from_numpy(dc)).sum()).backward()
    assert np.abs(h - th1.detach().numpy()).max() <= TOL
    assert np.abs(c - tc1.detach().numpy()).max() <= TOL
    expected = [tx.grad, th.grad, tc.grad, cell.weight_ih.grad, cell.weight_hh.grad, cell.bias_ih.grad, cell.bias_hh.grad]
    for got, want in zip(grads, expected):
        assert np.abs(got - want.numpy()).max() <= TOL


def test_step_functions_finite_differences(rng):
    inputs = (rng.standard_normal((2, 3)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2)),
              rng.standard_normal((8, 3)), rng.standard_normal((8, 2)), rng.standard_normal(8), rng.standard_normal(8))
    res = bptt.gradcheck((lstm_step_forward, lambda up, cache: lstm_step_backward(up[0], up[1], cache)), inputs, seed=2)
    assert len(res.rows) == 7
    assert res.max_rel <= FD_TOL, str(res)
    # no bias: the same step without b
    res = bptt.gradcheck((lstm_step_forward, lambda up, cache: lstm_step_backward(up[0], up[1], cache)), inputs[:5], seed=2)
    assert len(res.rows) == 5 and res.max_rel <= FD_TOL, str(res)


def test_step_function_is_one_step_of_the_module(rng):
    m = bptt.LSTM(I, H, dtype=np.float64, seed=3)
    x, (h0, c0) = rng.standard_normal((1, 2, I)), _state(rng, m, B=2)
    out, (h, c) = m(x, (h0, c0))
    (h1, c1), _ = lstm_step_forward(x[0], h0[0], c0[0], *(m.state_dict()[k] for k in
                                    ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")))
    np.testing.assert_allclose(h1, h[0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(c1, c[0], rtol=0, atol=1e-15)


def test_cell_protocol_attributes():
    cell = cell_kind("lstm")
    assert (cell.gates, cell.has_cell_state, cell.shared_bias_grad) == (4, True, True)


# -- options beyond torch -----------------------------------------------------------


@pytest.mark.parametrize("layers,bi,bf", [(2, False, False), (1, True, True)])
def test_cell_states_match_torch_prefix_runs(layers, bi, bf):
    """c_t of every step equals torch's c_n after reading x[:t+1] (reverse direction: x[t:]).

    (Prefix runs are only valid while no layer reads a reverse direction, hence
    no bidirectional stack here.)
    """
    rng = np.random.default_rng(11)
    T = 5
    m = bptt.LSTM(I, H, layers, bidirectional=bi, batch_first=bf, dtype=np.float64, seed=2)
    tm = to_torch(m)
    x = _x(rng, m, T, B=2)
    out, (h_n, c_n) = m(x)
    cs = m.cell_states()
    assert cs.shape == out.shape
    xt = torch.from_numpy(x)
    for t in range(T):
        pre = xt[:, :t + 1] if bf else xt[:t + 1]
        _, (_, c_pre) = tm(pre)
        np.testing.assert_allclose(cs[:, t, :H] if bf else cs[t, :, :H], c_pre[-1 - bi].detach().numpy(), atol=TOL, rtol=0)
        if bi:
            post = xt[:, t:] if bf else xt[t:]
            _, (_, c_post) = tm(post)
            np.testing.assert_allclose(cs[:, t, H:] if bf else cs[t, :, H:], c_post[-1].detach().numpy(), atol=TOL, rtol=0)
    np.testing.assert_array_equal(m.cell_states(layers - 1), cs)
    last = cs[:, -1, :H] if bf else cs[-1, :, :H]
    np.testing.assert_array_equal(last, c_n[(layers - 1) * (1 + bi)])
    if layers > 1:  # layer 0's last step is its c_n
        np.testing.assert_array_equal(m.cell_states(0)[-1], c_n[0])


def test_cell_states_with_lengths_and_unbatched(rng):
    m = bptt.LSTM(I, H, bidirectional=True, dtype=np.float64, seed=2)
    x = rng.standard_normal((4, 3, I))
    lengths = np.array([4, 1, 2])
    m(x, lengths=lengths)
    cs = m.cell_states()
    for b, ell in enumerate(lengths):
        assert not cs[ell:, b].any()  # zero past the length, like out
        m(x[:ell, b])  # the sequence alone, unbatched
        np.testing.assert_allclose(cs[:ell, b], m.cell_states(), atol=1e-14, rtol=0)
        m(x, lengths=lengths)


def test_forget_bias_sets_effective_forget_bias():
    a = bptt.LSTM(I, H, 2, bidirectional=True, seed=5, dtype=np.float64)
    b = bptt.LSTM(I, H, 2, bidirectional=True, seed=5, dtype=np.float64, forget_bias=1.0)
    sa, sb = a.state_dict(), b.state_dict()
    for k in sa:
        if k.startswith("bias_ih"):
            kh = k.replace("bias_ih", "bias_hh")
            np.testing.assert_array_equal((sb[k] + sb[kh])[H:2 * H], np.ones(H))
            for blk in (slice(0, H), slice(2 * H, 4 * H)):  # other gates untouched
                np.testing.assert_array_equal(sb[k][blk], sa[k][blk])
                np.testing.assert_array_equal(sb[kh][blk], sa[kh][blk])
        elif not k.startswith("bias"):
            np.testing.assert_array_equal(sa[k], sb[k])
    assert "forget_bias=1.0" in repr(b)


def test_learn_initial_state_gradients(rng):
    m = _randomize(bptt.LSTM(2, 3, 2, bidirectional=True, dtype=np.float64, seed=0, learn_initial_state=True), rng)
    assert m.h0.shape == (4, 3) and m.c0.shape == (4, 3)
    x = rng.standard_normal((3, 2, 2))
    res = bptt.gradcheck(m, (x,), kwargs={"lengths": np.array([3, 2])}, seed=4)
    assert {r.name for r in res.rows} >= {"h0", "c0"}
    assert res.max_rel <= FD_TOL, str(res)
    # its gradient is the returned dh0/dc0 summed over the batch
    m.zero_grad()
    out, (h, c) = m(x)
    dx, (dh0, dc0) = m.backward(rng.standard_normal(out.shape), (rng.standard_normal(h.shape), rng.standard_normal(c.shape)))
    np.testing.assert_allclose(m.grads["h0"], dh0.sum(axis=1), atol=1e-15, rtol=0)
    np.testing.assert_allclose(m.grads["c0"], dc0.sum(axis=1), atol=1e-15, rtol=0)
    # an explicit state wins and the learned one gets no gradient
    m.zero_grad()
    out, _ = m(x, _state(rng, m, B=2))
    m.backward(rng.standard_normal(out.shape))
    assert not m.grads["h0"].any() and not m.grads["c0"].any()
    with pytest.raises(ValueError, match="learn_initial_state"):
        to_torch(m)


def test_learned_state_zero_equals_default(rng):
    a = bptt.LSTM(I, H, seed=1, dtype=np.float64)
    b = bptt.LSTM(I, H, seed=1, dtype=np.float64, learn_initial_state=True)
    x = rng.standard_normal((3, 2, I))
    np.testing.assert_array_equal(a(x)[0], b(x)[0])
    b._params["h0"].data[...] = rng.standard_normal((1, H))
    assert not np.allclose(a(x)[0], b(x)[0])


def test_interop_round_trip(rng):
    tm = torch.nn.LSTM(I, H, 2, bidirectional=True, batch_first=True, dtype=torch.float64)
    m = from_torch(tm)
    assert isinstance(m, bptt.LSTM) and m.batch_first and m.bidirectional
    x = rng.standard_normal((2, 4, I))
    out, (h, c) = m(x)
    tout, (th, tc) = tm(torch.from_numpy(x))
    assert np.abs(out - tout.detach().numpy()).max() <= TOL
    assert np.abs(c - tc.detach().numpy()).max() <= TOL
    assert from_torch(torch.nn.LSTM(I, H, proj_size=2)).proj_size == 2  # torch's projected LSTM is supported


def test_float32_stays_float32(rng):
    m = bptt.LSTM(I, H, 2, seed=0)
    x = rng.standard_normal((3, 2, I)).astype(np.float32)
    out, (h, c) = m(x)
    assert out.dtype == h.dtype == c.dtype == np.float32
    dx, (dh0, dc0) = m.backward(np.ones_like(out) * 0.5, None)
    assert dx.dtype == dh0.dtype == dc0.dtype == np.float32
    assert all(g.dtype == np.float32 for g in m.grads.values())
    assert m.cell_states().dtype == np.float32


# -- bad input: one clear error each ---------------------------------------------------


def test_bad_state_arguments(rng):
    m = bptt.LSTM(I, H, 2, dtype=np.float64, seed=0)
    x = rng.standard_normal((3, 2, I))
    h0, c0 = _state(rng, m, B=2)
    with pytest.raises(TypeError, match=r"hx: LSTM expects a tuple \(h, c\).*ndarray"):
        m(x, h0)
    with pytest.raises(TypeError, match="hx: LSTM expects a tuple.*length 3"):
        m(x, (h0, c0, c0))
    with pytest.raises(ValueError, match=r"h0: expected shape \(2, 2, 4\)"):
        m(x, (h0[:1], c0))
    with pytest.raises(ValueError, match=r"c0: expected shape \(2, 2, 4\)"):
        m(x, (h0, c0[:, :1]))
    with pytest.raises(TypeError, match="c0: expected dtype float64"):
        m(x, (h0, c0.astype(np.float32)))
    out, (h, c) = m(x, (h0, c0))
    with pytest.raises(TypeError, match="dstate: LSTM expects a tuple"):
        m.backward(out, h)
    with pytest.raises(ValueError, match="dc_n: expected shape"):
        m.backward(out, (h, c[0]))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match=r"proj_size: expected an int in \[0, hidden_size"):
        bptt.LSTM(I, H, proj_size=H)
    with pytest.raises(ValueError, match="proj_size"):
        bptt.LSTM(I, H, proj_size=-1)
    with pytest.raises(TypeError, match="proj_size"):
        bptt.LSTM(I, H, proj_size=1.5)
    with pytest.raises(ValueError, match="forget_bias: needs bias=True"):
        bptt.LSTM(I, H, bias=False, forget_bias=1.0)
    with pytest.raises(TypeError, match="forget_bias"):
        bptt.LSTM(I, H, forget_bias="1")
    with pytest.raises(ValueError, match="forget_bias: expected a finite"):
        bptt.LSTM(I, H, forget_bias=float("nan"))
    with pytest.raises(TypeError, match="learn_initial_state: expected a bool"):
        bptt.LSTM(I, H, learn_initial_state="yes")


def test_cell_states_errors(rng):
    m = bptt.LSTM(I, H, 2, dtype=np.float64)
    with pytest.raises(RuntimeError, match="before forward"):
        m.cell_states()
    m(rng.standard_normal((2, 1, I)))
    with pytest.raises(ValueError, match=r"layer: expected an int in \[-2, 2\)"):
        m.cell_states(2)
