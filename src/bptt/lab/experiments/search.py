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

from .base import ExperimentResult, budget_config, fmt_num, progress_iter, single_thread_blas, timer

NAME = "search"
TITLE = {"en": "Hyper-parameter search: grid, random and TPE (Optuna)",
         "es": "Búsqueda de hiperparámetros: cuadrícula, aleatoria y TPE (Optuna)"}
SETUP = {
    "en": "Seed 001, exercise 5. Learning rate (log-uniform 1e-3 … 1), epochs and hidden size of an MLP [2, h, h, 2] "
          "(tanh) on two spirals (300 train, 100 validation points), SGD with momentum 0.9, mini-batches of 32; the "
          "objective is the validation loss after training. Optuna's GridSampler, RandomSampler and TPESampler get the "
          "same number of trials.",
    "es": "Semilla 001, ejercicio 5. Tasa de aprendizaje (log-uniforme 1e-3 … 1), épocas y tamaño oculto de un MLP "
          "[2, h, h, 2] (tanh) sobre dos espirales (300 puntos de entrenamiento, 100 de validación), SGD con momento "
          "0.9, mini-lotes de 32; el objetivo es la pérdida de validación tras entrenar. GridSampler, RandomSampler y "
          "TPESampler de Optuna reciben el mismo número de ensayos.",
}

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(n=400, grid_lr=(0.01, 0.3), grid_epochs=(10, 40), grid_hidden=(8, 32), epochs_range=(5, 40),
                 hidden_choices=(4, 8, 16, 32), samplers=("grid", "random", "tpe")),
    "quick": dict(n=400, grid_lr=(0.003, 0.03, 0.3), grid_epochs=(20, 80), grid_hidden=(8, 32), epochs_range=(10, 80),
                  hidden_choices=(4, 8, 16, 32, 64), samplers=("grid", "random", "tpe")),
    "full": dict(n=400, grid_lr=(0.001, 0.01, 0.03, 0.1, 0.3, 1.0), grid_epochs=(25, 50, 100),
                 grid_hidden=(8, 32), epochs_range=(10, 100), hidden_choices=(4, 8, 16, 32, 64),
                 samplers=("grid", "random", "tpe")),
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
    """One study per sampler (same number of trials); with ``storage`` the studies are shared/resumable."""
    from ...data import make_spirals

    optuna = _optuna()
    cfg = budget_config(BUDGETS, budget, overrides)
    res = ExperimentResult(NAME, budget, seed, ["sampler", "trial", "lr", "epochs", "hidden", "val_loss", "val_accuracy",
                                                "seconds"])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    res.meta["storage"] = storage
    grid = {"lr": list(cfg["grid_lr"]), "epochs": list(cfg["grid_epochs"]), "hidden": list(cfg["grid_hidden"])}
    n_trials = int(np.prod([len(v) for v in grid.values()]))
    res.meta["trials_per_sampler"] = n_trials
    with single_thread_blas(), timer(res.meta):
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

        samplers = {
            "grid": lambda: optuna.samplers.GridSampler(grid, seed=seed),
            "random": lambda: optuna.samplers.RandomSampler(seed=seed),
            "tpe": lambda: optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(3, n_trials // 3)),
        }
        best_rows, importances = [], {}
        jobs = list(itertools.product(cfg["samplers"], range(n_trials)))
        bar = progress_iter(jobs, len(jobs), "search", progress)
        for name in cfg["samplers"]:
            study = optuna.create_study(study_name=f"{study_prefix}-{name}-{budget}-{seed}", storage=storage,
                                        sampler=samplers[name](), direction="minimize", load_if_exists=storage is not None)
            for _ in range(n_trials):
                next(bar, None)
                study.optimize(objective, n_trials=1)
            trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
            for t in trials:
                res.rows.append({"sampler": name, "trial": t.number, "lr": t.params["lr"], "epochs": t.params["epochs"],
                                 "hidden": t.params["hidden"], "val_loss": t.value,
                                 "val_accuracy": t.user_attrs.get("val_accuracy"), "seconds": t.user_attrs.get("seconds")})
            values = [t.value for t in trials]
            res.curves.append({"config": {"sampler": name}, "name": "best_so_far", "x": list(range(1, len(values) + 1)),
                               "y": np.minimum.accumulate(values).tolist()})
            b = study.best_trial
            best_rows.append({"sampler": name, "trials": len(trials), "best_val_loss": b.value,
                              "best_val_accuracy": b.user_attrs.get("val_accuracy"), "lr": b.params["lr"],
                              "epochs": b.params["epochs"], "hidden": b.params["hidden"]})
            try:
                importances[name] = {k: float(v) for k, v in optuna.importance.get_param_importances(study).items()}
            except Exception as exc:  # noqa: BLE001 - importance needs varied trials; say why it is missing
                importances[name] = {"error": str(exc)}
        for _ in bar:
            pass
        res.tables["best"] = {"columns": ["sampler", "trials", "best_val_loss", "best_val_accuracy", "lr", "epochs", "hidden"],
                              "rows": best_rows}
        res.meta["importances"] = importances
    return res


def plot(res: ExperimentResult, outdir: str | Path) -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..plotting import new_figure, save

    outdir = Path(outdir)
    paths = []
    fig, axes = new_figure(1, 2, width=10, height=3.6)
    for c in res.curves_named("best_so_far"):
        axes[0].plot(c["x"], c["y"], marker=".", label=c["config"]["sampler"])
    axes[0].set(xlabel="trial", ylabel="best validation loss so far", yscale="log", title="search progress")
    axes[0].legend(fontsize=8)
    finite = [r for r in res.rows if np.isfinite(r["val_loss"])]
    for name in dict.fromkeys(r["sampler"] for r in res.rows):
        rr = [r for r in finite if r["sampler"] == name]
        axes[1].scatter([r["lr"] for r in rr], [r["val_loss"] for r in rr], s=[4 + r["epochs"] / 3 for r in rr],
                        alpha=0.7, label=name)
    axes[1].set(xscale="log", yscale="log", xlabel="learning rate", ylabel="validation loss",
                title="every trial (size ∝ epochs)")
    axes[1].legend(fontsize=8)
    paths.append(save(fig, outdir / "search_trials.png"))

    imps = {k: v for k, v in res.meta.get("importances", {}).items() if "error" not in v}
    if imps:
        params = sorted({p for v in imps.values() for p in v})
        fig, axes = new_figure(1, 1, width=5.5, height=3.4)
        w = 0.8 / len(imps)
        for i, (name, v) in enumerate(imps.items()):
            axes[0].bar(np.arange(len(params)) + i * w, [v.get(p, 0.0) for p in params], width=w, label=name)
        axes[0].set_xticks(np.arange(len(params)) + 0.4 - w / 2, params)
        axes[0].set(ylabel="importance (Optuna)", title="hyper-parameter importance")
        axes[0].legend(fontsize=8)
        paths.append(save(fig, outdir / "search_importance.png"))
    return paths


_C = {
    "en": {
        "best": "With {n} trials each, the best validation loss was {items}. ",
        "winner": "Overall best: {s} with lr = {lr}, {ep} epochs, hidden size {h} (validation accuracy {acc:.1%}). ",
        "imp": "Most important hyper-parameter (Optuna, {s} study): {p} ({v:.0%}).",
        "diverged": " {k} trial(s) diverged (too large a learning rate).",
    },
    "es": {
        "best": "Con {n} ensayos cada uno, la mejor pérdida de validación fue {items}. ",
        "winner": "Mejor en total: {s} con lr = {lr}, {ep} épocas, tamaño oculto {h} (precisión de validación "
                  "{acc:.1%}). ",
        "imp": "Hiperparámetro más importante (Optuna, estudio {s}): {p} ({v:.0%}).",
        "diverged": " {k} ensayo(s) divergieron (tasa de aprendizaje demasiado grande).",
    },
}


def conclude(res: ExperimentResult, lang: str = "en") -> str:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    C = _C[lang]
    best = res.tables["best"]["rows"]
    out = [C["best"].format(n=res.meta["trials_per_sampler"],
                            items=", ".join(f"{b['sampler']} {fmt_num(b['best_val_loss'])}" for b in best))]
    w = min(best, key=lambda b: b["best_val_loss"])
    out.append(C["winner"].format(s=w["sampler"], lr=fmt_num(w["lr"]), ep=w["epochs"], h=w["hidden"],
                                  acc=w["best_val_accuracy"] or 0.0))
    imps = {k: v for k, v in res.meta.get("importances", {}).items() if "error" not in v and v}
    if imps:
        name = "tpe" if "tpe" in imps else next(iter(imps))
        p, v = max(imps[name].items(), key=lambda kv: kv[1])
        out.append(C["imp"].format(s=name, p=p, v=v))
    k = sum(1 for r in res.rows if not np.isfinite(r["val_loss"]))
    if k:
        out.append(C["diverged"].format(k=k))
    return "".join(out)
