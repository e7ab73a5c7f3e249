"""Every torch.optim.lr_scheduler bptt has, against torch: lr (and momentum) sequences over many steps, state."""

import copy
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the reference for scheduler parity")

import bptt.optim as bo  # noqa: E402
from bptt.nn import Parameter  # noqa: E402

TL = torch.optim.lr_scheduler
STEPS = 120
TOL = 1e-12


def _opts(opt_name="SGD", lrs=(0.1, 0.03), **kw):
    bps = [Parameter(np.ones(2)), Parameter(np.ones(3))]
    tps = [torch.ones(2, dtype=torch.float64, requires_grad=True), torch.ones(3, dtype=torch.float64, requires_grad=True)]
    bopt = getattr(bo, opt_name)([{"params": [bps[0]], "lr": lrs[0]}, {"params": [bps[1]], "lr": lrs[1]}], **kw)
    topt = getattr(torch.optim, opt_name)([{"params": [tps[0]], "lr": lrs[0]}, {"params": [tps[1]], "lr": lrs[1]}], **kw)
    return bopt, topt


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum", 0.0) for g in opt.param_groups]


def _seq(lib, opt):
    return lib.SequentialLR(opt, [lib.LinearLR(opt, start_factor=0.1, total_iters=5), lib.ExponentialLR(opt, gamma=0.95),
                                  lib.CosineAnnealingLR(opt, T_max=20, eta_min=0.001)], milestones=[5, 40])


def _lam(e):
    return 0.97**e


def _lam2(e):
    return 1.0 / (1 + e)


# (id, optimizer, optimizer kwargs, build(lib, opt)) -- lib is bptt.optim or torch.optim.lr_scheduler
CASES = [
    ("MultiStepLR", "SGD", {}, lambda L, o: L.MultiStepLR(o, milestones=[3, 7, 7, 20, 60], gamma=0.5)),
    ("LambdaLR-one", "SGD", {}, lambda L, o: L.LambdaLR(o, _lam)),
    ("LambdaLR-per-group", "SGD", {}, lambda L, o: L.LambdaLR(o, [_lam, _lam2])),
    ("LinearLR-default", "SGD", {}, lambda L, o: L.LinearLR(o)),
    ("LinearLR-decay", "SGD", {}, lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=40)),
    ("PolynomialLR-default", "SGD", {}, lambda L, o: L.PolynomialLR(o)),
    ("PolynomialLR-p2", "SGD", {}, lambda L, o: L.PolynomialLR(o, total_iters=50, power=2.0)),
    ("CAWR-T0=5", "SGD", {}, lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5)),
    ("CAWR-T0=3-mult2", "SGD", {}, lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001)),
    ("OneCycle-cos-SGD", "SGD", {"momentum": 0.9}, lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 0.4], total_steps=STEPS)),
    ("OneCycle-linear-3phase-Adam", "Adam", {}, lambda L, o: L.OneCycleLR(o, max_lr=0.01, total_steps=STEPS, anneal_strategy="linear", three_phase=True)),
    ("OneCycle-cos-3phase-RMSprop", "RMSprop", {"momentum": 0.5}, lambda L, o: L.OneCycleLR(o, max_lr=0.1, epochs=6, steps_per_epoch=20, three_phase=True, pct_start=0.25, base_momentum=[0.8, 0.7], max_momentum=0.9)),
    ("OneCycle-no-momentum-Adagrad", "Adagrad", {}, lambda L, o: L.OneCycleLR(o, max_lr=0.5, total_steps=STEPS, cycle_momentum=False, div_factor=10.0, final_div_factor=100.0)),
    ("SequentialLR-3", "SGD", {}, _seq),
    ("SequentialLR-multistep-poly", "SGD", {}, lambda L, o: L.SequentialLR(o, [L.MultiStepLR(o, [2, 4], 0.5), L.PolynomialLR(o, total_iters=30, power=2.0)], milestones=[10])),
]


