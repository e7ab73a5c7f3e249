"""Loss modules: calling one returns the loss; ``loss_fn.backward()`` returns ∂loss/∂input."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_array, check_choice
from ..functional import losses as F
from .linear import _require_cache
from .module import _consume

Array = np.ndarray


class _Loss:
    """Losses hold no parameters; they remember the last call for ``backward``."""

    def __init__(self) -> None:
        self._cache = None
        self._shape = None

    def backward(self, grad: Any = 1.0, retain_graph: bool = False) -> Array:
        """∂(grad · loss)/∂input; ``grad`` has the loss's shape (scalar by default, like torch)."""
        cache = _require_cache(self, self._cache)
        g = np.asarray(grad)
        if isinstance(grad, bool) or not (np.issubdtype(g.dtype, np.floating) or np.issubdtype(g.dtype, np.integer)):
            raise TypeError(f"grad: expected a real number or array, got {type(grad).__name__} of dtype {g.dtype}")
        if g.shape != self._shape:
            raise ValueError(f"grad: expected shape {self._shape} (the loss's shape), got {g.shape}")
        if not np.isfinite(g).all():
            raise ValueError("grad: contains NaN/Inf; expected only finite numbers")
        _consume(self, retain_graph)
        return self._backward(g, cache)

    def __call__(self, input: Array, target: Any) -> Any:
        self._consumed = False  # a new forward: its cache may be used by one backward
        loss = self.forward(input, target)
        self._shape = np.shape(loss)
        return loss


class CrossEntropyLoss(_Loss):
    """torch.nn.CrossEntropyLoss(reduction="mean", ignore_index=-100) on logits and class indices.

    Shapes: input (N, C, *) or (C,); target (N, *) or () integers.
    """

    def __init__(self, reduction: str = "mean", ignore_index: int = -100) -> None:
        super().__init__()
        self.reduction = check_choice("reduction", reduction, F.REDUCTIONS)
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
            raise TypeError(f"ignore_index: expected an int, got {type(ignore_index).__name__} {ignore_index!r}")
        self.ignore_index = int(ignore_index)

    def forward(self, input: Array, target: Any) -> Any:
        """L = −log softmax(input)[target] per item, reduced (items with ``ignore_index`` left out of the mean).

        ``backward()`` then returns softmax(input) − onehot(target), scaled by the reduction.

        Shapes: input (N, C, *) or (C,); target (N, *) or () -> loss () or (N, *) for reduction "none"
        """
        check_array("input", input, ndim=range(1, 33))
        loss, self._cache = F.cross_entropy_forward(input, np.asarray(target), self.reduction, self.ignore_index)
        return loss[()]

    def _backward(self, grad, cache):
        return F.cross_entropy_backward(grad, cache)


class MSELoss(_Loss):
    """torch.nn.MSELoss(reduction="mean"): (y − t)², averaged/summed/kept."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_choice("reduction", reduction, F.REDUCTIONS)

    def forward(self, input: Array, target: Array) -> Any:
        """L = mean (or sum) of (input − target)²; ``backward()`` then returns 2 (input − target) / n (n = 1 for "sum").

        Shapes: input (*), target same shape -> loss () or (*) for reduction "none"
        """
        check_array("input", input)
        check_array("target", target, dtype=input.dtype)
        loss, self._cache = F.mse_forward(input, target, self.reduction)
        return loss[()]

    def _backward(self, grad, cache):
        return F.mse_backward(grad, cache)


class SumSquaresLoss(_Loss):
    """½ Σ (y − t)² — seed 001's loss (no averaging)."""

    def forward(self, input: Array, target: Array) -> Any:
        """L = ½ Σ (input − target)²; ``backward()`` then returns input − target.

        Shapes: input (*), target same shape -> loss ()
        """
        check_array("input", input)
        check_array("target", target, dtype=input.dtype)
        loss, self._cache = F.sum_squares_forward(input, target)
        return loss[()]

    def _backward(self, grad, cache):
        return F.sum_squares_backward(grad, cache)
