"""Writing results: one experiment's files, and ``bptt lab``'s single self-contained HTML report.

For an experiment NAME the files are
    NAME.json              everything measured (rows, curves, arrays, meta)
    NAME.csv, NAME_T.csv   the main table and any extra table T, one row per configuration
    NAME.md                conclusion and tables in Markdown
    NAME_*.png             the plots
``bptt lab`` writes them per experiment under ``OUT/data/`` and one ``OUT/report.html``
with the plots embedded (base64), the tables and the conclusions, so the report can be
mailed or opened anywhere on its own.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import html
import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._checks import check_choice
from .experiments.base import BUDGET_NAMES, EXPERIMENT_MODULES, LANGS, ExperimentResult, get_experiment

# The order of the report; the slow ones first so that two workers finish together.
LAB_ORDER = ("vanishing", "activations", "lengths", "search", "regularization", "batch-size")

_T = {
    "en": {
        "title": "bptt lab — backpropagation through time, measured",
        "intro": "Every exercise of the course seeds run as an experiment with bptt (NumPy, no autograd). "
                 "Each section states the setup, the conclusion written from the numbers measured in this run, "
                 "the plots and the tables (one row per configuration). Raw data: the CSV/JSON files next to this report.",
        "budget": "budget", "seed": "seed", "runtime": "total run time", "when": "run on", "machine": "machine",
        "contents": "Contents", "setup": "Setup", "conclusion": "Conclusion", "plots": "Plots", "tables": "Tables",
        "data": "raw data", "seconds": "s", "main": "configurations", "failed": "this experiment failed",
    },
    "es": {
        "title": "bptt lab — retropropagación a través del tiempo, medida",
        "intro": "Cada ejercicio de las semillas del curso, ejecutado como experimento con bptt (NumPy, sin "
                 "autograd). Cada sección indica el montaje, la conclusión escrita a partir de los números medidos en "
                 "esta ejecución, las gráficas y las tablas (una fila por configuración). Datos crudos: los archivos "
                 "CSV/JSON junto a este informe.",
        "budget": "presupuesto", "seed": "semilla", "runtime": "tiempo total", "when": "ejecutado el",
        "machine": "máquina", "contents": "Contenido", "setup": "Montaje", "conclusion": "Conclusión",
        "plots": "Gráficas", "tables": "Tablas", "data": "datos crudos", "seconds": "s", "main": "configuraciones",
        "failed": "este experimento falló",
    },
}


def _cell(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not np.isfinite(v):
            return "–" if np.isnan(v) else str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.3e}"
        return f"{v:.4g}"
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


def write_experiment(result: ExperimentResult, outdir: str | os.PathLike, lang: str = "en",
                     plots: bool = True) -> list[Path]:
    """Write NAME.json, the CSV tables, NAME.md and the PNG plots; return their paths."""
    check_choice("lang", lang, LANGS)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    stem = result.name.replace("-", "_")
    paths = []
    p = out / f"{stem}.json"
    p.write_text(result.dumps(), encoding="utf-8")
    paths.append(p)
    md = [f"# {result.title(lang)}", "", result.setup(lang), "", "**" + _T[lang]["conclusion"] + ".** "
          + result.conclusion(lang), ""]
    for name, (cols, rows) in result.all_tables().items():
        csv_name = f"{stem}.csv" if name == "main" else f"{stem}_{name}.csv"
        paths.append(write_csv(out / csv_name, cols, rows))
        md += [f"## {_T[lang]['main'] if name == 'main' else name}", "", markdown_table(cols, rows), ""]
    p = out / f"{stem}.md"
    p.write_text("\n".join(md), encoding="utf-8")
    paths.append(p)
    if plots:
        paths += get_experiment(result.name).plot(result, out)
    return paths


# ---------------------------------------------------------------------------
# bptt lab
# ---------------------------------------------------------------------------


def _run_one(name: str, budget: str, seed: int, progress: bool, outdir: str | None = None,
             lang: str = "en") -> tuple[ExperimentResult, list[Path], str | None]:
    """Run one experiment and, with ``outdir``, write its files there (in the same process)."""
    res = get_experiment(name).run(budget=budget, seed=seed, progress=progress)
    if outdir is None:
        return res, [], None
    try:
        return res, write_experiment(res, outdir, lang=lang), None
    except Exception as exc:  # noqa: BLE001 - a failing plot must not lose the measured numbers
        return res, [], f"{type(exc).__name__} while writing: {exc}"


def run_experiments(names: Sequence[str], budget: str, seed: int = 0, progress: bool = True,
                    jobs: int | None = None, outdir: str | os.PathLike | None = None, lang: str = "en",
                    ) -> tuple[dict[str, ExperimentResult], dict[str, list[Path]], dict[str, str]]:
    """Run experiments (and write their files into ``outdir``), ``jobs`` at a time in separate processes.

    ``jobs`` defaults to min(2, CPUs). Returns (results, files, errors) by name; an experiment
    that raises does not stop the others.
    """
    from .experiments.base import progress_iter

    jobs = jobs if jobs is not None else min(2, os.cpu_count() or 1)
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
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(_run_one, name, budget, seed, False, out, lang): name for name in names}
        for fut in progress_iter(as_completed(futures), len(futures), f"bptt lab ({jobs} processes)", progress):
            collect(futures[fut], fut.result)
    return results, files, errors


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def _html_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.7em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.meta{color:#555;font-size:.9em} .conclusion{background:#f3f7ff;border-left:4px solid #3a6ee8;padding:.7em 1em}
.setup{color:#444} .error{background:#fff0f0;border-left:4px solid #d33;padding:.7em 1em}
img{max-width:100%;margin:.5em 0;border:1px solid #eee}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0 1.2em} th,td{border:1px solid #ddd;padding:2px 6px;text-align:right}
th{background:#f6f6f6} details{margin:.4em 0} summary{cursor:pointer;color:#3a6ee8}
"""


