"""What is benchmarked: the sizes, the cells, and how many GEMM FLOPs one forward+backward costs.

A configuration is (B, T, I, H, L): batch, time steps, input size, hidden
size, layers, and whether the stack is bidirectional. Every run is one forward
and one backward of the stack, with the input gradient, for the loss

    L = Σ ⟨w_out, out⟩ + Σ ⟨w_h, h_n⟩ (+ Σ ⟨w_c, c_n⟩ for the LSTM)

with random weights w. Only the GEMMs are counted as FLOPs (2·m·n·k each): per
layer and step the recurrent product, and per layer the input projection and
the three gradient GEMMs (dX, dW_ih, dW_hh) and the recurrent back-product;
a bidirectional layer has all of them once per direction, and every layer
after the first reads both directions' outputs (2·H inputs).
"""

from __future__ import annotations

from dataclasses import dataclass

CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Config:
    """One benchmark size: batch B, steps T, input I, hidden H, layers L (bidirectional: D = 2)."""

    name: str
    B: int
    T: int
    I: int
    H: int
    L: int
    bidirectional: bool = False

    @property
    def D(self) -> int:
        """Directions per layer: 2 if bidirectional, else 1."""
        return 2 if self.bidirectional else 1

    def as_dict(self) -> dict:
        """The size as a plain dict (stored in the results JSON)."""
        return {"name": self.name, "B": self.B, "T": self.T, "I": self.I, "H": self.H, "L": self.L,
                "bidirectional": self.bidirectional}


CONFIGS = {
    "tiny": Config("tiny", 1, 3, 5, 2, 1),  # the seeds' size
    "small": Config("small", 16, 32, 32, 64, 1),
    "medium": Config("medium", 32, 64, 64, 256, 1),
    "large": Config("large", 64, 128, 256, 512, 2),
    # Both directions of a layer can run at once (bptt.functional.fast.parallel).
    "medium-bi": Config("medium-bi", 32, 64, 64, 256, 2, bidirectional=True),
    "long": Config("long", 8, 2000, 32, 128, 1),  # a long sequence: where what BPTT keeps per step adds up
}

# torch_time / bptt_time the issue asks for, per (config, cell).
TARGETS = {
    ("tiny", "rnn"): 5.0, ("tiny", "lstm"): 5.0, ("tiny", "gru"): 5.0,
    ("small", "rnn"): 4.0, ("small", "lstm"): 1.5, ("small", "gru"): 2.0,
    ("medium", "rnn"): 1.5, ("medium", "lstm"): 1.0, ("medium", "gru"): 1.2,
    ("large", "rnn"): 1.1, ("large", "lstm"): 1.0, ("large", "gru"): 1.0,
    ("medium-bi", "rnn"): 1.3, ("medium-bi", "lstm"): 1.3, ("medium-bi", "gru"): 1.3,
}
# At the large size bptt must reach this fraction of NumPy's own GEMM speed.
LARGE_GEMM_FRACTION = 0.75

# Memory (bptt.bench.memory): bptt's peak RSS of forward+backward at most this fraction of torch's
# at these configs, and what forward keeps per step at most CACHE_TARGET × the equations' minimum.
MEMORY_TARGET = 0.6
MEMORY_TARGET_CONFIGS = ("medium", "large", "long")
CACHE_TARGET = 1.25


def gemm_shapes(cfg: Config, cell: str) -> list[tuple[int, int, int, int]]:
    """(count, m, k, n) for every GEMM ``(m×k)·(k×n)`` of one forward+backward."""
    G = GATES[cell]
    B, T, H = cfg.B, cfg.T, cfg.H
    GH, TB = G * H, T * B
    shapes = []
    D = cfg.D  # each direction runs every GEMM of its layer
    for layer in range(cfg.L):
        I = cfg.I if layer == 0 else D * H
        shapes += [
            (D, TB, I, GH),  # forward: input projection of every step
            (D * T, B, H, GH),  # forward: h_{t−1} W_hhᵀ, every step
            (D * T, B, GH, H),  # backward: dh_{t−1} = dA_t W_hh, every step
            (D, GH, TB, I),  # backward: dW_ih = dPᵀ X
            (D, GH, TB, H),  # backward: dW_hh = dQᵀ H_prev
            (D, TB, GH, I),  # backward: dX = dP W_ih
        ]
    return shapes


def gemm_flops(cfg: Config, cell: str) -> int:
    """GEMM FLOPs (2·m·k·n) of one forward+backward."""
    return sum(2 * c * m * k * n for c, m, k, n in gemm_shapes(cfg, cell))
