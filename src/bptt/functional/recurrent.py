"""One recurrent layer in one direction, forward and backward through time.

This is the only place where time is looped over. A *cell* (Elman RNN, LSTM,
GRU) contributes only its step: how the gate pre-activations of one step become
the new state, and the reverse. Everything else is shared and vectorised:

    forward
        P = X W_ihᵀ + b            one GEMM for every step and every gate
        for t = 0 … T−1:           the recurrence, the only Python loop
            h_t, c_t = cell.step(P_t, h_{t−1}, c_{t−1})
    backward
        for t = T−1 … 0:           gradients of the gate pre-activations
            dP_t, dQ_t, dh_{t−1}, dc_{t−1} = cell.step_backward(dh_t, dc_t)
        dW_ih = dPᵀ X              one GEMM over all steps
        dW_hh = dQᵀ H_prev         one GEMM over all steps
        dX    = dP W_ih            one GEMM over all steps

``P`` is the input part of the gate pre-activations and ``Q`` the recurrent
part (``h_{t−1} W_hhᵀ + b_hh``). For the Elman RNN and the LSTM both enter the
gates as a plain sum, so ``dQ`` *is* ``dP`` (and grad b_ih = grad b_hh); the GRU
multiplies ``r`` into its n-block of ``Q``, so there they differ.

Variable lengths follow ``pack_padded_sequence``: a sequence of length ℓ updates
its state only for t < ℓ, its outputs past ℓ are zero, and the reverse direction
reads each sequence from its own last valid step backwards.

Two ways for a cell to run through the loop
-------------------------------------------
*The step protocol* (every cell has it; it is also what the one-step functions
of :mod:`bptt.functional.cellstep` use): ``step_forward`` returns new arrays
and a per-step cache, ``step_backward`` returns ``(dP_t, dQ_t, dh_{t−1},
dc_{t−1})``. Simple to read and to write — a new cell needs only this.

*The buffered protocol* (a cell with ``buffered = True``; the built-in cells
all have it). Here the steps write into arrays the layer allocates once per
call, so a step is a handful of NumPy calls with ``out=`` and no allocation,
and everything that does not depend on the recursion is done for all steps at
once outside the loop. The layer cache ``S`` (:class:`LayerCache`) carries:

    S.P (T, B, G·H)   the input projections; the cell may overwrite P[t]
                      during step t with what its backward needs (e.g. the
                      activated gates) — P is the cell's per-step storage
    S.H (T+1, B, H)   S.H[0] = h0, step t writes S.H[t+1] = h_t
    S.C (T+1, B, H)   the same for c (cells with a cell state), else None

and the cell implements

    prepare_forward(S)         once, before P exists: set S.W_in / S.b_in (the
                               weight and bias of the input GEMM, default W_ih
                               and None) and anything the steps need; set
                               S.uses_exp = False if no step calls exp (then
                               overflow warnings are not silenced)
    step_forward_into(t, S)    read P[t], H[t], C[t]; write H[t+1], C[t+1]
    prepare_backward(S)        once, before the backward loop: set S.dP (T, B, G·H)
                               and S.dQ (or S.dQ = S.dP) and any scratch
    backward_factors(S, t0, t1)  every factor of steps t0…t1−1 that does not
                               depend on the recursion (vectorised over those
                               steps; the layer calls it for all steps at once
                               when small, else for cache-sized chunks, latest
                               first, each before the loop reaches them)
    step_backward_into(t, g, dc, S) -> (dh_{t−1}, dc_{t−1})
                               g = ∂L/∂h_t and dc = ∂L/∂c_t in total; write
                               S.dP[t] and S.dQ[t]. Never write into g or dc,
                               and return arrays that do not alias them.

plus, optionally, ``weight_hh_grad_seq(dQ, S) -> dW_hh`` when dW_hh is not
dQᵀ H_prev (the textbook GRU), and a compiled loop over all steps for layers
so small that the Python around a step costs more than its arithmetic: when
``prepare_forward`` sets ``S.compiled_loop = True``, the layer calls
``forward_loop(S)`` instead of the step loop, unless there are lengths. A cell
may also run the unmasked backward recurrence itself (the compiled one, or a
loop whose kernel takes ∂L/∂out_t and the recurrent part of ∂L/∂h_t apart and
sums them, one NumPy call fewer per step): when ``S.own_backward_loop`` is set,
the layer calls ``backward_loop(S, dout, dh_T, dc_T) -> (dh0, dc0)`` instead of
the backward one (same rules: write S.dP/S.dQ, never into what is given; dout,
dh_T, dc_T may be None), unless there are lengths or ``keep_dh``. Forward
buffers belong to the cache, so backward can be run again on the same cache;
backward's scratch is allocated per call.
A cell allocates its per-call arrays through ``S.empty(name, shape)``: fresh
arrays, or, when the caller passes a :class:`Workspace`, arrays reused from an
earlier call that nothing references any more (see there why that matters).
``dP`` is always the gradient with respect to the *unscaled* pre-activation: a
cell that pre-scales its gate rows in ``S.W_in`` (σ(z) = ½·tanh(z/2) + ½ with
the sigmoid rows halved, one transcendental call for all gates) undoes that in
its own backward, and the layer uses the original W_ih / W_hh for dX and dh.

Shapes (time-major, G = number of gate blocks, H = hidden size):
    x: (T, B, I)        h0, c0: (B, H) or None (zeros)    W_ih: (G·H, I)    W_hh: (G·H, H)
    b_ih, b_hh: (G·H,) or None               lengths: (B,) ints in [1, T] or None
    out: (T, B, H)      h_T, c_T: (B, H)
"""

