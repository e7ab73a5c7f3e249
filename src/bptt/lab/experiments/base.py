"""What every experiment returns, and the small shared helpers (budgets, progress, timing).

An experiment is a module with

    NAME, TITLE {lang: str}, SETUP {lang: str}     what it is, in words (from :mod:`bptt.lab.i18n`)
    BUDGETS {"tiny"|"quick"|"full": dict}          sizes: tiny for tests, quick for ``bptt lab``
    run(budget="quick", seed=0, progress=True, **overrides) -> ExperimentResult
    plot(result, outdir, lang) -> list[Path]       PNGs (matplotlib, Agg, imported lazily), texts in ``lang``
    conclude(result, lang) -> list[str]            bullet points written from the measured numbers

and the result is tidy: ``rows`` (one dict per configuration: its settings and
its metrics), ``curves`` (long-form series: a config, a name, x, y) and
``arrays`` (anything 2-D, e.g. a T×T map), plus ``meta`` (timings, versions).
"""

from __future__ import annotations

import importlib
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..._checks import check_choice

BUDGET_NAMES = ("tiny", "quick", "full")
LANGS = ("en", "es")


@dataclass
class ExperimentResult:
    """Rows of config → metrics, curves and arrays of one experiment run."""

    name: str
    budget: str
    seed: int
    columns: list[str]  # table columns, in order (config first, then metrics)
    rows: list[dict[str, Any]] = field(default_factory=list)
    curves: list[dict[str, Any]] = field(default_factory=list)  # {"config": {...}, "name": str, "x": [...], "y": [...]}
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    # further tables when one experiment measures two kinds of configuration: name -> {"columns", "rows"}
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def module(self):
        """The experiment's module (its TITLE, SETUP, plot and conclude)."""
        return get_experiment(self.name)

    def title(self, lang: str = "en") -> str:
        """The experiment's title in ``lang``."""
        return self.module().TITLE[lang]

    def setup(self, lang: str = "en") -> str:
        """What the experiment does, in ``lang``."""
        return self.module().SETUP[lang]

    def bullets(self, lang: str = "en") -> list[str]:
        """The conclusions, one short sentence each with its number and spread, written from the measurements."""
        check_choice("lang", lang, LANGS)
        return [capitalize(b) for b in self.module().conclude(self, lang)]

    def conclusion(self, lang: str = "en") -> str:
        """The bullets as plain text, one per line."""
        return "\n".join(f"• {b}" for b in self.bullets(lang))

    def table(self, name: str | None = None) -> tuple[list[str], list[list[Any]]]:
        """The main table (or the extra table ``name``) as columns and rectangular rows."""
        cols, rows = (self.columns, self.rows) if name is None else (self.tables[name]["columns"], self.tables[name]["rows"])
        return list(cols), [[r.get(c, "") for c in cols] for r in rows]

    def all_tables(self) -> dict[str, tuple[list[str], list[list[Any]]]]:
        """Every table: "main" first, then the extra ones."""
        out = {"main": self.table()}
        for name in self.tables:
            out[name] = self.table(name)
        return out

    def curves_named(self, name: str) -> list[dict[str, Any]]:
        """The curves called ``name``, one per configuration."""
        return [c for c in self.curves if c["name"] == name]

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-able dicts and lists (NaN/inf as None)."""
        return {
            "name": self.name, "budget": self.budget, "seed": self.seed, "columns": self.columns,
            "rows": _jsonable(self.rows), "curves": _jsonable(self.curves),
            "arrays": {k: _jsonable(v) for k, v in self.arrays.items()}, "meta": _jsonable(self.meta),
            "tables": _jsonable(self.tables),
        }

    def dumps(self) -> str:
        """The result as a strict JSON string."""
        return json.dumps(self.to_json(), allow_nan=False)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None  # strict JSON: NaN/inf become null
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def budget_config(budgets: dict[str, dict], budget: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The budget's settings with ``overrides`` applied (unknown override keys are an error)."""
    check_choice("budget", budget, BUDGET_NAMES)
    cfg = dict(budgets[budget])
    unknown = [k for k in overrides if k not in cfg]
    if unknown:
        raise ValueError(f"overrides: unknown setting(s) {unknown}; this experiment has {sorted(cfg)}")
    cfg.update(overrides)
    return cfg


#: when set, ``progress_iter`` reports every item to it as (desc, done, total) — how an experiment
#: running in a worker process of ``bptt lab`` tells the main process how far it is
_REPORTER: Callable[[str, int, int], None] | None = None


def set_reporter(fn: Callable[[str, int, int], None] | None) -> None:
    """Send progress to ``fn(name, done, total)`` (None: no progress reports)."""
    global _REPORTER
    _REPORTER = fn


