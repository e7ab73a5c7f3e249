"""The benchmark orchestrator: ``bptt bench [--quick] [...]`` (or ``python -m bptt.bench``).

bptt and torch each run in their own worker process (:mod:`bptt.bench.worker`),
with the same thread count, set through the environment before import and
again with threadpoolctl / ``torch.set_num_threads`` (both printed). For each
(config, cell, dtype): both build the same weights and data, a checksum of the
loss and gradients is compared (so both really do the same work), both warm
up, and then samples are taken alternately — bptt, torch, torch, bptt, … — so
that drift of the machine hits both. A sample is the mean time of enough
forward+backward runs to fill ``--sample-time``; the table shows the median
and the min–max over ``--samples`` samples.

GFLOP/s count GEMM FLOPs only (:func:`bptt.bench.configs.gemm_flops`). The
"NumPy GEMM" column is the practical ceiling: the same GEMM shapes bptt runs,
each timed alone with ``np.dot`` in the bptt process, FLOP-weighted.

Memory (:mod:`bptt.bench.memory`; ``--no-memory`` skips it, ``--memory-only`` measures
nothing else): per row, each library once more in a fresh worker process, peak RSS of
forward+backward (bptt also by tracemalloc), bptt/torch, and the bytes per step bptt's
forward keeps against the minimum the equations need.

Results go to ``bench-results/<label>.json`` under the current directory
(``--out`` for another path); ``--show FILE
[--baseline FILE]`` prints a saved run (against another).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import memory
from .configs import (CACHE_TARGET, CELLS, CONFIGS, DTYPES, LARGE_GEMM_FRACTION, MEMORY_TARGET, MEMORY_TARGET_CONFIGS,
                      TARGETS, gemm_flops, gemm_shapes)

WORKER = Path(__file__).resolve().with_name("worker.py")
SRC = Path(__file__).resolve().parents[2]  # the folder holding the bptt package
RESULTS = "bench-results"  # under the current directory, never inside the package
CHECKOUT = SRC.parent  # the source checkout when bptt runs from its src/ folder (result files name paths from here)


class Worker:
    """A library in its own process, driven by JSON lines."""

    def __init__(self, lib: str, threads: int, keep_openblas_env: bool, src: str | None = None,
                 timer: str = "wall", extra_env: dict | None = None) -> None:
        env = {**os.environ, **(extra_env or {})}
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(threads)
        if not keep_openblas_env:
            # Set on some machines for old OpenBLAS builds; they slow a current NumPy.
            env.pop("OPENBLAS_CORETYPE", None)
            env.pop("OPENBLAS_L2_SIZE", None)
        # ``src``: benchmark another checkout of bptt (e.g. the code before a change).
        # The worker runs as a file, not as ``bptt.bench.worker``: the bptt it imports comes from
        # ``src`` first, and that may be a checkout without this harness.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, str(SRC), env.get("PYTHONPATH")) if p)
        self.lib = lib
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), "--lib", lib, "--threads", str(threads), "--timer", timer],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )

    def ask(self, **req) -> dict:
        """Send one JSON request to the worker process and return its JSON answer (RuntimeError if it died)."""
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.lib} worker died (exit code {self.proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        """Ask the worker to quit and wait for it."""
        try:
            self.ask(op="quit")
        except (BrokenPipeError, RuntimeError, json.JSONDecodeError):
            pass
        self.proc.wait(timeout=30)


def _stats(xs: list[float]) -> dict:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "samples": xs}


def samples_median(xs: list[float]) -> float:
    """The median of the samples."""
    return statistics.median(xs)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-30)


def fmt_time(s: float) -> str:
    """A duration in µs, ms or s."""
    if s < 1e-3:
        return f"{s * 1e6:.1f}µs"
    if s < 1:
        return f"{s * 1e3:.2f}ms"
    return f"{s:.2f}s"


def fmt_spread(st: dict) -> str:
    """``median [min–max]`` of a sample summary, with units."""
    return f"{fmt_time(st['median'])} [{fmt_time(st['min'])}–{fmt_time(st['max'])}]"


def bench_one(workers: dict, config: str, cell: str, dtype: str, args, gemm_cache: dict) -> dict:
    """Benchmark one (config, cell, dtype): checksums compared first, then alternated samples of each library; returns
    the result row.
    """
    cfg = CONFIGS[config]
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    row = {"config": config, "cell": cell, "dtype": dtype, "threads": args.threads, **{k: v for k, v in cfg.as_dict().items() if k != "name"}}
    for lib, w in workers.items():
        r = w.ask(op="setup", cell=cell, dtype=dtype, config=config, seed=args.seed)
        if not r["ok"]:
            row["skipped"] = f"{lib}: {r.get('skip') or r.get('error')}"
            return row
    checks = {lib: w.ask(op="check") for lib, w in workers.items()}
    for lib, c in checks.items():
        if not c["ok"]:
            row["skipped"] = f"{lib}: {c.get('error')}"
            return row
    tol = 1e-3 if dtype == "float32" else 1e-8
    worst = max(_rel(checks[lib][k], checks["torch"][k]) for k in ("loss", "dx", "dW_hh_l0") for lib in checks
                if lib != "torch")
    row["check_max_rel_diff"] = worst
    row["check_ok"] = worst <= tol
    numbers = {}
    for lib, w in workers.items():
        time.sleep(args.gap)
        numbers[lib] = w.ask(op="warmup", min_time=args.warmup, sample_time=args.sample_time)["number"]
    samples = {lib: [] for lib in workers}
    libs = list(workers)
    last = None
    for r in range(args.samples):
        for lib in (libs if r % 2 == 0 else libs[::-1]):
            if last is not None and last != lib:
                # The other library's thread pools spin-wait for a while after their last
                # parallel region (OpenBLAS ~0.1 s, Intel OpenMP's KMP_BLOCKTIME 0.2 s):
                # let them fall asleep before timing this one.
                time.sleep(args.gap)
            samples[lib].append(workers[lib].ask(op="sample", number=numbers[lib])["seconds"])
            last = lib
    row["bptt"] = {**_stats(samples["bptt"]), "number": numbers["bptt"]}
    row["torch"] = {**_stats(samples["torch"]), "number": numbers["torch"]}
    if "base" in samples:
        row["base"] = {**_stats(samples["base"]), "number": numbers["base"]}
        row["ratio_base"] = row["torch"]["median"] / row["base"]["median"]
        row["speedup_vs_base"] = row["base"]["median"] / row["bptt"]["median"]
    row["ratio"] = row["torch"]["median"] / row["bptt"]["median"]
    row["ratio_range"] = [row["torch"]["min"] / row["bptt"]["max"], row["torch"]["max"] / row["bptt"]["min"]]
    row["target"] = TARGETS.get((config, cell))
    flops = gemm_flops(cfg, cell)
    row["gemm_flops"] = flops
    row["bptt_gflops"] = flops / row["bptt"]["median"] / 1e9
    row["torch_gflops"] = flops / row["torch"]["median"] / 1e9
    key = (config, cell, dtype)
    if key not in gemm_cache:
        # Twice, best of both per shape: a ceiling must not be lowered by a moment of other load.
        shapes = gemm_shapes(cfg, cell)
        secs = [workers["bptt"].ask(op="gemm", shapes=shapes, dtype=dtype, min_time=args.gemm_time)["seconds"]
                for _ in range(2)]
        gemm_cache[key] = sum(c * min(a, b) for (c, *_), a, b in zip(shapes, *secs))
    row["numpy_gemm_seconds"] = gemm_cache[key]
    row["numpy_gemm_gflops"] = flops / gemm_cache[key] / 1e9
    row["fraction_of_gemm"] = row["bptt_gflops"] / row["numpy_gemm_gflops"]
    row["ceiling"] = ceiling(row)
    row["loadavg_1min"] = [load0, os.getloadavg()[0] if load0 is not None else None]
    row["met"] = row["target"] is None or row["ratio"] >= row["target"]
    if config == "large":
        row["met"] = row["met"] and row["fraction_of_gemm"] >= LARGE_GEMM_FRACTION
    return row


def memory_row(config: str, cell: str, dtype: str, args) -> dict:
    """Peak and kept memory of bptt and torch for one row, each in a fresh worker (:mod:`bptt.bench.memory`);
    the ratios against torch and against the equations' minimum, and whether the targets are met."""
    cfg = CONFIGS[config]
    res = {}
    for lib in ("bptt", "torch"):
        w = Worker(lib, args.threads, args.keep_openblas_env, args.bptt_src if lib == "bptt" else None, args.timer,
                   extra_env=memory.MALLOC_ENV)
        try:
            r = w.ask(op="memory", cell=cell, dtype=dtype, config=config, seed=args.seed)
        finally:
            w.close()
        if not r.pop("ok"):
            return {"skipped": f"{lib}: {r.get('skip') or r.get('error')}"}
        res[lib] = r
    return memory_summary(res["bptt"], res["torch"], config, cell, dtype)