from __future__ import annotations

import math
import sys
import time
from contextlib import nullcontext
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

Array = np.ndarray


class Cell(Protocol):
    """What a recurrent cell must provide to run through :func:`layer_forward`.

    The step protocol below is required; ``buffered = True`` and the four
    buffered methods (see the module docstring) are the fast path.
    """

    gates: int  # G: number of H-sized blocks in W_ih / W_hh
    has_cell_state: bool  # True for the LSTM (it carries c)
    shared_bias_grad: bool  # True when dQ == dP (Elman, LSTM)

    def split_bias(self, b_ih: Array | None, b_hh: Array | None) -> tuple[Array | None, Array | None]:
        """Return (bias added to P once for all steps, bias kept inside the step)."""

    def step_forward(
        self, p: Array, h: Array, c: Array | None, W_hh: Array, b_step: Array | None
    ) -> tuple[Array, Array | None, Any]:
        """(P_t, h_{t−1}, c_{t−1}) -> (h_t, c_t, cache_t)."""

    def step_backward(
        self, dh: Array, dc: Array | None, cache: Any, W_hh: Array
    ) -> tuple[Array, Array, Array, Array | None]:
        """(dh_t, dc_t, cache_t) -> (dP_t, dQ_t, dh_{t−1}, dc_{t−1})."""

    # Optional: ``weight_hh_grad(dQ, h_prev, steps) -> dW_hh``, for a cell whose
    # recurrent GEMM does not read h_{t−1} unchanged in every gate block (the
    # textbook GRU multiplies W_hn by r ⊙ h_{t−1}). dQ: (N, G·H), h_prev: (N, H)
    # with N = (steps)·B in step order, steps: the per-step caches. Without it,
    # dW_hh = dQᵀ H_prev (see :func:`weight_hh_grad`).


def weight_hh_grad(cell: Cell, dQ: Array, h_prev: Array, steps: list) -> Array:
    """dW_hh = dQᵀ H_prev, or the cell's own ``weight_hh_grad`` when it has one.

    Shapes: dQ (N, G·H), h_prev (N, H), steps: N/B per-step caches -> (G·H, H)
    """
    hook = getattr(cell, "weight_hh_grad", None)
    if hook is not None:
        return hook(dQ, h_prev, steps)
    return np.dot(dQ.T, h_prev)


