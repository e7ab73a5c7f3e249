"""The memory part of the benchmark harness, and what the fast backends keep (nothing here is timed).

The minimum-bytes formula against a hand count; what a forward keeps, counted by
tracemalloc, against that minimum; the results' new fields and the table's columns;
the spending backward (gradients written over the forward buffers) equal to the
keeping one, and refused a second time.
"""

import json
import tracemalloc

import numpy as np
import pytest

from bptt.bench import memory, run
from bptt.bench.configs import CONFIGS
from bptt.functional import cells
from bptt.functional.fast import available
from bptt.functional.recurrent import layer_backward, layer_forward


def test_minimum_bytes_per_step_is_the_hand_count():
    # LSTM, B=2, H=3, one layer, float64: h 3 + c 3 + i, f, g, o 12 + tanh c 3 = 21 numbers per sequence
    assert memory.min_cache_bytes_per_step("lstm", 2, 3, 1, 8) == 21 * 2 * 8
    # Elman, B=4, H=5, two layers, float32: h_t of each layer
    assert memory.min_cache_bytes_per_step("rnn", 4, 5, 2, 4) == 5 * 4 * 2 * 4
    # GRU, B=1, H=2: h 2 + r, z, n 6 + q_n 2 = 10 numbers
    assert memory.min_cache_bytes_per_step("gru", 1, 2, 1, 8) == 10 * 8


def test_the_long_row_is_the_issues_size():
    c = CONFIGS["long"]
    assert (c.B, c.T, c.I, c.H, c.L) == (8, 2000, 32, 128, 1)


def _inputs(rng, kind, T, B, I, H, scale, dtype=np.float64):
    """x (T, B, I) and [W_ih, W_hh, b_ih, b_hh] of a ``kind`` layer, standard normal times ``scale``."""
    G = kind.gates
    x = rng.standard_normal((T, B, I)).astype(dtype)
    W = [(rng.standard_normal(s) * scale).astype(dtype) for s in ((G * H, I), (G * H, H), (G * H,), (G * H,))]
    return x, W


def _kept_bytes(cell, backend, T, B, I, H):
    rng = np.random.default_rng(0)
    kind = cells.get(cell)
    x, W = _inputs(rng, kind, T, B, I, H, 0.1)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = layer_forward(kind, x, None, None, *W, backend=backend)
        return tracemalloc.get_traced_memory()[0] - base, kept
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("cell,bound", [("rnn-tanh", 1.05), ("lstm", 1.05), ("gru", 1.05)])
def test_what_forward_keeps_against_the_minimum(cell, bound):
    """Every fast backend's forward keeps at most ``bound`` × the equations' minimum (T·B·H numbers
    per unit; the GRU keeps only the n block q_n of the recurrent product: 5 units, issue 17)."""
    T, B, I, H = 200, 8, 4, 32
    family = cells.get(cell).family
    minimum = T * memory.min_cache_bytes_per_step(family, B, H, 1, 8)
    for backend in [b for b in available(cells.get(cell)) if b != "reference"]:
        _kept_bytes(cell, backend, 2, B, I, H)  # numba compiles before anything is counted
        kept, _ = _kept_bytes(cell, backend, T, B, I, H)
        assert minimum <= kept <= bound * minimum, (backend, kept / minimum)