def build_html(results: dict[str, ExperimentResult], errors: dict[str, str], files: dict[str, list[Path]],
               lang: str, budget: str, seed: int, seconds: float, data_dir: str = "data") -> str:
    """The report as one HTML string (images inlined)."""
    T = _T[lang]
    names = [n for n in LAB_ORDER if n in results or n in errors] + \
            [n for n in list(results) + list(errors) if n not in LAB_ORDER]
    names = list(dict.fromkeys(names))
    parts = [f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{html.escape(T['title'])}"
             f"</title><style>{_CSS}</style></head><body>", f"<h1>{html.escape(T['title'])}</h1>",
             f"<p>{html.escape(T['intro'])}</p>",
             f"<p class=\"meta\">{T['budget']}: <b>{budget}</b> · {T['seed']}: {seed} · {T['runtime']}: "
             f"{seconds:.1f} {T['seconds']} · {T['when']}: {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} · "
             f"{T['machine']}: {html.escape(platform.platform())}, {os.cpu_count()} CPU, Python "
             f"{platform.python_version()}, NumPy {np.__version__}</p>"]
    parts.append(f"<h2>{T['contents']}</h2><ol>")
    for n in names:
        title = get_experiment(n).TITLE[lang]
        parts.append(f"<li><a href=\"#{n}\">{html.escape(title)}</a> (<code>bptt experiment {n}</code>)</li>")
    parts.append("</ol>")
    for n in names:
        mod = get_experiment(n)
        parts.append(f"<h2 id=\"{n}\">{html.escape(mod.TITLE[lang])}</h2>")
        parts.append(f"<p class=\"setup\"><b>{T['setup']}.</b> {html.escape(mod.SETUP[lang])}</p>")
        if n in errors:
            parts.append(f"<p class=\"error\"><b>{T['failed']}:</b> {html.escape(errors[n])}</p>")
            continue
        res = results[n]
        secs = res.meta.get("seconds")
        parts.append(f"<p class=\"conclusion\"><b>{T['conclusion']}.</b> {html.escape(res.conclusion(lang))}"
                     + (f" <span class=\"meta\">({secs:.1f} {T['seconds']})</span>" if secs else "") + "</p>")
        pngs = [p for p in files.get(n, []) if p.suffix == ".png"]
        for p in pngs:
            parts.append(_img(p))
        for tname, (cols, rows) in res.all_tables().items():
            label = T["main"] if tname == "main" else tname
            opened = " open" if len(rows) <= 40 else ""  # long tables start folded
            parts.append(f"<details{opened}><summary>{html.escape(label)} ({len(rows)})</summary>"
                         f"{_html_table(cols, rows)}</details>")
        links = [p for p in files.get(n, []) if p.suffix in (".csv", ".json", ".md")]
        if links:
            parts.append(f"<p class=\"meta\">{T['data']}: " + ", ".join(
                f"<a href=\"{data_dir}/{html.escape(p.name)}\">{html.escape(p.name)}</a>" for p in links) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def run_lab(out: str | os.PathLike = "lab-report", budget: str = "quick", lang: str = "en", seed: int = 0,
            only: Sequence[str] | None = None, progress: bool = True, jobs: int | None = None) -> Path:
    """Run every experiment (or ``only`` some) and write OUT/report.html plus OUT/data/*. Returns the report path."""
    check_choice("budget", budget, BUDGET_NAMES)
    check_choice("lang", lang, LANGS)
    names = list(LAB_ORDER) if only is None else [get_experiment(n).NAME for n in only]
    for n in names:
        if n not in EXPERIMENT_MODULES:
            raise ValueError(f"only: expected names from {tuple(EXPERIMENT_MODULES)}, got {n!r}")
    out = Path(out)
    data = out / "data"
    t0 = time.perf_counter()
    results, files, errors = run_experiments(names, budget, seed, progress, jobs, outdir=data, lang=lang)
    seconds = time.perf_counter() - t0
    summary = {"budget": budget, "seed": seed, "lang": lang, "seconds": seconds,
               "experiments": {n: {"seconds": r.meta.get("seconds"), "cpu_seconds": r.meta.get("cpu_seconds"),
                                   "rows": len(r.rows)} for n, r in results.items()},
               "errors": errors}
    (data / "summary.json").parent.mkdir(parents=True, exist_ok=True)
    (data / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    report = out / "report.html"
    report.write_text(build_html(results, errors, files, lang, budget, seed, seconds), encoding="utf-8")
    return report