class Workspace:
    """Per-call arrays of one layer and direction, reused from call to call.

    Why: the history and gate buffers of a large layer are tens of MB. Fresh
    from the allocator every call, they are fresh pages from the kernel, and
    their first touch costs more than the arithmetic written into them (on
    this project's machines a large GRU forward took 300 ms with reused memory
    and 800 ms with fresh). A module keeps one workspace per layer and
    direction and passes it to :func:`layer_forward`.

    Safety: an array is handed out again only when nothing but the workspace
    references it — no cache, no output view a caller kept (``out`` of a
    buffered layer *is* a view of ``H``) — which CPython's reference count
    tells exactly. Otherwise a fresh array is allocated (and kept for the next
    call, at most ``keep`` per name, so a caller who holds on to last call's
    outputs makes the pool alternate between two sets). Small arrays always
    come fresh: the allocator recycles those cheaply, and the lookup would cost
    more than it saves.
    """

    MIN_BYTES = 1 << 16
    # References to a free pooled array while ``_free`` looks at it: the pool's list, the loop
    # variable and getrefcount's own argument.
    _FREE_REFS = 3
    _enabled = sys.implementation.name == "cpython"

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._pool: dict[str, list[Array]] = {}

    def empty(self, name: str, shape: tuple[int, ...], dtype: Any) -> Array:
        """An uninitialised array of this shape and dtype, reused if one is free."""
        dtype = np.dtype(dtype)
        if math.prod(shape) * dtype.itemsize < self.MIN_BYTES or not self._enabled:
            return np.empty(shape, dtype=dtype)
        pool = self._pool.setdefault(name, [])
        for a in pool:
            if a.shape == shape and a.dtype == dtype and sys.getrefcount(a) == self._FREE_REFS:
                return a
        a = np.empty(shape, dtype=dtype)
        if len(pool) >= self.keep:
            pool.pop(0)
        pool.append(a)
        return a

    def clear(self) -> None:
        """Drop every pooled array (they are freed once no cache uses them)."""
        self._pool.clear()


def _fresh(name: str, shape: tuple[int, ...], dtype: Any) -> Array:
    return np.empty(shape, dtype=dtype)


class LayerCache:
    """Everything :func:`layer_backward` needs from :func:`layer_forward`.

    Always: ``cell``, ``x`` (T, B, I) in processing order (already reversed for
    the reverse direction), ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh``,
    ``has_bias``, ``mask`` ((T, B, 1) 1.0 where t < length, else None),
    ``order`` ((T, B) time gather of the reverse direction, else None).
    Buffered cells: ``P``, ``H``, ``C`` (see the module docstring) and whatever
    the cell adds. Step cells: ``h_prev`` (T, B, H) and ``steps`` (per-step caches).
    """

    def __init__(self, cell, x, W_ih, W_hh, b_ih, b_hh, mask, order, workspace: Workspace | None = None) -> None:
        self.cell = cell
        # Every per-call array comes from here: ``S.empty(name, shape, dtype)``.
        self.empty = _fresh if workspace is None else workspace.empty
        self.x = x
        self.W_ih = W_ih
        self.W_hh = W_hh
        self.b_ih = b_ih
        self.b_hh = b_hh
        self.has_bias = b_ih is not None
        self.mask = mask
        self.order = order
        T, B = x.shape[0], x.shape[1]
        self.T, self.B, self.hidden = T, B, W_hh.shape[1]
        dt = x.dtype
        self.dtype = dt if W_ih.dtype == dt and W_hh.dtype == dt else np.result_type(dt, W_ih.dtype, W_hh.dtype)
        self.C = None

    @property
    def cell_state_seq(self) -> Array | None:
        """c_t of every step (T, B, H) in processing order (None without a cell state).

        Past a sequence's length this is the carried state, not zero.
        """
        if self.C is not None:
            c = self.C[1:]
            c.flags.writeable = False  # a view of the cache that backward reads
            return c
        steps = getattr(self, "steps", None)
        if steps and getattr(self.cell, "has_cell_state", False):
            return np.stack([st[1] for st in steps])
        return None


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


