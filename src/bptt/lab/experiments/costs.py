"""costs — what BPTT costs, and what replaces it: checkpointing, truncation, RTRL.

Three measurements on the same methods (see :mod:`bptt.costs`, :mod:`bptt.tbptt`, :mod:`bptt.rtrl`):

    cost        time and tracemalloc peak of one gradient against T (one LSTM layer, small H):
                full BPTT, checkpointed BPTT (k = ⌈√T⌉), truncated BPTT (a fixed k) and RTRL,
                whose O(H²·P) per step stops it at ``rtrl_max_T``; the gradient error of each
                against full BPTT (rounding for checkpoint and RTRL, the bias for truncation);
                and the time per step of RTRL and full BPTT against H, at a short T;
    truncation  cosine and relative error of truncated BPTT's gradient against the true one as
                k grows to T (:func:`bptt.tbptt.truncation_error`), random ∂L/∂h_t at every step;
    training    the delayed echo (y_t = x_{t−d}) learned from the same episodes by online RTRL
                (an update every step), truncated BPTT (k < d and k > d) and full BPTT (one update
                per episode): test accuracy against steps seen and against CPU time.

Every measurement is repeated over seeds (mean ± sample std).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..i18n import both
from .base import (ExperimentResult, budget_config, clearly_above, fmt_num, mean_std, pm, progress_iter,
                   single_thread_blas, timer)

NAME = "costs"
TITLE = both("costs.title")
SETUP = both("costs.setup")
METHODS = ("full", "checkpoint", "truncated", "rtrl")
MIB = 2.0 ** 20

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(cell="lstm", hidden=8, inputs=4, lengths=(10, 30, 100), rtrl_max_T=30, trunc_k=8, repeats=1,
                 err_T=40, err_ks=(1, 2, 4, 8, 16), train_cell="rnn-tanh", train_hidden=8, train_batch=8, delay=3,
                 episode=30, train_steps=600, train_ks=(2, 6), lr=0.02, eval_every=4, seeds=3,
                 rtrl_hiddens=(4, 8), rtrl_T=20),
    "quick": dict(cell="lstm", hidden=8, inputs=4, lengths=(30, 100, 300, 1000, 3000), rtrl_max_T=1000, trunc_k=32,
                  repeats=3, err_T=300, err_ks=(1, 2, 4, 8, 16, 32, 64, 128), train_cell="rnn-tanh", train_hidden=16,
                  train_batch=8, delay=5, episode=50, train_steps=3000, train_ks=(4, 10), lr=0.01, eval_every=6,
                  seeds=3, rtrl_hiddens=(4, 8, 16, 32), rtrl_T=50),
    "full": dict(cell="lstm", hidden=8, inputs=4, lengths=(100, 300, 1000, 3000, 10000), rtrl_max_T=10000,
                 trunc_k=32, repeats=3, err_T=1000, err_ks=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
                 train_cell="rnn-tanh", train_hidden=16, train_batch=8, delay=8, episode=50, train_steps=10000,
                 train_ks=(7, 16), lr=0.01, eval_every=10, seeds=5, rtrl_hiddens=(4, 8, 16, 32, 48), rtrl_T=50),
}


def run(budget: str = "quick", seed: int = 0, progress: bool = True, **overrides: Any) -> ExperimentResult:
    """Run the experiment at ``budget`` ("tiny", "quick" or "full"; ``overrides`` change single settings).

    Seeds are derived from ``seed``; returns the cost rows, the truncation and training tables and curves.
    """
    cfg = budget_config(BUDGETS, budget, overrides)
    res = ExperimentResult(NAME, budget, seed, ["T", "method", "k", "seeds", "seconds", "seconds_std", "peak_mib",
                                                "grad_rel_error"])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    seeds = [seed + 17 * i for i in range(cfg["seeds"])]
    with single_thread_blas(), timer(res.meta):
        _cost_rows(res, cfg, seeds, progress)
        _hidden_rows(res, cfg, seeds, progress)
        _truncation_rows(res, cfg, seeds, progress)
        _training_rows(res, cfg, seeds, progress)
    return res


def _k(method: str, T: int, cfg: dict) -> Any:
    return math.ceil(math.sqrt(T)) if method == "checkpoint" else cfg["trunc_k"] if method == "truncated" else "–"


def _cost_rows(res: ExperimentResult, cfg: dict, seeds: list[int], progress: bool) -> None:
    """Time, peak memory and gradient error of one gradient, per (T, method), over seeds."""
    from ...costs import cost_table

    runs = []
    jobs = [(s, T) for s in seeds for T in cfg["lengths"]]
    for s, T in progress_iter(jobs, len(jobs), "costs: time and memory", progress):
        methods = [m for m in METHODS if m != "rtrl" or T <= cfg["rtrl_max_T"]]
        runs += [{**r, "seed": s} for r in cost_table(
            methods, [T], truncation_k=cfg["trunc_k"], cell=cfg["cell"], batch_size=1, input_size=cfg["inputs"],
            hidden_size=cfg["hidden"], repeats=cfg["repeats"], seed=s)]
    for T in cfg["lengths"]:
        for m in METHODS:
            rs = [r for r in runs if r["T"] == T and r["method"] == m]
            if not rs:
                continue
            sec, sd = mean_std(r["seconds"] for r in rs)
            res.rows.append({"T": T, "method": m, "k": _k(m, T, cfg), "seeds": len(rs), "seconds": sec,
                             "seconds_std": sd, "peak_mib": float(np.mean([r["peak_bytes"] for r in rs])) / MIB,
                             "peak_mib_std": mean_std(r["peak_bytes"] / MIB for r in rs)[1],
                             "grad_rel_error": max(r["grad_rel_error"] for r in rs)})
    res.tables["cost_runs"] = {"columns": ["T", "method", "seed", "seconds", "peak_bytes", "grad_rel_error"],
                               "rows": [{k: v for k, v in r.items() if k != "k"} for r in runs]}


def _hidden_rows(res: ExperimentResult, cfg: dict, seeds: list[int], progress: bool) -> None:
    """Time per step of RTRL and full BPTT against the hidden size H, at a fixed short T."""
    from ...costs import measure
    from ...functional import cells

    T, I, H0 = cfg["rtrl_T"], cfg["inputs"], cfg["rtrl_hiddens"][0]
    for m in ("full", "rtrl"):  # compile and warm up before anything is timed
        measure(m, 4, cell=cfg["cell"], input_size=I, hidden_size=H0)
    runs = []
    jobs = [(s, H, m) for s in seeds for H in cfg["rtrl_hiddens"] for m in ("full", "rtrl")]
    for s, H, m in progress_iter(jobs, len(jobs), "costs: hidden size", progress):
        r = measure(m, T, cell=cfg["cell"], input_size=I, hidden_size=H, repeats=cfg["repeats"], seed=s)
        runs.append({"H": H, "method": m, "seconds_per_step": r["seconds"] / T})
    rows = []
    G = cells.get(cfg["cell"]).gates
    for H in cfg["rtrl_hiddens"]:
        for m in ("full", "rtrl"):
            sps, sd = mean_std(r["seconds_per_step"] for r in runs if r["H"] == H and r["method"] == m)
            rows.append({"H": H, "P": G * H * (I + H + 2), "method": m, "T": T, "seeds": len(seeds),
                         "seconds_per_step": sps, "seconds_per_step_std": sd})
    res.tables["hidden"] = {"columns": ["H", "P", "method", "T", "seeds", "seconds_per_step",
                                        "seconds_per_step_std"], "rows": rows}


def _truncation_rows(res: ExperimentResult, cfg: dict, seeds: list[int], progress: bool) -> None:
    """Cosine and relative error of truncated BPTT's gradient against full BPTT's, per k, over seeds."""
    from ...functional import cells
    from ...tbptt import truncation_error

    T, H, I = cfg["err_T"], cfg["hidden"], cfg["inputs"]
    ks = [k for k in cfg["err_ks"] if k < T] + [T]
    per_seed = []
    for s in progress_iter(seeds, len(seeds), "costs: truncation", progress):
        module = cells.get(cfg["cell"]).module(I, H, dtype=np.float64, seed=s)
        rng = np.random.default_rng([s, 3])
        x, dout = rng.standard_normal((T, 1, I)), rng.standard_normal((T, 1, H))
        per_seed.append(truncation_error(module, x, dout, ks))
    rows = []
    for i, k in enumerate(ks):
        cos, cos_sd = mean_std(r[i]["cosine"] for r in per_seed)
        err, err_sd = mean_std(r[i]["relative_error"] for r in per_seed)
        rows.append({"T": T, "k": k, "seeds": len(per_seed), "cosine": cos, "cosine_std": cos_sd,
                     "relative_error": err, "relative_error_std": err_sd})
    res.tables["truncation"] = {"columns": ["T", "k", "seeds", "cosine", "cosine_std", "relative_error",
                                            "relative_error_std"], "rows": rows}


def _train_methods(cfg: dict) -> list[tuple[str, Any]]:
    return [("rtrl", "–")] + [("truncated", k) for k in cfg["train_ks"]] + [("full", cfg["episode"])]


def _train_one(cfg: dict, method: str, k: Any, s: int) -> dict[str, Any]:
    """One training run on the delayed echo: test accuracy and MSE after every ``eval_every`` episodes."""
    from ...functional import cells
    from ...nn import Linear, MSELoss
    from ...rtrl import OnlineRTRL, delayed_echo, train_online
    from ...tbptt import train_truncated
    from ..training import make_optimizer

    H, B, d, L = cfg["train_hidden"], cfg["train_batch"], cfg["delay"], cfg["episode"]
    rnn = cells.get(cfg["train_cell"]).module(1, H, dtype=np.float64, seed=s)
    head = Linear(H, 1, dtype=np.float64, seed=s + 1)
    opt = make_optimizer("adam", list(rnn.parameters()) + list(head.parameters()), lr=cfg["lr"])
    loss, rng = MSELoss(), np.random.default_rng([s, 5])  # the same episodes for every method
    online = OnlineRTRL(rnn, head, loss, opt, batch_size=B) if method == "rtrl" else None
    x_te, y_te = delayed_echo(300, d, batch_size=64, seed=[s, 9])
    y_te = np.stack(y_te[d:])

    def evaluate() -> tuple[float, float]:
        y = head(rnn(x_te)[0])[d:]
        return float(((y - y_te) ** 2).mean()), float((np.abs(y - y_te) < 0.5).mean())

    m0, a0 = evaluate()
    cpu, steps, out = 0.0, [0], {"cpu": [0.0], "mse": [m0], "acc": [a0]}
    episodes = cfg["train_steps"] // L
    for ep in range(1, episodes + 1):
        xs, ys = delayed_echo(L, d, batch_size=B, seed=rng)
        c0 = time.process_time()
        if online is not None:
            online.reset()
            train_online(online, xs, ys)
        else:
            train_truncated(rnn, head, loss, opt, xs, ys, k)
        cpu += time.process_time() - c0
        if ep % cfg["eval_every"] == 0 or ep == episodes:
            m, a = evaluate()
            steps.append(ep * L)
            out["cpu"].append(cpu)
            out["mse"].append(m)
            out["acc"].append(a)
    updates = episodes * ((L - d) if method == "rtrl" else math.ceil(L / k))
    return {"steps": steps, "updates": updates, **out}


def _training_rows(res: ExperimentResult, cfg: dict, seeds: list[int], progress: bool) -> None:
    jobs = [(m, k, s) for m, k in _train_methods(cfg) for s in seeds]
    runs = {}
    for m, k, s in progress_iter(jobs, len(jobs), "costs: training", progress):
        runs[m, k, s] = _train_one(cfg, m, k, s)
    rows = []
    for m, k in _train_methods(cfg):
        rs = [runs[m, k, s] for s in seeds]
        acc, acc_sd = mean_std(r["acc"][-1] for r in rs)
        mse, mse_sd = mean_std(r["mse"][-1] for r in rs)
        cpu, cpu_sd = mean_std(r["cpu"][-1] for r in rs)
        rows.append({"method": m, "k": k, "seeds": len(rs), "updates": rs[0]["updates"], "accuracy": acc,
                     "accuracy_std": acc_sd, "mse": mse, "mse_std": mse_sd, "cpu_seconds": cpu,
                     "cpu_seconds_std": cpu_sd})
        A = np.array([r["acc"] for r in rs])
        for name, x in (("accuracy_vs_steps", rs[0]["steps"]),
                        ("accuracy_vs_cpu", np.mean([r["cpu"] for r in rs], axis=0).tolist())):
            res.curves.append({"config": {"method": m, "k": k}, "name": name, "x": list(x), "y": A.mean(0).tolist(),
                               "y_std": A.std(0, ddof=1).tolist() if len(rs) > 1 else [0.0] * A.shape[1]})
    res.tables["training"] = {"columns": ["method", "k", "seeds", "updates", "accuracy", "accuracy_std", "mse",
                                          "mse_std", "cpu_seconds", "cpu_seconds_std"], "rows": rows}


# -- figures ---------------------------------------------------------------------------------
COLORS = {"full": "C0", "checkpoint": "C1", "truncated": "C2", "rtrl": "C3"}


def _method(lang: str, m: str, k: Any = "–") -> str:
    from ..i18n import value

    return value(lang, m) + ("" if k == "–" else f" (k = {k})")


def plot(res: ExperimentResult, outdir: str | Path, lang: str = "en") -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    outdir = Path(outdir)
    return [_plot_scaling(res, outdir, lang), _plot_truncation(res, outdir, lang), _plot_training(res, outdir, lang)]


def _plot_scaling(res: ExperimentResult, outdir: Path, lang: str) -> Path:
    from ..i18n import tr
    from ..plotting import legend, log_axis, new_figure, save

    cfg = res.meta["config"]
    fig, axes = new_figure(1, 3, width=15, height=4.2)
    for m in METHODS:
        rs = [r for r in res.rows if r["method"] == m]
        k = {"checkpoint": "⌈√T⌉", "truncated": cfg["trunc_k"]}.get(m, "–")
        T = [r["T"] for r in rs]
        axes[0].errorbar(T, [r["seconds"] for r in rs], yerr=[np.nan_to_num(r["seconds_std"]) for r in rs],
                         marker="o", capsize=3, color=COLORS[m], label=_method(lang, m, k))
        axes[1].plot(T, [r["peak_mib"] for r in rs], marker="o", color=COLORS[m])
        if m == "rtrl" and rs and rs[-1]["T"] < max(cfg["lengths"]):  # RTRL stopped: say so where the line ends
            for ax, key in ((axes[0], "seconds"), (axes[1], "peak_mib")):
                ax.annotate(tr(lang, "lbl.costs_rtrl_stopped", T=rs[-1]["T"], H=cfg["hidden"]),
                            (rs[-1]["T"], rs[-1][key]), xytext=(6, -14), textcoords="offset points", fontsize=8,
                            color=COLORS[m])
    axes[0].set(xlabel=tr(lang, "lbl.length_T"), ylabel=tr(lang, "lbl.costs_seconds"),
                title=tr(lang, "lbl.costs_time_title"))
    axes[1].set(xlabel=tr(lang, "lbl.length_T"), ylabel=tr(lang, "lbl.costs_peak"),
                title=tr(lang, "lbl.costs_memory_title", cell=cfg["cell"], H=cfg["hidden"]))
    hid = res.tables["hidden"]["rows"]
    for m in ("full", "rtrl"):
        rs = [r for r in hid if r["method"] == m]
        axes[2].errorbar([r["H"] for r in rs], [1e3 * r["seconds_per_step"] for r in rs], marker="o", capsize=3,
                         yerr=[1e3 * np.nan_to_num(r["seconds_per_step_std"]) for r in rs], color=COLORS[m])
    axes[2].set(xlabel=tr(lang, "lbl.costs_H"), ylabel=tr(lang, "lbl.costs_ms_per_step"),
                title=tr(lang, "lbl.costs_hidden_title", T=hid[0]["T"]))
    for ax in axes:
        log_axis(ax, "x")
        log_axis(ax, "y")
    axes[2].set_xticks([r["H"] for r in hid if r["method"] == "rtrl"], minor=False)
    axes[2].set_xticks([], minor=True)  # only the H measured, no minor ticks between them
    legend(fig, axes[0], ncol=4)
    return save(fig, outdir / "costs_scaling.png")


def _plot_truncation(res: ExperimentResult, outdir: Path, lang: str) -> Path:
    from ..i18n import tr
    from ..plotting import log_axis, new_figure, save

    rows = res.tables["truncation"]["rows"]
    k = np.array([r["k"] for r in rows], dtype=float)
    fig, axes = new_figure(1, 2, width=11, height=3.9)
    for ax, key in ((axes[0], "cosine"), (axes[1], "relative_error")):
        y = np.array([r[key] for r in rows])
        sd = np.nan_to_num(np.array([r[key + "_std"] for r in rows]))
        keep = y > 0 if key == "relative_error" else np.ones_like(y, dtype=bool)  # k = T: error 0, off a log axis
        ax.plot(k[keep], y[keep], marker="o", color=COLORS["truncated"])
        ax.fill_between(k[keep], (y - sd)[keep], (y + sd)[keep], alpha=0.25, color=COLORS["truncated"], lw=0)
        ax.set(xlabel=tr(lang, "lbl.costs_k"), ylabel=tr(lang, f"lbl.costs_{key}"),
               title=tr(lang, "lbl.costs_trunc_title", T=rows[0]["T"], n=rows[0]["seeds"]))
        log_axis(ax, "x")
    axes[0].axhline(1.0, color="gray", lw=0.8, ls="--")
    log_axis(axes[1], "y")
    return save(fig, outdir / "costs_truncation.png")


def _plot_training(res: ExperimentResult, outdir: Path, lang: str) -> Path:
    from ..i18n import tr
    from ..plotting import legend, log_axis, new_figure, save

    cfg = res.meta["config"]
    look = dict(zip(_train_methods(cfg), [("C3", "-"), ("C2", "--"), ("C4", "-."), ("C0", "-")]))
    fig, axes = new_figure(1, 2, width=11, height=4.2, sharey=True)
    for ax, name, xl in ((axes[0], "accuracy_vs_steps", "lbl.costs_steps_seen"),
                         (axes[1], "accuracy_vs_cpu", "lbl.costs_cpu")):
        for c in res.curves_named(name):
            m, k = c["config"]["method"], c["config"]["k"]
            color, ls = look.get((m, k), ("C5", ":"))
            start = 1 if ax is axes[1] else 0  # CPU time 0 (before training) is off a log axis
            x, y, sd = (np.array(c[key])[start:] for key in ("x", "y", "y_std"))
            ax.plot(x, y, ls=ls, color=color, label=_method(lang, m, k))
            ax.fill_between(x, np.clip(y - sd, 0, 1), np.clip(y + sd, 0, 1), alpha=0.2, color=color, lw=0)
        ax.axhline(0.5, color="gray", lw=0.8, ls="--")
        ax.text(0.98, 0.5, tr(lang, "lbl.chance"), transform=ax.get_yaxis_transform(), ha="right", va="bottom",
                fontsize=8, color="gray")
        ax.set(xlabel=tr(lang, xl), title=tr(lang, "lbl.costs_train_title", d=cfg["delay"], n=cfg["seeds"]))
    log_axis(axes[1], "x")
    axes[0].set_ylabel(tr(lang, "lbl.test_accuracy"))
    legend(fig, axes[0], ncol=4)
    return save(fig, outdir / "costs_training.png")


# -- conclusions -----------------------------------------------------------------------------
def _cost(res: ExperimentResult, T: int, m: str) -> dict | None:
    return next((r for r in res.rows if r["T"] == T and r["method"] == m), None)


def _slower(lang: str, a: dict, b: dict) -> str:
    """Whether ``a`` took clearly longer than ``b`` (beyond both spreads), in words."""
    from ..i18n import tr

    if clearly_above(a["seconds"], a["seconds_std"], b["seconds"], b["seconds_std"]):
        return tr(lang, "costs.c.clearly_slower")
    if clearly_above(b["seconds"], b["seconds_std"], a["seconds"], a["seconds_std"]):
        return tr(lang, "costs.c.clearly_faster")
    return tr(lang, "costs.c.no_clear")


def conclude(res: ExperimentResult, lang: str = "en") -> list[str]:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    from ..i18n import tr

    def C(key: str, **kw) -> str:
        return tr(lang, "costs.c." + key, **kw)

    cfg = res.meta["config"]
    T = max(r["T"] for r in res.rows)
    f, c, t = (_cost(res, T, m) for m in ("full", "checkpoint", "truncated"))
    mib = lambda r: pm(r["peak_mib"], r["peak_mib_std"])  # noqa: E731
    sec = lambda r: pm(r["seconds"], r["seconds_std"])  # noqa: E731
    out = [C("memory", T=T, f=mib(f), c=mib(c), kc=c["k"], rc=fmt_num(f["peak_mib"] / c["peak_mib"], 2),
             t=mib(t), kt=t["k"], n=f["seeds"])]
    out.append(C("time", T=T, f=sec(f), c=sec(c), rc=fmt_num(c["seconds"] / f["seconds"], 2), t=sec(t),
                 verdict=_slower(lang, c, f)))
    r_rows = [r for r in res.rows if r["method"] == "rtrl"]
    if r_rows:
        r = r_rows[-1]
        fr = _cost(res, r["T"], "full")
        out.append(C("rtrl", T=r["T"], H=cfg["hidden"], r=sec(r), f=sec(fr), ratio=fmt_num(r["seconds"] / fr["seconds"], 2),
                     verdict=_slower(lang, r, fr), mr=fmt_num(r["peak_mib"]), mf=fmt_num(fr["peak_mib"]))
                   + (" " + C("rtrl_stopped", T=r["T"]) if r["T"] < T else ""))
    err = lambda m: fmt_num(max(r["grad_rel_error"] for r in res.rows if r["method"] == m), 2)  # noqa: E731
    out.append(C("exact", c=err("checkpoint"), r=err("rtrl") if r_rows else "–", t=fmt_num(t["grad_rel_error"], 2),
                 kt=t["k"], T=T))
    out.append(_conclude_hidden(res, lang))
    out += _conclude_truncation(res, lang) + _conclude_training(res, lang)
    return out


def _conclude_hidden(res: ExperimentResult, lang: str) -> str:
    from ..i18n import tr

    hid = res.tables["hidden"]["rows"]
    ms = lambda r: pm(1e3 * r["seconds_per_step"], 1e3 * r["seconds_per_step_std"])  # noqa: E731
    kw = {"T": hid[0]["T"]}
    for m, key in (("rtrl", "r"), ("full", "f")):
        rs = [r for r in hid if r["method"] == m]
        a, b = rs[-2], rs[-1]
        kw.update({key + "0": ms(rs[0]), key + "1": ms(b), "s" + key: fmt_num(
            math.log(b["seconds_per_step"] / a["seconds_per_step"]) / math.log(b["H"] / a["H"]), 2)})
        kw.update(h0=rs[0]["H"], h1=b["H"], ha=a["H"])
    return tr(lang, "costs.c.hidden", **kw)


def _conclude_truncation(res: ExperimentResult, lang: str) -> list[str]:
    from ..i18n import tr

    rows = res.tables["truncation"]["rows"]
    T = rows[0]["T"]
    picks = [r for r in rows if r["k"] < T]
    picks = [picks[0], picks[len(picks) // 2], picks[-1]] if len(picks) >= 3 else picks
    items = "; ".join(f"k = {r['k']}: {pm(r['cosine'], r['cosine_std'])} "
                      f"({pm(r['relative_error'], r['relative_error_std'])})" for r in picks)
    ok = [r["cosine"] - np.nan_to_num(r["cosine_std"]) >= 0.99 for r in rows]
    near = rows[next(i for i in range(len(rows)) if all(ok[i:]))] if ok[-1] else rows[-1]  # from there on, all
    return [tr(lang, "costs.c.truncation", T=T, n=rows[0]["seeds"], items=items),
            tr(lang, "costs.c.truncation_099", k=near["k"], T=T)]


def _conclude_training(res: ExperimentResult, lang: str) -> list[str]:
    from ..i18n import tr

    cfg = res.meta["config"]
    rows = res.tables["training"]["rows"]
    name = {id(r): _method(lang, r["method"], r["k"]) for r in rows}
    best = max(rows, key=lambda r: r["accuracy"])
    below = [r for r in rows if clearly_above(best["accuracy"], best["accuracy_std"], r["accuracy"], r["accuracy_std"])]
    tie = [r for r in rows if r is not best and r not in below]
    out = [tr(lang, "costs.c.training", d=cfg["delay"], steps=cfg["train_steps"], n=best["seeds"], items="; ".join(
        f"{name[id(r)]} {pm(r['accuracy'], r['accuracy_std'], pct=True)}" for r in rows))]
    out.append(tr(lang, "costs.c.best", best=name[id(best)], below=", ".join(name[id(r)] for r in below) or
                  tr(lang, "word.none"), tie=", ".join(name[id(r)] for r in tie) or tr(lang, "word.none")))
    blind = [r for r in rows if r["method"] == "truncated" and r["k"] < cfg["delay"]]
    for r in blind:
        key = "blind_learned" if clearly_above(r["accuracy"], r["accuracy_std"], 0.5, 0.0) else "blind_chance"
        out.append(tr(lang, "costs.c." + key, k=r["k"], d=cfg["delay"], a=pm(r["accuracy"], r["accuracy_std"], pct=True)))
    out.append(tr(lang, "costs.c.cpu", items="; ".join(
        f"{name[id(r)]} {pm(r['cpu_seconds'], r['cpu_seconds_std'])} s ({r['updates']})" for r in rows)))
    return out