def progress_iter(iterable: Iterable, total: int | None = None, desc: str = "", enabled: bool = True) -> Iterator:
    """Iterate with a progress bar (tqdm, else Rich, else none) when ``enabled``; report to the reporter if set."""
    if _REPORTER is not None:
        report = _REPORTER
        n = total if total is not None else 0
        report(desc, 0, n)
        for i, item in enumerate(iterable):
            yield item
            report(desc, i + 1, n)
        return
    if not enabled:
        yield from iterable
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        yield from tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)
        return
    try:
        from rich.progress import track
    except ImportError:
        yield from iterable
        return
    yield from track(iterable, total=total, description=desc, transient=True)


@contextmanager
def single_thread_blas():
    """Limit BLAS to one thread inside the block (threadpoolctl, if installed).

    The lab's matrices are tiny (hidden sizes 8–64): a multi-threaded BLAS spends
    more time synchronising than computing (measured 3–15× slower on 2 cores).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@contextmanager
def timer(meta: dict, key: str = "seconds"):
    """Record the wall time of a block into ``meta[key]`` and its CPU time into ``meta["cpu_" + key]``.

    The CPU time is this process's: on a machine shared with other work it is the
    better measure of what the block costs.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        meta[key] = time.perf_counter() - t0
        meta["cpu_" + key] = time.process_time() - c0


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1) — the spread over seeds; NaN when it cannot be measured."""
    v = np.asarray(list(values), dtype=np.float64)
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan")


def clearly_above(m1: float, s1: float, m2: float, s2: float) -> bool:
    """m1 − m2 larger than the two spreads together: a difference the seeds do not explain.

    The lab's conclusions state a difference only when this holds (otherwise "no clear
    difference"); spreads are standard deviations over seeds, NaN counts as no evidence.
    """
    vals = np.array([m1, m2], dtype=np.float64)
    if not np.all(np.isfinite(vals)):
        return False
    spread = float(np.nan_to_num(s1)) + float(np.nan_to_num(s2))
    return float(m1 - m2) > spread


def capitalize(sentence: str) -> str:
    """The first letter upper-case, unless the sentence starts with an identifier ("lstm: …", "rnn-tanh …",
    "γ …"): a name the user types stays as typed."""
    from ...functional import cells

    first = sentence.split(" ", 1)[0].rstrip(":,.")
    if first in cells.names() or "-" in first or "_" in first:
        return sentence
    return sentence[:1].upper() + sentence[1:]


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_num(x: float, digits: int = 3) -> str:
    """A number for a sentence: ``digits`` significant digits, plain (160, 0.0421), scientific only when tiny or huge."""
    if x is None or not np.isfinite(x):
        return "–"
    ax = abs(x)
    if ax != 0 and (ax < 1e-3 or ax >= 1e6):
        mant, exp = f"{x:.{max(digits - 1, 0)}e}".split("e")
        return f"{mant}·10" + str(int(exp)).translate(_SUPERSCRIPT)
    if ax >= 10 ** digits:
        return f"{x:.0f}"
    return np.format_float_positional(x, precision=digits, unique=False, fractional=False, trim="-")


def pm(mean: float, std: float, digits: int = 3, pct: bool = False) -> str:
    """"mean ± std" for a sentence, both to the decimals the spread allows (0.288 ± 0.010, 19.0 ± 2.3);
    ``pct`` writes fractions as percentages (85 % ± 3 %)."""
    if pct:
        return f"{100 * mean:.0f} % ± {100 * std:.0f} %" if np.isfinite(std) else f"{100 * mean:.0f} %"
    if not np.isfinite(mean) or not np.isfinite(std):
        return fmt_num(mean, digits)
    am = abs(mean)
    if std == 0:
        return f"{fmt_num(mean, digits)} ± 0"
    if (am != 0 and am < 1e-3) or am >= 1e6 or std >= 1e6:
        return f"{fmt_num(mean, digits)} ± {fmt_num(std, 2)}"
    d = int(np.clip(1 - np.floor(np.log10(std)), 0, 4))
    return f"{mean:.{d}f} ± {std:.{d}f}"


EXPERIMENT_MODULES = {
    "vanishing": "bptt.lab.experiments.vanishing",
    "activations": "bptt.lab.experiments.activations",
    "regularization": "bptt.lab.experiments.regularization",
    "batch-size": "bptt.lab.experiments.batch_size",
    "search": "bptt.lab.experiments.search",
    "lengths": "bptt.lab.experiments.lengths",
    "costs": "bptt.lab.experiments.costs",
}


def get_experiment(name: str):
    """The experiment module registered under ``name`` (``batch_size`` and ``batch-size`` both work)."""
    key = str(name).replace("_", "-")
    if key not in EXPERIMENT_MODULES:
        raise ValueError(f"name: expected one of {tuple(EXPERIMENT_MODULES)}, got {name!r}")
    return importlib.import_module(EXPERIMENT_MODULES[key])
