"""Checkpointed BPTT: keep the state every k steps, recompute each segment in the backward.

Full BPTT keeps every step's activations: O(T) of them per layer (for the
LSTM about 6H numbers per sequence and step, and backward adds as many
again). Checkpointing (Chen et al. 2016, "Training deep nets with sublinear
memory cost"; for RNNs Gruslys et al. 2016) cuts the sequence into segments
of k steps and keeps only the state that enters each segment:

    forward     for each segment [t0, t1):      s_{t0} kept (h, c: B·H numbers each)
                    out[t0:t1], s_{t1} = layer(x[t0:t1], s_{t0})       its activations dropped
    backward    for each segment, latest first:
                    the segment's forward again, from s_{t0}            (the one extra forward)
                    dx[t0:t1], ∂L/∂s_{t0}, dθ_seg = layer_backward(dout[t0:t1], ∂L/∂s_{t1})
                dθ = Σ_seg dθ_seg

Memory: the T/k kept states plus one segment's activations, O(T/k + k) per
layer and sequence, least at k ≈ √T (the default); the outputs themselves
(T·B·H, what the next layer or the loss reads) are kept as in full BPTT.
Time: about one extra forward. The gradients are those of full BPTT — the
same steps, the same sums, in segments (equal to ≤ 1e-12 relative in float64; tested).

:class:`Checkpointed` wraps any backend (reference, numpy, fused, whole) and
is itself one: it runs in processing order, so the reverse direction and
variable lengths (the mask, sliced per segment) need nothing more, and
:func:`bptt.functional.recurrent.layer_backward` needs no change. Choose it with
``layer_forward(..., memory="checkpoint")`` or a module's
``memory=("checkpoint", k)``.

Shapes (processing order): xs (T, B, I); mask (T, B, 1) or None; h0, c0 (B, H) or None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray

__all__ = ["MEMORY_MODES", "Checkpointed", "check_memory", "segment_length", "wrap"]

MEMORY_MODES = ("full", "checkpoint")


def check_memory(memory: Any, argname: str = "memory") -> tuple[str, int | None]:
    """``memory`` as (mode, k): "full", "checkpoint" (k = None: ⌈√T⌉ per call) or ("checkpoint", k).

    Anything else is one ValueError/TypeError naming ``argname``, expected vs got.
    """
    if isinstance(memory, str):
        if memory not in MEMORY_MODES:
            raise ValueError(f"{argname}: expected one of {MEMORY_MODES} or ('checkpoint', k), got {memory!r}")
        return memory, None
    if isinstance(memory, (tuple, list)) and len(memory) == 2 and memory[0] == "checkpoint":
        k = memory[1]
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"{argname}: expected ('checkpoint', k) with k a positive int, got k={k!r}")
        if k < 1:
            raise ValueError(f"{argname}: expected ('checkpoint', k) with k >= 1, got k={k}")
        return "checkpoint", int(k)
    raise ValueError(f"{argname}: expected one of {MEMORY_MODES} or ('checkpoint', k), got {memory!r}")


def segment_length(T: int, k: int | None) -> int:
    """k, or ⌈√T⌉ when k is None: T/k kept states + k recomputed steps is least near √T."""
    return max(1, math.ceil(math.sqrt(T))) if k is None else k


def wrap(run: Any, memory: Any) -> Any:
    """The backend that runs a layer call: ``run`` itself for "full", else ``Checkpointed(run, k)``."""
    mode, k = check_memory(memory)
    return run if mode == "full" else Checkpointed(run, k)


@dataclass(eq=False, slots=True)
class CheckpointState:
    """What the checkpointed forward keeps: the inputs, and the state entering each segment.

    ``starts[j]`` = (h, c) before segment ``bounds[j]`` (copies, B·H each; None = zeros).
    """

    cell: Any
    xs: Array
    params: tuple
    proj: dict  # {"W_hr": W_hr} for the projected LSTM, else empty
    mask: Array | None
    workspace: Any
    bounds: list
    starts: list


class Checkpointed:
    """A backend that runs ``inner`` segment by segment and recomputes segments in backward.

    See the module docstring; ``k`` None means ⌈√T⌉ steps per segment.
    """

    def __init__(self, inner: Any, k: int | None = None) -> None:
        self.inner, self.k = inner, k
        self.name = f"checkpoint({inner.name})"

    def _segment(self, S: CheckpointState, j: int):
        """The inner forward of segment j from its kept state -> (out, h, c, inner state)."""
        t0, t1 = S.bounds[j]
        h, c = S.starts[j]
        mask = None if S.mask is None else S.mask[t0:t1]
        return self.inner.forward(S.cell, S.xs[t0:t1], h, c, *S.params, mask, S.workspace, **S.proj)

    def forward(self, cell, xs, h0, c0, W_ih, W_hh, b_ih, b_hh, mask, workspace=None, W_hr=None):
        """out (T, B, H) and the final (h, c), keeping only each segment's entering state."""
        T = xs.shape[0]
        k = segment_length(T, self.k)
        bounds = [(t0, min(t0 + k, T)) for t0 in range(0, T, k)]
        proj = {} if W_hr is None else {"W_hr": W_hr}
        S = CheckpointState(cell, xs, (W_ih, W_hh, b_ih, b_hh), proj, mask, workspace, bounds, [])
        out = h = c = None
        for j, (t0, t1) in enumerate(bounds):
            S.starts.append((_copy(h0), _copy(c0)) if j == 0 else (h, c))
            seg_out, h, c, inner_state = self._segment(S, j)
            if out is None:
                out = np.empty((T,) + seg_out.shape[1:], dtype=seg_out.dtype)
            out[t0:t1] = seg_out
            h, c = _copy(h), _copy(c)  # a view would keep the segment alive
            del seg_out, inner_state  # the segment's activations are dropped here
        return out, h, c, S

    def backward(self, S: CheckpointState, dout, dh_T, dc_T, keep_dh, input_grad):
        """Segments latest first: forward again from the kept state, then the inner backward."""
        dh, dc, sums, steps = dh_T, dc_T, None, {}
        for j in range(len(S.bounds) - 1, -1, -1):
            t0, t1 = S.bounds[j]
            inner_state = self._segment(S, j)[3]
            if hasattr(inner_state, "spend"):  # recomputed for this backward only: the backend may write over it
                inner_state.spend = True
            g = self.inner.backward(inner_state, None if dout is None else dout[t0:t1], dh, dc, keep_dh, input_grad)
            del inner_state  # free before the next segment is recomputed
            dh, dc = _copy(g["dh0"]), _copy(g["dc0"])
            sums = _add_params(sums, g)
            for key in ("dx", "dh"):  # per-step gradients, written into one (T, …) array each
                if g.get(key) is not None:
                    if key not in steps:
                        steps[key] = np.empty((S.xs.shape[0],) + g[key].shape[1:], dtype=g[key].dtype)
                    steps[key][t0:t1] = g[key]
        grads = {"dx": steps.get("dx"), "dh0": dh, "dc0": dc, **sums}
        if keep_dh:
            grads["dh"] = steps["dh"]
        return grads

    def cell_states(self, S: CheckpointState) -> Array | None:
        """c_t of every step (T, B, H) in processing order, recomputed segment by segment."""
        if not S.cell.has_cell_state:
            return None
        parts = []
        for j in range(len(S.bounds)):
            inner_state = self._segment(S, j)[3]
            parts.append(np.array(self.inner.cell_states(inner_state)))
        return np.concatenate(parts)


_PARAM_KEYS = ("dW_ih", "dW_hh", "db_ih", "db_hh", "dW_hr")  # dW_hr: the projected LSTM only


def _copy(a: Array | None) -> Array | None:
    return None if a is None else a.copy()


def _add_params(sums: dict | None, g: dict) -> dict:
    """dθ = Σ_seg dθ_seg, in place after the first segment (whose arrays are copied: a backend may
    return one array for two keys, db_ih and db_hh)."""
    if sums is None:
        return {key: _copy(g[key]) for key in _PARAM_KEYS if key in g}
    for key, s in sums.items():
        if s is not None:
            np.add(s, g[key], out=s)
    return sums
