"""torch's CPU random draws, reproduced bit for bit in NumPy (so the seeds need no torch).

After ``torch.manual_seed(s)`` torch's CPU generator is a 32-bit Mersenne
Twister (mt19937) seeded with ``s mod 2**32`` by the reference ``init_genrand``.
Its draws are turned into values as ATen's ``TransformationHelper.h`` does:

    rand (float32):        u = (r32 & (2**24 − 1)) · 2**−24
    rand (float64):        u = (r64 & (2**53 − 1)) · 2**−53,  r64 = (r32_a << 32) | r32_b
    uniform_(a, b):        v = u · (b − a) + a   (in the tensor's dtype, one fused multiply-add);
                           v = a where v rounded up to b
    randint(low, high):    r32 mod (high − low) + low

and ``nn.RNN`` / ``nn.Linear`` draw their initial parameters with ``uniform_`` in
``parameters()`` order (bounds 1/√hidden_size; Linear: kaiming_uniform(a=√5)
for the weight, 1/√fan_in for the bias). Values are filled in memory (C) order,
one draw per element (two for float64). ``torch.randn`` is not reproduced: for 16
or more float32 values its Box–Muller runs in a vectorised kernel chosen by the
CPU's instruction set, so its last bits depend on the machine; no seed uses it.

Every function here is tested against torch itself when torch is installed.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

_MASK32 = 0xFFFFFFFF


def _init_genrand(seed: int) -> np.ndarray:
    """mt19937's 624-word key after ``init_genrand(seed)`` (the reference seeding torch uses)."""
    key = np.empty(624, dtype=np.uint32)
    s = seed & _MASK32
    key[0] = s
    for j in range(1, 624):
        s = (1812433253 * (s ^ (s >> 30)) + j) & _MASK32
        key[j] = s
    return key


class Generator:
    """torch's default CPU generator after ``torch.manual_seed(seed)``.

    Draws consume the stream in the same order and amount as torch: calling
    ``rand``, ``uniform``, ``randint`` and ``rnn_parameters`` in the order a
    torch script calls ``torch.rand``, ``Tensor.uniform_``, ``torch.randint`` and
    ``nn.RNN(...)`` gives that script's values.

    Shapes: every draw returns an array of the ``shape`` asked for.
    """

    def __init__(self, seed: int = 0):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
        self.seed = int(seed)
        self._bits = np.random.MT19937()
        # pos = 624: the first draw regenerates the whole state, as a freshly seeded mt19937 does.
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": _init_genrand(self.seed), "pos": 624}}

    def _raw32(self, n: int) -> np.ndarray:
        return self._bits.random_raw(n).astype(np.uint64)

    def _unit(self, n: int, dtype) -> np.ndarray:
        """n values u in [0, 1), the ``uniform_real`` transform of one draw each (float64: two)."""
        if np.dtype(dtype) == np.float64:
            r = self._raw32(2 * n)
            r64 = (r[0::2] << np.uint64(32)) | r[1::2]
            return (r64 & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0**-53
        return (self._raw32(n) & np.uint64((1 << 24) - 1)).astype(np.float32) * np.float32(2.0**-24)

    def rand(self, *shape: int, dtype=np.float32) -> np.ndarray:
        """``torch.rand(*shape, dtype=dtype)``: uniform on [0, 1)."""
        dtype = _float_dtype(dtype)
        n = math.prod(shape)
        return self._unit(n, dtype).astype(dtype).reshape(shape)

    def uniform(self, shape, low: float, high: float, dtype=np.float32) -> np.ndarray:
        """``torch.empty(shape, dtype=dtype).uniform_(low, high)``: u · (high − low) + low, one rounding."""
        dtype = _float_dtype(dtype)
        shape = tuple(shape) if np.iterable(shape) else (shape,)
        u = self._unit(math.prod(shape), dtype)
        a, b = dtype.type(low), dtype.type(high)
        v = _fma(u, b - a, a, dtype)
        return np.where(v == b, a, v).reshape(shape)  # torch keeps [low, high): a value rounded up to high is low

    def randint(self, low: int, high: int, shape) -> np.ndarray:
        """``torch.randint(low, high, shape)`` (int64) for ranges below 2**32."""
        span = int(high) - int(low)
        if not 0 < span < 2**32:
            raise ValueError(f"high - low: expected a range in [1, 2**32), got {span}")
        shape = tuple(shape) if np.iterable(shape) else (shape,)
        r = self._raw32(math.prod(shape))
        return ((r % np.uint64(span)).astype(np.int64) + int(low)).reshape(shape)

    def rnn_parameters(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                       bidirectional: bool = False, gates: int = 1, dtype=np.float32) -> dict[str, np.ndarray]:
        """The ``state_dict()`` of a new ``nn.RNN`` (gates=1), ``nn.GRU`` (3) or ``nn.LSTM`` (4).

        Every parameter ~ U(−1/√hidden_size, 1/√hidden_size), drawn in the order
        weight_ih, weight_hh, bias_ih, bias_hh per layer and direction.
        """
        bound = 1.0 / math.sqrt(hidden_size)
        out = {}
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[: 2 if bidirectional else 1]:
                fan = input_size if layer == 0 else hidden_size * (2 if bidirectional else 1)
                shapes = {"weight_ih": (gates * hidden_size, fan), "weight_hh": (gates * hidden_size, hidden_size)}
                if bias:
                    shapes |= {"bias_ih": (gates * hidden_size,), "bias_hh": (gates * hidden_size,)}
                for name, shape in shapes.items():
                    out[f"{name}_l{layer}{suffix}"] = self.uniform(shape, -bound, bound, dtype)
        return out

    def linear_parameters(self, in_features: int, out_features: int, bias: bool = True,
                          dtype=np.float32) -> dict[str, np.ndarray]:
        """The ``state_dict()`` of a new ``nn.Linear``: kaiming_uniform(a=√5) weight, U(±1/√in) bias."""
        gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))  # init.calculate_gain("leaky_relu", √5)
        bound = math.sqrt(3.0) * (gain / math.sqrt(in_features))
        out = {"weight": self.uniform((out_features, in_features), -bound, bound, dtype)}
        if bias:
            b = 1 / math.sqrt(in_features)
            out["bias"] = self.uniform((out_features,), -b, b, dtype)
        return out


