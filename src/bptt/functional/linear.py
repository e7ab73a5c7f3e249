"""The affine map y = x Wᵀ + b, over any number of leading dimensions."""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def linear_forward(x: Array, W: Array, b: Array | None) -> tuple[Array, tuple]:
    """y = x Wᵀ + b  (torch.nn.functional.linear).

    Shapes:
        x: (*, in_features)
        W: (out_features, in_features)
        b: (out_features,) or None
        y: (*, out_features)
    Cache: (x, W, has_bias).
    """
    y = x @ W.T
    if b is not None:
        y += b
    return y, (x, W, b is not None)


def linear_backward(dy: Array, cache: tuple) -> tuple[Array, Array, Array | None]:
    """dx = dy W,  dW = Σ dyᵀ x,  db = Σ dy  (sums over every leading dimension).

    The parameter gradients are one GEMM over the flattened leading dimensions.

    Shapes:
        dy: (*, out_features)  ->  dx: (*, in_features), dW: (out, in), db: (out,) or None
    """
    x, W, has_bias = cache
    dx = dy @ W
    dy2 = dy.reshape(-1, dy.shape[-1])
    dW = dy2.T @ x.reshape(-1, x.shape[-1])
    db = dy2.sum(axis=0) if has_bias else None
    return dx, dW, db
