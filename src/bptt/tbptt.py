"""Truncated BPTT: run a long sequence in chunks of k steps, carrying the state forward.

Full BPTT over T steps keeps T steps of activations and multiplies T Jacobians.
min-char-rnn (k = 25) and d2l's language models instead cut the sequence into
chunks of k steps and, for each chunk,

    out, h = rnn(x[t0 : t0+k], h)      # forward from the carried state
    rnn.backward(dout)                 # backward within the chunk only
    h = detach(h)                      # the state goes on, its gradient does not

so the gradient of a chunk's loss reaches back at most k steps, while the
*forward* is exactly that of the whole sequence (the chunked outputs equal the
full forward, bit for bit up to rounding; tested). In bptt there is no graph to
cut: "detached" means the carried state is a fresh copy and ``backward`` gets
no gradient for it (``dh_n`` = None), which is what ``h.detach()`` does in torch.

The loop written out, with a head, clipping and an optimizer step per chunk::

    h = None
    for t0, xs in time_chunks(x, k):
        out, h = rnn(xs, h)
        dout = head_and_loss_backward(t0, out)
        rnn.backward(dout)
        clip_grad_norm_([rnn, head], 5.0); opt.step(); opt.zero_grad()
        h = detach(h)

:func:`run_truncated` is that loop as a function. A bidirectional module has
no carried state to pass forward in time (its reverse direction starts at the
end of the sequence), so it is refused; variable ``lengths`` are not supported
here (pad or cut the sequences to a multiple of k instead).

What the truncation costs: :func:`truncated_gradient` is the gradient that loop
computes, and :func:`truncation_error` its relative error (bias) and cosine
against full BPTT's gradient as k varies. :func:`train_truncated` trains on a
stream with the interface of :func:`bptt.rtrl.train_online`, so truncated BPTT,
full BPTT (k ≥ T) and online RTRL compare on the same task.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ._checks import check_array, check_positive_int

Array = np.ndarray


def _time_axis(x: Array, batch_first: bool) -> int:
    return 1 if (batch_first and x.ndim == 3) else 0


def time_chunks(x: Array, k: int, *, batch_first: bool = False) -> Iterator[tuple[int, Array]]:
    """Yield ``(t0, x[t0 : t0+k])`` along the time axis; the last chunk may be shorter.

    Shapes: x (T, B, I), or (B, T, I) with batch_first, or unbatched (T, I)
    -> chunks with k (or fewer) time steps, in the same layout (views, not copies).
    """
    check_array("x", x, ndim=(2, 3))
    k = check_positive_int("k", k)
    axis = _time_axis(x, batch_first)
    T = x.shape[axis]
    for t0 in range(0, T, k):
        yield t0, (x[:, t0:t0 + k] if axis == 1 else x[t0:t0 + k])


def detach(state: Any) -> Any:
    """A copy of a recurrent state (an array, a tuple ``(h, c)``, or None) to carry into the next chunk."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(detach(s) for s in state)
    if isinstance(state, np.ndarray):
        return state.copy()
    raise TypeError(f"state: expected an array, a tuple of arrays or None, got {type(state).__name__}")


def run_truncated(
    module: Any,
    x: Array,
    k: int,
    hx: Any = None,
    *,
    dout_fn: Callable[[int, Array], Array | None] | None = None,
    after_backward: Callable[[int], None] | None = None,
) -> tuple[Array, Any]:
    """Run ``module`` over ``x`` in chunks of ``k`` steps with the state carried (detached) between chunks.

    For each chunk starting at step t0: ``out, h = module(chunk, h)``; then, if
    ``dout_fn`` is given, ``dout = dout_fn(t0, out)`` (∂L/∂out of this chunk,
    or None to skip) and ``module.backward(dout)`` — parameter gradients
    *accumulate* over chunks unless ``after_backward(t0)`` (e.g. clip, step,
    zero_grad) resets them; then ``h = detach(h)``.

    Returns ``(out, h_T)``: the outputs of all chunks joined along time (equal
    to ``module(x, hx)[0]``) and the final state.

    Shapes: x as the module takes it (batch_first respected, unbatched allowed);
    hx like the module's h0 (a tuple (h0, c0) for the LSTM); out like ``module(x)[0]``.
    """
    if not (hasattr(module, "forward") and hasattr(module, "backward") and hasattr(module, "num_directions")):
        raise TypeError(f"module: expected a bptt recurrent module (RNN, LSTM, GRU), got {type(module).__name__}")
    if module.num_directions != 1:
        raise ValueError("module: truncated BPTT needs a unidirectional module (bidirectional=False), got bidirectional=True")
    for name, fn in (("dout_fn", dout_fn), ("after_backward", after_backward)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name}: expected a callable or None, got {type(fn).__name__}")
    check_array("x", x, ndim=(2, 3))
    axis = _time_axis(x, module.batch_first)
    outs = []
    h = hx
    for t0, xs in time_chunks(x, k, batch_first=module.batch_first):
        out, h = module(xs, h)
        outs.append(out)
        if dout_fn is not None:
            dout = dout_fn(t0, out)
            if dout is not None:
                module.backward(dout)  # no dh_n: the gradient stops at the chunk boundary
                if after_backward is not None:
                    after_backward(t0)
        h = detach(h)
    return np.concatenate(outs, axis=axis), h