def memory_summary(bptt: dict, torch: dict, config: str, cell: str, dtype: str) -> dict:
    """The memory fields of a row from both workers' measurements (bytes; ratios; targets)."""
    cfg = CONFIGS[config]
    itemsize = 4 if dtype == "float32" else 8
    m = {"method": "rss: VmHWM - VmRSS over two forward+backward of a fresh model, fresh worker, "
                   "MALLOC_MMAP_THRESHOLD_ fixed; traced: tracemalloc (bptt only)",
         "bptt": bptt, "torch": torch,
         "min_cache_bytes_per_step": memory.min_cache_bytes_per_step(cell, cfg.B, cfg.H, cfg.L * cfg.D, itemsize)}
    if bptt.get("rss_peak") and torch.get("rss_peak"):
        m["ratio"] = bptt["rss_peak"] / torch["rss_peak"]
    if bptt.get("traced_kept") is not None:
        m["cache_bytes_per_step"] = bptt["traced_kept"] / cfg.T
        m["cache_ratio"] = m["cache_bytes_per_step"] / m["min_cache_bytes_per_step"]
    if torch.get("rss_kept") is not None:
        m["torch_kept_bytes_per_step"] = torch["rss_kept"] / cfg.T
    m["target"] = MEMORY_TARGET if config in MEMORY_TARGET_CONFIGS else None
    m["cache_target"] = CACHE_TARGET
    m["met"] = ((m["target"] is None or m.get("ratio", float("inf")) <= m["target"])
                and m.get("cache_ratio", float("inf")) <= CACHE_TARGET)
    return m