def manual_seed(seed: int) -> Generator:
    """A :class:`Generator` in the state ``torch.manual_seed(seed)`` leaves torch's."""
    return Generator(seed)


def _float_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype: expected float32 or float64, got {dt}")
    return dt


def _fma(u: np.ndarray, d, a, dtype: np.dtype) -> np.ndarray:
    """u·d + a rounded once to ``dtype`` (torch's compiled kernel fuses the multiply-add)."""
    if d == 1 and a == 0:
        return u.astype(dtype)
    if dtype == np.float64:
        # 53 × 53-bit products: exact rationals, then Python's correctly rounded division.
        fd, fa = Fraction(float(d)), Fraction(float(a))
        return np.array([float(Fraction(float(x)) * fd + fa) for x in u], dtype=np.float64)
    p = u.astype(np.float64) * float(d)  # exact: 24 × 24 bits
    s = p + float(a)
    e = _two_sum_error(p, float(a), s)  # s + e == p + a exactly
    r = s.astype(np.float32)
    # Rounding s (not p + a) to float32 differs only when s falls exactly halfway between two
    # float32 values while the exact sum lies to one side of it (e != 0): step to that side.
    toward = np.nextafter(r, np.where(s > r.astype(np.float64), np.float32(np.inf), np.float32(-np.inf)))
    halfway = (e != 0) & (s != r) & (2 * s == r.astype(np.float64) + toward.astype(np.float64))
    if halfway.any():
        side = np.nextafter(r, np.where(e > 0, np.float32(np.inf), np.float32(-np.inf)))
        keep = np.sign(e) * (r.astype(np.float64) - s) > 0  # r already on e's side of s
        r = np.where(halfway & ~keep, side, r)
    return r


def _two_sum_error(p: np.ndarray, a: float, s: np.ndarray) -> np.ndarray:
    """Knuth's TwoSum: the rounding error e of s = fl(p + a), so that s + e == p + a exactly."""
    bp = s - a
    return (p - bp) + (a - (s - bp))
