"""Writing results: one experiment's files, and ``bptt lab``'s single self-contained HTML report.

For an experiment NAME the files are
    NAME.json              everything measured (rows, curves, arrays, meta)
    NAME.csv, NAME_T.csv   the main table and any extra table T, one row per configuration
    NAME.md                conclusion and tables in Markdown
    NAME_*.png             the plots
``bptt lab`` writes them per experiment under ``OUT/data/`` and one ``OUT/report.html``
with the plots embedded (base64), the tables and the conclusions, so the report can be
mailed or opened anywhere on its own; in Spanish under ``OUT/es/`` (the two never
overwrite each other). Every word comes from :mod:`bptt.lab.i18n`.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import html
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._checks import check_choice
from .experiments.base import BUDGET_NAMES, EXPERIMENT_MODULES, LANGS, ExperimentResult, get_experiment

# The order of the report; the slow ones first so that two workers finish together.
LAB_ORDER = ("vanishing", "activations", "lengths", "search", "regularization", "batch-size", "costs")

#: what each experiment imports beyond NumPy: (module, pip name); plots need matplotlib everywhere
NEEDS = {"search": (("optuna", "optuna"),)}
PLOTS = ("matplotlib", "matplotlib")


class MissingDependencyError(ImportError):
    """A package the requested experiments need is not installed (raised before any work starts)."""


def check_dependencies(names: Sequence[str], plots: bool = True, lang: str = "en", cmd: str = "lab") -> None:
    """Raise :class:`MissingDependencyError` (one line) if an experiment in ``names`` would fail on an import."""
    from importlib.util import find_spec

    from .i18n import tr

    need = ([PLOTS] if plots else []) + [d for n in names for d in NEEDS.get(n, ())]
    missing = list(dict.fromkeys(pip for mod, pip in need if find_spec(mod) is None))
    if missing:
        what = ", ".join(names)
        raise MissingDependencyError(tr(lang, "run.missing", what=what, pkgs=" + ".join(missing),
                                        pip=" ".join(missing)))


def lang_dir(out: str | os.PathLike, lang: str) -> Path:
    """Where the report in ``lang`` goes: OUT/ for English, OUT/es/ for Spanish (they never overwrite each other)."""
    return Path(out) if lang == "en" else Path(out) / lang


def _cell(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not np.isfinite(v):
            return "–" if np.isnan(v) else str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.3e}"
        return f"{v:.0f}" if abs(v) >= 1e4 else f"{v:.4g}"  # 12345, not 1.234e+04
    if isinstance(v, (list, tuple)):
        return " ".join(_cell(x) for x in v)
    return str(v)


def _csv_value(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return " ".join(str(x) for x in v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """Write ``rows`` under the header ``columns`` to ``path`` as CSV; returns ``path``."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([_csv_value(v) for v in r])
    return path


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """``rows`` under the header ``columns`` as a Markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def display_table(result: ExperimentResult, name: str, lang: str) -> tuple[str, list[str], list[list[Any]]]:
    """A table as a learner reads it: its title, headers and words in ``lang`` (the CSV keeps the identifiers)."""
    from .i18n import label, tr, value

    cols, rows = result.table(None if name == "main" else name)
    return (tr(lang, f"table.{name}"), [label(lang, c) for c in cols],
            [[value(lang, v) for v in r] for r in rows])


def write_experiment(result: ExperimentResult, outdir: str | os.PathLike, lang: str = "en",
                     plots: bool = True) -> list[Path]:
    """Write NAME.json, the CSV tables, NAME.md and the PNG plots; return their paths."""
    from .i18n import tr

    check_choice("lang", lang, LANGS)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    stem = result.name.replace("-", "_")
    paths = []
    p = out / f"{stem}.json"
    p.write_text(result.dumps(), encoding="utf-8")
    paths.append(p)
    md = [f"# {result.title(lang)}", "", result.setup(lang), "", f"## {tr(lang, 'report.conclusion')}", ""]
    md += [f"- {b}" for b in result.bullets(lang)] + [""]
    for name, (cols, rows) in result.all_tables().items():
        csv_name = f"{stem}.csv" if name == "main" else f"{stem}_{name}.csv"
        paths.append(write_csv(out / csv_name, cols, rows))
        title, dcols, drows = display_table(result, name, lang)
        md += [f"## {title}", "", markdown_table(dcols, drows), ""]
    if plots:
        figs = get_experiment(result.name).plot(result, out, lang=lang)
        for f in figs:
            md += [f"![{tr(lang, 'alt.' + f.stem)}]({f.name})", "", f"*{tr(lang, 'fig.' + f.stem)}*", ""]
        paths += figs
    p = out / f"{stem}.md"
    p.write_text("\n".join(md), encoding="utf-8")
    paths.append(p)
    return paths


# ---------------------------------------------------------------------------
# bptt lab
# ---------------------------------------------------------------------------


def _run_one(name: str, budget: str, seed: int, progress: bool, outdir: str | None = None,
             lang: str = "en", queue: Any = None) -> tuple[ExperimentResult, list[Path], str | None]:
    """Run one experiment and, with ``outdir``, write its files there (in the same process).

    With ``queue`` (a worker process of ``bptt lab``) every step of the experiment's
    progress is sent there as (name, stage, done, total).
    """
    from .experiments.base import set_reporter

    if queue is not None:
        set_reporter(lambda desc, done, total: queue.put((name, desc, done, total)))
    try:
        res = get_experiment(name).run(budget=budget, seed=seed, progress=progress)
    finally:
        if queue is not None:
            set_reporter(None)
    if outdir is None:
        return res, [], None
    try:
        return res, write_experiment(res, outdir, lang=lang), None
    except Exception as exc:  # noqa: BLE001 - a failing plot must not lose the measured numbers
        return res, [], f"{type(exc).__name__} while writing: {exc}"


class _Status:
    """One line on stderr: experiments done / total and where each running one is (stage, steps done / total)."""

    def __init__(self, total: int, lang: str, enabled: bool) -> None:
        import sys

        self.total, self.lang, self.enabled = total, lang, enabled
        self.done, self.where, self.stream = 0, {}, sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last = 0.0

    def update(self, name: str, desc: str, done: int, total: int) -> None:
        from .i18n import has, tr

        key = f"progress.{desc}"
        self.where[name] = f"{tr(self.lang, key) if has(self.lang, key) else desc} {done}/{total}"
        self.show()

    def finished(self, name: str) -> None:
        self.done += 1
        self.where.pop(name, None)
        self.show(force=True)

    def show(self, force: bool = False) -> None:
        from .i18n import tr

        if not self.enabled:
            return
        now = time.monotonic()
        if not (self.tty or force or now - self.last > 15):  # in a log file, a line every 15 s at most
            return
        self.last = now
        line = f"bptt lab [{tr(self.lang, 'run.done', n=self.done, total=self.total)}] " + " · ".join(
            self.where.values())
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(120))
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def run_experiments(names: Sequence[str], budget: str, seed: int = 0, progress: bool = True,
                    jobs: int | None = None, outdir: str | os.PathLike | None = None, lang: str = "en",
                    ) -> tuple[dict[str, ExperimentResult], dict[str, list[Path]], dict[str, str]]:
    """Run experiments (and write their files into ``outdir``), ``jobs`` at a time in separate processes.

    ``jobs`` defaults to min(2, CPUs). Returns (results, files, errors) by name; an experiment
    that raises does not stop the others.
    """
    from .experiments.base import progress_iter

    jobs = _check_jobs(jobs)
    out = None if outdir is None else str(outdir)
    results: dict[str, ExperimentResult] = {}
    files: dict[str, list[Path]] = {}
    errors: dict[str, str] = {}

    def collect(name: str, get) -> None:
        try:
            res, paths, err = get()
        except Exception as exc:  # noqa: BLE001 - reported in the report, the lab goes on
            errors[name] = f"{type(exc).__name__}: {exc}"
            return
        results[name], files[name] = res, paths
        if err:
            errors[name] = err

    if jobs <= 1 or len(names) <= 1:
        for name in progress_iter(names, len(names), "bptt lab", progress):
            collect(name, lambda: _run_one(name, budget, seed, progress, out, lang))
        return results, files, errors
    import multiprocessing as mp
    import queue as _queue
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = mp.get_context("spawn")
    status = _Status(len(names), lang, progress)
    with ctx.Manager() as manager, ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        q = manager.Queue()
        futures = {pool.submit(_run_one, name, budget, seed, False, out, lang, q): name for name in names}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            while True:
                try:
                    status.update(*q.get_nowait())
                except _queue.Empty:
                    break
            for fut in finished:
                collect(futures[fut], fut.result)
                status.finished(futures[fut])
    return results, files, errors


def _check_jobs(jobs: Any) -> int:
    if jobs is None:
        return min(2, os.cpu_count() or 1)
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise ValueError(f"--jobs: expected an integer >= 1, got {jobs!r}")
    return int(jobs)


def _img(path: Path, lang: str, number: int) -> str:
    from .i18n import tr

    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt, cap = tr(lang, "alt." + path.stem), tr(lang, "fig." + path.stem)
    return (f'<figure><img alt="{html.escape(alt)}" data-file="{html.escape(path.name)}" '
            f'src="data:image/png;base64,{data}"><figcaption><b>{tr(lang, "report.figure")} {number}.</b> '
            f"{html.escape(cap)}</figcaption></figure>")


def _html_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f'<div class="tablebox"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45;font-size:17px;overflow-wrap:break-word}
h1{font-size:1.7em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.meta{color:#555;font-size:.9em}
.conclusion{background:#f3f7ff;border-left:4px solid #3a6ee8;padding:.5em 1em}
.conclusion ul{margin:.3em 0;padding-left:1.4em} .conclusion li{margin:.25em 0}
.setup{color:#444} .error{background:#fff0f0;border-left:4px solid #d33;padding:.7em 1em}
figure{margin:1em 0} img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.92em;color:#333;max-width:60em}
.tablebox{max-width:100%;overflow-x:auto;margin:.6em 0 1.2em}
table{border-collapse:collapse;font-size:.82em} th,td{border:1px solid #ddd;padding:2px 6px;text-align:right}
th{background:#f6f6f6;vertical-align:bottom;min-width:4em} details{margin:.4em 0}
summary{cursor:pointer;color:#3a6ee8} code{overflow-wrap:anywhere}
"""


