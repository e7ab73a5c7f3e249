"""``bptt.Linear``: y = x Wᵀ + b, with torch.nn.Linear's names, shapes and init."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_array, check_positive_int
from ..functional.linear import linear_backward, linear_forward
from .module import Module, _consume

Array = np.ndarray


def _require_cache(module: Module, cache: Any) -> Any:
    """The cache of the last forward, or a clear error if there was none.

    A backward then calls :func:`~bptt.nn.module._consume` once its arguments
    are checked, so a second backward on the same forward is refused.
    """
    if cache is None:
        raise RuntimeError(f"{type(module).__name__}.backward: called before forward (no cached activations)")
    return cache


class Linear(Module):
    """torch.nn.Linear(in_features, out_features, bias=True).

    Parameters ``weight`` (out, in) and ``bias`` (out,), both drawn from
    U(−1/√in, 1/√in) as torch's default init does.

    Shapes: input (*, in_features) -> output (*, out_features)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = np.float32, seed: Any = None) -> None:
        super().__init__(dtype)
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        k = 1.0 / np.sqrt(in_features)
        self.register_parameter("weight", rng.uniform(-k, k, (out_features, in_features)))
        if bias:
            self.register_parameter("bias", rng.uniform(-k, k, (out_features,)))
        self._cache = None

    def forward(self, x: Array) -> Array:
        check_array("input", x, dtype=self.dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"input: expected shape (*, {self.in_features}), got {x.shape}")
        b = self._params["bias"].data if "bias" in self._params else None
        y, self._cache = linear_forward(x, self._params["weight"].data, b)
        return y

    def backward(self, dy: Array, retain_graph: bool = False) -> Array:
        """∂L/∂x = dy W; adds ∂L/∂W = Σ dyᵀ x and ∂L/∂b = Σ dy (over all leading axes) into the grads.

        Shapes: dy (*, out_features) -> dx (*, in_features)
        """
        cache = _require_cache(self, self._cache)
        check_array("grad_output", dy, dtype=self.dtype, shape=cache[0].shape[:-1] + (self.out_features,))
        _consume(self, retain_graph)
        dx, dW, db = linear_backward(dy, cache)
        self._params["weight"].accumulate(dW)
        if db is not None:
            self._params["bias"].accumulate(db)
        return dx

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={'bias' in self._params}"
