"""One library in its own process: ``python .../bptt/bench/worker.py --lib bptt|torch --threads N``.

The orchestrator (:mod:`bptt.bench.run`) talks to it with one JSON object per
line on stdin/stdout. Thread counts come in through the environment (set before
NumPy or torch is imported) and are enforced again after import with
threadpoolctl and ``torch.set_num_threads``. Requests:

    {"op": "info"}                                   -> versions and thread pools
    {"op": "setup", "cell", "dtype", "config", "seed"} -> builds model, inputs, loss weights
    {"op": "check"}                                  -> loss and gradient checksums (cross-library sanity)
    {"op": "warmup", "min_time"}                     -> runs, returns iterations per sample for that min_time
    {"op": "sample", "number"}                       -> seconds per forward+backward, mean of `number` runs
    {"op": "gemm", "shapes", "dtype", "min_time"}    -> seconds per GEMM of each (count, m, k, n) shape
    {"op": "memory", "cell", "dtype", "config", "seed"} -> peak and kept bytes (bptt.bench.memory; fresh worker)
    {"op": "quit"}

The torch worker never imports bptt's NumPy path and the bptt worker never
imports torch, so neither library's thread pools or allocator touch the other.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import math
import os
import sys
import time

if __package__:
    from .configs import CONFIGS, GATES
    from .memory import measure as measure_memory
else:  # run as a file by the orchestrator, so that bptt itself may come from another checkout
    from configs import CONFIGS, GATES
    from memory import measure as measure_memory


def _param_arrays(np, cfg, cell: str, dtype, seed: int) -> dict:
    """torch's default init U(−1/√H, 1/√H), drawn identically in both workers."""
    rng = np.random.default_rng(seed)
    G, H, D = GATES[cell], cfg.H, getattr(cfg, "D", 1)
    k = 1.0 / math.sqrt(H)
    params = {}
    for layer in range(cfg.L):
        I = cfg.I if layer == 0 else D * H
        for sfx in (f"_l{layer}", f"_l{layer}_reverse")[:D]:
            params[f"weight_ih{sfx}"] = rng.uniform(-k, k, (G * H, I)).astype(dtype)
            params[f"weight_hh{sfx}"] = rng.uniform(-k, k, (G * H, H)).astype(dtype)
            params[f"bias_ih{sfx}"] = rng.uniform(-k, k, (G * H,)).astype(dtype)
            params[f"bias_hh{sfx}"] = rng.uniform(-k, k, (G * H,)).astype(dtype)
    return params


def _data(np, cfg, cell: str, dtype, seed: int) -> dict:
    """Input and loss weights (time-major), drawn identically in both workers."""
    rng = np.random.default_rng(seed + 1)
    B, T, I, H, L = cfg.B, cfg.T, cfg.I, cfg.H, cfg.L
    D = getattr(cfg, "D", 1)
    d = {
        "x": rng.standard_normal((T, B, I)).astype(dtype),
        "w_out": rng.standard_normal((T, B, D * H)).astype(dtype),
        "w_h": rng.standard_normal((L * D, B, H)).astype(dtype),
    }
    if cell == "lstm":
        d["w_c"] = rng.standard_normal((L * D, B, H)).astype(dtype)
    d["probe_x"] = rng.standard_normal((T, B, I))  # for the gradient checksum
    return d


