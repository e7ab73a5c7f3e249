"""vanishing — how gradients fade (or explode) through time, and what that does to learning.

Seed 003 writes ∂L/∂θ as a sum over paths, each path a product of Jacobians
∂s_j/∂s_{j−1}. This experiment measures those very products, built by
:mod:`bptt.reference` (the same code that is tested equal to the efficient
recursion), for an Elman RNN (tanh / sigmoid / ReLU), an LSTM (state s = (h, c))
and a GRU:

1. **Gradient profile** — one loss at the last step, L = ⟨g, h_T⟩ with a random g;
   ‖∂L/∂s_k‖ for every step k, at lengths T = 5…200 and recurrent weights W_hh
   scaled to spectral radius ρ = 0.5…2.0 (each gate block for LSTM/GRU).
   The per-step factor γ (fit of log ‖∂L/∂s_k‖ against T − k) is the growth (γ > 1)
   or decay (γ < 1) rate of the gradient per step back in time.
2. **The T×T map** ‖∂s_t/∂s_k‖ (spectral norm of the product of Jacobians) for
   every pair k ≤ t.
3. **Learning** — the adding problem (and, in the full run, the copy task) at
   growing lengths: where the tanh RNN stays at chance and LSTM/GRU learn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...reference import GATES, backprop_through_jacobians, jacobian_products, trace_forward
from .base import ExperimentResult, budget_config, fmt_num, progress_iter, single_thread_blas, timer

NAME = "vanishing"
TITLE = {
    "en": "Vanishing and exploding gradients through time",
    "es": "Desvanecimiento y explosión del gradiente a través del tiempo",
}
SETUP = {
    "en": "Products of the Jacobians ∂s_j/∂s_{j−1} of seed 003's sum over paths, computed by bptt.reference for "
          "an Elman RNN (tanh, sigmoid, ReLU), an LSTM (s = (h, c)) and a GRU with W_hh scaled to a given spectral "
          "radius ρ; one loss at the last step. Then the adding problem learned at growing lengths (Adam, "
          "gradient clipping 5, LSTM with forget-gate bias 1).",
    "es": "Productos de los jacobianos ∂s_j/∂s_{j−1} de la suma sobre caminos de la semilla 003, calculados por "
          "bptt.reference para una RNN de Elman (tanh, sigmoide, ReLU), una LSTM (s = (h, c)) y una GRU con W_hh "
          "escalada a un radio espectral ρ; una sola pérdida en el último paso. Después, el problema de la suma "
          "aprendido con longitudes crecientes (Adam, recorte del gradiente a 5, LSTM con sesgo de olvido 1).",
}

CELLS = ("rnn-tanh", "rnn-sigmoid", "rnn-relu", "lstm", "gru")

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(cells=CELLS, radii=(0.5, 1.0, 2.0), lengths=(5, 20, 50), hidden=8, batch=3, map_T=15,
                 map_radii=(0.5, 2.0), train_cells=("rnn-tanh", "lstm"), train_lengths=(20,), train_steps=400,
                 train_batch=128, train_hidden=32, tasks=("adding",), eval_size=500),
    "quick": dict(cells=CELLS, radii=(0.5, 0.75, 1.0, 1.25, 1.5, 2.0), lengths=(5, 10, 20, 50, 100, 200),
                  hidden=16, batch=4, map_T=40, map_radii=(0.5, 1.0, 2.0), train_cells=("rnn-tanh", "lstm", "gru"),
                  train_lengths=(10, 20, 40), train_steps=400, train_batch=128, train_hidden=32, tasks=("adding",),
                  eval_size=1000),
    "full": dict(cells=CELLS, radii=(0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0),
                 lengths=(5, 10, 20, 50, 100, 150, 200), hidden=32, batch=8, map_T=60, map_radii=(0.5, 1.0, 1.5, 2.0),
                 train_cells=("rnn-tanh", "rnn-relu", "lstm", "gru"), train_lengths=(10, 20, 40, 80),
                 train_steps=1500, train_batch=128, train_hidden=32, tasks=("adding", "copy"), eval_size=2000),
}


def _cell_of(kind: str) -> tuple[str, str]:
    """("rnn", nonlinearity) or ("lstm"/"gru", "tanh")."""
    return ("rnn", kind[4:]) if kind.startswith("rnn-") else (kind, "tanh")


def scale_to_radius(W: np.ndarray, rho: float) -> np.ndarray:
    """W · ρ / max|eig(W)|: the same matrix with spectral radius ρ."""
    return W * (rho / np.max(np.abs(np.linalg.eigvals(W))))


FORGET_BIAS = 1.0  # the LSTM's forget-gate bias, in the gradient study as in training


def random_layer(kind: str, input_size: int, hidden: int, rho: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """torch's default init U(−1/√H, 1/√H) for W_ih and biases; each H×H block of W_hh Gaussian, radius ρ.

    The LSTM's forget block of b_ih is set to :data:`FORGET_BIAS` (and of b_hh to 0), as ``forget_bias`` does.
    """
    cell, _ = _cell_of(kind)
    G = GATES[cell]
    k = 1.0 / np.sqrt(hidden)
    layer = {
        "W_ih": rng.uniform(-k, k, (G * hidden, input_size)),
        "W_hh": np.vstack([scale_to_radius(rng.standard_normal((hidden, hidden)), rho) for _ in range(G)]),
        "b_ih": rng.uniform(-k, k, G * hidden),
        "b_hh": rng.uniform(-k, k, G * hidden),
    }
    if cell == "lstm":
        layer["b_ih"][hidden:2 * hidden] = FORGET_BIAS
        layer["b_hh"][hidden:2 * hidden] = 0.0
    return layer


def gradient_profile(kind: str, rho: float, T: int, hidden: int, batch: int, rng: np.random.Generator,
                     input_size: int = 4, keep_jacobians: bool = False) -> dict[str, Any]:
    """‖∂L/∂s_k‖ for k = 0…T (batch mean) for L = ⟨g, h_T⟩, from the literal Jacobian products.

    Returns {"norms": (T+1,), "rate": γ, "ratio": ‖∂L/∂s_1‖/‖∂L/∂s_T‖, "layer", "x", "g", "jacobians"?}.
    """
    cell, nl = _cell_of(kind)
    layer = random_layer(kind, input_size, hidden, rho, rng)
    x = rng.standard_normal((T, batch, input_size))
    h0 = np.zeros((batch, hidden))
    c0 = np.zeros((batch, hidden)) if cell == "lstm" else None
    tr = trace_forward(cell, x, h0, c0, layer["W_ih"], layer["W_hh"], layer["b_ih"], layer["b_hh"], nonlinearity=nl)
    J = tr.jacobians
    S = J.shape[-1]
    g = np.zeros((batch, S))
    g[:, :hidden] = rng.standard_normal((batch, hidden)) / np.sqrt(hidden)
    back = backprop_through_jacobians(J, g)  # (T+1, B, S): ∂L/∂s_k
    norms = np.linalg.norm(back, axis=2).mean(axis=1)
    fprime = float("nan")
    if cell == "rnn":
        from ...functional.activations import get_activation

        act = get_activation(nl)
        fprime = float(np.mean([act.grad_from_output(act.fn(loc["values"]["a"])) for seq in tr.local for loc in seq]))
    out = {"norms": norms, "rate": decay_rate(norms[1:]), "ratio": float(norms[1] / norms[T]), "layer": layer, "x": x,
           "g": g, "back": back, "mean_act_deriv": fprime}
    if keep_jacobians:
        out["jacobians"] = J
    return out


def decay_rate(norms: np.ndarray) -> float:
    """γ such that ‖∂L/∂s_k‖ ≈ C γ^(T−k): least squares on log norms (k = 1…T). 1 for T = 1."""
    n = np.asarray(norms, dtype=np.float64)
    if n.size < 2:
        return 1.0
    lag = np.arange(n.size)[::-1]  # T − k
    # Norms that underflowed to (near) zero carry no slope information; clamping them
    # to a floor would bend the fit and understate γ, so fit on the representable ones.
    ok = n > 1e-280
    if ok.sum() < 2:
        return 0.0
    slope = np.polyfit(lag[ok], np.log(n[ok]), 1)[0]
    return float(np.exp(slope))


def efficient_check(kind: str, prof: dict[str, Any]) -> float:
    """max relative difference between the Jacobian-product ∂L/∂h_k and ``layer_backward(keep_dh=True)``."""
    from ...functional.recurrent import layer_backward, layer_forward
    from ...reference import kind_of

    cell, nl = _cell_of(kind)
    L, x, g = prof["layer"], prof["x"], prof["g"]
    T, B, _ = x.shape
    H = L["W_hh"].shape[1]
    c0 = np.zeros((B, H)) if cell == "lstm" else None
    _, _, _, cache = layer_forward(kind_of(cell, nl), x, np.zeros((B, H)), c0, L["W_ih"], L["W_hh"], L["b_ih"],
                                   L["b_hh"], backend="reference")
    eff = layer_backward(None, g[:, :H], None if c0 is None else np.zeros((B, H)), cache, keep_dh=True)
    ref = prof["back"][1:, :, :H]
    scale = np.max(np.abs(ref), axis=(1, 2), keepdims=True) + 1e-300
    return float(np.max(np.abs(eff["dh"] - ref) / scale))


# ---------------------------------------------------------------------------
# Learning the adding / copy tasks
# ---------------------------------------------------------------------------


def _train_task(task: str, kind: str, T: int, cfg: dict[str, Any], seed: int, test_seed: int) -> dict[str, Any]:
    from ..models import SequenceModel
    from ..tasks import sequence_task
    from ..training import make_optimizer, mse, train_steps

    rng = np.random.default_rng(seed)
    spec = sequence_task(task, T)
    model = SequenceModel(kind, spec.input_size, cfg["train_hidden"], spec.output_size, readout=spec.readout,
                          dtype=np.float64, seed=seed, forget_bias=1.0 if kind == "lstm" else None)
    opt = make_optimizer("adam", model.parameters(), lr=0.01)
    loss_fn = spec.loss_fn()
    x_te, y_te = spec.sample(cfg["eval_size"], np.random.default_rng([test_seed, T]))  # one test set per (seed, T)

    def evaluate() -> dict[str, float]:
        pred = model(x_te)
        out = {"accuracy": spec.accuracy(pred, y_te)}
        if spec.loss == "mse":
            out["mse"] = mse(pred, y_te)
        return out

    hist = train_steps(model, lambda step: spec.sample(cfg["train_batch"], rng), loss_fn, cfg["train_steps"], opt,
                       clip=5.0, evaluate=evaluate, eval_every=max(cfg["train_steps"] // 8, 1))
    final = hist.eval[-1]
    out = {"task": task, "cell": kind, "T": T, "accuracy": final["accuracy"], "mse": final.get("mse", float("nan")),
           "chance_accuracy": spec.chance_accuracy(y_te), "chance_mse": spec.chance_mse(y_te),
           "seconds": hist.wall[-1], "eval_step": hist.eval_step, "eval_accuracy": [e["accuracy"] for e in hist.eval],
           "loss": hist.loss, "trained_rate": float("nan"), "sensitivity": None}
    if spec.readout == "last":
        sens = output_sensitivity(model, kind, x_te[:16])
        out["sensitivity"] = sens
        out["trained_rate"] = decay_rate(sens[1:])
    return out


def output_sensitivity(model, kind: str, x: np.ndarray) -> np.ndarray:
    """‖∂ŷ/∂s_k‖ (batch mean, k = 0…T) of a trained one-output model, from the literal Jacobian products.

    How much the prediction still depends on the state at step k: what BPTT can send back there.
    Shapes: x (B, T, I) -> (T+1,)
    """
    cell, nl = _cell_of(kind)
    W_ih, W_hh, b_ih, b_hh = model.rnn._layer_params(0, 0)
    xt = np.ascontiguousarray(np.transpose(x, (1, 0, 2)))
    B, H = x.shape[0], W_hh.shape[1]
    c0 = np.zeros((B, H)) if cell == "lstm" else None
    tr = trace_forward(cell, xt, np.zeros((B, H)), c0, W_ih, W_hh, b_ih, b_hh, nonlinearity=nl)
    J = tr.jacobians
    g = np.zeros((B, J.shape[-1]))
    g[:, :H] = model.head._params["weight"].data[0]
    return np.linalg.norm(backprop_through_jacobians(J, g), axis=2).mean(axis=1)


def run(budget: str = "quick", seed: int = 0, progress: bool = True, **overrides: Any) -> ExperimentResult:
    """Measure gradient profiles, rates, T×T maps and (if budgeted) learning vs length."""
    cfg = budget_config(BUDGETS, budget, overrides)
    res = ExperimentResult(NAME, budget, seed, ["cell", "rho", "T", "grad_ratio_first_last", "log10_ratio", "rate_per_step",
                                                "mean_act_deriv"])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    with single_thread_blas(), timer(res.meta):
        rng = np.random.default_rng(seed)
        jobs = [(kind, rho, T) for kind in cfg["cells"] for rho in cfg["radii"] for T in cfg["lengths"]]
        checks = []
        for kind, rho, T in progress_iter(jobs, len(jobs), "vanishing: gradients", progress):
            prof = gradient_profile(kind, rho, T, cfg["hidden"], cfg["batch"], rng)
            if T == max(cfg["lengths"]) and rho == 1.0:
                checks.append(efficient_check(kind, prof))
            res.rows.append({"cell": kind, "rho": rho, "T": T, "grad_ratio_first_last": prof["ratio"],
                             "log10_ratio": float(np.log10(prof["ratio"])) if prof["ratio"] > 0 else -np.inf,
                             "rate_per_step": prof["rate"],
                             "mean_act_deriv": prof["mean_act_deriv"]})
            if T == max(cfg["lengths"]):
                res.curves.append({"config": {"cell": kind, "rho": rho, "T": T}, "name": "grad_norm_per_step",
                                   "x": list(range(T + 1)), "y": prof["norms"].tolist()})
        res.meta["jacobian_products_vs_efficient_max_rel"] = max(checks) if checks else None
        for kind in cfg["cells"]:
            for rho in cfg["map_radii"]:
                prof = gradient_profile(kind, rho, cfg["map_T"], cfg["hidden"], cfg["batch"], rng, keep_jacobians=True)
                res.arrays[f"map/{kind}/{rho}"] = jacobian_products(prof["jacobians"], ord=2)
        train_rows = []
        tjobs = [(task, kind, T) for task in cfg["tasks"] for T in cfg["train_lengths"] for kind in cfg["train_cells"]]
        for i, (task, kind, T) in enumerate(progress_iter(tjobs, len(tjobs), "vanishing: learning", progress)):
            r = _train_task(task, kind, T, cfg, seed + 101 * i, seed + 10_000)
            res.curves.append({"config": {"task": task, "cell": kind, "T": T}, "name": "eval_accuracy",
                               "x": r.pop("eval_step"), "y": r.pop("eval_accuracy")})
            res.curves.append({"config": {"task": task, "cell": kind, "T": T}, "name": "train_loss",
                               "x": list(range(1, len(r["loss"]) + 1)), "y": r.pop("loss")})
            sens = r.pop("sensitivity")
            if sens is not None:
                res.curves.append({"config": {"task": task, "cell": kind, "T": T}, "name": "trained_sensitivity",
                                   "x": list(range(T + 1)), "y": sens.tolist()})
            train_rows.append(r)
        res.tables["learning"] = {"columns": ["task", "cell", "T", "accuracy", "mse", "chance_accuracy", "chance_mse",
                                              "trained_rate", "seconds"], "rows": train_rows}
    return res


# ---------------------------------------------------------------------------
# Plots and conclusion
# ---------------------------------------------------------------------------


def _rows(res: ExperimentResult, **where) -> list[dict]:
    return [r for r in res.rows if all(r[k] == v for k, v in where.items())]


def plot(res: ExperimentResult, outdir: str | Path) -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..plotting import new_figure, save

    outdir = Path(outdir)
    paths = []
    cells = list(dict.fromkeys(r["cell"] for r in res.rows))
    radii = sorted({r["rho"] for r in res.rows})
    Tmax = max(r["T"] for r in res.rows)

    fig, axes = new_figure(1, len(cells), width=3.2 * len(cells), height=3.2, sharey=True)
    for ax, kind in zip(axes, cells):
        for c in res.curves_named("grad_norm_per_step"):
            if c["config"]["cell"] == kind:
                ax.semilogy(c["x"][1:], c["y"][1:], label=f"ρ={c['config']['rho']}")
        ax.set_title(kind)
        ax.set_xlabel("k")
    axes[0].set_ylabel(f"‖∂L/∂s_k‖ (T={Tmax})")
    axes[-1].legend(fontsize=7)
    paths.append(save(fig, outdir / "vanishing_grad_per_step.png"))

    fig, axes = new_figure(1, 1, width=5, height=3.6)
    ax = axes[0]
    for kind in cells:
        rates = [_rows(res, cell=kind, rho=rho, T=Tmax)[0]["rate_per_step"] for rho in radii]
        ax.semilogy(radii, rates, marker="o", label=kind)
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xlabel("spectral radius ρ of W_hh")
    ax.set_ylabel("gradient factor per step γ")
    ax.legend(fontsize=8)
    paths.append(save(fig, outdir / "vanishing_rate_vs_radius.png"))

    fig, axes = new_figure(1, 1, width=5, height=3.6)
    ax = axes[0]
    rho_mid = min(radii, key=lambda r: abs(r - 1.0))
    for kind in cells:
        rows = sorted(_rows(res, cell=kind, rho=rho_mid), key=lambda r: r["T"])
        ax.semilogy([r["T"] for r in rows], [r["grad_ratio_first_last"] for r in rows], marker="o", label=kind)
    ax.set_xlabel("sequence length T")
    ax.set_ylabel(f"‖∂L/∂s_1‖ / ‖∂L/∂s_T‖ (ρ={rho_mid})")
    ax.legend(fontsize=8)
    paths.append(save(fig, outdir / "vanishing_ratio_vs_length.png"))

    maps = [k for k in res.arrays if k.startswith("map/")]
    if maps:
        mcells = list(dict.fromkeys(k.split("/")[1] for k in maps))
        mradii = sorted({float(k.split("/")[2]) for k in maps})
        fig, axes = new_figure(len(mradii), len(mcells), width=2.6 * len(mcells) + 1, height=2.4 * len(mradii),
                               layout="constrained")
        for i, rho in enumerate(mradii):
            for j, kind in enumerate(mcells):
                ax = axes[i * len(mcells) + j]
                M = np.asarray(res.arrays[f"map/{kind}/{rho}"], dtype=np.float64)
                with np.errstate(divide="ignore", invalid="ignore"):
                    L = np.log10(M)
                im = ax.imshow(L, origin="lower", cmap="viridis", vmin=-8, vmax=4, aspect="auto")
                ax.set_title(f"{kind}, ρ={rho}", fontsize=8)
                ax.set_xlabel("k", fontsize=7)
                ax.set_ylabel("t", fontsize=7)
                ax.tick_params(labelsize=6)
        fig.colorbar(im, ax=axes, shrink=0.6, label="log10 ‖∂s_t/∂s_k‖")
        paths.append(save(fig, outdir / "vanishing_jacobian_maps.png", tight=False))

    learn = res.tables.get("learning", {}).get("rows", [])
    if learn:
        tasks = list(dict.fromkeys(r["task"] for r in learn))
        fig, axes = new_figure(1, len(tasks), width=4.5 * len(tasks), height=3.4)
        for ax, task in zip(axes, tasks):
            rows = [r for r in learn if r["task"] == task]
            for kind in dict.fromkeys(r["cell"] for r in rows):
                rr = sorted([r for r in rows if r["cell"] == kind], key=lambda r: r["T"])
                ax.plot([r["T"] for r in rr], [r["accuracy"] for r in rr], marker="o", label=kind)
            chance = np.mean([r["chance_accuracy"] for r in rows])
            ax.axhline(chance, color="k", ls="--", lw=0.8, label="chance")
            ax.set_xlabel("sequence length T")
            ax.set_ylabel("test accuracy")
            ax.set_title(task)
            ax.set_ylim(-0.02, 1.02)
            ax.legend(fontsize=8)
        paths.append(save(fig, outdir / "vanishing_learning_vs_length.png"))

    sens = res.curves_named("trained_sensitivity")
    if sens:
        Ts = sorted({c["config"]["T"] for c in sens})
        fig, axes = new_figure(1, len(Ts), width=3.6 * len(Ts), height=3.2, sharey=True)
        for ax, T in zip(axes, Ts):
            for c in sens:
                if c["config"]["T"] == T:
                    ax.semilogy(c["x"][1:], c["y"][1:], label=c["config"]["cell"])
            ax.set_title(f"{sens[0]['config']['task']}, T={T} (trained)")
            ax.set_xlabel("k")
        axes[0].set_ylabel("‖∂ŷ/∂s_k‖")
        axes[-1].legend(fontsize=8)
        paths.append(save(fig, outdir / "vanishing_trained_sensitivity.png"))
    return paths


_C = {
    "en": {
        "rate": "With one loss at the last step, the gradient reaching step k changes by a factor γ per step back "
                "in time (measured at T = {T}): ",
        "rate_item": "{cell} γ = {lo} at ρ = {rlo} and {hi} at ρ = {rhi}",
        "ratio": "For a tanh RNN with ρ = {rho} and T = {T}, ‖∂L/∂h_1‖ is {ratio} of ‖∂L/∂h_T‖ "
                 "({orders} orders of magnitude).",
        "cross": "The tanh RNN's γ crosses 1 between ρ = {a} and ρ = {b}; below, gradients vanish geometrically.",
        "nocross": "The tanh RNN's γ stays {side} 1 over the radii measured (largest γ = {gmax} at ρ = {rmax}): "
                   "as W_hh grows the units saturate — the mean tanh′(a) falls from {d0} at ρ = {rlo} to {d1} at "
                   "ρ = {rhi} — which offsets the larger weights.",
        "relu": "ReLU has no saturation: its γ goes from {lo} (ρ = {rlo}) to {hi} (ρ = {rhi}) — {verdict}.",
        "relu_explodes": "the gradient explodes",
        "relu_ok": "no explosion at these radii",
        "gates_more": "At initialisation the gated cells keep more of the gradient: at ρ = {rho}, γ is {lstm} for the "
                      "LSTM (forget bias 1) and {gru} for the GRU against {tanh} for the tanh RNN.",
        "gates_mixed": "At initialisation the gated cells do not keep clearly more of the gradient: at ρ = {rho}, γ is "
                       "{lstm} for the LSTM (forget bias 1) and {gru} for the GRU against {tanh} for the tanh RNN — "
                       "their advantage is what training makes of the gates (below).",
        "trained": "After training on the adding problem at T = {T}, the prediction's sensitivity to the first step "
                   "relative to the last, ‖∂ŷ/∂s_1‖/‖∂ŷ/∂s_T‖, is {items}.",
        "learn": "Adding problem after {steps} steps: ",
        "learn_copy": "Copy task (T = delay between the symbols and the cue) after {steps} steps: ",
        "learn_item": "at T = {T}: {items} (chance {chance})",
        "learn_verdict": "The longest length at which the tanh RNN still beats chance clearly (> 2× chance) is {rnn}; "
                         "for the LSTM it is {lstm}.",
        "none": "none measured",
        "check": "The Jacobian products agree with the efficient recursion to {err} (relative).",
    },
    "es": {
        "rate": "Con una sola pérdida en el último paso, el gradiente que llega al paso k cambia en un factor γ por "
                "cada paso hacia atrás (medido con T = {T}): ",
        "rate_item": "{cell} γ = {lo} con ρ = {rlo} y {hi} con ρ = {rhi}",
        "ratio": "Para una RNN tanh con ρ = {rho} y T = {T}, ‖∂L/∂h_1‖ es {ratio} veces ‖∂L/∂h_T‖ "
                 "({orders} órdenes de magnitud).",
        "cross": "El γ de la RNN tanh cruza 1 entre ρ = {a} y ρ = {b}; por debajo el gradiente se desvanece "
                 "geométricamente.",
        "nocross": "El γ de la RNN tanh queda {side} de 1 en todos los radios medidos (mayor γ = {gmax} con ρ = {rmax}): "
                   "al crecer W_hh las unidades se saturan — la media de tanh′(a) baja de {d0} con ρ = {rlo} a {d1} "
                   "con ρ = {rhi} — y eso compensa los pesos mayores.",
        "relu": "ReLU no se satura: su γ va de {lo} (ρ = {rlo}) a {hi} (ρ = {rhi}) — {verdict}.",
        "relu_explodes": "el gradiente explota",
        "relu_ok": "sin explosión en estos radios",
        "gates_more": "Al inicializar, las celdas con compuertas conservan más gradiente: con ρ = {rho}, γ es {lstm} "
                      "para la LSTM (sesgo de olvido 1) y {gru} para la GRU frente a {tanh} para la RNN tanh.",
        "gates_mixed": "Al inicializar, las celdas con compuertas no conservan claramente más gradiente: con ρ = {rho}, "
                       "γ es {lstm} para la LSTM (sesgo de olvido 1) y {gru} para la GRU frente a {tanh} para la RNN "
                       "tanh — su ventaja es lo que el entrenamiento hace de las compuertas (abajo).",
        "trained": "Tras entrenar en el problema de la suma con T = {T}, la sensibilidad de la predicción al primer "
                   "paso relativa al último, ‖∂ŷ/∂s_1‖/‖∂ŷ/∂s_T‖, es {items}.",
        "learn": "Problema de la suma tras {steps} pasos: ",
        "learn_copy": "Tarea de copia (T = demora entre los símbolos y la señal) tras {steps} pasos: ",
        "learn_item": "con T = {T}: {items} (azar {chance})",
        "learn_verdict": "La mayor longitud en la que la RNN tanh aún supera claramente al azar (> 2× azar) es {rnn}; "
                         "para la LSTM es {lstm}.",
        "none": "ninguna medida",
        "check": "Los productos de jacobianos coinciden con la recursión eficiente hasta {err} (relativo).",
    },
}


def conclude(res: ExperimentResult, lang: str = "en") -> str:
    """The conclusion read off ``res``'s numbers, as sentences in ``lang`` ("en" or "es")."""
    C = _C[lang]
    radii = sorted({r["rho"] for r in res.rows})
    cells = list(dict.fromkeys(r["cell"] for r in res.rows))
    Tmax = max(r["T"] for r in res.rows)
    rlo, rhi = radii[0], radii[-1]
    rate = {(r["cell"], r["rho"]): r["rate_per_step"] for r in res.rows if r["T"] == Tmax}
    parts = [C["rate"].format(T=Tmax) + "; ".join(
        C["rate_item"].format(cell=c, lo=fmt_num(rate[(c, rlo)]), hi=fmt_num(rate[(c, rhi)]), rlo=rlo, rhi=rhi)
        for c in cells) + "."]
    if "rnn-tanh" in cells:
        T50 = max(T for T in {r["T"] for r in res.rows} if T <= 50)
        r = _rows(res, cell="rnn-tanh", rho=rlo, T=T50)[0]
        parts.append(C["ratio"].format(rho=rlo, T=T50, ratio=fmt_num(r["grad_ratio_first_last"]),
                                       orders=fmt_num(-r["log10_ratio"], 2)))
        tanh_rates = [rate[("rnn-tanh", rho)] for rho in radii]
        if len(radii) < 2:
            tanh_rates = []
        cross = [(a, b) for a, b, ga, gb in zip(radii, radii[1:], tanh_rates, tanh_rates[1:]) if ga < 1 <= gb]
        if cross:
            parts.append(C["cross"].format(a=cross[0][0], b=cross[0][1]))
        elif tanh_rates:
            below = tanh_rates[-1] < 1
            side = ("por debajo" if lang == "es" else "below") if below else ("por encima" if lang == "es" else "above")
            i = int(np.argmax(tanh_rates))
            deriv = {r["rho"]: r["mean_act_deriv"] for r in res.rows if r["cell"] == "rnn-tanh" and r["T"] == Tmax}
            parts.append(C["nocross"].format(side=side, gmax=fmt_num(tanh_rates[i]), rmax=radii[i],
                                             d0=fmt_num(deriv[rlo]), d1=fmt_num(deriv[rhi]), rlo=rlo, rhi=rhi))
    if "rnn-relu" in cells:
        lo, hi = rate[("rnn-relu", rlo)], rate[("rnn-relu", rhi)]
        parts.append(C["relu"].format(lo=fmt_num(lo), hi=fmt_num(hi), rlo=rlo, rhi=rhi,
                                      verdict=C["relu_explodes"] if hi > 1 else C["relu_ok"]))
    if {"lstm", "gru", "rnn-tanh"} <= set(cells):
        rho = min(radii, key=lambda v: abs(v - 1.0))
        gl, gg, gt = rate[("lstm", rho)], rate[("gru", rho)], rate[("rnn-tanh", rho)]
        key = "gates_more" if min(gl, gg) > gt else "gates_mixed"
        parts.append(C[key].format(rho=rho, lstm=fmt_num(gl), gru=fmt_num(gg), tanh=fmt_num(gt)))
    learn = res.tables.get("learning", {}).get("rows", [])
    if learn:
        steps = res.meta["config"]["train_steps"]
        for task in dict.fromkeys(r["task"] for r in learn):
            rows = [r for r in learn if r["task"] == task]
            items = []
            for T in sorted({r["T"] for r in rows}):
                rt = [r for r in rows if r["T"] == T]
                chance = f"{float(np.mean([r['chance_accuracy'] for r in rt])):.0%}"
                acc = ", ".join(f"{r['cell']} {r['accuracy']:.0%}" for r in rt)
                items.append(C["learn_item"].format(T=T, items=acc, chance=chance))
            head = C["learn" if task == "adding" else "learn_copy"].format(steps=steps)
            parts.append(head + "; ".join(items) + ".")
            best = {}
            for kind in ("rnn-tanh", "lstm"):
                ok = [r["T"] for r in rows if r["cell"] == kind and r["accuracy"] > 2 * r["chance_accuracy"]]
                best[kind] = str(max(ok)) if ok else C["none"]
            if task == "adding" and any(r["cell"] == "lstm" for r in rows):
                parts.append(C["learn_verdict"].format(rnn=best["rnn-tanh"], lstm=best["lstm"]))
    sens = [c for c in res.curves_named("trained_sensitivity") if c["config"]["task"] == "adding"]
    if sens:
        T = max(c["config"]["T"] for c in sens)
        items = ", ".join(f"{c['config']['cell']} {fmt_num(c['y'][1] / c['y'][T])}" for c in sens if c["config"]["T"] == T)
        parts.append(C["trained"].format(T=T, items=items))
    err = res.meta.get("jacobian_products_vs_efficient_max_rel")
    if err is not None:
        parts.append(C["check"].format(err=fmt_num(err)))
    return " ".join(parts)
