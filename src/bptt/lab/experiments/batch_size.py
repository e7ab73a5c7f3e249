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

from .base import ExperimentResult, budget_config, fmt_num, progress_iter, single_thread_blas, timer

NAME = "batch-size"
TITLE = {"en": "Mini-batch size: from SGD to full batch", "es": "Tamaño del mini-lote: de SGD al lote completo"}
SETUP = {
    "en": "Seed 001, exercise 4. An MLP [2, 32, 32, 2] (tanh) on two moons (noise 0.2; 512 train, 128 validation "
          "points), cross-entropy, plain SGD with the same learning rate for every batch size, the same number of "
          "epochs; batch size 1 is stochastic gradient descent, the largest is the whole training set.",
    "es": "Semilla 001, ejercicio 4. Un MLP [2, 32, 32, 2] (tanh) sobre dos lunas (ruido 0.2; 512 puntos de "
          "entrenamiento, 128 de validación), entropía cruzada, SGD simple con la misma tasa de aprendizaje para "
          "todos los tamaños de lote y el mismo número de épocas; el lote de 1 es descenso de gradiente estocástico y "
          "el mayor es todo el conjunto de entrenamiento.",
}

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(n=640, epochs=8, batch_sizes=(1, 32, 512), lr=0.1),
    "quick": dict(n=640, epochs=30, batch_sizes=(1, 8, 32, 128, 512), lr=0.1),
    "full": dict(n=640, epochs=100, batch_sizes=(1, 2, 8, 32, 64, 128, 256, 512), lr=0.1),
}