class BpttBench:
    """bptt's side of a benchmark: a layer with the shared weights, one forward + backward per ``step``."""

    def __init__(self, cell: str, dtype: str, cfg, seed: int) -> None:
        import numpy as np

        from bptt import nn as bnn

        cls = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cell]
        if not hasattr(bnn, cls):
            raise NotImplementedError(f"bptt has no nn.{cls} yet")
        self.np = np
        self.cell = cell
        dt = np.dtype(dtype)
        kw = {"nonlinearity": "tanh"} if cell == "rnn" else {}
        if getattr(cfg, "bidirectional", False):
            kw["bidirectional"] = True
        self.model = getattr(bnn, cls)(cfg.I, cfg.H, num_layers=cfg.L, dtype=dt, **kw)
        self.model.load_state_dict(_param_arrays(np, cfg, cell, dt, seed))
        self.d = _data(np, cfg, cell, dt, seed)

    def step(self):
        """One forward and backward of L = Σ⟨w_out, out⟩ + Σ⟨w_h, h_n⟩ (+ Σ⟨w_c, c_n⟩); returns (L, ∂L/∂x)."""
        self.forward()
        return self.backward()

    def forward(self) -> None:
        """The forward half of ``step`` (the memory measurement looks between the halves)."""
        np, d, m = self.np, self.d, self.model
        m.zero_grad()
        out, state = m(d["x"])
        if self.cell == "lstm":
            h_n, c_n = state
            self.loss = np.vdot(out, d["w_out"]) + np.vdot(h_n, d["w_h"]) + np.vdot(c_n, d["w_c"])
        else:
            self.loss = np.vdot(out, d["w_out"]) + np.vdot(state, d["w_h"])

    def backward(self):
        """The backward half of ``step``; returns (L, ∂L/∂x)."""
        d, m = self.d, self.model
        dstate = (d["w_h"], d["w_c"]) if self.cell == "lstm" else d["w_h"]
        dx, _ = m.backward(d["w_out"], dstate)
        return self.loss, dx

    def check(self) -> dict:
        """Loss, a probe of ∂L/∂x and Σ ∂L/∂W_hh_l0 in float64: compared with torch's before timing."""
        loss, dx = self.step()
        np = self.np
        g = self.model.grads["weight_hh_l0"]
        return {"loss": float(loss), "dx": float(np.vdot(dx.astype(np.float64), self.d["probe_x"])),
                "dW_hh_l0": float(np.sum(g.astype(np.float64)))}


class TorchBench:
    """torch's side of a benchmark: the same layer, weights and loss as BpttBench, with autograd."""

    def __init__(self, cell: str, dtype: str, cfg, seed: int) -> None:
        import numpy as np
        import torch

        self.torch = torch
        self.cell = cell
        dt = np.dtype(dtype)
        tdt = {"float32": torch.float32, "float64": torch.float64}[dtype]
        cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        kw = {"nonlinearity": "tanh"} if cell == "rnn" else {}
        self.model = cls(cfg.I, cfg.H, num_layers=cfg.L, dtype=tdt, bidirectional=getattr(cfg, "bidirectional", False),
                         **kw)
        self.model.load_state_dict({k: torch.from_numpy(v) for k, v in _param_arrays(np, cfg, cell, dt, seed).items()})
        d = _data(np, cfg, cell, dt, seed)
        self.x = torch.from_numpy(d["x"]).requires_grad_(True)
        self.w = {k: torch.from_numpy(v) for k, v in d.items()}

    def step(self):
        """One forward and backward of the same loss with autograd; returns (L, ∂L/∂x)."""
        self.forward()
        return self.backward()

    def forward(self) -> None:
        """The forward half of ``step``: the loss, with its graph."""
        m, x, w = self.model, self.x, self.w
        m.zero_grad(set_to_none=True)
        x.grad = None
        out, state = m(x)
        if self.cell == "lstm":
            h_n, c_n = state
            self.loss = (out * w["w_out"]).sum() + (h_n * w["w_h"]).sum() + (c_n * w["w_c"]).sum()
        else:
            self.loss = (out * w["w_out"]).sum() + (state * w["w_h"]).sum()

    def backward(self):
        """The backward half of ``step``; returns (L, ∂L/∂x)."""
        loss, self.loss = self.loss, None
        loss.backward()
        return loss, self.x.grad

    def check(self) -> dict:
        """Loss, a probe of ∂L/∂x and Σ ∂L/∂W_hh_l0 in float64, as BpttBench.check."""
        torch = self.torch
        loss, dx = self.step()
        g = self.model.weight_hh_l0.grad
        return {"loss": float(loss.detach()), "dx": float((dx.double() * self.w["probe_x"]).sum()),
                "dW_hh_l0": float(g.double().sum())}


