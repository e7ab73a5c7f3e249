"""regularization — seed 001's exercise 3: L1 vs L2 vs none on a noisy 2-D set.

An over-sized MLP [2, 64, 64, 2] (ReLU) on 200 noisy two-moons points (half for
training, half for validation), trained long enough to over-fit, by
:class:`bptt.train.Trainer` with SGD + momentum. The penalty is a loss term on the
weight matrices (not the biases), from :mod:`bptt.optim`:

    L1:  R = λ Σ |w|      (subgradient λ sign w)
    L2:  R = (λ/2) Σ w²   (gradient λ w — exactly SGD's weight_decay = λ)

"Matched strength" means the same λ. Per configuration: final train and validation
loss and accuracy, the gap between them, ‖w‖, the fraction of weights with |w| < 0.01
(and < 0.001), histograms of log10 |w|, training curves and decision boundaries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .base import ExperimentResult, budget_config, fmt_num, progress_iter, single_thread_blas, timer

NAME = "regularization"
TITLE = {"en": "L1 and L2 regularization on a noisy set", "es": "Regularización L1 y L2 en un conjunto con ruido"}
SETUP = {
    "en": "Seed 001, exercise 3. An over-sized MLP [2, 64, 64, 2] (ReLU) on 200 two-moons points with noise 0.35 "
          "(100 train, 100 validation), cross-entropy, SGD (lr 0.05, momentum 0.9), mini-batches of 32. Penalty on "
          "the weight matrices: L1 R = λΣ|w| or L2 R = (λ/2)Σw², at the same strengths λ; 'near zero' means |w| < 0.01.",
    "es": "Semilla 001, ejercicio 3. Un MLP sobredimensionado [2, 64, 64, 2] (ReLU) sobre 200 puntos de dos lunas con "
          "ruido 0.35 (100 de entrenamiento, 100 de validación), entropía cruzada, SGD (lr 0.05, momento 0.9), "
          "mini-lotes de 32. Penalización en las matrices de pesos: L1 R = λΣ|w| o L2 R = (λ/2)Σw², con las mismas "
          "intensidades λ; 'casi cero' significa |w| < 0.01.",
}

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(n=200, noise=0.35, epochs=150, strengths=(1e-3, 1e-2), hidden=64, lr=0.05, grid=60),
    "quick": dict(n=200, noise=0.35, epochs=400, strengths=(1e-4, 1e-3, 3e-3, 1e-2), hidden=64, lr=0.05, grid=80),
    "full": dict(n=200, noise=0.35, epochs=1000, strengths=(1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2), hidden=64,
                 lr=0.05, grid=150),
}
HIST_BINS = np.linspace(-8, 1, 46)  # log10 |w|


def _grid(data_x: np.ndarray, n: int) -> tuple[np.ndarray, list[float]]:
    lo, hi = data_x.min(axis=0) - 0.5, data_x.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    return np.stack([gx.ravel(), gy.ravel()], axis=1), [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])]


def run(budget: str = "quick", seed: int = 0, progress: bool = True, **overrides: Any) -> ExperimentResult:
    """Run the experiment at ``budget`` ("tiny", "quick" or "full"; ``overrides`` change single settings).

    Seeds are derived from ``seed``; returns the table rows, curves and arrays as an ExperimentResult.
    """
    from ... import MLP
    from ...data import make_moons
    from ...functional.losses import softmax
    from ...optim import SGD, Regularizer
    from ...train.objectives import SupervisedObjective
    from ...train.trainer import Trainer

    cfg = budget_config(BUDGETS, budget, overrides)
    res = ExperimentResult(NAME, budget, seed, ["penalty", "strength", "train_loss", "val_loss", "gap", "train_accuracy",
                                                "val_accuracy", "weight_norm", "near_zero_1e-2", "near_zero_1e-3"])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    with single_thread_blas(), timer(res.meta):
        data = make_moons(cfg["n"], cfg["noise"], seed=seed, dtype=np.float64)
        train, val = data.split(0.5, seed=seed)
        grid, extent = _grid(data.x, cfg["grid"])
        res.arrays["train_x"], res.arrays["train_y"] = train.x, train.y.astype(np.float64)
        res.meta["extent"] = extent
        configs = [("none", 0.0)] + [(k, lam) for lam in cfg["strengths"] for k in ("l1", "l2")]
        for kind, lam in progress_iter(configs, len(configs), "regularization", progress):
            model = MLP([2, cfg["hidden"], cfg["hidden"], 2], activation="relu", dtype=np.float64, seed=seed)
            reg = None if kind == "none" else Regularizer(l1=lam if kind == "l1" else 0.0, l2=lam if kind == "l2" else 0.0)
            tr = Trainer(SupervisedObjective(model, train, 32, seed=seed), SGD(model.parameters(), lr=cfg["lr"], momentum=0.9),
                         regularizer=reg, val_data=val, progress=False)
            hist = tr.fit(cfg["epochs"])
            last = hist.epochs[-1]
            train_eval = tr.objective.evaluate(train)  # the data loss at the end (no penalty), like val_loss
            W = np.concatenate([p.data.ravel() for n, p in model.named_parameters() if n.endswith("weight")])
            key = f"{kind}" if kind == "none" else f"{kind}/{lam:g}"
            res.rows.append({"penalty": kind, "strength": lam, "train_loss": train_eval["loss"], "val_loss": last["val_loss"],
                             "gap": last["val_loss"] - train_eval["loss"], "train_accuracy": train_eval["accuracy"],
                             "val_accuracy": last["val_accuracy"], "weight_norm": float(np.linalg.norm(W)),
                             "near_zero_1e-2": float(np.mean(np.abs(W) < 1e-2)),
                             "near_zero_1e-3": float(np.mean(np.abs(W) < 1e-3))})
            ep = [e["epoch"] for e in hist.epochs[1:]]
            res.curves.append({"config": {"penalty": kind, "strength": lam}, "name": "train_loss", "x": ep,
                               "y": [e["train_loss"] for e in hist.epochs[1:]]})
            res.curves.append({"config": {"penalty": kind, "strength": lam}, "name": "val_loss", "x": ep,
                               "y": [e["val_loss"] for e in hist.epochs[1:]]})
            counts, _ = np.histogram(np.log10(np.maximum(np.abs(W), 1e-300)), bins=HIST_BINS)
            counts[0] += int(np.sum(np.abs(W) < 10.0 ** HIST_BINS[0]))
            res.arrays[f"hist/{key}"] = counts.astype(np.float64)
            model.eval()
            # P(class 1) on the grid, 3 decimals: enough for a picture, and the raw JSON stays small
            res.arrays[f"boundary/{key}"] = np.round(softmax(model(grid), axis=-1)[:, 1], 3).reshape(cfg["grid"], cfg["grid"])
    return res


def _best(res: ExperimentResult, kind: str) -> dict:
    return min((r for r in res.rows if r["penalty"] == kind), key=lambda r: r["val_loss"])


def _key(r: dict) -> str:
    return "none" if r["penalty"] == "none" else f"{r['penalty']}/{r['strength']:g}"


def plot(res: ExperimentResult, outdir: str | Path) -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..plotting import new_figure, save

    outdir = Path(outdir)
    paths = []
    lams = sorted({r["strength"] for r in res.rows if r["penalty"] != "none"})
    none = [r for r in res.rows if r["penalty"] == "none"][0]
    fig, axes = new_figure(1, 2, width=10, height=3.6)
    for kind, mk in (("l1", "o"), ("l2", "s")):
        rows = sorted((r for r in res.rows if r["penalty"] == kind), key=lambda r: r["strength"])
        axes[0].semilogx([r["strength"] for r in rows], [r["val_loss"] for r in rows], marker=mk, label=f"{kind} validation")
        axes[0].semilogx([r["strength"] for r in rows], [r["train_loss"] for r in rows], marker=mk, ls=":", label=f"{kind} train")
        axes[1].semilogx([r["strength"] for r in rows], [r["near_zero_1e-2"] for r in rows], marker=mk, label=kind)
    axes[0].axhline(none["val_loss"], color="k", ls="--", lw=0.8, label="none validation")
    axes[0].axhline(none["train_loss"], color="k", ls=":", lw=0.8, label="none train")
    axes[0].set(xlabel="λ", ylabel="loss (no penalty)", title="train vs validation")
    axes[1].axhline(none["near_zero_1e-2"], color="k", ls="--", lw=0.8, label="none")
    axes[1].set(xlabel="λ", ylabel="fraction of |w| < 0.01", title="sparsity", ylim=(-0.02, 1.02))
    for ax in axes:
        ax.legend(fontsize=7)
    paths.append(save(fig, outdir / "regularization_losses.png"))

    fig, axes = new_figure(1, 3, width=13, height=3.4, sharey=True)
    for ax, kind in zip(axes, ("none", "l1", "l2")):
        for c in res.curves_named("val_loss"):
            if c["config"]["penalty"] == kind:
                lab = "none" if kind == "none" else f"λ={c['config']['strength']:g}"
                ax.plot(c["x"], c["y"], label=f"{lab} val")
        ax.set(title=kind, xlabel="epoch")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("validation loss")
    paths.append(save(fig, outdir / "regularization_curves.png"))

    lam_hi = lams[-1]
    fig, axes = new_figure(1, 1, width=5.5, height=3.5)
    centers = 0.5 * (HIST_BINS[:-1] + HIST_BINS[1:])
    for key, lab in (("none", "none"), (f"l1/{lam_hi:g}", f"L1 λ={lam_hi:g}"), (f"l2/{lam_hi:g}", f"L2 λ={lam_hi:g}")):
        axes[0].step(centers, res.arrays[f"hist/{key}"], where="mid", label=lab)
    axes[0].set(xlabel="log10 |w|", ylabel="number of weights", title="weight magnitudes")
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
        ax.set_title(f"{_key(r)}: val loss {r['val_loss']:.3f}", fontsize=9)
    paths.append(save(fig, outdir / "regularization_boundaries.png"))
    return paths


_C = {
    "en": {
        "overfit": "Without a penalty the network over-fits: train loss {tr}, validation loss {va} (gap {gap}). ",
        "best": "The best validation loss is {best} with {kind} at λ = {lam} (train {tr}, gap {gap}); ",
        "best_none": "No penalty beat the unregularised network on validation loss ({va}). ",
        "l1l2": "the best L1 reaches {l1} (λ = {l1lam}) and the best L2 {l2} (λ = {l2lam}). ",
        "sparse": "At every matched strength L1 leaves more weights near zero than L2: {items}.",
        "sparse_not": "L1 leaves more weights near zero than L2 at {k} of {n} matched strengths: {items}.",
    },
    "es": {
        "overfit": "Sin penalización la red se sobreajusta: pérdida de entrenamiento {tr}, de validación {va} "
                   "(brecha {gap}). ",
        "best": "La mejor pérdida de validación es {best} con {kind} y λ = {lam} (entrenamiento {tr}, brecha {gap}); ",
        "best_none": "Ninguna penalización mejoró la pérdida de validación de la red sin regularizar ({va}). ",
        "l1l2": "la mejor L1 llega a {l1} (λ = {l1lam}) y la mejor L2 a {l2} (λ = {l2lam}). ",
        "sparse": "Con cada intensidad, L1 deja más pesos casi en cero que L2: {items}.",
        "sparse_not": "L1 deja más pesos casi en cero que L2 en {k} de {n} intensidades: {items}.",
    },
}


def conclude(res: ExperimentResult, lang: str = "en") -> str:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    C = _C[lang]
    none = [r for r in res.rows if r["penalty"] == "none"][0]
    out = []
    if none["gap"] > 0.05:
        out.append(C["overfit"].format(tr=fmt_num(none["train_loss"]), va=fmt_num(none["val_loss"]), gap=fmt_num(none["gap"])))
    best = min(res.rows, key=lambda r: r["val_loss"])
    if best["penalty"] == "none":
        out.append(C["best_none"].format(va=fmt_num(none["val_loss"])))
    else:
        out.append(C["best"].format(best=fmt_num(best["val_loss"]), kind=best["penalty"].upper(), lam=f"{best['strength']:g}",
                                    tr=fmt_num(best["train_loss"]), gap=fmt_num(best["gap"])))
    b1, b2 = _best(res, "l1"), _best(res, "l2")
    out.append(C["l1l2"].format(l1=fmt_num(b1["val_loss"]), l1lam=f"{b1['strength']:g}", l2=fmt_num(b2["val_loss"]),
                                l2lam=f"{b2['strength']:g}"))
    lams = sorted({r["strength"] for r in res.rows if r["penalty"] != "none"})
    z = {(r["penalty"], r["strength"]): r["near_zero_1e-2"] for r in res.rows}
    items = ", ".join(f"λ = {lam:g}: L1 {z[('l1', lam)]:.0%} vs L2 {z[('l2', lam)]:.0%}" for lam in lams)
    k = sum(z[("l1", lam)] > z[("l2", lam)] for lam in lams)
    out.append(C["sparse"].format(items=items) if k == len(lams) else C["sparse_not"].format(k=k, n=len(lams), items=items))
    return "".join(out)
