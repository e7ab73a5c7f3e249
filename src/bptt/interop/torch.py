"""Move models between bptt and PyTorch, and compare them output by output, gradient by gradient.

Needs ``torch`` (``pip install bptt[torch]``); importing this module without it
raises an ``ImportError`` that says so. Nothing else in bptt imports torch.

    tm = to_torch(rnn)              # an equivalent torch.nn.RNN with the same weights
    m = from_torch(tm)              # and back
    report = compare(rnn, (x, h0))  # max |bptt − torch| for outputs and every gradient
    training_state_from_torch(tmodel, topt, tsched, model=m, optimizer=opt, scheduler=sched)  # and _to_torch
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

try:
    import torch
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError("bptt.interop.torch needs PyTorch: pip install 'bptt[torch]'") from exc

from ..gradcheck import GradcheckResult, _flatten, _unflatten, compare_arrays
from ..nn import activation as act_mod
from ..nn.container import Sequential
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.cell import CellBase, RNNCell
from ..nn.recurrent import RNNBase

_TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
_ACT_TO_TORCH = {
    act_mod.Tanh: lambda m: torch.nn.Tanh(),
    act_mod.Sigmoid: lambda m: torch.nn.Sigmoid(),
    act_mod.ReLU: lambda m: torch.nn.ReLU(),
    act_mod.Identity: lambda m: torch.nn.Identity(),
    act_mod.LeakyReLU: lambda m: torch.nn.LeakyReLU(m.negative_slope),
}


def _recurrent_kwargs(m: RNNBase) -> dict:
    kw = dict(
        input_size=m.input_size, hidden_size=m.hidden_size, num_layers=m.num_layers, bias=m.bias,
        batch_first=m.batch_first, dropout=m.dropout, bidirectional=m.bidirectional,
    )
    name = type(m).__name__
    if name == "RNN":
        if m.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"module: torch.nn.RNN has no nonlinearity={m.nonlinearity!r} (only tanh/relu)")
        kw["nonlinearity"] = m.nonlinearity
    if name == "GRU" and not getattr(m, "reset_after", True):
        raise ValueError("module: torch.nn.GRU has no reset_after=False form")
    if getattr(m, "proj_size", 0):
        kw["proj_size"] = m.proj_size
    if getattr(m, "learn_initial_state", False):
        raise ValueError(f"module: torch.nn.{name} has no learned initial state (built with learn_initial_state=True)")
    return kw


def to_torch(module: Module) -> "torch.nn.Module":
    """Build the equivalent torch module (same class, options, weights and dtype)."""
    dt = _TORCH_DTYPE[np.dtype(module.dtype)]
    if isinstance(module, RNNBase):
        cls = getattr(torch.nn, type(module).__name__)
        tm = cls(**_recurrent_kwargs(module), dtype=dt)
    elif isinstance(module, CellBase):
        if not module.kind.torch_equivalent:
            raise ValueError(f"module: torch.nn has no {module.kind.description}")
        kw = {"nonlinearity": module.nonlinearity} if isinstance(module, RNNCell) else {}
        tm = getattr(torch.nn, type(module).__name__)(module.input_size, module.hidden_size, bias=module.bias,
                                                      dtype=dt, **kw)
    elif isinstance(module, Linear):
        tm = torch.nn.Linear(module.in_features, module.out_features, bias="bias" in module._params, dtype=dt)
    elif isinstance(module, Sequential):
        tm = torch.nn.Sequential(*[to_torch(m) for m in module])
    elif type(module) in _ACT_TO_TORCH:
        return _ACT_TO_TORCH[type(module)](module)
    else:
        raise TypeError(f"module: no torch equivalent known for {type(module).__name__}")
    tm.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in module.state_dict().items()})
    tm.train(module.training)
    return tm


def from_torch(tmodule: "torch.nn.Module", dtype: Any = None) -> Module:
    """Build the bptt module equivalent to a torch one, copying its weights."""
    from .. import nn as bnn

    def np_dtype():
        if dtype is not None:
            return dtype
        for p in tmodule.parameters():
            return np.float64 if p.dtype == torch.float64 else np.float32
        return np.float32

    if isinstance(tmodule, (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU)):
        name = type(tmodule).__name__
        kw = {"proj_size": tmodule.proj_size} if getattr(tmodule, "proj_size", 0) else {}
        kw.update(
            input_size=tmodule.input_size, hidden_size=tmodule.hidden_size, num_layers=tmodule.num_layers,
            bias=tmodule.bias, batch_first=tmodule.batch_first, dropout=float(tmodule.dropout),
            bidirectional=tmodule.bidirectional, dtype=np_dtype(),
        )
        if name == "RNN":
            kw["nonlinearity"] = tmodule.nonlinearity
        m = getattr(bnn, name)(**kw)
    elif isinstance(tmodule, (torch.nn.RNNCell, torch.nn.LSTMCell, torch.nn.GRUCell)):
        kw = {"nonlinearity": tmodule.nonlinearity} if isinstance(tmodule, torch.nn.RNNCell) else {}
        m = getattr(bnn, type(tmodule).__name__)(tmodule.input_size, tmodule.hidden_size, bias=tmodule.bias,
                                                 dtype=np_dtype(), **kw)
    elif isinstance(tmodule, torch.nn.Linear):
        m = bnn.Linear(tmodule.in_features, tmodule.out_features, bias=tmodule.bias is not None, dtype=np_dtype())
    elif isinstance(tmodule, torch.nn.Sequential):
        return bnn.Sequential(*[from_torch(t, dtype=np_dtype()) for t in tmodule])
    else:
        table = {torch.nn.Tanh: bnn.Tanh, torch.nn.Sigmoid: bnn.Sigmoid, torch.nn.ReLU: bnn.ReLU, torch.nn.Identity: bnn.Identity}
        if type(tmodule) in table:
            return table[type(tmodule)](dtype=np_dtype())
        if isinstance(tmodule, torch.nn.LeakyReLU):
            return bnn.LeakyReLU(tmodule.negative_slope, dtype=np_dtype())
        raise TypeError(f"tmodule: no bptt equivalent known for {type(tmodule).__name__}")
    m.load_state_dict(tmodule.state_dict())
    m.train(tmodule.training)
    return m


def _to_tensor(a: Any, grad: bool) -> Any:
    if a is None or not isinstance(a, np.ndarray):
        return a
    t = torch.from_numpy(a.copy())
    if grad and a.dtype.kind == "f":
        t.requires_grad_(True)
    return t


def torch_forward_backward(tmodule, inputs: Sequence[Any], weights: Sequence[np.ndarray], lengths: Any = None):
    """Run torch forward + backward of L = Σ ⟨w_k, output_k⟩; return (outputs, input grads, param grads).

    With ``lengths``, the input is packed with ``pack_padded_sequence(...,
    enforce_sorted=False)`` and the output unpacked to the full length T.
    """
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    tin = [_to_tensor(a, True) for a in _flatten(tuple(inputs))]
    structured = _unflatten(tuple(inputs), tin)
    tmodule.zero_grad()
    if lengths is not None:
        x = structured[0]
        bf = tmodule.batch_first
        packed = pack_padded_sequence(x, torch.as_tensor(np.asarray(lengths)), batch_first=bf, enforce_sorted=False)
        po, state = tmodule(packed, *structured[1:])
        T = x.shape[1] if bf else x.shape[0]
        out, _ = pad_packed_sequence(po, batch_first=bf, total_length=T)
        result = (out, state)
    else:
        result = tmodule(*structured)
    flat_out = [o for o in _flatten(result) if o is not None]
    loss = sum((o * torch.from_numpy(w)).sum() for o, w in zip(flat_out, weights))
    loss.backward()
    outs = [o.detach().numpy() for o in flat_out]
    in_grads = [None if not isinstance(t, torch.Tensor) or t.grad is None else t.grad.numpy() for t in tin]
    p_grads = {k: (np.zeros(tuple(p.shape)) if p.grad is None else p.grad.numpy()) for k, p in tmodule.named_parameters()}
    return outs, in_grads, p_grads


def compare(module: Module, inputs: Sequence[Any], *, lengths: Any = None, seed: int = 0, tmodule: Any = None) -> GradcheckResult:
    """Max |bptt − torch| for every output, every input gradient and every parameter gradient.

    Both sides get the same weights and the same random upstream gradients
    (L = Σ ⟨w_k, output_k⟩). The module is put in eval mode if it has dropout
    (masks cannot be shared with torch).
    """
    if tmodule is None:
        tmodule = to_torch(module)
    inputs = tuple(inputs)
    kwargs = {} if lengths is None else {"lengths": lengths}
    out = module(*inputs, **kwargs)
    flat_out = [o for o in _flatten(out) if o is not None]
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(np.shape(o)).astype(o.dtype) for o in flat_out]
    module.zero_grad()
    upstream = _unflatten(out, weights)
    grads_in = module.backward(*upstream) if isinstance(out, tuple) else module.backward(upstream)
    t_outs, t_in, t_params = torch_forward_backward(tmodule, inputs, weights, lengths)
    res = GradcheckResult()
    for i, (a, b) in enumerate(zip(flat_out, t_outs)):
        res.rows.append(compare_arrays(f"output[{i}]", a, b))
    for i, (a, g, tg) in enumerate(zip(_flatten(inputs), _flatten(grads_in), t_in)):
        if isinstance(a, np.ndarray) and a.dtype.kind == "f" and g is not None and tg is not None:
            res.rows.append(compare_arrays(f"grad input[{i}]", g, tg))
    for name, g in module.grads.items():
        res.rows.append(compare_arrays(f"grad {name}", g, t_params[name]))
    return res


# -- training state: model + optimizer + scheduler -------------------------------------------------

def optimizer_state_to_torch(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """A bptt ``optimizer.state_dict()`` as torch's optimizer expects it (buffers as tensors, ``step`` a 0-d tensor).

    ``step`` gets torch's scalar dtype (float32, float64 under a float64 default dtype).
    bptt-only options torch cannot run (Adagrad's ``eps_inside_sqrt=True``) raise ValueError.
    """
    scalar = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    groups = []
    for g, group in enumerate(state_dict["param_groups"]):
        if group.get("eps_inside_sqrt"):
            raise ValueError(f"state_dict['param_groups'][{g}]['eps_inside_sqrt']: torch's Adagrad has no such option (eps is outside the square root)")
        groups.append({k: (list(v) if k == "params" else v) for k, v in group.items() if k != "eps_inside_sqrt"})
    def tensor(name: str, v: Any) -> Any:
        return torch.tensor(float(v), dtype=scalar) if name == "step" else torch.from_numpy(np.array(v, copy=True))

    state = {i: {k: tensor(k, v) for k, v in buffers.items()} for i, buffers in state_dict["state"].items()}
    return {"state": state, "param_groups": groups}


def _param_names(named: Any, groups: Sequence[Mapping[str, Any]], where: str) -> list[list[str]]:
    names = {id(p): n for n, p in named}
    out = []
    for g, group in enumerate(groups):
        missing = [i for i, p in enumerate(group["params"]) if id(p) not in names]
        if missing:
            raise ValueError(f"{where}.param_groups[{g}]['params'][{missing[0]}]: not a parameter of the model")
        out.append([names[id(p)] for p in group["params"]])
    return out


def _check_pairing(model: Module, optimizer: Any, scheduler: Any, tmodel: Any, toptimizer: Any, tscheduler: Any) -> None:
    ours = _param_names(model.named_parameters(), optimizer.param_groups, "optimizer")
    theirs = _param_names(tmodel.named_parameters(), toptimizer.param_groups, "toptimizer")
    if ours != theirs:
        raise ValueError(f"optimizer: its param groups hold {ours}, torch's hold {theirs}; build both from the same named parameters in the same order")
    if type(optimizer).__name__ != type(toptimizer).__name__:
        raise ValueError(f"optimizer: a {type(optimizer).__name__} cannot take a torch {type(toptimizer).__name__} state")
    if (scheduler is None) != (tscheduler is None):
        raise ValueError("scheduler: pass a scheduler on both sides or on neither")
    if scheduler is not None and type(scheduler).__name__ != type(tscheduler).__name__:
        raise ValueError(f"scheduler: a {type(scheduler).__name__} cannot take a torch {type(tscheduler).__name__} state")


def training_state_from_torch(tmodel: Any, toptimizer: Any, tscheduler: Any = None, *,
                              model: Module, optimizer: Any, scheduler: Any = None) -> None:
    """Copy a torch training state (weights, optimizer buffers and hyper-parameters, scheduler) into bptt objects.

    Both sides must have the same parameter names, the optimizer of the same class with the
    same groups (by name, in order) and the scheduler of the same class; training then goes
    on in bptt exactly as it would have in torch. All or nothing: on any error the bptt
    objects are left as they were.
    """
    _check_pairing(model, optimizer, scheduler, tmodel, toptimizer, tscheduler)
    saved = (model.state_dict(), optimizer.state_dict(), None if scheduler is None else scheduler.state_dict())
    try:
        model.load_state_dict(tmodel.state_dict())
        optimizer.load_state_dict(toptimizer.state_dict())
        if scheduler is not None:
            scheduler.load_state_dict(tscheduler.state_dict())
    except Exception:
        model.load_state_dict(saved[0])
        optimizer.load_state_dict(saved[1])
        if scheduler is not None:
            scheduler.load_state_dict(saved[2])
        raise


def training_state_to_torch(model: Module, optimizer: Any, scheduler: Any = None, *,
                            tmodel: Any, toptimizer: Any, tscheduler: Any = None) -> None:
    """Copy a bptt training state into torch objects built the same way (the inverse of :func:`training_state_from_torch`)."""
    _check_pairing(model, optimizer, scheduler, tmodel, toptimizer, tscheduler)
    opt_sd = optimizer_state_to_torch(optimizer.state_dict())
    sched_sd = None if scheduler is None else scheduler.state_dict()
    with torch.no_grad():
        tmodel.load_state_dict({k: torch.from_numpy(np.array(v, copy=True)) for k, v in model.state_dict().items()})
    toptimizer.load_state_dict(opt_sd)
    if tscheduler is not None:
        tscheduler.load_state_dict(sched_sd)
