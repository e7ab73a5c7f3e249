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

from ..i18n import both
from .base import (ExperimentResult, budget_config, clearly_above, fmt_num, mean_std, pm, progress_iter,
                   single_thread_blas, timer)

NAME = "activations"
TITLE = both("activations.title")
SETUP = both("activations.setup")

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
    k = max(1, len(ep) // 10)  # the last tenth of the epochs: one epoch's value is noise, not a result
    return {"act": act, "seed": seed, "epochs_to_target": np.nan if reach is None else float(reach),
            "train_loss": float(np.mean([e["train_loss"] for e in ep[-k:]])),
            "val_loss": float(np.mean([e["val_loss"] for e in ep[-k:]])),
            "val_accuracy": float(np.mean([e["val_accuracy"] for e in ep[-k:]])),
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
    k = max(1, len(m) // 10)
    return {"act": act, "seed": seed, "steps_to_target": np.nan if reach is None else float(reach),
            "test_mse": float(np.mean(m[-k:])),
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
                                                "first_last_grad_ratio", "first_last_grad_ratio_std"])
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
                rm, rsd = mean_std(np.mean(r["layer_norms"][:, 0] / r["layer_norms"][:, -1]) for r in rs)
                res.rows.append({"model": model, "activation": act, "runs": len(rs),
                                 "epochs_or_steps_to_target_mean": tm, "epochs_or_steps_to_target_std": ts,
                                 "reached": f"{len(reached)}/{len(rs)}", "final_loss_mean": lm, "final_loss_std": ls,
                                 "val_accuracy_mean": am, "val_accuracy_std": as_, "first_last_grad_ratio": rm,
                                 "first_last_grad_ratio_std": rsd})
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


def plot(res: ExperimentResult, outdir: str | Path, lang: str = "en") -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..i18n import tr, value
    from ..plotting import log_axis, new_figure, save

    def L(key: str, **kw) -> str:
        return tr(lang, "lbl." + key, **kw)

    outdir = Path(outdir)
    cfg = res.meta["config"]
    paths = []
    fig, axes = new_figure(1, 3, width=14, height=3.8)
    for act in cfg["mlp_acts"]:
        x, m, lo, hi = _mean_curve(res, "train_accuracy", model="mlp", activation=act)
        axes[0].plot(x, m, label=value(lang, act))
        axes[0].fill_between(x, lo, hi, alpha=0.2)
        x, m, lo, hi = _mean_curve(res, "val_loss", model="mlp", activation=act)
        axes[1].plot(x, m, label=value(lang, act))
        axes[1].fill_between(x, lo, hi, alpha=0.2)
    axes[0].set(xlabel=L("epoch"), ylabel=L("train_accuracy"), title=L("mlp_spirals"))
    axes[1].set(xlabel=L("epoch"), ylabel=L("val_loss"), title=L("mlp_spirals"))
    log_axis(axes[1])
    for act in cfg["rnn_acts"]:
        x, m, lo, hi = _mean_curve(res, "test_mse", model="rnn", activation=act)
        axes[2].plot(x, m, label=value(lang, act))
        axes[2].fill_between(x, lo, hi, alpha=0.2)
    axes[2].axhline(res.meta["rnn_chance_mse"], color="k", ls="--", lw=0.8, label=L("predict_mean"))
    axes[2].set(xlabel=L("step"), ylabel=L("test_mse"), title=L("rnn_sine", T=cfg["rnn_T"]))
    log_axis(axes[2])
    for ax in axes:
        ax.legend(fontsize=8)
    paths.append(save(fig, outdir / "activations_convergence.png"))

    fig, axes = new_figure(1, len(cfg["mlp_acts"]), width=3.4 * len(cfg["mlp_acts"]), height=3.4, sharey=True)
    first_seed = min(c["config"]["seed"] for c in res.curves_named("grad_norm"))
    for ax, act in zip(axes, cfg["mlp_acts"]):
        for c in res.curves_named("grad_norm"):
            cc = c["config"]
            if cc["model"] == "mlp" and cc["activation"] == act and cc["seed"] == first_seed:
                ax.plot(c["x"], c["y"], label=L("layer", i=int(cc["layer"].split(".")[0]) // 2 + 1))
        ax.set(title=f"MLP {value(lang, act)}", xlabel=L("epoch"))
        log_axis(ax)
    axes[0].set_ylabel(L("grad_per_layer"))
    axes[-1].legend(fontsize=8)
    paths.append(save(fig, outdir / "activations_layer_gradients.png"))

    x = res.arrays.get("spirals_x")
    if x is not None:
        fig, axes = new_figure(1, 1, width=3.8, height=3.6)
        y = np.asarray(res.arrays["spirals_y"])
        axes[0].scatter(x[:, 0], x[:, 1], c=y, s=6, cmap="coolwarm")
        axes[0].set(title=L("spirals_data"), aspect="equal")
        paths.append(save(fig, outdir / "activations_data.png"))
    return paths


def _ranked(rows: list[dict], m: str, s: str, lower_is_better: bool) -> tuple[dict, list[dict]]:
    """The best row and the rows not clearly worse than it (difference within the two spreads)."""
    ok = [r for r in rows if np.isfinite(r[m])]
    sign = 1 if lower_is_better else -1
    best = min(ok, key=lambda r: sign * r[m])
    ties = [r for r in ok if r is not best and not (
        clearly_above(r[m], r[s], best[m], best[s]) if lower_is_better else clearly_above(best[m], best[s], r[m], r[s]))]
    return best, ties


def conclude(res: ExperimentResult, lang: str = "en") -> list[str]:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    from ..i18n import tr, value

    def C(key: str, **kw) -> str:
        return tr(lang, "activations.c." + key, **kw)

    def names(rows: list[dict]) -> str:
        return ", ".join(value(lang, r["activation"]) for r in rows)

    cfg = res.meta["config"]
    mlp = [r for r in res.rows if r["model"] == "mlp"]
    rnn = [r for r in res.rows if r["model"] == "rnn"]
    key_m, key_s = "epochs_or_steps_to_target_mean", "epochs_or_steps_to_target_std"
    out = [C("mlp_speed", acc=f"{100 * cfg['target_acc']:.0f} %", n=mlp[0]["runs"], items="; ".join(
        f"{value(lang, r['activation'])} " + (f"{pm(r[key_m], r[key_s])} ({r['reached']})" if np.isfinite(r[key_m])
                                               else f"{tr(lang, 'word.never')} ({r['reached']})") for r in mlp))]
    if any(np.isfinite(r[key_m]) for r in mlp):
        best, ties = _ranked(mlp, key_m, key_s, True)
        out[-1] += " " + (C("mlp_fastest_ties", best=value(lang, best["activation"]), ties=names(ties)) if ties
                          else C("mlp_fastest", best=value(lang, best["activation"])))
    best, ties = _ranked(mlp, "val_accuracy_mean", "val_accuracy_std", False)
    out.append(C("val", items="; ".join(f"{value(lang, r['activation'])} "
                                        f"{pm(r['val_accuracy_mean'], r['val_accuracy_std'], pct=True)}" for r in mlp)))
    out[-1] += " " + (C("val_ties", best=value(lang, best["activation"]), ties=names(ties)) if ties
                      else C("val_best", best=value(lang, best["activation"])))
    low = min(mlp, key=lambda r: r["first_last_grad_ratio"])
    out.append(C("ratio", low=value(lang, low["activation"]), items="; ".join(
        f"{value(lang, r['activation'])} {pm(r['first_last_grad_ratio'], r['first_last_grad_ratio_std'])}" for r in mlp)))
    if rnn:
        out.append(C("rnn", T=cfg["rnn_T"], chance=fmt_num(res.meta["rnn_chance_mse"]), items="; ".join(
            f"{value(lang, r['activation'])} {pm(r['final_loss_mean'], r['final_loss_std'])}" for r in rnn)))
        best, ties = _ranked(rnn, "final_loss_mean", "final_loss_std", True)
        out[-1] += " " + (C("rnn_ties", best=value(lang, best["activation"]), ties=names(ties)) if ties
                          else C("rnn_best", best=value(lang, best["activation"])))
        out.append(C("rnn_reach", target=cfg["target_mse"], items="; ".join(
            f"{value(lang, r['activation'])} " + (f"{pm(r[key_m], r[key_s])} ({r['reached']})"
                                                   if np.isfinite(r[key_m]) else tr(lang, "word.never"))
            for r in rnn)))
    return out
