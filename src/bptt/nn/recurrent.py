"""Recurrent modules with torch.nn's contract: ``RNN``, ``LSTM``, ``GRU`` (and the shared ``RNNBase``).

``RNNBase`` owns what every recurrent layer shares — parameters named like
torch (``weight_ih_l0``, ``bias_hh_l1_reverse``, …), layers × directions,
``batch_first``, unbatched input, ``h0`` layout ``(num_layers · D, B, H)``,
dropout between layers, variable lengths — and runs each (layer, direction)
through :func:`bptt.functional.recurrent.layer_forward` with its cell. A
subclass only says which cell and how many gate blocks (and, for the LSTM,
that the state is a tuple ``(h, c)``).

Beyond torch, every recurrent module takes ``learn_initial_state=True``: it
registers trainable parameters ``h0`` (and ``c0`` for the LSTM) of shape
``(num_layers · D, H)``, used for every sequence whenever no explicit initial
state is passed; ``backward`` adds their gradient (summed over the batch). An
explicit ``hx`` always wins and then the parameters get no gradient.

Indexing rules that are easy to get wrong (and are tested against torch):
  * ``h_n[layer · D + direction]``; ``batch_first`` never applies to h0/h_n.
  * For a bidirectional layer ``out[-1]`` is *not* ``h_n``: the reverse
    direction's final state sits at ``out[0]``.
  * Layer k > 0 reads the concatenation [forward, reverse] of layer k − 1's
    outputs, after dropout (training mode only, never after the last layer).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._checks import check_array, check_choice, check_positive_int, check_probability, to_numpy
from ..functional import cells
from ..functional.cells import CellKind
from ..functional.checkpoint import check_memory
from ..functional.fast import check_backend, parallel, select
from ..functional.recurrent import (REFERENCE, LayerCache, Workspace, defers_input_grad, layer_backward, layer_forward,
                                    layer_input_grad)
from .linear import _require_cache
from .module import Module, _consume

Array = np.ndarray
_GRAD_KEYS = ("dW_ih", "dW_hh", "db_ih", "db_hh", "dW_hr")  # layer_backward's keys, in _names order


class RNNBase(Module):
    """Layers × directions of one cell kind. Subclasses implement :meth:`_make_cell`."""

    gates = 1
    proj_size = 0  # the LSTM's projection (torch's proj_size); h has ``out_size`` columns

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = np.float32,
        seed: Any = None,
        learn_initial_state: bool = False,
        backend: str = "auto",
        memory: Any = "full",
    ) -> None:
        super().__init__(dtype)
        self.backend = check_backend(backend)
        self.memory = memory
        self.out_size = self.proj_size or hidden_size  # columns of h_t and of each direction's output
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = check_probability("dropout", dropout, closed=True)
        self.bidirectional = bool(bidirectional)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(
                "dropout > 0 with num_layers=1 has no effect: dropout acts between layers (as in torch)",
                stacklevel=2,
            )
        self.learn_initial_state = _check_bool("learn_initial_state", learn_initial_state)
        self._rng = np.random.default_rng(seed)
        # Indexed layer * D + direction, like h0; built once, since every forward and backward reads them.
        self._param_names = [self._make_names(layer, d) for layer in range(self.num_layers)
                             for d in range(self.num_directions)]
        self.cell: CellKind = self._make_cell()
        self._init_parameters()
        if self.learn_initial_state:
            # Trainable h0 (and c0), shared by every sequence of a batch; zeros = torch's default state.
            LD = self.num_layers * self.num_directions
            self.register_parameter("h0", np.zeros((LD, self.out_size)))
            if self.cell.has_cell_state:
                self.register_parameter("c0", np.zeros((LD, self.hidden_size)))
        self._cache: dict | None = None
        # Buffers reused across calls, one workspace per (layer, direction); see Workspace.
        self._workspaces = [Workspace() for _ in range(self.num_layers * self.num_directions)]

    @property
    def memory(self) -> Any:
        """What backward keeps: "full" (every step), or "checkpoint" / ("checkpoint", k): the state every
        k steps (default ⌈√T⌉), segments recomputed in backward — same gradients, O(T/k + k) memory
        (:mod:`bptt.functional.checkpoint`). Settable, e.g. ``model.rnn.memory = "checkpoint"``."""
        return self._memory

    @memory.setter
    def memory(self, value: Any) -> None:
        check_memory(value)
        self._memory = tuple(value) if isinstance(value, list) else value

    # -- structure ----------------------------------------------------------
    def _make_cell(self) -> CellKind:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def num_directions(self) -> int:
        """2 for a bidirectional layer stack, else 1."""
        return 2 if self.bidirectional else 1


    def _names(self, layer: int, direction: int) -> tuple[str, ...]:
        """torch's parameter names of one layer and direction (weight_hr last, with proj_size)."""
        return self._param_names[layer * self.num_directions + direction]

    def _make_names(self, layer: int, direction: int) -> tuple[str, ...]:
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        names = (f"weight_ih{sfx}", f"weight_hh{sfx}", f"bias_ih{sfx}", f"bias_hh{sfx}")
        return names + ((f"weight_hr{sfx}",) if self.proj_size else ())

    def _layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.out_size * self.num_directions

    def _init_parameters(self) -> None:
        """U(−1/√H, 1/√H) for every weight and bias, torch's default (and torch's order)."""
        H, G, P = self.hidden_size, self.cell.gates, self.out_size
        k = 1.0 / np.sqrt(H)
        for layer in range(self.num_layers):
            for d in range(self.num_directions):
                w_ih, w_hh, b_ih, b_hh, *w_hr = self._names(layer, d)
                self.register_parameter(w_ih, self._rng.uniform(-k, k, (G * H, self._layer_input_size(layer))))
                self.register_parameter(w_hh, self._rng.uniform(-k, k, (G * H, P)))
                if self.bias:
                    self.register_parameter(b_ih, self._rng.uniform(-k, k, (G * H,)))
                    self.register_parameter(b_hh, self._rng.uniform(-k, k, (G * H,)))
                if w_hr:
                    self.register_parameter(w_hr[0], self._rng.uniform(-k, k, (P, H)))

    def _layer_params(self, layer: int, d: int) -> list[Array | None]:
        return [self._params[n].data if n in self._params else None for n in self._names(layer, d)]

    # -- state in/out (the LSTM overrides these for its (h, c) tuple) --------
    def _split_state(self, hx: Any, name: str = "hx") -> tuple[Any, Any]:
        if isinstance(hx, (tuple, list)):
            raise TypeError(f"{name}: {type(self).__name__} expects one array, got a {type(hx).__name__}")
        return hx, None

    def _join_state(self, h: Array, c: Array | None) -> Any:
        return h

    # -- checks -------------------------------------------------------------
    def _check_input(self, x: Any, hx: Any, lengths: Any):
        check_array("input", x, ndim=(2, 3), dtype=self.dtype)
        batched = x.ndim == 3
        if x.shape[-1] != self.input_size:
            raise ValueError(f"input: expected last dimension input_size={self.input_size}, got shape {x.shape}")
        if batched:
            xt = x.transpose(1, 0, 2) if self.batch_first else x
        else:
            xt = x[:, None, :]
        T, B = xt.shape[0], xt.shape[1]
        if T == 0:  # torch refuses it too; an empty batch (B = 0) runs, as in torch
            raise ValueError(f"input: expected at least one time step, got shape {x.shape}")
        h0, c0, learned = self._initial_states(hx, batched, B)
        if lengths is not None:
            if not batched:
                raise ValueError("lengths: only valid for batched (3-D) input")
            lengths = to_numpy(lengths)
            if lengths.shape != (B,) or not np.issubdtype(lengths.dtype, np.integer):
                raise ValueError(f"lengths: expected {B} integers (one per sequence), got shape {lengths.shape} dtype {lengths.dtype}")
            if B and (lengths.min() < 1 or lengths.max() > T):
                raise ValueError(f"lengths: expected values in [1, {T}] (T = {T}), got min {lengths.min()} max {lengths.max()}")
            lengths = lengths.astype(np.int64)
        return xt, h0, c0, lengths, batched, learned

    def _initial_states(self, hx: Any, batched: bool, B: int) -> tuple[Array | None, Array | None, tuple]:
        """(h0, c0) as (L·D, B, H) arrays or None (zeros), and which of them are learned parameters."""
        h0, c0 = self._split_state(hx)
        if h0 is None and c0 is None and not self.learn_initial_state:
            return None, None, ()  # zeros: the layer loop starts from 0 without an array per call
        LD = self.num_layers * self.num_directions
        states, learned = [], []
        for name, s in (("h0", h0), ("c0", c0)):
            H = self.out_size if name == "h0" else self.hidden_size
            want = (LD, B, H) if batched else (LD, H)
            if s is None:
                if name == "c0" and not self.cell.has_cell_state:
                    states.append(None)
                elif name in self._params:  # learn_initial_state: the trainable state, for every sequence
                    states.append(np.repeat(self._params[name].data[:, None, :], B, axis=1))
                    learned.append(name)
                else:
                    states.append(None)
                continue
            check_array(name, s, dtype=self.dtype, shape=want)
            states.append(s if batched else s[:, None, :])
        return states[0], states[1], tuple(learned)

    # -- forward / backward -----------------------------------------------------
    def forward(self, x: Array, hx: Any = None, lengths: Any = None) -> tuple[Array, Any]:
        """``out, h_n = rnn(x, h0)`` with torch.nn.RNN's shapes.

        Shapes (D = 2 if bidirectional else 1, L = num_layers):
            x: (T, B, I), or (B, T, I) with batch_first, or unbatched (T, I)
            h0: (L·D, B, H) or unbatched (L·D, H); None means zeros
            lengths: (B,) ints in [1, T] or None (packed-sequence semantics)
            out: (T, B, D·H) / (B, T, D·H) / (T, D·H);  h_n like h0
        """
        xt, h0, c0, lengths, batched, learned = self._check_input(x, hx, lengths)
        self._cache = None  # the last call's buffers become free for this one
        at_once = self._directions_at_once(xt.shape[1], lengths is not None)
        chunks = None if at_once else self._wavefront_chunks(xt.shape[0], xt.shape[1], lengths is not None)
        if chunks:
            inp, caches, masks, h_n, c_n = self._forward_wavefront(xt, h0, c0, chunks)
        else:
            inp, caches, masks, h_n, c_n = self._forward_layers(xt, h0, c0, lengths, at_once)
        # One layer and direction: a view, no copy (read-only when it views the layer's cache).
        h_n = np.stack(h_n) if len(h_n) > 1 else h_n[0][None]
        c_n = None if not self.cell.has_cell_state else np.stack(c_n) if len(c_n) > 1 else c_n[0][None]
        self._cache = {
            "caches": caches, "masks": masks, "batched": batched, "T": xt.shape[0], "B": xt.shape[1],
            "learned": learned, "at_once": at_once, "chunks": chunks,
        }
        return self._format_out(inp, batched), self._join_state(*self._format_state(h_n, c_n, batched))

    def _dropout_mask(self, shape: tuple[int, ...]) -> Array | None:
        """The dropout factor of one layer's input (training, dropout > 0), else None."""
        if not (self.training and self.dropout > 0):
            return None
        keep = (self._rng.random(shape) >= self.dropout).astype(self.dtype)
        if self.dropout < 1:  # p = 1 drops everything (torch: zeros), nothing to rescale
            keep /= self.dtype.type(1 - self.dropout)
        return keep

    def _forward_layers(self, xt: Array, h0, c0, lengths, at_once: bool):
        """Layer after layer (both directions of a layer at once when ``at_once``) ->
        (out, caches, dropout masks, h_n list, c_n list)."""
        D = self.num_directions
        inp = xt
        caches, masks, h_n, c_n = [], [], [], []
        for layer in range(self.num_layers):
            keep = self._dropout_mask(inp.shape) if layer > 0 else None
            if keep is not None:
                inp = inp * keep
            masks.append(keep)
            outs = []
            for out, h, c, cache in parallel.maybe_parallel(at_once, [
                self._direction_forward(inp, h0, c0, lengths, layer, d) for d in range(D)
            ]):
                outs.append(out)
                caches.append(cache)
                h_n.append(h)
                c_n.append(c)
            inp = outs[0] if D == 1 else np.concatenate(outs, axis=2)
        return inp, caches, masks, h_n, c_n

    # -- the wavefront: layer l on chunk j beside layer l − 1 on chunk j + 1 ---------
    def _wavefront_chunks(self, T: int, B: int, lengths: bool) -> list | None:
        """Chunks of steps (t0, t1) for running the layers of a unidirectional stack as a wavefront
        (:func:`bptt.functional.fast.parallel.pipeline`), or None for layer after layer."""
        if self.num_directions != 1 or self.num_layers < 2 or lengths or self._memory != "full" \
                or T < _WAVE_CHUNKS * _WAVE_MIN_STEPS:
            return None
        H = self.hidden_size
        if select(self.cell, B, H, False, self.backend, projected=bool(self.proj_size)) is REFERENCE \
                or not parallel.choose_wavefront(B, H, self.cell.gates * H, self.dtype):
            return None
        k = -(-T // _WAVE_CHUNKS)
        return [(t0, min(t0 + k, T)) for t0 in range(0, T, k)]

    def _forward_wavefront(self, xt: Array, h0, c0, chunks: list):
        """Every layer chunk by chunk, layer l's chunk j after layer l − 1's (two threads) -> as
        :meth:`_forward_layers`. The same numbers as layer after layer: each chunk starts from the state
        the previous one ended in."""
        L, (T, B, _) = self.num_layers, xt.shape
        masks = [None] + [self._dropout_mask((T, B, self.out_size)) for _ in range(1, L)]  # in layer order
        outs, parts = [[None] * len(chunks) for _ in range(L)], [[None] * len(chunks) for _ in range(L)]
        state = [[None if h0 is None else h0[l], None if c0 is None else c0[l]] for l in range(L)]
        params = [self._layer_params(l, 0) for l in range(L)]
        spaces = [[self._chunk_workspace(l, j) for j in range(len(chunks))] for l in range(L)]

        def work(l: int, j: int) -> None:
            t0, t1 = chunks[j]
            inp = xt[t0:t1] if l == 0 else outs[l - 1][j]
            if masks[l] is not None:
                inp = inp * masks[l][t0:t1]
            outs[l][j], h, c, parts[l][j] = layer_forward(self.cell, inp, *state[l], *params[l],
                                                          workspace=spaces[l][j], backend=self.backend)
            state[l] = [h, c]

        parallel.pipeline(L, len(chunks), work)
        return (np.concatenate(outs[-1]), [_Chunks(p) for p in parts], masks, [s[0] for s in state],
                [s[1] for s in state])

    def _chunk_workspace(self, layer: int, j: int) -> Workspace:
        spaces = self.__dict__.setdefault("_chunk_workspaces", {})
        return spaces.setdefault((layer, j), Workspace())

    def _backward_wavefront(self, cache: dict, dout_t, dh_n, dc_n, input_grad: bool):
        """Backward of :meth:`_forward_wavefront`: layer l's chunk j after layer l + 1's (two threads);
        gradients added up afterwards in this thread -> (dx, dh0, dc0)."""
        L, chunks, masks, has_c = self.num_layers, cache["chunks"], cache["masks"], self.cell.has_cell_state
        C = len(chunks)
        dxs, grads = [[None] * C for _ in range(L)], [[None] * C for _ in range(L)]
        state = [[None if dh_n is None else dh_n[l], None if dc_n is None else dc_n[l]] for l in range(L)]

        def work(s: int, jj: int) -> None:
            l, j = L - 1 - s, C - 1 - jj  # from the last layer and the last chunk
            t0, t1 = chunks[j]
            d = dxs[l + 1][j] if l < L - 1 else None if dout_t is None else dout_t[t0:t1]
            g = layer_backward(d, *state[l], cache["caches"][l].parts[j], input_grad=input_grad or l > 0)
            state[l] = [g["dh0"], g["dc0"]]
            dx = g["dx"]
            dxs[l][j] = dx if dx is None or masks[l] is None else dx * masks[l][t0:t1]
            grads[l][j] = g

        parallel.pipeline(L, C, work)
        for l in range(L - 1, -1, -1):
            for g in reversed(grads[l]):
                self._accumulate(l, 0, g)
        dh0 = np.stack([s[0] for s in state])
        dc0 = np.stack([s[1] for s in state]) if has_c else None
        return (None if dxs[0][0] is None else np.concatenate(dxs[0])), dh0, dc0

    def _directions_at_once(self, B: int, lengths: bool) -> bool:
        """Whether the two directions of each layer run at once (:mod:`bptt.functional.fast.parallel`):
        bidirectional, on a fast backend (the reference backend is Python, holding the GIL), when allowed
        and measured faster for this shape."""
        if self.num_directions == 1:
            return False
        H = self.hidden_size
        run = select(self.cell, B, H, lengths, self.backend, projected=bool(self.proj_size))
        return run is not REFERENCE and parallel.choose(B, H, self.cell.gates * H, self.dtype)

    def _direction_forward(self, inp: Array, h0, c0, lengths, layer: int, d: int):
        """The call that runs one direction of one layer -> (out, h_T, c_T, cache)."""
        i = layer * self.num_directions + d
        W_ih, W_hh, b_ih, b_hh, *W_hr = self._layer_params(layer, d)
        return lambda: layer_forward(
            self.cell, inp, None if h0 is None else h0[i], None if c0 is None else c0[i],
            W_ih, W_hh, b_ih, b_hh, lengths=lengths, reverse=bool(d), workspace=self._workspaces[i],
            backend=self.backend, W_hr=W_hr[0] if W_hr else None, memory=self._memory,
        )

    def _format_out(self, out: Array, batched: bool) -> Array:
        if not batched:
            return out[:, 0, :]
        return np.ascontiguousarray(out.transpose(1, 0, 2)) if self.batch_first else out

    def _format_state(self, h: Array, c: Array | None, batched: bool):
        if batched:
            return h, c
        return h[:, 0, :], None if c is None else c[:, 0, :]

    def backward(self, dout: Array | None, dstate: Any = None, input_grad: bool = True,
                 retain_graph: bool = False) -> tuple[Array | None, Any]:
        """``dx, dh0 = rnn.backward(dout, dh_n)``; parameter gradients add into ``grads``.

        ``dout`` has the shape of ``out`` and ``dh_n`` the shape of ``h_n``
        (for the LSTM, ``dstate = (dh_n, dc_n)``); None stands for zeros.
        Returns ∂L/∂x in the input's layout and ∂L/∂h0 (∂L/∂(h0, c0) for LSTM).
        ``input_grad=False`` returns None for ∂L/∂x and skips the first layer's
        input GEMM: for an input that is data (torch: no ``requires_grad``).
        A second backward on one forward is an error unless ``retain_graph=True``.
        """
        cache = _require_cache(self, self._cache)
        batched, T, B = cache["batched"], cache["T"], cache["B"]
        dout_t = self._check_grad_out(dout, batched, T, B)
        dh_n, dc_n = self._split_state(dstate, "dstate")
        dh_n = self._check_grad_state("dh_n", dh_n, batched, B)
        dc_n = self._check_grad_state("dc_n", dc_n, batched, B) if self.cell.has_cell_state else None
        _consume(self, retain_graph)
        if cache["chunks"]:
            dout_t, dh0, dc0 = self._backward_wavefront(cache, dout_t, dh_n, dc_n, input_grad)
        else:
            dout_t, dh0, dc0 = self._backward_layers(cache, dout_t, dh_n, dc_n, input_grad, B, not retain_graph)
        for name in cache["learned"]:  # h0/c0 was broadcast over the batch: its gradient sums over it
            self._params[name].accumulate((dh0 if name == "h0" else dc0).sum(axis=1))
        dx = None if dout_t is None else self._format_out(dout_t, batched)
        return dx, self._join_state(*self._format_state(dh0, dc0, batched))

    def _backward_layers(self, cache: dict, dout_t, dh_n, dc_n, input_grad: bool, B: int, spend: bool):
        """Layer after layer from the last (both directions at once when the forward ran them so)
        -> (dx, dh0, dc0). ``spend``: the cache's last backward (see :func:`layer_backward`)."""
        D, H, P, L = self.num_directions, self.hidden_size, self.out_size, self.num_layers
        LD, has_c = L * D, self.cell.has_cell_state
        dh0 = np.empty((LD, B, self.out_size), dtype=self.dtype) if LD > 1 else None
        dc0 = np.empty((LD, B, H), dtype=self.dtype) if LD > 1 and has_c else None
        for layer in range(L - 1, -1, -1):
            dinp = None
            want_dx = input_grad or layer > 0
            # dx after this layer's backward, once dout (the layer above's dx) is freed: one array less at the peak
            late = [want_dx and defers_input_grad(cache["caches"][layer * D + d]) for d in range(D)]
            tasks = [_backward_call(None if dout_t is None else dout_t[:, :, d * P:(d + 1) * P],
                                    None if dh_n is None else dh_n[layer * D + d],
                                    None if dc_n is None else dc_n[layer * D + d],
                                    cache["caches"][layer * D + d], want_dx and not late[d], spend)
                     for d in range(D)]
            # Gradients are added up after both directions are done, in the sequential order.
            for d, g in enumerate(parallel.maybe_parallel(cache["at_once"], tasks)):
                i = layer * D + d
                self._accumulate(layer, d, g)
                if LD == 1:  # one layer and direction: no stacking
                    dh0 = g["dh0"][None]
                    dc0 = g["dc0"][None] if has_c else None
                else:
                    dh0[i] = g["dh0"]
                    if has_c:
                        dc0[i] = g["dc0"]
                if g["dx"] is not None:  # arrays of this call's own: summed in place (one (T, B, I) less)
                    dinp = g["dx"] if dinp is None else np.add(dinp, g["dx"], out=dinp)
            g = tasks = dout_t = None  # the last direction's dx, and this layer's dout: freed before the layer below
            for d in range(D):
                if late[d]:
                    dx = layer_input_grad(cache["caches"][layer * D + d])
                    dinp = dx if dinp is None else np.add(dinp, dx, out=dinp)
                    dx = None
            if cache["masks"][layer] is not None:
                dinp *= cache["masks"][layer]
            dout_t = dinp
        return dout_t, dh0, dc0

    def _accumulate(self, layer: int, d: int, g: dict) -> None:
        params = self._params
        for name, key in zip(self._names(layer, d), _GRAD_KEYS):
            p = params.get(name)
            if p is not None:
                p.accumulate(g[key])

    def _check_grad_out(self, dout: Any, batched: bool, T: int, B: int) -> Array | None:
        if dout is None:
            return None
        DH = self.num_directions * self.out_size
        want = ((B, T, DH) if self.batch_first else (T, B, DH)) if batched else (T, DH)
        check_array("dout", dout, dtype=self.dtype, shape=want)
        if not batched:
            return dout[:, None, :]
        return dout.transpose(1, 0, 2) if self.batch_first else dout

    def _check_grad_state(self, name: str, g: Any, batched: bool, B: int) -> Array | None:
        if g is None:
            return None
        LD, H = self.num_layers * self.num_directions, self.out_size if name == "dh_n" else self.hidden_size
        check_array(name, g, dtype=self.dtype, shape=(LD, B, H) if batched else (LD, H))
        return g if batched else g[:, None, :]

    def extra_repr(self) -> str:
        """The arguments shown inside ``repr(module)``'s parentheses, as torch prints them."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.learn_initial_state:
            s += ", learn_initial_state=True"
        if self.backend != "auto":
            s += f", backend={self.backend!r}"
        if self.memory != "full":
            s += f", memory={self.memory!r}"
        return s + f", dtype={self.dtype}"


class RNN(RNNBase):
    """torch.nn.RNN: h_t = f(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), f ∈ {tanh, relu, sigmoid}.

    ``sigmoid`` has no torch equivalent (the seeds use it); it is verified by
    finite differences only.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = np.float32,
        seed: Any = None,
        learn_initial_state: bool = False,
        backend: str = "auto",
        memory: Any = "full",
    ) -> None:
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ("tanh", "relu", "sigmoid"))
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype, seed,
            learn_initial_state, backend, memory=memory,
        )

    def _make_cell(self) -> CellKind:
        return cells.for_module("rnn", nonlinearity=self.nonlinearity)

    def extra_repr(self) -> str:
        """The arguments shown inside ``repr(module)``'s parentheses, as torch prints them."""
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"