@lru_cache(maxsize=64)
def gate_scale(blocks: tuple[int, ...], H: int, dtype: np.dtype) -> Array:
    """Column (G·H, 1) with ``blocks[k]`` in the rows of gate block k (read-only, cached per call site).

    The cells pre-scale their gate rows by it (−1 for σ, −2 for tanh through one exp).
    """
    s = np.repeat(np.asarray(blocks, dtype=dtype), H)[:, None]
    s.flags.writeable = False
    return s


def transposed(W: Array, scale: Array | float | None = None) -> Array:
    """A C-contiguous copy of Wᵀ (times ``scale``, a (G·H, 1) column or a number), for the step GEMM.

    The step GEMM h·W_hhᵀ is 8–25 % faster with a contiguous Wᵀ than with the
    transposed view (measured at B·H = 16·64 … 64·512). The copy goes in blocks
    of rows that stay in cache: NumPy's plain transposed copy strides through
    memory (1536 × 512 float32: 4.1 ms against 0.6 ms).
    Shapes: W (R, C) -> (C, R)
    """
    R, C = W.shape
    if R <= _TRANSPOSE_ROWS:  # one block: NumPy's own copy
        return np.ascontiguousarray(W.T) if scale is None else np.multiply(W.T, np.transpose(scale), order="C")
    out = np.empty((C, R), dtype=W.dtype if scale is None else np.result_type(W.dtype, scale))
    for i in range(0, R, _TRANSPOSE_ROWS):
        block, dst = W[i:i + _TRANSPOSE_ROWS].T, out[:, i:i + _TRANSPOSE_ROWS]
        if scale is None:
            dst[...] = block
        else:
            np.multiply(block, scale[i:i + _TRANSPOSE_ROWS].T if isinstance(scale, np.ndarray) else scale, out=dst)
    return out


_TRANSPOSE_ROWS = 64


def _gather_time(a: Array, order: Array) -> Array:
    return a[order, np.arange(a.shape[1])[None, :]]


# -- BLAS threads for the per-step GEMMs ---------------------------------------
# The recurrent GEMM of one step, (B × H)·(H × G·H), is small. Whether OpenBLAS should split a
# mid-sized one over its threads depends on the machine: on one 2-core host (32×256)·(256×256)
# float32 took 80 µs on one thread and 120 µs on two, on another the two were equal, and on a
# third (Intel, AVX-512) two threads made a whole medium RNN 10 % faster. So inside that band the
# layer measures instead of assuming: once per shape, dtype and thread setting in a process, a
# short chain of such GEMMs (each output feeding the next through a tanh, as in the loop) runs on
# one thread and on all, and the loop runs on one thread only if that was clearly (5 %) faster
# (threadpoolctl, an optional dependency; without it nothing is limited). Below the band
# OpenBLAS uses one thread anyway; above it every thread pays. The big GEMMs outside the loop
# always keep every thread. The results do not depend on the choice: OpenBLAS splits the
# output, not the sums (bitwise equal, measured at these shapes, and tested).
_ONE_THREAD_BAND = (1 << 18, 1 << 22)  # B·H·G·H multiply-adds of one step
_controller: Any = None
_NO_CONTEXT = nullcontext()  # reusable; one fewer object per call
_one_thread_faster: dict[tuple, bool] = {}  # (B, H, GH, dtype, threads) -> measured choice


def _blas_threads_for_loop(B: int, H: int, GH: int, dtype: np.dtype):
    if not (_ONE_THREAD_BAND[0] <= B * H * GH < _ONE_THREAD_BAND[1]):
        return _NO_CONTEXT
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controller = False
        else:
            _controller = ThreadpoolController()
    if _controller is False:
        return _NO_CONTEXT
    blas = _controller.select(user_api="blas")
    threads = tuple(p.num_threads for p in blas.lib_controllers)
    if all(n <= 1 for n in threads):
        return _NO_CONTEXT
    key = (B, H, GH, np.dtype(dtype), threads)
    one = _one_thread_faster.get(key)
    if one is None:
        one = _one_thread_faster[key] = _gemm_chain_faster_on_one_thread(B, H, GH, np.dtype(dtype), blas)
    return blas.limit(limits=1) if one else _NO_CONTEXT


