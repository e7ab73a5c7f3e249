"""Layout converters: cs231n, d2l, min-char-rnn ↔ torch/bptt state_dict.

Each course layout gets a tiny reference implementation written here in that
course's own conventions (row vectors and x @ Wx for cs231n and d2l, column
vectors for min-char-rnn); the converted bptt module must give the same outputs.
"""

import numpy as np
import pytest

import bptt
from bptt.convert import (
    d2l_param_names, from_cs231n, from_d2l, from_min_char_rnn, to_cs231n, to_d2l, to_min_char_rnn,
)

TOL = 1e-13


def sig(a):
    return 1 / (1 + np.exp(-a))


# -- reference implementations, in each course's conventions ------------------------------------


def cs231n_lstm_forward(x, h0, Wx, Wh, b):
    """cs231n assignment 3: x (N, T, D), a = x Wx + h Wh + b, blocks i, f, o, g."""
    N, T, _ = x.shape
    H = h0.shape[1]
    h, c, hs = h0, np.zeros_like(h0), []
    for t in range(T):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f, o, g = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.stack(hs, axis=1)


def cs231n_rnn_forward(x, h0, Wx, Wh, b):
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        hs.append(h)
    return np.stack(hs, axis=1)


def d2l_forward(cell, inputs, H, params):
    """d2l's scratch rnn/lstm/gru: inputs (T, B, I); returns the outputs Y = H W_hq + b_q of every step."""
    p = dict(zip(d2l_param_names(cell), params))
    Hs = np.zeros((inputs.shape[1], H))
    C = np.zeros_like(Hs)
    ys = []
    for X in inputs:
        if cell == "lstm":
            I_ = sig(X @ p["W_xi"] + Hs @ p["W_hi"] + p["b_i"])
            F = sig(X @ p["W_xf"] + Hs @ p["W_hf"] + p["b_f"])
            O = sig(X @ p["W_xo"] + Hs @ p["W_ho"] + p["b_o"])
            C_tilda = np.tanh(X @ p["W_xc"] + Hs @ p["W_hc"] + p["b_c"])
            C = F * C + I_ * C_tilda
            Hs = O * np.tanh(C)
        elif cell == "gru":
            Z = sig(X @ p["W_xz"] + Hs @ p["W_hz"] + p["b_z"])
            R = sig(X @ p["W_xr"] + Hs @ p["W_hr"] + p["b_r"])
            H_tilda = np.tanh(X @ p["W_xh"] + (R * Hs) @ p["W_hh"] + p["b_h"])
            Hs = Z * Hs + (1 - Z) * H_tilda
        else:
            Hs = np.tanh(X @ p["W_xh"] + Hs @ p["W_hh"] + p["b_h"])
        ys.append(Hs @ p["W_hq"] + p["b_q"])
    return np.stack(ys)


def min_char_rnn_forward(inputs, hprev, Wxh, Whh, Why, bh, by):
    """Karpathy's lossFun forward: column vectors, one-hot characters."""
    V = Wxh.shape[1]
    hs, ys = hprev, []
    for ix in inputs:
        xs = np.zeros((V, 1))
        xs[ix] = 1
        hs = np.tanh(Wxh @ xs + Whh @ hs + bh)
        ys.append(Why @ hs + by)
    return np.concatenate(ys, axis=1).T  # (T, V)


# -- cs231n -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_cs231n_forward_and_round_trip(rng, cell):
    N, T, D, H = 2, 5, 3, 4
    G = 4 if cell == "lstm" else 1
    cs = {"Wx": rng.standard_normal((D, G * H)), "Wh": rng.standard_normal((H, G * H)), "b": rng.standard_normal(G * H)}
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    ref = (cs231n_lstm_forward if cell == "lstm" else cs231n_rnn_forward)(x, h0, **cs)
    cls = bptt.LSTM if cell == "lstm" else bptt.RNN
    m = cls(D, H, batch_first=True, dtype=np.float64).load_state_dict(from_cs231n(cs, cell))
    hx = (h0[None], None) if cell == "lstm" else h0[None]
    out, _ = m(x, hx)
    np.testing.assert_allclose(out, ref, rtol=0, atol=TOL)
    back = to_cs231n(m.state_dict(), cell)
    for k in cs:  # cs231n -> torch -> cs231n is exact
        np.testing.assert_array_equal(back[k], cs[k])


