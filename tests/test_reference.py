"""The literal sum over paths (seed 003) against the efficient recursion and torch autograd."""

import importlib.util

import numpy as np
import pytest

from bptt.reference import (
    GATES, backprop_through_jacobians, efficient_bptt, jacobian_products, reference_bptt, trace_forward,
)

KEYS = ("dx", "dh0", "dW_ih", "dW_hh", "db_ih", "db_hh")


def _problem(cell, T, B=2, I=3, H=4, seed=0, bias=True):
    rng = np.random.default_rng(seed + 7 * T)
    G = GATES[cell]
    return dict(
        x=rng.standard_normal((T, B, I)),
        h0=rng.standard_normal((B, H)) * 0.5,
        c0=rng.standard_normal((B, H)) * 0.5 if cell == "lstm" else None,
        W_ih=rng.standard_normal((G * H, I)) * 0.6,
        W_hh=rng.standard_normal((G * H, H)) * 0.6,
        b_ih=rng.standard_normal(G * H) * 0.3 if bias else None,
        b_hh=rng.standard_normal(G * H) * 0.3 if bias else None,
        dout=rng.standard_normal((T, B, H)),
        dh_T=rng.standard_normal((B, H)),
        dc_T=rng.standard_normal((B, H)) if cell == "lstm" else None,
    )


def _cell_available(cell):
    mod = {"rnn": "bptt.functional.rnn", "lstm": "bptt.functional.lstm", "gru": "bptt.functional.gru"}[cell]
    return importlib.util.find_spec(mod) is not None


def _max_err(a, b, keys):
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in keys if a.get(k) is not None)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("T", [1, 2, 5, 11])
def test_sum_over_paths_equals_torch_autograd(cell, T):
    torch = pytest.importorskip("torch", reason="torch autograd is the independent reference")
    p = _problem(cell, T)
    ref = reference_bptt(cell, **p)
    T_, B, I = p["x"].shape
    H = p["W_hh"].shape[1]
    m = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](I, H, dtype=torch.float64)
    m.load_state_dict({"weight_ih_l0": torch.tensor(p["W_ih"]), "weight_hh_l0": torch.tensor(p["W_hh"]),
                       "bias_ih_l0": torch.tensor(p["b_ih"]), "bias_hh_l0": torch.tensor(p["b_hh"])})
    x = torch.tensor(p["x"], requires_grad=True)
    h0 = torch.tensor(p["h0"][None], requires_grad=True)
    if cell == "lstm":
        c0 = torch.tensor(p["c0"][None], requires_grad=True)
        out, (hn, cn) = m(x, (h0, c0))
        loss = (out * torch.tensor(p["dout"])).sum() + (hn[0] * torch.tensor(p["dh_T"])).sum() \
            + (cn[0] * torch.tensor(p["dc_T"])).sum()
    else:
        out, hn = m(x, h0)
        loss = (out * torch.tensor(p["dout"])).sum() + (hn[0] * torch.tensor(p["dh_T"])).sum()
    loss.backward()
    want = {"dx": x.grad.numpy(), "dh0": h0.grad[0].numpy(), "dW_ih": m.weight_ih_l0.grad.numpy(),
            "dW_hh": m.weight_hh_l0.grad.numpy(), "db_ih": m.bias_ih_l0.grad.numpy(),
            "db_hh": m.bias_hh_l0.grad.numpy()}
    if cell == "lstm":
        want["dc0"] = c0.grad[0].numpy()
    assert _max_err(ref.grads, want, list(want)) <= 1e-10


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("T", [1, 3, 8])
def test_sum_over_paths_equals_efficient_recursion(cell, T):
    if not _cell_available(cell):
        pytest.importorskip(f"bptt.functional.{cell}", reason=f"the {cell} cell of the functional core is not built yet")
    p = _problem(cell, T, seed=3)
    ref = reference_bptt(cell, **p)
    eff = efficient_bptt(cell, **p)
    keys = KEYS + ("dh",) + (("dc0",) if cell == "lstm" else ())
    assert _max_err(ref.grads, eff, keys) <= 1e-10


