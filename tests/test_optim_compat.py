"""What torch code does with an optimizer, done to bptt's: state_dict in torch's layout (both ways,
validated), torch's keyword arguments, zero_grad(set_to_none=True), and the courses' update rules."""

import copy
import inspect

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the reference for optimizer compatibility")

import bptt  # noqa: E402
import bptt.optim as bo  # noqa: E402
from bptt.convert import from_d2l, from_min_char_rnn, to_d2l, to_min_char_rnn  # noqa: E402
from bptt.interop.torch import optimizer_state_to_torch  # noqa: E402
from bptt.nn import Parameter  # noqa: E402

SHAPES = [(3, 4), (4,), (2, 3)]
TOL = 1e-12
NAMES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]
FULL = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    "RMSprop": {"lr": 0.01, "momentum": 0.5, "centered": True},
    "Adam": {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01},
    "AdamW": {"lr": 0.01, "betas": (0.8, 0.99)},
}


def _problem(seed=0, steps=40):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES], [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def _grad(theta, noise):
    return 0.3 * theta + 0.2 * np.sin(3 * theta) + noise


def _pair(name, kwargs, init):
    bp = [Parameter(x.copy()) for x in init]
    tp = [torch.tensor(x.copy(), requires_grad=True) for x in init]
    return bp, tp, getattr(bo, name)(bp, **kwargs), getattr(torch.optim, name)(tp, **kwargs)


def _bstep(bp, opt, noise):
    opt.zero_grad()
    for p, n in zip(bp, noise):
        p.grad += _grad(p.data, n)
    opt.step()


def _tstep(tp, opt, noise):
    for p, n in zip(tp, noise):
        p.grad = torch.from_numpy(_grad(p.detach().numpy(), n))
    opt.step()


def _max_rel(bp, tp):
    return max(float(np.max(np.abs(b.data - t.detach().numpy())) / np.max(np.abs(t.detach().numpy()))) for b, t in zip(bp, tp))


# -- state_dict in torch's layout -------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_torch_state_loads_into_bptt_and_training_continues(name):
    init, noise = _problem()
    bp, tp, bopt, topt = _pair(name, FULL[name], init)
    for t in range(20):
        _tstep(tp, topt, noise[t])
    for b, t in zip(bp, tp):
        b.data[...] = t.detach().numpy()
    bopt.load_state_dict(topt.state_dict())
    for t in range(20, 40):
        _bstep(bp, bopt, noise[t])
        _tstep(tp, topt, noise[t])
    assert _max_rel(bp, tp) <= TOL


@pytest.mark.parametrize("name", NAMES)
def test_bptt_state_loads_into_torch_and_training_continues(name):
    init, noise = _problem(1)
    bp, tp, bopt, topt = _pair(name, FULL[name], init)
    for t in range(20):
        _bstep(bp, bopt, noise[t])
    with torch.no_grad():
        for b, t in zip(bp, tp):
            t.copy_(torch.from_numpy(b.data))
    sd = bopt.state_dict()
    assert set(sd) == {"state", "param_groups"} and sd["param_groups"][0]["params"] == [0, 1, 2]
    topt.load_state_dict(optimizer_state_to_torch(sd))
    for t in range(20, 40):
        _bstep(bp, bopt, noise[t])
        _tstep(tp, topt, noise[t])
    assert _max_rel(bp, tp) <= TOL


@pytest.mark.parametrize("name", NAMES)
def test_state_names_and_group_keys_equal_torchs(name):
    init, noise = _problem()
    bp, tp, bopt, topt = _pair(name, FULL[name], init)
    for t in range(3):
        _bstep(bp, bopt, noise[t])
        _tstep(tp, topt, noise[t])
    b, t = bopt.state_dict(), topt.state_dict()
    assert set(b["state"]) == set(t["state"])
    for i in t["state"]:
        assert set(b["state"][i]) == set(t["state"][i])
    extra = {"eps_inside_sqrt"} if name == "Adagrad" else set()
    assert set(b["param_groups"][0]) == set(t["param_groups"][0]) | extra


def _adam_after_steps():
    p = [Parameter(np.ones((2, 3))), Parameter(np.ones(3))]
    opt = bo.Adam([{"params": [p[0]]}, {"params": [p[1]], "lr": 0.1}], amsgrad=True)
    for _ in range(3):
        for q in p:
            q.grad += 0.5
        opt.step()
    return opt


def _set(path, value):
    def edit(sd):
        node = sd
        for k in path[:-1]:
            node = node[k]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value(node[path[-1]]) if callable(value) else value
    return edit


@pytest.mark.parametrize(
    "edit,exc,fragment",
    [
        (_set(["param_groups", 0, "lr"], float("nan")), ValueError, "['param_groups'][0]: lr: expected a finite number"),
        (_set(["param_groups", 1, "lr"], -0.1), ValueError, "['param_groups'][1]: lr: expected a value"),
        (_set(["param_groups", 0, "betas"], (0.9,)), ValueError, "['param_groups'][0]: betas: expected a pair"),
        (_set(["param_groups", 0, "betas"], (0.9, 1.5)), ValueError, "betas[1]"),
        (_set(["param_groups", 0, "amsgrad"], "yes"), TypeError, "amsgrad: expected True or False"),
        (_set(["param_groups", 0, "fused"], True), ValueError, "fused: expected one of [None, False]"),
        (_set(["param_groups", 0, "momentum"], 0.9), ValueError, "unknown option(s) ['momentum']"),
        (_set(["param_groups", 0, "params"], [0, 1]), ValueError, "group 0 expected 1 parameters, got 2"),
        (lambda sd: sd["param_groups"].pop(), ValueError, "['param_groups']: expected 2 group(s), got 1"),
        (_set(["state", 0, "exp_avg"], lambda a: a[:1]), ValueError, "['state'][0]['exp_avg']: expected shape (2, 3), got (1, 3)"),
        (_set(["state", 1, "exp_avg_sq"], lambda a: np.where(np.arange(3) == 1, np.nan, a)), ValueError, "['state'][1]['exp_avg_sq']: contains NaN"),
        (_set(["state", 0, "step"], -1.0), ValueError, "['state'][0]['step']: expected one step count >= 0"),
        (_set(["state", 0, "momentum_buffer"], np.zeros((2, 3))), ValueError, "['state'][0]['momentum_buffer']: unknown buffer for Adam"),
        (_set(["state", 0, "max_exp_avg_sq"], KeyError), ValueError, "['state'][0]: missing buffer(s) ['max_exp_avg_sq']"),
        (_set(["state", 5], {}), ValueError, "['state'][5]: no parameter has index 5"),
        (_set(["state", 0, "exp_avg"], lambda a: a.astype(complex)), TypeError, "['state'][0]['exp_avg']: expected real numbers"),
        (lambda sd: sd.pop("state"), ValueError, "missing 'state'"),
        (_set(["param_groups", 1, "params"], [0]), ValueError, "['param_groups'][1]['params']: index 0 appears more than once"),
        (_set(["param_groups", 1, "params"], ["x"]), TypeError, "expected a parameter index"),
    ],
)
def test_load_validates_everything_then_commits(edit, exc, fragment):
    opt = _adam_after_steps()
    before = copy.deepcopy(opt.state_dict())
    bad = copy.deepcopy(before)
    # the first group's lr is changed validly too: it must not land when a later entry is bad
    bad["param_groups"][0]["lr"] = 0.5 if "param_groups" in bad else None
    edit(bad)
    with pytest.raises(exc) as info:
        opt.load_state_dict(bad)
    assert fragment in str(info.value)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i in before["state"]:
        for k, v in before["state"][i].items():
            np.testing.assert_array_equal(after["state"][i][k], v)


def test_flat_checkpoint_form_still_loads():
    opt = _adam_after_steps()
    arrays = opt.state_arrays()
    assert arrays["state.0.exp_avg"].shape == (2, 3) and arrays["group1.lr"] == 0.1 and "group0.foreach" not in arrays
    fresh = bo.Adam([{"params": [Parameter(np.ones((2, 3)))]}, {"params": [Parameter(np.ones(3))], "lr": 0.1}], amsgrad=True)
    fresh.load_state_dict(arrays)
    for i, buffers in opt.state_dict()["state"].items():
        for k, v in buffers.items():
            np.testing.assert_array_equal(fresh.state_dict()["state"][i][k], v)


# -- torch's keyword arguments -----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_torch_keyword_is_accepted(name):
    ours = inspect.signature(getattr(bo, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    assert set(theirs) <= set(ours), set(theirs) - set(ours)
    for k, v in theirs.items():  # positional ones at torch's positions (Adagrad's foreach, RMSprop's capturable...)
        if v.kind == v.POSITIONAL_OR_KEYWORD:
            assert list(theirs).index(k) == list(ours).index(k), k


NOOP = {"foreach": [None, False, True], "fused": [None, False], "capturable": [False], "differentiable": [False]}


@pytest.mark.parametrize("name", NAMES)
def test_noop_flags_change_nothing_and_the_others_are_refused(name):
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    flags = {k: v for k, v in NOOP.items() if k in theirs}
    init, noise = _problem()
    for k, values in flags.items():
        for v in values:
            bp, tp, bopt, topt = _pair(name, {**FULL[name], k: v}, init)
            for t in range(10):
                _bstep(bp, bopt, noise[t])
                _tstep(tp, topt, noise[t])
            assert _max_rel(bp, tp) <= TOL
        if k != "foreach":
            with pytest.raises(ValueError, match=f"{k}: expected one of"):
                getattr(bo, name)([Parameter(np.ones(2))], **{k: True})


def test_clip_accepts_foreach():
    p = Parameter(np.ones(3))
    p.grad[...] = 3.0
    assert bo.clip_grad_norm_([p], 1.0, foreach=True) == pytest.approx(np.sqrt(27))


# -- zero_grad(set_to_none=True) -------------------------------------------------------------------


def test_set_to_none_then_backward_allocates_like_torch(rng):
    m = bptt.nn.Sequential(bptt.nn.Linear(3, 4, dtype=np.float64, seed=0), bptt.nn.Tanh(dtype=np.float64),
                           bptt.nn.Linear(4, 2, dtype=np.float64, seed=1))
    tm = bptt.interop.torch.to_torch(m)
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    m.zero_grad(set_to_none=True)
    tm.zero_grad(set_to_none=True)
    assert all(p.grad is None for p in m.parameters()) and all(p.grad is None for p in tm.parameters())
    assert bo.get_total_norm(m) == 0.0
    for _ in range(2):  # twice: the second backward adds into the allocated grads
        m(x)
        m.backward(w)
        (tm(torch.from_numpy(x)) * torch.from_numpy(w)).sum().backward()
    for (k, g), tp in zip(m.grads.items(), tm.parameters()):
        np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_step_skips_a_parameter_whose_grad_is_none(name):
    """Only the parameters that got a gradient this step move, with every option that moves θ on its own."""
    init, noise = _problem(2)
    kwargs = dict(FULL[name], weight_decay=0.1) if name != "AdamW" else FULL[name]
    bp, tp, bopt, topt = _pair(name, kwargs, init)
    for t in range(12):
        live = [i for i in range(3) if (t + i) % 3 != 0]  # each parameter sits out every third step
        bopt.zero_grad(set_to_none=True)
        topt.zero_grad(set_to_none=True)
        for i in live:
            bp[i].accumulate(_grad(bp[i].data, noise[t][i]))
            tp[i].grad = torch.from_numpy(_grad(tp[i].detach().numpy(), noise[t][i]))
        frozen = [bp[i].data.copy() for i in range(3) if i not in live]
        bopt.step()
        topt.step()
        assert all(np.array_equal(f, bp[i].data) for f, i in zip(frozen, [i for i in range(3) if i not in live]))
    assert _max_rel(bp, tp) <= TOL


# -- the courses' own update rules, as named options -------------------------------------------------


def test_adagrad_eps_inside_sqrt_is_min_char_rnns_loop(rng):
    """min-char-rnn's training loop, written out, against bptt modules + Adagrad(eps_inside_sqrt=True)."""
    from test_convert import min_char_rnn_lossfun

    V, H, seq_length, learning_rate = 6, 8, 5, 1e-1
    data = rng.integers(0, V, 200)
    Wxh, Whh, Why = rng.standard_normal((H, V)) * 0.01, rng.standard_normal((H, H)) * 0.01, rng.standard_normal((V, H)) * 0.01
    bh, by = np.zeros((H, 1)), np.zeros((V, 1))
    sd, head = from_min_char_rnn({"Wxh": Wxh, "Whh": Whh, "Why": Why, "bh": bh, "by": by})
    rnn = bptt.RNN(V, H, dtype=np.float64).load_state_dict(sd)
    fc = bptt.Linear(H, V, dtype=np.float64).load_state_dict(head)
    # the course has one bias bh = b_ih + b_hh: train b_ih, keep b_hh at 0
    params = [p for n, p in rnn.named_parameters() if n != "bias_hh_l0"] + fc.parameters()
    opt = bo.Adagrad(params, lr=learning_rate, eps=1e-8, eps_inside_sqrt=True)
    ce = bptt.CrossEntropyLoss(reduction="sum")
    mWxh, mWhh, mWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    mbh, mby = np.zeros_like(bh), np.zeros_like(by)
    hprev, h = np.zeros((H, 1)), np.zeros((1, H))
    p = 0
    for n in range(30):
        inputs, targets = data[p:p + seq_length], data[p + 1:p + seq_length + 1]
        # -- min-char-rnn, verbatim
        loss, dWxh, dWhh, dWhy, dbh, dby, hprev = min_char_rnn_lossfun(inputs, targets, hprev, Wxh, Whh, Why, bh, by)
        for param, dparam, mem in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby], [mWxh, mWhh, mWhy, mbh, mby]):
            mem += dparam * dparam
            param += -learning_rate * dparam / np.sqrt(mem + 1e-8)
        # -- bptt
        opt.zero_grad()
        out, h = rnn(np.eye(V)[inputs], h)
        ce(fc(out), targets)
        rnn.backward(fc.backward(ce.backward()))
        bo.clip_grad_value_(params, 5)
        opt.step()
        p += seq_length
    ours = to_min_char_rnn(rnn.state_dict(), fc.state_dict())
    for k, ref in zip(("Wxh", "Whh", "Why", "bh", "by"), (Wxh, Whh, Why, bh, by)):
        np.testing.assert_allclose(ours[k], ref, rtol=1e-10, atol=1e-13, err_msg=k)


def test_clip_eps0_is_d2ls_grad_clipping_in_its_training_loop(rng):
    """d2l's scratch RNN trained by d2l's loop (grad_clipping, sgd) against bptt + clip_grad_norm_(eps=0) + SGD."""
    T, B, V, H, lr, theta = 5, 3, 6, 7, 1.0, 0.25
    names = ["W_xh", "W_hh", "b_h", "W_hq", "b_q"]
    init = [rng.standard_normal((V, H)) * 0.01 * 30, rng.standard_normal((H, H)) * 0.3, np.zeros(H),
            rng.standard_normal((H, V)) * 0.3, np.zeros(V)]
    batches = [(rng.integers(0, V, (B, T)), rng.integers(0, V, (B, T))) for _ in range(25)]

    # -- d2l, as written there (torch autograd for the gradients)
    params = [torch.tensor(a, requires_grad=True) for a in init]

    def grad_clipping(params, theta):
        norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
        if norm > theta:
            for param in params:
                param.grad[:] *= theta / norm

    def sgd(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    state = None
    clipped = 0
    for X, Y in batches:
        state = torch.zeros((B, H), dtype=torch.float64) if state is None else state.detach()
        W_xh, W_hh, b_h, W_hq, b_q = params
        Hs, outputs = state, []
        for Xt in torch.nn.functional.one_hot(torch.from_numpy(X).T, V).double():
            Hs = torch.tanh(torch.mm(Xt, W_xh) + torch.mm(Hs, W_hh) + b_h)
            outputs.append(torch.mm(Hs, W_hq) + b_q)
        y_hat, state = torch.cat(outputs, dim=0), Hs
        y = torch.from_numpy(Y).T.reshape(-1)
        l = torch.nn.CrossEntropyLoss()(y_hat, y.long()).mean()
        l.backward()
        clipped += bool(torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params)) > theta)
        grad_clipping(params, theta)
        sgd(params, lr, batch_size=1)
    assert clipped >= 5  # the clip really acted

    # -- bptt
    sd, head = from_d2l(dict(zip(names, init)), "rnn")
    rnn = bptt.RNN(V, H, dtype=np.float64).load_state_dict(sd)
    fc = bptt.Linear(H, V, dtype=np.float64).load_state_dict(head)
    ps = [p for n, p in rnn.named_parameters() if n != "bias_hh_l0"] + fc.parameters()  # d2l's one b_h
    opt = bo.SGD(ps, lr=lr)
    ce = bptt.CrossEntropyLoss()
    h = np.zeros((1, B, H))
    for X, Y in batches:
        opt.zero_grad()
        out, h = rnn(np.eye(V)[X.T], h)
        ce(fc(out).reshape(T * B, V), Y.T.reshape(-1))
        rnn.backward(fc.backward(ce.backward().reshape(T, B, V)))
        bo.clip_grad_norm_(ps, theta, eps=0.0)
        opt.step()
    ours = to_d2l(rnn.state_dict(), "rnn", head=fc.state_dict())
    for n, p in zip(names, params):
        np.testing.assert_allclose(ours[n], p.detach().numpy(), rtol=1e-10, atol=1e-13, err_msg=n)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_set_to_none_with_the_cell_modules(rng, name):
    cell = getattr(bptt.nn, name)(3, 4, dtype=np.float64, seed=0)
    tcell = getattr(torch.nn, name)(3, 4, dtype=torch.float64)
    tcell.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in cell.state_dict().items()})
    cell.zero_grad(set_to_none=True)
    assert all(p.grad is None for p in cell.parameters())
    x, w = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    for _ in range(2):
        out = cell(x)
        h = out[0] if isinstance(out, tuple) else out
        cell.backward(w)
        tout = tcell(torch.from_numpy(x))
        ((tout[0] if isinstance(tout, tuple) else tout) * torch.from_numpy(w)).sum().backward()
        np.testing.assert_allclose(h, (tout[0] if isinstance(tout, tuple) else tout).detach().numpy(), rtol=0, atol=1e-13)
    for (k, g), tp in zip(cell.grads.items(), tcell.parameters()):
        np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-12, atol=1e-14, err_msg=k)


def test_set_to_none_then_backward_allocates_learned_initial_state_grads():
    """The learned h0/c0 gradient goes through Parameter.accumulate too (was `grad +=`, a TypeError on None)."""
    import bptt

    m = bptt.LSTM(3, 4, num_layers=2, learn_initial_state=True, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    out, _ = m(x)
    m.backward(np.ones_like(out))
    want = {k: m.grads[k].copy() for k in ("h0", "c0")}
    m.zero_grad(set_to_none=True)
    out, _ = m(x)
    m.backward(np.ones_like(out))
    for k, v in want.items():
        np.testing.assert_array_equal(m.grads[k], v)