def _gemm_chain_faster_on_one_thread(B: int, H: int, GH: int, dtype: np.dtype, blas, steps: int = 16,
                                     rounds: int = 5) -> bool:
    """Time ``steps`` chained step GEMMs on all BLAS threads and on one, ``rounds`` times
    alternately; True when one thread's best is at least 5 % faster (near a tie the BLAS keeps
    its own choice; 2–15 ms, once per shape)."""
    h = np.full((B, H), 0.5, dtype=dtype)
    W = np.full((H, GH), 1.0 / H, dtype=dtype)  # keeps h near 0.5: no overflow, no subnormals
    q = np.empty((B, GH), dtype=dtype)

    def chain() -> float:
        t0 = time.perf_counter()
        for _ in range(steps):
            np.dot(h, W, out=q)
            np.tanh(q[:, :H], out=h)
        return time.perf_counter() - t0

    chain()  # warm-up
    every = one = math.inf
    for _ in range(rounds):
        every = min(every, chain())
        with blas.limit(limits=1):
            one = min(one, chain())
    return one < 0.95 * every


# -- forward --------------------------------------------------------------------
def layer_forward(
    cell: Cell,
    x: Array,
    h0: Array,
    c0: Array | None,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None,
    b_hh: Array | None,
    lengths: Array | None = None,
    reverse: bool = False,
    workspace: Workspace | None = None,
) -> tuple[Array, Array, Array | None, LayerCache]:
    """Run one direction of one layer over the whole sequence.

    Returns (out, h_T, c_T, cache); see the module docstring for the equations
    and shapes. With ``lengths``, h_T/c_T are each sequence's state after its
    own last valid step. For a buffered cell ``out``, ``h_T`` and ``c_T`` may
    be read-only views of the cache (copy them to modify them). ``workspace``
    lends the per-call arrays (see :class:`Workspace`); results are the same.
    """
    T, B, I = x.shape
    if lengths is not None and lengths.min() >= T:
        lengths = None  # every sequence is whole: the same computation, without masks
    order = reverse_order(T, B, lengths) if reverse else None
    xs = _gather_time(x, order) if reverse else x
    mask = None if lengths is None else length_mask(lengths, T, x.dtype)
    S = LayerCache(cell, xs, W_ih, W_hh, b_ih, b_hh, mask, order, workspace)
    if getattr(cell, "buffered", False):
        out, h, c = _forward_buffered(S, h0, c0)
    else:
        out, h, c = _forward_steps(S, h0, c0)
    if reverse:
        out = _gather_time(out, order)
    return out, h, c, S


def _forward_steps(S: LayerCache, h0: Array, c0: Array | None):
    """The step protocol: each step returns new arrays and its cache."""
    cell, xs, mask = S.cell, S.x, S.mask
    T, B, I = xs.shape
    H = S.hidden
    b_all, b_step = cell.split_bias(S.b_ih, S.b_hh)
    P = np.dot(xs.reshape(T * B, I), S.W_ih.T)
    if b_all is not None:
        P += b_all
    P = P.reshape(T, B, cell.gates * H)
    out = np.empty((T, B, H), dtype=P.dtype)
    h_prev = np.empty((T, B, H), dtype=P.dtype)
    steps = []
    h = np.zeros((B, H), dtype=P.dtype) if h0 is None else h0
    c = np.zeros((B, H), dtype=P.dtype) if c0 is None and cell.has_cell_state else c0
    for t in range(T):
        h_prev[t] = h
        h_new, c_new, step = cell.step_forward(P[t], h, c, S.W_hh, b_step)
        steps.append(step)
        if mask is None:
            h, c = h_new, c_new
            out[t] = h_new
        else:
            m = mask[t]
            np.multiply(h_new, m, out=out[t])
            h = out[t] + (1 - m) * h
            if c is not None:
                c = m * c_new + (1 - m) * c
    S.h_prev, S.steps = h_prev, steps
    return out, h, c


