"""Sequence tasks for the long-memory studies, each with a length/difficulty knob.

All are batch-first (``x`` of shape (N, T, F)) :class:`~bptt.data.Dataset` s,
determined by ``seed``:

=============  ==========================================  =====================================
task           input → target                              what makes it hard (the knob)
=============  ==========================================  =====================================
sine           sin(ωt + φ) (+ noise) → sin(ω(t + h) + φ)   ``length`` T (per-step regression)
adding         (value, marker) pairs → sum of the 2 marked  ``length`` T: the marks lie T/2 apart
copy           10 symbols, ``delay`` blanks, a cue → copy   ``delay``: memory span delay + 10
reber          embedded Reber string → next symbol          ``min_length``: the 2nd symbol must be
                                                            recalled at the second-to-last step
parity         bits → XOR of all bits                       ``length`` T: every bit matters
=============  ==========================================  =====================================

:data:`TASKS` and :func:`make_task` give every task one signature
``(n, difficulty, noise, seed)`` for the CLI and the studies.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._checks import as_dtype, check_positive_int
from .classification import _noise, make_blobs, make_moons, make_spirals, make_xor
from .dataset import IGNORE_INDEX, Dataset, pad_sequences

Array = np.ndarray


def sine_wave(
    n: int = 256, length: int = 50, noise: float = 0.0, seed: Any = 0, *, horizon: int = 1,
    period: tuple[float, float] = (8.0, 32.0), dtype: Any = np.float32,
) -> Dataset:
    """Forecast a sine ``horizon`` steps ahead from noisy observations.

    x[t] = sin(ω t + φ) + noise·ε_t,  y[t] = sin(ω (t + horizon) + φ) (clean),
    with period 2π/ω drawn from ``period`` and phase φ uniform, per sequence.

    Shapes: x (n, length, 1), y (n, length, 1); per-step regression.
    """
    n = check_positive_int("n", n)
    T = check_positive_int("length", length)
    h = check_positive_int("horizon", horizon)
    noise = _noise("noise", noise)
    rng = np.random.default_rng(seed)
    omega = 2 * np.pi / rng.uniform(period[0], period[1], (n, 1))
    phi = rng.uniform(0, 2 * np.pi, (n, 1))
    t = np.arange(T + h)[None, :]
    clean = np.sin(omega * t + phi)
    x = clean[:, :T] + noise * rng.standard_normal((n, T))
    y = clean[:, h:]
    dt = as_dtype(dtype)
    return Dataset(x[..., None].astype(dt), y[..., None].astype(dt), kind="regression", per_step=True,
                   name="sine" if noise == 0 else "noisy-sine", extras={"clean": clean[:, :T, None].astype(dt)})


def adding_problem(n: int = 256, length: int = 50, seed: Any = 0, *, dtype: Any = np.float32) -> Dataset:
    """The adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015 layout).

    Channel 0 holds values U(0, 1); channel 1 marks exactly two steps — one in
    the first half, one in the second. The target is the sum of the two marked
    values (predicting 1 always gives MSE ≈ 1/6, the baseline to beat).

    Shapes: x (n, length, 2), y (n, 1); one regression target per sequence.
    """
    n = check_positive_int("n", n)
    T = check_positive_int("length", length, minimum=2)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, (n, T))
    half = T // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, T, n)
    marks = np.zeros((n, T))
    rows = np.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    dt = as_dtype(dtype)
    return Dataset(np.stack([values, marks], axis=2).astype(dt), y[:, None].astype(dt), kind="regression", name="adding")


def copy_memory(
    n: int = 256, delay: int = 20, seed: Any = 0, *, n_symbols: int = 8, copy_length: int = 10, dtype: Any = np.float32,
) -> Dataset:
    """The copy-memory task (Arjovsky et al. 2016).

    Tokens: 0 blank, 1 … n_symbols data, n_symbols + 1 the cue. The input is
    ``copy_length`` random data symbols, ``delay − 1`` blanks, the cue, then
    ``copy_length`` blanks; the target is blank everywhere except the last
    ``copy_length`` steps, which repeat the data symbols. Guessing gives
    cross-entropy copy_length · log(n_symbols) / T.

    Shapes: x (n, T, n_symbols + 2) one-hot with T = delay + 2·copy_length; y (n, T) int64.
    """
    n = check_positive_int("n", n)
    delay = check_positive_int("delay", delay)
    K = check_positive_int("n_symbols", n_symbols)
    L = check_positive_int("copy_length", copy_length)
    rng = np.random.default_rng(seed)
    T = delay + 2 * L
    symbols = rng.integers(1, K + 1, (n, L))
    tokens = np.zeros((n, T), dtype=np.int64)
    tokens[:, :L] = symbols
    tokens[:, L + delay - 1] = K + 1
    y = np.zeros((n, T), dtype=np.int64)
    y[:, -L:] = symbols
    x = np.eye(K + 2, dtype=as_dtype(dtype))[tokens]
    return Dataset(x, y, kind="classification", per_step=True, n_classes=K + 2, name="copy", extras={"tokens": tokens})


# -- Reber grammar ---------------------------------------------------------------------------
REBER_SYMBOLS = "BTSXPVE"
# state -> [(symbol, next state)]; state 1 follows B, state 6 emits E. The classic diagram.
_REBER = {
    1: [("T", 2), ("P", 3)],
    2: [("S", 2), ("X", 4)],
    3: [("T", 3), ("V", 5)],
    4: [("X", 3), ("S", 6)],
    5: [("P", 4), ("V", 6)],
}


def _reber_inner(rng: np.random.Generator, min_len: int) -> str:
    """A Reber string (B…E) at least ``min_len`` long.

    While the string is still too short to end, the walk avoids the two edges
    into the final state (4 –S→ 6 and 5 –V→ 6) and picks uniformly among the
    others; every string is still generated by the grammar.
    """
    s, state = ["B"], 1
    while state != 6:
        options = _REBER[state]
        if len(s) + 2 < min_len:
            options = [o for o in options if o[1] != 6]
        sym, state = options[int(rng.integers(0, len(options)))]
        s.append(sym)
    s.append("E")
    return "".join(s)


def is_reber(s: str, embedded: bool = False) -> bool:
    """True if ``s`` is generated by the (embedded) Reber grammar."""
    if embedded:
        return len(s) >= 9 and s[0] == "B" and s[-1] == "E" and s[1] in "TP" and s[-2] == s[1] and is_reber(s[2:-2])
    if len(s) < 5 or s[0] != "B" or s[-1] != "E":
        return False
    state = 1
    for ch in s[1:-1]:
        nxt = dict(_REBER.get(state, []))
        if ch not in nxt:
            return False
        state = nxt[ch]
    return state == 6


def reber_valid_next(s: str, embedded: bool = False) -> Array:
    """For each prefix s[:t+1], the set of symbols the grammar allows next (multi-hot over BTSXPVE).

    Shapes: -> (len(s) − 1, 7) float in {0, 1}.
    """
    idx = {c: i for i, c in enumerate(REBER_SYMBOLS)}
    out = np.zeros((len(s) - 1, 7))

    def inner_sets(inner: str) -> list[str]:
        sets, state = [], 1
        for ch in inner[:-1]:
            if ch == "B":
                sets.append("TP")
                continue
            state = dict(_REBER[state])[ch]
            sets.append("E" if state == 6 else "".join(c for c, _ in _REBER[state]))
        return sets

    if embedded:
        sets = ["TP", "B"] + inner_sets(s[2:-2]) + [s[1], "E"]
    else:
        sets = inner_sets(s)
    for t, allowed in enumerate(sets):
        out[t, [idx[c] for c in allowed]] = 1.0
    return out


def reber_strings(n: int, min_length: int = 0, seed: Any = 0, *, embedded: bool = True) -> list[str]:
    """``n`` strings of the (embedded) Reber grammar, each at least ``min_length`` symbols long."""
    n = check_positive_int("n", n)
    min_length = check_positive_int("min_length", min_length, minimum=0)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        if embedded:
            branch = "TP"[int(rng.integers(0, 2))]
            out.append("B" + branch + _reber_inner(rng, min_length - 4) + branch + "E")
        else:
            out.append(_reber_inner(rng, min_length))
    return out


def reber(n: int = 256, min_length: int = 0, seed: Any = 0, *, embedded: bool = True, dtype: Any = np.float32) -> Dataset:
    """Next-symbol prediction on (embedded) Reber strings, padded, with lengths.

    Input step t is symbol s[t] (one-hot over BTSXPVE), the target is s[t+1].
    ``extras["valid_next"]`` holds the grammar's allowed next symbols, so a
    prediction can be scored as *valid* (the right measure: most steps have
    two correct answers). In the embedded grammar the second-to-last symbol is
    forced by the second one — the long-range dependency.

    Shapes: x (n, T, 7), y (n, T) int64 (−100 past the end), lengths (n,), valid_next (n, T, 7)
    """
    strings = reber_strings(n, min_length, seed, embedded=embedded)
    idx = {c: i for i, c in enumerate(REBER_SYMBOLS)}
    ids = [np.array([idx[c] for c in s], dtype=np.int64) for s in strings]
    eye = np.eye(7, dtype=as_dtype(dtype))
    x, lengths = pad_sequences([eye[i[:-1]] for i in ids], 0.0)
    y, _ = pad_sequences([i[1:] for i in ids], IGNORE_INDEX)
    valid, _ = pad_sequences([reber_valid_next(s, embedded) for s in strings], 0.0, dtype=as_dtype(dtype))
    return Dataset(x, y, lengths, kind="classification", per_step=True, n_classes=7,
                   name="embedded-reber" if embedded else "reber", extras={"valid_next": valid})


def parity(n: int = 256, length: int = 10, seed: Any = 0, *, variable_length: bool = False, dtype: Any = np.float32) -> Dataset:
    """Parity: the XOR of all bits of the sequence (one class target at the end).

    With ``variable_length`` each sequence has its own length in [1, length]
    (padded with zeros, ``lengths`` given) — the padding + lengths path.

    Shapes: x (n, length, 1) in {0, 1}, y (n,) int64 in {0, 1}, lengths (n,) or None
    """
    n = check_positive_int("n", n)
    T = check_positive_int("length", length)
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, (n, T))
    lengths = None
    if variable_length:
        lengths = rng.integers(1, T + 1, n).astype(np.int64)
        bits = np.where(np.arange(T)[None, :] < lengths[:, None], bits, 0)
    y = (bits.sum(axis=1) % 2).astype(np.int64)
    return Dataset(bits[..., None].astype(as_dtype(dtype)), y, lengths, kind="classification", n_classes=2, name="parity")


# -- one signature for every task ------------------------------------------------------------
def _seq(fn: Callable[..., Dataset], knob: str) -> Callable[..., Dataset]:
    def make(n: int, difficulty: int, noise: float, seed: Any, dtype: Any) -> Dataset:
        kw = {knob: difficulty, "seed": seed, "dtype": dtype}
        if fn is sine_wave:
            kw["noise"] = noise
        return fn(n, **kw)
    return make


def _flat(fn: Callable[..., Dataset]) -> Callable[..., Dataset]:
    def make(n: int, difficulty: float, noise: float, seed: Any, dtype: Any) -> Dataset:
        if fn is make_spirals:
            return fn(n, noise, seed, turns=difficulty, dtype=dtype)
        return fn(n, noise, seed, dtype=dtype)
    return make


#: name -> (maker(n, difficulty, noise, seed, dtype), default difficulty, default noise, what the knob is)
TASKS: dict[str, tuple[Callable[..., Dataset], float, float, str]] = {
    "blobs": (_flat(make_blobs), 0, 0.5, "(unused)"),
    "xor": (_flat(make_xor), 0, 0.1, "(unused)"),
    "moons": (_flat(make_moons), 0, 0.1, "(unused)"),
    "spirals": (_flat(make_spirals), 1.5, 0.05, "turns"),
    "sine": (_seq(sine_wave, "length"), 50, 0.0, "sequence length"),
    "adding": (_seq(adding_problem, "length"), 50, 0.0, "sequence length"),
    "copy": (_seq(copy_memory, "delay"), 20, 0.0, "delay between symbols and cue"),
    "reber": (_seq(reber, "min_length"), 0, 0.0, "minimum string length"),
    "parity": (_seq(parity, "length"), 10, 0.0, "sequence length"),
}


def make_task(name: str, n: int = 256, difficulty: float | None = None, noise: float | None = None, seed: Any = 0, dtype: Any = np.float32) -> Dataset:
    """Any task by name with defaults: ``make_task("adding", 512, difficulty=100, seed=1)``."""
    if name not in TASKS:
        raise ValueError(f"name: expected one of {tuple(TASKS)}, got {name!r}")
    maker, d0, n0, knob = TASKS[name]
    # A knob the task does not have is an error, never silently ignored.
    if noise is not None and name in ("adding", "copy", "reber", "parity") and noise != 0:
        raise ValueError(f"noise: task {name!r} has no noise level (only sine and the 2-D sets do), got {noise}")
    if difficulty is not None and knob == "(unused)":
        raise ValueError(f"difficulty: task {name!r} has no difficulty knob, got {difficulty}")
    d = d0 if difficulty is None else difficulty
    if name not in ("blobs", "xor", "moons", "spirals"):
        if float(d) != int(d):
            raise ValueError(f"difficulty: expected an integer for {name}, got {d}")
        d = int(d)
    return maker(n, d, n0 if noise is None else noise, seed, dtype)
