"""Learning-rate schedules with torch.optim.lr_scheduler's formulas, call order and state.

Create the scheduler after the optimizer and call ``scheduler.step()`` after
``optimizer.step()`` (once per epoch, usually; OneCycleLR once per batch;
``ReduceLROnPlateau.step(metric)``). Like torch, ``step()`` uses the *recursive*
(chainable) form that multiplies the current ``group["lr"]``; ``step(epoch)``
uses the closed form where torch has one. Both give torch's values to rounding.

``state_dict()`` holds torch's attribute names (``last_epoch``, ``_step_count``,
``base_lrs``, ``_last_lr``, the options…), so ``load_state_dict`` also takes a
torch scheduler's ``state_dict()``; ``state_arrays()`` is the ``.npz`` form.
Loading checks every entry first and changes nothing on error.
"""

from __future__ import annotations

import copy
import json
import math
from bisect import bisect_right
from collections import Counter
from typing import Any, Callable, Mapping

import numpy as np

from .._checks import check_positive_int, to_numpy
from .optimizer import Optimizer, check_hyper

Array = np.ndarray

#: torch-internal entries of a scheduler state_dict that carry no schedule state
_IGNORED = ("_get_lr_called_within_step", "verbose")
#: entries holding one value per param group
_PER_GROUP = ("base_lrs", "_last_lr", "min_lrs")
#: entries allowed to be ±inf (ReduceLROnPlateau's best-so-far before any metric)
_INFINITE_OK = ("best", "mode_worse")
_INFINITE_OK_SUFFIX = tuple(f"[{k!r}]" for k in _INFINITE_OK)


