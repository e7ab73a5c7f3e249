"""The module base: parameters, gradients, state_dict, train/eval — torch's names.

A :class:`Parameter` pairs an array with its gradient. Modules keep their
parameters by name; children are registered with :meth:`Module.add_module` and
their names are prefixed as in torch (``"0.weight"``, ``"rnn.weight_ih_l0"``).
Optimizers walk ``module.parameters()`` and update ``p.data`` in place, so the
module always sees the new values; ``backward`` adds into ``p.grad`` through
:meth:`Parameter.accumulate` (gradients accumulate until ``zero_grad()``, like
torch). ``zero_grad(set_to_none=True)`` leaves ``p.grad = None`` as torch does:
the next backward allocates it, and an optimizer skips a parameter whose grad
is still None.
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Mapping

import numpy as np

from .._checks import as_dtype, to_numpy
from ..serialization import atomic_savez

Array = np.ndarray


def _consume(module: Any, retain_graph: bool = False) -> None:
    """Mark the activations of ``module``'s last forward as used by a backward (torch frees its graph).

    A second ``backward`` after one forward would add the same gradients twice;
    like torch it is an error unless the first one passed ``retain_graph=True``.
    ``Module.__call__`` (a new forward) makes the cache fresh again.
    """
    if module.__dict__.get("_consumed", False):
        raise RuntimeError(
            f"{type(module).__name__}.backward: Trying to backward through the graph a second time: the "
            "activations of the last forward were used by a previous backward (gradients would be added twice); "
            "run forward again, or pass retain_graph=True to the first backward")
    if not retain_graph:
        module.__dict__["_consumed"] = True


class Parameter:
    """A named array and its gradient (same shape and dtype, or None after ``zero_grad(set_to_none=True)``)."""

    __slots__ = ("data", "grad", "name")

    def __init__(self, data: Array, name: str = "") -> None:
        self.data = data
        self.grad = np.zeros_like(data)
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data`` (and of ``grad``)."""
        return self.data.shape

    def accumulate(self, g: Array, index: Any = None) -> None:
        """grad ← grad + g (grad[index] += g, repeats summed, with ``index``); allocates a None grad.

        The one place backward passes write parameter gradients, so that a grad set to
        None by ``zero_grad(set_to_none=True)`` comes back exactly as torch's does.
        """
        if self.grad is None:
            self.grad = np.zeros_like(self.data)
        if index is None:
            np.add(self.grad, g, out=self.grad, casting="same_kind")
        else:
            np.add.at(self.grad, index, g)

    def zero_grad(self, set_to_none: bool = False) -> None:
        """grad ← 0 in place, or grad ← None with ``set_to_none`` (torch's meaning)."""
        if set_to_none:
            self.grad = None
        elif self.grad is None:
            self.grad = np.zeros_like(self.data)
        else:
            self.grad.fill(0)

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class: parameters, children, gradients, state_dict, train/eval."""

    def __init__(self, dtype: Any = np.float32) -> None:
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_modules", {})
        self.dtype = as_dtype(dtype)
        self.training = True

    # -- registration -------------------------------------------------------
    def register_parameter(self, name: str, data: Array) -> Parameter:
        """Store ``data`` (copied to this module's dtype, C-contiguous) as the parameter ``name``; return it.

        The value is then readable as ``module.<name>`` and listed by ``named_parameters()``.
        """
        p = Parameter(np.ascontiguousarray(data, dtype=self.dtype), name)
        self._params[name] = p
        return p

    def add_module(self, name: str, module: "Module") -> "Module":
        """Register ``module`` as the child ``name``: its parameters appear as ``"<name>.<param>"``.

        Raises ``TypeError`` if ``module`` is not a bptt Module.
        """
        if not isinstance(module, Module):
            raise TypeError(f"module: expected a bptt Module, got {type(module).__name__}")
        self._modules[name] = module
        return module

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: expose parameters and children by name.
        params = self.__dict__.get("_params", {})
        if name in params:
            return params[name].data
        modules = self.__dict__.get("_modules", {})
        if name in modules:
            return modules[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    # -- walking ------------------------------------------------------------
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(name, Parameter)`` for this module's parameters, then its children's, with torch's dotted names."""
        for name, p in self._params.items():
            yield prefix + name, p
        for mname, m in self._modules.items():
            yield from m.named_parameters(prefix + mname + ".")

    def parameters(self) -> list[Parameter]:
        """Every :class:`Parameter`, in ``named_parameters()`` order (what an optimizer takes)."""
        return [p for _, p in self.named_parameters()]

    def modules(self) -> Iterator["Module"]:
        """This module, then every descendant, depth first."""
        yield self
        for m in self._modules.values():
            yield from m.modules()

    @property
    def grads(self) -> dict[str, Array]:
        """∂L/∂parameter for every parameter, keyed like ``state_dict()`` (live arrays)."""
        return {name: p.grad for name, p in self.named_parameters()}

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Every parameter's grad to 0 in place, or to None with ``set_to_none=True`` (torch's meaning).

        The default differs from torch's (True): bptt code and the course's notebooks
        write ``p.grad += …`` after ``zero_grad()``, which needs an allocated array.
        """
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def train(self, mode: bool = True) -> "Module":
        """Set ``training`` on this module and every descendant (dropout acts only in training); return self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> "Module":
        """``train(False)``: evaluation mode; return self."""
        return self.train(False)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.__dict__["_consumed"] = False  # a new forward: its cache may be used by one backward
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        """The module's output; ``module(x)`` calls it. Subclasses keep what ``backward`` needs as a cache."""
        raise NotImplementedError

    # -- state ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Array]:
        """A copy of every parameter, keyed by torch's names."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> "Module":
        """Copy values in, converting torch tensors and casting to this module's dtype.

        Every key, shape and value is checked before anything is written, so a
        bad ``state_dict`` leaves the module untouched. A missing or unexpected
        key (with ``strict``), a mis-shaped value, NaN/Inf, or a value that is
        not finite in this module's dtype (1e300 into float32) raises ``ValueError``.
        """
        for p, value in self.check_state_dict(state_dict, strict):
            p.data[...] = value
        return self

    def check_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> list[tuple[Parameter, Array]]:
        """Validate ``state_dict`` for :meth:`load_state_dict` without writing: ``(parameter, value)`` pairs.

        Each value is already cast to this module's dtype (a private copy).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict: expected a mapping of name -> array, got {type(state_dict).__name__}")
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise ValueError(f"state_dict: missing keys {missing}, unexpected keys {unexpected}")
        staged = []
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = to_numpy(state_dict[name])
            if value.shape != p.data.shape:
                raise ValueError(f"state_dict[{name!r}]: expected shape {p.data.shape}, got {value.shape}")
            if not np.issubdtype(value.dtype, np.number) or np.issubdtype(value.dtype, np.complexfloating):
                raise TypeError(f"state_dict[{name!r}]: expected a real-valued array, got dtype {value.dtype}")
            if not np.isfinite(value).all():
                raise ValueError(f"state_dict[{name!r}]: contains NaN/Inf")
            with np.errstate(over="ignore"):
                cast = np.array(value, dtype=self.dtype, copy=True)
            if not np.isfinite(cast).all():
                big = float(np.max(np.abs(value.astype(np.float64))))
                raise ValueError(f"state_dict[{name!r}]: values up to {big:.3g} overflow {self.dtype} "
                                 f"(largest finite {np.finfo(self.dtype).max:.3g})")
            staged.append((p, cast))
        return staged

    def save(self, path: str | os.PathLike) -> None:
        """Write ``state_dict()`` to an ``.npz`` atomically (temp file, then rename)."""
        atomic_savez(path, self.state_dict())

    def extra_repr(self) -> str:
        """The arguments shown inside ``repr(module)``'s parentheses (as torch's ``extra_repr``)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, m in self._modules.items():
            lines.append(f"  ({name}): " + repr(m).replace("\n", "\n  "))
        return lines[0] + (")" if len(lines) == 1 else "\n" + "\n".join(lines[1:]) + "\n)")
