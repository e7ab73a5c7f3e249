"""Recurrent modules with torch.nn's contract: ``RNN`` (and the shared ``RNNBase``).

``RNNBase`` owns what every recurrent layer shares — parameters named like
torch (``weight_ih_l0``, ``bias_hh_l1_reverse``, …), layers × directions,
``batch_first``, unbatched input, ``h0`` layout ``(num_layers · D, B, H)``,
dropout between layers, variable lengths — and runs each (layer, direction)
through :func:`bptt.functional.recurrent.layer_forward` with its cell. A
subclass only says which cell and how many gate blocks.

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
from ..functional.recurrent import Cell, LayerCache, layer_backward, layer_forward
from ..functional.rnn import ElmanCell
from .linear import _require_cache
from .module import Module

Array = np.ndarray


class RNNBase(Module):
    """Layers × directions of one cell kind. Subclasses implement :meth:`_make_cell`."""

    gates = 1

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
    ) -> None:
        super().__init__(dtype)
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = check_probability("dropout", dropout)
        self.bidirectional = bool(bidirectional)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(
                "dropout > 0 with num_layers=1 has no effect: dropout acts between layers (as in torch)",
                stacklevel=2,
            )
        self._rng = np.random.default_rng(seed)
        self.cell: Cell = self._make_cell()
        self._init_parameters()
        self._cache: dict | None = None

    # -- structure ----------------------------------------------------------
    def _make_cell(self) -> Cell:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _names(self, layer: int, direction: int) -> tuple[str, str, str, str]:
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        return (f"weight_ih{sfx}", f"weight_hh{sfx}", f"bias_ih{sfx}", f"bias_hh{sfx}")

    def _layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.hidden_size * self.num_directions

    def _init_parameters(self) -> None:
        """U(−1/√H, 1/√H) for every weight and bias, torch's default."""
        H, G = self.hidden_size, self.cell.gates
        k = 1.0 / np.sqrt(H)
        for layer in range(self.num_layers):
            for d in range(self.num_directions):
                w_ih, w_hh, b_ih, b_hh = self._names(layer, d)
                self.register_parameter(w_ih, self._rng.uniform(-k, k, (G * H, self._layer_input_size(layer))))
                self.register_parameter(w_hh, self._rng.uniform(-k, k, (G * H, H)))
                if self.bias:
                    self.register_parameter(b_ih, self._rng.uniform(-k, k, (G * H,)))
                    self.register_parameter(b_hh, self._rng.uniform(-k, k, (G * H,)))

    def _layer_params(self, layer: int, d: int) -> list[Array | None]:
        return [self._params[n].data if n in self._params else None for n in self._names(layer, d)]

    # -- state in/out (the LSTM overrides these for its (h, c) tuple) --------
    def _split_state(self, hx: Any) -> tuple[Any, Any]:
        if isinstance(hx, tuple):
            raise TypeError(f"hx: {type(self).__name__} expects one array h0, got a tuple")
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
        if T == 0 or B == 0:
            raise ValueError(f"input: expected at least one time step and one sequence, got shape {x.shape}")
        LD, H = self.num_layers * self.num_directions, self.hidden_size
        h0, c0 = self._split_state(hx)
        want = (LD, B, H) if batched else (LD, H)
        states = []
        for name, s in (("h0", h0), ("c0", c0)):
            if s is None:
                states.append(np.zeros((LD, B, H), dtype=self.dtype) if (name == "h0" or self.cell.has_cell_state) else None)
                continue
            check_array(name, s, dtype=self.dtype, shape=want)
            states.append(s if batched else s[:, None, :])
        if lengths is not None:
            if not batched:
                raise ValueError("lengths: only valid for batched (3-D) input")
            lengths = to_numpy(lengths)
            if lengths.shape != (B,) or not np.issubdtype(lengths.dtype, np.integer):
                raise ValueError(f"lengths: expected {B} integers (one per sequence), got shape {lengths.shape} dtype {lengths.dtype}")
            if lengths.min() < 1 or lengths.max() > T:
                raise ValueError(f"lengths: expected values in [1, {T}] (T = {T}), got min {lengths.min()} max {lengths.max()}")
            lengths = lengths.astype(np.int64)
        return xt, states[0], states[1], lengths, batched

    # -- forward / backward -----------------------------------------------------
    def forward(self, x: Array, hx: Any = None, lengths: Any = None) -> tuple[Array, Any]:
        """``out, h_n = rnn(x, h0)`` with torch.nn.RNN's shapes.

        Shapes (D = 2 if bidirectional else 1, L = num_layers):
            x: (T, B, I), or (B, T, I) with batch_first, or unbatched (T, I)
            h0: (L·D, B, H) or unbatched (L·D, H); None means zeros
            lengths: (B,) ints in [1, T] or None (packed-sequence semantics)
            out: (T, B, D·H) / (B, T, D·H) / (T, D·H);  h_n like h0
        """
        xt, h0, c0, lengths, batched = self._check_input(x, hx, lengths)
        D = self.num_directions
        inp = xt
        caches, masks, h_n, c_n = [], [], [], []
        for layer in range(self.num_layers):
            if layer > 0 and self.training and self.dropout > 0:
                keep = (self._rng.random(inp.shape) >= self.dropout).astype(self.dtype)
                keep /= self.dtype.type(1 - self.dropout)
                inp = inp * keep
                masks.append(keep)
            else:
                masks.append(None)
            outs = []
            for d in range(D):
                i = layer * D + d
                out, h, c, cache = layer_forward(
                    self.cell, inp, h0[i], None if c0 is None else c0[i],
                    *self._layer_params(layer, d), lengths=lengths, reverse=bool(d),
                )
                outs.append(out)
                caches.append(cache)
                h_n.append(h)
                c_n.append(c)
            inp = outs[0] if D == 1 else np.concatenate(outs, axis=2)
        h_n = np.stack(h_n)
        c_n = np.stack(c_n) if self.cell.has_cell_state else None
        self._cache = {"caches": caches, "masks": masks, "batched": batched, "T": xt.shape[0], "B": xt.shape[1]}
        return self._format_out(inp, batched), self._join_state(*self._format_state(h_n, c_n, batched))

    def _format_out(self, out: Array, batched: bool) -> Array:
        if not batched:
            return out[:, 0, :]
        return np.ascontiguousarray(out.transpose(1, 0, 2)) if self.batch_first else out

    def _format_state(self, h: Array, c: Array | None, batched: bool):
        if batched:
            return h, c
        return h[:, 0, :], None if c is None else c[:, 0, :]

    def backward(self, dout: Array | None, dstate: Any = None) -> tuple[Array, Any]:
        """``dx, dh0 = rnn.backward(dout, dh_n)``; parameter gradients add into ``grads``.

        ``dout`` has the shape of ``out`` and ``dh_n`` the shape of ``h_n``
        (for the LSTM, ``dstate = (dh_n, dc_n)``); None stands for zeros.
        Returns ∂L/∂x in the input's layout and ∂L/∂h0 (∂L/∂(h0, c0) for LSTM).
        """
        cache = _require_cache(self, self._cache)
        batched, T, B = cache["batched"], cache["T"], cache["B"]
        D, H, L = self.num_directions, self.hidden_size, self.num_layers
        dout_t = self._check_grad_out(dout, batched, T, B)
        dh_n, dc_n = self._split_state(dstate)
        dh_n = self._check_grad_state("dh_n", dh_n, batched, B)
        dc_n = self._check_grad_state("dc_n", dc_n, batched, B) if self.cell.has_cell_state else None
        dh0 = np.zeros((L * D, B, H), dtype=self.dtype)
        dc0 = np.zeros((L * D, B, H), dtype=self.dtype) if self.cell.has_cell_state else None
        for layer in range(L - 1, -1, -1):
            dinp = None
            for d in range(D):
                i = layer * D + d
                g = layer_backward(
                    None if dout_t is None else dout_t[:, :, d * H:(d + 1) * H],
                    None if dh_n is None else dh_n[i],
                    None if dc_n is None else dc_n[i],
                    cache["caches"][i],
                )
                self._accumulate(layer, d, g)
                dh0[i] = g["dh0"]
                if dc0 is not None:
                    dc0[i] = g["dc0"]
                dinp = g["dx"] if dinp is None else dinp + g["dx"]
            if cache["masks"][layer] is not None:
                dinp = dinp * cache["masks"][layer]
            dout_t = dinp
        return self._format_out(dout_t, batched), self._join_state(*self._format_state(dh0, dc0, batched))

    def _accumulate(self, layer: int, d: int, g: dict) -> None:
        for name, key in zip(self._names(layer, d), ("dW_ih", "dW_hh", "db_ih", "db_hh")):
            if name in self._params:
                self._params[name].grad += g[key]

    def _check_grad_out(self, dout: Any, batched: bool, T: int, B: int) -> Array | None:
        if dout is None:
            return None
        DH = self.num_directions * self.hidden_size
        want = ((B, T, DH) if self.batch_first else (T, B, DH)) if batched else (T, DH)
        check_array("dout", dout, dtype=self.dtype, shape=want)
        if not batched:
            return dout[:, None, :]
        return dout.transpose(1, 0, 2) if self.batch_first else dout

    def _check_grad_state(self, name: str, g: Any, batched: bool, B: int) -> Array | None:
        if g is None:
            return None
        LD, H = self.num_layers * self.num_directions, self.hidden_size
        check_array(name, g, dtype=self.dtype, shape=(LD, B, H) if batched else (LD, H))
        return g if batched else g[:, None, :]

    def extra_repr(self) -> str:
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
    ) -> None:
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ("tanh", "relu", "sigmoid"))
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype, seed)

    def _make_cell(self) -> Cell:
        return ElmanCell(self.nonlinearity)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"
