"""batch-size — seed 001's exercise 4: from one example at a time (SGD) to the whole set.

The same MLP [2, 32, 32, 2] (tanh) and the same plain SGD step size on the two-moons
set, trained by :class:`bptt.train.Trainer` for a fixed number of epochs with
mini-batches of 1, 8, 32, 128 … and the full training set. Recorded: the training
loss after every step and epoch, the validation loss per epoch, the wall time, and
the noise of the per-step loss in the last epoch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..i18n import both
from .base import (ExperimentResult, budget_config, clearly_above, fmt_num, mean_std, pm, progress_iter,
                   single_thread_blas, timer)

NAME = "batch-size"
TITLE = both("batch-size.title")
SETUP = both("batch-size.setup")

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(n=640, epochs=8, batch_sizes=(1, 32, 512), lr=0.1, seeds=2),
    "quick": dict(n=640, epochs=30, batch_sizes=(1, 8, 32, 128, 512), lr=0.1, seeds=3),
    "full": dict(n=640, epochs=100, batch_sizes=(1, 2, 8, 32, 64, 128, 256, 512), lr=0.1, seeds=5),
}
TARGET = 0.3  # validation loss to reach


def last_epochs_mean(values: list[float]) -> float:
    """The mean over the last tenth of the epochs (at least 1): one epoch's value is noise, not a result."""
    k = max(1, len(values) // 10)
    return float(np.mean(values[-k:]))


def _one(bs: int, seed: int, train, val, cfg: dict[str, Any]) -> dict[str, Any]:
    from ... import MLP
    from ...optim import SGD
    from ...train.objectives import SupervisedObjective
    from ...train.trainer import Trainer

    model = MLP([2, 32, 32, 2], activation="tanh", dtype=np.float64, seed=seed)
    obj = SupervisedObjective(model, train, bs, seed=seed)
    hist = Trainer(obj, SGD(model.parameters(), lr=cfg["lr"]), val_data=val, progress=False).fit(cfg["epochs"])
    ep = hist.epochs[1:]
    spe = obj.num_batches()
    last_steps = [s["loss"] for s in hist.steps[-spe:]]
    wall = np.cumsum([e["seconds"] for e in ep])
    reach = next((e["epoch"] for e in ep if e["val_loss"] < TARGET), None)
    return {"batch_size": bs, "seed": seed, "steps_per_epoch": spe, "steps": len(hist.steps),
            "train_loss": last_epochs_mean([e["train_loss"] for e in ep]),
            "val_loss": last_epochs_mean([e["val_loss"] for e in ep]),
            "val_accuracy": last_epochs_mean([e["val_accuracy"] for e in ep]), "seconds": float(wall[-1]),
            "seconds_per_epoch": float(wall[-1] / len(ep)),
            "step_loss_std": float(np.std(last_steps)) if len(last_steps) > 1 else 0.0,
            "epochs_to_target": np.nan if reach is None else float(reach),
            "seconds_to_target": np.nan if reach is None else float(wall[reach - 1]), "hist": hist, "wall": wall}


def run(budget: str = "quick", seed: int = 0, progress: bool = True, **overrides: Any) -> ExperimentResult:
    """Run the experiment at ``budget`` ("tiny", "quick" or "full"; ``overrides`` change single settings).

    Seeds are derived from ``seed``; returns the table rows, curves and arrays as an ExperimentResult.
    """
    from ...data import make_moons

    cfg = budget_config(BUDGETS, budget, overrides)
    res = ExperimentResult(NAME, budget, seed, ["batch_size", "steps_per_epoch", "steps", "seeds", "val_loss_mean",
                                                "val_loss_std", "val_accuracy_mean", "val_accuracy_std",
                                                "seconds_per_epoch", "step_loss_std", "reached",
                                                "epochs_to_target_mean", "seconds_to_target_mean"])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    seeds = [seed + 17 * i for i in range(cfg["seeds"])]
    runs = []
    with single_thread_blas(), timer(res.meta):
        data = make_moons(cfg["n"], 0.2, seed=seed, dtype=np.float64)
        train, val = data.split(0.2, seed=seed)
        sizes = [min(b, len(train)) for b in cfg["batch_sizes"]]
        jobs = [(bs, s) for bs in sizes for s in seeds]
        for bs, s in progress_iter(jobs, len(jobs), "batch-size", progress):
            r = _one(bs, s, train, val, cfg)
            hist, wall = r.pop("hist"), r.pop("wall")
            runs.append(r)
            if s != seeds[0]:
                continue
            c = {"batch_size": bs}  # curves of the first seed (the table has every seed)
            res.curves.append({"config": c, "name": "val_loss_vs_epoch", "x": [e["epoch"] for e in hist.epochs],
                               "y": [e["val_loss"] for e in hist.epochs]})
            res.curves.append({"config": c, "name": "val_loss_vs_seconds", "x": [0.0] + [float(v) for v in wall],
                               "y": [e["val_loss"] for e in hist.epochs]})
            spe = r["steps_per_epoch"]
            stride = max(1, len(hist.steps) // 2000)  # keep the curve light for batch size 1
            res.curves.append({"config": c, "name": "step_loss", "x": [st["step"] / spe for st in hist.steps[::stride]],
                               "y": [st["loss"] for st in hist.steps[::stride]]})
        for bs in sizes:
            rs = [r for r in runs if r["batch_size"] == bs]
            reached = [r for r in rs if np.isfinite(r["epochs_to_target"])]
            vm, vs = mean_std(r["val_loss"] for r in rs)
            am, as_ = mean_std(r["val_accuracy"] for r in rs)
            res.rows.append({"batch_size": bs, "steps_per_epoch": rs[0]["steps_per_epoch"], "steps": rs[0]["steps"],
                             "seeds": len(rs), "val_loss_mean": vm, "val_loss_std": vs, "val_accuracy_mean": am,
                             "val_accuracy_std": as_,
                             "seconds_per_epoch": float(np.mean([r["seconds_per_epoch"] for r in rs])),
                             "step_loss_std": float(np.mean([r["step_loss_std"] for r in rs])),
                             "reached": f"{len(reached)}/{len(rs)}",
                             "epochs_to_target_mean": mean_std(r["epochs_to_target"] for r in reached)[0],
                             "seconds_to_target_mean": mean_std(r["seconds_to_target"] for r in reached)[0]})
        res.tables["runs"] = {"columns": ["batch_size", "seed", "val_loss", "val_accuracy", "seconds_per_epoch",
                                          "step_loss_std", "epochs_to_target"], "rows": runs}
    return res


def plot(res: ExperimentResult, outdir: str | Path, lang: str = "en") -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..i18n import tr
    from ..plotting import legend, log_axis, new_figure, save

    def L(key: str) -> str:
        return tr(lang, "lbl." + key)

    outdir = Path(outdir)
    fig, axes = new_figure(1, 3, width=14, height=4.0)
    for c in res.curves_named("step_loss"):
        axes[0].plot(c["x"], c["y"], lw=0.6, alpha=0.7, label=f"B = {c['config']['batch_size']}")
    for c in res.curves_named("val_loss_vs_epoch"):
        axes[1].plot(c["x"], c["y"], marker=".", label=f"B = {c['config']['batch_size']}")
    for c in res.curves_named("val_loss_vs_seconds"):
        axes[2].plot(c["x"], c["y"], marker=".", label=f"B = {c['config']['batch_size']}")
    axes[0].set(xlabel=L("epoch"), ylabel=L("step_loss"), title=L("stability"))
    axes[1].set(xlabel=L("epoch"), ylabel=L("val_loss"), title=L("per_epoch"))
    axes[2].set(xlabel=L("wall_s"), ylabel=L("val_loss"), title=L("per_second"))
    for ax in axes:
        log_axis(ax)
    legend(fig, axes[1], ncol=len(res.rows), title=L("batch_legend"))
    return [save(fig, outdir / "batch_size_curves.png")]


def conclude(res: ExperimentResult, lang: str = "en") -> list[str]:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    from ..i18n import plural, tr

    def C(key: str, **kw) -> str:
        return tr(lang, "batch-size.c." + key, **kw)

    rows = sorted(res.rows, key=lambda r: r["batch_size"])
    best = min(rows, key=lambda r: r["val_loss_mean"])
    full, one = rows[-1], rows[0]
    ties = [r for r in rows if r is not best and not clearly_above(r["val_loss_mean"], r["val_loss_std"],
                                                                    best["val_loss_mean"], best["val_loss_std"])]
    out = [C("best", epochs=res.meta["config"]["epochs"], bs=best["batch_size"],
             v=pm(best["val_loss_mean"], best["val_loss_std"]), n=best["seeds"])]
    out[-1] += " " + (C("ties", items=", ".join(f"B = {r['batch_size']} ({pm(r['val_loss_mean'], r['val_loss_std'])})"
                                                for r in ties)) if ties else C("no_ties"))
    if full is not best:
        out.append(C("full", full=full["batch_size"], v=pm(full["val_loss_mean"], full["val_loss_std"]),
                     steps=full["steps"]))
    out.append(C("time", t1=fmt_num(one["seconds_per_epoch"]), tf=fmt_num(full["seconds_per_epoch"]),
                 ratio=fmt_num(one["seconds_per_epoch"] / max(full["seconds_per_epoch"], 1e-12), 2)))
    mid = [r for r in rows if 1 < r["batch_size"] < full["batch_size"]]
    other = mid[-1] if mid else full
    out.append(C("noise", n1=fmt_num(one["step_loss_std"]), n2=fmt_num(other["step_loss_std"]), b2=other["batch_size"]))
    out.append(C("reach", target=TARGET, items="; ".join(
        f"B = {r['batch_size']}: " + (plural(lang, round(r["epochs_to_target_mean"], 1), "epoch") + f" ({r['reached']})"
                                      if np.isfinite(r["epochs_to_target_mean"]) else tr(lang, "word.never"))
        for r in rows)))
    ok = [r for r in rows if np.isfinite(r["seconds_to_target_mean"])]
    if ok:
        f = min(ok, key=lambda r: r["seconds_to_target_mean"])
        out.append(C("fastest", bs=f["batch_size"], t=fmt_num(f["seconds_to_target_mean"], 2)))
    return out
