"""Directions at once (bptt.functional.fast.parallel): the numbers of the sequential order, threads
that end, exceptions that come back, and never more threads than the user allows."""

import threading

import numpy as np
import pytest

import bptt.functional.fast.parallel as par
from bptt import nn

threadpoolctl = pytest.importorskip("threadpoolctl", reason="directions run at once only with threadpoolctl")

# float32: OpenBLAS may round a GEMM differently on one thread than on two (seen on an AMD EPYC host).
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


@pytest.fixture
def threads_used(monkeypatch):
    """Two threads allowed whatever the machine; counts the calls that really ran on threads."""
    calls = []
    real_run = par.run

    def counting_run(tasks):
        calls.append(len(tasks))
        return real_run(tasks)

    monkeypatch.setattr(par, "run", counting_run)
    monkeypatch.setattr(par, "allowed_threads", lambda: 2)
    previous = par.set_mode("sequential")
    yield calls
    par.set_mode(previous)


def _forward_backward(m, x, lengths, hx, dstate):
    m.zero_grad()
    out, state = m(x, hx, lengths=lengths)
    dout = np.cos(np.arange(out.size, dtype=out.dtype)).reshape(out.shape)
    dx, dhx = m.backward(dout, dstate)
    flat = lambda s: list(s) if isinstance(s, tuple) else [s]  # noqa: E731
    return [out, *flat(state), dx, *flat(dhx)], {k: v.copy() for k, v in m.grads.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_directions_at_once_give_the_sequential_results(threads_used, kind, dtype, with_lengths):
    B, T, I, H, L = 5, 9, 4, 16, 2
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    m = cls(I, H, num_layers=L, bidirectional=True, dtype=dtype, seed=3)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    lengths = np.array([9, 3, 7, 1, 5]) if with_lengths else None
    h0 = rng.standard_normal((2 * L, B, H)).astype(dtype)
    dh = rng.standard_normal((2 * L, B, H)).astype(dtype)
    hx, dstate = ((h0, h0 * 0.5), (dh, -dh)) if kind == "lstm" else (h0, dh)
    seq_out, seq_grads = _forward_backward(m, x, lengths, hx, dstate)
    assert threads_used == []
    par.set_mode("parallel")
    par_out, par_grads = _forward_backward(m, x, lengths, hx, dstate)
    assert threads_used == [2] * (2 * L)  # both directions of each layer, forward and backward
    for a, b in zip(seq_out, par_out):
        np.testing.assert_allclose(b, a, **TOL[dtype])
    assert seq_grads.keys() == par_grads.keys() and len(seq_grads) == 8 * L
    for k in seq_grads:
        np.testing.assert_allclose(par_grads[k], seq_grads[k], **TOL[dtype], err_msg=k)
    assert not any(t.name.startswith("bptt-direction") for t in threading.enumerate())  # all joined


def test_a_unidirectional_stack_and_the_reference_backend_stay_in_one_thread(threads_used):
    par.set_mode("parallel")
    x = np.ones((4, 2, 3))
    for m in (nn.GRU(3, 8, num_layers=2, dtype=np.float64), nn.GRU(3, 8, bidirectional=True, dtype=np.float64,
                                                                  backend="reference")):
        out, _ = m(x)
        m.backward(np.ones_like(out))
    assert threads_used == []


def test_run_returns_in_order_and_raises_the_workers_exception_itself():
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = threading.active_count()
        assert par.run([lambda: 1, lambda: np.dot(np.ones((3, 3)), np.ones(3)).sum()]) == [1, 9.0]
        err = KeyError("from the worker")

        def fails():
            raise err

        with pytest.raises(KeyError) as got:
            par.run([lambda: 1, fails])
        assert got.value is err
        ran = []
        with pytest.raises(ZeroDivisionError):  # the caller's own task fails: the worker still finishes
            par.run([lambda: 1 / 0, lambda: ran.append(1)])
        assert ran == [1]
        assert threading.active_count() == before  # no thread left running


def test_the_worker_thread_sees_the_callers_numpy_error_state():
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        par.run([lambda: None, lambda: np.exp(np.array([1000.0]))])


def test_never_more_threads_than_blas_may_use(monkeypatch):
    previous = par.set_mode("parallel")
    try:
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            assert par.allowed_threads() == 1
            assert par.choose(32, 256, 1024, np.float32) is False  # even when forced
        monkeypatch.setattr(par, "_cpus", lambda: 1)
        assert par.choose(32, 256, 1024, np.float32) is False
    finally:
        par.set_mode(previous)


def test_auto_measures_once_per_shape_and_sequential_never_measures(monkeypatch):
    calls = []
    monkeypatch.setattr(par, "_parallel_faster", {})
    monkeypatch.setattr(par, "allowed_threads", lambda: 2)
    monkeypatch.setattr(par, "_two_chains_faster_at_once", lambda *a: calls.append(a[:3]) or True)
    previous = par.set_mode("auto")
    try:
        assert par.choose(32, 256, 1024, np.float32) and par.choose(32, 256, 1024, np.float32)
        assert calls == [(32, 256, 1024)]
        assert par.choose(2, 8, 24, np.float32) is False  # too small a step to pay for a thread
        par.set_mode("sequential")
        assert par.choose(64, 512, 2048, np.float32) is False
        assert len(calls) == 1
    finally:
        par.set_mode(previous)


def test_the_measurement_answers_a_bool_and_gives_blas_its_threads_back():
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        answer = par._two_chains_faster_at_once(8, 16, 64, np.dtype(np.float64), par._blas(), steps=2, rounds=1)
        # the at-once chains ran under a one-thread BLAS limit; afterwards the user's two are back
        assert all(p.num_threads == 2 for p in par._blas().lib_controllers)
    assert type(answer) is bool


def test_a_mode_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="mode: expected one of"):
        par.set_mode("threads")
    assert par.check_mode("auto", "BPTT_PARALLEL") == "auto"
    with pytest.raises(ValueError, match="BPTT_PARALLEL"):
        par.check_mode("2", "BPTT_PARALLEL")


