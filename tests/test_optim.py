"""bptt.optim equals torch.optim: 50 float64 steps from the same start, every option on and off."""

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the reference for optimizer parity")

from bptt import MLP  # noqa: E402
from bptt.nn import Parameter  # noqa: E402
from bptt.optim import SGD, Adagrad, Adam, AdamW, RMSprop  # noqa: E402
from bptt.train.checkpoint import atomic_savez, load_npz  # noqa: E402

SHAPES = [(3, 4), (4,), (2, 3, 2)]
STEPS = 50
TOL = 1e-12


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    noise = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    return init, noise


def _grad(theta, t, i, noise):
    # depends on the current parameters, so every rule's use of θ (weight decay, momentum) is exercised
    return 0.3 * theta + 0.2 * np.sin(3 * theta) + noise[t][i]


def _run_both(bcls, tcls, kwargs, group_split=None, steps=STEPS, seed=0):
    init, noise = _problem(seed)
    bp = [Parameter(x.copy(), f"p{i}") for i, x in enumerate(init)]
    tp = [torch.tensor(x.copy(), requires_grad=True) for x in init]
    if group_split:
        extra = group_split
        bopt = bcls([{"params": bp[:1]}, {"params": bp[1:], **extra}], **kwargs)
        topt = tcls([{"params": tp[:1]}, {"params": tp[1:], **extra}], **kwargs)
    else:
        bopt, topt = bcls(bp, **kwargs), tcls(tp, **kwargs)
    for t in range(steps):
        bopt.zero_grad()
        for i, p in enumerate(bp):
            p.grad += _grad(p.data, t, i, noise)
        bopt.step()
        for i, p in enumerate(tp):
            p.grad = torch.from_numpy(_grad(p.detach().numpy(), t, i, noise))
        topt.step()
    return bp, tp, bopt, topt


def _max_rel(bp, tp):
    worst = 0.0
    for b, t in zip(bp, tp):
        tn = t.detach().numpy()
        worst = max(worst, float(np.max(np.abs(b.data - tn)) / np.max(np.abs(tn))))
    return worst


def _grid(**options):
    keys = list(options)
    return [dict(zip(keys, vals)) for vals in itertools.product(*options.values())]


SGD_CASES = [
    c for c in _grid(lr=[0.05], momentum=[0.0, 0.9], dampening=[0.0, 0.3], nesterov=[False, True],
                     weight_decay=[0.0, 0.05], maximize=[False, True])
    if not c["nesterov"] or (c["momentum"] > 0 and c["dampening"] == 0)
]
ADAGRAD_CASES = _grid(lr=[0.1], lr_decay=[0.0, 0.01], weight_decay=[0.0, 0.05],
                      initial_accumulator_value=[0.0, 0.1], eps=[1e-10, 1e-3], maximize=[False, True])
RMSPROP_CASES = _grid(lr=[0.01], alpha=[0.99, 0.9], weight_decay=[0.0, 0.05], momentum=[0.0, 0.9],
                      centered=[False, True], maximize=[False, True])
ADAM_CASES = _grid(lr=[0.01], betas=[(0.9, 0.999), (0.5, 0.9)], weight_decay=[0.0, 0.05],
                   amsgrad=[False, True], maximize=[False, True])


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_matches_torch(kwargs):
    bp, tp, _, _ = _run_both(SGD, torch.optim.SGD, kwargs)
    assert _max_rel(bp, tp) <= TOL


@pytest.mark.parametrize("kwargs", ADAGRAD_CASES, ids=str)
def test_adagrad_matches_torch(kwargs):
    bp, tp, _, _ = _run_both(Adagrad, torch.optim.Adagrad, kwargs)
    assert _max_rel(bp, tp) <= TOL


