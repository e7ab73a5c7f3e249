"""Adaptive-step optimizers: Adagrad, RMSprop, Adam and AdamW, equal to torch.optim's.

Each update is written in the order torch's single-tensor CPU kernels use, so
that 50 float64 steps agree with torch to rounding (≤ 1e-12 relative).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.module import Parameter
from .optimizer import Optimizer, check_hyper, lerp_

Array = np.ndarray


def _signed(grad: Array, maximize: bool) -> Array:
    return -grad if maximize else grad


class Adagrad(Optimizer):
    """torch.optim.Adagrad (dense gradients).

    With step count k (from 1) and g = ∇L + λ θ::

        clr = lr / (1 + (k − 1) · lr_decay)
        G ← G + g²                      (G starts at initial_accumulator_value)
        θ ← θ − clr · g / (√G + eps)     (eps outside the square root, torch)
        θ ← θ − clr · g / √(G + eps)     (``eps_inside_sqrt=True``: min-char-rnn's
                                          ``param += -lr * dparam / np.sqrt(mem + 1e-8)``
                                          is ``Adagrad(lr=lr, eps=1e-8, eps_inside_sqrt=True)``)

    Defaults: lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10.
    torch's ``foreach``/``fused=False``/``differentiable=False`` are accepted; ``fused=True``
    and ``differentiable=True`` raise ValueError.
    """

    _bool_keys = ("maximize", "eps_inside_sqrt")
    _buffers = ("step", "sum")

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        eps_inside_sqrt: bool = False,
    ) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused, eps_inside_sqrt=eps_inside_sqrt)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        for k in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            group[k] = check_hyper(k, group[k])

    def _init_group(self, group: dict[str, Any]) -> None:
        # torch creates the accumulator in the constructor, so state_dict() shows it before any step
        for p in group["params"]:
            st = self.state.setdefault(p, {})
            if "sum" not in st:
                st["step"] = 0.0
                st["sum"] = np.full_like(p.data, group["initial_accumulator_value"])

    def _required_buffers(self, group: Any) -> set[str]:
        return {"step", "sum"}

    def _update(self, p: Parameter, grad: Array, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = step = float(state["step"]) + 1
        g = _signed(grad, group["maximize"])
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.data
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        acc = state["sum"]
        acc += g * g
        if group["eps_inside_sqrt"]:
            std = np.sqrt(acc + group["eps"])
        else:
            std = np.sqrt(acc)
            std += group["eps"]
        p.data += (-clr * g) / std


class RMSprop(Optimizer):
    """torch.optim.RMSprop.

    With g = ∇L + λ θ, α = alpha, μ = momentum::

        v ← α v + (1 − α) g²
        centered:  ḡ ← ḡ + (1 − α)(g − ḡ);  d = √(v − ḡ²) + eps
        otherwise: d = √v + eps
        μ > 0:     b ← μ b + g / d;  θ ← θ − lr · b
        otherwise: θ ← θ − lr · g / d

    Defaults: lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False.
    torch's ``capturable=False``/``foreach``/``differentiable=False`` are accepted;
    ``capturable=True`` and ``differentiable=True`` raise ValueError.
    """

    _bool_keys = ("centered", "maximize")
    _buffers = ("step", "square_avg", "momentum_buffer", "grad_avg")

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        for k in ("alpha", "eps", "weight_decay", "momentum"):
            group[k] = check_hyper(k, group[k])

    def _required_buffers(self, group: Any) -> set[str]:
        return {"step", "square_avg"} | ({"momentum_buffer"} if group["momentum"] > 0 else set()) | (
            {"grad_avg"} if group["centered"] else set())

    def _update(self, p: Parameter, grad: Array, group: dict[str, Any], state: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0.0
            state["square_avg"] = np.zeros_like(p.data)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p.data)
        state["step"] = float(state["step"]) + 1
        g = _signed(grad, group["maximize"])
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.data
        alpha = group["alpha"]
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            ga = lerp_(state["grad_avg"], g, 1 - alpha)
            avg = np.sqrt(v - ga * ga)
        else:
            avg = np.sqrt(v)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            p.data -= group["lr"] * buf
        else:
            p.data += (-group["lr"] * g) / avg


class Adam(Optimizer):
    """torch.optim.Adam (``decoupled_weight_decay=True`` gives AdamW).

    With step k, g = ∇L (+ λ θ unless decoupled), β₁, β₂ = betas::

        decoupled:  θ ← θ (1 − lr λ)
        m ← m + (1 − β₁)(g − m)          v ← β₂ v + (1 − β₂) g²
        amsgrad:    v̂ ← max(v̂, v), use v̂ below instead of v
        d = √v / √(1 − β₂ᵏ) + eps
        θ ← θ − lr / (1 − β₁ᵏ) · m / d

    Defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False.
    torch's ``foreach``/``capturable=False``/``differentiable=False``/``fused=False``
    are accepted; ``capturable=True``, ``differentiable=True`` and ``fused=True`` raise ValueError.
    """

    _bool_keys = ("amsgrad", "maximize", "decoupled_weight_decay")
    _buffers = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
        group["betas"] = (check_hyper("betas[0]", betas[0], high=1.0), check_hyper("betas[1]", betas[1], high=1.0))
        group["eps"] = check_hyper("eps", group["eps"])
        group["weight_decay"] = check_hyper("weight_decay", group["weight_decay"])

    def _required_buffers(self, group: Any) -> set[str]:
        return {"step", "exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if group["amsgrad"] else set())

    def _update(self, p: Parameter, grad: Array, group: dict[str, Any], state: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0.0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] = step = float(state["step"]) + 1
        lr, wd, (beta1, beta2) = group["lr"], group["weight_decay"], group["betas"]
        g = _signed(grad, group["maximize"])
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p.data *= 1 - lr * wd
            else:
                g = g + wd * p.data
        m, v = state["exp_avg"], state["exp_avg_sq"]
        lerp_(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g
        step_size = lr / (1 - beta1**step)
        bc2_sqrt = (1 - beta2**step) ** 0.5
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            denom = np.sqrt(state["max_exp_avg_sq"]) / bc2_sqrt
        else:
            denom = np.sqrt(v) / bc2_sqrt
        denom += group["eps"]
        p.data += (-step_size * m) / denom


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay θ ← θ(1 − lr λ); default weight_decay=1e-2."""

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
                         capturable=capturable, differentiable=differentiable, fused=fused, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: Any) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True  # as torch: AdamW is always decoupled
