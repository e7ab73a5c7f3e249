"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.module import Parameter
from .optimizer import Optimizer, check_hyper

Array = np.ndarray


class SGD(Optimizer):
    """torch.optim.SGD, step for step.

    With g = ∇L (−∇L if ``maximize``), λ = weight_decay, μ = momentum, τ = dampening::

        g ← g + λ θ
        b ← g                          on the first step (μ ≠ 0)
        b ← μ b + (1 − τ) g            afterwards
        g ← g + μ b  (nesterov)   or   g ← b
        θ ← θ − lr · g

    Defaults are torch's: lr=1e-3, momentum=0, dampening=0, weight_decay=0,
    nesterov=False, maximize=False. Nesterov needs momentum > 0 and dampening 0.
    torch's ``foreach``/``fused=False``/``differentiable=False`` are accepted (the
    same numbers here); ``fused=True`` and ``differentiable=True`` raise ValueError.

    Shapes: every buffer has its parameter's shape and dtype.
    """

    _bool_keys = ("nesterov", "maximize")
    _buffers = ("momentum_buffer",)

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        group["momentum"] = check_hyper("momentum", group["momentum"])
        group["dampening"] = check_hyper("dampening", group["dampening"], low=-np.inf)
        group["weight_decay"] = check_hyper("weight_decay", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"nesterov: requires momentum > 0 and dampening = 0, got momentum={group['momentum']} dampening={group['dampening']}"
            )

    def _required_buffers(self, group: Any) -> set[str]:
        return {"momentum_buffer"} if group["momentum"] != 0 else set()

    def _update(self, p: Parameter, grad: Array, group: dict[str, Any], state: dict[str, Any]) -> None:
        g = -grad if group["maximize"] else grad
        wd, mu = group["weight_decay"], group["momentum"]
        if wd != 0:
            g = g + wd * p.data
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= mu
                buf += (1 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        p.data -= group["lr"] * g
