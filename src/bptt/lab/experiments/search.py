"""search — seed 001's exercise 5: hyper-parameter search with Optuna (grid, random, TPE).

The objective trains bptt's MLP on the two-spirals set (SGD + momentum, mini-batches
of 32, :class:`bptt.train.Trainer`) with a learning rate, a number of epochs and a
hidden size proposed by the sampler, and returns the validation loss. Three
samplers get the same number of trials: a grid, uniform random search and TPE.

A study can live in an Optuna storage (``storage="sqlite:///search.db"`` or any
RDB URL): then several processes or machines running the same command with the
same storage share one sweep (``load_if_exists``), each adding trials.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..i18n import both
from .base import (ExperimentResult, budget_config, clearly_above, fmt_num, mean_std, pm, progress_iter,
                   single_thread_blas, timer)

NAME = "search"
TITLE = both("search.title")
SETUP = both("search.setup")

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(n=400, grid_lr=(0.01, 0.3), grid_epochs=(10, 40), grid_hidden=(8, 32), epochs_range=(5, 40),
                 hidden_choices=(4, 8, 16, 32), samplers=("grid", "random", "tpe"), seeds=2),
    "quick": dict(n=400, grid_lr=(0.003, 0.03, 0.3), grid_epochs=(20, 80), grid_hidden=(8, 32), epochs_range=(10, 80),
                  hidden_choices=(4, 8, 16, 32, 64), samplers=("grid", "random", "tpe"), seeds=3),
    "full": dict(n=400, grid_lr=(0.001, 0.01, 0.03, 0.1, 0.3, 1.0), grid_epochs=(25, 50, 100),
                 grid_hidden=(8, 32), epochs_range=(10, 100), hidden_choices=(4, 8, 16, 32, 64),
                 samplers=("grid", "random", "tpe"), seeds=5),
}


def _optuna():
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - exercised only without optuna
        raise ImportError("the search experiment needs Optuna: pip install 'bptt[lab]'") from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def train_and_validate(lr: float, epochs: int, hidden: int, train, val, seed: int) -> dict[str, float]:
    """The objective: validation loss and accuracy of the MLP after ``epochs`` epochs."""
    from ... import MLP
    from ...optim import SGD
    from ...train.objectives import SupervisedObjective
    from ...train.trainer import Trainer

    model = MLP([2, hidden, hidden, 2], activation="tanh", dtype=np.float64, seed=seed)
    tr = Trainer(SupervisedObjective(model, train, 32, seed=seed), SGD(model.parameters(), lr=lr, momentum=0.9),
                 val_data=val, progress=False)
    hist = tr.fit(epochs)
    last = hist.epochs[-1]
    loss = last.get("val_loss")
    if loss is None or not np.isfinite(loss):  # diverged (too large a learning rate)
        return {"val_loss": float("inf"), "val_accuracy": 0.5}
    return {"val_loss": float(loss), "val_accuracy": float(last["val_accuracy"])}


def run(budget: str = "quick", seed: int = 0, progress: bool = True, storage: str | None = None,
        study_prefix: str = "bptt-search", **overrides: Any) -> ExperimentResult:
    """One study per (sampler, seed), the same number of trials each; with ``storage`` the studies are shared."""
    optuna = _optuna()
    cfg = budget_config(BUDGETS, budget, overrides)
    res = ExperimentResult(NAME, budget, seed, ["sampler", "seed", "trial", "lr", "epochs", "hidden", "val_loss",
                                                "val_accuracy", "seconds"])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    res.meta["storage"] = storage
    grid = {"lr": list(cfg["grid_lr"]), "epochs": list(cfg["grid_epochs"]), "hidden": list(cfg["grid_hidden"])}
    n_trials = int(np.prod([len(v) for v in grid.values()]))
    res.meta["trials_per_sampler"] = n_trials
    seeds = [seed + 17 * i for i in range(cfg["seeds"])]
    with single_thread_blas(), timer(res.meta):
        best_rows, importances = [], {}
        jobs = list(itertools.product(seeds, cfg["samplers"], range(n_trials)))
        bar = progress_iter(jobs, len(jobs), "search", progress)
        for s in seeds:
            objective = _objective(cfg, s)
            samplers = {
                "grid": lambda: optuna.samplers.GridSampler(grid, seed=s),
                "random": lambda: optuna.samplers.RandomSampler(seed=s),
                "tpe": lambda: optuna.samplers.TPESampler(seed=s, n_startup_trials=max(3, n_trials // 3)),
            }
            for name in cfg["samplers"]:
                study = optuna.create_study(study_name=f"{study_prefix}-{name}-{budget}-{s}", storage=storage,
                                            sampler=samplers[name](), direction="minimize",
                                            load_if_exists=storage is not None)
                for _ in range(n_trials):
                    next(bar, None)
                    study.optimize(objective, n_trials=1)
                best_rows.append(_collect(res, study, name, s, optuna))
                if s == seeds[0]:
                    try:
                        importances[name] = {k: float(v) for k, v in optuna.importance.get_param_importances(study).items()}
                    except Exception as exc:  # noqa: BLE001 - importance needs varied trials; say why it is missing
                        importances[name] = {"error": str(exc)}
        for _ in bar:
            pass
        res.tables["best"] = {"columns": ["sampler", "seed", "trials", "best_val_loss", "best_val_accuracy", "lr",
                                          "epochs", "hidden"], "rows": best_rows}
        agg = []
        for name in cfg["samplers"]:
            bs = [b for b in best_rows if b["sampler"] == name]
            m, sd = mean_std(b["best_val_loss"] for b in bs)
            am, asd = mean_std(b["best_val_accuracy"] or 0.0 for b in bs)
            agg.append({"sampler": name, "seeds": len(bs), "best_val_loss_mean": m, "best_val_loss_std": sd,
                        "best_val_accuracy_mean": am, "best_val_accuracy_std": asd})
        res.tables["samplers"] = {"columns": ["sampler", "seeds", "best_val_loss_mean", "best_val_loss_std",
                                              "best_val_accuracy_mean", "best_val_accuracy_std"], "rows": agg}
        res.meta["importances"] = importances
    return res


def _objective(cfg: dict[str, Any], seed: int):
    """The study's objective for one seed: the data split and the network's initial weights follow ``seed``."""
    from ...data import make_spirals

    data = make_spirals(cfg["n"], 0.05, seed=seed, turns=1.0, dtype=np.float64)
    train, val = data.split(0.25, seed=seed)

    def objective(trial) -> float:
        lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)
        epochs = trial.suggest_int("epochs", *cfg["epochs_range"])
        hidden = trial.suggest_categorical("hidden", list(cfg["hidden_choices"]))
        t0 = time.perf_counter()
        out = train_and_validate(lr, epochs, hidden, train, val, seed)
        trial.set_user_attr("val_accuracy", out["val_accuracy"])
        trial.set_user_attr("seconds", time.perf_counter() - t0)
        return out["val_loss"]

    return objective


def _collect(res: ExperimentResult, study, name: str, seed: int, optuna) -> dict[str, Any]:
    """The study's trials into the rows, its best-so-far curve, and its best trial."""
    trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    for t in trials:
        res.rows.append({"sampler": name, "seed": seed, "trial": t.number, "lr": t.params["lr"],
                         "epochs": t.params["epochs"], "hidden": t.params["hidden"], "val_loss": t.value,
                         "val_accuracy": t.user_attrs.get("val_accuracy"), "seconds": t.user_attrs.get("seconds")})
    values = [t.value for t in trials]
    res.curves.append({"config": {"sampler": name, "seed": seed}, "name": "best_so_far",
                       "x": list(range(1, len(values) + 1)), "y": np.minimum.accumulate(values).tolist()})
    b = study.best_trial
    return {"sampler": name, "seed": seed, "trials": len(trials), "best_val_loss": b.value,
            "best_val_accuracy": b.user_attrs.get("val_accuracy"), "lr": b.params["lr"], "epochs": b.params["epochs"],
            "hidden": b.params["hidden"]}


