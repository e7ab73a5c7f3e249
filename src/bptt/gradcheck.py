"""Central finite differences, for users and tests alike.

``gradcheck`` compares hand-written gradients with

    ∂L/∂θ_i ≈ (L(θ + ε e_i) − L(θ − ε e_i)) / 2ε

where L = Σ_k ⟨w_k, output_k⟩ with random weights w_k (never all ones, so
every output and every element of it is exercised). It works on

* a module: ``gradcheck(rnn, (x, h0))`` — checks every parameter and every
  floating-point input through ``module.backward``;
* a functional pair: ``gradcheck((linear_forward, linear_backward), (x, W, b))``
  where ``backward(dout, cache)`` returns the gradients in the inputs' order.

The error reported for each array is ``max|a − n|`` (absolute) and
``max|a − n| / max(max|a|, max|n|)`` (relative to the array's scale), which
stays meaningful when single elements are near zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

Array = np.ndarray


def _flatten(obj: Any) -> list:
    if isinstance(obj, (tuple, list)):
        return [a for o in obj for a in _flatten(o)]
    return [obj]


def _unflatten(like: Any, flat: list) -> Any:
    it = iter(flat)

    def build(o):
        if isinstance(o, (tuple, list)):
            return tuple(build(v) for v in o)
        return next(it)

    return build(like)


def _is_float_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


@dataclass
class GradcheckRow:
    """One checked array: max |analytic − numeric| and that over max(|analytic|, |numeric|)."""

    name: str
    shape: tuple
    max_abs: float
    max_rel: float


@dataclass
class GradcheckResult:
    """One row per checked array; ``max_rel``/``max_abs`` over all rows."""

    rows: list[GradcheckRow] = field(default_factory=list)

    @property
    def max_abs(self) -> float:
        """The largest absolute error over all rows."""
        return max((r.max_abs for r in self.rows), default=0.0)

    @property
    def max_rel(self) -> float:
        """The largest relative error over all rows (each row's error over its largest magnitude)."""
        return max((r.max_rel for r in self.rows), default=0.0)

    def passed(self, rtol: float = 1e-7) -> bool:
        """True when every row's relative error is ≤ ``rtol``."""
        return self.max_rel <= rtol

    def __str__(self) -> str:
        lines = [f"{'array':<28}{'shape':<16}{'max abs err':>14}{'max rel err':>14}"]
        for r in self.rows:
            lines.append(f"{r.name:<28}{str(r.shape):<16}{r.max_abs:>14.3e}{r.max_rel:>14.3e}")
        return "\n".join(lines)


def compare_arrays(name: str, analytic: Array, numeric: Array) -> GradcheckRow:
    """The error row between two arrays of one shape."""
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    diff = float(np.max(np.abs(a - n))) if a.size else 0.0
    scale = max(float(np.max(np.abs(a))) if a.size else 0.0, float(np.max(np.abs(n))) if n.size else 0.0)
    return GradcheckRow(name, tuple(a.shape), diff, diff / scale if scale > 0 else diff)


def _numeric_grad(loss: Callable[[], float], a: Array, eps: float) -> Array:
    g = np.zeros_like(a, dtype=np.float64)
    it = np.nditer(a, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = a[i]
        a[i] = old + eps
        lp = loss()
        a[i] = old - eps
        lm = loss()
        a[i] = old
        g[i] = (lp - lm) / (2 * eps)
    return g


def gradcheck(
    target: Any,
    inputs: Sequence[Any],
    *,
    kwargs: dict | None = None,
    eps: float = 1e-6,
    seed: int = 0,
    check_inputs: bool = True,
    check_params: bool = True,
    input_names: Sequence[str] | None = None,
) -> GradcheckResult:
    """Check the gradients of a float64 module or functional pair by central differences.

    Args:
        target: a :class:`bptt.nn.Module` with ``backward``, or a pair
            ``(forward, backward)`` of functional-core functions.
        inputs: positional inputs (nested tuples allowed, e.g. ``(x, (h0, c0))``).
            Non-float entries (lengths, targets) are passed through unchecked.
        kwargs: keyword arguments for the forward call (e.g. ``lengths``).
    Returns: a :class:`GradcheckResult` (print it for a table).
    """
    kwargs = dict(kwargs or {})
    inputs = tuple(inputs)
    flat_in = _flatten(inputs)
    for a in flat_in:
        if _is_float_array(a) and a.dtype != np.float64:
            raise TypeError(f"inputs: finite differences need float64 arrays, got {a.dtype}")
    rng = np.random.default_rng(seed)
    is_module = hasattr(target, "parameters") and hasattr(target, "backward")
    if is_module:
        if getattr(target, "dtype", np.float64) != np.float64:
            raise TypeError(f"target: finite differences need a float64 module, got {target.dtype}")
        forward = lambda: target(*inputs, **kwargs)  # noqa: E731
    else:
        fwd, bwd = target
        forward = lambda: fwd(*inputs, **kwargs)[0]  # noqa: E731

    out = forward()
    flat_out = [o for o in _flatten(out) if o is not None]
    weights = [rng.standard_normal(np.shape(o)) for o in flat_out]

    def loss() -> float:
        return float(sum(np.sum(w * o) for w, o in zip(weights, [o for o in _flatten(forward()) if o is not None])))

    result = GradcheckResult()
    upstream = _unflatten(out, weights)
    if is_module:
        target.zero_grad()
        target(*inputs, **kwargs)
        grads_in = target.backward(*upstream) if isinstance(out, tuple) else target.backward(upstream)
        param_grads = {k: v.copy() for k, v in target.grads.items()}
    else:
        out2, cache = fwd(*inputs, **kwargs)
        grads_in = bwd(upstream, cache)
        param_grads = {}
    flat_grads = _flatten(grads_in)
    names = list(input_names) if input_names else [f"input[{i}]" for i in range(len(flat_in))]
    if check_inputs:
        for i, (a, g) in enumerate(zip(flat_in, flat_grads)):
            if _is_float_array(a) and g is not None:
                result.rows.append(compare_arrays(names[i], g, _numeric_grad(loss, a, eps)))
    if is_module and check_params:
        for name, p in target.named_parameters():
            result.rows.append(compare_arrays(name, param_grads[name], _numeric_grad(loss, p.data, eps)))
    return result


@dataclass
class BackendRow:
    """One backend's largest relative difference from the reference backend over every output and gradient."""

    backend: str
    max_rel: float


def compare_backends(module: Any, inputs: Sequence[Any], kwargs: dict | None = None, seed: int = 0
                     ) -> tuple[str, list[BackendRow]]:
    """Run a recurrent module on every backend available here against the reference backend.

    Same inputs and random upstream gradients for each; returns the backend that
    ``backend="auto"`` chose for the module's first layer and one row per other backend.
    The module's ``backend`` is restored afterwards.
    """
    from .functional.fast import available

    kwargs = kwargs or {}
    saved = module.backend

    def run(backend: str) -> tuple[list, str]:
        module.backend = backend
        module.zero_grad()
        out = module(*inputs, **kwargs)
        rng = np.random.default_rng(seed)
        up = _unflatten(out, [rng.standard_normal(a.shape).astype(a.dtype) if _is_float_array(a) else None
                              for a in _flatten(out)])
        ran = module._cache["caches"][0].backend.name
        grads = module.backward(*up)
        arrays = _flatten(out) + _flatten(grads) + [p.grad.copy() for p in module.parameters()]
        return [np.array(a, copy=True) for a in arrays if a is not None], ran

    try:
        ref, _ = run("reference")
        auto = run("auto")[1]
        rows = []
        for name in available(module.cell):
            if name == "reference" or (name == "whole" and kwargs.get("lengths") is not None):
                continue
            got, _ = run(name)
            rel = max(float(np.max(np.abs(g - r)) / max(float(np.max(np.abs(r))), 1e-300)) if r.size else 0.0
                      for g, r in zip(got, ref))
            rows.append(BackendRow(name, rel))
    finally:
        module.backend = saved
    return auto, rows