def test_torch_to_cs231n_keeps_the_function(rng):
    """torch -> cs231n -> torch: (b_ih, b_hh) become (b_ih + b_hh, 0), the outputs stay the same."""
    m = bptt.LSTM(3, 4, 2, bidirectional=True, batch_first=True, dtype=np.float64, seed=0)
    x = rng.standard_normal((2, 5, 3))
    out_l0 = bptt.LSTM(3, 4, batch_first=True, dtype=np.float64)
    sd = m.state_dict()
    out_l0.load_state_dict({k: v for k, v in sd.items() if k.endswith("_l0")})
    cs = to_cs231n(sd, "lstm")
    np.testing.assert_allclose(cs231n_lstm_forward(x, np.zeros((2, 4)), **cs), out_l0(x)[0], rtol=0, atol=TOL)
    back = from_cs231n(cs, "lstm")
    np.testing.assert_allclose(back["bias_ih_l0"], sd["bias_ih_l0"] + sd["bias_hh_l0"], rtol=0, atol=1e-15)
    assert not back["bias_hh_l0"].any()
    np.testing.assert_allclose(out_l0.load_state_dict(back)(x)[0], cs231n_lstm_forward(x, np.zeros((2, 4)), **cs), atol=TOL)
    # any layer / direction, by name
    rev = to_cs231n(sd, "lstm", layer=1, reverse=True)
    assert rev["Wx"].shape == (8, 16)
    np.testing.assert_array_equal(from_cs231n(rev, "lstm", layer=1)["weight_ih_l1"], sd["weight_ih_l1_reverse"])
    # no bias: b = 0
    nb = bptt.LSTM(3, 4, bias=False, dtype=np.float32, seed=0).state_dict()
    cs_nb = to_cs231n(nb, "lstm")
    assert not cs_nb["b"].any() and cs_nb["Wx"].dtype == np.float32


# -- d2l ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_d2l_forward_and_round_trip(rng, cell):
    T, B, I, H, V = 6, 2, 3, 4, 5
    G = {"lstm": 4, "gru": 3, "rnn": 1}[cell]
    params = []
    for name in d2l_param_names(cell):
        shape = {"W_hq": (H, V), "b_q": (V,)}.get(name) or {"W_x": (I, H), "W_h": (H, H), "b_": (H,)}[name[:3] if name[0] == "W" else "b_"]
        params.append(0.7 * rng.standard_normal(shape))
    x = rng.standard_normal((T, B, I))
    ref = d2l_forward(cell, x, H, params)

    sd, head = from_d2l(params, cell)  # d2l's list, in d2l's order
    assert sd["weight_ih_l0"].shape == (G * H, I)
    kw = {"reset_after": False} if cell == "gru" else {}
    cls = {"lstm": bptt.LSTM, "gru": bptt.GRU, "rnn": bptt.RNN}[cell]
    m = cls(I, H, dtype=np.float64, **kw).load_state_dict(sd)
    fc = bptt.Linear(H, V, dtype=np.float64).load_state_dict(head)
    np.testing.assert_allclose(fc(m(x)[0]), ref, rtol=0, atol=TOL)

    back = to_d2l(m.state_dict(), cell, head=fc.state_dict())
    assert list(back) == d2l_param_names(cell)
    for a, b in zip(back.values(), params):  # d2l -> torch -> d2l is exact
        np.testing.assert_array_equal(a, b)
    sd2, head2 = from_d2l(dict(zip(d2l_param_names(cell), params)), cell)  # a mapping works too
    for k in sd:
        np.testing.assert_array_equal(sd[k], sd2[k])


def test_d2l_without_output_layer_and_from_torch(rng):
    m = bptt.GRU(3, 4, dtype=np.float64, seed=0, reset_after=False)
    d = to_d2l(m.state_dict(), "gru")
    assert "W_hq" not in d and len(d) == 9
    sd, head = from_d2l(list(d.values()), "gru")
    assert head is None
    m2 = bptt.GRU(3, 4, dtype=np.float64, reset_after=False).load_state_dict(sd)
    x = rng.standard_normal((4, 2, 3))
    np.testing.assert_allclose(m2(x)[0], m(x)[0], rtol=0, atol=TOL)


