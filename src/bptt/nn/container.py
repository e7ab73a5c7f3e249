"""``Sequential`` and ``MLP``."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._checks import check_positive_int
from .activation import make_activation
from .linear import Linear
from .module import Module

Array = np.ndarray


class Sequential(Module):
    """y = f_n(… f_2(f_1(x))); backward runs the modules in reverse.

    Children are named "0", "1", … so parameter names match torch.nn.Sequential
    (``"0.weight"``, ``"2.bias"``). All children must share one dtype.
    A child whose forward returns a pair, as RNN/LSTM/GRU return ``(output, h_n)``,
    passes on the first (the output sequence) and gets ``backward(dy, None)``:
    no gradient reaches its final state. To pass on h_n instead, wrap the layer in
    :class:`bptt.nn.HiddenState`. ``backward`` returns ∂L/∂x (None after an Embedding).
    """

    def __init__(self, *modules: Module) -> None:
        if not modules:
            raise ValueError("modules: expected at least one module, got none")
        super().__init__(modules[0].dtype if isinstance(modules[0], Module) else np.float32)
        for i, m in enumerate(modules):
            self.add_module(str(i), m)
            if m.dtype != self.dtype:
                raise TypeError(f"modules[{i}]: expected dtype {self.dtype} like modules[0], got {m.dtype}")

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def forward(self, x: Array) -> Array:
        self._paired = []
        for m in self._modules.values():
            x = m(x)
            self._paired.append(isinstance(x, tuple))
            if self._paired[-1]:  # (output, state) of a recurrent layer: the sequence goes on
                x = x[0]
        return x

    def backward(self, dy: Array, retain_graph: bool = False) -> Array:
        """∂L/∂x = f_1'ᵀ(… f_n'ᵀ(dy)): each child's ``backward`` in reverse order; returns ∂L/∂x."""
        paired = getattr(self, "_paired", None)
        if paired is None:
            raise RuntimeError("Sequential.backward: called before forward (no cached activations)")
        kw = {"retain_graph": True} if retain_graph else {}
        for m, pair in zip(reversed(list(self._modules.values())), reversed(paired)):
            dy = m.backward(dy, None, **kw)[0] if pair else m.backward(dy, **kw)
        return dy


class MLP(Sequential):
    """A multilayer perceptron: Linear → activation → … → Linear → output_activation.

    ``sizes = [in, h1, …, out]``. ``activation`` is one of "tanh", "sigmoid",
    "relu", "leaky_relu", "identity"; ``output_activation`` likewise or None.
    Layout equals torch.nn.Sequential(Linear, Act, Linear, …), so state_dicts
    are interchangeable.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "tanh",
        output_activation: str | None = None,
        bias: bool = True,
        dtype: Any = np.float32,
        seed: Any = None,
    ) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes: expected at least [in, out], got {sizes}")
        for i, s in enumerate(sizes):
            check_positive_int(f"sizes[{i}]", s)
        make_activation(activation, dtype)  # validate even when there is no hidden layer
        rng = np.random.default_rng(seed)
        layers: list[Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(a, b, bias=bias, dtype=dtype, seed=rng))
            last = i == len(sizes) - 2
            if not last:
                layers.append(make_activation(activation, dtype))
            elif output_activation is not None:
                layers.append(make_activation(output_activation, dtype, "output_activation"))
        super().__init__(*layers)
        self.sizes = sizes