def _pair(case):
    _, opt_name, kw, build = case
    bopt, topt = _opts(opt_name, **kw)
    return bopt, topt, build(bo, bopt), build(TL, topt)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_lr_sequence_equals_torch(case):
    bopt, topt, bs, ts = _pair(case)
    worst = _rel(bs.get_last_lr(), ts.get_last_lr())
    for _ in range(STEPS - 1 if "OneCycle" in case[0] else STEPS):  # OneCycle ends after total_steps
        bopt.step()
        topt.step()
        bs.step()
        ts.step()
        worst = max(worst, _rel(bs.get_last_lr(), ts.get_last_lr()), _rel([g["lr"] for g in bopt.param_groups], [g["lr"] for g in topt.param_groups]))
        worst = max(worst, _rel(_momenta(bopt), _momenta(topt)))
    assert worst <= TOL


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_state_round_trips_through_torch(case):
    """30 steps in torch, state into bptt, 30 more on each: equal; and bptt's state back into torch."""
    bopt, topt, bs, ts = _pair(case)
    for _ in range(30):
        topt.step()
        ts.step()
    bopt.load_state_dict(topt.state_dict())
    bs.load_state_dict(ts.state_dict())
    _, twin_opt, _, twin = _pair(case)  # as torch advises: build the scheduler, then load both states
    twin_opt.load_state_dict(copy.deepcopy(topt.state_dict()))
    twin.load_state_dict(bs.state_dict())  # bptt's state read by torch
    for _ in range(30):
        for o in (bopt, topt, twin_opt):
            o.step()
        for s in (bs, ts, twin):
            s.step()
        assert _rel(bs.get_last_lr(), ts.get_last_lr()) <= TOL
        assert _rel(twin.get_last_lr(), ts.get_last_lr()) <= TOL


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_state_arrays_resume(case):
    bopt, _, bs, _ = _pair(case)
    for _ in range(17):
        bopt.step()
        bs.step()
    arrays = {**bopt.state_arrays(), **bs.state_arrays()}
    want = []
    for _ in range(20):
        bs.step()
        want.append(bs.get_last_lr())
    bopt2, _, bs2, _ = _pair(case)
    bopt2.load_state_arrays({k: v for k, v in arrays.items() if not k.startswith("scheduler.")})
    bs2.load_state_arrays({k: v for k, v in arrays.items() if k.startswith("scheduler.")})
    got = []
    for _ in range(20):
        bs2.step()
        got.append(bs2.get_last_lr())
    assert got == want


@pytest.mark.parametrize(
    "name,kwargs,epochs",
    [
        ("MultiStepLR", {"milestones": [3, 7, 7, 20]}, [0, 3, 6, 7, 19, 20, 44]),
        ("LinearLR", {"start_factor": 0.25, "total_iters": 8}, [0, 1, 5, 8, 30]),
        ("PolynomialLR", {"total_iters": 9, "power": 1.5}, [0, 2, 8, 9, 30]),
        ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2}, [0, 0.5, 3.9, 4, 11.25, 12, 29, 100]),
        ("CosineAnnealingWarmRestarts", {"T_0": 4}, [0, 2.5, 4, 9.75]),
    ],
)
def test_step_epoch_closed_form_equals_torch(name, kwargs, epochs):
    bopt, topt = _opts()
    bs, ts = getattr(bo, name)(bopt, **kwargs), getattr(TL, name)(topt, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates step(epoch) for most schedulers
        for e in epochs:
            bs.step(e)
            ts.step(e)
            assert _rel(bs.get_last_lr(), ts.get_last_lr()) <= TOL


def _metrics(n=150, seed=3):
    rng = np.random.default_rng(seed)
    # improving, then plateaus with noise of both signs and exact repeats (ties), then worse
    base = np.concatenate([np.linspace(2.0, 1.0, 30), np.full(40, 1.0), np.linspace(1.0, 0.8, 20), np.full(60, 0.8)])[:n]
    noise = rng.choice([0.0, 1e-5, -1e-5, 1e-3, -1e-3, 0.05], size=n)
    return base + noise


PLATEAU_CASES = [
    {"mode": m, "threshold_mode": tm, "threshold": th, "patience": p, "cooldown": c, "factor": f, "min_lr": ml, "eps": eps}
    for (m, tm, th, p, c, f, ml, eps) in [
        ("min", "rel", 1e-4, 3, 0, 0.5, 0.0, 1e-8),
        ("min", "abs", 1e-3, 2, 2, 0.3, 1e-3, 1e-8),
        ("max", "rel", 1e-2, 4, 1, 0.5, [1e-4, 5e-3], 1e-8),
        ("max", "abs", 0.0, 0, 0, 0.9, 0.0, 1e-3),
        ("min", "rel", 0.0, 10, 5, 0.1, 0.0, 1e-8),  # torch's defaults, cooldown on
    ]
]


@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=str)
def test_reduce_on_plateau_equals_torch(kwargs):
    bopt, topt = _opts()
    bs, ts = bo.ReduceLROnPlateau(bopt, **kwargs), TL.ReduceLROnPlateau(topt, **kwargs)
    metrics = _metrics()
    if kwargs["mode"] == "max":
        metrics = 3.0 - metrics  # rising, then plateaus (positive, so "rel" means what it says)
    changes = 0
    for m in metrics:
        before = bs.get_last_lr()
        bs.step(m)
        ts.step(m)
        changes += before != bs.get_last_lr()
        assert bs.get_last_lr() == ts.get_last_lr()  # comparisons and products in the same order: identical
        assert (bs.best, bs.num_bad_epochs, bs.cooldown_counter) == (ts.best, ts.num_bad_epochs, ts.cooldown_counter)
    assert changes >= 2  # the schedule really reduced, more than once


