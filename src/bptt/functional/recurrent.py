"""One recurrent layer in one direction, forward and backward through time.

The reference backend is the crude version, written to be read: the layer loop
calls the cell's readable step pair (:mod:`bptt.functional.cells`) once per step
and adds up the gradients each step returns —

    forward     for t = 0 … T−1:
                    h_t, c_t, cache_t = step_forward(x_t, h_{t−1}, c_{t−1}, W_ih, W_hh, b_ih, b_hh)
    backward    for t = T−1 … 0:         (∂L/∂h_t = dh_t + dout_t: the future and the output)
                    dx_t, dh_{t−1}, dc_{t−1}, dW_ih_t, dW_hh_t, db_ih_t, db_hh_t = step_backward(…)
                dW = Σ_t dW_t, db = Σ_t db_t

— and is a complete backend: every module runs on it with ``backend="reference"``
(or ``BPTT_BACKEND=reference`` for the whole process). The efficient version of
the same numbers lives in :mod:`bptt.functional.fast` (input projections and
parameter gradients as one GEMM each, in-place steps, compiled kernels); which
backend runs is chosen once per call by :func:`bptt.functional.fast.select`.

Variable lengths follow ``pack_padded_sequence``: a sequence of length ℓ updates
its state only for t < ℓ, its outputs past ℓ are zero, and the reverse direction
reads each sequence from its own last valid step backwards.

Shapes (time-major, G gate blocks, H hidden size):
    x: (T, B, I)        h0, c0: (B, H) or None (zeros)    W_ih: (G·H, I)    W_hh: (G·H, H)
    b_ih, b_hh: (G·H,) or None               lengths: (B,) ints in [1, T] or None
    out: (T, B, H)      h_T, c_T: (B, H)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import cells as _cells
from .checkpoint import wrap

Array = np.ndarray

__all__ = ["layer_forward", "layer_backward", "LayerCache", "Reference", "REFERENCE", "Workspace",
           "length_mask", "reverse_order"]


def length_mask(lengths: Array, T: int, dtype: np.dtype) -> Array:
    """m[t, b] = 1 if t < lengths[b] else 0.  Shapes: lengths (B,) -> (T, B, 1)."""
    return (np.arange(T)[:, None] < lengths[None, :]).astype(dtype)[:, :, None]


def reverse_order(T: int, B: int, lengths: Array | None) -> Array:
    """Time indices that reverse each sequence within its own length.

    order[t, b] = ℓ_b − 1 − t for t < ℓ_b, and t otherwise (padding stays put),
    so ``x[order, arange(B)]`` is each sequence read backwards, padded at the
    end, and applying the same gather again undoes it.
    Shapes: lengths (B,) or None -> (T, B)
    """
    t = np.arange(T)[:, None]
    ell = np.full(B, T) if lengths is None else lengths
    return np.where(t < ell[None, :], ell[None, :] - 1 - t, t)


def _gather_time(a: Array, order: Array) -> Array:
    return a[order, np.arange(a.shape[1])[None, :]]


def _reverse_time(a: Array, order: Array, mask: Array | None) -> Array:
    """``a`` with each sequence read backwards (:func:`reverse_order`): without lengths (``mask`` None)
    the view ``a[::-1]`` (no copy: the reverse direction keeps no reversed copy of its input), else the gather."""
    return a[::-1] if mask is None else _gather_time(a, order)


# -- the reference backend ----------------------------------------------------------
@dataclass(eq=False, slots=True)
class ReferenceState:
    """What the reference forward keeps: each step's cache, and c_t for :meth:`cell_states`."""

    cell: Any
    caches: list
    c_seq: list
    mask: Array | None
    B: int
    P: int  # size of h
    H: int  # size of c
    dtype: np.dtype