@pytest.mark.parametrize("cell", ["rnn-tanh", "lstm", "gru"])
def test_a_spending_backward_equals_a_keeping_one_and_is_refused_twice(cell):
    """Every fast backend: a spending backward writes dP (and dQ) over P (and Q) and equals a keeping one."""
    rng = np.random.default_rng(1)
    kind = cells.get(cell)
    T, B, I, H = 7, 4, 3, 24
    x, W = _inputs(rng, kind, T, B, I, H, 0.3)
    dout = rng.standard_normal((T, B, H))
    dh = rng.standard_normal((B, H))
    dc = rng.standard_normal((B, H)) if kind.has_cell_state else None
    for backend in [b for b in available(kind) if b != "reference"]:
        cache = layer_forward(kind, x, None, None, *W, backend=backend)[3]
        keep = layer_backward(dout, dh, dc, cache)
        again = layer_backward(dout, dh, dc, cache)  # a keeping backward leaves the cache as it was
        spent = layer_backward(dout, dh, dc, cache, spend=True)
        for k, v in keep.items():
            if v is not None:
                np.testing.assert_array_equal(again[k], v, err_msg=(backend, k))
                np.testing.assert_allclose(spent[k], v, rtol=1e-12, atol=0, err_msg=(backend, k))
        with pytest.raises(ValueError, match="cache: expected a cache no backward has spent"):
            layer_backward(dout, dh, dc, cache)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gru_state_keeps_q_n_only_and_its_backward_allocates_no_gate_sized_array(dtype):
    """Every fast GRU backend: of the recurrent product the state keeps −2·q_n, (T, B, H) (one spare step
    where the backward spends it); P keeps [r, z, n]. A spending backward then allocates at most dx (T, B, I),
    the parameter gradients and (B, ·) scratch: dP, dQ's n block go over P and Qn, dW_hh's r, z rows come
    from dP's columns without a copy (counted by tracemalloc), and the gradients equal the reference backend's."""
    rng = np.random.default_rng(3)
    kind = cells.get("gru")
    T, B, I, H = 40, 16, 3, 64
    it = np.dtype(dtype).itemsize
    x = rng.standard_normal((T, B, I)).astype(dtype)
    W = [(rng.standard_normal(s) * 0.2).astype(dtype) for s in ((3 * H, I), (3 * H, H), (3 * H,), (3 * H,))]
    dout = rng.standard_normal((T, B, H)).astype(dtype)
    ref = layer_backward(dout, None, None, layer_forward(kind, x, None, None, *W, backend="reference")[3])
    for backend in [b for b in available(kind) if b != "reference"]:
        S = layer_forward(kind, x, None, None, *W, backend=backend)[3].state
        spare = 0 if backend == "numpy" else 1  # fused, whole: one spare step (spend)
        kept = S.Qn if S.Qn.base is None else S.Qn.base
        assert S.Qn.shape == (T, B, H) and kept.nbytes == (T + spare) * B * H * it, backend
        assert S.P.shape == (T, B, 3 * H) and S.Hs.shape == (T + 1, B, H)
        layer_backward(dout, None, None, layer_forward(kind, x, None, None, *W, backend=backend)[3], spend=True)
        cache = layer_forward(kind, x, None, None, *W, backend=backend)[3]  # numba has loaded its kernels
        tracemalloc.start()
        try:
            got = layer_backward(dout, None, None, cache, spend=True)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        params = (3 * H * (I + H) + 6 * H) * it
        scratch = 16 * B * 3 * H * it
        if backend != "numpy":  # the NumPy backend forms its factors in arrays of its own: dP and dQ's n block
            assert peak <= T * B * I * it + params + scratch, (backend, peak)
        else:
            assert peak <= T * B * (I + 4 * H) * it + params + scratch, (backend, peak)
        tol = 1e-10 if dtype == np.float64 else 2e-4
        for k in ("dx", "dW_ih", "dW_hh", "db_ih", "db_hh"):
            np.testing.assert_allclose(got[k], ref[k], rtol=tol, atol=tol, err_msg=(backend, k))


def test_module_retain_graph_keeps_the_cache_for_a_second_backward():
    m = cells.get("gru").module(3, 24, dtype=np.float64, seed=0, backend="auto")
    x = np.random.default_rng(2).standard_normal((5, 4, 3))
    out, h = m(x)
    dx1, _ = m.backward(np.ones_like(out), None, retain_graph=True)
    dx2, _ = m.backward(np.ones_like(out), None)
    np.testing.assert_array_equal(dx2, dx1)


def _measured(rss_b, rss_t, kept_b, T=64):
    return ({"rss_peak": rss_b, "rss_kept": kept_b, "traced_peak": rss_b, "traced_kept": kept_b},
            {"rss_peak": rss_t, "rss_kept": 2 * kept_b})


def test_memory_summary_fields_and_ratios():
    cfg = CONFIGS["medium"]  # B 32, T 64, H 256: the minimum of the Elman RNN is 32·256·8 = 64 KiB a step
    kept = 64 * 70 * 1024  # 70 KiB a step
    m = run.memory_summary(*_measured(10 * 2**20, 20 * 2**20, kept), "medium", "rnn", "float64")
    assert m["min_cache_bytes_per_step"] == cfg.B * cfg.H * 8 == 65536
    assert m["ratio"] == 0.5 and m["cache_bytes_per_step"] == 70 * 1024
    assert m["cache_ratio"] == pytest.approx(70 / 64)
    assert m["torch_kept_bytes_per_step"] == 140 * 1024
    assert m["target"] == 0.6 and m["met"]
    m = run.memory_summary(*_measured(13 * 2**20, 20 * 2**20, kept), "medium", "rnn", "float64")
    assert m["ratio"] == 0.65 and not m["met"]  # above 0.6× torch
    m = run.memory_summary(*_measured(10 * 2**20, 20 * 2**20, 64 * 90 * 1024), "medium", "rnn", "float64")
    assert not m["met"]  # 90/64 > 1.25× the minimum
    # small (B 16, T 32, H 64: 8 KiB a step) has no target against torch, only the minimum's
    assert run.memory_summary(*_measured(13 * 2**20, 20 * 2**20, 32 * 9 * 1024), "small", "rnn", "float64")["met"]