@pytest.mark.parametrize("kwargs", RMSPROP_CASES, ids=str)
def test_rmsprop_matches_torch(kwargs):
    bp, tp, _, _ = _run_both(RMSprop, torch.optim.RMSprop, kwargs)
    assert _max_rel(bp, tp) <= TOL


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
@pytest.mark.parametrize("pair", [(Adam, "Adam"), (AdamW, "AdamW")], ids=["Adam", "AdamW"])
def test_adam_family_matches_torch(pair, kwargs):
    bcls, tname = pair
    bp, tp, _, _ = _run_both(bcls, getattr(torch.optim, tname), kwargs)
    assert _max_rel(bp, tp) <= TOL


@pytest.mark.parametrize(
    "bcls,tname,extra",
    [
        (SGD, "SGD", {"lr": 0.2, "momentum": 0.5, "weight_decay": 0.1}),
        (Adagrad, "Adagrad", {"lr": 0.3, "lr_decay": 0.1}),
        (RMSprop, "RMSprop", {"lr": 0.002, "centered": True, "momentum": 0.5}),
        (Adam, "Adam", {"lr": 0.002, "amsgrad": True, "betas": (0.8, 0.99)}),
        (AdamW, "AdamW", {"lr": 0.002, "weight_decay": 0.3}),
    ],
)
def test_param_groups_match_torch(bcls, tname, extra):
    bp, tp, bopt, topt = _run_both(bcls, getattr(torch.optim, tname), {"lr": 0.01}, group_split=extra)
    assert _max_rel(bp, tp) <= TOL
    assert len(bopt.param_groups) == 2 and bopt.param_groups[1]["lr"] == extra["lr"]


@pytest.mark.parametrize("bcls,tname", [(SGD, "SGD"), (Adagrad, "Adagrad"), (RMSprop, "RMSprop"), (Adam, "Adam"), (AdamW, "AdamW")])
def test_defaults_equal_torch(bcls, tname):
    p = Parameter(np.zeros(3))
    ours = bcls([p]).defaults
    theirs = getattr(torch.optim, tname)([torch.zeros(3, requires_grad=True)]).defaults
    assert set(theirs) <= set(ours)  # every option torch code may pass, foreach/fused/... included
    for k, v in ours.items():
        if k == "eps_inside_sqrt":  # bptt's named course variant (min-char-rnn), off by default
            assert v is False
            continue
        assert theirs[k] == v, k


def test_optimizer_state_names_match_torch():
    bp, tp, bopt, topt = _run_both(Adam, torch.optim.Adam, {"lr": 0.01, "amsgrad": True}, steps=3)
    tsd, bsd = topt.state_dict(), bopt.state_dict()
    assert set(bsd) == {"state", "param_groups"} and set(bsd["state"]) == set(tsd["state"]) == {0, 1, 2}
    assert set(bsd["state"][0]) == set(tsd["state"][0])
    np.testing.assert_allclose(bsd["state"][0]["exp_avg_sq"], tsd["state"][0]["exp_avg_sq"].numpy(), rtol=1e-13, atol=0)
    assert bsd["state"][0]["step"] == float(tsd["state"][0]["step"]) == 3.0
    assert bsd["param_groups"] == [{**tsd["param_groups"][0]}]


@pytest.mark.parametrize(
    "bcls,kwargs",
    [
        (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        (Adagrad, {"lr": 0.1, "lr_decay": 0.01}),
        (RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.9}),
        (Adam, {"lr": 0.01, "amsgrad": True}),
        (AdamW, {"lr": 0.01}),
    ],
)
def test_state_dict_resume_is_bit_identical(tmp_path, bcls, kwargs):
    init, noise = _problem(3)

    def fresh():
        ps = [Parameter(x.copy(), f"p{i}") for i, x in enumerate(init)]
        return ps, bcls(ps, **kwargs)

    def run(ps, opt, t0, t1):
        for t in range(t0, t1):
            opt.zero_grad()
            for i, p in enumerate(ps):
                p.grad += _grad(p.data, t, i, noise)
            opt.step()

    ps_a, opt_a = fresh()
    run(ps_a, opt_a, 0, 50)

    ps_b, opt_b = fresh()
    run(ps_b, opt_b, 0, 20)
    atomic_savez(tmp_path / "opt.npz", {**opt_b.state_arrays(), **{f"p{i}": p.data for i, p in enumerate(ps_b)}})
    saved = load_npz(tmp_path / "opt.npz")
    ps_c, opt_c = fresh()
    for i, p in enumerate(ps_c):
        p.data[...] = saved[f"p{i}"]
    opt_c.load_state_arrays({k: v for k, v in saved.items() if not k.startswith("p")})
    run(ps_c, opt_c, 20, 50)
    for a, c in zip(ps_a, ps_c):
        np.testing.assert_array_equal(a.data, c.data)


