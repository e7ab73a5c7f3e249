"""One step as a module, with torch.nn's contract: ``RNNCell``, ``LSTMCell``, ``GRUCell``.

``CellBase`` owns what the three share — torch's parameter names (``weight_ih``,
``weight_hh``, ``bias_ih``, ``bias_hh``), their U(−1/√H, 1/√H) init, batched
(B, I) or unbatched (I,) input, the zero default state and every error — and
runs the cell's readable step pair from the registry
(:mod:`bptt.functional.cells`), the same functions the reference backend of the
layers runs. A subclass only names its cell kind (and, for the LSTM, that the
state is a tuple).

    h' = cell(x, h)                 dx, dh = cell.backward(dh')               RNNCell, GRUCell
    h', c' = cell(x, (h, c))        dx, (dh, dc) = cell.backward(dh', dc')     LSTMCell

Shapes: x (B, I) or (I,); h, c (B, H) or (H,), as x is batched or not.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_array, check_choice, check_positive_int
from ..functional import cells
from .linear import _require_cache
from .module import Module, _consume

Array = np.ndarray
_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class CellBase(Module):
    """One step of one cell kind (see the module docstring). Subclasses set :attr:`kind`."""

    kind: cells.CellKind

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = np.float32,
                 seed: Any = None) -> None:
        super().__init__(dtype)
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.bias = bool(bias)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        G, H, k = self.kind.gates, hidden_size, 1.0 / np.sqrt(hidden_size)
        for name, shape in zip(_NAMES, ((G * H, input_size), (G * H, H), (G * H,), (G * H,))):
            if bias or name.startswith("weight"):
                self.register_parameter(name, rng.uniform(-k, k, shape))
        self._cache = None

    def forward(self, input: Array, hx: Any = None) -> Any:
        """One step: h' = cell(x, h) (LSTM: (h', c') from (h, c)), state zero when not given.

        Shapes: input (B, I) or (I,); hx (B, H) or (H,) (LSTM: a pair) -> same as hx
        """
        x = check_array("input", input, ndim=(1, 2), dtype=self.dtype)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"input: expected last dimension input_size={self.input_size}, got shape {x.shape}")
        want = x.shape[:-1] + (self.hidden_size,)
        h, c = self._split(hx, "hx")
        h = np.zeros(want, dtype=self.dtype) if h is None else check_array("hx", h, dtype=self.dtype, shape=want)
        if self.kind.has_cell_state:
            c = np.zeros(want, dtype=self.dtype) if c is None else check_array("cx", c, dtype=self.dtype, shape=want)
        W_ih, W_hh, b_ih, b_hh = (self._params[n].data if n in self._params else None for n in _NAMES)
        h_new, c_new, self._cache = self.kind.step_forward(x, h, c, W_ih, W_hh, b_ih, b_hh)
        return self._join(h_new, c_new)

    def backward(self, dh: Array | None, dc: Array | None = None, retain_graph: bool = False) -> tuple[Array, Any]:
        """``dx, dhx = cell.backward(dh')`` (LSTMCell: ``cell.backward(dh', dc')``, either may be None):
        ∂L/∂x and ∂L/∂hx; parameter gradients add into ``grads``. One backward per forward
        unless ``retain_graph=True`` (as torch)."""
        cache = _require_cache(self, self._cache)
        if dc is not None and not self.kind.has_cell_state:
            raise TypeError(f"dc: {type(self).__name__} has no cell state, got an array")
        if dh is None and dc is None:
            raise ValueError("dh: expected the gradient of the output state, got None")
        dx, dh_prev, dc_prev, *dparams = self.kind.step_backward(dh, dc, cache)
        _consume(self, retain_graph)  # after the step checked dh/dc: a refused call consumes nothing
        for name, g in zip(_NAMES, dparams):
            if name in self._params:
                self._params[name].accumulate(g)  # allocates a grad left None by zero_grad(set_to_none=True)
        return dx, self._join(dh_prev, dc_prev)

    def _split(self, state: Any, name: str) -> tuple[Any, Any]:
        if isinstance(state, (tuple, list)):
            raise TypeError(f"{name}: {type(self).__name__} expects one array, got a {type(state).__name__}")
        return state, None

    def _join(self, h: Array, c: Array | None) -> Any:
        return h

    def extra_repr(self) -> str:
        """The arguments shown inside ``repr(module)``'s parentheses, as torch prints them."""
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False") + \
            f", dtype={self.dtype}"


class RNNCell(CellBase):
    """torch.nn.RNNCell: h' = f(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), f ∈ {tanh, relu} (sigmoid: the seeds' own)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype: Any = np.float32, seed: Any = None) -> None:
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ("tanh", "relu", "sigmoid"))
        self.kind = cells.for_module("rnn", nonlinearity=nonlinearity)
        super().__init__(input_size, hidden_size, bias, dtype, seed)

    def extra_repr(self) -> str:
        """The arguments shown inside ``repr(module)``'s parentheses, as torch prints them."""
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"


class LSTMCell(CellBase):
    """torch.nn.LSTMCell: gate blocks i, f, g, o; ``h', c' = cell(x, (h, c))`` (either may be None)."""

    kind = cells.get("lstm")

    def _split(self, state: Any, name: str) -> tuple[Any, Any]:
        if state is None:
            return None, None
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"{name}: LSTMCell expects a tuple (h, c) of two arrays (either may be None), "
                            f"got a {type(state).__name__}")
        return state[0], state[1]

    def _join(self, h: Array, c: Array | None) -> Any:
        return h, c


class GRUCell(CellBase):
    """torch.nn.GRUCell: gate blocks r, z, n; n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).

    ``reset_after=False`` (no torch equivalent) is the textbook form n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = np.float32,
                 seed: Any = None, reset_after: bool = True) -> None:
        if not isinstance(reset_after, (bool, np.bool_)):
            raise TypeError(f"reset_after: expected a bool, got {type(reset_after).__name__} {reset_after!r}")
        self.kind = cells.for_module("gru", reset_after=bool(reset_after))
        super().__init__(input_size, hidden_size, bias, dtype, seed)