def _check_optimizer(optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected a bptt.optim Optimizer, got {type(optimizer).__name__}")
    return optimizer


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return int(value)


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[float]:
    """torch's _format_param: one value per param group (a scalar is repeated)."""
    n = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise ValueError(f"{name}: expected {n} values (one per param group), got {len(values)}")
    return [check_hyper(f"{name}[{i}]" if isinstance(value, (list, tuple)) else name, v) for i, v in enumerate(values)]


def _like(where: str, current: Any, value: Any) -> Any:
    """``value`` checked against the kind of ``current`` (the attribute it replaces)."""
    if hasattr(value, "detach") or isinstance(value, (np.ndarray, np.generic)):
        arr = to_numpy(value)
        value = arr.tolist() if arr.ndim else arr.item()
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise TypeError(f"{where}: expected True or False, got {type(value).__name__} {value!r}")
        return value
    if isinstance(current, Counter):
        items = value.items() if isinstance(value, Mapping) else Counter(value).items() if isinstance(value, list) else None
        if items is None:
            raise TypeError(f"{where}: expected milestones (a list or a count mapping), got {type(value).__name__}")
        # JSON turns the int keys into strings
        keys = [int(k) if isinstance(k, str) and k.isdigit() else k for k, _ in items]
        return Counter({_check_int(where, k, 0): _check_int(where, c, 1) for k, (_, c) in zip(keys, items)})
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{where}: expected a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value) and not (where.endswith(_INFINITE_OK_SUFFIX) and not math.isnan(value)):
            raise ValueError(f"{where}: expected a finite number, got {value}")
        if isinstance(current, float):
            return float(value)
        if where.endswith("['T_cur']"):  # an int until step(epoch) gets a fractional epoch
            return value
        if isinstance(value, float) and not value.is_integer():
            raise TypeError(f"{where}: expected an int, got {value}")
        return int(value)
    if isinstance(current, str):
        if not isinstance(value, str):
            raise TypeError(f"{where}: expected a string, got {type(value).__name__} {value!r}")
        return value
    if isinstance(current, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(current):
            got = len(value) if isinstance(value, (list, tuple)) else type(value).__name__
            raise ValueError(f"{where}: expected {len(current)} entries, got {got}")
        return [_like(f"{where}[{i}]", c, v) for i, (c, v) in enumerate(zip(current, value))]
    if isinstance(current, dict):
        if not isinstance(value, Mapping) or set(value) != set(current):
            raise ValueError(f"{where}: expected a mapping with keys {sorted(current)}, got {value!r}")
        return {k: _like(f"{where}[{k!r}]", current[k], value[k]) for k in current}
    if current is None or (value is None and where.endswith("['default_min_lr']")):
        return value if value is None else _like(where, 0.0, value)
    return copy.deepcopy(value)


class LRScheduler:
    """Base class: ``base_lrs`` (each group's ``initial_lr``), ``last_epoch``, ``get_last_lr()``, state."""

    #: the constructor's options, by torch's attribute names (saved in state_dict)
    _hyper: tuple[str, ...] = ()
    #: further state beyond the base's (torch's names)
    _extra: tuple[str, ...] = ()
    _base_keys: tuple[str, ...] = ("base_lrs", "last_epoch", "_step_count", "_is_initial", "_last_lr")
    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = _check_optimizer(optimizer)
        last_epoch = _check_int("last_epoch", last_epoch, -1)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(f"last_epoch: resuming at {last_epoch} needs param_groups[{i}]['initial_lr'] (load the optimizer state first)")
        self.base_lrs = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """torch's first step at construction: step count 0, ``_is_initial`` during it."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:  # pragma: no cover - abstract
        """The learning rate of every param group for the current ``last_epoch`` (torch's recursive form)."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (recursive form) or jump to ``epoch`` (closed form) and set each group's lr."""
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = _check_int("epoch", epoch, 0)
            closed = getattr(self, "_closed_form", None)
            values = closed() if closed is not None else self.get_lr()
        self._set_lrs(values)

    def _set_lrs(self, values: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = float(lr)
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()``, one per param group."""
        return list(self._last_lr)

    def _current(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    # -- state -------------------------------------------------------------
    def _state_keys(self) -> tuple[str, ...]:
        return self._hyper + self._extra + self._base_keys

    def state_dict(self) -> dict[str, Any]:
        """Every schedule variable by torch's name (copies), as torch's ``scheduler.state_dict()``."""
        return {k: copy.deepcopy(getattr(self, k)) for k in self._state_keys()}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore from :meth:`state_dict`, a torch scheduler's ``state_dict()`` or :meth:`state_arrays`.

        Every entry is checked against the attribute it replaces (kind, length, finiteness)
        before anything is written; one ValueError/TypeError names the entry.
        """
        self._commit(self._stage(self._structured(state_dict)))

    def _commit(self, staged: Mapping[str, Any]) -> None:
        for k, v in staged.items():
            setattr(self, k, v)

    def _stage(self, sd: Mapping[str, Any]) -> dict[str, Any]:
        keys = self._state_keys()
        missing = [k for k in keys if k not in sd]
        unknown = [k for k in sd if k not in keys and k not in _IGNORED]
        if missing or unknown:
            raise ValueError(f"state_dict: missing entries {missing}, unexpected entries {unknown} for {type(self).__name__}")
        staged = {k: _like(f"state_dict[{k!r}]", getattr(self, k), sd[k]) for k in keys}
        for k in _PER_GROUP:
            if k in staged and staged[k] is not None:
                for i, v in enumerate(staged[k]):
                    check_hyper(f"state_dict[{k!r}][{i}]", v)
        return staged

    def _structured(self, state_dict: Any) -> Mapping[str, Any]:
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict: expected a mapping, got {type(state_dict).__name__}")
        if "scheduler.type" not in state_dict:
            return state_dict
        kind = str(np.asarray(state_dict["scheduler.type"]))
        if kind != type(self).__name__:
            raise ValueError(f"state_dict: expected a {type(self).__name__} state, got {kind!r}")
        if "scheduler.state.json" in state_dict:
            return json.loads(str(np.asarray(state_dict["scheduler.state.json"])))
        return self._legacy(state_dict)

    def _legacy(self, arrays: Mapping[str, Any]) -> dict[str, Any]:
        """The flat arrays written before state_dict followed torch (last_epoch, step_count, base_lrs, last_lr, options)."""
        rename = {"step_count": "_step_count", "last_lr": "_last_lr"}
        out: dict[str, Any] = {"_is_initial": False}
        for key, value in arrays.items():
            name = key[len("scheduler."):]
            if name != "type":
                arr = np.asarray(value)
                out[rename.get(name, name)] = arr.tolist() if arr.ndim else arr.item()
        return out

    def state_arrays(self) -> dict[str, Array]:
        """:meth:`state_dict` for an ``.npz``: ``scheduler.type`` and ``scheduler.state.json`` (exact float repr)."""
        return {
            "scheduler.type": np.array(type(self).__name__),
            "scheduler.state.json": np.array(json.dumps(self.state_dict(), default=_json_default)),
        }

    def load_state_arrays(self, arrays: Mapping[str, Any]) -> None:
        """Restore the scheduler from checkpoint arrays (its ``state_dict()`` entries)."""
        self.load_state_dict(arrays)


def _json_default(value: Any) -> Any:
    raise TypeError(f"state_dict: cannot store a {type(value).__name__} in a checkpoint ({value!r})")


class StepLR(LRScheduler):
    """lr = base_lr · γ^⌊epoch / step_size⌋ (torch.optim.lr_scheduler.StepLR)."""

    _hyper = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = check_positive_int("step_size", step_size)
        self.gamma = check_hyper("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """lr ← lr · gamma every ``step_size`` epochs, unchanged otherwise."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _closed_form(self) -> list[float]:
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = base_lr · γ^(number of milestones ≤ epoch) (torch.optim.lr_scheduler.MultiStepLR).

    A milestone listed n times multiplies by γⁿ there, as in torch.
    """

    _hyper = ("milestones", "gamma")

    def __init__(self, optimizer: Optimizer, milestones: Any, gamma: float = 0.1, last_epoch: int = -1) -> None:
        try:
            items = list(milestones)
        except TypeError:
            raise TypeError(f"milestones: expected a list of epoch indices, got {type(milestones).__name__}") from None
        self.milestones = Counter(_check_int(f"milestones[{i}]", m, 0) for i, m in enumerate(items))
        self.gamma = check_hyper("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """lr ← lr · gamma^k at a milestone reached k times, unchanged otherwise."""
        if self.last_epoch not in self.milestones:
            return self._current()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current()]

    def _closed_form(self) -> list[float]:
        ms = sorted(self.milestones.elements())
        return [b * self.gamma ** bisect_right(ms, self.last_epoch) for b in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr = base_lr · λ(epoch), one λ for all groups or one per group (torch.optim.lr_scheduler.LambdaLR).

    ``state_dict()`` stores a callable *object*'s ``__dict__`` and None for a plain
    function or lambda, as torch does (the code itself is never saved).
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1) -> None:
        n = len(_check_optimizer(optimizer).param_groups)
        fns = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(fns) != n:
            raise ValueError(f"lr_lambda: expected {n} functions (one per param group), got {len(fns)}")
        for i, f in enumerate(fns):
            if not callable(f):
                raise TypeError(f"lr_lambda[{i}]: expected a callable epoch -> factor, got {type(f).__name__}")
        self.lr_lambdas: list[Callable[[int], float]] = fns
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """lr = base · λ(epoch), one λ per param group."""
        return [b * f(self.last_epoch) for f, b in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["lr_lambdas"] = [None if _is_function(f) else dict(f.__dict__) for f in self.lr_lambdas]
        return sd

    def _stage(self, sd: Mapping[str, Any]) -> dict[str, Any]:
        sd = dict(sd)
        saved = sd.pop("lr_lambdas", None)
        if not isinstance(saved, (list, tuple)) or len(saved) != len(self.lr_lambdas):
            raise ValueError(f"state_dict['lr_lambdas']: expected {len(self.lr_lambdas)} entries (None or a callable object's __dict__), got {saved!r:.80}")
        for i, entry in enumerate(saved):
            if entry is not None and (not isinstance(entry, Mapping) or _is_function(self.lr_lambdas[i])):
                raise ValueError(f"state_dict['lr_lambdas'][{i}]: expected None for a plain function, got {entry!r:.80}")
        return {**super()._stage(sd), "lr_lambdas": list(saved)}

    def _commit(self, staged: Mapping[str, Any]) -> None:
        staged = dict(staged)
        for f, entry in zip(self.lr_lambdas, staged.pop("lr_lambdas")):
            if entry is not None:
                f.__dict__.update(entry)
        super()._commit(staged)


def _is_function(f: Any) -> bool:
    import types

    return isinstance(f, (types.FunctionType, types.BuiltinFunctionType, types.MethodType))


class ExponentialLR(LRScheduler):
    """lr = base_lr · γ^epoch (torch.optim.lr_scheduler.ExponentialLR)."""

    _hyper = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = check_hyper("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """lr ← lr · gamma at every epoch."""
        if self._is_initial:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _closed_form(self) -> list[float]:
        return [b * self.gamma**self.last_epoch for b in self.base_lrs]


class LinearLR(LRScheduler):
    """lr = base_lr · (s + (e − s) · min(epoch, total_iters) / total_iters) (torch.optim.lr_scheduler.LinearLR).

    s = start_factor ∈ (0, 1], e = end_factor ∈ [0, 1]; ``step()`` uses torch's recursive ratio.
    """

    _hyper = ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor = check_hyper("start_factor", start_factor, high=1.0, high_open=False)
        if self.start_factor == 0:
            raise ValueError("start_factor: expected a value in (0, 1], got 0.0")
        self.end_factor = check_hyper("end_factor", end_factor, high=1.0, high_open=False)
        self.total_iters = check_positive_int("total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The factor moves linearly from start_factor to end_factor over total_iters epochs (torch's recursive form).
        """
        s, e, n, k = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        if k == 0:
            return [lr * s for lr in self._current()]
        if self._is_initial or k > n:
            return self._current()
        return [lr * (1.0 + (e - s) / (n * s + (k - 1) * (e - s))) for lr in self._current()]

    def _closed_form(self) -> list[float]:
        s, e, n = self.start_factor, self.end_factor, self.total_iters
        return [b * (s + (e - s) * min(n, self.last_epoch) / n) for b in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = base_lr · (1 − min(epoch, total_iters) / total_iters)^power (torch.optim.lr_scheduler.PolynomialLR)."""

    _hyper = ("total_iters", "power")

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self.total_iters = check_positive_int("total_iters", total_iters)
        self.power = check_hyper("power", power)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """lr_k = lr_{k−1} · ((1 − k/n) / (1 − (k−1)/n))^power until total_iters n."""
        n, k = self.total_iters, self.last_epoch
        if self._is_initial or k > n:
            return self._current()
        factor = ((1.0 - k / n) / (1.0 - (k - 1) / n)) ** self.power
        return [lr * factor for lr in self._current()]

    def _closed_form(self) -> list[float]:
        n = self.total_iters
        return [b * (1.0 - min(n, self.last_epoch) / n) ** self.power for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = η_min + (base_lr − η_min)(1 + cos(π · epoch / T_max)) / 2 (torch.optim.lr_scheduler.CosineAnnealingLR).

    ``step()`` applies torch's recursive form, which past ``T_max`` climbs back
    up (a period of 2·T_max) exactly as torch does.
    """

    _hyper = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = check_positive_int("T_max", T_max)
        self.eta_min = check_hyper("eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """torch's recursive cosine step: lr_t = η_min + (lr_{t−1} − η_min) (1 + cos(πt/T)) / (1 + cos(π(t−1)/T)).

        Closed form η_min + (base − η_min)(1 + cos(πt/T)) / 2 when stepped to an explicit epoch.
        """
        e, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current()
        if self._step_count == 1 and e > 0:
            return [lo + (b - lo) * (1 + math.cos(e * math.pi / T)) / 2 for b in self.base_lrs]
        if (e - 1 - T) % (2 * T) == 0:
            return [lr + (b - lo) * (1 - math.cos(math.pi / T)) / 2 for b, lr in zip(self.base_lrs, self._current())]
        return [
            (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (lr - lo) + lo
            for lr in self._current()
        ]

    def _closed_form(self) -> list[float]:
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2 for b in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: lr = η_min + (base_lr − η_min)(1 + cos(π T_cur / T_i)) / 2, T_i ← T_i · T_mult at each restart.

    torch.optim.lr_scheduler.CosineAnnealingWarmRestarts; ``step(epoch)`` may be
    fractional (called per batch as ``epoch + i / iters``), as in torch.
    """

    _hyper = ("T_0", "T_mult", "eta_min")
    _extra = ("T_i", "T_cur")

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_0 = check_positive_int("T_0", T_0)
        self.T_i = self.T_0
        self.T_mult = check_positive_int("T_mult", T_mult)
        self.eta_min = check_hyper("eta_min", eta_min)
        self.T_cur: float = _check_int("last_epoch", last_epoch, -1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """η_t = η_min + (base − η_min)(1 + cos(π T_cur / T_i)) / 2, restarting when T_cur reaches T_i."""
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2 for b in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Next epoch, or jump to ``epoch`` (≥ 0, may be fractional); torch's step count is left alone here too."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if isinstance(epoch, bool) or not isinstance(epoch, (int, float, np.integer, np.floating)) or not epoch >= 0:
                raise ValueError(f"epoch: expected a number >= 0, got {epoch!r}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** (n)
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())


class OneCycleLR(LRScheduler):
    """The 1cycle policy (torch.optim.lr_scheduler.OneCycleLR), stepped once per batch.

    lr rises from max_lr/div_factor to max_lr over the first pct_start of total_steps, then
    falls to initial_lr/final_div_factor (``three_phase``: back to initial_lr first, then down),
    each phase annealed by ``anneal(start, end, pct)``: cos: end + (start − end)(1 + cos πpct)/2;
    linear: start + (end − start)·pct. With ``cycle_momentum`` the momentum (SGD/RMSprop
    ``momentum``, Adam's β₁) moves the opposite way between base_momentum and max_momentum.
    """

    _hyper = ("total_steps", "cycle_momentum")
    _extra = ("_schedule_phases", "_anneal_func_type", "use_beta1")

    def __init__(self, optimizer: Optimizer, max_lr: Any, total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: Any = 0.85, max_momentum: Any = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        if total_steps is not None:
            self.total_steps = check_positive_int("total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = check_positive_int("epochs", epochs) * check_positive_int("steps_per_epoch", steps_per_epoch)
        else:
            raise ValueError("total_steps: expected total_steps, or both epochs and steps_per_epoch, got neither")
        pct = check_hyper("pct_start", pct_start, high=1.0, high_open=False)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy: expected 'cos' or 'linear', got {anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        self._schedule_phases = self._phases(pct, bool(three_phase))
        div = check_hyper("div_factor", div_factor)
        final = check_hyper("final_div_factor", final_div_factor)
        if div == 0 or final == 0:
            raise ValueError(f"{'div_factor' if div == 0 else 'final_div_factor'}: expected a value > 0, got 0.0")
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if not isinstance(cycle_momentum, bool):
            raise TypeError(f"cycle_momentum: expected True or False, got {cycle_momentum!r}")
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:  # torch sets use_beta1 (and saves it) only then
            self.use_beta1 = "betas" in optimizer.defaults
        if cycle_momentum and "momentum" not in optimizer.defaults and not self.use_beta1:
            raise ValueError(f"cycle_momentum: {type(optimizer).__name__} has no momentum or betas to cycle; pass cycle_momentum=False")
        moms = None
        if cycle_momentum:
            moms = (_per_group("max_momentum", optimizer, max_momentum), _per_group("base_momentum", optimizer, base_momentum))
        if last_epoch == -1:
            for i, group in enumerate(optimizer.param_groups):
                group["initial_lr"] = max_lrs[i] / div
                group["max_lr"] = max_lrs[i]
                group["min_lr"] = group["initial_lr"] / final
                if moms is not None:
                    self._set_momentum(group, moms[0][i])
                    group["max_momentum"], group["base_momentum"] = moms[0][i], moms[1][i]
        super().__init__(optimizer, last_epoch)

    def _state_keys(self) -> tuple[str, ...]:
        keys = super()._state_keys()
        return keys if self.cycle_momentum else tuple(k for k in keys if k != "use_beta1")

    def _phases(self, pct: float, three_phase: bool) -> list[dict[str, Any]]:
        n = self.total_steps

        def phase(end: float, lr: tuple[str, str], mom: tuple[str, str]) -> dict[str, Any]:
            return {"end_step": end, "start_lr": lr[0], "end_lr": lr[1], "start_momentum": mom[0], "end_momentum": mom[1]}

        up = phase(float(pct * n) - 1, ("initial_lr", "max_lr"), ("max_momentum", "base_momentum"))
        if three_phase:
            return [up, phase(float(2 * pct * n) - 2, ("max_lr", "initial_lr"), ("base_momentum", "max_momentum")),
                    phase(n - 1, ("initial_lr", "min_lr"), ("max_momentum", "max_momentum"))]
        return [up, phase(n - 1, ("max_lr", "min_lr"), ("base_momentum", "max_momentum"))]

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        """The one-cycle schedule: up from initial_lr to max_lr, then down to min_lr, cosine or linear within each
        phase (momentum cycled the other way).
        """
        k = self.last_epoch
        if k > self.total_steps:
            raise ValueError(f"step: tried to step {k} times; total_steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, ph in enumerate(self._schedule_phases):
                end = ph["end_step"]
                if k <= end or i == len(self._schedule_phases) - 1:
                    pct = (k - start) / (end - start)
                    lrs.append(self._anneal(group[ph["start_lr"]], group[ph["end_lr"]], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[ph["start_momentum"]], group[ph["end_momentum"]], pct))
                    break
                start = end
        return lrs


class SequentialLR(LRScheduler):
    """Run ``schedulers[i]`` from ``milestones[i-1]`` on (torch.optim.lr_scheduler.SequentialLR).

    At a milestone the next scheduler restarts from its epoch 0 (its closed form at 0).
    """

    _base_keys = ("_milestones", "last_epoch", "_last_lr")

    def __init__(self, optimizer: Optimizer, schedulers: Any, milestones: Any, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("schedulers: expected at least one scheduler, got none")
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(f"schedulers[{i}]: ReduceLROnPlateau needs a metric in step(); it cannot be sequenced")
            if not isinstance(s, LRScheduler):
                raise TypeError(f"schedulers[{i}]: expected a bptt.optim LRScheduler, got {type(s).__name__}")
            if s.optimizer is not optimizer:
                raise ValueError(f"schedulers[{i}]: expected a scheduler of this optimizer, got one of another optimizer")
        milestones = [_check_int(f"milestones[{i}]", m, 0) for i, m in enumerate(milestones)]
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"milestones: expected {len(schedulers) - 1} (one fewer than schedulers), got {len(milestones)}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = _check_int("last_epoch", last_epoch, -1) + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in schedulers:  # undo the step each made at construction (torch's recursive_undo)
            _undo(s)
        idx = bisect_right(milestones, 0)
        schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()

    def step(self) -> None:  # type: ignore[override]
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        s = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            s._update_lr(0)
        else:
            s.step()
        self._last_lr = s.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        sd = {k: copy.deepcopy(getattr(self, k)) for k in self._base_keys}
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def _stage(self, sd: Mapping[str, Any]) -> dict[str, Any]:
        sd = dict(sd)
        subs = sd.pop("_schedulers", None)
        if not isinstance(subs, (list, tuple)) or len(subs) != len(self._schedulers):
            raise ValueError(f"state_dict['_schedulers']: expected {len(self._schedulers)} scheduler states, got {subs!r:.80}")
        staged_subs = []
        for i, (s, sub) in enumerate(zip(self._schedulers, subs)):
            try:
                staged_subs.append(s._stage(s._structured(sub)))
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"state_dict['_schedulers'][{i}]: {exc}") from None
        return {**super()._stage(sd), "_schedulers": staged_subs}

    def _commit(self, staged: Mapping[str, Any]) -> None:
        staged = dict(staged)
        for s, st in zip(self._schedulers, staged.pop("_schedulers")):
            s._commit(st)
        super()._commit(staged)


def _undo(s: LRScheduler) -> None:
    if isinstance(s, SequentialLR):
        for sub in s._schedulers:
            _undo(sub)
    s.last_epoch -= 1


class ReduceLROnPlateau(LRScheduler):
    """Multiply lr by ``factor`` when a metric stops improving (torch.optim.lr_scheduler.ReduceLROnPlateau).

    ``step(metric)`` after each evaluation. Better means (mode, threshold_mode):
    min/rel: m < best (1 − threshold); min/abs: m < best − threshold;
    max/rel: m > best (1 + threshold); max/abs: m > best + threshold.
    After more than ``patience`` epochs without improvement: lr ← max(lr · factor, min_lr)
    (skipped when the change is ≤ eps), then ``cooldown`` epochs in which bad epochs are not counted.
    A NaN metric is never better (it counts as a bad epoch), as in torch.
    """

    _base_keys = ("factor", "default_min_lr", "min_lrs", "patience", "cooldown", "eps", "last_epoch", "_last_lr",
                  "mode_worse", "mode", "threshold", "threshold_mode", "best", "cooldown_counter", "num_bad_epochs")

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr: Any = 0.0,
                 eps: float = 1e-8) -> None:
        self.optimizer = _check_optimizer(optimizer)
        self.factor = check_hyper("factor", factor, high=1.0)
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr: float | None = None
            self.min_lrs = _per_group("min_lr", optimizer, min_lr)
        else:
            self.default_min_lr = check_hyper("min_lr", min_lr)
            self.min_lrs = [self.default_min_lr] * len(optimizer.param_groups)
        self.patience = _check_int("patience", patience, 0)
        self.cooldown = _check_int("cooldown", cooldown, 0)
        self.eps = check_hyper("eps", eps)
        self.last_epoch = 0
        self._last_lr = [float(g["lr"]) for g in optimizer.param_groups]
        self._init_is_better(mode, check_hyper("threshold", threshold), threshold_mode)
        self._reset()

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode: expected 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode: expected 'rel' or 'abs', got {threshold_mode!r}")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" else a > best + self.threshold

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record one evaluation's metric (a real number; a 1-element array or tensor is fine)."""
        try:
            current = float(to_numpy(metrics).reshape(()))
        except (TypeError, ValueError):
            raise TypeError(f"metrics: expected one real number, got {type(metrics).__name__} {metrics!r:.60}") from None
        self.last_epoch = self.last_epoch + 1 if epoch is None else _check_int("epoch", epoch, 0)
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown are not counted
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    @property
    def in_cooldown(self) -> bool:
        """Whether the scheduler is in its cooldown after a reduction (no new reduction then)."""
        return self.cooldown_counter > 0

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"min_lr: {len(self.min_lrs)} values for {len(groups)} param groups (a group was added); set min_lrs")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for i, group in enumerate(groups):
            old = float(group["lr"])
            new = max(old * self.factor, self.min_lrs[i])
            if old - new > self.eps:
                group["lr"] = new

    def _stage(self, sd: Mapping[str, Any]) -> dict[str, Any]:
        staged = LRScheduler._stage(self, sd)
        if staged["mode"] not in ("min", "max") or staged["threshold_mode"] not in ("rel", "abs"):
            raise ValueError(f"state_dict['mode'/'threshold_mode']: expected min|max and rel|abs, got {staged['mode']!r}, {staged['threshold_mode']!r}")
        staged["mode_worse"] = math.inf if staged["mode"] == "min" else -math.inf
        return staged
