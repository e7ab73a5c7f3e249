"""Gradient clipping, exactly as ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``.

Exploding gradients are the other half of the BPTT story (vanishing is the
LSTM/GRU half): products of T Jacobians ∂h_t/∂h_{t−1} can grow like ‖W_hh‖^T.
Clipping rescales the gradient *after* backward and *before* the optimizer step:

    norms   ν_k = ‖g_k‖_p                       one per gradient array
    total   N   = ‖(ν_1, …, ν_K)‖_p             = ‖all gradients as one vector‖_p
    scale   g_k ← g_k · min(1, max_norm / (N + eps))      eps = 1e-6

(torch's formula, 1e-6 included; ``p = inf`` means the largest |entry|.)
``eps=0`` is d2l's ``grad_clipping``: ``if norm > theta: g *= theta / norm``.
``clip_grad_value_`` instead clamps every entry to [−v, v].

Both take what torch takes and a little more: a Module (all its parameters),
a :class:`bptt.nn.Parameter`, a bare gradient array (modified in place), a
mapping such as ``module.grads``, or any iterable of those. Each gradient
array is counted once even if it is reached twice; a parameter whose grad is
None (``zero_grad(set_to_none=True)``) is left out, as torch leaves it out.

    loss.backward(); rnn.backward(dout)
    total = clip_grad_norm_([rnn, head], max_norm=5.0)
    opt.step()
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

Array = np.ndarray


def _gradients(parameters: Any, where: str = "parameters") -> list[Array]:
    """Every gradient array reachable from ``parameters``, each once, in order."""
    from ..nn.module import Module, Parameter

    out: list[Array] = []
    seen: set[int] = set()

    def add(g: Array, name: str) -> None:
        if g.dtype.kind != "f":
            raise TypeError(f"{name}: expected a floating-point gradient array, got dtype {g.dtype}")
        if id(g) not in seen:
            seen.add(id(g))
            out.append(g)

    def walk(obj: Any, name: str) -> None:
        if isinstance(obj, Module):
            for pname, p in obj.named_parameters():
                if p.grad is not None:
                    add(p.grad, f"{name}.{pname}")
        elif isinstance(obj, Parameter):
            if obj.grad is not None:
                add(obj.grad, name)
        elif isinstance(obj, np.ndarray):
            add(obj, name)
        elif isinstance(obj, Mapping):
            for k, v in obj.items():
                walk(v, f"{name}[{k!r}]")
        elif isinstance(obj, Iterable) and not isinstance(obj, (str, bytes)):
            for i, v in enumerate(obj):
                walk(v, f"{name}[{i}]")
        else:
            raise TypeError(
                f"{name}: expected a Module, a Parameter, a gradient ndarray, a mapping or an iterable of those, "
                f"got {type(obj).__name__}"
            )

    walk(parameters, where)
    return out


def _norm_type(norm_type: Any) -> float:
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        return float("inf")
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float, np.integer, np.floating)):
        raise TypeError(f"norm_type: expected a positive real number or inf, got {type(norm_type).__name__} {norm_type!r}")
    p = float(norm_type)
    if not p > 0:  # also rejects NaN
        raise ValueError(f"norm_type: expected a positive real number or inf, got {norm_type}")
    return p


def _nonneg(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number >= 0, got {type(value).__name__} {value!r}")
    v = float(value)
    if not v >= 0:  # also rejects NaN
        raise ValueError(f"{name}: expected a real number >= 0, got {value}")
    return v


def _vector_norm(g: Array, p: float) -> float:
    a = np.abs(g.ravel())
    if a.size == 0:
        return 0.0
    if p == float("inf"):
        return float(a.max())
    if p == 2.0:
        return float(np.sqrt(np.dot(a, a)))
    if p == 1.0:
        return float(a.sum())
    return float(np.sum(a ** p) ** (1.0 / p))


def get_total_norm(parameters: Any, norm_type: float | str = 2.0) -> float:
    """N = ‖(‖g_1‖_p, …, ‖g_K‖_p)‖_p over every gradient (torch.nn.utils.get_total_norm).

    Shapes: any gradients -> a Python float (0.0 when there are none).
    """
    p = _norm_type(norm_type)
    grads = _gradients(parameters)
    if not grads:
        return 0.0
    return _vector_norm(np.array([_vector_norm(g, p) for g in grads]), p)


def clip_grad_norm_(
    parameters: Any, max_norm: float, norm_type: float | str = 2.0, error_if_nonfinite: bool = False,
    foreach: bool | None = None, *, eps: float = 1e-6,
) -> float:
    """Scale every gradient in place by min(1, max_norm / (N + eps)); return the total norm N (before clipping).

    N is :func:`get_total_norm`. With ``error_if_nonfinite`` a NaN/Inf total
    raises ``RuntimeError`` (as torch) and nothing is changed. ``eps=1e-6`` is
    torch's; ``eps=0`` is d2l's ``grad_clipping`` (scale by max_norm / N only when
    N > max_norm). torch's ``foreach`` is accepted and changes nothing here.
    Shapes: gradients keep their shapes and dtypes.
    """
    max_norm = _nonneg("max_norm", max_norm)
    eps = _nonneg("eps", eps)
    if foreach not in (None, True, False):
        raise TypeError(f"foreach: expected None, True or False, got {foreach!r}")
    p = _norm_type(norm_type)
    grads = _gradients(parameters)
    if not grads:
        return 0.0
    total = _vector_norm(np.array([_vector_norm(g, p) for g in grads]), p)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
            "pass error_if_nonfinite=False to clip anyway"
        )
    if total + eps <= max_norm:  # coefficient 1 (also N = 0 with eps = 0); NaN/Inf fall through as in torch
        return total
    coef = max_norm / (total + eps)
    for g in grads:
        g *= g.dtype.type(coef)
    return total


def clip_grad_value_(parameters: Any, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient entry to [−clip_value, clip_value], in place (torch.nn.utils.clip_grad_value_)."""
    v = _nonneg("clip_value", clip_value)
    for g in _gradients(parameters):
        np.clip(g, -v, v, out=g)
