"""Independent recurrences at once: the two directions of a bidirectional layer on two threads.

The forward and the reverse direction of one layer do not read each other's
state, so they can run side by side: each on its own thread with a one-thread
BLAS (NumPy's BLAS calls and bptt's numba kernels, compiled ``nogil``, release
the GIL). The alternative is the sequential order, one direction after the
other, each step GEMM split over BLAS's threads (or on one, see
:func:`.blas.threads_for_loop`). Which is faster depends on the shape and the
machine, so — as for the BLAS threads of the step loop — it is measured once
per (B, H, G·H, dtype, BLAS threads) in a process: a chain of step GEMMs (each
output through tanh into the next, as in the loop) twice in sequence on all
BLAS threads against twice at once on two threads with one BLAS thread each;
parallel only when that was clearly (5 %) faster.

Never more threads than the user allows: directions run in parallel only when
BLAS itself may use at least two threads (a ``threadpoolctl`` limit or
``OPENBLAS_NUM_THREADS=1`` the user set keeps everything sequential) and the
process may run on at least two CPUs; meanwhile BLAS is limited to one thread,
so two threads run in all. Without threadpoolctl nothing runs in parallel.

The results are those of the sequential order: every GEMM and kernel computes
the same numbers on one thread as on two (OpenBLAS splits outputs, not sums;
bitwise equal on the hosts measured, within float32 rounding on one), and
gradients are added up in the same order after both threads are done.

``BPTT_PARALLEL=sequential`` (or :func:`set_mode`) forces the sequential order,
``parallel`` runs directions at once whenever two threads are allowed, ``auto``
(default) measures. Each parallel call starts one thread and joins it before
returning (no pool is left running); an exception raised in it is raised again,
the same object, in the caller.
"""

from __future__ import annotations

import contextvars
import math
import os
import threading
import time
from typing import Any, Callable, Sequence

import numpy as np

from . import blas

MODES = ("auto", "sequential", "parallel")
_MIN_STEP = 1 << 18  # B·H·G·H multiply-adds of a step below which a thread costs more than it saves


def check_mode(name: Any, argname: str = "mode") -> str:
    """``name`` if it is one of :data:`MODES`, else one ValueError naming ``argname``."""
    if name not in MODES:
        raise ValueError(f"{argname}: expected one of {MODES}, got {name!r}")
    return name


_mode = check_mode(os.environ.get("BPTT_PARALLEL", "auto") or "auto", "BPTT_PARALLEL")
# True inside a task of run(): what runs there never starts threads of its own (two in all).
_in_task = contextvars.ContextVar("bptt_parallel_in_task", default=False)
_parallel_faster: dict[tuple, bool] = {}  # (B, H, GH, dtype, threads) -> measured choice


def set_mode(mode: str) -> str:
    """Set how independent directions run ("auto", "sequential", "parallel"); returns the previous mode."""
    global _mode
    previous, _mode = _mode, check_mode(mode)
    return previous


def get_mode() -> str:
    """The current mode (``BPTT_PARALLEL`` at import, or the last :func:`set_mode`)."""
    return _mode


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _blas():
    """threadpoolctl's selection of the BLAS libraries, or None without threadpoolctl."""
    ctl = blas.controller()
    return None if ctl is None else ctl.select(user_api="blas")


def allowed_threads() -> int:
    """How many threads the directions may use at once: min(BLAS threads, CPUs); 1 without threadpoolctl."""
    pools = _blas()
    if pools is None or not pools.lib_controllers:
        return 1
    return min(min(p.num_threads for p in pools.lib_controllers), _cpus())


def choose(B: int, H: int, GH: int, dtype: Any) -> bool:
    """Whether two directions of a (B, H, G·H) layer run at once (see the module docstring)."""
    if _mode == "sequential" or _in_task.get() or allowed_threads() < 2:
        return False
    if _mode == "parallel":
        return True
    if B * H * GH < _MIN_STEP:
        return False
    pools = _blas()
    key = (B, H, GH, np.dtype(dtype), tuple(p.num_threads for p in pools.lib_controllers))
    faster = _parallel_faster.get(key)
    if faster is None:
        faster = _parallel_faster[key] = _two_chains_faster_at_once(B, H, GH, np.dtype(dtype), pools)
    return faster


def run(tasks: Sequence[Callable[[], Any]]) -> list:
    """``[task() for task in tasks]``, the tasks at once on as many threads, BLAS on one thread each.

    The first task runs in the calling thread, each other one in a thread of its own (with the
    caller's context variables, NumPy's error state included), joined before returning. An
    exception of any task is raised again, the same object (the first task's first).
    """
    results: list[Any] = [None] * len(tasks)
    errors: list[BaseException | None] = [None] * len(tasks)

    def target(i: int) -> None:
        _in_task.set(True)  # in this task's own copy of the context
        try:
            results[i] = tasks[i]()
        except BaseException as exc:  # handed to the caller
            errors[i] = exc

    pools = _blas()
    with blas.NO_CONTEXT if pools is None else pools.limit(limits=1):
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(target, i), daemon=True,
                                    name=f"bptt-direction-{i}") for i in range(1, len(tasks))]
        for t in threads:
            t.start()
        try:
            contextvars.copy_context().run(target, 0)
        finally:
            for t in threads:
                t.join()
    for exc in errors:
        if exc is not None:
            raise exc
    return results


