"""The one registry of recurrent cell kinds: name -> step pair, module, gates, state size.

Everything that needs to know which cells exist — the layer loop, the modules,
the reference sum over paths, the lab, the trainer, the command line — asks
here, instead of keeping its own list of names or comparing strings:

    >>> from bptt.functional.cells import get
    >>> kind = get("lstm")
    >>> kind.gates, kind.has_cell_state, kind.state_size(8)
    (4, True, 16)
    >>> h, c, cache = kind.step_forward(x, h, c, W_ih, W_hh, b_ih, b_hh)   # one readable step
    >>> dx, dh, dc, dW_ih, dW_hh, db_ih, db_hh = kind.step_backward(dh, dc, cache)

``step_forward`` / ``step_backward`` give every cell one signature, over the
cell's own readable pair (``rnn_step_forward``, ``lstm_step_forward``,
``gru_step_forward`` and their backwards): (h, c, cache) with c None for cells
without a cell state, and seven gradients with dc_prev None likewise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .gru import gru_step_backward, gru_step_forward
from .lstm import lstm_step_backward, lstm_step_forward
from .rnn import rnn_step_backward, rnn_step_forward

Array = np.ndarray


@dataclass(frozen=True)
class CellKind:
    """One kind of recurrent cell.

    ``family`` is the module family ("rnn", "lstm", "gru": also the key of the
    reference Jacobian step), ``options`` the module's keyword arguments that
    select this kind (``{"nonlinearity": "relu"}``, ``{"reset_after": False}``).
    """

    name: str
    family: str
    gates: int
    has_cell_state: bool
    step_forward: Callable[..., tuple[Array, Array | None, Any]] = field(repr=False)
    step_backward: Callable[..., tuple] = field(repr=False)
    options: dict = field(default_factory=dict)
    torch_equivalent: bool = True  # torch.nn has this cell (parity tests); else finite differences only
    description: str = ""
    # Read on every layer call: plain fields (filled from ``options``), not properties.
    nonlinearity: str | None = field(init=False)  # the Elman cell's f (None for gated cells)
    reset_after: bool = field(init=False)  # the GRU's form (True: torch's; other cells: True, meaningless)
    shared_bias_grad: bool = field(init=False)  # b_ih and b_hh get the same gradient (both a plain sum)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen
        set_(self, "nonlinearity", self.options.get("nonlinearity", "tanh" if self.family == "rnn" else None))
        set_(self, "reset_after", self.options.get("reset_after", True))
        set_(self, "shared_bias_grad", not (self.family == "gru" and self.reset_after))

    def state_size(self, hidden_size: int) -> int:
        """S: H, or 2H for the LSTM (s = [h; c])."""
        return (2 if self.has_cell_state else 1) * hidden_size

    @property
    def module_class(self) -> type:
        """The ``bptt.nn`` module (``RNN``, ``LSTM``, ``GRU``) that runs this kind."""
        from .. import nn

        return getattr(nn, self.family.upper())

    def module(self, input_size: int, hidden_size: int, **kwargs: Any) -> Any:
        """A module of this kind: ``module_class(input_size, hidden_size, **options, **kwargs)``."""
        return self.module_class(input_size, hidden_size, **self.options, **kwargs)

    @property
    def jacobian_step(self) -> Callable:
        """The literal step with explicit Jacobians (:mod:`bptt.reference`)."""
        from .. import reference

        return reference.JACOBIAN_STEPS[self.family]


def _elman(nl: str) -> CellKind:
    def fwd(x, h, c, W_ih, W_hh, b_ih, b_hh):
        h, cache = rnn_step_forward(x, h, W_ih, W_hh, b_ih, b_hh, nl)
        return h, None, cache

    def bwd(dh, dc, cache):
        dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh = rnn_step_backward(dh, cache)
        return dx, dh_prev, None, dW_ih, dW_hh, db_ih, db_hh

    return CellKind(f"rnn-{nl}", "rnn", 1, False, fwd, bwd, {"nonlinearity": nl},
                    torch_equivalent=nl != "sigmoid", description=f"Elman RNN, h = {nl}(W_ih x + W_hh h + b)")


def _lstm_fwd(x, h, c, W_ih, W_hh, b_ih, b_hh, W_hr=None):
    (h, c), cache = lstm_step_forward(x, h, c, W_ih, W_hh, b_ih, b_hh, W_hr)
    return h, c, cache


def _gru(reset_after: bool) -> CellKind:
    def fwd(x, h, c, W_ih, W_hh, b_ih, b_hh):
        h, cache = gru_step_forward(x, h, W_ih, W_hh, b_ih, b_hh, reset_after)
        return h, None, cache

    def bwd(dh, dc, cache):
        dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh = gru_step_backward(dh, cache)
        return dx, dh_prev, None, dW_ih, dW_hh, db_ih, db_hh

    if reset_after:
        return CellKind("gru", "gru", 3, False, fwd, bwd, {}, description="GRU as torch.nn.GRU (r ⊙ (W_hn h + b_hn))")
    return CellKind("gru-textbook", "gru", 3, False, fwd, bwd, {"reset_after": False}, torch_equivalent=False,
                    description="GRU of Cho et al. 2014 / d2l (W_hn (r ⊙ h))")


CELLS: dict[str, CellKind] = {
    kind.name: kind
    for kind in (
        _elman("tanh"), _elman("relu"), _elman("sigmoid"),
        CellKind("lstm", "lstm", 4, True, _lstm_fwd, lstm_step_backward,
                 description="LSTM as torch.nn.LSTM (gates i, f, g, o)"),
        _gru(True), _gru(False),
    )
}
ALIASES = {"rnn": "rnn-tanh"}  # the plain Elman RNN is the tanh one, as in torch


def get(name: str | CellKind, argname: str = "cell") -> CellKind:
    """The cell kind called ``name`` (or ``name`` itself if it already is one).

    An unknown name is one ``ValueError`` naming ``argname`` and the known names.
    """
    if isinstance(name, CellKind):
        return name
    kind = CELLS.get(ALIASES.get(name, name)) if isinstance(name, str) else None
    if kind is None:
        raise ValueError(f"{argname}: expected one of {names()}, got {name!r}")
    return kind


def names(torch_only: bool = False) -> tuple[str, ...]:
    """Every cell name (or those with a torch.nn equivalent), in registry order."""
    return tuple(n for n, k in CELLS.items() if k.torch_equivalent or not torch_only)


def for_module(family: str, **options: Any) -> CellKind:
    """The kind a module of ``family`` with these options runs (``for_module("rnn", nonlinearity="relu")``)."""
    for kind in CELLS.values():
        if kind.family == family and all(kind.options.get(k, _DEFAULTS.get(k)) == v for k, v in options.items()):
            return kind
    raise ValueError(f"{family}: no cell kind with options {options}")


_DEFAULTS = {"nonlinearity": "tanh", "reset_after": True}