def plot(res: ExperimentResult, outdir: str | Path, lang: str = "en") -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..i18n import tr, value
    from ..plotting import log_axis, new_figure, save

    def L(key: str, **kw) -> str:
        return tr(lang, "lbl." + key, **kw)

    outdir = Path(outdir)
    paths = []
    fig, axes = new_figure(1, 2, width=11, height=4.0)
    samplers = list(dict.fromkeys(r["sampler"] for r in res.rows))
    for i, name in enumerate(samplers):
        cs = [c for c in res.curves_named("best_so_far") if c["config"]["sampler"] == name]
        n = min(len(c["y"]) for c in cs)
        Y = np.array([c["y"][:n] for c in cs], dtype=np.float64)
        x = cs[0]["x"][:n]
        axes[0].plot(x, np.exp(np.mean(np.log(Y), axis=0)), marker=".", color=f"C{i}", label=value(lang, name))
        axes[0].fill_between(x, Y.min(axis=0), Y.max(axis=0), color=f"C{i}", alpha=0.15)
    axes[0].set(xlabel=L("trial"), ylabel=L("best_so_far"), title=L("search_progress"))
    log_axis(axes[0])
    axes[0].legend(fontsize=8)
    finite = [r for r in res.rows if np.isfinite(r["val_loss"])]
    for name in samplers:
        rr = [r for r in finite if r["sampler"] == name]
        axes[1].scatter([r["lr"] for r in rr], [r["val_loss"] for r in rr], s=[4 + r["epochs"] / 3 for r in rr],
                        alpha=0.6, label=value(lang, name))
    axes[1].set(xlabel=L("learning_rate"), ylabel=L("val_loss"), title=L("every_trial"))
    log_axis(axes[1])
    log_axis(axes[1], "x")
    axes[1].legend(fontsize=8)
    paths.append(save(fig, outdir / "search_trials.png"))

    imps = {k: v for k, v in res.meta.get("importances", {}).items() if "error" not in v}
    if imps:
        params = sorted({p for v in imps.values() for p in v})
        fig, axes = new_figure(1, 1, width=5.8, height=3.6)
        w = 0.8 / len(imps)
        for i, (name, v) in enumerate(imps.items()):
            axes[0].bar(np.arange(len(params)) + i * w, [v.get(p, 0.0) for p in params], width=w,
                        label=value(lang, name))
        axes[0].set_xticks(np.arange(len(params)) + 0.4 - w / 2, [value(lang, p) for p in params])
        axes[0].set(ylabel=L("importance"), title=L("importance_title"))
        axes[0].legend(fontsize=8)
        paths.append(save(fig, outdir / "search_importance.png"))
    return paths