def build_html(results: dict[str, ExperimentResult], errors: dict[str, str], files: dict[str, list[Path]],
               lang: str, budget: str, seed: int, seconds: float, data_dir: str = "data") -> str:
    """The report as one HTML string (images inlined)."""
    from .i18n import tr

    def T(key: str, **kw) -> str:
        return html.escape(tr(lang, "report." + key, **kw))

    names = [n for n in LAB_ORDER if n in results or n in errors] + \
            [n for n in list(results) + list(errors) if n not in LAB_ORDER]
    names = list(dict.fromkeys(names))
    parts = [f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{T('title')}"
             f"</title><style>{_CSS}</style></head><body>", f"<h1>{T('title')}</h1>", f"<p>{T('intro')}</p>",
             f"<p class=\"meta\">{T('budget')}: <b>{html.escape(tr(lang, 'budget.' + budget))}</b> · {T('seed')}: "
             f"{seed} · {T('runtime')}: {seconds:.0f} {T('seconds')} · {T('when')}: "
             f"{_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} · {T('machine')}: "
             f"{html.escape(platform.system())} {html.escape(platform.machine())}, {os.cpu_count()} CPU, "
             f"Python {platform.python_version()}, NumPy {np.__version__}</p>"]
    parts.append(f"<h2>{T('contents')}</h2><ol>")
    for n in names:
        title = get_experiment(n).TITLE[lang]
        parts.append(f"<li><a href=\"#{n}\">{html.escape(title)}</a> (<code>bptt experiment {n}</code>)</li>")
    parts.append("</ol>")
    number = 0
    for n in names:
        mod = get_experiment(n)
        parts.append(f"<h2 id=\"{n}\">{html.escape(mod.TITLE[lang])}</h2>")
        parts.append(f"<p class=\"setup\"><b>{T('setup')}.</b> {html.escape(mod.SETUP[lang])}</p>")
        if n in errors:
            parts.append(f"<p class=\"error\"><b>{T('failed')}:</b> <code>{html.escape(errors[n])}</code></p>")
            continue
        res = results[n]
        secs = res.meta.get("seconds")
        parts.append(f"<div class=\"conclusion\"><b>{T('conclusion')}</b>"
                     + (f" <span class=\"meta\">({secs:.0f} {T('seconds')})</span>" if secs else "") + "<ul>"
                     + "".join(f"<li>{html.escape(b)}</li>" for b in res.bullets(lang)) + "</ul></div>")
        for p in (p for p in files.get(n, []) if p.suffix == ".png"):
            number += 1
            parts.append(_img(p, lang, number))
        for tname in res.all_tables():
            title, cols, rows = display_table(res, tname, lang)
            opened = " open" if len(rows) <= 40 else ""  # long tables start folded
            parts.append(f"<details{opened}><summary>{html.escape(title)} ({T('rows', n=len(rows))})</summary>"
                         f"{_html_table(cols, rows)}</details>")
        links = [p for p in files.get(n, []) if p.suffix in (".csv", ".json", ".md")]
        if links:
            parts.append(f"<p class=\"meta\">{T('data')}: " + ", ".join(
                f"<a href=\"{data_dir}/{html.escape(p.name)}\"><code>{html.escape(p.name)}</code></a>" for p in links)
                + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def run_lab(out: str | os.PathLike = "lab-report", budget: str = "quick", lang: str = "en", seed: int = 0,
            only: Sequence[str] | None = None, progress: bool = True, jobs: int | None = None) -> Path:
    """Run every experiment (or ``only`` some) and write the report; return its path.

    English: OUT/report.html and OUT/data/*; Spanish: OUT/es/report.html and OUT/es/data/*.
    Checks the packages the experiments need before any work starts (:class:`MissingDependencyError`).
    """
    check_choice("budget", budget, BUDGET_NAMES)
    check_choice("lang", lang, LANGS)
    _check_jobs(jobs)
    names = list(LAB_ORDER) if only is None else [get_experiment(n).NAME for n in only]
    for n in names:
        if n not in EXPERIMENT_MODULES:
            raise ValueError(f"only: expected names from {tuple(EXPERIMENT_MODULES)}, got {n!r}")
    check_dependencies(names, lang=lang)
    out = lang_dir(out, lang)
    data = out / "data"
    t0 = time.perf_counter()
    results, files, errors = run_experiments(names, budget, seed, progress, jobs, outdir=data, lang=lang)
    seconds = time.perf_counter() - t0
    summary = {"budget": budget, "seed": seed, "lang": lang, "seconds": seconds,
               "experiments": {n: {"seconds": r.meta.get("seconds"), "cpu_seconds": r.meta.get("cpu_seconds"),
                                   "rows": len(r.rows)} for n, r in results.items()},
               "errors": errors}
    data.mkdir(parents=True, exist_ok=True)
    (data / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    report = out / "report.html"
    report.write_text(build_html(results, errors, files, lang, budget, seed, seconds), encoding="utf-8")
    return report


#: where ``bptt experiment NAME`` writes when no --out is given: under the current folder, never the source tree
EXPERIMENT_DIR = "experiments"


def run_experiment_command(name: str, out: str | None = None, budget: str = "quick", lang: str = "en",
                           seed: int = 0, progress: bool = True, storage: str | None = None) -> int:
    """``bptt experiment NAME``: check packages, run, write into OUT (default ./experiments/NAME[/es]).

    Prints the conclusions and the files written; returns the exit status (0, or 1 if writing failed).
    """
    from .i18n import tr

    check_choice("budget", budget, BUDGET_NAMES)
    check_choice("lang", lang, LANGS)
    exp = get_experiment(name)
    check_dependencies([exp.NAME], lang=lang, cmd="experiment")
    outdir = lang_dir(out or Path(EXPERIMENT_DIR) / exp.NAME, lang)
    kwargs = {"storage": storage} if exp.NAME == "search" and storage else {}
    result = exp.run(budget=budget, seed=seed, progress=progress, **kwargs)
    try:
        paths = write_experiment(result, outdir, lang=lang)
    except Exception as exc:  # noqa: BLE001 - the numbers are measured; say what could not be written
        print(tr(lang, "run.failed", cmd="experiment", name=exp.NAME, err=f"{type(exc).__name__}: {exc}"),
              file=sys.stderr)
        return 1
    print(result.conclusion(lang))
    for p in paths:
        print(p)
    return 0


def run_lab_command(out: str = "lab-report", budget: str = "quick", lang: str = "en", seed: int = 0,
                    only: Sequence[str] | None = None, progress: bool = True, jobs: int | None = None) -> int:
    """``bptt lab``: run, print one line per failed experiment and the report's path; 1 if any failed."""
    from .i18n import tr

    report = run_lab(out=out, budget=budget, lang=lang, seed=seed, only=only, progress=progress, jobs=jobs)
    summary = json.loads((report.parent / "data" / "summary.json").read_text(encoding="utf-8"))
    for name, err in summary["errors"].items():
        print(tr(lang, "run.failed", cmd="lab", name=name, err=err), file=sys.stderr)
    print(f"{report}  ({summary['seconds']:.0f} s)")
    return 1 if summary["errors"] else 0
