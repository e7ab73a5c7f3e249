"""Checkpointed BPTT equals full BPTT (<= 1e-12 relative, float64) and really keeps less memory.

Every cell kind × lengths × bidirectional × layers through the modules, every
backend and segment length through ``layer_forward``, and the trainer; peak
memory measured with tracemalloc (an allocation count, not a timing).
"""

import itertools
import tracemalloc

import numpy as np
import pytest

from bptt.data import make_task
from bptt.functional import cells
from bptt.functional.checkpoint import check_memory, segment_length
from bptt.functional.fast import available
from bptt.functional.recurrent import layer_backward, layer_forward
from bptt.optim import Adam
from bptt.train import SequenceNet, SupervisedObjective, Trainer

TOL = 1e-12
I, H, T = 3, 4, 11
LENGTHS = np.array([5, T, 1, 8])


def _rel(a, b):
    """max |a − b| / max |b| (0 when both are zero)."""
    scale = np.abs(b).max()
    return np.abs(a - b).max() / scale if scale else np.abs(a).max()


def _run(m, x, hx, dout, dstate, lengths):
    out, state = m(x, hx, lengths=lengths)
    m.zero_grad()
    dx, dstate0 = m.backward(dout, dstate)
    grads = {n: p.grad.copy() for n, p in m.named_parameters()}
    flat = lambda s: list(s) if isinstance(s, tuple) else [s]  # noqa: E731
    return [out, *flat(state), dx, *flat(dstate0)], grads


def _random_state(rng, m, B):
    shape = (m.num_layers * m.num_directions, B, H)
    if m.cell.has_cell_state:
        return (rng.standard_normal(shape), rng.standard_normal(shape))
    return rng.standard_normal(shape)


@pytest.mark.parametrize("name,lengths,bi,layers",
                         list(itertools.product(cells.names(), [False, True], [False, True], [1, 2])))
def test_module_checkpoint_equals_full(name, lengths, bi, layers):
    rng = np.random.default_rng(7)
    kind = cells.get(name)
    lengths = LENGTHS if lengths else None
    B = len(LENGTHS)
    x = rng.standard_normal((T, B, I))
    ref = None
    for memory in ("full", "checkpoint", ("checkpoint", 3), ("checkpoint", 1), ("checkpoint", 50)):
        m = kind.module(I, H, num_layers=layers, bidirectional=bi, dtype=np.float64, seed=3, memory=memory)
        if ref is None:
            hx, dstate = _random_state(rng, m, B), _random_state(rng, m, B)
            dout = rng.standard_normal((T, B, m.num_directions * H))
        arrays, grads = _run(m, x, hx, dout, dstate, lengths)
        if ref is None:
            ref = arrays, grads
            continue
        for a, b in zip(arrays, ref[0]):
            assert _rel(a, b) <= TOL, memory
        for n in grads:
            assert _rel(grads[n], ref[1][n]) <= TOL, (memory, n)