def pipeline(stages: int, chunks: int, work: Callable[[int, int], None]) -> None:
    """``work(s, j)`` for every stage s < ``stages`` and chunk j < ``chunks``, in order of j within a stage,
    and stage s's chunk j only after stage s − 1's chunk j (a wavefront): even stages on the calling
    thread, odd ones on a second thread (:func:`run`). When ``work`` raises, the other thread stops at
    its next wait and the exception is raised again in the caller."""
    done = [[threading.Event() for _ in range(chunks)] for _ in range(stages)]
    failed = threading.Event()

    def stages_from(first: int) -> Callable[[], None]:
        def go() -> None:
            try:
                for s in range(first, stages, 2):
                    for j in range(chunks):
                        if s:
                            done[s - 1][j].wait()
                            if failed.is_set():
                                return
                        work(s, j)
                        done[s][j].set()
            except BaseException:
                failed.set()
                for row in done:  # release the other thread
                    for event in row:
                        event.set()
                raise
        return go

    run([stages_from(0), stages_from(1)])


def choose_wavefront(B: int, H: int, GH: int, dtype: Any) -> bool:
    """Whether the layers of a unidirectional stack run as a wavefront over chunks of steps: when forced
    (``parallel`` mode, two threads allowed), never in ``auto`` (see benchmarks/README.md)."""
    return _mode == "parallel" and allowed_threads() >= 2


def maybe_parallel(parallel: bool, tasks: Sequence[Callable[[], Any]]) -> list:
    """:func:`run` when ``parallel``, else the tasks one after the other in this thread."""
    return run(tasks) if parallel else [task() for task in tasks]


# -- the two halves of a batch at once ---------------------------------------------------------
# Rows of a batch never read each other's state, so a whole-sequence loop (kernels.*_seq) may run
# rows 0…B/2−1 and B/2…B−1 on two threads, each with a one-thread BLAS: no sync per step, and the
# elementwise half of a step (one thread in the sequential order) is split as well. Measured on the
# 2-core development host with the machine to itself, it lost: medium LSTM float32 forward+backward
# 76–78 ms against 61–66 sequential (module, in-process A/B), a 16-row half costs 62 % of the
# 32-row whole on one thread, and starting a thread under a BLAS limit costs 170–250 µs; it won
# only while other jobs loaded the machine (OpenBLAS's two threads then wait for each other). So,
# like the wavefront, ``auto`` never picks it; ``parallel`` mode (BPTT_PARALLEL=parallel) forces it.
_ROWS_MIN_BATCH = 4  # at least two rows per half (a one- or two-row product is a loop, not BLAS)


def choose_rows(B: int) -> bool:
    """Whether a whole-sequence loop runs its batch in two halves at once: only when forced (``parallel``
    mode), two threads allowed, outside another task of :func:`run`, and two rows per half."""
    return B >= _ROWS_MIN_BATCH and _mode == "parallel" and not _in_task.get() and allowed_threads() >= 2


def over_rows(split: bool, B: int, loop: Callable[[int, int], Any]) -> None:
    """``loop(0, B)``, or with ``split`` ``loop(0, B//2)`` and ``loop(B//2, B)`` at once (:func:`run`)."""
    if not split:
        loop(0, B)
        return
    h = B // 2
    run([lambda: loop(0, h), lambda: loop(h, B)])


def _two_chains_faster_at_once(B: int, H: int, GH: int, dtype: np.dtype, pools, steps: int = 32,
                               rounds: int = 5) -> bool:
    """Two chains of ``steps`` step GEMMs (+ tanh of every gate column): one after the other with the
    step loop's own BLAS choice, against both at once on two threads; ``rounds`` times alternately.
    True when at once was at least 5 % faster (tens of ms, once per shape)."""
    chains = []
    for _ in range(2):
        h = np.full((B, H), 0.5, dtype=dtype)
        W = np.full((H, GH), 1.0 / H, dtype=dtype)  # keeps h near 0.5: no overflow, no subnormals
        chains.append((h, W, np.empty((B, GH), dtype=dtype)))

    def chain(i: int) -> None:
        h, W, q = chains[i]
        for _ in range(steps):
            np.dot(h, W, out=q)
            np.tanh(q, out=q)
            h[...] = q[:, :H]

    def sequential() -> float:
        t0 = time.perf_counter()
        with blas.threads_for_loop(B, H, GH, dtype):
            chain(0)
            chain(1)
        return time.perf_counter() - t0

    def at_once() -> float:
        t0 = time.perf_counter()
        run([lambda: chain(0), lambda: chain(1)])
        return time.perf_counter() - t0

    sequential()  # warm-up
    at_once()
    seq = par = math.inf
    for _ in range(rounds):
        seq = min(seq, sequential())
        par = min(par, at_once())
    return par < 0.95 * seq