def conclude(res: ExperimentResult, lang: str = "en") -> list[str]:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    from ..i18n import tr, value

    def C(key: str, **kw) -> str:
        return tr(lang, "search.c." + key, **kw)

    agg = res.tables["samplers"]["rows"]
    out = [C("best", n=res.meta["trials_per_sampler"], k=agg[0]["seeds"], items="; ".join(
        f"{value(lang, a['sampler'])} {pm(a['best_val_loss_mean'], a['best_val_loss_std'])}" for a in agg))]
    top = min(agg, key=lambda a: a["best_val_loss_mean"])
    ties = [a for a in agg if a is not top and not clearly_above(a["best_val_loss_mean"], a["best_val_loss_std"],
                                                                 top["best_val_loss_mean"], top["best_val_loss_std"])]
    out[-1] += " " + (C("ties", s=value(lang, top["sampler"]), ties=", ".join(value(lang, a["sampler"]) for a in ties))
                      if ties else C("clear", s=value(lang, top["sampler"])))
    w = min(res.tables["best"]["rows"], key=lambda b: b["best_val_loss"])
    out.append(C("winner", s=value(lang, w["sampler"]), lr=fmt_num(w["lr"]), ep=w["epochs"], h=w["hidden"],
                 acc=f"{100 * (w['best_val_accuracy'] or 0.0):.1f} %"))
    imps = {k: v for k, v in res.meta.get("importances", {}).items() if "error" not in v and v}
    if imps:
        name = "tpe" if "tpe" in imps else next(iter(imps))
        p, v = max(imps[name].items(), key=lambda kv: kv[1])
        out.append(C("imp", s=value(lang, name), p=value(lang, p), v=f"{100 * v:.0f} %"))
    k = sum(1 for r in res.rows if not np.isfinite(r["val_loss"]))
    if k:
        out.append(C("diverged", k=k))
    return out