class _Chunks:
    """The caches of one layer run chunk by chunk (the wavefront), read like one :class:`LayerCache`."""

    mask = order = None  # the wavefront runs without lengths, one direction

    def __init__(self, parts: list) -> None:
        self.parts = parts
        self.backend = parts[0].backend

    @property
    def cell_state_seq(self) -> Array | None:
        """c_t of every step (T, B, H), or None without a cell state."""
        cs = [p.cell_state_seq for p in self.parts]
        return None if cs[0] is None else np.concatenate(cs)


# The wavefront: at most this many chunks of steps per layer, none shorter than _WAVE_MIN_STEPS.
_WAVE_CHUNKS, _WAVE_MIN_STEPS = 8, 4


def _backward_call(dout, dh_T, dc_T, cache: LayerCache, input_grad: bool, spend: bool):
    """The call that backpropagates one direction of one layer -> :func:`layer_backward`'s dict."""
    return lambda: layer_backward(dout, dh_T, dc_T, cache, input_grad=input_grad, spend=spend)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__} {value!r}")
    return bool(value)


class LSTM(RNNBase):
    """torch.nn.LSTM: gate blocks i, f, g, o in ``weight_ih_l{k}`` (4H × in) and ``weight_hh_l{k}`` (4H × H).

        i, f, g, o = σ, σ, tanh, σ (W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)
        c_t = f ⊙ c_{t−1} + i ⊙ g,    h_t = o ⊙ tanh(c_t)

    ``out, (h_n, c_n) = lstm(x, (h0, c0), lengths=None)`` and
    ``dx, (dh0, dc0) = lstm.backward(dout, (dh_n, dc_n))``; any of h0, c0,
    dout, dh_n, dc_n may be None (zeros), and so may the whole tuple.

    Options beyond torch (all off by default, so torch parity holds):
      * ``forget_bias=v``: after the default init, the forget block of every
        ``bias_ih`` is set to v and of every ``bias_hh`` to 0, so the effective
        forget-gate bias b_ih + b_hh is exactly v (Jozefowicz et al. 2015 use 1.0).
      * ``learn_initial_state=True``: trainable ``h0`` and ``c0`` (see :class:`RNNBase`).
      * :meth:`cell_states` after a forward: c_t of every step (torch only gives c_n).

    ``proj_size = P > 0`` is torch's projected LSTM: h_t = (o ⊙ tanh c_t) W_hrᵀ with
    ``weight_hr_l{k}`` (P × H), ``weight_hh_l{k}`` (4H × P), out (…, D·P), h0/h_n
    (L·D, B, P), c0/c_n (L·D, B, H). It runs on the reference backend.

    Shapes: as :meth:`RNNBase.forward`; h0, c0, h_n, c_n: (L·D, B, H) or unbatched (L·D, H).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        dtype: Any = np.float32,
        seed: Any = None,
        forget_bias: float | None = None,
        learn_initial_state: bool = False,
        backend: str = "auto",
        memory: Any = "full",
    ) -> None:
        if isinstance(proj_size, bool) or not isinstance(proj_size, (int, np.integer)):
            raise TypeError(f"proj_size: expected an int (0 = no projection), got {type(proj_size).__name__} {proj_size!r}")
        if proj_size < 0 or (proj_size and isinstance(hidden_size, (int, np.integer)) and proj_size >= hidden_size):
            raise ValueError(f"proj_size: expected an int in [0, hidden_size={hidden_size}), got {proj_size}")
        if forget_bias is not None:
            if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float, np.integer, np.floating)):
                raise TypeError(f"forget_bias: expected None or a real number, got {type(forget_bias).__name__} {forget_bias!r}")
            if not np.isfinite(forget_bias):
                raise ValueError(f"forget_bias: expected a finite number, got {forget_bias}")
            if not bias:
                raise ValueError(f"forget_bias: needs bias=True (there is no bias to set), got forget_bias={forget_bias} with bias=False")
        self.proj_size = int(proj_size)
        self.forget_bias = None if forget_bias is None else float(forget_bias)
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype, seed,
            learn_initial_state, backend, memory=memory,
        )

    def _make_cell(self) -> CellKind:
        return cells.get("lstm")

    def _init_parameters(self) -> None:
        super()._init_parameters()
        if self.forget_bias is None:
            return
        H = self.hidden_size
        for layer in range(self.num_layers):
            for d in range(self.num_directions):
                _, _, b_ih, b_hh = self._names(layer, d)
                self._params[b_ih].data[H:2 * H] = self.forget_bias
                self._params[b_hh].data[H:2 * H] = 0

    def _split_state(self, hx: Any, name: str = "hx") -> tuple[Any, Any]:
        if hx is None:
            return None, None
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            got = f"a {type(hx).__name__}" + (f" of length {len(hx)}" if isinstance(hx, (tuple, list)) else "")
            raise TypeError(f"{name}: LSTM expects a tuple (h, c) of two arrays (either may be None), got {got}")
        return hx[0], hx[1]

    def _join_state(self, h: Array, c: Array | None) -> Any:
        return h, c

    def cell_states(self, layer: int = -1) -> Array:
        """c_t of every step of one layer (default: the last) from the latest forward, laid out like ``out``.

        For a bidirectional layer the forward and reverse cell states are
        concatenated as in ``out``; steps past a sequence's length are zero.
        This is an observation of the forward pass: no gradient flows back
        through it (use ``c_n`` for that).

        Shapes: (T, B, D·H), or (B, T, D·H) with batch_first, or unbatched (T, D·H).
        """
        cache = _require_cache(self, self._cache)
        L, D = self.num_layers, self.num_directions
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not -L <= layer < L:
            raise ValueError(f"layer: expected an int in [{-L}, {L}), got {layer!r}")
        layer = int(layer) % L
        parts = []
        for d in range(D):
            lc: LayerCache = cache["caches"][layer * D + d]
            c = lc.cell_state_seq  # (T, B, H) in processing order
            if lc.mask is not None:
                c = c * lc.mask
            if lc.order is not None:
                c = c[lc.order, np.arange(c.shape[1])[None, :]]
            parts.append(c)
        cs = parts[0] if D == 1 else np.concatenate(parts, axis=2)
        return self._format_out(cs, cache["batched"])

    def extra_repr(self) -> str:
        """The arguments shown inside ``repr(module)``'s parentheses, as torch prints them."""
        s = super().extra_repr()
        s += f", proj_size={self.proj_size}" if self.proj_size else ""
        return s + (f", forget_bias={self.forget_bias}" if self.forget_bias is not None else "")


