"""Property test: random RNN/LSTM/GRU configurations against torch autograd (float64, outputs and every gradient).

Each example draws a cell, layers, directions, batch_first, bias, sequence lengths (packed-sequence
semantics), unbatched input and a None or explicit initial state, builds one bptt module and its
torch twin with the same weights, and compares outputs, input/state gradients and parameter
gradients under random upstream gradients (``bptt.interop.torch.compare``).

The normal run draws 2,000 configurations (small sizes: well under a minute). A longer search:

    BPTT_PROPERTY_EXAMPLES=20000 python -m pytest tests/test_properties_recurrent.py -q
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bptt

torch = pytest.importorskip("torch", reason="torch parity needs PyTorch (bptt[torch])")
from bptt.interop.torch import compare  # noqa: E402

EXAMPLES = int(os.environ.get("BPTT_PROPERTY_EXAMPLES", "2000"))
CELLS = {"rnn-tanh": (bptt.RNN, {"nonlinearity": "tanh"}), "rnn-relu": (bptt.RNN, {"nonlinearity": "relu"}),
         "lstm": (bptt.LSTM, {}), "gru": (bptt.GRU, {})}


@st.composite
def recurrent_cases(draw):
    cell = draw(st.sampled_from(sorted(CELLS)))
    kw = dict(input_size=draw(st.integers(1, 3)), hidden_size=draw(st.integers(1, 4)), num_layers=draw(st.integers(1, 3)),
              bias=draw(st.booleans()), batch_first=draw(st.booleans()), bidirectional=draw(st.booleans()))
    T, B = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    unbatched = draw(st.booleans())
    lengths = None if unbatched else draw(st.none() | st.lists(st.integers(1, T), min_size=B, max_size=B))
    explicit_state = draw(st.booleans())
    return cell, kw, T, B, unbatched, lengths, explicit_state, draw(st.integers(0, 2**31 - 1))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recurrent_cases())
def test_random_recurrent_configurations_match_torch_autograd(case):
    cell, kw, T, B, unbatched, lengths, explicit_state, seed = case
    cls, extra = CELLS[cell]
    m = cls(**kw, **extra, dtype=np.float64, seed=seed)
    rng = np.random.default_rng(seed)
    I, H, LD = kw["input_size"], kw["hidden_size"], kw["num_layers"] * m.num_directions
    if unbatched:
        x, state_shape = rng.standard_normal((T, I)), (LD, H)
    else:
        x = rng.standard_normal((B, T, I) if kw["batch_first"] else (T, B, I))
        state_shape = (LD, B, H)
    inputs = (x,)
    if explicit_state:
        h0 = rng.standard_normal(state_shape)
        inputs = (x, (h0, rng.standard_normal(state_shape)) if cell == "lstm" else h0)
    res = compare(m, inputs, lengths=None if lengths is None else np.array(lengths), seed=seed)
    names = [r.name for r in res.rows]
    n_params = len(m.state_dict())
    assert len(names) >= 2 + n_params  # outputs and every parameter gradient were compared
    assert res.max_abs <= 1e-10, str(res)