# -- min-char-rnn ---------------------------------------------------------------------------


def test_min_char_rnn_forward_and_round_trip(rng):
    V, H = 6, 5
    mc = {"Wxh": 0.5 * rng.standard_normal((H, V)), "Whh": 0.5 * rng.standard_normal((H, H)),
          "Why": 0.5 * rng.standard_normal((V, H)), "bh": rng.standard_normal((H, 1)), "by": rng.standard_normal((V, 1))}
    text = [0, 3, 2, 5, 1, 1, 4]
    hprev = rng.standard_normal((H, 1))
    ref = min_char_rnn_forward(text, hprev, **mc)

    sd, head = from_min_char_rnn(mc)
    rnn = bptt.RNN(V, H, dtype=np.float64).load_state_dict(sd)
    fc = bptt.Linear(H, V, dtype=np.float64).load_state_dict(head)
    out, _ = rnn(np.eye(V)[text], hprev.T)  # unbatched (T, V), h0 (1, H)
    np.testing.assert_allclose(fc(out), ref, rtol=0, atol=TOL)

    back = to_min_char_rnn(rnn.state_dict(), fc.state_dict())
    for k in mc:
        np.testing.assert_array_equal(back[k], mc[k])
    # torch-style biases are summed into bh
    sd2 = dict(sd, bias_hh_l0=np.ones(H))
    np.testing.assert_allclose(to_min_char_rnn(sd2, head)["bh"], mc["bh"] + 1, rtol=0, atol=1e-15)


def test_prefix_for_models_with_children(rng):
    sd = {"rnn." + k: v for k, v in bptt.RNN(3, 4, dtype=np.float64, seed=0).state_dict().items()}
    cs = to_cs231n(sd, "rnn", prefix="rnn.")
    assert set(from_cs231n(cs, "rnn", prefix="rnn.")) == set(sd)


# -- bad input ------------------------------------------------------------------------------


def test_bad_input(rng):
    H = 4
    cs = {"Wx": rng.standard_normal((3, 4 * H)), "Wh": rng.standard_normal((H, 4 * H)), "b": rng.standard_normal(4 * H)}
    with pytest.raises(ValueError, match=r"cell: expected one of \('lstm', 'rnn'\), got 'gru'"):
        from_cs231n(cs, "gru")
    with pytest.raises(ValueError, match="params: missing key 'Wh'"):
        from_cs231n({"Wx": cs["Wx"], "b": cs["b"]})
    with pytest.raises(ValueError, match=r"params\['b'\]: expected shape \(16,\), got \(15,\)"):
        from_cs231n(dict(cs, b=cs["b"][:-1]))
    with pytest.raises(ValueError, match=r"params\['Wh'\]: expected shape \(4, 4\), got \(4, 16\)"):
        from_cs231n(cs, "rnn")  # an LSTM's weights read as an RNN's
    with pytest.raises(TypeError, match="params: expected a mapping"):
        from_cs231n([cs["Wx"]])
    with pytest.raises(TypeError, match=r"params\['Wx'\]: expected dtype float32 or float64"):
        from_cs231n(dict(cs, Wx=np.ones((3, 16), dtype=int)))
    sd = bptt.LSTM(3, H, dtype=np.float64).state_dict()
    with pytest.raises(ValueError, match="state_dict: missing key 'weight_ih_l1'"):
        to_cs231n(sd, layer=1)
    with pytest.raises(ValueError, match=r"expected shape \(1·H, H\) for a rnn"):
        to_cs231n(sd, "rnn")
    with pytest.raises(ValueError, match="bias_ih_l0 and bias_hh_l0 or neither"):
        to_cs231n({k: v for k, v in sd.items() if k != "bias_hh_l0"})
    with pytest.raises(ValueError, match="layer: expected an int >= 0"):
        to_cs231n(sd, layer=-1)
    with pytest.raises(ValueError, match="params: expected d2l's list of 12 or 14 arrays"):
        from_d2l([np.zeros((3, H))] * 5, "lstm")
    with pytest.raises(ValueError, match=r"params\['W_hf'\]: expected shape \(4, 4\)"):
        from_d2l({n: np.zeros((3, H)) if n.startswith("W_x") else np.zeros((H, H)) if n.startswith("W_h") else np.zeros(H)
                  for n in d2l_param_names("lstm")[:12]} | {"W_hf": np.zeros((H, 3))}, "lstm")
    with pytest.raises(ValueError, match=r"head\['weight'\]: expected shape \(5, 4\)"):
        to_d2l(sd, "lstm", head={"weight": np.zeros((5, 3)), "bias": np.zeros(5)})
    with pytest.raises(ValueError, match=r"params\['bh'\]: expected shape \(4, 1\)"):
        from_min_char_rnn({"Wxh": np.zeros((H, 6)), "Whh": np.zeros((H, H)), "Why": np.zeros((6, H)),
                           "bh": np.zeros((1, H)), "by": np.zeros((6, 1))})
    with pytest.raises(ValueError, match=r"cell: expected one of"):
        d2l_param_names("transformer")


