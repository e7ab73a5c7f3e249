"""BLAS-side helpers of the fast backends: contiguous transposed weights, gate scales, the
BLAS thread count of the per-step GEMMs, and bias sums as GEMVs."""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from functools import lru_cache
from typing import Any

import numpy as np

Array = np.ndarray


@lru_cache(maxsize=64)
def gate_scale(blocks: tuple[int, ...], H: int, dtype: np.dtype) -> Array:
    """Column (G·H, 1) with ``blocks[k]`` in the rows of gate block k (read-only, cached per call site).

    The cells pre-scale their gate rows by it (−1 for σ, −2 for tanh through one exp).
    """
    s = np.repeat(np.asarray(blocks, dtype=dtype), H)[:, None]
    s.flags.writeable = False
    return s


def transposed(W: Array, scale: Array | float | None = None) -> Array:
    """A C-contiguous copy of Wᵀ (times ``scale``, a (G·H, 1) column or a number), for the step GEMM.

    The step GEMM h·W_hhᵀ is 8–25 % faster with a contiguous Wᵀ than with the
    transposed view (measured at B·H = 16·64 … 64·512). The copy goes in blocks
    of rows that stay in cache: NumPy's plain transposed copy strides through
    memory (1536 × 512 float32: 4.1 ms against 0.6 ms).
    Shapes: W (R, C) -> (C, R)
    """
    R, C = W.shape
    if R <= _TRANSPOSE_ROWS:  # one block: NumPy's own copy
        return np.ascontiguousarray(W.T) if scale is None else np.multiply(W.T, np.transpose(scale), order="C")
    out = np.empty((C, R), dtype=W.dtype if scale is None else np.result_type(W.dtype, scale))
    for i in range(0, R, _TRANSPOSE_ROWS):
        block, dst = W[i:i + _TRANSPOSE_ROWS].T, out[:, i:i + _TRANSPOSE_ROWS]
        if scale is None:
            dst[...] = block
        else:
            np.multiply(block, scale[i:i + _TRANSPOSE_ROWS].T if isinstance(scale, np.ndarray) else scale, out=dst)
    return out


_TRANSPOSE_ROWS = 64


# Rows of one call of :func:`dot_rows`.
GEMM_ROWS = 1024


def dot_rows(a: Array, b: Array, out: Array) -> Array:
    """out = a b in blocks of GEMM_ROWS rows of ``a`` (the same products: each output row is BLAS's own sum).

    Why: for a tall product, (T·B)-row inputs such as the input projection and dx, OpenBLAS packs
    the whole height at once and touches 8–16 MiB more of its work buffer, resident from then on
    (measured in a fresh process, float32 8192 × 1536 × 256: +10 MiB in one call, +1.5 MiB in
    1024-row blocks); the blocks run at the same GEMM speed.
    Shapes: a (M, K), b (K, N), out (M, N) C-contiguous -> out
    """
    M = a.shape[0]
    if M <= GEMM_ROWS:
        return np.dot(a, b, out=out)
    for i in range(0, M, GEMM_ROWS):
        np.dot(a[i:i + GEMM_ROWS], b, out=out[i:i + GEMM_ROWS])
    return out


def sum_rows(a: Array) -> Array:
    """Σ over the rows of a (N, K) array: the bias gradient summed over steps and batch.

    From 256 rows on as a GEMV with ones: 2–4× faster than ``np.add.reduce`` over
    axis 0 (BLAS uses every thread) and, in float32, more accurate (measured at
    8192 × 1536). Below, the plain reduction costs less than making the ones.
    """
    if a.shape[0] < 256:
        return np.add.reduce(a, axis=0)
    return np.dot(np.ones(a.shape[0], dtype=a.dtype), a)


# -- BLAS threads for the per-step GEMMs ---------------------------------------
# The recurrent GEMM of one step, (B × H)·(H × G·H), is small. Whether OpenBLAS should split a
# mid-sized one over its threads depends on the machine: on one 2-core host (32×256)·(256×256)
# float32 took 80 µs on one thread and 120 µs on two, on another the two were equal, and on a
# third (Intel, AVX-512) two threads made a whole medium RNN 10 % faster. So inside that band the
# layer measures instead of assuming: once per shape, dtype and thread setting in a process, a
# short chain of such GEMMs (each output feeding the next through a tanh, as in the loop) runs on
# one thread and on all, and the loop runs on one thread only if that was clearly (5 %) faster
# (threadpoolctl, an optional dependency; without it nothing is limited). Below the band
# OpenBLAS uses one thread anyway; above it every thread pays. The big GEMMs outside the loop
# always keep every thread. The results do not depend on the choice: OpenBLAS splits the
# output, not the sums (bitwise equal on the Intel host, within float32 rounding on an AMD EPYC host; tested to that).
_ONE_THREAD_BAND = (1 << 18, 1 << 22)  # B·H·G·H multiply-adds of one step
_controller: Any = None
NO_CONTEXT = nullcontext()  # reusable; one fewer object per call
_one_thread_faster: dict[tuple, bool] = {}  # (B, H, GH, dtype, threads) -> measured choice


