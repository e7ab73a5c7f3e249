"""Losses with their gradients: softmax cross-entropy, MSE and the seeds' ½Σ(y − t)².

Each ``*_forward`` returns ``(loss, cache)``; each ``*_backward(dloss, cache)``
returns the gradient with respect to the prediction/logits. ``dloss`` has the
shape of ``loss`` (a scalar for ``reduction`` "mean"/"sum").
"""

from __future__ import annotations

import numpy as np

from .._checks import check_choice

Array = np.ndarray
REDUCTIONS = ("mean", "sum", "none")


def log_softmax(z: Array, axis: int = -1) -> Array:
    """log softmax(z) = z − max z − log Σ exp(z − max z): never overflows.

    Shapes: z (*) -> same shape.
    """
    m = z.max(axis=axis, keepdims=True)
    shifted = z - m
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z: Array, axis: int = -1) -> Array:
    """softmax(z) = exp(z − max z) / Σ exp(z − max z). Shapes: z (*) -> same shape."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _reduce(per_item: Array, reduction: str, count: float) -> Array:
    if reduction == "none":
        return per_item
    total = per_item.sum()
    return total / count if reduction == "mean" else total


def cross_entropy_forward(
    logits: Array, target: Array, reduction: str = "mean", ignore_index: int = -100
) -> tuple[Array, tuple]:
    """ℓ_n = −log softmax(z_n)[t_n]  (torch.nn.functional.cross_entropy, class indices).

    The class dimension is 1 as in torch: logits (N, C) or (N, C, d1, ...), or
    unbatched (C,). Items whose target equals ``ignore_index`` contribute 0 and
    are left out of the mean.

    Shapes:
        logits: (N, C, *) or (C,)
        target: (N, *) or () integers in [0, C) (or ignore_index)
        loss:   () for mean/sum, (N, *) for none
    """
    check_choice("reduction", reduction, REDUCTIONS)
    z = np.moveaxis(logits, 1, -1) if logits.ndim > 1 else logits
    t = np.asarray(target)
    if z.shape[:-1] != t.shape:
        raise ValueError(
            f"target: expected shape {z.shape[:-1]} to match logits {logits.shape}, got {t.shape}"
        )
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"target: expected integer class indices, got dtype {t.dtype}")
    C = z.shape[-1]
    valid = t != ignore_index
    if np.any((t[valid] < 0) | (t[valid] >= C)):
        bad = t[valid][(t[valid] < 0) | (t[valid] >= C)]
        raise ValueError(f"target: class indices must be in [0, {C}), got {bad.min()}..{bad.max()}")
    safe_t = np.where(valid, t, 0)
    logp = log_softmax(z, axis=-1)
    picked = np.take_along_axis(logp, safe_t[..., None], axis=-1)[..., 0]
    per_item = np.where(valid, -picked, 0).astype(logits.dtype)
    count = max(int(valid.sum()), 1) if reduction == "mean" else 1
    loss = _reduce(per_item, reduction, count)
    if reduction == "mean" and not valid.any():
        loss = np.asarray(np.nan, dtype=logits.dtype)  # torch returns nan here too
    return np.asarray(loss, dtype=logits.dtype), (logp, safe_t, valid, reduction, count, logits.ndim)


def cross_entropy_backward(dloss: Array, cache: tuple) -> Array:
    """∂ℓ_n/∂z_n = softmax(z_n) − onehot(t_n), scaled by dloss (and 1/N for mean).

    Shapes: dloss () or (N, *)  ->  dlogits (N, C, *) or (C,)
    """
    logp, t, valid, reduction, count, ndim = cache
    g = np.exp(logp)
    np.put_along_axis(g, t[..., None], np.take_along_axis(g, t[..., None], axis=-1) - 1, axis=-1)
    scale = np.asarray(dloss, dtype=g.dtype)
    if reduction == "mean":
        scale = scale / count
    g *= (valid * scale)[..., None]
    return np.moveaxis(g, -1, 1) if ndim > 1 else g


def mse_forward(pred: Array, target: Array, reduction: str = "mean") -> tuple[Array, tuple]:
    """ℓ = (y − t)² element-wise, reduced by mean/sum/none (torch.nn.functional.mse_loss).

    Shapes: pred, target (*) identical; loss () or (*)
    """
    check_choice("reduction", reduction, REDUCTIONS)
    _same_shape(pred, target)
    diff = pred - target
    loss = _reduce(diff * diff, reduction, diff.size)
    return np.asarray(loss, dtype=pred.dtype), (diff, reduction)


def mse_backward(dloss: Array, cache: tuple) -> Array:
    """∂ℓ/∂y = 2 (y − t) · dloss  (/ n for mean). Shapes: -> (*) like pred."""
    diff, reduction = cache
    g = 2 * diff * np.asarray(dloss, dtype=diff.dtype)
    return g / diff.size if reduction == "mean" else g


def sum_squares_forward(pred: Array, target: Array) -> tuple[Array, Array]:
    """ℓ = ½ Σ (y − t)²  — the loss of seed 001's hand-written RNN.

    Shapes: pred, target (*) identical; loss ()
    """
    _same_shape(pred, target)
    diff = pred - target
    return np.asarray(0.5 * np.sum(diff * diff), dtype=pred.dtype), diff


def sum_squares_backward(dloss: Array, cache: Array) -> Array:
    """∂ℓ/∂y = (y − t) · dloss."""
    return cache * np.asarray(dloss, dtype=cache.dtype)


def _same_shape(pred: Array, target: Array) -> None:
    if np.shape(pred) != np.shape(target):
        raise ValueError(f"target: expected shape {np.shape(pred)} (same as input), got {np.shape(target)}")
