"""Buffers reused across calls (:class:`bptt.functional.fast.workspace.Workspace`).

A workspace may hand an array out again only when nothing else references it.
These tests hold on to results of earlier calls (outputs, caches, cell states)
and check that later calls never write into them, and that reuse does happen
when nothing is held (otherwise the workspace would be dead weight).
"""

import numpy as np
import pytest

import bptt
from bptt.functional.fast.workspace import Workspace

BIG = (64, 32, 64)  # 512 KiB in float64: above the workspace's size floor


def test_free_array_is_reused_and_held_array_is_not():
    ws = Workspace()
    a = ws.empty("P", BIG, np.float64)
    a_id = id(a)
    a[...] = 1.0
    del a
    b = ws.empty("P", BIG, np.float64)
    assert id(b) == a_id  # nothing held it: reused
    view = b[1:]  # a caller keeps a view (as with ``out``)
    del b
    c = ws.empty("P", BIG, np.float64)
    assert id(c) != a_id
    assert view.base is not None and np.all(view == 1.0)  # untouched
    c[...] = 2.0
    assert np.all(view == 1.0)


def test_shape_or_dtype_change_allocates():
    ws = Workspace()
    a = ws.empty("H", BIG, np.float64)
    a_id = id(a)
    del a
    assert ws.empty("H", BIG, np.float32).dtype == np.float32
    b = ws.empty("H", (65, 32, 64), np.float64)
    assert b.shape == (65, 32, 64) and id(b) != a_id


def test_small_arrays_are_not_pooled():
    ws = Workspace()
    a = ws.empty("q", (2, 3), np.float64)
    assert a.shape == (2, 3) and a.dtype == np.float64
    assert not ws._pool  # below MIN_BYTES: plain np.empty, nothing kept


def test_pool_keeps_at_most_keep_arrays_per_name():
    ws = Workspace(keep=2)
    held = [ws.empty("P", BIG, np.float64) for _ in range(4)]  # all held: four fresh arrays
    assert len({id(a) for a in held}) == 4
    assert len(ws._pool["P"]) == 2


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_module_outputs_of_earlier_calls_are_never_overwritten(kind):
    rng = np.random.default_rng(0)
    m = getattr(bptt, kind)(16, 64, num_layers=2, dtype=np.float64, seed=1)
    xs = [rng.standard_normal((40, 8, 16)) for _ in range(3)]
    first = m(xs[0])
    out0 = first[0].copy()
    h0 = (first[1][0] if kind == "LSTM" else first[1]).copy()
    cs = m.cell_states() if kind == "LSTM" else None
    cs0 = None if cs is None else [c.copy() for c in cs]
    for x in xs[1:]:  # later calls while ``first`` is still held
        out, state = m(x)
        m.backward(rng.standard_normal(out.shape), None)
    np.testing.assert_array_equal(first[0], out0)
    np.testing.assert_array_equal(first[1][0] if kind == "LSTM" else first[1], h0)
    if cs0 is not None:
        for a, b in zip(cs, cs0):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_module_results_equal_without_workspace(kind):
    """Same numbers whether buffers are fresh or reused (and reuse does happen)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 8, 16))
    dout = rng.standard_normal((40, 8, 64))
    a = getattr(bptt, kind)(16, 64, dtype=np.float64, seed=2)
    b = getattr(bptt, kind)(16, 64, dtype=np.float64, seed=2)
    b._workspaces = [None]  # fresh arrays every call
    results = []
    for m in (a, b):
        for _ in range(3):  # repeated calls: the first module reuses its buffers from the second on
            m.zero_grad()
            out, _ = m(x)
            out = out.copy()
            dx, _ = m.backward(dout, None)
        results.append((out, dx, {k: g.copy() for k, g in m.grads.items()}))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    for k in results[0][2]:
        np.testing.assert_array_equal(results[0][2][k], results[1][2][k])
    pooled = a._workspaces[0]._pool
    assert pooled and all(len(v) == 1 for v in pooled.values())  # one set, reused every call
