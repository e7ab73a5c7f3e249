"""The fast backends equal the reference backend (the readable step pairs) and torch.

Every built-in cell runs through :func:`layer_forward` on the backend
:func:`bptt.functional.fast.select` picks; ``backend="reference"`` runs the
readable step pair once per step. Sizes here cross the thresholds where the fast path
switches formulas (tanh through exp from B·H = 256 on, one BLAS thread for
mid-sized step GEMMs), with masks, reverse, keep_dh, repeated backward, large
pre-activations (exp overflow) and float32.

Every test runs twice: with the compiled gate kernels of small LSTM/GRU layers
(:mod:`bptt.functional.fast.kernels`, numba) and with the pure-NumPy backend.
"""

import numpy as np
import pytest

from bptt.functional.cells import get as cell_kind
from bptt.functional.fast import kernels
from bptt.functional.recurrent import layer_backward, layer_forward


@pytest.fixture(autouse=True, params=["compiled", "numpy"])
def kernel_path(request):
    if request.param == "compiled":
        pytest.importorskip("numba", reason="the compiled kernels need numba (bptt[fast])")
        assert kernels.enabled()
        yield request.param
    else:
        with kernels.disabled():
            yield request.param


CELLS = {"tanh": "rnn-tanh", "relu": "rnn-relu", "sigmoid": "rnn-sigmoid", "lstm": "lstm", "gru": "gru"}


def _problem(kind, T, B, I, H, dtype, seed, scale=1.0, bias=True):
    rng = np.random.default_rng(seed)
    cell = cell_kind(CELLS[kind])
    G = cell.gates
    k = scale / np.sqrt(H)
    args = dict(
        x=rng.standard_normal((T, B, I)).astype(dtype),
        h0=(0.5 * rng.standard_normal((B, H))).astype(dtype),
        c0=(0.5 * rng.standard_normal((B, H))).astype(dtype) if cell.has_cell_state else None,
        W_ih=rng.uniform(-k, k, (G * H, I)).astype(dtype),
        W_hh=rng.uniform(-k, k, (G * H, H)).astype(dtype),
        b_ih=rng.uniform(-k, k, G * H).astype(dtype) if bias else None,
        b_hh=rng.uniform(-k, k, G * H).astype(dtype) if bias else None,
    )
    up = dict(
        dout=rng.standard_normal((T, B, H)).astype(dtype),
        dh_T=rng.standard_normal((B, H)).astype(dtype),
        dc_T=rng.standard_normal((B, H)).astype(dtype) if cell.has_cell_state else None,
    )
    return cell, args, up


def force_tanh_route(monkeypatch, avx512_tanh: bool) -> None:
    """Make the cells take the float64 tanh route of a CPU with (True) or without AVX-512 tanh."""
    import bptt.functional.fast.elman as rnn_mod
    import bptt.functional.fast.lstm as lstm_mod

    for mod in (rnn_mod, lstm_mod):
        monkeypatch.setattr(mod, "tanh_float64_is_avx512", lambda: avx512_tanh)


def _run(cell, args, up, lengths=None, reverse=False, keep_dh=False, backend="auto"):
    a = args
    out, h, c, cache = layer_forward(cell, a["x"], a["h0"], a["c0"], a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"],
                                     lengths=lengths, reverse=reverse, backend=backend)
    g = layer_backward(up["dout"], up["dh_T"], up["dc_T"], cache, keep_dh=keep_dh)
    res = {"out": out, "h": h, **{k: v for k, v in g.items() if v is not None}}
    if c is not None:
        res["c"] = c
    return res, cache


def _assert_close(a, b, tol):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=tol, err_msg=k)


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("B,H", [(1, 2), (4, 80), (32, 256)])  # below / above B·H = 256 / in the one-thread band
@pytest.mark.parametrize("avx512_tanh", [False, True])  # float64 tanh through exp / np.tanh, whatever this CPU has
def test_buffered_equals_step_protocol(kind, B, H, avx512_tanh, monkeypatch):
    force_tanh_route(monkeypatch, avx512_tanh)
    T = 5 if B * H > 4096 else 7
    cell, args, up = _problem(kind, T, B, 6, H, np.float64, seed=B + H)
    fast, _ = _run(cell, args, up, keep_dh=True)
    ref, _ = _run(cell, args, up, keep_dh=True, backend="reference")
    _assert_close(fast, ref, 1e-12)


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("reverse", [False, True])
def test_buffered_lengths_reverse_no_bias(kind, reverse):
    cell, args, up = _problem(kind, 6, 12, 5, 24, np.float64, seed=3, bias=False)
    lengths = np.array([6, 1, 3, 6, 2, 5, 4, 6, 1, 2, 3, 5])
    fast, _ = _run(cell, args, up, lengths=lengths, reverse=reverse, keep_dh=True)
    ref, _ = _run(cell, args, up, lengths=lengths, reverse=reverse, keep_dh=True, backend="reference")
    _assert_close(fast, ref, 1e-12)