# -- what truncation costs in the gradient --------------------------------------------
def truncated_gradient(module: Any, x: Array, dout: Array, k: int, hx: Any = None) -> dict[str, Array]:
    """The parameter gradient chunked truncated BPTT computes for the loss whose ∂L/∂out is ``dout``.

        g_k = Σ_t Σ_{j ≤ t, j in t's chunk} ∂J_t/∂s_t · ∂s_t/∂s_j · ∂⁺s_j/∂θ

    (the paths of the full sum, :mod:`bptt.reference`, that stay inside one
    chunk of k steps). ``k >= T`` is full BPTT. ``p.grad`` of the module is left
    as it was. Returns {parameter name: gradient}.

    Shapes: x, dout in the module's layout (batch_first respected); dout like ``module(x)[0]``.
    """
    axis = _time_axis(x, module.batch_first)
    saved = {n: p.grad.copy() for n, p in module.named_parameters()}
    module.zero_grad()
    try:
        run_truncated(module, x, k, hx,
                      dout_fn=lambda t0, out: dout[:, t0:t0 + k] if axis == 1 else dout[t0:t0 + k])
        return {n: p.grad.copy() for n, p in module.named_parameters()}
    finally:
        for n, p in module.named_parameters():
            p.grad[...] = saved[n]


def truncation_error(module: Any, x: Array, dout: Array, ks: Any, hx: Any = None) -> list[dict[str, float]]:
    """How far truncated BPTT's gradient is from the true one, for each truncation length k.

        relative_error_k = ‖g_k − g‖ / ‖g‖        (the bias: deterministic, it does not average out)
        cosine_k         = ⟨g_k, g⟩ / (‖g_k‖ ‖g‖)   (1: the same direction)

    with g = full BPTT's gradient (k = T) and θ every parameter of ``module``,
    flattened together. The forward is the same for every k, so one ``dout``
    (∂L/∂out of the whole sequence) serves all of them. Returns one row per k:
    {"k", "relative_error", "cosine", "norm"} (norm = ‖g_k‖).

    Shapes: x, dout as :func:`truncated_gradient`; ks: positive ints.
    """
    check_array("x", x, ndim=(2, 3))
    T = x.shape[_time_axis(x, module.batch_first)]
    check_array("dout", dout, ndim=x.ndim)
    full = _flat(truncated_gradient(module, x, dout, T, hx))
    rows = []
    for k in ks:
        g = _flat(truncated_gradient(module, x, dout, check_positive_int("ks", k), hx))
        nf, ng = np.linalg.norm(full), np.linalg.norm(g)
        rows.append({"k": int(k), "relative_error": float(np.linalg.norm(g - full) / nf),
                     "cosine": float(g @ full / (ng * nf)) if ng else 0.0, "norm": float(ng)})
    return rows


def _flat(grads: dict[str, Array]) -> Array:
    return np.concatenate([g.ravel() for g in grads.values()]).astype(np.float64)


def train_truncated(rnn: Any, head: Any, loss: Any, optimizer: Any, xs: Array, targets: Any, k: int) -> Array:
    """Train on one stream by truncated BPTT: an update every k steps -> J_t per step (NaN: no target).

        for each chunk of k steps:  ŷ_t = head(h_t),  Σ_t J_t(ŷ_t, y_t) backward within the chunk,
                                    optimizer step, state carried (detached)

    The same stream interface as :func:`bptt.rtrl.train_online` (one update per
    step, no truncation), so the two compare directly; ``k`` >= T is full BPTT
    over the stream (one update at its end). ``optimizer`` None: gradients only
    accumulate in ``p.grad``.

    Shapes: xs (T, B, I); targets: T items, each a target for ŷ_t (B, O) or None.
    """
    check_array("xs", xs, ndim=3)
    if len(targets) != len(xs):
        raise ValueError(f"targets: expected {len(xs)} items (one per step, None for no loss), got {len(targets)}")
    losses = np.full(len(xs), np.nan)

    def dout_fn(t0: int, out: Array) -> Array:
        y = head(out)  # (k, B, O)
        dy = np.zeros_like(y)
        for i in range(len(out)):
            if targets[t0 + i] is not None:
                losses[t0 + i] = float(loss(y[i], targets[t0 + i]))
                dy[i] = loss.backward()
        return head.backward(dy)

    def step(t0: int) -> None:
        if optimizer is not None:
            optimizer.step()
            optimizer.zero_grad()

    run_truncated(rnn, xs, k, dout_fn=dout_fn, after_backward=step)
    return losses