def test_reduce_on_plateau_state_from_and_to_torch():
    kwargs = PLATEAU_CASES[1]
    metrics = _metrics()
    bopt, topt = _opts()
    ts = TL.ReduceLROnPlateau(topt, **kwargs)
    for m in metrics[:60]:
        ts.step(m)
    bs = bo.ReduceLROnPlateau(bopt, **kwargs)
    bopt.load_state_dict(topt.state_dict())
    bs.load_state_dict(ts.state_dict())
    for m in metrics[60:]:
        bs.step(m)
        ts.step(m)
        assert bs.get_last_lr() == ts.get_last_lr()
    back_opt = _opts()[1]
    back = TL.ReduceLROnPlateau(back_opt)
    back.load_state_dict(bs.state_dict())
    assert (back.best, back.num_bad_epochs, back.mode, back.threshold) == (ts.best, ts.num_bad_epochs, ts.mode, ts.threshold)


def test_lambda_state_keeps_callable_objects_like_torch():
    class Warm:
        def __init__(self):
            self.k = 3.0

        def __call__(self, e):
            return min(1.0, (e + 1) / self.k)

    bopt, topt = _opts()
    tf, bf = Warm(), Warm()
    tf.k = 7.0
    ts = TL.LambdaLR(topt, [tf, _lam])
    bs = bo.LambdaLR(bopt, [bf, _lam])
    bs.load_state_dict(ts.state_dict())
    assert bf.k == 7.0 and bs.state_dict()["lr_lambdas"] == [{"k": 7.0}, None] == ts.state_dict()["lr_lambdas"]