def _forward_buffered(S: LayerCache, h0: Array, c0: Array | None):
    """The buffered protocol: steps write into P, H, C (see the module docstring)."""
    cell, xs, mask = S.cell, S.x, S.mask
    T, B, I = xs.shape
    H, dtype = S.hidden, S.dtype
    S.W_in, S.b_in = S.W_ih, None
    cell.prepare_forward(S)
    GH = S.W_in.shape[0]
    P = S.empty("P", (T, B, GH), dtype)
    np.dot(xs.reshape(T * B, I), S.W_in.T, out=P.reshape(T * B, GH))
    if S.b_in is not None:
        P += S.b_in
    S.P = P
    S.H = Hs = S.empty("H", (T + 1, B, H), dtype)
    if h0 is None:
        Hs[0] = 0
    else:
        Hs[0] = h0
    Cs = None
    if cell.has_cell_state:
        S.C = Cs = S.empty("C", (T + 1, B, H), dtype)
        if c0 is None:
            Cs[0] = 0
        else:
            Cs[0] = c0
    if mask is None and getattr(S, "compiled_loop", False):
        cell.forward_loop(S)  # one compiled call: no BLAS inside, no NumPy warnings to silence
    else:
        _step_loop(S, mask, Hs, Cs)
    if mask is None:
        out = Hs[1:]
        out.flags.writeable = False  # a view of the cache: backward reads it
    else:
        out = Hs[1:] * mask  # outputs past each length are zero
    h = Hs[T]
    h.flags.writeable = False
    c = None
    if Cs is not None:
        c = Cs[T]
        c.flags.writeable = False
    return out, h, c


def _step_loop(S: LayerCache, mask: Array | None, Hs: Array, Cs: Array | None) -> None:
    """The forward recurrence in Python, one ``step_forward_into`` per step."""
    step, T = S.cell.step_forward_into, S.T
    # Gates through exp (a cell that sets S.uses_exp): e^{x} overflows to inf for large x and
    # 1/(1+inf) = 0 is the exact answer, so that warning is silenced.
    errs = np.errstate(over="ignore") if getattr(S, "uses_exp", True) else _NO_CONTEXT
    with _blas_threads_for_loop(S.B, S.hidden, S.P.shape[2], S.dtype), errs:
        if mask is None:
            for t in range(T):
                step(t, S)
        else:
            frozen = mask == 0  # (T, B, 1): sequences already past their length keep their state
            for t in range(T):
                step(t, S)
                np.copyto(Hs[t + 1], Hs[t], where=frozen[t])
                if Cs is not None:
                    np.copyto(Cs[t + 1], Cs[t], where=frozen[t])


# -- backward -------------------------------------------------------------------
def layer_backward(
    dout: Array | None,
    dh_T: Array | None,
    dc_T: Array | None,
    cache: LayerCache,
    keep_dh: bool = False,
    input_grad: bool = True,
) -> dict[str, Array | None]:
    """Backpropagate through time for one direction of one layer.

    ``dout`` (T, B, H) is ∂L/∂out, ``dh_T``/``dc_T`` (B, H) are ∂L/∂h_T, ∂L/∂c_T;
    any of them may be None (zero). Nothing given is modified, the cache
    included (backward may run again on it).

    Returns a dict with dx (T, B, I), dh0, dc0 (B, H), dW_ih, dW_hh, db_ih,
    db_hh and, with ``keep_dh``, dh (T, B, H): the total ∂L/∂h_t of every step
    (what ``h_t.retain_grad()`` shows in torch). With ``input_grad=False`` dx
    is None and its GEMM is skipped (the input is data, as a torch tensor
    without ``requires_grad``).
    """
    S = cache
    cell, xs, order = S.cell, S.x, S.order
    T, B, I = xs.shape
    H = S.hidden
    if dout is not None and order is not None:
        dout = _gather_time(dout, order)
    if getattr(cell, "buffered", False):
        dP, dQ, dh, dc, dh_steps, dW_hh_of = _backward_buffered(S, dout, dh_T, dc_T, keep_dh)
    else:
        dP, dQ, dh, dc, dh_steps, dW_hh_of = _backward_steps(S, dout, dh_T, dc_T, keep_dh)
    GH = dP.shape[2]
    dP2 = dP.reshape(T * B, GH)
    dQ2 = dQ.reshape(T * B, GH)
    dx = np.dot(dP2, S.W_ih).reshape(T, B, I) if input_grad else None
    if order is not None:
        if input_grad:
            dx = _gather_time(dx, order)
        if keep_dh:
            dh_steps = _gather_time(dh_steps, order)
    db_ih = db_hh = None
    if S.has_bias:
        db_ih = _sum_rows(dP2)
        db_hh = db_ih.copy() if dQ is dP else _sum_rows(dQ2)
    grads = {
        "dx": dx,
        "dh0": dh,
        "dc0": dc,
        "dW_ih": np.dot(dP2.T, xs.reshape(T * B, I)),
        "dW_hh": dW_hh_of(dQ2),
        "db_ih": db_ih,
        "db_hh": db_hh,
    }
    if keep_dh:
        grads["dh"] = dh_steps
    return grads


