"""The small modules a sequence model needs between its layers: Embedding, Flatten, Unflatten,
Transpose and HiddenState — each a forward and a hand-written backward, as every bptt module.

With them a char-level language model is one :class:`~bptt.nn.Sequential`::

    model = Sequential(Embedding(V, E), LSTM(E, H), Linear(H, V), Flatten(0, 1))
    loss = CrossEntropyLoss()
    loss(model(ids), targets.reshape(-1))          # ids (T, B) -> logits (T·B, V)
    model.backward(loss.backward())                # every parameter's grad, no manual reverse calls

``Linear`` already acts on the last axis of (*, in_features), so it is time-distributed
as it stands. A recurrent layer inside ``Sequential`` passes on its output sequence;
:class:`HiddenState` passes on its last layer's final hidden state instead.

A custom module is a :class:`~bptt.nn.Module` subclass with ``forward`` (cache what backward
needs) and ``backward`` (take ∂L/∂output, add parameter gradients with ``Parameter.accumulate``,
return ∂L/∂input); ``bptt.gradcheck(module, (x,))`` checks it by central differences::

    class Scale(Module):                       # y = x ⊙ w, w (F,)
        def __init__(self, F, dtype=np.float64):
            super().__init__(dtype)
            self.register_parameter("weight", np.ones(F))
        def forward(self, x):
            self._x = x
            return x * self.weight
        def backward(self, dy):
            self._params["weight"].accumulate((dy * self._x).reshape(-1, dy.shape[-1]).sum(0))
            return dy * self.weight
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_array, check_positive_int
from .linear import _require_cache
from .module import Module, _consume

Array = np.ndarray


def _dim(name: str, d: Any, ndim: int) -> int:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not -ndim <= d < ndim:
        raise ValueError(f"{name}: expected an axis in [{-ndim}, {ndim}) for a {ndim}-d input, got {d!r}")
    return int(d) % ndim


class Embedding(Module):
    """torch.nn.Embedding(num_embeddings, embedding_dim): y = W[ids], W ~ N(0, 1).

    Backward: ∂L/∂W[v] = Σ over positions holding id v of ∂L/∂y; ids get no gradient (returns None).
    Shapes: ids (*) int -> (*, embedding_dim); weight (num_embeddings, embedding_dim)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype: Any = np.float32, seed: Any = None) -> None:
        super().__init__(dtype)
        self.num_embeddings = check_positive_int("num_embeddings", num_embeddings)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.register_parameter("weight", rng.standard_normal((num_embeddings, embedding_dim)))
        self._ids = None

    def forward(self, ids: Array) -> Array:
        ids = np.asarray(ids)
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"input: expected integer ids, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            raise ValueError(f"input: expected ids in [0, {self.num_embeddings}), got {ids.min()}..{ids.max()}")
        self._ids = ids
        return self._params["weight"].data[ids]

    def backward(self, dy: Array, retain_graph: bool = False) -> None:
        """Adds ∂L/∂W[i] = Σ over the positions holding id i of dy into the weight's grad; returns None (ids have no
        gradient).

        Shapes: dy (*, embedding_dim)
        """
        ids = _require_cache(self, self._ids)
        check_array("grad_output", dy, dtype=self.dtype, shape=ids.shape + (self.embedding_dim,))
        _consume(self, retain_graph)  # one backward per forward, as torch
        self._params["weight"].accumulate(dy.reshape(-1, self.embedding_dim), ids.ravel())
        return None

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Flatten(Module):
    """torch.nn.Flatten(start_dim=1, end_dim=-1): merge axes start_dim..end_dim into one.

    Shapes: (*, S_start, …, S_end, *) -> (*, S_start·…·S_end, *); backward reshapes back.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1, dtype: Any = np.float32) -> None:
        super().__init__(dtype)
        for name, d in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
                raise TypeError(f"{name}: expected an int, got {type(d).__name__}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: Array) -> Array:
        s, e = _dim("start_dim", self.start_dim, max(x.ndim, 1)), _dim("end_dim", self.end_dim, max(x.ndim, 1))
        if s > e:
            raise ValueError(f"start_dim: expected start_dim <= end_dim, got axes {s} > {e} for shape {x.shape}")
        self._shape = x.shape
        return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:]) if x.ndim else x.reshape(1)

    def backward(self, dy: Array) -> Array:
        """∂L/∂x = dy reshaped back to the input's shape."""
        return dy.reshape(_require_cache(self, self._shape))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """torch.nn.Unflatten(dim, unflattened_size): split axis ``dim`` into ``unflattened_size``.

    Shapes: (*, prod(sizes), *) -> (*, *sizes, *)
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...], dtype: Any = np.float32) -> None:
        super().__init__(dtype)
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"dim: expected an int, got {type(dim).__name__}")
        self.dim = int(dim)
        self.unflattened_size = tuple(check_positive_int(f"unflattened_size[{i}]", n) for i, n in enumerate(unflattened_size))
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: Array) -> Array:
        d = _dim("dim", self.dim, x.ndim)
        if x.shape[d] != int(np.prod(self.unflattened_size)):
            raise ValueError(f"input: axis {d} has {x.shape[d]} entries, expected {int(np.prod(self.unflattened_size))} = prod{self.unflattened_size}")
        self._shape = x.shape
        return x.reshape(x.shape[:d] + self.unflattened_size + x.shape[d + 1:])

    def backward(self, dy: Array) -> Array:
        """∂L/∂x = dy reshaped back to the input's shape."""
        return dy.reshape(_require_cache(self, self._shape))


