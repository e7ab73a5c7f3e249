"""Datasets as arrays, mini-batches by seed, and padding with lengths.

A :class:`Dataset` is a pair of arrays with a leading sample axis — inputs
``x`` (N, F) or batch-first sequences (N, T, F), targets ``y`` — plus, for
variable-length sequences, ``lengths`` (N,). It says what kind of task it is
(``classification`` with integer targets or ``regression`` with float targets)
and whether sequence targets come at every step (``per_step``) or once at the
end. Per-step class targets past a sequence's length are ``IGNORE_INDEX``
(−100, torch's ``ignore_index``), so the loss simply skips them.

:func:`iterate_minibatches` shuffles with ``numpy.random.default_rng([seed, epoch])``:
the order of epoch e depends only on (seed, e), so a run resumed in the middle
of an epoch sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from .._checks import check_choice, check_positive_int

Array = np.ndarray
IGNORE_INDEX = -100
KINDS = ("classification", "regression")


@dataclass
class Dataset:
    """Inputs, targets, optional lengths and per-sample extras (all indexed by sample).

    Shapes:
        x: (N, F) or (N, T, F) float
        y: (N,) int | (N, O) float | (N, T) int | (N, T, O) float
        lengths: (N,) ints in [1, T] or None
        extras: name -> (N, ...) arrays carried along by batching (e.g. Reber's valid next symbols)
    """

    x: Array
    y: Array
    lengths: Array | None = None
    kind: str = "classification"
    per_step: bool = False
    n_classes: int | None = None
    name: str = ""
    extras: dict[str, Array] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, KINDS)
        if not isinstance(self.x, np.ndarray) or self.x.ndim not in (2, 3):
            raise ValueError(f"x: expected a 2-D (N, F) or 3-D (N, T, F) array, got {getattr(self.x, 'shape', type(self.x).__name__)}")
        n = self.x.shape[0]
        if n == 0:
            raise ValueError("x: expected at least one sample, got 0")
        if not isinstance(self.y, np.ndarray) or self.y.shape[:1] != (n,):
            raise ValueError(f"y: expected {n} targets (leading axis), got shape {getattr(self.y, 'shape', None)}")
        if self.kind == "classification" and not np.issubdtype(self.y.dtype, np.integer):
            raise TypeError(f"y: classification targets must be integers, got dtype {self.y.dtype}")
        if self.lengths is not None:
            if self.x.ndim != 3 or self.lengths.shape != (n,):
                raise ValueError(f"lengths: expected shape ({n},) for 3-D x, got {self.lengths.shape} with x {self.x.shape}")
            if self.lengths.min() < 1 or self.lengths.max() > self.x.shape[1]:
                raise ValueError(f"lengths: expected values in [1, {self.x.shape[1]}], got {self.lengths.min()}..{self.lengths.max()}")
        for k, v in self.extras.items():
            if v.shape[:1] != (n,):
                raise ValueError(f"extras[{k!r}]: expected leading axis {n}, got shape {v.shape}")

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def is_sequence(self) -> bool:
        """True for sequence data: ``x`` is (N, T, input_size), not (N, input_size)."""
        return self.x.ndim == 3

    @property
    def input_size(self) -> int:
        """Features per item (per step for sequences): the last axis of ``x``."""
        return int(self.x.shape[-1])

    @property
    def output_size(self) -> int:
        """Classes for classification, target width for regression."""
        if self.kind == "classification":
            return int(self.n_classes if self.n_classes is not None else int(self.y.max()) + 1)
        return int(self.y.shape[-1]) if self.y.ndim > (2 if self.per_step else 1) else 1

    def subset(self, index: Any) -> "Dataset":
        """The samples at ``index`` (an int array or slice), as a new Dataset."""
        return Dataset(
            self.x[index], self.y[index], None if self.lengths is None else self.lengths[index],
            self.kind, self.per_step, self.n_classes, self.name, {k: v[index] for k, v in self.extras.items()},
        )

    def split(self, val_fraction: float = 0.2, seed: int = 0) -> tuple["Dataset", "Dataset"]:
        """A shuffled (by ``seed``) train/validation split; both parts non-empty."""
        if not 0.0 < float(val_fraction) < 1.0:
            raise ValueError(f"val_fraction: expected a float in (0, 1), got {val_fraction}")
        n = len(self)
        n_val = int(round(n * float(val_fraction)))
        if n_val < 1 or n_val >= n:
            raise ValueError(f"val_fraction: {val_fraction} of {n} samples leaves an empty train or validation part")
        perm = np.random.default_rng(seed).permutation(n)
        return self.subset(np.sort(perm[n_val:])), self.subset(np.sort(perm[:n_val]))


@dataclass
class Batch:
    """One mini-batch; sequence batches are trimmed to their longest member.

    Shapes: x (B, F) or (B, T, F); y like the dataset's; lengths (B,) or None; index (B,)
    """

    x: Array
    y: Array
    lengths: Array | None
    index: Array
    extras: dict[str, Array] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.x.shape[0])


def epoch_order(n: int, shuffle: bool, seed: int, epoch: int) -> Array:
    """The sample order of one epoch: a permutation drawn from ``default_rng([seed, epoch])``, or 0..n−1."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def num_batches(n: int, batch_size: int, drop_last: bool = False) -> int:
    """⌈n / batch_size⌉ mini-batches per epoch, or ⌊n / batch_size⌋ with ``drop_last``."""
    return n // batch_size if drop_last else -(-n // batch_size)


def iterate_minibatches(
    data: Dataset,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
    drop_last: bool = False,
    start: int = 0,
) -> Iterator[Batch]:
    """Yield the mini-batches of one epoch (``start`` skips the first ``start`` batches).

    ``batch_size`` runs from 1 (pure SGD) to ``len(data)`` (full batch).
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data: expected a bptt.data.Dataset, got {type(data).__name__}")
    n = len(data)
    batch_size = check_positive_int("batch_size", batch_size)
    if batch_size > n:
        raise ValueError(f"batch_size: expected 1 … {n} (the dataset size), got {batch_size}")
    order = epoch_order(n, shuffle, seed, epoch)
    for b in range(start, num_batches(n, batch_size, drop_last)):
        idx = order[b * batch_size:(b + 1) * batch_size]
        x, y = data.x[idx], data.y[idx]
        extras = {k: v[idx] for k, v in data.extras.items()}
        lengths = None
        if data.lengths is not None:
            # trim the padding no member of this batch needs
            lengths = data.lengths[idx]
            T = int(lengths.max())
            x = x[:, :T]
            if data.per_step:
                y = y[:, :T]
                extras = {k: v[:, :T] if v.ndim >= 2 else v for k, v in extras.items()}
        yield Batch(x, y, lengths, idx, extras)


def pad_sequences(seqs: Sequence[Any], pad_value: Any = 0, dtype: Any = None) -> tuple[Array, Array]:
    """Stack sequences of different lengths, padding at the end.

    Shapes: seqs[i] (T_i, *) -> padded (N, max T_i, *), lengths (N,) int64.
    """
    if len(seqs) == 0:
        raise ValueError("seqs: expected at least one sequence, got none")
    arrs = [np.asarray(s) for s in seqs]
    tail = arrs[0].shape[1:]
    for i, a in enumerate(arrs):
        if a.ndim < 1 or a.shape[1:] != tail:
            raise ValueError(f"seqs[{i}]: expected shape (T, {', '.join(map(str, tail))}) like seqs[0], got {a.shape}")
        if a.shape[0] == 0:
            raise ValueError(f"seqs[{i}]: expected at least one step, got an empty sequence")
    lengths = np.array([a.shape[0] for a in arrs], dtype=np.int64)
    out = np.full((len(arrs), int(lengths.max())) + tail, pad_value, dtype=dtype or arrs[0].dtype)
    for i, a in enumerate(arrs):
        out[i, :a.shape[0]] = a
    return out, lengths