@pytest.mark.parametrize("name", cells.names())
def test_layer_every_backend_and_segment_length(name):
    """layer_forward(memory=...) on every backend: reverse, lengths, keep_dh, bias None, input_grad False."""
    rng = np.random.default_rng(11)
    kind = cells.get(name)
    G, B = kind.gates, len(LENGTHS)
    x = rng.standard_normal((T, B, I))
    W_ih, W_hh = 0.6 * rng.standard_normal((G * H, I)), 0.6 * rng.standard_normal((G * H, H))
    b_ih, b_hh = rng.standard_normal(G * H), rng.standard_normal(G * H)
    dout, dh_T, dc_T = rng.standard_normal((T, B, H)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    for backend, reverse, lengths, bias, input_grad in itertools.product(
            available(kind), [False, True], [None, LENGTHS], [True, False], [True, False]):
        if backend == "whole" and lengths is not None:
            continue
        bs = (b_ih, b_hh) if bias else (None, None)
        runs = []
        for memory in ("full", ("checkpoint", 2), ("checkpoint", 4), "checkpoint"):
            out, h, c, cache = layer_forward(kind, x, None, None, W_ih, W_hh, *bs, lengths=lengths,
                                             reverse=reverse, backend=backend, memory=memory)
            g = layer_backward(dout, dh_T, dc_T if kind.has_cell_state else None, cache, keep_dh=True,
                               input_grad=input_grad)
            runs.append((out, h, c, g))
        for out, h, c, g in runs[1:]:
            assert _rel(out, runs[0][0]) <= TOL and _rel(h, runs[0][1]) <= TOL
            for key, v in g.items():
                if v is None:
                    assert runs[0][3][key] is None, key
                else:
                    assert _rel(v, runs[0][3][key]) <= TOL, (backend, reverse, key)


@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_projected_lstm_checkpoint_equals_full(lengths):
    """proj_size (the reference backend's W_hr): dW_hr summed over segments too."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((T, len(LENGTHS), I))
    runs = []
    for memory in ("full", ("checkpoint", 3)):
        m = cells.get("lstm").module(I, H, proj_size=2, num_layers=2, bidirectional=True, dtype=np.float64,
                                     seed=5, memory=memory)
        dout = np.random.default_rng(1).standard_normal((T, len(LENGTHS), 4))
        runs.append(_run(m, x, None, dout, None, lengths))
    for a, b in zip(runs[1][0], runs[0][0]):
        assert _rel(a, b) <= TOL
    assert any("weight_hr" in n for n in runs[0][1])
    for n in runs[0][1]:
        assert _rel(runs[1][1][n], runs[0][1][n]) <= TOL, n


def test_lstm_cell_states_are_recomputed_equal():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((T, len(LENGTHS), I))
    cs = []
    for memory in ("full", ("checkpoint", 3)):
        m = cells.get("lstm").module(I, H, bidirectional=True, dtype=np.float64, seed=1, memory=memory)
        m(x, lengths=LENGTHS)
        cs.append(m.cell_states())
    assert _rel(cs[1], cs[0]) <= TOL


def test_trainer_with_checkpointed_module_follows_the_full_run():
    """A few Adam steps through the trainer: the parameters agree to rounding."""
    d = make_task("sine", 16, difficulty=40, seed=0, dtype=np.float64)
    params = []
    for memory in ("full", ("checkpoint", 5)):
        m = SequenceNet("lstm", 1, 6, 1, readout="all", dtype=np.float64, seed=0)
        m.rnn.memory = memory
        Trainer(SupervisedObjective(m, d, batch_size=8, seed=1), Adam(m, lr=0.01), progress=False).fit(3)
        params.append({n: p.data.copy() for n, p in m.named_parameters()})
    for n in params[0]:
        np.testing.assert_allclose(params[1][n], params[0][n], rtol=1e-10, atol=1e-12)
    assert any(np.abs(params[0][n] - SequenceNet("lstm", 1, 6, 1, readout="all", dtype=np.float64, seed=0)
                      .state_dict()[n]).max() > 1e-3 for n in params[0])  # training moved them


def _peak_bytes(name, memory, T_long):
    rng = np.random.default_rng(0)
    m = cells.get(name).module(8, 32, dtype=np.float64, seed=0, memory=memory)
    x = rng.standard_normal((T_long, 4, 8))
    dout = rng.standard_normal((T_long, 4, 32))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        m(x)
        m.backward(dout, None, input_grad=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name,bound", [("rnn-tanh", 0.75), ("lstm", 0.5), ("gru", 0.5)])
def test_checkpoint_peak_memory_drops(name, bound):
    """At T = 2000 the forward + backward peak above the outputs (T·B·H, which both keep) is under
    ``bound`` × full BPTT's: half for the gated cells; for the Elman RNN full BPTT keeps nothing but its
    outputs h_t and its backward holds dA of one 1024-row chunk only (issue 17), so less is left to save."""
    _peak_bytes(name, "full", 20)  # kernels compiled and imports done before anything is counted
    out = 2000 * 4 * 32 * 8
    full = _peak_bytes(name, "full", 2000) - out
    ckpt = _peak_bytes(name, "checkpoint", 2000) - out
    assert ckpt < bound * full, (ckpt, full)


def test_memory_option_checks():
    assert check_memory("full") == ("full", None)
    assert check_memory(("checkpoint", 7)) == ("checkpoint", 7)
    assert segment_length(100, None) == 10 and segment_length(101, None) == 11 and segment_length(5, 3) == 3
    kind = cells.get("gru")
    with pytest.raises(ValueError, match="memory: expected one of"):
        kind.module(I, H, memory="sqrt")
    with pytest.raises(ValueError, match="k >= 1, got k=0"):
        kind.module(I, H, memory=("checkpoint", 0))
    with pytest.raises(TypeError, match="positive int, got k=True"):
        kind.module(I, H, memory=("checkpoint", True))
    m = kind.module(I, H)
    with pytest.raises(ValueError, match="memory"):
        m.memory = ("full", 3)
    m.memory = ["checkpoint", 4]
    assert m.memory == ("checkpoint", 4) and "memory=('checkpoint', 4)" in repr(m)