def run(budget: str = "quick", seed: int = 0, progress: bool = True, **overrides: Any) -> ExperimentResult:
    """Run the experiment at ``budget`` ("tiny", "quick" or "full"; ``overrides`` change single settings).

    Seeds are derived from ``seed``; returns the table rows, curves and arrays as an ExperimentResult.
    """
    from ... import MLP
    from ...data import make_moons
    from ...optim import SGD
    from ...train.objectives import SupervisedObjective
    from ...train.trainer import Trainer

    cfg = budget_config(BUDGETS, budget, overrides)
    res = ExperimentResult(NAME, budget, seed, ["batch_size", "steps_per_epoch", "steps", "final_train_loss",
                                                "final_val_loss", "val_accuracy", "seconds", "seconds_per_epoch",
                                                "step_loss_std_last_epoch", "epochs_to_val_loss_0.3",
                                                "seconds_to_val_loss_0.3"])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    with single_thread_blas(), timer(res.meta):
        data = make_moons(cfg["n"], 0.2, seed=seed, dtype=np.float64)
        train, val = data.split(0.2, seed=seed)
        sizes = [min(b, len(train)) for b in cfg["batch_sizes"]]
        for bs in progress_iter(sizes, len(sizes), "batch-size", progress):
            model = MLP([2, 32, 32, 2], activation="tanh", dtype=np.float64, seed=seed)
            obj = SupervisedObjective(model, train, bs, seed=seed)
            tr = Trainer(obj, SGD(model.parameters(), lr=cfg["lr"]), val_data=val, progress=False)
            hist = tr.fit(cfg["epochs"])
            ep = hist.epochs[1:]
            spe = obj.num_batches()
            last_steps = [s["loss"] for s in hist.steps[-spe:]]
            wall = np.cumsum([e["seconds"] for e in ep])
            reach = next((e["epoch"] for e in ep if e["val_loss"] < 0.3), None)
            res.rows.append({"batch_size": bs, "steps_per_epoch": spe, "steps": len(hist.steps),
                             "final_train_loss": ep[-1]["train_loss"], "final_val_loss": ep[-1]["val_loss"],
                             "val_accuracy": ep[-1]["val_accuracy"], "seconds": float(wall[-1]),
                             "seconds_per_epoch": float(wall[-1] / len(ep)),
                             "step_loss_std_last_epoch": float(np.std(last_steps)) if len(last_steps) > 1 else 0.0,
                             "epochs_to_val_loss_0.3": np.nan if reach is None else float(reach),
                             "seconds_to_val_loss_0.3": np.nan if reach is None else float(wall[reach - 1])})
            c = {"batch_size": bs}
            x0 = [0.0] + [float(v) for v in wall]
            res.curves.append({"config": c, "name": "val_loss_vs_epoch", "x": [e["epoch"] for e in hist.epochs],
                               "y": [e["val_loss"] for e in hist.epochs]})
            res.curves.append({"config": c, "name": "val_loss_vs_seconds", "x": x0, "y": [e["val_loss"] for e in hist.epochs]})
            stride = max(1, len(hist.steps) // 2000)  # keep the curve light for batch size 1
            res.curves.append({"config": c, "name": "step_loss", "x": [s["step"] / spe for s in hist.steps[::stride]],
                               "y": [s["loss"] for s in hist.steps[::stride]]})
    return res


def plot(res: ExperimentResult, outdir: str | Path) -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..plotting import new_figure, save

    outdir = Path(outdir)
    fig, axes = new_figure(1, 3, width=14, height=3.6)
    for c in res.curves_named("step_loss"):
        axes[0].plot(c["x"], c["y"], lw=0.6, alpha=0.7, label=f"B={c['config']['batch_size']}")
    for c in res.curves_named("val_loss_vs_epoch"):
        axes[1].plot(c["x"], c["y"], marker=".", label=f"B={c['config']['batch_size']}")
    for c in res.curves_named("val_loss_vs_seconds"):
        axes[2].plot(c["x"], c["y"], marker=".", label=f"B={c['config']['batch_size']}")
    axes[0].set(xlabel="epoch", ylabel="training loss per step", title="stability")
    axes[1].set(xlabel="epoch", ylabel="validation loss", title="per epoch")
    axes[2].set(xlabel="wall time (s)", ylabel="validation loss", title="per second")
    for ax in axes:
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    return [save(fig, outdir / "batch_size_curves.png")]


_C = {
    "en": {
        "best": "After {epochs} epochs with the same learning rate, the lowest validation loss is {best} with batch "
                "size {bs}; the full batch ({full}) ends at {fullv} after only {steps} steps. ",
        "time": "Per epoch, batch size 1 takes {t1} s and the full batch {tf} s ({ratio}× faster per epoch). ",
        "noise": "The per-step training loss in the last epoch fluctuates with std {n1} at batch size 1 and {n2} at {b2}.",
        "reach": " Validation loss below 0.3 first reached: {items}.",
        "fastest": " Fastest there in wall time: batch size {bs} ({t} s).",
        "never": "never",
        "epochs": "epochs",
    },
    "es": {
        "best": "Tras {epochs} épocas con la misma tasa de aprendizaje, la menor pérdida de validación es {best} con "
                "lotes de {bs}; el lote completo ({full}) termina en {fullv} tras solo {steps} pasos. ",
        "time": "Por época, el lote de 1 tarda {t1} s y el lote completo {tf} s ({ratio}× más rápido por época). ",
        "noise": "La pérdida de entrenamiento por paso en la última época fluctúa con desviación {n1} con lotes de 1 "
                 "y {n2} con {b2}.",
        "reach": " Pérdida de validación por debajo de 0.3 alcanzada por primera vez: {items}.",
        "fastest": " El más rápido en tiempo real: lotes de {bs} ({t} s).",
        "never": "nunca",
        "epochs": "épocas",
    },
}


def conclude(res: ExperimentResult, lang: str = "en") -> str:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    C = _C[lang]
    rows = sorted(res.rows, key=lambda r: r["batch_size"])
    best = min(rows, key=lambda r: r["final_val_loss"])
    full, one = rows[-1], rows[0]
    out = [C["best"].format(epochs=res.meta["config"]["epochs"], best=fmt_num(best["final_val_loss"]),
                            bs=best["batch_size"], full=full["batch_size"], fullv=fmt_num(full["final_val_loss"]),
                            steps=full["steps"])]
    out.append(C["time"].format(t1=fmt_num(one["seconds_per_epoch"]), tf=fmt_num(full["seconds_per_epoch"]),
                                ratio=fmt_num(one["seconds_per_epoch"] / max(full["seconds_per_epoch"], 1e-12), 2)))
    mid = [r for r in rows if 1 < r["batch_size"] < full["batch_size"]]
    other = mid[-1] if mid else full
    out.append(C["noise"].format(n1=fmt_num(one["step_loss_std_last_epoch"]), n2=fmt_num(other["step_loss_std_last_epoch"]),
                                 b2=other["batch_size"]))
    out.append(C["reach"].format(items=", ".join(
        f"B={r['batch_size']} " + (f"{int(r['epochs_to_val_loss_0.3'])} {C['epochs']}" if np.isfinite(r["epochs_to_val_loss_0.3"])
                                    else C["never"]) for r in rows)))
    ok = [r for r in rows if np.isfinite(r["seconds_to_val_loss_0.3"])]
    if ok:
        f = min(ok, key=lambda r: r["seconds_to_val_loss_0.3"])
        out.append(C["fastest"].format(bs=f["batch_size"], t=fmt_num(f["seconds_to_val_loss_0.3"])))
    return "".join(out)
