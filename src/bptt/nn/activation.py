"""Activation modules: Tanh, Sigmoid, ReLU, LeakyReLU, Identity (no parameters)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._checks import check_array
from ..functional import activations as F
from .linear import _require_cache
from .module import Module, _consume

Array = np.ndarray


class _Elementwise(Module):
    _forward: Callable
    _backward: Callable

    def __init__(self, dtype: Any = np.float32) -> None:
        super().__init__(dtype)
        self._cache = None
        self._shape = None

    def forward(self, x: Array) -> Array:
        check_array("input", x, dtype=self.dtype)
        y, self._cache = type(self)._forward(x)
        self._shape = x.shape
        return y

    def backward(self, dy: Array, retain_graph: bool = False) -> Array:
        cache = _require_cache(self, self._shape)
        check_array("grad_output", dy, dtype=self.dtype, shape=cache)
        _consume(self, retain_graph)
        return type(self)._backward(dy, self._cache)


class Tanh(_Elementwise):
    """y = tanh(x)."""

    _forward = staticmethod(F.tanh_forward)
    _backward = staticmethod(F.tanh_backward)


class Sigmoid(_Elementwise):
    """y = σ(x), stable for any finite x."""

    _forward = staticmethod(F.sigmoid_forward)
    _backward = staticmethod(F.sigmoid_backward)


class ReLU(_Elementwise):
    """y = max(x, 0)."""

    _forward = staticmethod(F.relu_forward)
    _backward = staticmethod(F.relu_backward)


class Identity(_Elementwise):
    """y = x."""

    _forward = staticmethod(F.identity_forward)
    _backward = staticmethod(F.identity_backward)


class LeakyReLU(_Elementwise):
    """y = x if x > 0 else negative_slope · x  (torch.nn.LeakyReLU)."""

    def __init__(self, negative_slope: float = 0.01, dtype: Any = np.float32) -> None:
        super().__init__(dtype)
        if not float(negative_slope) > 0:
            raise ValueError(f"negative_slope: expected a float > 0, got {negative_slope}")
        self.negative_slope = float(negative_slope)

    def forward(self, x: Array) -> Array:
        check_array("input", x, dtype=self.dtype)
        y, self._cache = F.leaky_relu_forward(x, self.negative_slope)
        self._shape = x.shape
        return y

    def backward(self, dy: Array, retain_graph: bool = False) -> Array:
        """∂L/∂x = dy where x > 0, negative_slope · dy elsewhere. Shapes: dy (*) -> dx (*)."""
        shape = _require_cache(self, self._shape)
        check_array("grad_output", dy, dtype=self.dtype, shape=shape)
        _consume(self, retain_graph)
        return F.leaky_relu_backward(dy, self._cache)


ACTIVATION_MODULES: dict[str, type[Module]] = {
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
}


def make_activation(name: str | None, dtype: Any, argname: str = "activation") -> Module:
    """Build an activation module by name (``None`` means identity)."""
    if name is None:
        return Identity(dtype=dtype)
    if name not in ACTIVATION_MODULES:
        raise ValueError(f"{argname}: expected one of {tuple(ACTIVATION_MODULES)} or None, got {name!r}")
    return ACTIVATION_MODULES[name](dtype=dtype)
