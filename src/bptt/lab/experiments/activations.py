"""activations — seed 001's exercise 2 (MLP) and BPTT exercise 5 (RNN): tanh, sigmoid, ReLU, leaky ReLU.

* MLP [2, 32, 32, 32, 2] on the two-spirals set (bptt.data), softmax + cross-entropy,
  SGD with momentum, mini-batches of 32, trained by :class:`bptt.train.Trainer`;
  per run: epochs to reach 90 % training accuracy (convergence speed), final train /
  validation loss and accuracy, and the gradient norm of every weight matrix at
  every step (how much signal reaches the first layer vs the last).
* Elman RNN (tanh / sigmoid / ReLU) + linear read-out forecasting a noisy sine
  one step ahead (T = 30, every step), Adam; per run: steps to reach test MSE 0.03
  and final test MSE, and the gradient norms of W_ih, W_hh and the read-out.

Every configuration is trained with several seeds; the tables give mean ± std.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .base import ExperimentResult, budget_config, fmt_num, mean_std, progress_iter, single_thread_blas, timer

NAME = "activations"
TITLE = {
    "en": "Activation functions: convergence, accuracy and gradient flow",
    "es": "Funciones de activación: convergencia, precisión y flujo del gradiente",
}
SETUP = {
    "en": "Seed 001, exercise 2 and the BPTT exercise 5. An MLP [2, 32, 32, 32, 2] (tanh / sigmoid / ReLU / leaky ReLU "
          "hidden units) on the two-spirals set (75 % train, 25 % validation), cross-entropy, SGD (momentum 0.9) with "
          "mini-batches of 32; and an Elman RNN (tanh / sigmoid / ReLU, 32 units) + linear read-out forecasting a "
          "noisy sine one step ahead at every step (T = 30), MSE, Adam. Several seeds per configuration: mean ± "
          "standard deviation.",
    "es": "Semilla 001, ejercicio 2 y el ejercicio 5 de BPTT. Un MLP [2, 32, 32, 32, 2] (unidades ocultas tanh / "
          "sigmoide / ReLU / leaky ReLU) sobre el conjunto de dos espirales (75 % entrenamiento, 25 % validación), "
          "entropía cruzada, SGD (momento 0.9) con mini-lotes de 32; y una RNN de Elman (tanh / sigmoide / ReLU, 32 "
          "unidades) + lectura lineal que pronostica un seno con ruido un paso adelante en cada paso (T = 30), MSE, "
          "Adam. Varias semillas por configuración: media ± desviación estándar.",
}

MLP_ACTS = ("tanh", "sigmoid", "relu", "leaky_relu")
RNN_ACTS = ("tanh", "sigmoid", "relu")

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(seeds=2, n=400, epochs=40, lr=0.05, rnn_T=30, rnn_steps=150, rnn_batch=32, rnn_hidden=32,
                 mlp_acts=MLP_ACTS, rnn_acts=RNN_ACTS, target_acc=0.9, target_mse=0.03),
    "quick": dict(seeds=3, n=600, epochs=100, lr=0.05, rnn_T=30, rnn_steps=300, rnn_batch=32, rnn_hidden=32,
                  mlp_acts=MLP_ACTS, rnn_acts=RNN_ACTS, target_acc=0.9, target_mse=0.03),
    "full": dict(seeds=5, n=1000, epochs=300, lr=0.05, rnn_T=30, rnn_steps=1500, rnn_batch=32, rnn_hidden=32,
                 mlp_acts=MLP_ACTS, rnn_acts=RNN_ACTS, target_acc=0.9, target_mse=0.03),
}


def _mlp_run(act: str, seed: int, train, val, cfg: dict[str, Any]) -> dict[str, Any]:
    from ... import MLP
    from ...optim import SGD
    from ...train.objectives import SupervisedObjective
    from ...train.trainer import Trainer

    model = MLP([2, 32, 32, 32, 2], activation=act, dtype=np.float64, seed=seed)
    names = [n for n, _ in model.named_parameters() if n.endswith("weight")]
    steps: list[list[float]] = []

    def record(trainer, rec) -> None:  # after each step; no clipping, so p.grad is the raw gradient
        steps.append([float(np.linalg.norm(model._modules[n.split(".")[0]]._params["weight"].grad)) for n in names])

    obj = SupervisedObjective(model, train, 32, seed=seed)
    tr = Trainer(obj, SGD(model.parameters(), lr=cfg["lr"], momentum=0.9), val_data=val, progress=False,
                 callbacks=[record])
    hist = tr.fit(cfg["epochs"])
    ep = hist.epochs[1:]
    acc = [e["train_accuracy"] for e in ep]
    reach = next((i + 1 for i, a in enumerate(acc) if a >= cfg["target_acc"]), None)
    per_epoch = np.asarray(steps).reshape(len(ep), -1, len(names)).mean(axis=1)  # (epochs, layers)
    return {"act": act, "seed": seed, "epochs_to_target": np.nan if reach is None else float(reach),
            "train_loss": ep[-1]["train_loss"], "val_loss": ep[-1]["val_loss"], "val_accuracy": ep[-1]["val_accuracy"],
            "first_last_grad_ratio": float(np.mean(per_epoch[:, 0] / per_epoch[:, -1])),
            "curve_val_loss": [e["val_loss"] for e in ep], "curve_train_acc": acc, "layer_norms": per_epoch,
            "layers": names}


def _rnn_run(act: str, seed: int, cfg: dict[str, Any]) -> dict[str, Any]:
    from ..models import SequenceModel
    from ..tasks import sequence_task
    from ..training import make_optimizer, mse, train_steps

    spec = sequence_task("sine", cfg["rnn_T"])
    rng = np.random.default_rng(seed)
    model = SequenceModel(f"rnn-{act}", 1, cfg["rnn_hidden"], 1, readout="all", dtype=np.float64, seed=seed)
    x_te, y_te = spec.sample(1000, np.random.default_rng([seed, 99]))
    hist = train_steps(model, lambda s: spec.sample(cfg["rnn_batch"], rng), spec.loss_fn(), cfg["rnn_steps"],
                       make_optimizer("adam", model.parameters(), lr=0.01), clip=None,
                       evaluate=lambda: {"mse": mse(model(x_te), y_te)}, eval_every=10, record_layers=True)
    m = [e["mse"] for e in hist.eval]
    reach = next((s for s, v in zip(hist.eval_step, m) if v < cfg["target_mse"]), None)
    names = list(hist.layer_grad_norms[0])
    norms = np.array([[d[n] for n in names] for d in hist.layer_grad_norms])
    return {"act": act, "seed": seed, "steps_to_target": np.nan if reach is None else float(reach), "test_mse": m[-1],
            "chance_mse": float(np.var(y_te)), "curve_mse": m, "curve_steps": hist.eval_step, "layer_norms": norms,
            "layers": names}


def run(budget: str = "quick", seed: int = 0, progress: bool = True, **overrides: Any) -> ExperimentResult:
    """Run the experiment at ``budget`` ("tiny", "quick" or "full"; ``overrides`` change single settings).

    Seeds are derived from ``seed``; returns the table rows, curves and arrays as an ExperimentResult.
    """
    from ...data import make_spirals

    cfg = budget_config(BUDGETS, budget, overrides)
    res = ExperimentResult(NAME, budget, seed, ["model", "activation", "runs", "epochs_or_steps_to_target_mean",
                                                "epochs_or_steps_to_target_std", "reached", "final_loss_mean",
                                                "final_loss_std", "val_accuracy_mean", "val_accuracy_std",
                                                "first_last_grad_ratio"])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    seeds = [seed + 17 * i for i in range(cfg["seeds"])]
    with single_thread_blas(), timer(res.meta):
        data = make_spirals(cfg["n"], 0.05, seed=seed, turns=1.0, dtype=np.float64)
        train, val = data.split(0.25, seed=seed)
        res.arrays["spirals_x"], res.arrays["spirals_y"] = data.x, data.y.astype(np.float64)
        jobs = [("mlp", a, s) for a in cfg["mlp_acts"] for s in seeds] + [("rnn", a, s) for a in cfg["rnn_acts"] for s in seeds]
        runs = []
        for model, act, s in progress_iter(jobs, len(jobs), "activations", progress):
            r = _mlp_run(act, s, train, val, cfg) if model == "mlp" else _rnn_run(act, s, cfg)
            r["model"] = model
            runs.append(r)
        for model, acts in (("mlp", cfg["mlp_acts"]), ("rnn", cfg["rnn_acts"])):
            for act in acts:
                rs = [r for r in runs if r["model"] == model and r["act"] == act]
                key = "epochs_to_target" if model == "mlp" else "steps_to_target"
                reached = [r[key] for r in rs if np.isfinite(r[key])]
                tm, ts = mean_std(reached)
                lm, ls = mean_std(r["val_loss"] if model == "mlp" else r["test_mse"] for r in rs)
                am, as_ = mean_std(r["val_accuracy"] for r in rs) if model == "mlp" else (np.nan, np.nan)
                ratio = float(np.mean([np.mean(r["layer_norms"][:, 0] / r["layer_norms"][:, -1]) for r in rs]))
                res.rows.append({"model": model, "activation": act, "runs": len(rs),
                                 "epochs_or_steps_to_target_mean": tm, "epochs_or_steps_to_target_std": ts,
                                 "reached": f"{len(reached)}/{len(rs)}", "final_loss_mean": lm, "final_loss_std": ls,
                                 "val_accuracy_mean": am, "val_accuracy_std": as_, "first_last_grad_ratio": ratio})
                for r in rs:
                    cfgd = {"model": model, "activation": act, "seed": r["seed"]}
                    if model == "mlp":
                        x = list(range(1, len(r["curve_val_loss"]) + 1))
                        res.curves.append({"config": cfgd, "name": "val_loss", "x": x, "y": r["curve_val_loss"]})
                        res.curves.append({"config": cfgd, "name": "train_accuracy", "x": x, "y": r["curve_train_acc"]})
                    else:
                        res.curves.append({"config": cfgd, "name": "test_mse", "x": r["curve_steps"], "y": r["curve_mse"]})
                    for j, layer in enumerate(r["layers"]):
                        res.curves.append({"config": {**cfgd, "layer": layer}, "name": "grad_norm",
                                           "x": list(range(1, len(r["layer_norms"]) + 1)),
                                           "y": r["layer_norms"][:, j].tolist()})
        res.tables["runs"] = {
            "columns": ["model", "activation", "seed", "to_target", "final_loss", "val_accuracy", "first_last_grad_ratio"],
            "rows": [{"model": r["model"], "activation": r["act"], "seed": r["seed"],
                      "to_target": r.get("epochs_to_target", r.get("steps_to_target")),
                      "final_loss": r.get("val_loss", r.get("test_mse")), "val_accuracy": r.get("val_accuracy", np.nan),
                      "first_last_grad_ratio": float(np.mean(r["layer_norms"][:, 0] / r["layer_norms"][:, -1]))}
                     for r in runs]}
        res.meta["rnn_chance_mse"] = float(np.mean([r["chance_mse"] for r in runs if r["model"] == "rnn"] or [np.nan]))
    return res


def _mean_curve(res: ExperimentResult, name: str, **where) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """x, the mean over seeds, and the min and max over seeds (a band that stays positive on log axes)."""
    cs = [c for c in res.curves_named(name) if all(c["config"].get(k) == v for k, v in where.items())]
    n = min(len(c["y"]) for c in cs)
    Y = np.array([c["y"][:n] for c in cs], dtype=np.float64)
    return cs[0]["x"][:n], Y.mean(axis=0), Y.min(axis=0), Y.max(axis=0)


def plot(res: ExperimentResult, outdir: str | Path) -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..plotting import new_figure, save

    outdir = Path(outdir)
    cfg = res.meta["config"]
    paths = []
    fig, axes = new_figure(1, 3, width=14, height=3.6)
    for act in cfg["mlp_acts"]:
        x, m, lo, hi = _mean_curve(res, "train_accuracy", model="mlp", activation=act)
        axes[0].plot(x, m, label=act)
        axes[0].fill_between(x, lo, hi, alpha=0.2)
        x, m, lo, hi = _mean_curve(res, "val_loss", model="mlp", activation=act)
        axes[1].semilogy(x, m, label=act)
        axes[1].fill_between(x, lo, hi, alpha=0.2)
    axes[0].set(xlabel="epoch", ylabel="train accuracy", title="MLP on spirals (mean, band: min–max)")
    axes[1].set(xlabel="epoch", ylabel="validation loss", title="MLP on spirals (mean, band: min–max)")
    for act in cfg["rnn_acts"]:
        x, m, lo, hi = _mean_curve(res, "test_mse", model="rnn", activation=act)
        axes[2].semilogy(x, m, label=act)
        axes[2].fill_between(x, lo, hi, alpha=0.2)
    axes[2].axhline(res.meta["rnn_chance_mse"], color="k", ls="--", lw=0.8, label="predict the mean")
    axes[2].set(xlabel="step", ylabel="test MSE", title=f"RNN, sine forecast, T={cfg['rnn_T']}")
    for ax in axes:
        ax.legend(fontsize=8)
    paths.append(save(fig, outdir / "activations_convergence.png"))

    fig, axes = new_figure(1, len(cfg["mlp_acts"]), width=3.4 * len(cfg["mlp_acts"]), height=3.2, sharey=True)
    first_seed = min(c["config"]["seed"] for c in res.curves_named("grad_norm"))
    for ax, act in zip(axes, cfg["mlp_acts"]):
        for c in res.curves_named("grad_norm"):
            cc = c["config"]
            if cc["model"] == "mlp" and cc["activation"] == act and cc["seed"] == first_seed:
                ax.semilogy(c["x"], c["y"], label=cc["layer"])
        ax.set(title=f"MLP {act}", xlabel="epoch")
    axes[0].set_ylabel("‖∂L/∂W‖ per layer")
    axes[-1].legend(fontsize=7)
    paths.append(save(fig, outdir / "activations_layer_gradients.png"))

    x = res.arrays.get("spirals_x")
    if x is not None:
        fig, axes = new_figure(1, 1, width=3.6, height=3.4)
        y = np.asarray(res.arrays["spirals_y"])
        axes[0].scatter(x[:, 0], x[:, 1], c=y, s=6, cmap="coolwarm")
        axes[0].set(title="two spirals (data)", aspect="equal")
        paths.append(save(fig, outdir / "activations_data.png"))
    return paths


_C = {
    "en": {
        "mlp": "MLP on the spirals: {fast} reached {acc:.0%} training accuracy fastest ({e} epochs on average); ",
        "mlp_never": "{acts} never reached it in {epochs} epochs ({n} runs). ",
        "mlp_slow": "the slowest was {slow} ({e} epochs). ",
        "val": "Final validation accuracy: {items}. ",
        "ratio": "Gradient reaching the first weight matrix relative to the last (mean over training): {items}",
        "ratio_tail": " — {low} passes the least signal back to the first layer.",
        "rnn": " RNN forecasting the sine (T = {T}): final test MSE {items} (predicting the mean gives {chance}); ",
        "rnn_reach": "first below {target}: {items}.",
        "never": "never", "steps": "steps",
    },
    "es": {
        "mlp": "MLP en las espirales: {fast} llegó antes al {acc:.0%} de precisión de entrenamiento ({e} épocas en "
               "promedio); ",
        "mlp_never": "{acts} no lo alcanzó en {epochs} épocas ({n} corridas). ",
        "mlp_slow": "la más lenta fue {slow} ({e} épocas). ",
        "val": "Precisión final en validación: {items}. ",
        "ratio": "Gradiente que llega a la primera matriz de pesos relativo a la última (media en el entrenamiento): "
                 "{items}",
        "ratio_tail": " — {low} es la que menos señal devuelve a la primera capa.",
        "rnn": " RNN que pronostica el seno (T = {T}): MSE final de prueba {items} (predecir la media da {chance}); ",
        "rnn_reach": "primera vez por debajo de {target}: {items}.",
        "never": "nunca", "steps": "pasos",
    },
}


def conclude(res: ExperimentResult, lang: str = "en") -> str:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    C = _C[lang]
    cfg = res.meta["config"]
    mlp = [r for r in res.rows if r["model"] == "mlp"]
    rnn = [r for r in res.rows if r["model"] == "rnn"]
    out = []
    ok = [r for r in mlp if np.isfinite(r["epochs_or_steps_to_target_mean"])]
    if ok:
        fast = min(ok, key=lambda r: r["epochs_or_steps_to_target_mean"])
        out.append(C["mlp"].format(fast=fast["activation"], acc=cfg["target_acc"],
                                   e=fmt_num(fast["epochs_or_steps_to_target_mean"])))
        never = [r["activation"] for r in mlp if r["reached"].startswith("0/")]
        if never:
            out.append(C["mlp_never"].format(acts=", ".join(never), epochs=cfg["epochs"], n=mlp[0]["runs"]))
        elif len(ok) > 1:
            slow = max(ok, key=lambda r: r["epochs_or_steps_to_target_mean"])
            out.append(C["mlp_slow"].format(slow=slow["activation"], e=fmt_num(slow["epochs_or_steps_to_target_mean"])))
    out.append(C["val"].format(items=", ".join(
        f"{r['activation']} {r['val_accuracy_mean']:.1%} ± {r['val_accuracy_std']:.1%}" for r in mlp)))
    ratios = {r["activation"]: r["first_last_grad_ratio"] for r in mlp}
    low = min(ratios, key=ratios.get)
    out.append(C["ratio"].format(items=", ".join(f"{a} {fmt_num(v)}" for a, v in ratios.items()))
               + C["ratio_tail"].format(low=low))
    if rnn:
        items = ", ".join(f"{r['activation']} {fmt_num(r['final_loss_mean'])} ± {fmt_num(r['final_loss_std'])}" for r in rnn)
        out.append(C["rnn"].format(T=cfg["rnn_T"], items=items, chance=fmt_num(res.meta["rnn_chance_mse"])))
        reach = ", ".join(
            f"{r['activation']} " + (f"{fmt_num(r['epochs_or_steps_to_target_mean'])} {C['steps']} ({r['reached']})"
                                     if np.isfinite(r["epochs_or_steps_to_target_mean"]) else C["never"])
            for r in rnn)
        out.append(C["rnn_reach"].format(target=cfg["target_mse"], items=reach))
    return "".join(out)