class Reference:
    """The crude version: the cell's readable step pair, one step at a time (see the module docstring)."""

    name = "reference"

    def forward(self, cell, xs, h0, c0, W_ih, W_hh, b_ih, b_hh, mask, workspace=None, W_hr=None):
        """The cell's readable step pair once per step: h_t, c_t = step_forward(x_t, h_{t−1}, c_{t−1}).

        With a ``mask``, finished sequences keep their state and their outputs are zero. Returns
        (out, h_T, c_T, ReferenceState).

        Shapes: xs (T, B, I), h0 (B, P), c0 (B, H) or None, mask (T, B, 1) or None
            -> out (T, B, P), h_T (B, P), c_T (B, H) or None; P = proj_size (LSTM with W_hr), else H
        """
        T, B, _ = xs.shape
        P, H = W_hh.shape[1], W_hh.shape[0] // cell.gates  # P: size of h (the LSTM's proj_size, else H)
        dtype = np.result_type(xs.dtype, W_ih.dtype, W_hh.dtype)
        h = np.zeros((B, P), dtype=dtype) if h0 is None else h0
        c = None
        if cell.has_cell_state:
            c = np.zeros((B, H), dtype=dtype) if c0 is None else c0
        out = np.empty((T, B, P), dtype=dtype)
        caches, c_seq = [], []
        proj = () if W_hr is None else (W_hr,)
        for t in range(T):
            h_new, c_new, cache = cell.step_forward(xs[t], h, c, W_ih, W_hh, b_ih, b_hh, *proj)
            if mask is not None:  # finished sequences keep their state; their outputs are zero
                m = mask[t]
                h_new = m * h_new + (1 - m) * h
                c_new = None if c is None else m * c_new + (1 - m) * c
            out[t] = h_new if mask is None else mask[t] * h_new
            h, c = h_new, c_new
            caches.append(cache)
            c_seq.append(c)
        return out, h, c, ReferenceState(cell, caches, c_seq, mask, B, P, H, dtype)

    def backward(self, S: ReferenceState, dout, dh_T, dc_T, keep_dh, input_grad):
        """BPTT step by step: g_t = (∂L/∂h_t from step t+1) + ∂L/∂out_t, then the cell's step_backward.

        Parameter gradients are the sums over the steps; a finished sequence's step passes its gradient
        through unchanged. Returns the dict of :func:`layer_backward` (``dh`` of every step with ``keep_dh``).
        """
        T, B, dtype, mask = len(S.caches), S.B, S.dtype, S.mask
        dh = np.zeros((B, S.P), dtype=dtype) if dh_T is None else dh_T
        dc = None
        if S.cell.has_cell_state:
            dc = np.zeros((B, S.H), dtype=dtype) if dc_T is None else dc_T
        dxs, dh_steps, sums = [None] * T, [None] * T, None
        for t in range(T - 1, -1, -1):
            g = dh if dout is None else dh + dout[t]  # ∂L/∂h_t: from step t+1 and from out_t
            dh_steps[t] = g
            m = 1 if mask is None else mask[t]  # a finished sequence's step passes its gradient through
            dx, dh_prev, dc_prev, *dparams = S.cell.step_backward(m * g, None if dc is None else m * dc, S.caches[t])
            dxs[t] = dx
            sums = dparams if sums is None else [None if s is None else s + d for s, d in zip(sums, dparams)]
            dh = dh_prev if mask is None else dh_prev + (1 - m) * dh
            if dc is not None:
                dc = dc_prev if mask is None else dc_prev + (1 - m) * dc
        grads = {"dx": np.stack(dxs) if input_grad else None, "dh0": dh, "dc0": dc,
                 **dict(zip(("dW_ih", "dW_hh", "db_ih", "db_hh", "dW_hr"), sums))}
        if keep_dh:
            grads["dh"] = np.stack(dh_steps)
        return grads

    def cell_states(self, S: ReferenceState) -> Array | None:
        """c_t of every step (T, B, H) in processing order (None without a cell state)."""
        return np.stack(S.c_seq) if S.cell.has_cell_state else None


REFERENCE = Reference()


# -- one layer, any backend -------------------------------------------------------------
class LayerCache:
    """What :func:`layer_backward` needs from :func:`layer_forward`: the backend that ran, its state,
    and the time order (``mask`` (T, B, 1) 1.0 where t < length, ``order`` (T, B) the reverse
    direction's gather; either None)."""

    __slots__ = ("cell", "backend", "state", "mask", "order", "spent")

    def __init__(self, cell: Any, backend: Any, state: Any, mask: Array | None, order: Array | None) -> None:
        self.cell, self.backend, self.state, self.mask, self.order = cell, backend, state, mask, order
        self.spent = False  # a backward with spend=True ran on it

    @property
    def cell_state_seq(self) -> Array | None:
        """c_t of every step (T, B, H) in processing order (None without a cell state).

        Past a sequence's length this is the carried state, not zero.
        """
        return self.backend.cell_states(self.state)


