"""The optimizer base: parameter groups, per-parameter state, state_dict — torch.optim's contract.

An optimizer holds ``param_groups``: a list of dicts, each with ``"params"``
(a list of :class:`bptt.nn.Parameter`) and that group's hyper-parameters, the
layout of ``torch.optim.Optimizer.param_groups`` (learning-rate schedulers edit
``group["lr"]`` in place). ``step()`` reads every ``p.grad`` and updates
``p.data`` **in place**, so the module sees the new values at once.

``state_dict()`` returns a flat ``{name: numpy array}`` mapping — hyper-parameters
as 0-d arrays, per-parameter buffers as arrays — so it can be written into an
``.npz`` beside the model (no pickling). Parameters are referred to by their
position in the flattened group order, like torch's state_dict.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from ..nn.module import Module, Parameter

Array = np.ndarray


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


class Optimizer:
    """Base class. Subclasses set ``defaults`` and implement :meth:`_update`.

    ``params`` is a Module, an iterable of Parameters, or an iterable of dicts
    ``{"params": [...], "lr": ..., ...}`` (param groups; keys left out take the
    constructor's values), exactly as torch.optim accepts.
    """

    #: hyper-parameters that are booleans (stored as bool arrays in state_dict)
    _bool_keys: tuple[str, ...] = ()

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
        unknown = [k for k in group if k != "params" and k not in self.defaults and k != "initial_lr"]
        if unknown:
            raise ValueError(f"param_group: unknown option(s) {unknown}; expected some of {sorted(self.defaults)}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in group["params"]]
        if len(set(ids)) != len(ids) or seen & set(ids):
            raise ValueError(f"{where}: a parameter appears more than once (in this or another group)")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)
        self._init_group(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate one group's hyper-parameters (subclasses extend)."""
        group["lr"] = check_hyper("lr", group["lr"])

    def _init_group(self, group: dict[str, Any]) -> None:
        """Create state eagerly where torch does (Adagrad); lazily otherwise."""

    def parameters(self) -> list[Parameter]:
        """Every Parameter of every param group, in group order."""
        return [p for g in self.param_groups for p in g["params"]]

    # -- the update ----------------------------------------------------------
    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero (in place; bptt keeps grads allocated)."""
        for p in self.parameters():
            p.grad.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter from its ``.grad``; returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                self._update(p, p.grad, group, self.state.setdefault(p, {}))
        return loss

    def _update(self, p: Parameter, grad: Array, group: dict[str, Any], state: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- state -------------------------------------------------------------
    def state_dict(self) -> dict[str, Array]:
        """Flat arrays: ``group{g}.{option}``, ``group{g}.params`` (indices) and ``state.{i}.{buffer}``."""
        out: dict[str, Array] = {"optimizer.type": np.array(type(self).__name__)}
        index = 0
        for g, group in enumerate(self.param_groups):
            n = len(group["params"])
            out[f"group{g}.params"] = np.arange(index, index + n, dtype=np.int64)
            for k, v in group.items():
                if k != "params":
                    out[f"group{g}.{k}"] = np.asarray(v, dtype=bool if k in self._bool_keys else np.float64)
            for p in group["params"]:
                for name, value in self.state.get(p, {}).items():
                    out[f"state.{index}.{name}"] = np.array(value, copy=True)
                index += 1
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore hyper-parameters and buffers from :meth:`state_dict` output (checked first, then written)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict: expected a mapping of name -> array, got {type(state_dict).__name__}")
        kind = str(np.asarray(state_dict.get("optimizer.type", "")))
        if kind != type(self).__name__:
            raise ValueError(f"state_dict: expected an {type(self).__name__} state, got {kind or 'no optimizer.type entry'!r}")
        staged_groups = []
        index = 0
        params = self.parameters()
        for g, group in enumerate(self.param_groups):
            n = len(group["params"])
            got = state_dict.get(f"group{g}.params")
            if got is None or np.asarray(got).shape != (n,):
                raise ValueError(f"state_dict: group {g} expected {n} parameters, got {None if got is None else np.asarray(got).shape}")
            values = {}
            for k in group:
                if k == "params":
                    continue
                key = f"group{g}.{k}"
                if key not in state_dict:
                    if k == "initial_lr":
                        continue
                    raise ValueError(f"state_dict: missing {key!r}")
                v = np.asarray(state_dict[key])
                values[k] = tuple(float(x) for x in v) if v.ndim == 1 else (bool(v) if k in self._bool_keys else float(v))
            if f"group{g}.initial_lr" in state_dict:
                values["initial_lr"] = float(np.asarray(state_dict[f"group{g}.initial_lr"]))
            staged_groups.append(values)
            index += n
        if f"group{len(self.param_groups)}.params" in state_dict:
            raise ValueError(f"state_dict: has more param groups than this optimizer ({len(self.param_groups)})")
        staged_state: dict[Parameter, dict[str, Any]] = {}
        prefix = "state."
        for key, value in state_dict.items():
            if not key.startswith(prefix):
                continue
            idx_s, _, name = key[len(prefix):].partition(".")
            if not idx_s.isdigit() or int(idx_s) >= len(params) or not name:
                raise ValueError(f"state_dict: unexpected key {key!r} (this optimizer has {len(params)} parameters)")
            p = params[int(idx_s)]
            arr = np.asarray(value)
            if arr.ndim == 0:
                staged_state.setdefault(p, {})[name] = arr.item()
            else:
                if arr.shape != p.data.shape:
                    raise ValueError(f"state_dict[{key!r}]: expected shape {p.data.shape}, got {arr.shape}")
                staged_state.setdefault(p, {})[name] = arr.astype(p.data.dtype, copy=True)
        for group, values in zip(self.param_groups, staged_groups):
            group.update(values)
        self.state = {p: staged_state.get(p, {}) for p in params if p in staged_state}
        for group in self.param_groups:
            self._init_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for g, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {g}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"


def lerp_(a: Array, b: Array, w: float) -> Array:
    """a ← a + w (b − a), evaluated the way torch's ``lerp_`` does (in place)."""
    if w < 0.5:
        a += w * (b - a)
    else:
        np.subtract(b, (b - a) * (1 - w), out=a)
    return a