class GRU(RNNBase):
    """torch.nn.GRU: gate blocks r, z, n in ``weight_ih_l{k}`` (3H × in) and ``weight_hh_l{k}`` (3H × H).

        r = σ(W_ir x + b_ir + W_hr h + b_hr),   z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))          reset_after=True (torch, default)
        n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)          reset_after=False (Cho et al. / d2l)
        h' = (1 − z) ⊙ n + z ⊙ h

    ``out, h_n = gru(x, h0, lengths=None)``; ``dx, dh0 = gru.backward(dout, dh_n)``.
    ``reset_after=False`` has no torch equivalent (it is verified by finite
    differences); ``learn_initial_state=True`` as in :class:`RNNBase`.

    Shapes: as :meth:`RNNBase.forward`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = np.float32,
        seed: Any = None,
        reset_after: bool = True,
        learn_initial_state: bool = False,
        backend: str = "auto",
        memory: Any = "full",
    ) -> None:
        self.reset_after = _check_bool("reset_after", reset_after)
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype, seed,
            learn_initial_state, backend, memory=memory,
        )

    def _make_cell(self) -> CellKind:
        return cells.for_module("gru", reset_after=self.reset_after)

    def extra_repr(self) -> str:
        """The arguments shown inside ``repr(module)``'s parentheses, as torch prints them."""
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")
