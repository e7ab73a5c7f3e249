"""Random inputs laid out for a recurrent module, shared by the cell test files."""

import numpy as np


def rand_x(rng, m, T, batched=True, B=3):
    """x in the module's layout: (T, B, I), (B, T, I) with batch_first, or unbatched (T, I)."""
    if not batched:
        return rng.standard_normal((T, m.input_size))
    return rng.standard_normal((B, T, m.input_size) if m.batch_first else (T, B, m.input_size))


def rand_h0(rng, m, batched=True, B=3):
    """h0 of shape (L·D, B, H), or (L·D, H) unbatched; batch_first never applies."""
    LD = m.num_layers * m.num_directions
    return rng.standard_normal((LD, B, m.hidden_size) if batched else (LD, m.hidden_size))


def rand_state(rng, m, batched=True, B=3):
    """(h0, c0) for an LSTM, each shaped like :func:`rand_h0`."""
    return rand_h0(rng, m, batched, B), rand_h0(rng, m, batched, B)
