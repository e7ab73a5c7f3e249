"""bptt.GRU against torch.nn.GRU autograd (float64, ≤ 1e-10); the textbook form by finite differences."""

import itertools

import numpy as np
import pytest

import bptt
from bptt.functional.cells import get as cell_kind
from bptt.functional.gru import gru_step_backward, gru_step_forward
from bptt.functional.recurrent import layer_backward, layer_forward

torch = pytest.importorskip("torch", reason="GRU parity tests need PyTorch (bptt[torch])")
from bptt.interop.torch import compare, from_torch, to_torch  # noqa: E402
from _inputs import rand_h0 as _h0  # noqa: E402
from _inputs import rand_x as _x  # noqa: E402

TOL = 1e-10
FD_TOL = 1e-7
I, H, B = 3, 4, 3
CONFIGS = list(itertools.product([1, 2, 3], [False, True], [False, True], [True, False], [True, False], [1, 2, 7]))


def _randomize(m, rng, scale=0.5):
    for p in m.parameters():
        p.data[...] = scale * rng.standard_normal(p.shape)
    return m


@pytest.mark.parametrize("layers,bi,bf,bias,batched,T", CONFIGS)
def test_gru_matches_torch(layers, bi, bf, bias, batched, T):
    seed = int("".join(str(int(v)) for v in (layers, bi, bf, bias, batched, T)))
    rng = np.random.default_rng(seed)
    m = bptt.GRU(I, H, layers, bias=bias, batch_first=bf, bidirectional=bi, dtype=np.float64, seed=seed)
    res = compare(m, (_x(rng, m, T, batched), _h0(rng, m, batched)), seed=seed + 1)
    assert len(res.rows) == 2 + 2 + len(m.state_dict())  # out, h_n, dx, dh0, every parameter
    assert res.max_abs <= TOL, str(res)


def test_default_state_is_zeros_like_torch(rng):
    m = bptt.GRU(I, H, 2, bidirectional=True, dtype=np.float64, seed=0)
    res = compare(m, (rng.standard_normal((5, 2, I)),), seed=3)
    assert res.max_abs <= TOL, str(res)


@pytest.mark.parametrize("reset_after", [True, False])
def test_bias_grads_differ_only_in_n_block(rng, reset_after):
    """torch's form: r multiplies b_hn's path, so db_hn = Σ r ⊙ da_n ≠ db_in = Σ da_n. Textbook: all equal."""
    m = bptt.GRU(I, H, 2, bidirectional=True, dtype=np.float64, seed=1, reset_after=reset_after)
    x = rng.standard_normal((5, 2, I))
    out, h = m(x, _h0(rng, m, B=2), lengths=np.array([5, 2]))
    m.backward(rng.standard_normal(out.shape), rng.standard_normal(h.shape))
    g = m.grads
    names = [n for n in g if n.startswith("bias_ih")]
    assert len(names) == 4
    for name in names:
        gi, gh = g[name], g[name.replace("bias_ih", "bias_hh")]
        np.testing.assert_array_equal(gi[:2 * H], gh[:2 * H])
        if reset_after:
            assert np.abs(gi[2 * H:] - gh[2 * H:]).min() > 1e-8
        else:
            np.testing.assert_array_equal(gi, gh)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("layers,bi,batched", [(1, False, True), (2, True, True), (2, True, False), (3, False, True)])
def test_gru_finite_differences(layers, bi, batched, reset_after):
    rng = np.random.default_rng(layers * 10 + bi + 100 * reset_after)
    m = _randomize(bptt.GRU(2, 3, layers, bidirectional=bi, dtype=np.float64, seed=0, reset_after=reset_after), rng)
    x = _x(rng, m, 4, batched, B=2)
    kwargs = {"lengths": np.array([4, 1])} if batched else {}
    res = bptt.gradcheck(m, (x, _h0(rng, m, batched, B=2)), kwargs=kwargs, seed=5)
    assert res.max_rel <= FD_TOL, str(res)