def test_the_table_renders_the_memory_columns(capsys):
    mem = run.memory_summary(*_measured(10 * 2**20, 20 * 2**20, 64 * 70 * 1024), "medium", "rnn", "float64")
    row = {"config": "medium", "cell": "rnn", "dtype": "float64", "memory": mem}
    line = run.format_row(row)
    assert line.split()[:9] == ["medium", "rnn", "float64", "10.0", "20.0", "0.50×", "70.0KiB", "64.0KiB", "1.09×"]
    assert line.endswith("yes (≤ 0.6× torch)")
    run.print_table({"meta": {"date": "d", "threads": 1}, "rows": [row]})
    out = capsys.readouterr().out.splitlines()
    assert out[1] == run.MEMORY_ONLY_HEADER and out[2] == line and out[3] == "memory targets met: 1/1"
    assert "bptt/torch" in run.MEMORY_ONLY_HEADER and "cache/min" in run.MEMORY_ONLY_HEADER
    assert run.table_header(True, True).startswith(run.HEADER) and run.MEMORY_HEADER in run.table_header(True, True)


def test_memory_only_run_writes_the_fields(tmp_path, capsys):
    """A real --memory-only run at the tiny size: both libraries in fresh workers."""
    pytest.importorskip("torch", reason="the memory row measures torch's worker beside bptt's")
    path = tmp_path / "m.json"
    assert run.main(["--memory-only", "--configs", "tiny", "--cells", "lstm", "--dtypes", "float64",
                     "--threads", "1", "--out", str(path)]) == 0
    row = json.loads(path.read_text())["rows"][0]
    m = row["memory"]
    assert m["bptt"]["traced_peak"] > 0 and m["bptt"]["traced_kept"] > 0
    assert m["bptt"]["rss_peak"] is not None and m["torch"]["rss_peak"] is not None
    assert m["min_cache_bytes_per_step"] == 7 * 1 * 2 * 8  # tiny: B 1, H 2
    assert m["cache_bytes_per_step"] == m["bptt"]["traced_kept"] / 3
    assert m["bptt"]["malloc_env"] == memory.MALLOC_ENV
    assert "memory targets met" in capsys.readouterr().out


def test_minimum_counts_both_directions_of_a_bidirectional_stack():
    # medium-bi: B 32, H 256, 2 layers × 2 directions, each keeping h_t (Elman) -> 4 · 32·256·8 bytes a step
    m = run.memory_summary(*_measured(10 * 2**20, 20 * 2**20, 64 * 300 * 1024), "medium-bi", "rnn", "float64")
    assert m["min_cache_bytes_per_step"] == 4 * 32 * 256 * 8 == 262144