@pytest.mark.parametrize(
    "make,exc,fragment",
    [
        (lambda o: bo.MultiStepLR(o, milestones=[2, -1]), ValueError, "milestones[1]"),
        (lambda o: bo.MultiStepLR(o, milestones=3), TypeError, "milestones"),
        (lambda o: bo.LambdaLR(o, [_lam]), ValueError, "lr_lambda"),
        (lambda o: bo.LambdaLR(o, 0.5), TypeError, "lr_lambda[0]"),
        (lambda o: bo.LinearLR(o, start_factor=0.0), ValueError, "start_factor"),
        (lambda o: bo.LinearLR(o, end_factor=1.5), ValueError, "end_factor"),
        (lambda o: bo.PolynomialLR(o, total_iters=0), ValueError, "total_iters"),
        (lambda o: bo.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "T_0"),
        (lambda o: bo.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5), TypeError, "T_mult"),
        (lambda o: bo.OneCycleLR(o, max_lr=0.1), ValueError, "total_steps"),
        (lambda o: bo.OneCycleLR(o, max_lr=[0.1], total_steps=10), ValueError, "max_lr"),
        (lambda o: bo.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
        (lambda o: bo.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5), ValueError, "pct_start"),
        (lambda o: bo.SequentialLR(o, [bo.ExponentialLR(o, 0.9)], milestones=[3]), ValueError, "milestones"),
        (lambda o: bo.SequentialLR(o, [bo.ReduceLROnPlateau(o)], milestones=[]), ValueError, "ReduceLROnPlateau"),
        (lambda o: bo.ReduceLROnPlateau(o, mode="up"), ValueError, "mode"),
        (lambda o: bo.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError, "threshold_mode"),
        (lambda o: bo.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor"),
        (lambda o: bo.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "min_lr"),
        (lambda o: bo.ReduceLROnPlateau(o, patience=-1), ValueError, "patience"),
        (lambda o: bo.ReduceLROnPlateau(o).step("low"), TypeError, "metrics"),
    ],
)
def test_bad_arguments_name_the_argument(make, exc, fragment):
    bopt, _ = _opts()
    with pytest.raises(exc, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        make(bopt)


def test_onecycle_refuses_to_step_past_total_steps_and_needs_momentum():
    bopt, _ = _opts()
    s = bo.OneCycleLR(bopt, max_lr=0.1, total_steps=3, cycle_momentum=False)
    for _ in range(2):
        s.step()
    s.step()  # step 3 = total_steps is allowed (torch: > total_steps raises)
    with pytest.raises(ValueError, match="total_steps is 3"):
        s.step()
    with pytest.raises(ValueError, match="cycle_momentum"):
        bo.OneCycleLR(bo.Adagrad([Parameter(np.ones(2))]), max_lr=0.1, total_steps=5)


@pytest.mark.parametrize(
    "key,value,exc",
    [
        ("base_lrs", [0.1, float("nan")], ValueError),
        ("base_lrs", [0.1], ValueError),
        ("last_epoch", "3", TypeError),
        ("_last_lr", [0.1, -1.0], ValueError),
        ("T_max", 2.5, TypeError),  # an int option stays an int
        ("T_max", 12.0, None),  # an integral float (JSON, torch tensors) is that int
        ("_is_initial", 1, TypeError),
    ],
)
def test_scheduler_load_validates_before_writing(key, value, exc):
    bopt, _ = _opts()
    s = bo.CosineAnnealingLR(bopt, T_max=10)
    for _ in range(4):
        s.step()
    before = s.state_dict()
    bad = {**before, key: value}
    if exc is None:
        s.load_state_dict(bad)
        assert s.T_max == 12 and isinstance(s.T_max, int)
        return
    with pytest.raises(exc, match=f"state_dict\\['{key}'\\]"):
        s.load_state_dict(bad)
    assert s.state_dict() == before
    with pytest.raises(ValueError, match="unexpected entries \\['bogus'\\]"):
        s.load_state_dict({**before, "bogus": 1})
    assert math.isclose(s.get_last_lr()[0], before["_last_lr"][0])


def test_warm_restarts_state_keeps_a_fractional_epoch():
    bopt, topt = _opts()
    bs = bo.CosineAnnealingWarmRestarts(bopt, T_0=4, T_mult=2)
    ts = TL.CosineAnnealingWarmRestarts(topt, T_0=4, T_mult=2)
    for e in (0.5, 1.25, 5.5):
        bs.step(e)
        ts.step(e)
    fresh = bo.CosineAnnealingWarmRestarts(_opts()[0], T_0=4, T_mult=2)
    fresh.load_state_arrays(bs.state_arrays())
    assert fresh.T_cur == ts.T_cur == 1.5
    for _ in range(10):
        fresh.step()
        ts.step()
        assert _rel(fresh.get_last_lr(), ts.get_last_lr()) <= TOL
