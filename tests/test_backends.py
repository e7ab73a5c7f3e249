"""Every backend against the reference backend (the readable step pairs), through the modules.

The matrix: cell kinds × layers × directions × batch_first × lengths × bias ×
unbatched, float64, random upstream gradients for every output; every output
and every gradient of every backend available here must equal the reference
backend's to 1e-12 relative.
"""

import itertools
import os
import zlib
import subprocess
import sys

import numpy as np
import pytest

import bptt
from bptt.functional import cells
from bptt.functional.fast import BACKENDS, available, kernels, select

MATRIX = list(itertools.product(
    [k for k in cells.CELLS], [1, 2], [False, True], [False, True], ["none", "lengths", "unbatched"], [True, False],
))


def _module(kind, layers, bi, bf, bias, backend):
    return cells.get(kind).module(3, 5, num_layers=layers, bidirectional=bi, batch_first=bf, bias=bias,
                                  dtype=np.float64, seed=7, backend=backend)


def _run(m, x, lengths, rng_seed):
    rng = np.random.default_rng(rng_seed)
    out, state = m(x, lengths=lengths) if lengths is not None else m(x)
    h_n = state[0] if isinstance(state, tuple) else state
    dout = rng.standard_normal(out.shape)
    dstate = (rng.standard_normal(h_n.shape), rng.standard_normal(h_n.shape)) if isinstance(state, tuple) \
        else rng.standard_normal(h_n.shape)
    dx, dh0 = m.backward(dout, dstate)
    res = {"out": out, "dx": dx}
    for name, v in zip(("h_n", "c_n"), state if isinstance(state, tuple) else (state,)):
        res[name] = v
    for name, v in zip(("dh0", "dc0"), dh0 if isinstance(dh0, tuple) else (dh0,)):
        res[name] = v
    res.update({f"grad.{k}": v.copy() for k, v in m.grads.items()})
    return res


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("kind,layers,bi,bf,mode,bias", MATRIX)
def test_every_backend_equals_the_reference(kind, layers, bi, bf, mode, bias):
    rng = np.random.default_rng(zlib.crc32(repr((kind, layers, bi, bf, mode, bias)).encode()))
    T, B = 6, 4
    if mode == "unbatched":
        x, lengths = rng.standard_normal((T, 3)), None
    else:
        x = rng.standard_normal((B, T, 3) if bf else (T, B, 3))
        lengths = np.array([6, 2, 5, 1]) if mode == "lengths" else None
    ref = _run(_module(kind, layers, bi, bf, bias, "reference"), x, lengths, 1)
    names = [n for n in available(cells.get(kind)) if n != "reference" and not (n == "whole" and lengths is not None)]
    for backend in names + ["auto"]:
        got = _run(_module(kind, layers, bi, bf, bias, backend), x, lengths, 1)
        assert got.keys() == ref.keys()
        for k in ref:
            assert _rel(got[k], ref[k]) <= 1e-12, (backend, k, _rel(got[k], ref[k]))


def test_the_reference_backend_really_runs_the_readable_step_pair(monkeypatch):
    """The layer loop of backend="reference" calls lstm_step_forward / lstm_step_backward, once per step."""
    import bptt.functional.cells as C

    calls = {"f": 0, "b": 0}
    kind = C.get("lstm")
    fwd, bwd = kind.step_forward, kind.step_backward

    def f(*a):
        calls["f"] += 1
        return fwd(*a)

    def b(*a):
        calls["b"] += 1
        return bwd(*a)

    monkeypatch.setitem(C.CELLS, "lstm", C.CellKind("lstm", "lstm", 4, True, f, b))
    m = bptt.LSTM(3, 4, dtype=np.float64, seed=0, backend="reference")
    out, _ = m(np.ones((5, 2, 3)))
    m.backward(np.ones_like(out))
    assert calls == {"f": 5, "b": 5}


def test_select_reads_as_its_table():
    lstm, gru_tb = cells.get("lstm"), cells.get("gru-textbook")
    assert select(gru_tb, 32, 256, False).name == "reference"
    assert select(lstm, 32, 256, False, "reference").name == "reference"
    assert select(lstm, 32, 256, False, "numpy").name == "numpy"
    with kernels.disabled():
        assert select(lstm, 1, 2, False).name == "numpy"
        assert available(lstm) == ("reference", "numpy")
    if kernels.available():
        assert select(lstm, 1, 2, False).name == "whole"
        tiny_masked = select(lstm, 1, 2, True)
        assert tiny_masked.name == "fused" and tiny_masked.whole_step
        assert select(lstm, 32, 256, False).name == "whole"  # up to WHOLE_MAX_ELEMENTS (BLAS's gemm inside)
        big = select(lstm, 64, 512, False)
        assert big.name == "fused" and not big.whole_step
        assert select(lstm, 32, 256, True).name == "fused"  # lengths: the Python loop
        with pytest.raises(ValueError, match="backend: 'whole' runs sequences without lengths"):
            select(lstm, 1, 2, True, "whole")
    with pytest.raises(ValueError, match="backend: 'gru-textbook' runs on the reference backend only"):
        select(gru_tb, 4, 4, False, "numpy")


def test_bad_backend_names_the_argument():
    with pytest.raises(ValueError, match=r"backend: expected one of \('auto', 'reference'"):
        bptt.RNN(3, 4, backend="fastest")
    assert "auto" in BACKENDS


def test_environment_variable_selects_the_backend_for_the_whole_process():
    code = ("import numpy as np, bptt; m = bptt.GRU(3, 4, dtype=np.float64, seed=0); m(np.ones((3, 2, 3)));"
            "print(m._cache['caches'][0].backend.name)")
    env = {**os.environ, "BPTT_BACKEND": "reference"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "reference"
    env["BPTT_BACKEND"] = "nonsense"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "BPTT_BACKEND: expected one of" in bad.stderr