def test_updates_in_place_and_keep_float32():
    m = MLP([2, 3, 1], dtype=np.float32, seed=0)
    before = [p.data for p in m.parameters()]
    opt = Adam(m.parameters(), lr=0.1)
    for p in m.parameters():
        p.grad += 1.0
    opt.step()
    for b, p in zip(before, m.parameters()):
        assert p.data is b and p.data.dtype == np.float32
        assert np.all(p.data != 0)
    for name in ("exp_avg", "exp_avg_sq"):
        assert all(v[name].dtype == np.float32 for v in opt.state.values())


def test_accepts_a_module_and_zero_grad_zeroes():
    m = MLP([2, 3, 1], dtype=np.float64, seed=0)
    opt = SGD(m, lr=0.1)
    assert len(opt.parameters()) == 4
    for p in m.parameters():
        p.grad += 2.0
    opt.zero_grad()
    assert all(np.all(p.grad == 0) for p in m.parameters())


def test_closure_is_called_and_returned():
    p = Parameter(np.ones(2))
    opt = SGD([p], lr=0.1)
    assert opt.step(lambda: 3.5) == 3.5


@pytest.mark.parametrize(
    "make,exc,fragment",
    [
        (lambda p: SGD([p], lr=-1.0), ValueError, "lr"),
        (lambda p: SGD([p], lr="fast"), TypeError, "lr"),
        (lambda p: SGD([p], lr=0.1, nesterov=True), ValueError, "nesterov"),
        (lambda p: SGD([p], lr=0.1, momentum=-0.5), ValueError, "momentum"),
        (lambda p: Adam([p], betas=(0.9, 1.0)), ValueError, "betas[1]"),
        (lambda p: Adam([p], betas=0.9), ValueError, "betas"),
        (lambda p: RMSprop([p], alpha=-0.1), ValueError, "alpha"),
        (lambda p: Adagrad([p], eps=-1.0), ValueError, "eps"),
        (lambda p: SGD([np.zeros(3)], lr=0.1), TypeError, "Parameter"),
        (lambda p: SGD([], lr=0.1), ValueError, "params"),
        (lambda p: SGD([p, p], lr=0.1), ValueError, "more than once"),
        (lambda p: SGD([{"params": [p], "lr_typo": 1.0}], lr=0.1), ValueError, "lr_typo"),
        (lambda p: SGD(3, lr=0.1), TypeError, "params"),
    ],
)
def test_bad_arguments_raise_one_clear_error(make, exc, fragment):
    with pytest.raises(exc, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        make(Parameter(np.zeros(3)))


def test_load_state_dict_rejects_mismatch():
    p = Parameter(np.zeros(3))
    adam = Adam([p])
    p.grad += 1
    adam.step()
    with pytest.raises(ValueError, match="expected an SGD state"):
        SGD([Parameter(np.zeros(3))]).load_state_dict(adam.state_arrays())
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['betas'"):
        SGD([Parameter(np.zeros(3))]).load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="expected shape"):
        Adam([Parameter(np.zeros(4))]).load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="group 0 expected 2"):
        Adam([Parameter(np.zeros(3)), Parameter(np.zeros(3))]).load_state_dict(adam.state_dict())