def test_directions_at_once_match_torch_in_float64(threads_used):
    torch = pytest.importorskip("torch", reason="torch's bidirectional layer is the reference")
    par.set_mode("parallel")
    T, B, I, H = 6, 3, 4, 5
    m = nn.GRU(I, H, num_layers=2, bidirectional=True, dtype=np.float64, seed=1)
    ref = torch.nn.GRU(I, H, num_layers=2, bidirectional=True, dtype=torch.float64)
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in m.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((T, B, I))
    out, h_n = m(x)
    dx, _ = m.backward(np.ones_like(out), np.ones_like(h_n))
    assert threads_used == [2, 2, 2, 2]
    xt = torch.from_numpy(x).requires_grad_(True)
    out_t, h_t = ref(xt)
    (out_t.sum() + h_t.sum()).backward()
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-10)
    for k, p in ref.named_parameters():
        np.testing.assert_allclose(m.grads[k], p.grad.numpy(), rtol=0, atol=1e-10, err_msg=k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,L", [("rnn", 2), ("lstm", 3), ("gru", 2)])
def test_the_wavefront_gives_the_layer_after_layer_results(threads_used, kind, L, dtype):
    B, T, I, H = 3, 35, 4, 8  # 7 chunks of 5 steps (at most 8 chunks, of ⌈35/8⌉ steps)
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    seq, wave = (cls(I, H, num_layers=L, dropout=0.3, dtype=dtype, seed=5) for _ in range(2))  # same draws
    rng = np.random.default_rng(8)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    h0 = rng.standard_normal((L, B, H)).astype(dtype)
    dh = rng.standard_normal((L, B, H)).astype(dtype)
    hx, dstate = ((h0, -h0), (dh, dh * 0.5)) if kind == "lstm" else (h0, dh)
    a, ga = _forward_backward(seq, x, None, hx, dstate)
    assert threads_used == []
    par.set_mode("parallel")
    b, gb = _forward_backward(wave, x, None, hx, dstate)
    assert threads_used == [2, 2]  # one pipeline forward, one backward
    assert len(wave._cache["chunks"]) == 7 and wave._cache["chunks"][-1] == (30, 35)
    for u, v in zip(a, b):
        np.testing.assert_allclose(v, u, **TOL[dtype])
    for k in ga:
        np.testing.assert_allclose(gb[k], ga[k], **TOL[dtype], err_msg=k)
    if kind == "lstm":
        np.testing.assert_allclose(wave.cell_states(0), seq.cell_states(0), **TOL[dtype])


def test_a_failing_stage_stops_the_pipeline_and_raises_its_exception():
    err = RuntimeError("stage 1, chunk 2")
    ran = []

    def work(s, j):
        if (s, j) == (1, 2):
            raise err
        ran.append((s, j))

    before = threading.active_count()
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"), pytest.raises(RuntimeError) as got:
        par.pipeline(3, 4, work)
    assert got.value is err
    assert threading.active_count() == before
    assert all((s, j) in ran for s in (0,) for j in range(4)) and (1, 3) not in ran and (2, 2) not in ran
    order = []
    par.pipeline(3, 2, lambda s, j: order.append((s, j)))
    for s in (1, 2):  # a stage's chunk only after the stage before has done it
        for j in range(2):
            assert order.index((s - 1, j)) < order.index((s, j))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_two_halves_of_the_batch_at_once_give_the_sequential_results(threads_used, kind, dtype):
    """The whole-sequence loops run rows 0…B//2−1 and B//2…B−1 on two threads (odd B: 2 and 3 rows)."""
    pytest.importorskip("numba", reason="the whole-sequence loops are compiled (bptt[fast])")
    B, T, I, H = 5, 7, 3, 12
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    m = cls(I, H, dtype=dtype, seed=4, backend="whole")
    rng = np.random.default_rng(8)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    h0, dh = rng.standard_normal((2, 1, B, H)).astype(dtype)
    hx, dstate = ((h0, -h0), (dh, 0.5 * dh)) if kind == "lstm" else (h0, dh)
    seq_out, seq_grads = _forward_backward(m, x, None, hx, dstate)
    assert threads_used == []
    par.set_mode("parallel")
    par_out, par_grads = _forward_backward(m, x, None, hx, dstate)
    assert threads_used == [2, 2]  # the forward loop and the backward loop
    for a, b in zip(seq_out, par_out):
        np.testing.assert_allclose(b, a, **TOL[dtype])
    for k in seq_grads:
        np.testing.assert_allclose(par_grads[k], seq_grads[k], **TOL[dtype], err_msg=k)


def test_halves_of_the_batch_need_two_rows_each_and_never_nest(threads_used):
    par.set_mode("parallel")
    assert par.choose_rows(3) is False  # one row in a half: a loop, not BLAS
    assert par.choose_rows(4) is True
    assert par.run([lambda: par.choose_rows(4)] * 2) == [False, False]  # inside a task
    for mode in ("sequential", "auto"):  # auto never picks it (measured slower on a quiet host)
        par.set_mode(mode)
        assert par.choose_rows(64) is False
