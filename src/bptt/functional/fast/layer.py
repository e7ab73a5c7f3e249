"""The layer loop of the fast backends: buffers allocated once per call, steps written in place.

The reference backend (:mod:`bptt.functional.recurrent`) calls a cell's readable
step pair once per step, input projection included. The fast backends compute
the same numbers with everything that does not depend on the recursion taken
out of the loop:

    forward     P = X W_inᵀ + b_in          one GEMM for every step and every gate
                for t = 0 … T−1:           the recurrence, the only Python loop
                    step(t): H[t+1], C[t+1] from P[t], H[t], C[t]
    backward    for t = T−1 … 0:           dP_t, dQ_t (gradients of the gate pre-activations)
                    dh, dc = step_back(t, ∂L/∂h_t, ∂L/∂c_t)
                dW_ih = dPᵀ X,  dW_hh = dQᵀ H_prev,  dX = dP W_ih      one GEMM each

``P`` is the input part of the gate pre-activations and ``Q`` the recurrent
part (``h_{t−1} W_hhᵀ + b_hh``). For the Elman RNN and the LSTM both enter the
gates as a plain sum, so ``dQ`` *is* ``dP``; torch's GRU multiplies r into its
n block of ``Q``, so there they differ in that block, which is all its backends keep
of ``dQ`` (``hh_grads`` forms dW_hh, db_hh by gate rows).

A backend is a class: :class:`Buffered` here owns the loops, and a subclass per
cell (:mod:`.elman`, :mod:`.lstm`, :mod:`.gru`) provides

    prepare(S)                 once, before P exists: S.W_in / S.b_in (weight and bias of the
                               input GEMM) and the step's scratch
    step(t, S)                 read P[t], H[t], C[t]; write H[t+1], C[t+1] (P[t] may be
                               overwritten with what backward needs, e.g. the activated gates)
    prepare_backward(S)        once per backward: S.dP, S.dQ and scratch
    factors(S, t0, t1)         every backward factor of steps t0…t1−1 that does not depend on
                               the recursion, vectorised over those steps
    step_back(t, g, dc, S) -> (dh_{t−1}, dc_{t−1})
                               g = ∂L/∂h_t, dc = ∂L/∂c_t in total; write S.dP[t], S.dQ[t];
                               never write into g or dc, never return arrays aliasing them

Fused and whole-sequence backends (numba, :mod:`.kernels`) override ``step``,
``step_back`` and the unmasked loops (``forward_loop``, ``backward_loop``).
Every per-call array comes from ``S.empty(name, shape, dtype)``: fresh, or lent
by a :class:`~bptt.functional.fast.workspace.Workspace`. Forward buffers belong
to the state, so backward can run again on it; backward's scratch is per call.
``dP`` is always the gradient of the *unscaled* pre-activation: a backend that
pre-scales gate rows in ``S.W_in`` undoes that in its own backward, and the
layer uses the original W_ih / W_hh for dX and dh.

Shapes (time-major, G gate blocks, H hidden): x (T, B, I); W_ih (G·H, I);
W_hh (G·H, H); P, dP, dQ (T, B, G·H); Hs, C (T+1, B, H); mask (T, B, 1) or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import blas, parallel
from .workspace import Workspace, fresh

Array = np.ndarray


@dataclass(eq=False, slots=True)
class LayerState:
    """What a fast backend keeps from forward for backward (one layer, one direction).

    Subclasses add the fields of one cell's backend; nothing else is attached.
    """

    x: Array
    W_ih: Array
    W_hh: Array
    b_ih: Array | None
    b_hh: Array | None
    mask: Array | None
    T: int
    B: int
    H: int
    dtype: np.dtype
    empty: Callable[..., Array]
    W_in: Array | None = None  # weight of the input GEMM: W_ih, or W_ih with gate rows pre-scaled
    b_in: Array | None = None  # bias added to P once for all steps
    W_hh_T: Array | None = None  # C-contiguous (scaled) W_hhᵀ for the step GEMM
    P: Array | None = None
    Hs: Array | None = None  # Hs[0] = h0, step t writes Hs[t+1] = h_t
    C: Array | None = None  # the same for c (cells with a cell state)
    dP: Array | None = None  # per backward call
    dQ: Array | None = None
    dh_buf: Array | None = None  # (2, B, H): dh of alternate steps
    spend: bool = False  # this backward is the last: a backend may write gradients over forward buffers
    split: bool = False  # the compiled loops run the batch's two halves at once (parallel.choose_rows)


class Buffered:
    """The pure-NumPy fast backend: in-place steps, factors formed outside the loop."""

    name = "numpy"
    State = LayerState
    has_cell_state = False
    compiled = False  # True: the unmasked loops are one compiled call each (nothing to silence)

    # -- forward ------------------------------------------------------------
    def forward(self, cell: Any, xs: Array, h0: Array | None, c0: Array | None, W_ih: Array, W_hh: Array,
                b_ih: Array | None, b_hh: Array | None, mask: Array | None,
                workspace: Workspace | None) -> tuple[Array, Array, Array | None, LayerState]:
        """One layer, one direction: P = X W_inᵀ + b_in in one GEMM, then the recurrence ``step`` by step.

        Returns (out, h_T, c_T, state). ``out`` and the final states are read-only views of the state's
        buffers (backward reads them); with a ``mask`` the outputs past each length are zero and finished
        sequences keep their state.

        Shapes: xs (T, B, I), h0/c0 (B, H) or None, W_ih (G·H, I), W_hh (G·H, H), b_* (G·H,) or None,
        mask (T, B, 1) or None -> out (T, B, H), h_T (B, H), c_T (B, H) or None
        """
        T, B, I = xs.shape
        dt = xs.dtype
        if W_ih.dtype != dt or W_hh.dtype != dt:
            dt = np.result_type(dt, W_ih.dtype, W_hh.dtype)
        S = self.State(xs, W_ih, W_hh, b_ih, b_hh, mask, T, B, W_hh.shape[1], dt,
                       fresh if workspace is None else workspace.empty)
        S.W_in = W_ih
        self.prepare(S, cell)
        GH = S.W_in.shape[0]
        S.Hs = Hs = S.empty("H", (T + 1, B, S.H), dt)
        P = S.P = self.projection_buffer(S, (T, B, GH))
        blas.dot_rows(xs.reshape(T * B, I), S.W_in.T, P.reshape(T * B, GH))
        if S.b_in is not None:
            P += S.b_in
        Hs[0] = 0 if h0 is None else h0
        if self.has_cell_state:
            S.C = S.empty("C", (T + 1, B, S.H), dt)
            S.C[0] = 0 if c0 is None else c0
        if mask is None and self.compiled:
            S.split = parallel.choose_rows(S.B)
            with blas.threads_for_loop(S.B, S.H, GH, dt):  # the loop calls BLAS's gemm itself
                self.forward_loop(S)
        else:
            self._step_loop(S)
        S.W_in = S.W_hh_T = None  # the forward's scaled weight copies: backward reads W_ih, W_hh
        if mask is None:
            out = Hs[1:]
            out.flags.writeable = False  # a view of the state: backward reads it
        else:
            out = Hs[1:] * mask  # outputs past each length are zero
        h = Hs[T]
        h.flags.writeable = False
        c = None
        if S.C is not None:
            c = S.C[T]
            c.flags.writeable = False
        return out, h, c, S

    def _step_loop(self, S: LayerState) -> None:
        """The forward recurrence in Python, one ``step`` per step."""
        step, mask, Hs, Cs = self.step, S.mask, S.Hs, S.C
        errs = np.errstate(over="ignore") if self.uses_exp(S) else blas.NO_CONTEXT
        with blas.threads_for_loop(S.B, S.H, S.P.shape[2], S.dtype), errs:
            if mask is None:
                for t in range(S.T):
                    step(t, S)
                return
            frozen = mask == 0  # (T, B, 1): sequences already past their length keep their state
            for t in range(S.T):
                step(t, S)
                np.copyto(Hs[t + 1], Hs[t], where=frozen[t])
                if Cs is not None:
                    np.copyto(Cs[t + 1], Cs[t], where=frozen[t])

    # -- backward -----------------------------------------------------------
    def backward(self, S: LayerState, dout: Array | None, dh_T: Array | None, dc_T: Array | None,
                 keep_dh: bool, input_grad: bool) -> dict[str, Array | None]:
        """Gradients of one layer and direction in processing order (see :func:`layer_backward`)."""
        T, B, H = S.T, S.B, S.H
        self.prepare_backward(S)
        if S.mask is None and not keep_dh and self.own_backward_loop:
            with blas.threads_for_loop(B, H, S.dP.shape[2], S.dtype):
                dh, dc = self.backward_loop(S, dout, dh_T, dc_T)
            dh_steps = None
        else:
            dh, dc, dh_steps = self._backward_step_loop(S, dout, dh_T, dc_T, keep_dh)
        GH = S.dP.shape[2]
        I = S.x.shape[2]
        dP2 = S.dP.reshape(T * B, GH)
        db_ih = None if S.b_ih is None else blas.sum_rows(dP2)
        dW_hh, db_hh = self.hh_grads(S, dP2, db_ih)
        grads = {
            "dx": self.input_grad(S) if input_grad else None,
            "dh0": dh,
            "dc0": dc,
            "dW_ih": np.dot(dP2.T, S.x.reshape(T * B, I)),
            "dW_hh": dW_hh,
            "db_ih": db_ih,
            "db_hh": db_hh,
        }
        if keep_dh:
            grads["dh"] = dh_steps
        return grads

    # True: after ``backward`` (input_grad=False) S.dP still holds every step's gradient, so ``input_grad``
    # can form dx later, once the caller has freed what it no longer needs (the layer above's dx).
    late_input_grad = True

    def input_grad(self, S: LayerState) -> Array:
        """dx = dP W_ih of the last backward (S.dP: every step).  Shapes: -> (T, B, I)"""
        T, B, I = S.x.shape
        dP2 = S.dP.reshape(T * B, S.dP.shape[2])
        return blas.dot_rows(dP2, S.W_ih, np.empty((T * B, I), dtype=S.dtype)).reshape(T, B, I)

    def hh_grads(self, S: LayerState, dP2: Array, db_ih: Array | None) -> tuple[Array, Array | None]:
        """(dW_hh, db_hh) = (dQᵀ H_prev, Σ dQ) over steps and batch; here dQ is dP (the Elman RNN, the
        LSTM), so db_hh is db_ih. Shapes: dP2 (T·B, G·H), db_ih (G·H,) or None -> (G·H, H), (G·H,) or None"""
        dW_hh = np.dot(dP2.T, S.Hs[:-1].reshape(-1, S.H))
        return dW_hh, None if db_ih is None else db_ih.copy()

    own_backward_loop = False  # True: ``backward_loop`` runs the unmasked recurrence itself
    # True: with ``S.spend`` the gradients of the gate pre-activations (dP, dQ) are written over the
    # forward buffers they come from (P, Q), one step later: dP_t into P's row t+1, dead once step t+1
    # is done (the loops run t = T−1 … 0). Never into row t: with a kernel's input and output
    # overlapping, medium LSTM float32 was 1.1× slower (most likely its vector loop's runtime alias
    # check failing). So P and Q get one spare row (forward_buffer). Peak: one (T, B, G·H) array less.
    backward_in_place = False

    def forward_buffer(self, S: LayerState, name: str, shape: tuple[int, ...]) -> Array:
        """A (T, …) forward buffer a spending backward may reuse: with one spare row after it if so."""
        if not self.backward_in_place:
            return S.empty(name, shape, S.dtype)
        return S.empty(name, (shape[0] + 1,) + tuple(shape[1:]), S.dtype)[:shape[0]]

    def grad_buffer(self, S: LayerState, name: str, forward_buffer: Array) -> Array:
        """The buffer of ``name`` (dP or dQ): rows 1…T of ``forward_buffer``'s array when this backward
        may spend it (see ``backward_in_place``), else an array of its own."""
        if S.spend and self.backward_in_place:
            return forward_buffer.base[1:]
        return S.empty(name, forward_buffer.shape, S.dtype)

    def _backward_step_loop(self, S: LayerState, dout, dh_T, dc_T, keep_dh):
        """The backward recurrence in Python, one ``step_back`` per step -> (dh0, dc0, dh_steps)."""
        T, B, H, dtype, mask = S.T, S.B, S.H, S.dtype, S.mask
        # Contiguous, as compiled kernels expect (a no-op for the usual arrays).
        dh = np.zeros((B, H), dtype=dtype) if dh_T is None else np.ascontiguousarray(dh_T)
        dc = None
        if self.has_cell_state:
            dc = np.zeros((B, H), dtype=dtype) if dc_T is None else np.ascontiguousarray(dc_T)
        dh_steps = np.empty((T, B, H), dtype=dtype) if keep_dh else None
        step = self.step_back
        with blas.threads_for_loop(B, H, S.dP.shape[2], dtype):
            if mask is None and dout is None and not keep_dh:
                for t in self.backward_steps(S):
                    dh, dc = step(t, dh, dc, S)
                return dh, dc, dh_steps
            gbuf = np.empty((B, H), dtype=dtype)
            if mask is not None:
                frozen = mask == 0
                gm = np.empty((B, H), dtype=dtype)
                dcm = np.empty((B, H), dtype=dtype) if dc is not None else None
            for t in self.backward_steps(S):
                g = dh_steps[t] if keep_dh else gbuf  # ∂L/∂h_t: from step t+1 and from out_t
                if dout is None:
                    np.copyto(g, dh)
                else:
                    np.add(dh, dout[t], out=g)
                if mask is None:
                    dh, dc = step(t, g, dc, S)
                    continue
                # A finished sequence's step is the identity on (h, c): its gradient passes through.
                np.multiply(g, mask[t], out=gm)
                if dc is not None:
                    np.multiply(dc, mask[t], out=dcm)
                dh_new, dc_new = step(t, gm, dcm, S)
                np.copyto(dh_new, dh, where=frozen[t])
                if dc is not None:
                    np.copyto(dc_new, dc, where=frozen[t])
                dh, dc = dh_new, dc_new
        return dh, dc, dh_steps

    def backward_steps(self, S: LayerState):
        """Time steps T−1 … 0, with ``factors(S, t0, t1)`` formed chunk by chunk just before the
        loop reaches them: for all steps at once while they fit in about 1 MiB (fewest calls),
        else in chunks that stay in cache until their steps read them back (at the large size,
        one pass over all steps streamed ~20 arrays through memory and cost more than it saved)."""
        step_bytes = S.dP[0].nbytes + (0 if S.dQ is S.dP else S.dQ[0].nbytes)
        k = max(1, _FACTOR_CHUNK_BYTES // max(1, step_bytes))
        chunks = [(0, S.T)] if k >= S.T else [(max(0, t1 - k), t1) for t1 in range(S.T, 0, -k)]
        for t0, t1 in chunks:
            self.factors(S, t0, t1)
            yield from range(t1 - 1, t0 - 1, -1)

    def cell_states(self, S: LayerState) -> Array | None:
        """c_t of every step (T, B, H) in processing order, read-only (None without a cell state)."""
        if S.C is None:
            return None
        c = S.C[1:]
        c.flags.writeable = False  # a view of the state that backward reads
        return c

    # -- what a cell's backend provides ---------------------------------------
    def projection_buffer(self, S: LayerState, shape: tuple[int, ...]) -> Array:
        """Where the input projection P goes (default: an array of its own)."""
        return self.forward_buffer(S, "P", shape)

    def prepare(self, S: LayerState, cell: Any) -> None:  # pragma: no cover - abstract
        """Once per forward, before P exists: set ``S.W_in`` / ``S.b_in`` (the input GEMM's weight and bias,
        gate rows possibly pre-scaled) and the step's scratch buffers.
        """
        raise NotImplementedError

    def uses_exp(self, S: LayerState) -> bool:
        """Whether a step calls exp: e^{x} overflowing to inf is exact there (1/(1+inf) = 0), so
        that warning is silenced around the loop."""
        return True

    def step(self, t: int, S: LayerState) -> None:  # pragma: no cover - abstract
        """Step t of the recurrence: read P[t], H[t] (and C[t]); write H[t+1] (and C[t+1]).

        P[t] may be overwritten with what backward needs (e.g. the activated gates).
        """
        raise NotImplementedError

    def prepare_backward(self, S: LayerState) -> None:  # pragma: no cover - abstract
        """Once per backward call: allocate ``S.dP``, ``S.dQ`` and the scratch of ``step_back``."""
        raise NotImplementedError

    def factors(self, S: LayerState, t0: int, t1: int) -> None:
        """Nothing to form ahead (fused backends compute everything in their step)."""

    def step_back(self, t: int, g: Array, dc: Array | None, S: LayerState):  # pragma: no cover - abstract
        """Step t backwards: from g = ∂L/∂h_t and dc = ∂L/∂c_t (totals) write S.dP[t], S.dQ[t].

        Returns (∂L/∂h_{t−1}, ∂L/∂c_{t−1}) (the latter None without a cell state); never writes into ``g``
        or ``dc`` and never returns arrays aliasing them.

        Shapes: g, dc (B, H) -> (B, H), (B, H) or None
        """
        raise NotImplementedError

    def forward_loop(self, S: LayerState) -> None:  # pragma: no cover - compiled backends only
        """Every forward step in one compiled call (whole-sequence backends; unmasked layers only)."""
        raise NotImplementedError

    def backward_loop(self, S: LayerState, dout, dh, dc):  # pragma: no cover - fused backends only
        """Every backward step in one loop the backend owns (fused and whole-sequence backends, unmasked).

        ``dout`` (T, B, H) or None is ∂L/∂out, ``dh``/``dc`` the gradients reaching the last state;
        returns ∂L/∂h_0 and ∂L/∂c_0 (None without a cell state).
        """
        raise NotImplementedError


_FACTOR_CHUNK_BYTES = 1 << 20
