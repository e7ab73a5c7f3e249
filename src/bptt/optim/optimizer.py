"""The optimizer base: parameter groups, per-parameter state, state_dict — torch.optim's contract.

An optimizer holds ``param_groups``: a list of dicts, each with ``"params"``
(a list of :class:`bptt.nn.Parameter`) and that group's hyper-parameters, the
layout of ``torch.optim.Optimizer.param_groups`` (learning-rate schedulers edit
``group["lr"]`` in place). ``step()`` reads every ``p.grad`` and updates
``p.data`` **in place**, so the module sees the new values at once; a parameter
whose grad is None (``zero_grad(set_to_none=True)``, no backward since) is
skipped, as torch skips it.

``state_dict()`` has torch's structure::

    {"state": {0: {"step": 3.0, "exp_avg": array, ...}, ...},     # by parameter index
     "param_groups": [{"lr": 1e-3, ..., "params": [0, 1, ...]}, ...]}

so ``opt.load_state_dict(torch_opt.state_dict())`` works (tensors are converted)
and :func:`bptt.interop.torch.training_state_to_torch` goes the other way.
``state_arrays()`` flattens it to ``{name: numpy array}`` for an ``.npz``
(``load_state_dict`` accepts that flat form too, so older checkpoints load).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from .._checks import to_numpy
from ..nn.module import Module, Parameter

Array = np.ndarray

#: keys torch's schedulers add to a param group (LRScheduler: initial_lr; OneCycleLR: the rest)
SCHEDULER_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")

#: torch keyword arguments about *how* a step runs on a device; on a CPU NumPy library only
#: these values mean "the same numbers" (anything else raises a ValueError naming the flag)
TORCH_FLAGS: dict[str, tuple[Any, ...]] = {
    "foreach": (None, False, True),  # one loop or grouped kernels: the same update
    "fused": (None, False),
    "capturable": (False,),
    "differentiable": (False,),
}


def check_hyper(name: str, value: Any, *, low: float = 0.0, high: float | None = None, high_open: bool = True) -> float:
    """A real hyper-parameter in [low, high) (or [low, high]); one clear error otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {v}")
    if v < low or (high is not None and (v >= high if high_open else v > high)):
        rng = f"[{low}, {high})" if high is not None and high_open else (f"[{low}, {high}]" if high is not None else f">= {low}")
        raise ValueError(f"{name}: expected a value in {rng}, got {v}")
    return v


def _as_param_list(params: Any, where: str) -> list[Parameter]:
    if isinstance(params, Module):
        params = params.parameters()
    elif isinstance(params, Parameter):
        params = [params]
    try:
        plist = list(params)
    except TypeError:
        raise TypeError(f"{where}: expected a Module, or an iterable of Parameter / of param-group dicts, got {type(params).__name__}") from None
    for i, p in enumerate(plist):
        if not isinstance(p, Parameter):
            raise TypeError(f"{where}[{i}]: expected a bptt.nn.Parameter (from module.parameters()), got {type(p).__name__}")
    return plist


def _plain(value: Any) -> Any:
    """A hyper-parameter as a Python value: tensors/0-d arrays -> float/bool, sequences -> tuples."""
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if hasattr(value, "detach") or isinstance(value, (np.ndarray, np.generic)):
        arr = to_numpy(value)
        if arr.ndim == 1:
            return tuple(_plain(v) for v in arr)
        if arr.ndim == 0:
            return bool(arr) if arr.dtype == bool else (float(arr) if arr.dtype.kind in "fiu" else arr.item())
    return value