def ceiling(row: dict) -> float:
    """torch's time over the time of bptt's GEMMs alone at NumPy's speed: the best ratio any
    NumPy implementation could reach on this machine (a target above it needs a faster BLAS)."""
    return row["torch"]["median"] / row["numpy_gemm_seconds"]


HEADER = (f"{'config':<7} {'cell':<5} {'dtype':<8} {'bptt median [min–max]':<30} {'torch median [min–max]':<30} "
          f"{'torch/bptt':>10} {'target':>6} {'ceiling':>7} {'bptt GF/s':>9} {'NumPy GEMM':>10} {'%GEMM':>6}  ok")
# Memory columns (bptt.bench.memory): peak RSS of each, bptt/torch, and bptt's kept bytes per step
# against the equations' minimum.
MEMORY_HEADER = (f"{'bptt MiB':>9} {'torch MiB':>9} {'bptt/torch':>10} {'cache/step':>10} {'minimum':>10} "
                 f"{'cache/min':>9}  mem ok")
MEMORY_ONLY_HEADER = f"{'config':<7} {'cell':<5} {'dtype':<8} " + MEMORY_HEADER


def fmt_bytes(n: float | None) -> str:
    """A size in B, KiB or MiB ("-" for None)."""
    if n is None:
        return "-"
    if abs(n) < 1024:
        return f"{n:.0f}B"
    if abs(n) < 1 << 20:
        return f"{n / 1024:.1f}KiB"
    return f"{n / 2**20:.1f}MiB"


def format_memory(mem: dict) -> str:
    """The memory columns of a row (see MEMORY_HEADER)."""
    if "skipped" in mem:
        return f"memory skipped ({mem['skipped']})"
    mib = lambda b: "-" if b is None else f"{b / 2**20:.1f}"  # noqa: E731
    num = lambda x, f: "-" if x is None else format(x, f) + "×"  # noqa: E731
    ok = "yes" if mem["met"] else "NO"
    if mem.get("target"):
        ok += f" (≤ {mem['target']}× torch)"
    return (f"{mib(mem['bptt'].get('rss_peak')):>9} {mib(mem['torch'].get('rss_peak')):>9} "
            f"{num(mem.get('ratio'), '.2f'):>10} {fmt_bytes(mem.get('cache_bytes_per_step')):>10} "
            f"{fmt_bytes(mem['min_cache_bytes_per_step']):>10} {num(mem.get('cache_ratio'), '.2f'):>9}  {ok}")