def _thread_info(lib: str) -> dict:
    info = {"env": {k: os.environ.get(k) for k in
                    ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}}
    try:
        import threadpoolctl

        info["threadpools"] = [
            {k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "version", "architecture", "threading_layer")}
            for p in threadpoolctl.threadpool_info()
        ]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    if lib == "torch":
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["torch_interop_threads"] = torch.get_num_interop_threads()
    return info


TIMER = time.perf_counter


def _timed(fn, number: int) -> float:
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        t0 = TIMER()
        for _ in range(number):
            fn()
        return (TIMER() - t0) / number
    finally:
        if was:
            gc.enable()


def _gemm_times(shapes, dtype: str, min_time: float) -> list[float]:
    """Seconds of one ``(m×k)·(k×n)`` np.dot per shape: NumPy's own speed at bptt's sizes."""
    import numpy as np

    rng = np.random.default_rng(0)
    times = []
    for _, m, k, n in shapes:
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        out = np.empty((m, n), dtype=dtype)
        fn = lambda: np.dot(a, b, out=out)  # noqa: E731
        fn()
        t1 = _timed(fn, 1)
        number = max(1, int(min_time / max(t1, 1e-7)))
        times.append(min(_timed(fn, number) for _ in range(5)))
    return times


def main() -> None:
    """The worker process: read JSON requests on stdin (setup, check, time, quit), answer on stdout."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", choices=("bptt", "torch"), required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--timer", choices=("wall", "cpu"), default="wall")
    args = ap.parse_args()
    global TIMER
    # cpu: this process's CPU time (all its threads) — robust to other load on the
    # machine, equal to wall time only with one thread.
    TIMER = time.perf_counter if args.timer == "wall" else time.process_time

    import numpy as np  # noqa: F401  (after the thread environment is set)

    limiter = None
    try:
        import threadpoolctl

        limiter = threadpoolctl.threadpool_limits(limits=args.threads)  # noqa: F841 (kept alive)
    except ImportError:
        pass
    if args.lib == "torch":
        import torch

        torch.set_num_threads(args.threads)
    bench = None
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        try:
            if op == "quit":
                break
            if op == "info":
                import numpy

                res = {"numpy": numpy.__version__, "python": sys.version.split()[0], **_thread_info(args.lib)}
                if args.lib == "torch":
                    import torch

                    res["torch"] = torch.__version__
                else:
                    import bptt

                    res["bptt"] = getattr(bptt, "__version__", "?")
                    res["bptt_path"] = os.path.dirname(bptt.__file__)
            elif op == "setup":
                cls = BpttBench if args.lib == "bptt" else TorchBench
                bench = None
                gc.collect()
                bench = cls(req["cell"], req["dtype"], CONFIGS[req["config"]], req["seed"])
                res = {}
            elif op == "check":
                res = bench.check()
            elif op == "warmup":
                t_end = TIMER() + req["min_time"]
                n = 0
                while n < 2 or TIMER() < t_end:
                    t1 = _timed(bench.step, 1)
                    n += 1
                res = {"number": max(1, int(req["sample_time"] / t1)), "iterations": n}
            elif op == "sample":
                res = {"seconds": _timed(bench.step, req["number"])}
            elif op == "memory":  # in a fresh worker: see bptt.bench.memory
                cls = BpttBench if args.lib == "bptt" else TorchBench
                cfg = CONFIGS[req["config"]]
                res = measure_memory(
                    args.lib, lambda: cls(req["cell"], req["dtype"], cfg, req["seed"]),
                    lambda: cls(req["cell"], req["dtype"], dataclasses.replace(cfg, T=2), req["seed"]))
            elif op == "gemm":
                res = {"seconds": _gemm_times(req["shapes"], req["dtype"], req["min_time"])}
            else:
                raise ValueError(f"unknown op {op!r}")
            out = {"ok": True, **res}
        except NotImplementedError as exc:
            out = {"ok": False, "skip": str(exc)}
        except Exception as exc:  # report, keep serving
            out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