def _elman_backward_peak(kind, backend, x, W, args):
    """(gradients, tracemalloc peak of the backward) of one fast Elman layer, numba already compiled."""
    layer_backward(*args[:2], None, layer_forward(kind, x, None, None, *W, backend=backend)[3])
    cache = layer_forward(kind, x, None, None, *W, backend=backend)[3]
    tracemalloc.start()
    try:
        got = layer_backward(*args[:2], None, cache, input_grad=args[2])
        return got, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elman_backward_in_chunks_equals_the_reference_and_holds_one_chunk_of_dA(nonlinearity, dtype, monkeypatch):
    """Every fast Elman backend with 3-step chunks (B 16: 48 rows; 40 steps: chunks 1, 3, …, 3): the gradients
    of the reference backend (with and without dout, dh_T, input gradient), and a backward whose peak is
    below the one-chunk backward's by dA of all but three chunks' steps (counted by tracemalloc)."""
    from bptt.functional.fast import elman

    rng = np.random.default_rng(4)
    kind = cells.get("rnn-" + nonlinearity)
    T, B, I, H, k = 40, 16, 3, 32, 3
    it = np.dtype(dtype).itemsize
    x, W = _inputs(rng, kind, T, B, I, H, 0.1, dtype)
    dout = rng.standard_normal((T, B, H)).astype(dtype)
    dh = rng.standard_normal((B, H)).astype(dtype)
    tol = 1e-11 if dtype == np.float64 else 2e-4
    for args in ((dout, dh, True), (None, dh, True), (dout, None, False)):
        ref = layer_backward(args[0], args[1], None, layer_forward(kind, x, None, None, *W, backend="reference")[3],
                             input_grad=args[2])
        for backend in [b for b in available(kind) if b != "reference"]:
            monkeypatch.setattr(elman, "BACKWARD_CHUNK_ROWS", T * B)  # one chunk: dA of every step
            _, whole_peak = _elman_backward_peak(kind, backend, x, W, args)
            monkeypatch.setattr(elman, "BACKWARD_CHUNK_ROWS", k * B)
            got, peak = _elman_backward_peak(kind, backend, x, W, args)
            for key, v in ref.items():
                if v is None:
                    assert got[key] is None, (backend, key)
                else:
                    np.testing.assert_allclose(got[key], v, rtol=tol, atol=tol, err_msg=(backend, key))
            assert peak <= whole_peak - (T - 3 * k) * B * H * it, (backend, peak, whole_peak)


@pytest.mark.parametrize("cell", ["rnn-tanh", "lstm", "gru"])
def test_the_reverse_direction_keeps_what_the_forward_one_keeps(cell):
    """Without lengths the reverse direction reads its input backwards through a view (x[::-1]), so its forward
    keeps what the forward direction's keeps plus its (T, B) time order, within 2 KiB of Python objects (a
    reversed (T, B, I) copy would be 100 KiB more here), and its
    outputs and gradients are those of the forward direction on the time-reversed sequence."""
    rng = np.random.default_rng(5)
    kind = cells.get(cell)
    T, B, I, H = 50, 8, 32, 16
    x, W = _inputs(rng, kind, T, B, I, H, 0.2)
    dout = rng.standard_normal((T, B, H))
    for backend in [b for b in available(kind) if b != "reference"]:
        _kept_bytes(cell, backend, 2, B, I, H)  # numba compiles before anything is counted
        sizes = []
        for reverse in (False, True):
            tracemalloc.start()
            try:
                base = tracemalloc.get_traced_memory()[0]
                out, h, c, cache = layer_forward(kind, x, None, None, *W, backend=backend, reverse=reverse)
                sizes.append(tracemalloc.get_traced_memory()[0] - base)
            finally:
                tracemalloc.stop()
        assert abs(sizes[1] - sizes[0] - T * B * 8) <= 2048, (backend, sizes)
        assert np.shares_memory(cache.state.x, x)
        fwd = layer_forward(kind, x[::-1].copy(), None, None, *W, backend=backend)
        np.testing.assert_allclose(out, fwd[0][::-1], rtol=1e-12, atol=1e-12)
        g_rev = layer_backward(dout, None, None, cache)
        g_fwd = layer_backward(dout[::-1].copy(), None, None, fwd[3])
        np.testing.assert_allclose(g_rev["dx"], g_fwd["dx"][::-1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g_rev["dW_hh"], g_fwd["dW_hh"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_stack_frees_the_layer_aboves_dx_before_forming_the_next_one(cell):
    """A 2-layer stack (I = H) on the fused backend: layer 0's dx is formed after layer 0's backward, once layer 1's
    dx (its dout) is freed, so the backward's peak holds one (T, B, H) input gradient, not two (tracemalloc);
    the gradients are the reference backend's."""
    T, B, H = 100, 16, 64
    rng = np.random.default_rng(6)
    x = rng.standard_normal((T, B, H))
    dout = rng.standard_normal((T, B, H))
    kind = cells.get(cell)
    ref = kind.module(H, H, num_layers=2, dtype=np.float64, seed=0, backend="reference")
    ref(x)
    dx_ref, _ = ref.backward(dout, None)
    m = kind.module(H, H, num_layers=2, dtype=np.float64, seed=0, backend="fused")
    m(x)
    m.backward(dout, None)  # numba has loaded its kernels; the workspaces hold this call's buffers
    m.zero_grad()
    m(x)
    tracemalloc.start()
    try:
        dx, _ = m.backward(dout, None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-12)
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad, dict(ref.named_parameters())[name].grad, rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    one = T * B * H * 8
    assert one <= peak <= 1.5 * one, (peak, one)