@pytest.mark.parametrize("kind", list(CELLS))
def test_buffered_without_upstream_pieces(kind):
    """dout=None, dh_T=None (the loop's shortest path) and dc_T=None."""
    cell, args, up = _problem(kind, 5, 16, 4, 20, np.float64, seed=4)
    for none in (["dout"], ["dh_T", "dc_T"], ["dout", "dc_T"]):
        up2 = {k: (None if k in none else v) for k, v in up.items()}
        fast, _ = _run(cell, args, up2)
        ref, _ = _run(cell, args, up2, backend="reference")
        _assert_close(fast, ref, 1e-12)


@pytest.mark.parametrize("kind", list(CELLS))
def test_buffered_backward_twice_same_result_inputs_untouched(kind):
    cell, args, up = _problem(kind, 5, 16, 4, 20, np.float64, seed=5)
    saved = {k: None if v is None else v.copy() for k, v in {**args, **up}.items()}
    res, cache = _run(cell, args, up)
    again = layer_backward(up["dout"], up["dh_T"], up["dc_T"], cache)
    for k, v in again.items():
        if v is not None:
            np.testing.assert_array_equal(v, res[k], err_msg=k)
    for k, v in {**args, **up}.items():
        if v is not None:
            np.testing.assert_array_equal(v, saved[k], err_msg=k)


@pytest.mark.parametrize("kind", list(CELLS))
def test_buffered_saturated_gates_no_warning_and_exact_limits(kind):
    """Pre-activations of ±1e3: exp overflows to inf inside, gates come out exactly 0/1 or ±1."""
    cell, args, up = _problem(kind, 4, 16, 4, 20, np.float64, seed=6, scale=1.0)
    args["x"] = args["x"] * 1e3
    fast, _ = _run(cell, args, up)  # pytest turns RuntimeWarnings into errors
    ref, _ = _run(cell, args, up, backend="reference")
    assert all(np.isfinite(v).all() for v in fast.values())
    _assert_close(fast, ref, 1e-9)


@pytest.mark.parametrize("kind", list(CELLS))
def test_buffered_float32_stays_float32(kind):
    cell, args, up = _problem(kind, 5, 16, 4, 24, np.float32, seed=7)
    fast, _ = _run(cell, args, up, keep_dh=True)
    assert all(v.dtype == np.float32 for v in fast.values())
    ref, _ = _run(cell, {k: None if v is None else v.astype(np.float64) for k, v in args.items()},
                  {k: None if v is None else v.astype(np.float64) for k, v in up.items()}, keep_dh=True,
                  backend="reference")
    for k in fast:
        np.testing.assert_allclose(fast[k], ref[k], rtol=2e-4, atol=2e-4, err_msg=k)


