"""Models the trainer builds: a recurrent net with a read-out, and the char-level language model.

* :class:`SequenceNet` — RNN/LSTM/GRU (child ``rnn``) and a Linear read-out
  (child ``head``), batch-first. ``readout="last"`` reads each sequence at its
  own last valid step (``lengths``); ``readout="all"`` at every step.
* :class:`Embedding` — torch.nn.Embedding (now :class:`bptt.nn.Embedding`, re-exported here).
* :class:`CharRNN` — one-hot (or an Embedding) → RNN/LSTM/GRU → Linear over
  the vocabulary, time-major ``(T, B)`` ids, with the recurrent state passed
  in and out so that truncated BPTT can carry it from chunk to chunk.

All three are :class:`bptt.nn.Module` s: ``parameters()`` for the optimizers,
``forward``/``backward`` by hand, gradients accumulating into ``p.grad``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import as_dtype, check_array, check_choice, check_positive_int
from ..functional import cells as _cells
from ..nn import Linear, Module
from ..nn.linear import _require_cache
from ..nn.module import _consume
from ..nn.recurrent import RNNBase
from ..nn.sequence import Embedding  # public as bptt.nn.Embedding; kept importable from here

Array = np.ndarray
CELLS = ("rnn",) + _cells.names()  # every kind of the registry; "rnn" is "rnn-tanh", as in torch


def make_recurrent(cell: str, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                   dtype: Any = np.float32, seed: Any = None) -> RNNBase:
    """The module of a registry cell kind ("rnn" (tanh), "rnn-relu", "lstm", "gru", …) with torch's layout and init."""
    kind = _cells.get(check_choice("cell", cell, CELLS))
    return kind.module(input_size, hidden_size, num_layers=num_layers, dropout=dropout, dtype=dtype, seed=seed)


def detach_state(state: Any) -> Any:
    """A copy of a recurrent state (array or (h, c)): the carried value, with no path back (h.detach())."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(None if s is None else s.copy() for s in state)
    return state.copy()


class SequenceNet(Module):
    """ŷ = head(h_ℓ) (readout "last") or ŷ_t = head(h_t) (readout "all") over a recurrent layer.

    Shapes (batch-first): x (B, T, I); lengths (B,) or None;
        "last": ŷ (B, O)     "all": ŷ (B, T, O)
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, output_size: int, readout: str = "last",
                 num_layers: int = 1, dropout: float = 0.0, dtype: Any = np.float32, seed: Any = None) -> None:
        super().__init__(dtype)
        rng = np.random.default_rng(seed)
        self.cell = check_choice("cell", cell, CELLS)
        self.readout = check_choice("readout", readout, ("last", "all"))
        self.add_module("rnn", make_recurrent(cell, input_size, hidden_size, num_layers, dropout, dtype, rng))
        self.add_module("head", Linear(hidden_size, check_positive_int("output_size", output_size), dtype=dtype, seed=rng))
        self.state: Any = None  # the final recurrent state of the last forward (for truncated BPTT)
        self._ctx: Any = None

    def config(self) -> dict[str, Any]:
        """The constructor settings as a JSON-able dict (stored in checkpoints)."""
        r = self._modules["rnn"]
        return {"model": "sequence", "cell": self.cell, "input_size": r.input_size, "hidden_size": r.hidden_size,
                "output_size": self._modules["head"].out_features, "readout": self.readout,
                "num_layers": r.num_layers, "dropout": r.dropout, "dtype": str(self.dtype)}

    def forward(self, x: Array, lengths: Any = None, hx: Any = None) -> Array:
        check_array("input", x, ndim=3, dtype=self.dtype)
        rnn, head = self._modules["rnn"], self._modules["head"]
        out, self.state = rnn(np.ascontiguousarray(x.transpose(1, 0, 2)), hx, lengths=lengths)  # (T, B, H)
        T, B, _ = out.shape
        if self.readout == "all":
            y = head(out)  # (T, B, O)
            self._ctx = (T, B, None)
            return np.ascontiguousarray(y.transpose(1, 0, 2))
        last = np.full(B, T - 1) if lengths is None else np.asarray(lengths) - 1
        self._ctx = (T, B, last)
        return head(out[last, np.arange(B)])

    def backward(self, dy: Array, retain_graph: bool = False) -> Array:
        """∂L/∂x from ∂L/∂y: through the head, then BPTT through the recurrent layers.

        With ``readout="last"`` the gradient enters each sequence at its last valid step only.

        Shapes: dy (B, T, out) for readout "all", (B, out) for "last" -> dx (B, T, input_size)
        """
        T, B, last = _require_cache(self, self._ctx)
        rnn, head = self._modules["rnn"], self._modules["head"]
        _consume(self, retain_graph)
        if self.readout == "all":
            dout = head.backward(np.ascontiguousarray(dy.transpose(1, 0, 2)), retain_graph=retain_graph)
        else:
            dh = head.backward(dy, retain_graph=retain_graph)
            dout = np.zeros((T, B, dh.shape[-1]), dtype=self.dtype)
            dout[last, np.arange(B)] = dh
        dx, _ = rnn.backward(dout, None, retain_graph=retain_graph)
        return dx.transpose(1, 0, 2)

    def run_state(self, x: Array, hx: Any = None) -> Any:
        """Only the recurrent layer, for the chunks of truncated BPTT that carry state but get no loss."""
        _, state = self._modules["rnn"](np.ascontiguousarray(x.transpose(1, 0, 2)), hx)
        return state


