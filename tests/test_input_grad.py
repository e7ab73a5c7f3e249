"""backward(..., input_grad=False): no input gradient for an input that is data (no torch needed)."""

import numpy as np
import pytest


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidirectional,batch_first", [(1, False, False), (2, True, True), (3, False, True)])
def test_recurrent_backward_without_input_grad_same_parameter_grads(kind, layers, bidirectional, batch_first):
    """input_grad=False: dx is None and every other gradient is the same as with it."""
    import bptt.nn as bnn

    rng = np.random.default_rng(50)
    m = getattr(bnn, kind)(3, 4, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first,
                           dtype=np.float64, seed=1)
    x = rng.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    out, state = m(x)
    dout = rng.standard_normal(out.shape)
    dstate = tuple(rng.standard_normal(s.shape) for s in state) if kind == "LSTM" else rng.standard_normal(state.shape)
    m.zero_grad()
    dx, dh0 = m.backward(dout, dstate, retain_graph=True)
    full = {k: v.copy() for k, v in m.grads.items()}
    m.zero_grad()
    none, dh0_again = m.backward(dout, dstate, input_grad=False)
    assert dx is not None and dx.shape == x.shape and none is None
    for k, v in m.grads.items():
        np.testing.assert_array_equal(v, full[k], err_msg=k)
    for a, b in zip(dh0 if kind == "LSTM" else (dh0,), dh0_again if kind == "LSTM" else (dh0_again,)):
        np.testing.assert_array_equal(a, b)
