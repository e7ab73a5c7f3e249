"""Learning-rate schedules with torch.optim.lr_scheduler's formulas and call order.

Create the scheduler after the optimizer and call ``scheduler.step()`` after
``optimizer.step()`` (once per epoch, usually). Like torch, ``step()`` uses the
*recursive* (chainable) form that multiplies the current ``group["lr"]``;
``step(epoch)`` uses the closed form. Both give torch's values to rounding.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from .._checks import check_positive_int
from .optimizer import Optimizer, check_hyper

Array = np.ndarray


class LRScheduler:
    """Base class: ``base_lrs`` (each group's ``initial_lr``), ``last_epoch``, ``get_last_lr()``."""

    _hyper: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer: expected a bptt.optim Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(f"last_epoch: resuming at {last_epoch} needs param_groups[{i}]['initial_lr'] (load the optimizer state first)")
        self.base_lrs = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:  # pragma: no cover - abstract
        """The learning rate of every param group for the current ``last_epoch`` (torch's recursive form)."""
        raise NotImplementedError

    def _closed_form(self) -> list[float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (recursive form) or jump to ``epoch`` (closed form) and set each group's lr."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = int(epoch)
            values = self._closed_form()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = float(lr)
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()``, one per param group."""
        return list(self._last_lr)

    def _current(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    # -- state -------------------------------------------------------------
    def state_dict(self) -> dict[str, Array]:
        """``scheduler.*`` arrays: type, last_epoch, step count, base and last lrs, hyper-parameters."""
        out = {
            "scheduler.type": np.array(type(self).__name__),
            "scheduler.last_epoch": np.asarray(self.last_epoch, dtype=np.int64),
            "scheduler.step_count": np.asarray(self._step_count, dtype=np.int64),
            "scheduler.base_lrs": np.asarray(self.base_lrs, dtype=np.float64),
            "scheduler.last_lr": np.asarray(self._last_lr, dtype=np.float64),
        }
        for k in self._hyper:
            out[f"scheduler.{k}"] = np.asarray(getattr(self, k), dtype=np.float64)
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the state written by ``state_dict()`` (same scheduler type, one base lr per group).

        A state of another scheduler type or group count is a ``ValueError``.
        """
        kind = str(np.asarray(state_dict.get("scheduler.type", "")))
        if kind != type(self).__name__:
            raise ValueError(f"state_dict: expected a {type(self).__name__} state, got {kind or 'no scheduler.type entry'!r}")
        n = len(self.optimizer.param_groups)
        base = np.asarray(state_dict["scheduler.base_lrs"], dtype=np.float64)
        if base.shape != (n,):
            raise ValueError(f"state_dict['scheduler.base_lrs']: expected {n} values (one per group), got shape {base.shape}")
        self.last_epoch = int(state_dict["scheduler.last_epoch"])
        self._step_count = int(state_dict["scheduler.step_count"])
        self.base_lrs = [float(x) for x in base]
        self._last_lr = [float(x) for x in np.asarray(state_dict["scheduler.last_lr"], dtype=np.float64)]
        for k in self._hyper:
            v = float(np.asarray(state_dict[f"scheduler.{k}"]))
            setattr(self, k, int(v) if isinstance(getattr(self, k), int) else v)


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
