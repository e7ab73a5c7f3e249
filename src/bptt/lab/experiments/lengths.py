"""lengths — BPTT on variable-length sequences (seed 001, BPTT exercise 2) vs padding without masks.

Sequences of ℓ ∈ [2, T] values, zero-padded to T; the target is their mean, so the model
has to know where each sequence ends. Three ways to train the same RNN + read-out:

    lengths     bptt's ``lengths=`` (pack_padded_sequence semantics): the state stops
                at each sequence's last step and the read-out is taken there;
    pad-end     the padded batch as if every sequence had length T, read-out at T —
                the state keeps running over the zeros;
    pad-front   the zeros moved to the front, read-out at T (the usual trick when a
                framework has no masks).

Each trained model is evaluated in all three ways, so the table shows both what a
model trained without masks reaches and the error that ignoring the lengths adds
to a model trained with them; the error is also broken down by amount of padding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..i18n import both
from .base import (ExperimentResult, budget_config, clearly_above, fmt_num, mean_std, pm, progress_iter,
                   single_thread_blas, timer)

NAME = "lengths"
TITLE = both("lengths.title")
SETUP = both("lengths.setup")
MODES = ("lengths", "pad-end", "pad-front")

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(cells=("gru",), T=15, steps=200, batch=64, hidden=32, eval_size=600, seeds=2),
    "quick": dict(cells=("rnn-tanh", "gru"), T=20, steps=400, batch=64, hidden=32, eval_size=1000, seeds=3),
    "full": dict(cells=("rnn-tanh", "lstm", "gru"), T=40, steps=2000, batch=64, hidden=32, eval_size=2000, seeds=5),
}


def _inputs(mode: str, x: np.ndarray, lengths: np.ndarray):
    from ..tasks import pad_front

    if mode == "lengths":
        return x, lengths
    if mode == "pad-end":
        return x, None
    return pad_front(x, lengths), None


def run(budget: str = "quick", seed: int = 0, progress: bool = True, **overrides: Any) -> ExperimentResult:
    """Run the experiment at ``budget`` ("tiny", "quick" or "full"; ``overrides`` change single settings).

    Seeds are derived from ``seed``; returns the table rows, curves and arrays as an ExperimentResult.
    """
    from ..models import SequenceModel
    from ..tasks import variable_mean
    from ..training import make_optimizer, train_steps
    from ...nn import MSELoss

    cfg = budget_config(BUDGETS, budget, overrides)
    res = ExperimentResult(NAME, budget, seed, ["cell", "trained_with", "evaluated_with", "seeds", "mse", "mse_std",
                                                "mse_short", "mse_long", "predict_mean_mse"])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    T = cfg["T"]
    seeds = [seed + 17 * i for i in range(cfg["seeds"])]
    runs = []
    with single_thread_blas(), timer(res.meta):
        x_te, y_te, l_te = variable_mean(cfg["eval_size"], T, np.random.default_rng([seed, 7]))
        base = float(np.var(y_te))
        pad = T - l_te
        jobs = [(c, m, s) for c in cfg["cells"] for m in MODES for s in seeds]
        for cell, mode, s in progress_iter(jobs, len(jobs), "lengths", progress):
            rng = np.random.default_rng([s, 1])  # same training batches for every mode
            model = SequenceModel(cell, 1, cfg["hidden"], 1, dtype=np.float64, seed=s)

            def batch(step: int):
                x, y, ell = variable_mean(cfg["batch"], T, rng)
                xi, li = _inputs(mode, x, ell)
                return (xi, y) if li is None else (xi, y, li)

            hist = train_steps(model, batch, MSELoss(), cfg["steps"], make_optimizer("adam", model.parameters(), lr=0.01),
                               clip=5.0)
            if s == seeds[0]:
                res.curves.append({"config": {"cell": cell, "trained_with": mode}, "name": "train_loss",
                                   "x": list(range(1, len(hist.loss) + 1)), "y": hist.loss})
            for ev in MODES:
                xi, li = _inputs(ev, x_te, l_te)
                err = ((model(xi, li) if li is not None else model(xi)) - y_te)[:, 0] ** 2
                runs.append({"cell": cell, "trained_with": mode, "evaluated_with": ev, "seed": s,
                             "mse": float(err.mean()), "mse_short": float(err[pad > T // 2].mean()),
                             "mse_long": float(err[pad <= T // 2].mean()),
                             "by_pad": [float(err[pad == p].mean()) if np.any(pad == p) else float("nan")
                                        for p in range(T - 1)]})
        for cell in cfg["cells"]:
            for tr in MODES:
                for ev in MODES:
                    rs = [r for r in runs if r["cell"] == cell and r["trained_with"] == tr and r["evaluated_with"] == ev]
                    m, sd = mean_std(r["mse"] for r in rs)
                    res.rows.append({"cell": cell, "trained_with": tr, "evaluated_with": ev, "seeds": len(rs),
                                     "mse": m, "mse_std": sd, "mse_short": float(np.mean([r["mse_short"] for r in rs])),
                                     "mse_long": float(np.mean([r["mse_long"] for r in rs])), "predict_mean_mse": base})
                    res.curves.append({"config": {"cell": cell, "trained_with": tr, "evaluated_with": ev},
                                       "name": "mse_by_padding", "x": list(range(T - 1)),
                                       "y": np.nanmean([r["by_pad"] for r in rs], axis=0).tolist()})
        res.tables["runs"] = {"columns": ["cell", "trained_with", "evaluated_with", "seed", "mse", "mse_short",
                                          "mse_long"], "rows": [{k: v for k, v in r.items() if k != "by_pad"}
                                                                for r in runs]}
    return res


def _row(res: ExperimentResult, cell: str, tr: str, ev: str) -> dict:
    return next(r for r in res.rows if r["cell"] == cell and r["trained_with"] == tr and r["evaluated_with"] == ev)


def _mse(res: ExperimentResult, cell: str, tr: str, ev: str) -> float:
    return _row(res, cell, tr, ev)["mse"]


def plot(res: ExperimentResult, outdir: str | Path, lang: str = "en") -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..i18n import tr, value
    from ..plotting import log_axis, new_figure, save

    def L(key: str, **kw) -> str:
        return tr(lang, "lbl." + key, **kw)

    outdir = Path(outdir)
    cells = list(dict.fromkeys(r["cell"] for r in res.rows))
    fig, axes = new_figure(1, len(cells), width=5.2 * len(cells), height=3.8, sharey=True)
    for ax, cell in zip(axes, cells):
        for c in res.curves_named("mse_by_padding"):
            cc = c["config"]
            if cc["cell"] != cell or not (cc["trained_with"] == cc["evaluated_with"] or
                                          (cc["trained_with"] == "lengths" and cc["evaluated_with"] == "pad-end")):
                continue
            lab = value(lang, cc["trained_with"]) if cc["trained_with"] == cc["evaluated_with"] else L("lengths_run_without")
            ax.plot(c["x"], c["y"], marker=".", label=lab)
        ax.set(title=cell, xlabel=L("padding_steps"))
        log_axis(ax)
        ax.legend(fontsize=8)
    axes[0].set_ylabel(L("test_mse"))
    paths = [save(fig, outdir / "lengths_error_by_padding.png")]

    fig, axes = new_figure(1, len(cells), width=5.4 * len(cells), height=3.8)
    names = [value(lang, m) for m in MODES]
    for ax, cell in zip(axes, cells):
        M = np.array([[_mse(res, cell, trm, ev) for ev in MODES] for trm in MODES])
        ax.imshow(np.log10(M), cmap="magma_r")
        for i in range(3):
            for j in range(3):
                ax.text(j, i, fmt_num(M[i, j], 2), ha="center", va="center", fontsize=9,
                        color="w" if np.log10(M[i, j]) > np.log10(M).mean() else "k")
        ax.set_xticks(range(3), names, fontsize=8, rotation=15)
        ax.set_yticks(range(3), names, fontsize=8)
        ax.set(xlabel=L("evaluated_with"), ylabel=L("trained_with"), title=L("matrix_title", cell=cell))
    paths.append(save(fig, outdir / "lengths_matrix.png"))
    return paths


def conclude(res: ExperimentResult, lang: str = "en") -> list[str]:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    from ..i18n import tr

    def C(key: str, **kw) -> str:
        return tr(lang, "lengths.c." + key, **kw)

    out = []
    for cell in dict.fromkeys(r["cell"] for r in res.rows):
        a, b, c = (_row(res, cell, m, m) for m in MODES)
        x = _row(res, cell, "lengths", "pad-end")
        worse = [r for r in (b, c) if clearly_above(r["mse"], r["mse_std"], a["mse"], a["mse_std"])]
        out.append(C("train", cell=cell, n=a["seeds"], a=pm(a["mse"], a["mse_std"]), b=pm(b["mse"], b["mse_std"]),
                     rb=fmt_num(b["mse"] / a["mse"], 2), c=pm(c["mse"], c["mse_std"]), rc=fmt_num(c["mse"] / a["mse"], 2)))
        out[-1] += " " + C(("train_none", "train_one", "train_clear")[len(worse)])
        out.append(C("run", cell=cell, rx=fmt_num(x["mse"] / a["mse"], 2), x=pm(x["mse"], x["mse_std"]),
                     xs=fmt_num(x["mse_short"]), xl=fmt_num(x["mse_long"])))
    out.append(C("base", m=fmt_num(res.rows[0]["predict_mean_mse"])))
    return out