class CharRNN(Module):
    """Character-level language model: logits_t = head(rnn(embed(c_t)))  (min-char-rnn, batched).

    With ``embedding_dim=None`` the input is one-hot (exactly min-char-rnn's
    W_xh x_t); otherwise an :class:`Embedding` of that width comes first.

    Shapes: ids (T, B) int; state as the cell's (h or (h, c), each (L, B, H));
        logits (T, B, V)
    """

    def __init__(self, vocab_size: int, hidden_size: int = 128, cell: str = "lstm", num_layers: int = 1,
                 embedding_dim: int | None = None, dropout: float = 0.0, dtype: Any = np.float32, seed: Any = None) -> None:
        super().__init__(dtype)
        rng = np.random.default_rng(seed)
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.cell = check_choice("cell", cell, CELLS)
        self.embedding_dim = None if embedding_dim is None else check_positive_int("embedding_dim", embedding_dim)
        if self.embedding_dim is not None:
            self.add_module("embed", Embedding(vocab_size, self.embedding_dim, dtype=dtype, seed=rng))
        in_size = self.embedding_dim or vocab_size
        self.add_module("rnn", make_recurrent(cell, in_size, hidden_size, num_layers, dropout, dtype, rng))
        self.add_module("head", Linear(hidden_size, vocab_size, dtype=dtype, seed=rng))
        self._eye = np.eye(vocab_size, dtype=self.dtype)
        self._T = None

    def config(self) -> dict[str, Any]:
        """The constructor settings as a JSON-able dict (stored in checkpoints)."""
        r = self._modules["rnn"]
        return {"model": "charlm", "vocab_size": self.vocab_size, "hidden_size": r.hidden_size, "cell": self.cell,
                "num_layers": r.num_layers, "embedding_dim": self.embedding_dim, "dropout": r.dropout,
                "dtype": str(self.dtype)}

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "CharRNN":
        """The model described by :meth:`config` (fresh weights; load a state_dict for the trained ones)."""
        return cls(int(cfg["vocab_size"]), int(cfg["hidden_size"]), cfg["cell"], int(cfg["num_layers"]),
                   None if cfg.get("embedding_dim") is None else int(cfg["embedding_dim"]),
                   float(cfg.get("dropout", 0.0)), as_dtype(cfg.get("dtype", "float32")))

    def init_state(self, batch_size: int) -> Any:
        """Zero initial state for ``batch_size`` streams: h0, or (h0, c0) for an LSTM.

        Shapes: -> (num_layers, batch_size, hidden_size) each
        """
        r = self._modules["rnn"]
        h = np.zeros((r.num_layers, batch_size, r.hidden_size), dtype=self.dtype)
        return (h, h.copy()) if r.cell.has_cell_state else h

    def forward(self, ids: Array, state: Any = None) -> tuple[Array, Any]:
        ids = np.asarray(ids)
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids: expected a 2-D (T, B) integer array, got shape {ids.shape} dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"ids: expected values in [0, {self.vocab_size}), got {ids.min()}..{ids.max()}")
        x = self._modules["embed"](ids) if self.embedding_dim is not None else self._eye[ids]
        out, state = self._modules["rnn"](x, state)
        self._T = ids.shape
        return self._modules["head"](out), state

    def backward(self, dlogits: Array, dstate: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate ∂L/∂logits (and ∂L/∂final state) into the parameters' grads.

        The one-hot input's gradient is not computed (it is data); with an embedding it reaches the embedding.

        Shapes: dlogits (T, B, vocab_size)
        """
        _require_cache(self, self._T)
        _consume(self, retain_graph)
        dout = self._modules["head"].backward(dlogits, retain_graph=retain_graph)
        # One-hot input is data: its gradient is not needed (one GEMM fewer per step of training).
        embedded = self.embedding_dim is not None
        dx, _ = self._modules["rnn"].backward(dout, dstate, input_grad=embedded, retain_graph=retain_graph)
        if embedded:
            self._modules["embed"].backward(dx, retain_graph=retain_graph)


def _recurrent_shapes(prefix: str, cell: str, input_size: int, hidden: int, layers: int) -> dict[str, tuple[int, ...]]:
    G = _cells.get(check_choice("cell", cell, CELLS)).gates
    out = {}
    for k in range(layers):
        out[f"{prefix}weight_ih_l{k}"] = (G * hidden, input_size if k == 0 else hidden)
        out[f"{prefix}weight_hh_l{k}"] = (G * hidden, hidden)
        out[f"{prefix}bias_ih_l{k}"] = (G * hidden,)
        out[f"{prefix}bias_hh_l{k}"] = (G * hidden,)
    return out


def expected_shapes(config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Parameter name -> shape of the model a ``config()`` describes, computed without building it.

    A checkpoint's headers are compared with this before a model is allocated,
    so a description claiming a huge model is refused at no cost.
    """
    if not isinstance(config, dict):
        raise TypeError(f"config: expected a dict, got {type(config).__name__}")
    kind = config.get("model")

    def pos(key: str) -> int:
        return check_positive_int(key, config[key])

    if kind == "mlp":
        sizes = [check_positive_int(f"sizes[{i}]", s) for i, s in enumerate(config["sizes"])]
        out = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            out[f"{2 * i}.weight"], out[f"{2 * i}.bias"] = (b, a), (b,)
        return out
    if kind == "sequence":
        H, O = pos("hidden_size"), pos("output_size")
        out = _recurrent_shapes("rnn.", config["cell"], pos("input_size"), H, pos("num_layers"))
        out.update({"head.weight": (O, H), "head.bias": (O,)})
        return out
    if kind == "charlm":
        V, H, E = pos("vocab_size"), pos("hidden_size"), config.get("embedding_dim")
        out = {} if E is None else {"embed.weight": (V, pos("embedding_dim"))}
        out.update(_recurrent_shapes("rnn.", config["cell"], V if E is None else E, H, pos("num_layers")))
        out.update({"head.weight": (V, H), "head.bias": (V,)})
        return out
    raise ValueError(f"config: unknown model kind {kind!r}")