@pytest.mark.parametrize("kind", ["tanh", "lstm", "gru"])
def test_buffered_outputs_are_read_only_views(kind):
    """out/h_T alias the cache that backward reads: writing into them must fail loudly."""
    cell, args, up = _problem(kind, 3, 4, 3, 5, np.float64, seed=8)
    res, _ = _run(cell, args, up)
    with pytest.raises(ValueError):
        res["out"][0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        res["h"][0, 0] = 1.0


@pytest.mark.parametrize("kind,torch_name", [("tanh", "RNN"), ("lstm", "LSTM"), ("gru", "GRU")])
def test_modules_above_thresholds_match_torch(kind, torch_name):
    torch = pytest.importorskip("torch", reason="torch parity needs torch")
    import bptt.nn as bnn
    from bptt.interop.torch import compare

    m = getattr(bnn, torch_name)(7, 40, num_layers=2, dtype=np.float64, seed=0)
    x = np.random.default_rng(9).standard_normal((6, 16, 7))
    res = compare(m, (x,))
    assert res.max_abs <= 1e-10, str(res)
    del torch


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("steps_per_chunk", [1, 3])  # 7 steps: 7 chunks / uneven chunks 1, 3, 3
def test_backward_factors_in_chunks_equal_all_at_once(kind, steps_per_chunk, monkeypatch):
    """Large layers form backward factors chunk by chunk; the result must not depend on the chunking."""
    import bptt.functional.fast.layer as R

    cell, args, up = _problem(kind, 7, 12, 5, 24, np.float64, seed=10)
    lengths = np.array([7, 1, 3, 7, 2, 5, 4, 7, 1, 2, 3, 5])
    whole = [_run(cell, args, up, lengths=ln, keep_dh=k)[0] for ln, k in ((None, False), (None, True), (lengths, False))]
    step_bytes = 12 * 24 * 8 * (cell.gates + (0 if cell.shared_bias_grad else 1))  # dP, and torch's GRU's dQ n block
    monkeypatch.setattr(R, "_FACTOR_CHUNK_BYTES", steps_per_chunk * step_bytes + 5)
    calls = []
    numpy_backend = type(_run(cell, args, up, backend="numpy")[1].backend)
    factors = numpy_backend.factors
    monkeypatch.setattr(numpy_backend, "factors", lambda self, S, t0, t1: calls.append((t0, t1)) or factors(self, S, t0, t1))
    _run(cell, args, up, backend="numpy")
    assert len(calls) == -(-7 // steps_per_chunk) and calls[0][1] == 7 and calls[-1][0] == 0
    for (ln, k), ref in zip(((None, False), (None, True), (lengths, False)), whole):
        _assert_close(_run(cell, args, up, lengths=ln, keep_dh=k)[0], ref, 0)
    up_none = {**up, "dout": None}
    ref_none = _run(cell, args, up_none, backend="reference")[0]
    _assert_close(_run(cell, args, up_none)[0], ref_none, 1e-12)



@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("B,H", [(1, 2), (4, 16), (3, 5)])  # B·H ≤ 64: the compiled whole-sequence loop (when numba)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_tiny_layers_whole_sequence_loop_equals_step_protocol(kind, B, H, reverse, bias, kernel_path):
    """No lengths and no keep_dh: the tiniest layers run all steps in one compiled call."""
    cell, args, up = _problem(kind, 6, B, 5, H, np.float64, seed=20 + B * H, bias=bias)
    saved = {k: None if v is None else v.copy() for k, v in {**args, **up}.items()}
    for none in ([], ["dout"], ["dh_T", "dc_T"], ["dout", "dh_T", "dc_T"]):
        up2 = {k: (None if k in none else v) for k, v in up.items()}
        fast, cache = _run(cell, args, up2, reverse=reverse)
        assert cache.backend.name == ("whole" if kernel_path == "compiled" else "numpy")
        ref, _ = _run(cell, args, up2, reverse=reverse, backend="reference")
        _assert_close(fast, ref, 1e-13)
        again = layer_backward(up2["dout"], up2["dh_T"], up2["dc_T"], cache)
        for k, v in again.items():
            if v is not None:
                np.testing.assert_array_equal(v, fast[k], err_msg=k)
    lengths = np.array([6, 2, 5, 1])[:B] if B > 1 else np.array([4])
    for keep_dh in (False, True):  # with lengths or keep_dh the Python loop runs the same layer
        fast, _ = _run(cell, args, up, lengths=lengths, reverse=reverse, keep_dh=keep_dh)
        ref, _ = _run(cell, args, up, lengths=lengths, reverse=reverse, keep_dh=keep_dh, backend="reference")
        _assert_close(fast, ref, 1e-13)
    for k, v in {**args, **up}.items():  # nothing given was written into
        if v is not None:
            np.testing.assert_array_equal(v, saved[k], err_msg=k)


@pytest.mark.parametrize("kind", list(CELLS))
def test_tiny_layers_float32_and_strided_upstream(kind):
    """float32 stays float32 and a strided dout (a bidirectional layer's half) is read correctly."""
    cell, args, up = _problem(kind, 4, 2, 3, 3, np.float32, seed=30)
    wide = np.random.default_rng(31).standard_normal((4, 2, 6)).astype(np.float32)
    up = {**up, "dout": wide[:, :, 3:]}  # not contiguous
    fast, _ = _run(cell, args, up)
    assert all(v.dtype == np.float32 for v in fast.values())
    ref, _ = _run(cell, {k: None if v is None else v.astype(np.float64) for k, v in args.items()},
                  {k: None if v is None else v.astype(np.float64) for k, v in up.items()}, backend="reference")
    for k in fast:
        np.testing.assert_allclose(fast[k], ref[k], rtol=2e-5, atol=2e-6, err_msg=k)


@pytest.mark.parametrize("shape", [(1536, 512), (7, 3), (130, 65)])  # more and fewer rows than one block
def test_transposed_copy_equals_numpy_transpose(shape):
    from bptt.functional.fast.blas import transposed

    W = np.random.default_rng(40).standard_normal(shape)
    T = transposed(W)
    assert T.flags.c_contiguous and T.shape == shape[::-1]
    np.testing.assert_array_equal(T, W.T)
    scale = np.random.default_rng(41).standard_normal((shape[0], 1))
    np.testing.assert_array_equal(transposed(W, scale), W.T * scale.T)
    W32 = W.astype(np.float32)
    T32 = transposed(W32, np.float32(-2))
    assert T32.dtype == np.float32
    np.testing.assert_array_equal(T32, W32.T * np.float32(-2))