def _sum_rows(a: Array) -> Array:
    """Σ over the rows of a (N, K) array: the bias gradient summed over steps and batch.

    From 256 rows on as a GEMV with ones: 2–4× faster than ``np.add.reduce`` over
    axis 0 (BLAS uses every thread) and, in float32, more accurate (measured at
    8192 × 1536). Below, the plain reduction costs less than making the ones.
    """
    if a.shape[0] < 256:
        return np.add.reduce(a, axis=0)
    return np.dot(np.ones(a.shape[0], dtype=a.dtype), a)


def _backward_steps(S: LayerCache, dout, dh_T, dc_T, keep_dh):
    """The step protocol's backward loop."""
    cell, mask = S.cell, S.mask
    T, B, H, dtype = S.T, S.B, S.hidden, S.h_prev.dtype
    GH = cell.gates * H
    dP = np.empty((T, B, GH), dtype=dtype)
    dQ = dP if cell.shared_bias_grad else np.empty((T, B, GH), dtype=dtype)
    dh_steps = np.empty((T, B, H), dtype=dtype) if keep_dh else None
    dh = np.zeros((B, H), dtype=dtype) if dh_T is None else dh_T
    dc = None
    if cell.has_cell_state:
        dc = np.zeros((B, H), dtype=dtype) if dc_T is None else dc_T
    for t in range(T - 1, -1, -1):
        g = dh if dout is None else dh + dout[t]
        if keep_dh:
            dh_steps[t] = g
        if mask is None:
            dP[t], dQ_t, dh, dc = cell.step_backward(g, dc, S.steps[t], S.W_hh)
        else:
            m = mask[t]
            dc_new = None if dc is None else m * dc
            dP[t], dQ_t, dh_prev, dc_prev = cell.step_backward(m * g, dc_new, S.steps[t], S.W_hh)
            dh = dh_prev + (1 - m) * dh
            if dc is not None:
                dc = dc_prev + (1 - m) * dc
        if dQ is not dP:
            dQ[t] = dQ_t
    h_prev = S.h_prev.reshape(T * B, H)
    return dP, dQ, dh, dc, dh_steps, lambda dQ2: weight_hh_grad(cell, dQ2, h_prev, S.steps)


# Backward factors are formed for a chunk of steps just before the loop reaches them: for all
# steps at once while they fit in about 1 MiB (fewest calls), else in chunks that stay in cache
# until their steps read them back (at the large size, one pass over all steps streamed
# ~20 arrays through memory and cost more than it saved).
_FACTOR_CHUNK_BYTES = 1 << 20