def format_row(row: dict, baseline: dict | None = None) -> str:
    """One result row as a line of the table (ratio, target, ceiling, GF/s, flags)."""
    head = f"{row['config']:<7} {row['cell']:<5} {row['dtype']:<8} "
    if "skipped" in row:
        return head + f"skipped ({row['skipped']})"
    if "bptt" not in row:  # --memory-only
        return head + format_memory(row["memory"])
    tgt = f"{row['target']:.1f}×" if row.get("target") else "-"
    top = ceiling(row)
    ok = ("yes" if row["met"] else "NO") + ("" if row.get("check_ok", True) else " (CHECKSUM MISMATCH)")
    if not row["met"] and row.get("target") and top < row["target"]:
        ok += " (target above the ceiling)"
    s = (head + f"{fmt_spread(row['bptt']):<30} {fmt_spread(row['torch']):<30} {row['ratio']:>9.2f}× {tgt:>6} "
         f"{top:>6.2f}× {row['bptt_gflops']:>9.2f} {row['numpy_gemm_gflops']:>10.2f} "
         f"{100 * row['fraction_of_gemm']:>5.0f}%  {ok}")
    if "memory" in row:
        s += "  | " + format_memory(row["memory"])
    load = row.get("loadavg_1min") or [None]
    if load[0] is not None and max(load) > row_threads(row) + 1.0:
        s += f"  [busy machine: load {max(load):.1f}]"
    if "base" in row:
        s += (f"   | before: {fmt_spread(row['base'])} {row['ratio_base']:.2f}×, "
              f"now {row['speedup_vs_base']:.2f}× faster")
    if baseline is not None and "bptt" in baseline:
        s += f"   (before: {baseline['ratio']:.2f}×, bptt {baseline['bptt']['median'] / row['bptt']['median']:.2f}× faster)"
    return s


def row_threads(row: dict) -> int:
    """The thread count a row was measured with."""
    return row.get("threads", os.cpu_count() or 1)


def print_table(result: dict, baseline: dict | None = None) -> None:
    """Print a results dict as the table (with a baseline's columns when given)."""
    meta = result["meta"]
    print(f"# {meta.get('label', '')}  {meta['date']}  commit {meta.get('commit', '?')}  threads={meta['threads']}  "
          f"timer={meta.get('timer', 'wall')}  cpu: {meta.get('cpu', '?')}")
    base = {}
    if baseline:
        base = {(r["config"], r["cell"], r["dtype"]): r for r in baseline["rows"]}
    rows = result["rows"]
    print(table_header(any("bptt" in r for r in rows) or not rows, any("memory" in r for r in rows)))
    for row in result["rows"]:
        print(format_row(row, base.get((row["config"], row["cell"], row["dtype"])) if baseline else None))
    print(targets_line(result["rows"]))


def table_header(timed: bool, memory_columns: bool) -> str:
    """The header line: timing columns, memory columns after them when measured (alone with --memory-only)."""
    if not timed:
        return MEMORY_ONLY_HEADER
    return HEADER + ("  | " + MEMORY_HEADER if memory_columns else "")


def targets_line(rows: list[dict]) -> str:
    """How many time targets and memory targets the rows met."""
    done = [r for r in rows if "met" in r]
    mem = [r["memory"] for r in rows if "met" in r.get("memory", {})]
    s = f"targets met: {sum(r['met'] for r in done)}/{len(done)}" if done else ""
    if mem:
        s += ("; " if s else "") + f"memory targets met: {sum(m['met'] for m in mem)}/{len(mem)}"
    return s or "targets met: 0/0"