class Transpose(Module):
    """y = x.transpose(dim0, dim1) (torch's ``x.transpose``; e.g. batch-first <-> time-major). Its own backward."""

    def __init__(self, dim0: int, dim1: int, dtype: Any = np.float32) -> None:
        super().__init__(dtype)
        self.dim0, self.dim1 = int(dim0), int(dim1)
        self._ndim: int | None = None

    def forward(self, x: Array) -> Array:
        a, b = _dim("dim0", self.dim0, x.ndim), _dim("dim1", self.dim1, x.ndim)
        self._ndim = x.ndim
        return np.ascontiguousarray(np.swapaxes(x, a, b))

    def backward(self, dy: Array) -> Array:
        """∂L/∂x = dy with the same two axes swapped back."""
        n = _require_cache(self, self._ndim)
        return np.ascontiguousarray(np.swapaxes(dy, self.dim0 % n, self.dim1 % n))

    def extra_repr(self) -> str:
        return f"{self.dim0}, {self.dim1}"


class HiddenState(Module):
    """y = h_n[-1] of a recurrent module: its last layer's final hidden state (torch's ``rnn(x)[1][-1]``;
    for an LSTM, of h_n in (h_n, c_n)). For a bidirectional module that entry is the reverse direction's.

    Backward: ∂L/∂h_n is zero except that entry; returns ∂L/∂x. The module's parameters are this
    module's children, so they train with the rest of a :class:`~bptt.nn.Sequential`.
    Shapes: (T, B, I) -> (B, H) (batch_first: (B, T, I)); unbatched (T, I) -> (H,)
    """

    def __init__(self, module: Module) -> None:
        from .recurrent import RNNBase

        if not isinstance(module, RNNBase):
            raise TypeError(f"module: expected an RNN, LSTM or GRU, got {type(module).__name__}")
        super().__init__(module.dtype)
        self.add_module("rnn", module)
        self._state_shape: tuple[int, ...] | None = None

    def forward(self, x: Array) -> Array:
        _, state = self._modules["rnn"](x)
        h = state[0] if isinstance(state, tuple) else state
        self._state_shape = h.shape
        return h[-1]

    def backward(self, dy: Array) -> Array:
        """∂L/∂x from dy = ∂L/∂h_n[−1]: BPTT through the wrapped layer with no gradient on its outputs.

        Shapes: dy (B, H) -> dx like the input
        """
        shape = _require_cache(self, self._state_shape)
        rnn = self._modules["rnn"]
        dh_n = np.zeros(shape, dtype=self.dtype)
        dh_n[-1] = check_array("grad_output", dy, dtype=self.dtype, shape=shape[1:])
        dx, _ = rnn.backward(None, (dh_n, None) if rnn.cell.has_cell_state else dh_n)
        return dx
