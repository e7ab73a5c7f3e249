"""Element-wise activations, each a forward/backward pair.

Every activation used here has a derivative that can be written in terms of its
*output* ``y`` alone (tanh: 1 - y², sigmoid: y(1 - y), ReLU: [y > 0]), so the
cache is just ``y``. The recurrent cells rely on that: they keep the activated
values and never the pre-activations.

Shapes: every function here is element-wise; ``x``, ``y``, ``dy`` and ``dx``
all share one shape ``(*)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Array = np.ndarray


def sigmoid(x: Array) -> Array:
    """σ(x) = 1 / (1 + e^{-x}), computed without overflow for any finite x.

    For x ≥ 0 use 1 / (1 + e^{-x}); for x < 0 use e^{x} / (1 + e^{x}). Both
    only ever exponentiate a non-positive number, so |x| = 1e4 gives exactly
    0 or 1 and no warning.
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def tanh_forward(x: Array) -> tuple[Array, Array]:
    """y = tanh(x). Cache: y."""
    y = np.tanh(x)
    return y, y


def tanh_backward(dy: Array, cache: Array) -> Array:
    """dx = dy ⊙ (1 - y²)."""
    y = cache
    return dy * (1 - y * y)


def sigmoid_forward(x: Array) -> tuple[Array, Array]:
    """y = σ(x). Cache: y."""
    y = sigmoid(x)
    return y, y


def sigmoid_backward(dy: Array, cache: Array) -> Array:
    """dx = dy ⊙ y ⊙ (1 - y)."""
    y = cache
    return dy * y * (1 - y)


def relu_forward(x: Array) -> tuple[Array, Array]:
    """y = max(x, 0). Cache: y."""
    y = np.maximum(x, 0)
    return y, y


def relu_backward(dy: Array, cache: Array) -> Array:
    """dx = dy ⊙ [y > 0] (torch's convention: the derivative at 0 is 0)."""
    return dy * (cache > 0)


def leaky_relu_forward(x: Array, negative_slope: float = 0.01) -> tuple[Array, tuple[Array, float]]:
    """y = x if x > 0 else negative_slope · x. Cache: (y, negative_slope)."""
    y = np.where(x > 0, x, x * np.asarray(negative_slope, dtype=x.dtype))
    return y, (y, negative_slope)


def leaky_relu_backward(dy: Array, cache: tuple[Array, float]) -> Array:
    """dx = dy ⊙ (1 if y > 0 else negative_slope). Valid for negative_slope > 0."""
    y, slope = cache
    return np.where(y > 0, dy, dy * np.asarray(slope, dtype=dy.dtype))


def identity_forward(x: Array) -> tuple[Array, None]:
    """y = x."""
    return x, None


def identity_backward(dy: Array, cache: None) -> Array:
    """dx = dy."""
    return dy


@dataclass(frozen=True)
class Activation:
    """An activation as used inside a layer: f(x) and f'(x) written through y = f(x)."""

    name: str
    fn: Callable[[Array], Array]
    grad_from_output: Callable[[Array], Array]


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", np.tanh, lambda y: 1 - y * y),
    "sigmoid": Activation("sigmoid", sigmoid, lambda y: y * (1 - y)),
    "relu": Activation("relu", lambda x: np.maximum(x, 0), lambda y: (y > 0).astype(y.dtype)),
    "identity": Activation("identity", lambda x: x, lambda y: np.ones_like(y)),
}


def get_activation(name: str, argname: str = "nonlinearity") -> Activation:
    """Look up an activation by name; an unknown name is a ``ValueError`` listing the known ones."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"{argname}: expected one of {tuple(ACTIVATIONS)}, got {name!r}") from None
