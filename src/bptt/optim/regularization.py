"""L1 and L2 regularization, applied to a chosen subset of a module's parameters.

Two ways to regularize with L2, and one with L1:

* **L2 as a loss term** — :func:`l2_penalty` returns R = (λ/2) Σ θ² over the
  selected parameters and adds ∂R/∂θ = λ θ into their ``.grad``. With the ½,
  SGD on L + R is *exactly* SGD with ``weight_decay=λ`` (torch's convention).
* **L2 as weight decay** — :func:`decay_groups` splits a module's parameters
  into two param groups (decayed / not decayed) for any optimizer's
  ``weight_decay`` (for Adam this is coupled L2; AdamW decouples it).
* **L1 as a loss term** — :func:`l1_penalty` returns R = λ Σ |θ| and adds the
  subgradient λ · sign(θ) (0 at θ = 0, as torch's ``abs`` backward does).

``select`` picks the parameters: ``"weights"`` (names whose last part starts
with ``weight``: ``0.weight``, ``rnn.weight_hh_l0``), ``"biases"``, ``"all"``,
a list of exact names, or a predicate ``f(name, parameter) -> bool``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence, Union

import numpy as np

from ..nn.module import Module, Parameter
from .optimizer import check_hyper

Selector = Union[str, Sequence[str], Callable[[str, Parameter], bool]]


def _leaf(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def select_parameters(module: Module, select: Selector = "weights") -> list[tuple[str, Parameter]]:
    """The ``(name, parameter)`` pairs of ``module`` that ``select`` picks (see module docstring)."""
    if not isinstance(module, Module):
        raise TypeError(f"module: expected a bptt Module, got {type(module).__name__}")
    named = list(module.named_parameters())
    if callable(select):
        return [(n, p) for n, p in named if select(n, p)]
    if isinstance(select, str):
        if select == "all":
            return named
        if select == "weights":
            return [(n, p) for n, p in named if _leaf(n).startswith("weight")]
        if select == "biases":
            return [(n, p) for n, p in named if _leaf(n).startswith("bias")]
        raise ValueError(f"select: expected 'weights', 'biases', 'all', a list of names or a predicate, got {select!r}")
    names = list(select)
    known = {n for n, _ in named}
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"select: unknown parameter name(s) {missing}; the module has {sorted(known)}")
    return [(n, p) for n, p in named if n in set(names)]


def l2_penalty(module: Module, strength: float, select: Selector = "weights", *, accumulate: bool = True) -> float:
    """R = (λ/2) Σ_selected θ²; adds λ θ to each selected ``p.grad`` (unless ``accumulate=False``).

    Shapes: every gradient keeps its parameter's shape and dtype.
    """
    lam = check_hyper("strength", strength)
    total = 0.0
    for _, p in select_parameters(module, select):
        total += float(np.sum(p.data * p.data))
        if accumulate and lam:
            p.accumulate(lam * p.data)
    return 0.5 * lam * total


def l1_penalty(module: Module, strength: float, select: Selector = "weights", *, accumulate: bool = True) -> float:
    """R = λ Σ_selected |θ|; adds the subgradient λ · sign(θ) (0 at 0) to each selected ``p.grad``."""
    lam = check_hyper("strength", strength)
    total = 0.0
    for _, p in select_parameters(module, select):
        total += float(np.sum(np.abs(p.data)))
        if accumulate and lam:
            p.accumulate(lam * np.sign(p.data))
    return lam * total


class Regularizer:
    """An L1 and/or L2 loss term on selected parameters: ``penalty = reg(module)`` (adds gradients).

    ``Regularizer(l1=1e-4, l2=1e-3, select="weights")``; the trainer calls it
    after ``backward`` and adds the returned value to the reported loss.
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, select: Selector = "weights") -> None:
        self.l1 = check_hyper("l1", l1)
        self.l2 = check_hyper("l2", l2)
        if isinstance(select, str) and select not in ("weights", "biases", "all"):
            raise ValueError(f"select: expected 'weights', 'biases', 'all', a list of names or a predicate, got {select!r}")
        self.select = select

    def __call__(self, module: Module, accumulate: bool = True) -> float:
        total = 0.0
        if self.l1:
            total += l1_penalty(module, self.l1, self.select, accumulate=accumulate)
        if self.l2:
            total += l2_penalty(module, self.l2, self.select, accumulate=accumulate)
        return total

    def __bool__(self) -> bool:
        return bool(self.l1 or self.l2)

    def __repr__(self) -> str:
        return f"Regularizer(l1={self.l1}, l2={self.l2}, select={self.select!r})"


def decay_groups(module: Module, weight_decay: float, select: Selector = "weights", **options: Any) -> list[dict[str, Any]]:
    """Param groups for an optimizer: selected parameters get ``weight_decay``, the rest 0.

    ``options`` (e.g. ``lr=0.1``) are copied into both groups. Empty groups are dropped.
    Example: ``SGD(decay_groups(model, 1e-4), lr=0.1)`` decays weights, not biases.
    """
    wd = check_hyper("weight_decay", weight_decay)
    chosen = {id(p) for _, p in select_parameters(module, select)}
    params = module.parameters()
    groups = [
        {"params": [p for p in params if id(p) in chosen], "weight_decay": wd, **options},
        {"params": [p for p in params if id(p) not in chosen], "weight_decay": 0.0, **options},
    ]
    return [g for g in groups if g["params"]]
