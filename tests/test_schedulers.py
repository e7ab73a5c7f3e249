"""bptt.optim learning-rate schedules give torch.optim.lr_scheduler's values, step for step."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the reference for scheduler parity")

from bptt.nn import Parameter  # noqa: E402
from bptt.optim import SGD, Adam, CosineAnnealingLR, ExponentialLR, StepLR  # noqa: E402

STEPS = 50
CASES = [
    ("StepLR", {"step_size": 1, "gamma": 0.5}),
    ("StepLR", {"step_size": 7, "gamma": 0.1}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("ExponentialLR", {"gamma": 0.99}),
    ("CosineAnnealingLR", {"T_max": 10}),  # 50 steps: past T_max, through torch's periodic branch
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.01}),
    ("CosineAnnealingLR", {"T_max": 50, "eta_min": 0.001}),
]
BPTT = {"StepLR": StepLR, "ExponentialLR": ExponentialLR, "CosineAnnealingLR": CosineAnnealingLR}


def _pair(name, kwargs, lrs=(0.1, 0.03)):
    bps = [Parameter(np.ones(2)), Parameter(np.ones(3))]
    tps = [torch.ones(2, requires_grad=True), torch.ones(3, requires_grad=True)]
    bopt = SGD([{"params": [bps[0]], "lr": lrs[0]}, {"params": [bps[1]], "lr": lrs[1]}], lr=lrs[0])
    topt = torch.optim.SGD([{"params": [tps[0]], "lr": lrs[0]}, {"params": [tps[1]], "lr": lrs[1]}], lr=lrs[0])
    return bopt, topt, BPTT[name](bopt, **kwargs), getattr(torch.optim.lr_scheduler, name)(topt, **kwargs), tps


def _rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_recursive_step_matches_torch(name, kwargs):
    bopt, topt, bs, ts, tps = _pair(name, kwargs)
    assert _rel(bs.get_last_lr(), ts.get_last_lr()) == 0
    for _ in range(STEPS):
        for p in tps:
            p.grad = torch.zeros_like(p)
        bopt.step()
        topt.step()
        bs.step()
        ts.step()
        assert _rel(bs.get_last_lr(), ts.get_last_lr()) <= 1e-12
        assert _rel([g["lr"] for g in bopt.param_groups], [g["lr"] for g in topt.param_groups]) <= 1e-12


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_closed_form_matches_torch(name, kwargs):
    import warnings

    bopt, topt, bs, ts, _ = _pair(name, kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates step(epoch); the closed form is what we compare
        for epoch in (3, 10, 17, 49):
            bs.step(epoch)
            ts.step(epoch)
            assert _rel(bs.get_last_lr(), ts.get_last_lr()) <= 1e-12


def test_schedule_drives_the_optimizer_like_torch():
    """Adam + cosine schedule: the parameters after 50 steps equal torch's."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(5)
    grads = rng.standard_normal((STEPS, 5))
    bp, tp = Parameter(x0.copy()), torch.tensor(x0.copy(), requires_grad=True)
    bopt, topt = Adam([bp], lr=0.05), torch.optim.Adam([tp], lr=0.05)
    bs, ts = CosineAnnealingLR(bopt, T_max=20), torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=20)
    for t in range(STEPS):
        bp.grad[...] = grads[t] + bp.data
        tp.grad = torch.from_numpy(grads[t] + tp.detach().numpy())
        bopt.step()
        topt.step()
        bs.step()
        ts.step()
    assert _rel(bp.data, tp.detach().numpy()) <= 1e-12


@pytest.mark.parametrize("name,kwargs", CASES[::2], ids=[n for n, _ in CASES[::2]])
def test_state_dict_resume(name, kwargs):
    bopt, _, bs, _, _ = _pair(name, kwargs)
    for _ in range(13):
        bs.step()
    sd = {**bopt.state_arrays(), **bs.state_arrays()}  # the .npz form the trainer writes
    want = []
    for _ in range(20):
        bs.step()
        want.append(bs.get_last_lr())
    bopt2, _, bs2, _, _ = _pair(name, kwargs)
    bopt2.load_state_arrays({k: v for k, v in sd.items() if not k.startswith("scheduler.")})
    bs2.load_state_arrays({k: v for k, v in sd.items() if k.startswith("scheduler.")})
    got = []
    for _ in range(20):
        bs2.step()
        got.append(bs2.get_last_lr())
    assert got == want


def test_bad_arguments():
    opt = SGD([Parameter(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="step_size"):
        StepLR(opt, step_size=0)
    with pytest.raises(TypeError, match="T_max"):
        CosineAnnealingLR(opt, T_max=2.5)
    with pytest.raises(ValueError, match="gamma"):
        ExponentialLR(opt, gamma=-0.5)
    with pytest.raises(TypeError, match="optimizer"):
        StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="StepLR state"):
        StepLR(opt, step_size=2).load_state_dict(ExponentialLR(opt, gamma=0.5).state_arrays())
    with pytest.raises(ValueError, match=r"missing entries \['step_size'\]"):
        StepLR(opt, step_size=2).load_state_dict(ExponentialLR(opt, gamma=0.5).state_dict())
