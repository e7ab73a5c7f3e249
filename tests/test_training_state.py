"""A whole training state (model + optimizer + scheduler) moves between torch and bptt mid-run.

50 steps in torch, move, 50 in bptt == 100 in torch (and the reverse), float64, for an
LSTM + Linear regression with each optimizer paired with a scheduler.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the reference for the training-state round trip")

import bptt.optim as bo  # noqa: E402
from bptt.interop.torch import optimizer_state_to_torch, training_state_from_torch, training_state_to_torch  # noqa: E402
from bptt.nn import LSTM, Linear, Module, MSELoss  # noqa: E402

T, B, D, H, O = 6, 4, 3, 5, 2
STEPS = 100
TOL = 1e-10


class BNet(Module):
    def __init__(self):
        super().__init__(np.float64)
        self.add_module("lstm", LSTM(D, H, dtype=np.float64, seed=0))
        self.add_module("head", Linear(H, O, dtype=np.float64, seed=1))

    def forward(self, x):
        return self.head(self.lstm(x)[0])

    def backward(self, dy):
        self.lstm.backward(self.head.backward(dy))


class TNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(D, H, dtype=torch.float64)
        self.head = torch.nn.Linear(H, O, dtype=torch.float64)

    def forward(self, x):
        return self.head(self.lstm(x)[0])


def _data():
    rng = np.random.default_rng(7)
    return [(rng.standard_normal((T, B, D)), rng.standard_normal((T, B, O))) for _ in range(STEPS)]


# (optimizer class name, kwargs, scheduler class name, kwargs, needs the loss as metric)
CASES = [
    ("Adam", {"lr": 0.01, "weight_decay": 0.01, "amsgrad": True}, "OneCycleLR", {"max_lr": 0.05, "total_steps": STEPS}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, "CosineAnnealingWarmRestarts", {"T_0": 7, "T_mult": 2}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5}, "ReduceLROnPlateau", {"patience": 2, "factor": 0.5}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.001}, "MultiStepLR", {"milestones": [20, 60, 60], "gamma": 0.5}),
    ("AdamW", {"lr": 0.01}, "SequentialLR", None),
]


def _build(side, opt_name, opt_kw, sched_name, sched_kw):
    model = BNet() if side == "bptt" else TNet()
    optim = bo if side == "bptt" else torch.optim
    lrs = bo if side == "bptt" else torch.optim.lr_scheduler
    opt = getattr(optim, opt_name)(model.parameters(), **opt_kw)
    if sched_name == "SequentialLR":
        parts = [lrs.LinearLR(opt, start_factor=0.2, total_iters=10), lrs.CosineAnnealingLR(opt, T_max=30)]
        sched = lrs.SequentialLR(opt, parts, milestones=[10])
    else:
        sched = getattr(lrs, sched_name)(opt, **sched_kw)
    return model, opt, sched


def _run(side, model, opt, sched, data, t0, t1):
    loss_fn = MSELoss() if side == "bptt" else torch.nn.MSELoss()
    for t in range(t0, t1):
        x, y = data[t]
        if side == "bptt":
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            model.backward(loss_fn.backward())
        else:
            opt.zero_grad()
            loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))
            loss.backward()
        opt.step()
        if isinstance(sched, (bo.ReduceLROnPlateau, torch.optim.lr_scheduler.ReduceLROnPlateau)):
            sched.step(float(loss.detach()) if hasattr(loss, "detach") else float(loss))
        else:
            sched.step()


def _weights(model):
    if isinstance(model, Module):
        return {k: v.copy() for k, v in model.state_dict().items()}
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _max_rel(a, b):
    return max(float(np.max(np.abs(a[k] - b[k])) / np.max(np.abs(b[k]))) for k in b)


def _fresh_torch(case):
    torch.manual_seed(0)
    return _build("torch", *case)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}+{c[2]}" for c in CASES])
def test_torch_then_bptt_equals_torch(case):
    data = _data()
    ref = _fresh_torch(case)
    _run("torch", *ref, data, 0, STEPS)
    tm, topt, tsched = _fresh_torch(case)
    _run("torch", tm, topt, tsched, data, 0, STEPS // 2)
    bm, bopt, bsched = _build("bptt", *case)
    training_state_from_torch(tm, topt, tsched, model=bm, optimizer=bopt, scheduler=bsched)
    _run("bptt", bm, bopt, bsched, data, STEPS // 2, STEPS)
    assert _max_rel(_weights(bm), _weights(ref[0])) <= TOL
    assert bsched.get_last_lr() == pytest.approx(ref[2].get_last_lr(), rel=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}+{c[2]}" for c in CASES])
def test_bptt_then_torch_equals_torch(case):
    data = _data()
    ref = _fresh_torch(case)
    _run("torch", *ref, data, 0, STEPS)
    start, _, _ = _fresh_torch(case)
    bm, bopt, bsched = _build("bptt", *case)
    bm.load_state_dict(start.state_dict())  # the same initial weights as the reference
    _run("bptt", bm, bopt, bsched, data, 0, STEPS // 2)
    tm, topt, tsched = _build("torch", *case)
    training_state_to_torch(bm, bopt, bsched, tmodel=tm, toptimizer=topt, tscheduler=tsched)
    _run("torch", tm, topt, tsched, data, STEPS // 2, STEPS)
    assert _max_rel(_weights(tm), _weights(ref[0])) <= TOL


def test_move_checks_pairing_and_changes_nothing_on_error():
    case = CASES[0]
    tm, topt, tsched = _fresh_torch(case)
    bm, bopt, bsched = _build("bptt", *case)
    with pytest.raises(ValueError, match="scheduler: a OneCycleLR cannot take a torch StepLR"):
        training_state_from_torch(tm, topt, torch.optim.lr_scheduler.StepLR(topt, 3), model=bm, optimizer=bopt, scheduler=bsched)
    with pytest.raises(ValueError, match="optimizer: a Adam cannot take a torch SGD"):
        training_state_from_torch(tm, torch.optim.SGD(tm.parameters()), None, model=bm, optimizer=bopt)
    before = _weights(bm), bopt.state_dict()
    topt.param_groups[0]["lr"] = float("nan")  # a corrupt torch state: nothing of it may land
    with pytest.raises(ValueError, match=r"param_groups'\]\[0\]: lr: expected a finite number"):
        training_state_from_torch(tm, topt, tsched, model=bm, optimizer=bopt, scheduler=bsched)
    assert _max_rel(_weights(bm), before[0]) == 0 and bopt.state_dict()["param_groups"] == before[1]["param_groups"]


def test_eps_inside_sqrt_cannot_go_to_torch():
    p = BNet().parameters()
    with pytest.raises(ValueError, match="eps_inside_sqrt"):
        optimizer_state_to_torch(bo.Adagrad(p, eps_inside_sqrt=True).state_dict())