def test_textbook_form_equations(rng):
    """reset_after=False computes n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn), written out here."""
    m = bptt.GRU(I, H, dtype=np.float64, seed=4, reset_after=False)
    x, h0 = rng.standard_normal((3, 2, I)), rng.standard_normal((1, 2, H))
    out, _ = m(x, h0)
    sd = m.state_dict()
    Wi, Wh, bi, bh = (np.split(sd[k], 3) for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"))
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    h = h0[0]
    for t in range(3):
        r = sig(x[t] @ Wi[0].T + bi[0] + h @ Wh[0].T + bh[0])
        z = sig(x[t] @ Wi[1].T + bi[1] + h @ Wh[1].T + bh[1])
        n = np.tanh(x[t] @ Wi[2].T + bi[2] + (r * h) @ Wh[2].T + bh[2])
        h = (1 - z) * n + z * h
        np.testing.assert_allclose(out[t], h, rtol=0, atol=1e-14)
    torch_form, _ = bptt.GRU(I, H, dtype=np.float64, seed=4)(x, h0)
    assert np.abs(torch_form - out).max() > 1e-3  # the two forms really differ


def test_textbook_weight_hh_grad_uses_r_times_h(rng):
    """Layer level: dW_hn = Σ_t da_nᵀ (r ⊙ h_{t−1}), not dQᵀ h — checked by FD on the layer functions."""
    cell = cell_kind("gru-textbook")
    x, h0 = rng.standard_normal((4, 2, 2)), rng.standard_normal((2, 3))
    W_ih, W_hh, b_ih, b_hh = (rng.standard_normal(s) for s in ((9, 2), (9, 3), (9,), (9,)))

    def fwd(x, h0, W_ih, W_hh, b_ih, b_hh):
        out, h_T, _, cache = layer_forward(cell, x, h0, None, W_ih, W_hh, b_ih, b_hh, reverse=True)
        return (out, h_T), cache

    def bwd(up, cache):
        g = layer_backward(up[0], up[1], None, cache)
        return g["dx"], g["dh0"], g["dW_ih"], g["dW_hh"], g["db_ih"], g["db_hh"]

    res = bptt.gradcheck((fwd, bwd), (x, h0, W_ih, W_hh, b_ih, b_hh), seed=1)
    assert len(res.rows) == 6 and res.max_rel <= FD_TOL, str(res)


def test_backward_does_not_mutate_inputs(rng):
    for reset_after in (True, False):
        m = bptt.GRU(I, H, 2, bidirectional=True, batch_first=True, dtype=np.float64, seed=0, reset_after=reset_after)
        x, h0 = _x(rng, m, 5), _h0(rng, m)
        out, h = m(x, h0, lengths=np.array([5, 1, 3]))
        dout, dh = rng.standard_normal(out.shape), rng.standard_normal(h.shape)
        arrays = [x, h0, dout, dh]
        saved = [a.copy() for a in arrays]
        m.backward(dout, dh)
        for a, s in zip(arrays, saved):
            np.testing.assert_array_equal(a, s)


# -- step functions ---------------------------------------------------------------------


def test_step_functions_match_torch_grucell(rng):
    x, h0 = rng.standard_normal((3, I)), rng.standard_normal((3, H))
    W_ih, W_hh = rng.standard_normal((3 * H, I)), rng.standard_normal((3 * H, H))
    b_ih, b_hh = rng.standard_normal(3 * H), rng.standard_normal(3 * H)
    h, cache = gru_step_forward(x, h0, W_ih, W_hh, b_ih, b_hh)
    dh = rng.standard_normal(h.shape)
    grads = gru_step_backward(dh, cache)
    cell = torch.nn.GRUCell(I, H, dtype=torch.float64)
    cell.load_state_dict({k: torch.from_numpy(v) for k, v in
                          dict(weight_ih=W_ih, weight_hh=W_hh, bias_ih=b_ih, bias_hh=b_hh).items()})
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    th1 = cell(tx, th)
    (th1 * torch.from_numpy(dh)).sum().backward()
    assert np.abs(h - th1.detach().numpy()).max() <= TOL
    expected = [tx.grad, th.grad, cell.weight_ih.grad, cell.weight_hh.grad, cell.bias_ih.grad, cell.bias_hh.grad]
    for got, want in zip(grads, expected):
        assert np.abs(got - want.numpy()).max() <= TOL


@pytest.mark.parametrize("reset_after", [True, False])
def test_step_functions_finite_differences(rng, reset_after):
    inputs = (rng.standard_normal((2, 3)), rng.standard_normal((2, 2)), rng.standard_normal((6, 3)),
              rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(6))
    fwd = lambda *a: gru_step_forward(*a, reset_after=reset_after)  # noqa: E731
    res = bptt.gradcheck((fwd, gru_step_backward), inputs, seed=2)
    assert len(res.rows) == 6 and res.max_rel <= FD_TOL, str(res)
    res = bptt.gradcheck((fwd, lambda up, c: gru_step_backward(up, c)[:4]), inputs[:4], seed=2)
    assert len(res.rows) == 4 and res.max_rel <= FD_TOL, str(res)


def test_cell_protocol_attributes():
    gru = cell_kind("gru")
    assert (gru.gates, gru.has_cell_state, gru.shared_bias_grad) == (3, False, False)
    assert cell_kind("gru-textbook").shared_bias_grad is True


# -- options, interop, errors -------------------------------------------------------------


def test_learn_initial_state(rng):
    m = _randomize(bptt.GRU(2, 3, 2, dtype=np.float64, seed=0, learn_initial_state=True, reset_after=False), rng)
    assert m.h0.shape == (2, 3) and "c0" not in m.grads
    res = bptt.gradcheck(m, (rng.standard_normal((3, 2, 2)),), seed=4)
    assert "h0" in {r.name for r in res.rows} and res.max_rel <= FD_TOL, str(res)


def test_interop(rng):
    tm = torch.nn.GRU(I, H, 2, bidirectional=True, dtype=torch.float64)
    m = from_torch(tm)
    assert isinstance(m, bptt.GRU) and m.reset_after
    x = rng.standard_normal((4, 2, I))
    assert np.abs(m(x)[0] - tm(torch.from_numpy(x))[0].detach().numpy()).max() <= TOL
    with pytest.raises(ValueError, match="reset_after=False"):
        to_torch(bptt.GRU(I, H, reset_after=False))
    assert "reset_after=False" in repr(bptt.GRU(I, H, reset_after=False))


def test_bad_input(rng):
    m = bptt.GRU(I, H, 2, dtype=np.float64, seed=0)
    x, h0 = rng.standard_normal((3, 2, I)), _h0(rng, m, B=2)
    with pytest.raises(TypeError, match="hx: GRU expects one array, got a tuple"):
        m(x, (h0, h0))
    with pytest.raises(ValueError, match=r"h0: expected shape \(2, 2, 4\)"):
        m(x, h0[:, :1])
    out, h = m(x, h0)
    with pytest.raises(TypeError, match="dstate: GRU expects one array, got a tuple"):
        m.backward(out, (h, h))
    with pytest.raises(TypeError, match="reset_after: expected a bool"):
        bptt.GRU(I, H, reset_after="no")