def layer_forward(
    cell: Any,
    x: Array,
    h0: Array | None,
    c0: Array | None,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None,
    b_hh: Array | None,
    lengths: Array | None = None,
    reverse: bool = False,
    workspace: Workspace | None = None,
    backend: str = "auto",
    W_hr: Array | None = None,
    memory: Any = "full",
) -> tuple[Array, Array, Array | None, LayerCache]:
    """Run one direction of one layer over the whole sequence.

    ``cell`` is a cell kind or its name (:mod:`bptt.functional.cells`). Returns
    (out, h_T, c_T, cache); see the module docstring for the equations and
    shapes. With ``lengths``, h_T/c_T are each sequence's state after its own
    last valid step. ``backend`` forces one (see :mod:`bptt.functional.fast`);
    the default chooses. ``W_hr`` (P, H): the LSTM's projection (torch's
    ``proj_size``; h_t and out have P columns; reference backend, and the
    gradients get ``dW_hr``). ``out``, ``h_T`` and ``c_T`` may be read-only views of
    the cache (copy them to modify them). ``workspace`` lends the fast
    backends their per-call arrays (:class:`Workspace`); results are the same.
    ``memory="checkpoint"`` or ``("checkpoint", k)`` keeps only every k-th state
    and recomputes in backward (:mod:`bptt.functional.checkpoint`); same gradients.
    """
    if cell.__class__ is not _cells.CellKind:
        cell = _cells.get(cell)
    T, B, _ = x.shape
    if lengths is not None and (B == 0 or lengths.min() >= T):
        lengths = None  # every sequence is whole: the same computation, without masks
    run = select(cell, B, W_hh.shape[1], lengths is not None, backend, projected=W_hr is not None)
    if memory != "full":
        run = wrap(run, memory)
    order = reverse_order(T, B, lengths) if reverse else None
    mask = None if lengths is None else length_mask(lengths, T, x.dtype)
    xs = _reverse_time(x, order, mask) if reverse else x
    proj = {} if W_hr is None else {"W_hr": W_hr}  # select() chose the reference backend then
    out, h, c, state = run.forward(cell, xs, h0, c0, W_ih, W_hh, b_ih, b_hh, mask, workspace, **proj)
    if reverse:
        out = _reverse_time(out, order, mask)
    return out, h, c, LayerCache(cell, run, state, mask, order)


def layer_backward(
    dout: Array | None,
    dh_T: Array | None,
    dc_T: Array | None,
    cache: LayerCache,
    keep_dh: bool = False,
    input_grad: bool = True,
    spend: bool = False,
) -> dict[str, Array | None]:
    """Backpropagate through time for one direction of one layer.

    ``dout`` (T, B, H) is ∂L/∂out, ``dh_T``/``dc_T`` (B, H) are ∂L/∂h_T, ∂L/∂c_T;
    any of them may be None (zero). Nothing given is modified, the cache
    included (backward may run again on it).

    Returns a dict with dx (T, B, I), dh0, dc0 (B, H), dW_ih, dW_hh, db_ih,
    db_hh and, with ``keep_dh``, dh (T, B, H): the total ∂L/∂h_t of every step
    (what ``h_t.retain_grad()`` shows in torch). With ``input_grad=False`` dx
    is None and its GEMM is skipped (the input is data, as a torch tensor
    without ``requires_grad``). ``spend=True``: this is the cache's last backward (torch's
    default, ``retain_graph=False``); a fast backend may then write the gradients over the
    forward buffers they come from (one (T, B, G·H) array less at the peak), and a later
    backward on the cache is a ValueError.
    """
    if cache.spent:
        raise ValueError("cache: expected a cache no backward has spent, got one spent by layer_backward(spend=True)")
    if spend:
        cache.spent = True
        if hasattr(cache.state, "spend"):  # the fast backends' LayerState
            cache.state.spend = True
    order = cache.order
    if dout is not None and order is not None:
        dout = _reverse_time(dout, order, cache.mask)
    grads = cache.backend.backward(cache.state, dout, dh_T, dc_T, keep_dh, input_grad)
    if order is not None:
        if grads["dx"] is not None:
            grads["dx"] = _reverse_time(grads["dx"], order, cache.mask)
        if keep_dh:
            grads["dh"] = _reverse_time(grads["dh"], order, cache.mask)
    return grads


def defers_input_grad(cache: LayerCache) -> bool:
    """Whether :func:`layer_input_grad` can form dx after ``layer_backward(..., input_grad=False)``."""
    return bool(getattr(cache.backend, "late_input_grad", False))


def layer_input_grad(cache: LayerCache) -> Array:
    """dx (T, B, I) of the last :func:`layer_backward` on ``cache``, run with ``input_grad=False`` (a backend
    for which :func:`defers_input_grad`): the same GEMM, later, so that a caller can first free the gradient
    that backward read (a stack's dx of the layer above: one (T, B, H) array less at the peak)."""
    dx = cache.backend.input_grad(cache.state)
    return dx if cache.order is None else _reverse_time(dx, cache.order, cache.mask)


# The backend table imports REFERENCE from this module, so it comes last (no import cycle at load time).
from .fast import select  # noqa: E402
from .fast.workspace import Workspace  # noqa: E402
