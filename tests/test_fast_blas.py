"""BLAS threads of the per-step GEMMs: measured once per shape, never a change in the results."""

import numpy as np
import pytest

import bptt.functional.fast.blas as rc

from test_fast_backends import _problem, _run

threadpoolctl = pytest.importorskip("threadpoolctl", reason="the BLAS thread choice needs threadpoolctl")

IN_BAND = (32, 256, 256)  # B, H, G·H of a medium Elman layer: 2^21 multiply-adds per step


def _blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]


@pytest.fixture
def two_blas_threads(monkeypatch):
    monkeypatch.setattr(rc, "_one_thread_faster", {})  # nothing measured yet in this test
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        yield


@pytest.fixture
def measured(monkeypatch):
    """Replace the timing by a stub answering ``measured.answer``; count its calls."""

    class Stub:
        answer = True
        calls: list = []

        def __call__(self, B, H, GH, dtype, blas):
            self.calls.append((B, H, GH, dtype))
            return self.answer

    stub = Stub()
    monkeypatch.setattr(rc, "_gemm_chain_faster_on_one_thread", stub)
    return stub


def test_inside_the_band_measured_once_per_shape_then_one_thread(two_blas_threads, measured):
    for _ in range(3):
        with rc.threads_for_loop(*IN_BAND, np.dtype(np.float32)):
            assert _blas_threads() and max(_blas_threads()) == 1
    assert measured.calls == [(*IN_BAND, np.dtype(np.float32))]
    assert max(_blas_threads()) == 2  # restored on exit
    with rc.threads_for_loop(*IN_BAND, np.dtype(np.float64)):  # another dtype: measured on its own
        pass
    assert len(measured.calls) == 2


def test_when_one_thread_was_not_faster_the_blas_keeps_its_threads(two_blas_threads, measured):
    measured.answer = False
    with rc.threads_for_loop(*IN_BAND, np.dtype(np.float32)):
        assert max(_blas_threads()) == 2
    assert len(measured.calls) == 1


@pytest.mark.parametrize("shape", [(16, 64, 64), (64, 512, 2048)])  # below / above the band
def test_outside_the_band_nothing_is_measured_or_limited(two_blas_threads, measured, shape):
    with rc.threads_for_loop(*shape, np.dtype(np.float32)):
        assert max(_blas_threads()) == 2
    assert measured.calls == []


def test_the_measurement_answers_and_leaves_the_threads_as_they_were(two_blas_threads):
    blas = threadpoolctl.ThreadpoolController().select(user_api="blas")
    answer = rc._gemm_chain_faster_on_one_thread(*IN_BAND, np.dtype(np.float32), blas, steps=2, rounds=1)
    assert answer in (True, False)
    assert max(_blas_threads()) == 2


@pytest.mark.parametrize("kind", ["tanh", "lstm", "gru"])
def test_results_do_not_depend_on_the_thread_choice(two_blas_threads, measured, kind):
    """The thread choice changes no result beyond float32 rounding.

    On the Intel host OpenBLAS split the output, not the sums, and the results were bitwise
    equal; on an AMD EPYC host (another OpenBLAS kernel) they differed in the last bits of
    float32 (max 5.7e-7 absolute), so the claim tested is rounding-level agreement."""
    H = {"tanh": 256, "lstm": 64, "gru": 96}[kind]  # B·H·G·H inside the band for each cell
    cell, args, up = _problem(kind, 6, 32, 16, H, np.float32, seed=21)
    runs = []
    for answer in (True, False):
        measured.answer = answer
        rc._one_thread_faster.clear()
        runs.append(_run(cell, args, up)[0])
    assert len(measured.calls) == 2  # once per answer: the backward loop reuses the forward's measurement
    for k in runs[0]:
        np.testing.assert_allclose(runs[0][k], runs[1][k], rtol=0, atol=1e-5 * np.abs(runs[1][k]).max(), err_msg=k)