def _chunks(T: int, step_bytes: int) -> list[tuple[int, int]]:
    """[(t0, t1), …] covering 0…T−1, latest first, each at most ~1 MiB of factors."""
    k = max(1, _FACTOR_CHUNK_BYTES // max(1, step_bytes))
    if k >= T:
        return [(0, T)]
    return [(max(0, t1 - k), t1) for t1 in range(T, 0, -k)]


def _steps(chunks, factors, S):
    """Time steps T−1 … 0, forming each chunk's factors before its first step."""
    for t0, t1 in chunks:
        factors(S, t0, t1)
        yield from range(t1 - 1, t0 - 1, -1)


def _factor_chunks(S) -> list[tuple[int, int]]:
    return _chunks(S.T, S.dP[0].nbytes + (0 if S.dQ is S.dP else S.dQ[0].nbytes))


def backward_steps(S, factors):
    """Time steps T−1 … 0 for a cell's own backward loop, with ``factors(S, t0, t1)`` formed
    chunk by chunk just before the loop reaches them (as :func:`_backward_step_loop` does)."""
    return _steps(_factor_chunks(S), factors, S)


def _backward_buffered(S: LayerCache, dout, dh_T, dc_T, keep_dh):
    """The buffered protocol's backward (see the module docstring)."""
    cell, mask = S.cell, S.mask
    T, B, H = S.T, S.B, S.hidden
    cell.prepare_backward(S)
    if mask is None and not keep_dh and getattr(S, "own_backward_loop", False):
        # A compiled loop makes no BLAS call; a Python one gets the loop's BLAS threads.
        compiled = getattr(S, "compiled_loop", False)
        threads = _NO_CONTEXT if compiled else _blas_threads_for_loop(B, H, S.dP.shape[2], S.dtype)
        with threads:
            dh, dc = cell.backward_loop(S, dout, dh_T, dc_T)
        dh_steps = None
    else:
        dh, dc, dh_steps = _backward_step_loop(S, dout, dh_T, dc_T, keep_dh)
    hook = getattr(cell, "weight_hh_grad_seq", None)
    if hook is not None:
        dW_hh_of = lambda dQ2: hook(dQ2, S)  # noqa: E731
    else:
        h_prev = S.H[:-1].reshape(T * B, H)
        dW_hh_of = lambda dQ2: np.dot(dQ2.T, h_prev)  # noqa: E731
    return S.dP, S.dQ, dh, dc, dh_steps, dW_hh_of


def _backward_step_loop(S: LayerCache, dout, dh_T, dc_T, keep_dh):
    """The backward recurrence in Python, one ``step_backward_into`` per step -> (dh0, dc0, dh_steps)."""
    cell, mask = S.cell, S.mask
    T, B, H, dtype = S.T, S.B, S.hidden, S.dtype
    # Contiguous, as compiled kernels expect (a no-op for the usual arrays).
    dh = np.zeros((B, H), dtype=dtype) if dh_T is None else np.ascontiguousarray(dh_T)
    dc = None
    if cell.has_cell_state:
        dc = np.zeros((B, H), dtype=dtype) if dc_T is None else np.ascontiguousarray(dc_T)
    dh_steps = np.empty((T, B, H), dtype=dtype) if keep_dh else None
    step = cell.step_backward_into
    factors = cell.backward_factors
    chunks = _factor_chunks(S)
    with _blas_threads_for_loop(B, H, S.dP.shape[2], dtype):
        if mask is None and dout is None and not keep_dh:
            for t0, t1 in chunks:
                factors(S, t0, t1)
                for t in range(t1 - 1, t0 - 1, -1):
                    dh, dc = step(t, dh, dc, S)
        elif mask is None:
            gbuf = np.empty((B, H), dtype=dtype)
            for t in _steps(chunks, factors, S):
                g = dh_steps[t] if keep_dh else gbuf
                if dout is None:
                    np.copyto(g, dh)
                else:
                    np.add(dh, dout[t], out=g)
                dh, dc = step(t, g, dc, S)
        else:
            frozen = mask == 0
            gbuf = np.empty((B, H), dtype=dtype)
            gm = np.empty((B, H), dtype=dtype)
            dcm = np.empty((B, H), dtype=dtype) if dc is not None else None
            for t in _steps(chunks, factors, S):
                g = dh_steps[t] if keep_dh else gbuf
                if dout is None:
                    np.copyto(g, dh)
                else:
                    np.add(dh, dout[t], out=g)
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
