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

from .base import ExperimentResult, budget_config, fmt_num, progress_iter, single_thread_blas, timer

NAME = "lengths"
TITLE = {"en": "Variable-length sequences: lengths (masks) vs padding without masks",
         "es": "Secuencias de longitud variable: longitudes (máscaras) vs relleno sin máscaras"}
SETUP = {
    "en": "Seed 001, BPTT exercise 2 (sequences of variable length). Values U(0, 1) for ℓ ∈ [2, T] steps, "
          "zero-padded to T, target their mean (so where a sequence ends matters); an RNN (32 units) + linear read-out trained with "
          "Adam and MSE in three ways: with bptt's lengths (the state stops at each sequence's end), padded at the end "
          "without masks (read-out at T), padded at the front without masks. Every model is evaluated in all three ways.",
    "es": "Semilla 001, ejercicio 2 de BPTT (secuencias de longitud variable). Valores U(0, 1) durante ℓ ∈ [2, T] "
          "pasos, rellenados con ceros hasta T, objetivo su media (importa dónde termina cada secuencia); una RNN (32 unidades) + "
          "lectura lineal entrenada con Adam y MSE de tres formas: con las longitudes de bptt (el estado se detiene al "
          "final de cada secuencia), rellenada al final sin máscaras (lectura en T), rellenada al principio sin "
          "máscaras. Cada modelo se evalúa de las tres formas.",
}
MODES = ("lengths", "pad-end", "pad-front")

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(cells=("gru",), T=15, steps=200, batch=64, hidden=32, eval_size=600),
    "quick": dict(cells=("rnn-tanh", "gru"), T=20, steps=400, batch=64, hidden=32, eval_size=1000),
    "full": dict(cells=("rnn-tanh", "lstm", "gru"), T=40, steps=2000, batch=64, hidden=32, eval_size=2000),
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
    res = ExperimentResult(NAME, budget, seed, ["cell", "trained_with", "evaluated_with", "mse", "mse_short", "mse_long",
                                                "predict_mean_mse"])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    T = cfg["T"]
    with single_thread_blas(), timer(res.meta):
        x_te, y_te, l_te = variable_mean(cfg["eval_size"], T, np.random.default_rng([seed, 7]))
        base = float(np.var(y_te))
        pad = T - l_te
        jobs = [(c, m) for c in cfg["cells"] for m in MODES]
        for cell, mode in progress_iter(jobs, len(jobs), "lengths", progress):
            rng = np.random.default_rng([seed, 1])  # same training batches for every mode
            model = SequenceModel(cell, 1, cfg["hidden"], 1, dtype=np.float64, seed=seed)

            def batch(step: int):
                x, y, ell = variable_mean(cfg["batch"], T, rng)
                xi, li = _inputs(mode, x, ell)
                return (xi, y) if li is None else (xi, y, li)

            hist = train_steps(model, batch, MSELoss(), cfg["steps"], make_optimizer("adam", model.parameters(), lr=0.01),
                               clip=5.0)
            res.curves.append({"config": {"cell": cell, "trained_with": mode}, "name": "train_loss",
                               "x": list(range(1, len(hist.loss) + 1)), "y": hist.loss})
            for ev in MODES:
                xi, li = _inputs(ev, x_te, l_te)
                err = ((model(xi, li) if li is not None else model(xi)) - y_te)[:, 0] ** 2
                short, long_ = err[pad > T // 2].mean(), err[pad <= T // 2].mean()
                res.rows.append({"cell": cell, "trained_with": mode, "evaluated_with": ev, "mse": float(err.mean()),
                                 "mse_short": float(short), "mse_long": float(long_), "predict_mean_mse": base})
                by_pad = [float(err[pad == p].mean()) if np.any(pad == p) else float("nan") for p in range(T - 1)]
                res.curves.append({"config": {"cell": cell, "trained_with": mode, "evaluated_with": ev},
                                   "name": "mse_by_padding", "x": list(range(T - 1)), "y": by_pad})
    return res


def _mse(res: ExperimentResult, cell: str, tr: str, ev: str) -> float:
    return next(r["mse"] for r in res.rows if r["cell"] == cell and r["trained_with"] == tr and r["evaluated_with"] == ev)


def plot(res: ExperimentResult, outdir: str | Path) -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..plotting import new_figure, save

    outdir = Path(outdir)
    cells = list(dict.fromkeys(r["cell"] for r in res.rows))
    fig, axes = new_figure(1, len(cells), width=5 * len(cells), height=3.6, sharey=True)
    for ax, cell in zip(axes, cells):
        for c in res.curves_named("mse_by_padding"):
            cc = c["config"]
            if cc["cell"] != cell or not (cc["trained_with"] == cc["evaluated_with"] or
                                          (cc["trained_with"] == "lengths" and cc["evaluated_with"] == "pad-end")):
                continue
            lab = cc["trained_with"] if cc["trained_with"] == cc["evaluated_with"] else "lengths-trained, run without"
            ax.semilogy(c["x"], c["y"], marker=".", label=lab)
        ax.set(title=cell, xlabel="padding steps T − ℓ")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("test MSE")
    paths = [save(fig, outdir / "lengths_error_by_padding.png")]

    fig, axes = new_figure(1, len(cells), width=5 * len(cells), height=3.4)
    for ax, cell in zip(axes, cells):
        M = np.array([[_mse(res, cell, tr, ev) for ev in MODES] for tr in MODES])
        im = ax.imshow(np.log10(M), cmap="magma_r")
        for i in range(3):
            for j in range(3):
                ax.text(j, i, f"{M[i, j]:.2g}", ha="center", va="center", fontsize=8, color="w" if np.log10(M[i, j]) > np.log10(M).mean() else "k")
        ax.set_xticks(range(3), MODES, fontsize=7)
        ax.set_yticks(range(3), MODES, fontsize=7)
        ax.set(xlabel="evaluated with", ylabel="trained with", title=f"{cell}: test MSE")
    paths.append(save(fig, outdir / "lengths_matrix.png"))
    return paths


_C = {
    "en": {
        "cell": "{cell}: trained and evaluated with lengths, test MSE {a}; trained padded at the end without masks, {b} "
                "({rb}× that error); padded at the front, {c} ({rc}×). Running the lengths-trained model over the padding "
                "instead multiplies its error by {rx} (MSE {x}), worst on the most padded sequences ({xs} vs {xl}). ",
        "base": "Predicting the mean gives {m}.",
    },
    "es": {
        "cell": "{cell}: entrenada y evaluada con longitudes, MSE de prueba {a}; entrenada con relleno al final sin "
                "máscaras, {b} ({rb}× ese error); con relleno al principio, {c} ({rc}×). Ejecutar el modelo entrenado con "
                "longitudes sobre el relleno multiplica su error por {rx} (MSE {x}), sobre todo en las secuencias más "
                "rellenadas ({xs} frente a {xl}). ",
        "base": "Predecir la media da {m}.",
    },
}


def conclude(res: ExperimentResult, lang: str = "en") -> str:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    C = _C[lang]
    out = []
    for cell in dict.fromkeys(r["cell"] for r in res.rows):
        a = _mse(res, cell, "lengths", "lengths")
        b = _mse(res, cell, "pad-end", "pad-end")
        c = _mse(res, cell, "pad-front", "pad-front")
        x = next(r for r in res.rows if r["cell"] == cell and r["trained_with"] == "lengths" and r["evaluated_with"] == "pad-end")
        out.append(C["cell"].format(cell=cell, a=fmt_num(a), b=fmt_num(b), rb=fmt_num(b / a, 2), c=fmt_num(c),
                                    rc=fmt_num(c / a, 2), rx=fmt_num(x["mse"] / a, 2), x=fmt_num(x["mse"]),
                                    xs=fmt_num(x["mse_short"]), xl=fmt_num(x["mse_long"])))
    out.append(C["base"].format(m=fmt_num(res.rows[0]["predict_mean_mse"])))
    return "".join(out)