# -- gradients (grads=True): the course's one bias gets ∂L/∂b, not ∂L/∂b_ih + ∂L/∂b_hh --------------


def _fd(loss, params, eps=1e-6):
    """Central differences of loss() w.r.t. every entry of every array in params (a dict, edited in place)."""
    out = {}
    for k, a in params.items():
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + eps
            up = loss()
            a[i] = old - eps
            down = loss()
            a[i] = old
            g[i] = (up - down) / (2 * eps)
        out[k] = g
    return out


def _rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_cs231n_grads_match_finite_differences(rng, cell):
    N, T, D, H = 2, 4, 3, 3
    G = 4 if cell == "lstm" else 1
    cs = {"Wx": 0.5 * rng.standard_normal((D, G * H)), "Wh": 0.5 * rng.standard_normal((H, G * H)), "b": 0.5 * rng.standard_normal(G * H)}
    x, w = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    fwd = cs231n_lstm_forward if cell == "lstm" else cs231n_rnn_forward
    num = _fd(lambda: float(np.sum(w * fwd(x, np.zeros((N, H)), **cs))), cs)
    m = (bptt.LSTM if cell == "lstm" else bptt.RNN)(D, H, batch_first=True, dtype=np.float64).load_state_dict(from_cs231n(cs, cell))
    m(x)
    m.backward(w)
    ours = to_cs231n(m.grads, cell, grads=True)
    for k in cs:
        assert _rel_err(ours[k], num[k]) <= 1e-7, k
    doubled = to_cs231n(m.grads, cell)  # the weights' rule, b_ih + b_hh, doubles db
    np.testing.assert_allclose(doubled["b"], 2 * ours["b"], rtol=1e-12)
    back = from_cs231n(ours, cell, grads=True)  # and back: both torch biases get ∂L/∂b
    for k, g in m.grads.items():
        np.testing.assert_allclose(back[k], g, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_d2l_grads_match_torch_autograd_on_d2l_code(rng, cell):
    torch = pytest.importorskip("torch", reason="torch autograd on d2l's own code is the reference")
    T, B, I, H, V = 5, 2, 3, 4, 3
    names = d2l_param_names(cell)
    params = [0.5 * rng.standard_normal({"W_hq": (H, V), "b_q": (V,)}.get(n) or {"W_x": (I, H), "W_h": (H, H)}.get(n[:3], (H,))) for n in names]
    x, w = rng.standard_normal((T, B, I)), rng.standard_normal((T, B, V))
    # the d2l model as d2l writes it (its torch autograd gives the reference gradients)
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    p = dict(zip(names, tp))
    Hs, C, ys = torch.zeros(B, H, dtype=torch.float64), torch.zeros(B, H, dtype=torch.float64), []
    for X in torch.from_numpy(x):
        if cell == "lstm":
            I_ = torch.sigmoid(X @ p["W_xi"] + Hs @ p["W_hi"] + p["b_i"])
            F = torch.sigmoid(X @ p["W_xf"] + Hs @ p["W_hf"] + p["b_f"])
            O = torch.sigmoid(X @ p["W_xo"] + Hs @ p["W_ho"] + p["b_o"])
            C = F * C + I_ * torch.tanh(X @ p["W_xc"] + Hs @ p["W_hc"] + p["b_c"])
            Hs = O * torch.tanh(C)
        elif cell == "gru":
            Z = torch.sigmoid(X @ p["W_xz"] + Hs @ p["W_hz"] + p["b_z"])
            R = torch.sigmoid(X @ p["W_xr"] + Hs @ p["W_hr"] + p["b_r"])
            Hs = Z * Hs + (1 - Z) * torch.tanh(X @ p["W_xh"] + (R * Hs) @ p["W_hh"] + p["b_h"])
        else:
            Hs = torch.tanh(X @ p["W_xh"] + Hs @ p["W_hh"] + p["b_h"])
        ys.append(Hs @ p["W_hq"] + p["b_q"])
    (torch.stack(ys) * torch.from_numpy(w)).sum().backward()

    sd, head = from_d2l(params, cell)
    kw = {"reset_after": False} if cell == "gru" else {}
    m = {"lstm": bptt.LSTM, "gru": bptt.GRU, "rnn": bptt.RNN}[cell](I, H, dtype=np.float64, **kw).load_state_dict(sd)
    fc = bptt.Linear(H, V, dtype=np.float64).load_state_dict(head)
    out, _ = m(x)
    fc(out)
    m.backward(fc.backward(w))
    ours = to_d2l(m.grads, cell, head=fc.grads, grads=True)
    for n, t in zip(names, tp):
        assert _rel_err(ours[n], t.grad.numpy()) <= 1e-12, n
    back, back_head = from_d2l({n: t.grad.numpy() for n, t in zip(names, tp)}, cell, grads=True)
    for k, g in m.grads.items():
        np.testing.assert_allclose(back[k], g, rtol=1e-12, atol=1e-14)


def min_char_rnn_lossfun(inputs, targets, hprev, Wxh, Whh, Why, bh, by):
    """Karpathy's min-char-rnn lossFun, as written there (clipping included)."""
    vocab_size = Wxh.shape[1]
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        ys[t] = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
        np.clip(dparam, -5, 5, out=dparam)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


def test_min_char_rnn_grads_match_its_lossfun(rng):
    V, H = 5, 4
    mc = {"Wxh": 0.3 * rng.standard_normal((H, V)), "Whh": 0.3 * rng.standard_normal((H, H)),
          "Why": 0.3 * rng.standard_normal((V, H)), "bh": 0.3 * rng.standard_normal((H, 1)), "by": 0.3 * rng.standard_normal((V, 1))}
    inputs, targets = [0, 3, 2, 4, 1, 1], [3, 2, 4, 1, 1, 0]
    hprev = 0.5 * rng.standard_normal((H, 1))
    loss, *ref, _ = min_char_rnn_lossfun(inputs, targets, hprev, **mc)
    assert all(np.max(np.abs(g)) < 5 for g in ref)  # the clip left these untouched
    sd, head = from_min_char_rnn(mc)
    rnn = bptt.RNN(V, H, dtype=np.float64).load_state_dict(sd)
    fc = bptt.Linear(H, V, dtype=np.float64).load_state_dict(head)
    ce = bptt.CrossEntropyLoss(reduction="sum")
    out, _ = rnn(np.eye(V)[inputs], hprev.T)
    assert abs(ce(fc(out), np.array(targets)) - loss) <= 1e-12 * loss
    rnn.backward(fc.backward(ce.backward()))
    ours = to_min_char_rnn(rnn.grads, fc.grads, grads=True)
    for k, g in zip(("Wxh", "Whh", "Why", "bh", "by"), ref):
        assert _rel_err(ours[k], g) <= 1e-12, k
    back, back_head = from_min_char_rnn(dict(zip(("Wxh", "Whh", "Why", "bh", "by"), ref)), grads=True)
    for k, g in rnn.grads.items():
        np.testing.assert_allclose(back[k], g, rtol=1e-12, atol=1e-15)


def test_grads_refuse_a_torch_gru_bias(rng):
    m = bptt.GRU(3, 4, dtype=np.float64, seed=0)  # torch's GRU: b_hn sits inside r ⊙ (W_hn h + b_hn)
    m(rng.standard_normal((5, 2, 3)))
    m.backward(rng.standard_normal((5, 2, 4)))
    with pytest.raises(ValueError, match="grads: bias_ih_l0 and its bias_hh gradient differ"):
        to_d2l(m.grads, "gru", grads=True)
    with pytest.raises(TypeError, match="grads: expected True or False"):
        to_d2l(m.grads, "gru", grads="yes")