def threads_for_loop(B: int, H: int, GH: int, dtype: np.dtype):
    """A context manager that runs the step GEMMs of a (B, H, G·H) loop on one BLAS thread when that
    was measured faster for this shape (measured once per shape, results identical); a no-op otherwise.
    """
    if not (_ONE_THREAD_BAND[0] <= B * H * GH < _ONE_THREAD_BAND[1]):
        return NO_CONTEXT
    ctl = controller()
    if ctl is None:
        return NO_CONTEXT
    blas = ctl.select(user_api="blas")
    threads = tuple(p.num_threads for p in blas.lib_controllers)
    if all(n <= 1 for n in threads):
        return NO_CONTEXT
    key = (B, H, GH, np.dtype(dtype), threads)
    one = _one_thread_faster.get(key)
    if one is None:
        one = _one_thread_faster[key] = _gemm_chain_faster_on_one_thread(B, H, GH, np.dtype(dtype), blas)
    return blas.limit(limits=1) if one else NO_CONTEXT


def controller() -> Any:
    """threadpoolctl's ThreadpoolController of this process (made once), or None without threadpoolctl."""
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controller = False
        else:
            _controller = ThreadpoolController()
    return None if _controller is False else _controller


def _gemm_chain_faster_on_one_thread(B: int, H: int, GH: int, dtype: np.dtype, blas, steps: int = 16,
                                     rounds: int = 5) -> bool:
    """Time ``steps`` chained step GEMMs on all BLAS threads and on one, ``rounds`` times
    alternately; True when one thread's best is at least 5 % faster (near a tie the BLAS keeps
    its own choice; 2–15 ms, once per shape)."""
    h = np.full((B, H), 0.5, dtype=dtype)
    W = np.full((H, GH), 1.0 / H, dtype=dtype)  # keeps h near 0.5: no overflow, no subnormals
    q = np.empty((B, GH), dtype=dtype)

    def chain() -> float:
        t0 = time.perf_counter()
        for _ in range(steps):
            np.dot(h, W, out=q)
            np.tanh(q[:, :H], out=h)
        return time.perf_counter() - t0

    chain()  # warm-up
    every = one = math.inf
    for _ in range(rounds):
        every = min(every, chain())
        with blas.limit(limits=1):
            one = min(one, chain())
    return one < 0.95 * every




# -- BLAS's gemm for the compiled loops ----------------------------------------------
# The whole-sequence loops (kernels.*_seq) call the step GEMM from inside numba, where np.dot
# would need SciPy. NumPy's wheels bring their BLAS as a shared library (scipy-openblas, 64-bit
# integers, symbols ``scipy_cblas_dgemm64_`` …); its cblas_?gemm, loaded with ctypes, is passed
# into the loop as a function (numba calls a ctypes function in nopython mode). Only a library
# whose symbol names say 64-bit integers is used; otherwise None and the loops are not offered
# beyond the tiniest layers (their hand-written product needs no BLAS).
_GEMM_NAMES = ("scipy_cblas_{}gemm64_", "cblas_{}gemm64_", "cblas_{}gemm_64")
_gemm: dict = {}


def _blas_libraries() -> list[str]:
    """Paths of the BLAS NumPy loaded: threadpoolctl's record, else the libraries bundled in NumPy's wheel."""
    import glob
    import os

    paths = []
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        paths = [i["filepath"] for i in threadpool_info() if i.get("user_api") == "blas"]
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    return paths + sorted(glob.glob(os.path.join(libs, "*blas*")))


def cblas_gemm(dtype: Any):
    """cblas_sgemm / cblas_dgemm of NumPy's BLAS as a ctypes function (64-bit integers), or None.

    Signature: (order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), as
    :func:`.kernels.mm` calls it.
    """
    dtype = np.dtype(dtype)
    if dtype.char not in "fd":
        return None
    if dtype.char not in _gemm:
        _gemm[dtype.char] = _find_gemm(dtype.char)
    return _gemm[dtype.char]


def _find_gemm(char: str):
    import ctypes

    real = ctypes.c_float if char == "f" else ctypes.c_double
    ptr, i32, i64 = ctypes.POINTER(real), ctypes.c_int, ctypes.c_int64
    prefix = "s" if char == "f" else "d"
    for path in _blas_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for pattern in _GEMM_NAMES:
            fn = getattr(lib, pattern.format(prefix), None)
            if fn is not None:
                fn.restype = None
                fn.argtypes = [i32, i32, i32, i64, i64, i64, real, ptr, i64, ptr, i64, real, ptr, i64]
                return fn
    return None
