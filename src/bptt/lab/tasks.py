"""The sequence tasks of :mod:`bptt.data` as the lab trains on them: sampling, loss, accuracy, chance.

    adding  x (B, T, 2) → the sum of the two marked values; MSE; "correct" when |ŷ − y| < 0.04
            (Hochreiter & Schmidhuber's criterion); chance = always predicting the mean.
    copy    x (B, delay + 20, 10) one-hot → the 10 data symbols repeated after the cue; per-step
            cross-entropy; accuracy over the 10 recalled symbols; chance = 1/8.
    sine    noisy sine (noise 0.1) of length T → the clean sine one step ahead, at every step; MSE;
            "correct" when |ŷ_t − y_t| < 0.1; chance = predicting the mean.

:func:`variable_mean` is the variable-length task of the ``lengths`` experiment (not in
:mod:`bptt.data`, so it is written here): values U(0, 1) for ℓ ∈ [ℓ_min, T] steps,
zero-padded to T; the target is their mean (1/ℓ) Σ_{t≤ℓ} x_t, so the model must know
where each sequence ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._checks import check_choice
from ..nn import CrossEntropyLoss

Array = np.ndarray
SEQUENCE_TASKS = ("adding", "copy", "sine")


class PerStepCrossEntropy:
    """Cross-entropy summed over steps, averaged over sequences, on batch-first logits (B, T, C)."""

    def __init__(self) -> None:
        self._ce = CrossEntropyLoss(reduction="sum")
        self._B = 1

    def __call__(self, logits: Array, target: Array) -> float:
        self._B = logits.shape[0]
        return self._ce(np.moveaxis(logits, 2, 1), target) / self._B  # torch's class axis is 1

    def backward(self) -> Array:
        """∂L/∂logits of the last call: (softmax − onehot) / B.

        Shapes: -> (B, T, C)
        """
        return np.moveaxis(self._ce.backward(), 1, 2) / self._B


@dataclass
class SequenceTask:
    """A sequence task of the lab: sizes, readout, loss, a sampler and its accuracy and chance levels."""

    name: str
    T: int
    input_size: int
    output_size: int
    readout: str  # "last" or "all"
    loss: str  # "mse" or "ce"
    sample: Callable[[int, np.random.Generator], tuple[Array, Array]]
    accuracy: Callable[[Array, Array], float]
    chance_accuracy: Callable[[Array], float]
    chance_mse: Callable[[Array], float]

    def loss_fn(self):
        """A fresh loss module: MSELoss, or PerStepCrossEntropy for classification tasks."""
        from ..nn import MSELoss

        return MSELoss() if self.loss == "mse" else PerStepCrossEntropy()


def sequence_task(name: str, T: int, dtype=np.float64) -> SequenceTask:
    """``adding`` of length T, ``copy`` with delay T (sequence length T + 20), or ``sine`` of length T."""
    from ..data import adding_problem, copy_memory, sine_wave

    check_choice("task", name, SEQUENCE_TASKS)

    def seed_of(rng: np.random.Generator) -> int:
        return int(rng.integers(0, 2**31 - 1))

    if name == "adding":
        def sample(n, rng):
            d = adding_problem(n, length=T, seed=seed_of(rng), dtype=dtype)
            return d.x, d.y

        return SequenceTask(
            "adding", T, 2, 1, "last", "mse", sample,
            accuracy=lambda pred, y: float(np.mean(np.abs(pred - y) < 0.04)),
            chance_accuracy=lambda y: float(np.mean(np.abs(y - y.mean()) < 0.04)),
            chance_mse=lambda y: float(np.var(y)),
        )

    if name == "sine":
        def sample(n, rng):
            d = sine_wave(n, length=T, noise=0.1, seed=seed_of(rng), dtype=dtype)
            return d.x, d.y

        return SequenceTask(
            "sine", T, 1, 1, "all", "mse", sample,
            accuracy=lambda pred, y: float(np.mean(np.abs(pred - y) < 0.1)),
            chance_accuracy=lambda y: float(np.mean(np.abs(y - y.mean()) < 0.1)),
            chance_mse=lambda y: float(np.var(y)),
        )

    K, L = 8, 10

    def sample(n, rng):
        d = copy_memory(n, delay=T, seed=seed_of(rng), n_symbols=K, copy_length=L, dtype=dtype)
        return d.x, d.y

    return SequenceTask(
        "copy", T, K + 2, K + 2, "all", "ce", sample,
        accuracy=lambda logits, y: float(np.mean(np.argmax(logits[:, -L:], axis=-1) == y[:, -L:])),
        chance_accuracy=lambda y: 1.0 / K,
        chance_mse=lambda y: float("nan"),
    )


def variable_mean(n: int, T: int, rng: np.random.Generator, min_length: int = 2,
                  dtype=np.float64) -> tuple[Array, Array, Array]:
    """Variable-length sequences padded at the end, their lengths, and y = the mean of the valid values.

    Shapes: x (n, T, 1), y (n, 1), lengths (n,) int64 in [min_length, T]
    """
    from ..data import pad_sequences

    lengths = rng.integers(min_length, T + 1, n)
    seqs = [rng.uniform(0.0, 1.0, (int(ell), 1)) for ell in lengths]
    x, lengths = pad_sequences(seqs, 0.0, dtype=dtype)
    if x.shape[1] < T:  # no sequence drew the full length: pad to T anyway
        x = np.concatenate([x, np.zeros((n, T - x.shape[1], 1), dtype=dtype)], axis=1)
    y = np.array([s.mean() for s in seqs], dtype=dtype)[:, None]
    return x, y, lengths


def pad_front(x: Array, lengths: Array) -> Array:
    """The same sequences with the padding moved to the front (each ends at step T)."""
    out = np.zeros_like(x)
    T = x.shape[1]
    for b, ell in enumerate(lengths):
        out[b, T - ell:] = x[b, :ell]
    return out
