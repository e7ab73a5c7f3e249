"""2-D classification sets for the MLP exercises: blobs, XOR, two moons, spirals.

Each returns a :class:`~bptt.data.Dataset` with ``x`` (N, 2) float and ``y`` (N,)
int64 class labels, balanced between classes, fully determined by ``seed``.
``noise`` is the standard deviation of Gaussian jitter added to the points
(for the blobs: the spread of each blob). With ``noise=0`` each set is its
exact shape, which is what the tests check:

* blobs   — two clouds on either side of the line x₁ + x₂ = 0, always linearly
  separable with a margin (seed 001, exercise 1: "datos linealmente separables");
* xor     — label = [x₁ > 0] XOR [x₂ > 0]: not linearly separable, one hidden layer suffices;
* moons   — two interleaved half circles (as scikit-learn's ``make_moons``);
* spirals — two interleaved arms r ∝ angle; ``turns`` sets how hard it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import as_dtype, check_positive_int
from .dataset import Dataset

Array = np.ndarray


def _noise(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not float(value) >= 0:
        raise ValueError(f"{name}: expected a float >= 0, got {value!r}")
    return float(value)


def _finish(rng: np.random.Generator, x: Array, y: Array, dtype: Any, name: str) -> Dataset:
    """Shuffle the rows (classes interleaved, so even unshuffled batches see both) and cast."""
    perm = rng.permutation(len(y))
    return Dataset(x[perm].astype(as_dtype(dtype)), y[perm], kind="classification", n_classes=2, name=name)


def _labels(n: int) -> Array:
    """n labels, half 0 and half 1 (the extra one goes to class 0)."""
    return (np.arange(n) >= (n + 1) // 2).astype(np.int64)


def make_blobs(n: int = 200, noise: float = 0.5, seed: Any = 0, *, distance: float = 1.5, margin: float = 0.1, dtype: Any = np.float32) -> Dataset:
    """Two Gaussian blobs centred at ∓(d, d)/√2, linearly separable by x₁ + x₂ = 0 with ``margin``.

    A point drawn on the wrong side of the margin is redrawn, so the set stays
    separable at any ``noise`` (the blobs only get wider and closer to the line).
    """
    n = check_positive_int("n", n, minimum=2)
    noise = _noise("noise", noise)
    rng = np.random.default_rng(seed)
    y = _labels(n)
    sign = (2 * y - 1).astype(np.float64)
    w = np.array([1.0, 1.0]) / np.sqrt(2.0)
    x = np.empty((n, 2))
    todo = np.arange(n)
    while todo.size:
        cand = sign[todo, None] * distance * w + noise * rng.standard_normal((todo.size, 2))
        ok = sign[todo] * (cand @ w) >= margin
        x[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return _finish(rng, x, y, dtype, name="blobs")


def make_xor(n: int = 200, noise: float = 0.1, seed: Any = 0, *, dtype: Any = np.float32) -> Dataset:
    """Points uniform in [−1, 1]² (half per class), label [x₁ > 0] XOR [x₂ > 0], then jittered by ``noise``."""
    n = check_positive_int("n", n, minimum=2)
    noise = _noise("noise", noise)
    rng = np.random.default_rng(seed)
    y = _labels(n)
    # |x| uniform in (0, 1]²; signs chosen so that the quadrant gives the label (balanced classes)
    mag = 1.0 - rng.uniform(0.0, 1.0, (n, 2))
    s1 = rng.choice([-1.0, 1.0], n)
    s2 = np.where(y == 0, s1, -s1)
    x = mag * np.stack([s1, s2], axis=1)
    x = x + noise * rng.standard_normal((n, 2))
    return _finish(rng, x, y, dtype, name="xor")


def make_moons(n: int = 200, noise: float = 0.1, seed: Any = 0, *, dtype: Any = np.float32) -> Dataset:
    """Class 0 on the upper unit half circle, class 1 on the lower one centred at (1, 0.5)."""
    n = check_positive_int("n", n, minimum=2)
    noise = _noise("noise", noise)
    rng = np.random.default_rng(seed)
    y = _labels(n)
    t = rng.uniform(0.0, np.pi, n)
    x = np.where(
        (y == 0)[:, None],
        np.stack([np.cos(t), np.sin(t)], axis=1),
        np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1),
    )
    x = x + noise * rng.standard_normal((n, 2))
    return _finish(rng, x, y, dtype, name="moons")


def make_spirals(n: int = 200, noise: float = 0.05, seed: Any = 0, *, turns: float = 1.5, dtype: Any = np.float32) -> Dataset:
    """Two arms r = s, angle = 2π · turns · s + π · class, s ∈ (0.05, 1]; more ``turns`` is harder."""
    n = check_positive_int("n", n, minimum=2)
    noise = _noise("noise", noise)
    if not float(turns) > 0:
        raise ValueError(f"turns: expected a float > 0, got {turns!r}")
    rng = np.random.default_rng(seed)
    y = _labels(n)
    s = rng.uniform(0.05, 1.0, n)
    angle = 2 * np.pi * float(turns) * s + np.pi * y
    x = np.stack([s * np.cos(angle), s * np.sin(angle)], axis=1)
    x = x + noise * rng.standard_normal((n, 2))
    return _finish(rng, x, y, dtype, name="spirals")