class Optimizer:
    """Base class. Subclasses set ``defaults`` and implement :meth:`_update`.

    ``params`` is a Module, an iterable of Parameters, or an iterable of dicts
    ``{"params": [...], "lr": ..., ...}`` (param groups; keys left out take the
    constructor's values), exactly as torch.optim accepts.
    """

    #: hyper-parameters that are booleans
    _bool_keys: tuple[str, ...] = ()
    #: per-parameter buffers, torch's names ("step" is a float, the rest have the parameter's shape)
    _buffers: tuple[str, ...] = ()

    def __init__(self, params: Any, defaults: Mapping[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Parameter, dict[str, Any]] = {}
        if isinstance(params, Module) or isinstance(params, Parameter):
            groups: list[Any] = [{"params": _as_param_list(params, "params")}]
        else:
            try:
                items = list(params)
            except TypeError:
                raise TypeError(f"params: expected a Module, or an iterable of Parameter / of param-group dicts, got {type(params).__name__}") from None
            if not items:
                raise ValueError("params: expected at least one parameter, got an empty list")
            groups = items if isinstance(items[0], dict) else [{"params": items}]
        for group in groups:
            self.add_param_group(group)

    # -- groups ------------------------------------------------------------
    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Add a group (a dict with ``"params"``); missing hyper-parameters take the defaults."""
        if not isinstance(param_group, Mapping) or "params" not in param_group:
            raise TypeError(f"param_group: expected a dict with a 'params' entry, got {type(param_group).__name__}")
        where = f"param_groups[{len(self.param_groups)}]['params']"
        group = dict(param_group)
        group["params"] = _as_param_list(group["params"], where)
        if not group["params"]:
            raise ValueError(f"{where}: expected at least one parameter, got none")
        self._check_known(group, "param_group")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in group["params"]]
        if len(set(ids)) != len(ids) or seen & set(ids):
            raise ValueError(f"{where}: a parameter appears more than once (in this or another group)")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)
        self._init_group(group)

    def _check_known(self, group: Mapping[str, Any], where: str) -> None:
        unknown = [k for k in group if k != "params" and k not in self.defaults and k not in SCHEDULER_KEYS]
        if unknown:
            raise ValueError(f"{where}: unknown option(s) {unknown}; expected some of {sorted(self.defaults)}")

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate (and normalise) one group's hyper-parameters in place (subclasses extend)."""
        group["lr"] = check_hyper("lr", group["lr"])
        for k in SCHEDULER_KEYS:
            if k in group:
                group[k] = check_hyper(k, group[k])
        for k in self._bool_keys:
            if not isinstance(group[k], (bool, np.bool_)):
                raise TypeError(f"{k}: expected True or False, got {type(group[k]).__name__} {group[k]!r}")
            group[k] = bool(group[k])
        for k, allowed in TORCH_FLAGS.items():
            if k not in group:
                continue
            v = group[k] = bool(group[k]) if isinstance(group[k], np.bool_) else group[k]
            if not (v is None or isinstance(v, bool)) or v not in allowed:
                raise ValueError(
                    f"{k}: expected one of {list(allowed)} (bptt runs NumPy on the CPU: there is no fused, "
                    f"capturable or autograd-differentiable step), got {group[k]!r}"
                )

    def _init_group(self, group: dict[str, Any]) -> None:
        """Create state eagerly where torch does (Adagrad); lazily otherwise."""

    def _required_buffers(self, group: Mapping[str, Any]) -> set[str]:
        """The buffers a non-empty state must hold under ``group``'s options (subclasses)."""
        return set()

    def parameters(self) -> list[Parameter]:
        """Every Parameter of every param group, in group order."""
        return [p for g in self.param_groups for p in g["params"]]

    # -- the update ----------------------------------------------------------
    def zero_grad(self, set_to_none: bool = False) -> None:
        """Every gradient to 0 in place, or to None with ``set_to_none=True`` (then ``step`` skips it until a backward).

        torch's default is ``set_to_none=True``; bptt keeps grads allocated by default
        because code written for it adds into ``p.grad`` directly.
        """
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter from its ``.grad`` (None: skipped); returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad, group, self.state.setdefault(p, {}))
        return loss

    def _update(self, p: Parameter, grad: Array, group: dict[str, Any], state: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- state -------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """torch's layout: ``{"state": {index: {buffer: value}}, "param_groups": [{..., "params": [index, ...]}]}`` (copies)."""
        state: dict[int, dict[str, Any]] = {}
        groups = []
        index = 0
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                if self.state.get(p):
                    state[index] = {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v) for k, v in self.state[p].items()}
                ids.append(index)
                index += 1
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore from :meth:`state_dict` output, a torch optimizer's ``state_dict()`` or :meth:`state_arrays`.

        Everything is checked first (group count and sizes, every hyper-parameter as the
        constructor checks it, every buffer's name, shape and finiteness); one ValueError
        or TypeError names the offending key, and nothing changes unless all is valid.
        """
        sd = self._structured(state_dict)
        saved_groups, saved_state = sd["param_groups"], sd["state"]
        if not isinstance(saved_groups, (list, tuple)) or len(saved_groups) != len(self.param_groups):
            got = len(saved_groups) if isinstance(saved_groups, (list, tuple)) else type(saved_groups).__name__
            raise ValueError(f"state_dict['param_groups']: expected {len(self.param_groups)} group(s), got {got}")
        owner: dict[int, tuple[Parameter, dict[str, Any]]] = {}
        staged_groups = []
        for g, (own, saved) in enumerate(zip(self.param_groups, saved_groups)):
            staged = self._stage_group(g, own, saved)
            for sid, p in zip(saved["params"], own["params"]):
                i = _index(sid, f"state_dict['param_groups'][{g}]['params']")
                if i in owner:
                    raise ValueError(f"state_dict['param_groups'][{g}]['params']: index {i} appears more than once")
                owner[i] = (p, staged)
            staged_groups.append(staged)
        if not isinstance(saved_state, Mapping):
            raise TypeError(f"state_dict['state']: expected a mapping of parameter index -> buffers, got {type(saved_state).__name__}")
        staged_state: dict[Parameter, dict[str, Any]] = {}
        for key, buffers in saved_state.items():
            where = f"state_dict['state'][{key!r}]"
            i = _index(key, where)
            if i not in owner:
                raise ValueError(f"{where}: no parameter has index {i} in 'param_groups' (indices {sorted(owner)})")
            p, group = owner[i]
            staged_state[p] = self._stage_buffers(where, p, buffers, group)
        for own, staged in zip(self.param_groups, staged_groups):
            own.clear()
            own.update(staged)
        self.state = staged_state
        for group in self.param_groups:
            self._init_group(group)

    def _stage_group(self, g: int, own: dict[str, Any], saved: Any) -> dict[str, Any]:
        where = f"state_dict['param_groups'][{g}]"
        if not isinstance(saved, Mapping) or "params" not in saved:
            raise TypeError(f"{where}: expected a dict with a 'params' entry, got {type(saved).__name__}")
        n, got = len(own["params"]), saved["params"]
        if not isinstance(got, (list, tuple)) or len(got) != n:
            shown = len(got) if isinstance(got, (list, tuple)) else type(got).__name__
            raise ValueError(f"{where}['params']: group {g} expected {n} parameters, got {shown}")
        self._check_known(saved, where)
        staged = {**own, **{k: _plain(v) for k, v in saved.items() if k != "params"}}
        staged["params"] = own["params"]
        try:
            self._check_group(staged)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{where}: {exc}") from None
        return staged

    def _stage_buffers(self, where: str, p: Parameter, buffers: Any, group: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(buffers, Mapping):
            raise TypeError(f"{where}: expected a mapping of buffer name -> value, got {type(buffers).__name__}")
        out: dict[str, Any] = {}
        for name, value in buffers.items():
            key = f"{where}[{name!r}]"
            if name not in self._buffers:
                raise ValueError(f"{key}: unknown buffer for {type(self).__name__}; expected some of {list(self._buffers)}")
            if value is None and name == "momentum_buffer":  # torch's SGD before its first step
                continue
            arr = to_numpy(value)
            if arr.dtype.kind not in "fiu":
                raise TypeError(f"{key}: expected real numbers, got dtype {arr.dtype}")
            if not np.isfinite(arr).all():
                raise ValueError(f"{key}: contains NaN/Inf")
            if name == "step":
                if arr.shape not in ((), (1,)) or float(arr.reshape(())) < 0:
                    raise ValueError(f"{key}: expected one step count >= 0, got {arr.tolist()}")
                out[name] = float(arr.reshape(()))
            elif arr.shape != p.data.shape:
                raise ValueError(f"{key}: expected shape {p.data.shape}, got {arr.shape}")
            else:
                out[name] = arr.astype(p.data.dtype, copy=True)
        missing = self._required_buffers(group) - set(out)
        if out and missing:
            raise ValueError(f"{where}: missing buffer(s) {sorted(missing)} for these options")
        return out

    def _structured(self, state_dict: Any) -> Mapping[str, Any]:
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict: expected a mapping, got {type(state_dict).__name__}")
        if "optimizer.type" in state_dict:
            kind = str(np.asarray(state_dict["optimizer.type"]))
            if kind != type(self).__name__:
                raise ValueError(f"state_dict: expected an {type(self).__name__} state, got {kind!r}")
            return _unflatten(state_dict)
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(f"state_dict: missing {key!r} (expected optimizer.state_dict() or torch's optimizer state_dict)")
        return state_dict

    def state_arrays(self) -> dict[str, Array]:
        """:meth:`state_dict` as flat arrays for an ``.npz``: ``optimizer.type``, ``group{g}.{option}``, ``state.{i}.{buffer}``.

        Options that are None (torch's ``foreach``/``fused``) are left out; loading keeps the current ones.
        """
        sd = self.state_dict()
        out: dict[str, Array] = {"optimizer.type": np.array(type(self).__name__)}
        for g, group in enumerate(sd["param_groups"]):
            for k, v in group.items():
                if k == "params":
                    out[f"group{g}.params"] = np.asarray(v, dtype=np.int64)
                elif v is not None:
                    out[f"group{g}.{k}"] = np.asarray(v, dtype=bool if isinstance(v, bool) else np.float64)
        for i, buffers in sd["state"].items():
            for name, value in buffers.items():
                out[f"state.{i}.{name}"] = np.array(value, copy=True)
        return out

    def load_state_arrays(self, arrays: Mapping[str, Any]) -> None:
        """Inverse of :meth:`state_arrays` (checked like :meth:`load_state_dict`)."""
        self.load_state_dict(arrays)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for g, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {g}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"


def _index(value: Any, where: str) -> int:
    """A parameter index (torch: int; a flat npz key: its digits)."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0:
        return int(value)
    raise TypeError(f"{where}: expected a parameter index (an int >= 0), got {value!r}")


def _unflatten(arrays: Mapping[str, Any]) -> dict[str, Any]:
    """The flat ``state_arrays`` form back to torch's structure (0-d -> scalars, 1-d options -> tuples)."""
    groups: dict[int, dict[str, Any]] = {}
    state: dict[int, dict[str, Any]] = {}
    for key, value in arrays.items():
        head, _, rest = key.partition(".")
        if head.startswith("group") and head[5:].isdigit():
            v = np.asarray(value)
            g = groups.setdefault(int(head[5:]), {})
            g[rest] = [int(i) for i in v] if rest == "params" else _plain(v)
        elif head == "state":
            idx, _, name = rest.partition(".")
            if not idx.isdigit() or not name:
                raise ValueError(f"state_dict: unexpected key {key!r}")
            v = np.asarray(value)
            state.setdefault(int(idx), {})[name] = float(v) if v.ndim == 0 else v
        elif key != "optimizer.type":
            raise ValueError(f"state_dict: unexpected key {key!r}")
    if sorted(groups) != list(range(len(groups))) or any("params" not in g for g in groups.values()):
        raise ValueError(f"state_dict: param groups {sorted(groups)} are not 0..n-1, each with a 'group<g>.params' entry")
    return {"state": state, "param_groups": [groups[g] for g in range(len(groups))]}

def lerp_(a: Array, b: Array, w: float) -> Array:
    """a ← a + w (b − a), evaluated the way torch's ``lerp_`` does (in place)."""
    if w < 0.5:
        a += w * (b - a)
    else:
        np.subtract(b, (b - a) * (1 - w), out=a)
    return a

