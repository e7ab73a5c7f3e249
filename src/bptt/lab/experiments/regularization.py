"""regularization — seed 001's exercise 3: L1 vs L2 vs none on a noisy 2-D set.

An over-sized MLP [2, 64, 64, 2] (ReLU) on 200 noisy two-moons points (half for
training, half for validation), trained long enough to over-fit, by
:class:`bptt.train.Trainer` with SGD + momentum. The penalty is a loss term on the
weight matrices (not the biases), from :mod:`bptt.optim`:

    L1:  R = λ Σ |w|      (subgradient λ sign w)
    L2:  R = (λ/2) Σ w²   (gradient λ w — exactly SGD's weight_decay = λ)

"Matched strength" means the same λ. Per configuration: final train and validation
loss and accuracy, the gap between them, ‖w‖, the fraction of weights with |w| < 0.01
(and < 0.001), histograms of log10 |w|, training curves and decision boundaries; every
configuration with several seeds (mean ± std), the validation loss averaged over the last
tenth of the epochs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..i18n import both
from .base import ExperimentResult, budget_config, clearly_above, mean_std, pm, progress_iter, single_thread_blas, timer

NAME = "regularization"
TITLE = both("regularization.title")
SETUP = both("regularization.setup")

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(n=200, noise=0.35, epochs=150, strengths=(1e-3, 1e-2), hidden=64, lr=0.05, grid=60, seeds=2),
    "quick": dict(n=200, noise=0.35, epochs=400, strengths=(1e-4, 1e-3, 3e-3, 1e-2), hidden=64, lr=0.05, grid=80,
                  seeds=3),
    "full": dict(n=200, noise=0.35, epochs=1000, strengths=(1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2), hidden=64,
                 lr=0.05, grid=150, seeds=5),
}
HIST_BINS = np.linspace(-8, 1, 46)  # log10 |w|
METRICS = ("train_loss", "val_loss", "gap", "val_accuracy", "weight_norm", "near_zero_1e-2", "near_zero_1e-3")


def _grid(data_x: np.ndarray, n: int) -> tuple[np.ndarray, list[float]]:
    lo, hi = data_x.min(axis=0) - 0.5, data_x.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    return np.stack([gx.ravel(), gy.ravel()], axis=1), [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])]


def _one(kind: str, lam: float, seed: int, train, val, cfg: dict[str, Any]):
    from ... import MLP
    from ...optim import SGD, Regularizer
    from ...train.objectives import SupervisedObjective
    from ...train.trainer import Trainer

    model = MLP([2, cfg["hidden"], cfg["hidden"], 2], activation="relu", dtype=np.float64, seed=seed)
    reg = None if kind == "none" else Regularizer(l1=lam if kind == "l1" else 0.0, l2=lam if kind == "l2" else 0.0)
    tr = Trainer(SupervisedObjective(model, train, 32, seed=seed), SGD(model.parameters(), lr=cfg["lr"], momentum=0.9),
                 regularizer=reg, val_data=val, progress=False)
    hist = tr.fit(cfg["epochs"])
    train_eval = tr.objective.evaluate(train)  # the data loss at the end (no penalty), like val_loss
    val_loss = float(np.mean([e["val_loss"] for e in hist.epochs[-max(1, cfg["epochs"] // 10):]]))
    W = np.concatenate([p.data.ravel() for n, p in model.named_parameters() if n.endswith("weight")])
    row = {"penalty": kind, "strength": lam, "seed": seed, "train_loss": train_eval["loss"], "val_loss": val_loss,
           "gap": val_loss - train_eval["loss"], "val_accuracy": hist.epochs[-1]["val_accuracy"],
           "weight_norm": float(np.linalg.norm(W)), "near_zero_1e-2": float(np.mean(np.abs(W) < 1e-2)),
           "near_zero_1e-3": float(np.mean(np.abs(W) < 1e-3))}
    return row, model, hist, W


def run(budget: str = "quick", seed: int = 0, progress: bool = True, **overrides: Any) -> ExperimentResult:
    """Run the experiment at ``budget`` ("tiny", "quick" or "full"; ``overrides`` change single settings).

    Seeds are derived from ``seed``; returns the table rows, curves and arrays as an ExperimentResult.
    """
    from ...data import make_moons
    from ...functional.losses import softmax

    cfg = budget_config(BUDGETS, budget, overrides)
    res = ExperimentResult(NAME, budget, seed, ["penalty", "strength", "seeds"] + [
        f"{m}_{s}" for m in ("train_loss", "val_loss", "gap", "val_accuracy", "weight_norm", "near_zero_1e-2")
        for s in ("mean", "std")])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    seeds = [seed + 17 * i for i in range(cfg["seeds"])]
    runs = []
    with single_thread_blas(), timer(res.meta):
        data = make_moons(cfg["n"], cfg["noise"], seed=seed, dtype=np.float64)
        train, val = data.split(0.5, seed=seed)
        grid, extent = _grid(data.x, cfg["grid"])
        res.arrays["train_x"], res.arrays["train_y"] = train.x, train.y.astype(np.float64)
        res.meta["extent"] = extent
        configs = [("none", 0.0)] + [(k, lam) for lam in cfg["strengths"] for k in ("l1", "l2")]
        jobs = [(k, lam, s) for k, lam in configs for s in seeds]
        for kind, lam, s in progress_iter(jobs, len(jobs), "regularization", progress):
            row, model, hist, W = _one(kind, lam, s, train, val, cfg)
            runs.append(row)
            if s != seeds[0]:
                continue
            key = _key(row)  # curves, histograms and boundaries of the first seed
            ep = [e["epoch"] for e in hist.epochs[1:]]
            for name in ("train_loss", "val_loss"):
                res.curves.append({"config": {"penalty": kind, "strength": lam}, "name": name, "x": ep,
                                   "y": [e[name] for e in hist.epochs[1:]]})
            counts, _ = np.histogram(np.log10(np.maximum(np.abs(W), 1e-300)), bins=HIST_BINS)
            counts[0] += int(np.sum(np.abs(W) < 10.0 ** HIST_BINS[0]))
            res.arrays[f"hist/{key}"] = counts.astype(np.float64)
            model.eval()
            # P(class 1) on the grid, 3 decimals: enough for a picture, and the raw JSON stays small
            res.arrays[f"boundary/{key}"] = np.round(softmax(model(grid), axis=-1)[:, 1], 3).reshape(cfg["grid"], cfg["grid"])
        for kind, lam in configs:
            rs = [r for r in runs if r["penalty"] == kind and r["strength"] == lam]
            row = {"penalty": kind, "strength": lam, "seeds": len(rs)}
            for m in METRICS:
                row[f"{m}_mean"], row[f"{m}_std"] = mean_std(r[m] for r in rs)
            res.rows.append(row)
        res.tables["runs"] = {"columns": ["penalty", "strength", "seed"] + list(METRICS), "rows": runs}
    return res


def _best(res: ExperimentResult, kind: str) -> dict:
    return min((r for r in res.rows if r["penalty"] == kind), key=lambda r: r["val_loss_mean"])


def _key(r: dict) -> str:
    return "none" if r["penalty"] == "none" else f"{r['penalty']}/{r['strength']:g}"


def plot(res: ExperimentResult, outdir: str | Path, lang: str = "en") -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..i18n import tr
    from ..plotting import new_figure, save

    def L(key: str, **kw) -> str:
        return tr(lang, "lbl." + key, **kw)

    outdir = Path(outdir)
    paths = []
    lams = sorted({r["strength"] for r in res.rows if r["penalty"] != "none"})
    none = [r for r in res.rows if r["penalty"] == "none"][0]
    fig, axes = new_figure(1, 2, width=11, height=4.0)
    for kind, mk in (("l1", "o"), ("l2", "s")):
        rows = sorted((r for r in res.rows if r["penalty"] == kind), key=lambda r: r["strength"])
        lam = [r["strength"] for r in rows]
        axes[0].errorbar(lam, [r["val_loss_mean"] for r in rows], yerr=[r["val_loss_std"] for r in rows], marker=mk,
                         capsize=3, label=L("pen_val", p=kind.upper()))
        axes[0].errorbar(lam, [r["train_loss_mean"] for r in rows], yerr=[r["train_loss_std"] for r in rows],
                         marker=mk, ls=":", capsize=3, label=L("pen_train", p=kind.upper()))
        axes[1].errorbar(lam, [r["near_zero_1e-2_mean"] for r in rows], yerr=[r["near_zero_1e-2_std"] for r in rows],
                         marker=mk, capsize=3, label=kind.upper())
    axes[0].axhline(none["val_loss_mean"], color="k", ls="--", lw=0.8, label=L("none_val"))
    axes[0].axhline(none["train_loss_mean"], color="k", ls=":", lw=0.8, label=L("none_train"))
    axes[0].set(xscale="log", xlabel="λ", ylabel=L("loss_no_penalty"), title=L("train_vs_val"))
    axes[1].axhline(none["near_zero_1e-2_mean"], color="k", ls="--", lw=0.8, label=L("no_penalty"))
    axes[1].set(xscale="log", xlabel="λ", ylabel=L("near_zero"), title=L("sparsity"), ylim=(-0.02, 1.02))
    for ax in axes:
        ax.legend(fontsize=8)
    paths.append(save(fig, outdir / "regularization_losses.png"))

    fig, axes = new_figure(1, 3, width=13, height=3.6, sharey=True)
    for ax, kind in zip(axes, ("none", "l1", "l2")):
        for c in res.curves_named("val_loss"):
            if c["config"]["penalty"] == kind:
                lab = L("no_penalty") if kind == "none" else f"λ = {c['config']['strength']:g}"
                ax.plot(c["x"], c["y"], label=lab)
        ax.set(title=L("no_penalty") if kind == "none" else kind.upper(), xlabel=L("epoch"))
        ax.legend(fontsize=8)
    axes[0].set_ylabel(L("val_loss"))
    paths.append(save(fig, outdir / "regularization_curves.png"))

    lam_hi = lams[-1]
    fig, axes = new_figure(1, 1, width=5.5, height=3.6)
    centers = 0.5 * (HIST_BINS[:-1] + HIST_BINS[1:])
    for key, lab in (("none", L("no_penalty")), (f"l1/{lam_hi:g}", f"L1 λ = {lam_hi:g}"),
                     (f"l2/{lam_hi:g}", f"L2 λ = {lam_hi:g}")):
        axes[0].step(centers, res.arrays[f"hist/{key}"], where="mid", label=lab)
    axes[0].set(xlabel="log10 |w|", ylabel=L("n_weights"), title=L("weight_magnitudes"))
    axes[0].legend(fontsize=8)
    paths.append(save(fig, outdir / "regularization_weights.png"))

    picks = [none, _best(res, "l1"), _best(res, "l2")]
    fig, axes = new_figure(1, 3, width=12, height=3.8)
    x, y = np.asarray(res.arrays["train_x"]), np.asarray(res.arrays["train_y"])
    ext = res.meta["extent"]
    for ax, r in zip(axes, picks):
        P = np.asarray(res.arrays[f"boundary/{_key(r)}"])
        ax.imshow(P, origin="lower", extent=ext, cmap="coolwarm", alpha=0.5, vmin=0, vmax=1, aspect="auto")
        ax.contour(np.linspace(ext[0], ext[1], P.shape[1]), np.linspace(ext[2], ext[3], P.shape[0]), P, levels=[0.5],
                   colors="k", linewidths=1)
        ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=8, edgecolors="k", linewidths=0.3)
        name = L("no_penalty") if r["penalty"] == "none" else f"{r['penalty'].upper()} λ = {r['strength']:g}"
        ax.set_title(L("boundary_title", name=name, v=f"{r['val_loss_mean']:.3f}"), fontsize=9)
    paths.append(save(fig, outdir / "regularization_boundaries.png"))
    return paths


def conclude(res: ExperimentResult, lang: str = "en") -> list[str]:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    from ..i18n import tr

    def C(key: str, **kw) -> str:
        return tr(lang, "regularization.c." + key, **kw)

    def v(r: dict, m: str) -> str:
        return pm(r[f"{m}_mean"], r[f"{m}_std"])

    def name(r: dict) -> str:
        return tr(lang, "word.none") if r["penalty"] == "none" else f"{r['penalty'].upper()} λ = {r['strength']:g}"

    none = [r for r in res.rows if r["penalty"] == "none"][0]
    out = [C("none", tr_=v(none, "train_loss"), va=v(none, "val_loss"), gap=v(none, "gap"), n=none["seeds"])]
    best = min(res.rows, key=lambda r: r["val_loss_mean"])
    if best["penalty"] == "none":
        out.append(C("best_none", va=v(none, "val_loss")))
    elif clearly_above(none["val_loss_mean"], none["val_loss_std"], best["val_loss_mean"], best["val_loss_std"]):
        out.append(C("best", name=name(best), va=v(best, "val_loss"), gap=v(best, "gap")))
    else:
        out.append(C("best_unclear", name=name(best), va=v(best, "val_loss"), none=v(none, "val_loss")))
    b1, b2 = _best(res, "l1"), _best(res, "l2")
    diff = (clearly_above(b1["val_loss_mean"], b1["val_loss_std"], b2["val_loss_mean"], b2["val_loss_std"])
            or clearly_above(b2["val_loss_mean"], b2["val_loss_std"], b1["val_loss_mean"], b1["val_loss_std"]))
    out.append(C("l1l2" if diff else "l1l2_same", l1=v(b1, "val_loss"), l1lam=f"{b1['strength']:g}",
                 l2=v(b2, "val_loss"), l2lam=f"{b2['strength']:g}"))
    lams = sorted({r["strength"] for r in res.rows if r["penalty"] != "none"})
    z = {(r["penalty"], r["strength"]): r for r in res.rows}
    items = "; ".join(f"λ = {lam:g}: L1 {pm(z[('l1', lam)]['near_zero_1e-2_mean'], z[('l1', lam)]['near_zero_1e-2_std'], pct=True)}"
                      f", L2 {pm(z[('l2', lam)]['near_zero_1e-2_mean'], z[('l2', lam)]['near_zero_1e-2_std'], pct=True)}"
                      for lam in lams)
    k = sum(clearly_above(z[("l1", lam)]["near_zero_1e-2_mean"], z[("l1", lam)]["near_zero_1e-2_std"],
                          z[("l2", lam)]["near_zero_1e-2_mean"], z[("l2", lam)]["near_zero_1e-2_std"]) for lam in lams)
    out.append(C("sparse" if k == len(lams) else "sparse_not", k=k, n=len(lams), items=items))
    return out