def _git(cwd: Path, *cmd: str) -> str:
    try:
        return subprocess.run(["git", *cmd], cwd=cwd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _commit(checkout: Path = CHECKOUT) -> str:
    """Short commit of a checkout, ``-dirty`` when its src/ has uncommitted changes, ``?`` outside git."""
    head = _git(checkout, "rev-parse", "--short", "HEAD") or "?"
    return head + ("-dirty" if _git(checkout, "status", "--porcelain", "--", "src") else "")


def source_label(path: str | None) -> str | None:
    """A source folder as a result file records it: relative to this checkout, never one machine's path.

    A folder outside the checkout (``--base-src``: another checkout, e.g. the code before a change)
    is recorded by its commit: ``other checkout at <commit>/<folder inside it>``; one outside any
    git checkout (an installed bptt) by its name only.
    """
    if path is None:
        return None
    p = Path(path).resolve()
    try:
        if _git(CHECKOUT, "rev-parse", "--show-toplevel"):  # relative to a checkout only when there is one
            return p.relative_to(CHECKOUT.resolve()).as_posix()
    except ValueError:
        pass
    top = _git(p if p.is_dir() else p.parent, "rev-parse", "--show-toplevel")
    if not top:
        return f"{p.name} (not in a git checkout)"
    return f"other checkout at {_commit(Path(top))}/{p.relative_to(Path(top).resolve()).as_posix()}"


def _meta(args, infos: dict) -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "?"
    workers = {lib: {**info, "bptt_path": source_label(info["bptt_path"])} if "bptt_path" in info else info
               for lib, info in infos.items()}
    return {
        "label": args.label, "date": _dt.datetime.now().isoformat(timespec="seconds"), "commit": _commit(),
        "cpu": cpu, "cores": os.cpu_count(), "threads": args.threads, "timer": args.timer, "samples": args.samples,
        "bptt_src": source_label(args.bptt_src), "base_src": source_label(args.base_src), "sample_time": args.sample_time,
        "warmup": args.warmup, "quick": args.quick, "workers": workers,
    }


def parse_args(argv=None):
    """The benchmark's options parsed from ``argv``."""
    ap = argparse.ArgumentParser(prog="python -m bptt.bench", description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    return ap.parse_args(argv)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """Add the benchmark's options to ``ap`` (shared by ``python -m benchmarks`` and ``bptt bench``)."""
    ap.add_argument("--quick", action="store_true", help="tiny/small/medium only, short samples (a smoke run)")
    ap.add_argument("--configs", default=None, help=f"comma list of {','.join(CONFIGS)}")
    ap.add_argument("--cells", default=",".join(CELLS), help="comma list of rnn,lstm,gru")
    ap.add_argument("--dtypes", default=",".join(DTYPES), help="comma list of float32,float64")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for both libraries")
    ap.add_argument("--samples", type=int, default=7, help="samples per library (≥ 7 for a real run)")
    ap.add_argument("--sample-time", type=float, default=None, help="seconds per sample (default 0.2, quick 0.05)")
    ap.add_argument("--warmup", type=float, default=None, help="seconds of warm-up (default 0.5, quick 0.1)")
    ap.add_argument("--gemm-time", type=float, default=0.05, help="seconds per GEMM-ceiling measurement")
    ap.add_argument("--timer", choices=("wall", "cpu"), default="wall",
                    help="wall clock (the real measure), or CPU time of each worker process: robust to other "
                         "load on the machine, and equal to wall time with --threads 1")
    ap.add_argument("--gap", type=float, default=0.3,
                    help="seconds of pause before switching library (lets the other's spinning threads sleep)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the weights and data (default 0)")
    ap.add_argument("--label", default=None,
                    help="name of the JSON file under ./bench-results/ (default: DATE_COMMIT, e.g. 2026-12-02_b02131d)")
    ap.add_argument("--out", default=None, help="JSON path (overrides --label)")
    ap.add_argument("--no-save", action="store_true", help="print only")
    ap.add_argument("--keep-openblas-env", action="store_true",
                    help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (by default they are unset in the workers)")
    ap.add_argument("--bptt-src", default=None, metavar="DIR",
                    help="import bptt from DIR (a src/ folder of another checkout) instead of this one")
    ap.add_argument("--base-src", default=None, metavar="DIR",
                    help="also time bptt from DIR (e.g. the code before a change) in the same run, alternated")
    ap.add_argument("--no-memory", action="store_true",
                    help="skip the memory measurement (two fresh worker processes per row; bptt.bench.memory)")
    ap.add_argument("--memory-only", action="store_true",
                    help="measure memory only (peak and kept bytes, no timing): a few seconds per row")
    ap.add_argument("--update", default=None, metavar="FILE",
                    help="re-measure the selected rows and replace them in this saved result")
    ap.add_argument("--show", default=None, metavar="FILE", help="print a saved result and exit")
    ap.add_argument("--baseline", default=None, metavar="FILE", help="saved result to compare against")


def run(args) -> int:
    """Run (or, with ``--show``, print) a benchmark from parsed options; returns the exit status."""
    baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else None
    if args.show:
        print_table(json.loads(Path(args.show).read_text()), baseline)
        return 0
    configs = args.configs.split(",") if args.configs else (["tiny", "small", "medium"] if args.quick else list(CONFIGS))
    cells, dtypes = args.cells.split(","), args.dtypes.split(",")
    for name, vals, allowed in (("configs", configs, CONFIGS), ("cells", cells, CELLS), ("dtypes", dtypes, DTYPES)):
        bad = [v for v in vals if v not in allowed]
        if bad:
            raise ValueError(f"--{name}: expected values from {tuple(allowed)}, got {bad}")
    if args.samples < 1 or args.threads < 1:
        raise ValueError(f"--samples and --threads: expected ≥ 1, got {args.samples} and {args.threads}")
    if args.sample_time is None:
        args.sample_time = 0.05 if args.quick else 0.2
    if args.warmup is None:
        args.warmup = 0.1 if args.quick else 0.5
    if args.label is None:  # named by date and commit: what was measured, and when
        args.label = _dt.datetime.now().strftime("%Y-%m-%d") + "_" + _commit() + ("_quick" if args.quick else "")

    if args.memory_only and args.no_memory:
        raise ValueError("--memory-only and --no-memory: expected at most one of them, got both")
    workers = {} if args.memory_only else {
        lib: Worker(lib, args.threads, args.keep_openblas_env, args.bptt_src if lib == "bptt" else None, args.timer)
        for lib in ("bptt", "torch")}
    if args.base_src and not args.memory_only:
        workers["base"] = Worker("bptt", args.threads, args.keep_openblas_env, args.base_src, args.timer)
    try:
        infos = {lib: w.ask(op="info") for lib, w in workers.items()}
        for lib, info in infos.items():
            pools = info.get("threadpools")
            pools = pools if isinstance(pools, str) else ", ".join(
                f"{p['internal_api']} {p.get('version')} ({p.get('architecture')}) {p['num_threads']} threads" for p in pools)
            extra = (f", torch {info['torch']} intra-op threads {info['torch_threads']}" if lib == "torch"
                     else f", bptt from {source_label(info.get('bptt_path'))}")
            print(f"{lib:<5} worker: numpy {info['numpy']}{extra}; pools: {pools}", flush=True)
        result = {"meta": _meta(args, infos), "rows": []}
        path = None if args.no_save else (Path(args.out) if args.out else Path(RESULTS) / f"{args.label}.json")
        if args.update:
            # Re-measure some rows of a saved run (e.g. ones taken on a busy machine) and replace them.
            path = Path(args.update)
            result = json.loads(path.read_text())
            result["meta"].setdefault("updates", []).append(_meta(args, infos))
        base = {(r["config"], r["cell"], r["dtype"]): r for r in baseline["rows"]} if baseline else {}
        print(table_header(bool(workers), not args.no_memory), flush=True)
        gemm_cache: dict = {}
        for config in configs:
            for cell in cells:
                for dtype in dtypes:
                    if workers:
                        row = bench_one(workers, config, cell, dtype, args, gemm_cache)
                    else:
                        row = {"config": config, "cell": cell, "dtype": dtype, "threads": args.threads,
                               **{k: v for k, v in CONFIGS[config].as_dict().items() if k != "name"}}
                    if not args.no_memory and "skipped" not in row:
                        row["memory"] = memory_row(config, cell, dtype, args)
                    key = (config, cell, dtype)
                    result["rows"] = [r for r in result["rows"] if (r["config"], r["cell"], r["dtype"]) != key]
                    result["rows"].append(row)
                    order = {(c, ce, d): i for i, (c, ce, d) in enumerate(
                        (c, ce, d) for c in CONFIGS for ce in CELLS for d in DTYPES)}
                    result["rows"].sort(key=lambda r: order[(r["config"], r["cell"], r["dtype"])])
                    print(format_row(row, base.get((config, cell, dtype))), flush=True)
                    if path is not None:  # after every row: an interrupted run keeps what it measured
                        _save(path, result)
    finally:
        for w in workers.values():
            w.close()
    print(targets_line(result["rows"]))
    if path is not None:
        _save(path, result)
        print(f"saved {path}")
    return 0


def _save(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(path)


def main(argv=None) -> int:
    """Parse ``argv`` and run the benchmark; returns the exit status."""
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