@pytest.mark.parametrize("nonlinearity", ["tanh", "sigmoid", "relu"])
def test_elman_nonlinearities_and_no_bias(nonlinearity):
    p = _problem("rnn", 6, seed=11, bias=nonlinearity != "tanh")
    ref = reference_bptt("rnn", **p, nonlinearity=nonlinearity)
    eff = efficient_bptt("rnn", **p, nonlinearity=nonlinearity)
    assert _max_err(ref.grads, eff, KEYS + ("dh",)) <= 1e-10
    if p["b_ih"] is None:
        assert ref.grads["db_ih"] is None and ref.grads["db_hh"] is None


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_paths_table_sums_to_the_gradient(cell):
    T = 4
    p = _problem(cell, T, seed=5)
    ref = reference_bptt(cell, **p, keep_paths=True)
    assert [(q.t, q.k) for q in ref.paths] == [(t, k) for t in range(1, T + 1) for k in range(1, t + 1)]
    for name, key in (("W_ih", "dW_ih"), ("W_hh", "dW_hh"), ("b_ih", "db_ih"), ("b_hh", "db_hh")):
        total = sum(q.terms[name] for q in ref.paths)
        np.testing.assert_allclose(total, ref.grads[key], rtol=0, atol=1e-12)
    # The k = t path of J_t starts at ∂J_t/∂h_t = dout[t] (plus the final-state gradient at t = T).
    H = p["W_hh"].shape[1]
    for q in ref.paths:
        if q.k == q.t < T:
            np.testing.assert_array_equal(q.dJt_dsk[:, :H], p["dout"][q.t - 1])
    rows = ref.paths_table()
    assert len(rows) == T * (T + 1) // 2 and {"t", "k", "norm_dJt_dsk", "norm_W_hh"} <= set(rows[0])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_state_jacobians_match_finite_differences(cell):
    # Each ∂s_t/∂s_{t−1} on its own, by central differences of one literal step.
    p = _problem(cell, 3, B=1, seed=9)
    tr = trace_forward(cell, p["x"], p["h0"], p["c0"], p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    H = p["W_hh"].shape[1]
    eps = 1e-6
    for t in range(3):
        s_prev = tr.s[0][t]
        A = tr.local[0][t]["A"]
        num = np.zeros_like(A)

        def step(s):
            h0 = s[None, :H]
            c0 = s[None, H:] if cell == "lstm" else None
            t1 = trace_forward(cell, p["x"][t:t + 1], h0, c0, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
            return t1.s[0][1]

        for j in range(A.shape[1]):
            e = np.zeros_like(s_prev)
            e[j] = eps
            num[:, j] = (step(s_prev + e) - step(s_prev - e)) / (2 * eps)
        np.testing.assert_allclose(A, num, rtol=1e-7, atol=1e-8)


def test_jacobian_products_are_the_path_products():
    p = _problem("rnn", 6, B=2, seed=2)
    tr = trace_forward("rnn", p["x"], p["h0"], None, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    J = tr.jacobians
    M = jacobian_products(J, ord="fro")
    assert M.shape == (7, 7) and np.isnan(M[0, 1]) and np.allclose(np.diag(M), np.sqrt(4))
    direct = J[4] @ J[3] @ J[2]  # ∂s_5/∂s_2
    assert M[5, 2] == pytest.approx(np.mean(np.linalg.norm(direct, axis=(1, 2))), rel=1e-12)
    # One loss at the end: ∂J_T/∂s_0 equals the reference's dh0 for dout = 0.
    ref = reference_bptt("rnn", p["x"], p["h0"], None, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"], dh_T=p["dh_T"])
    back = backprop_through_jacobians(J, p["dh_T"])
    np.testing.assert_allclose(back[0], ref.grads["dh0"], atol=1e-12)
    np.testing.assert_allclose(back[1:], ref.grads["dh"], atol=1e-12)


def test_bad_inputs_are_one_clear_error():
    p = _problem("rnn", 3)
    with pytest.raises(ValueError, match="cell"):
        reference_bptt("elman", **p)
    with pytest.raises(ValueError, match="W_ih"):
        reference_bptt("rnn", **{**p, "W_ih": np.zeros((4, 5))})
    with pytest.raises(ValueError, match="dout"):
        reference_bptt("rnn", **{**p, "dout": np.zeros((2, 2, 4))})
    with pytest.raises(ValueError, match="dc_T"):
        reference_bptt("rnn", **{**p, "dc_T": np.zeros((2, 4))})
    with pytest.raises(ValueError, match="nonlinearity"):
        reference_bptt("rnn", **p, nonlinearity="softplus")
    q = _problem("lstm", 3)
    with pytest.raises(ValueError, match="c0"):
        reference_bptt("lstm", **{**q, "c0": None})
    with pytest.raises(ValueError, match="b_ih, b_hh"):
        reference_bptt("rnn", **{**p, "b_hh": None})
    with pytest.raises(TypeError, match="x"):
        reference_bptt("rnn", **{**p, "x": p["x"].tolist()})
