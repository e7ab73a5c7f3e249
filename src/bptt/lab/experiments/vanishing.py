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

from ...functional import cells
from ...reference import backprop_through_jacobians, jacobian_products, trace_forward
from ..i18n import both
from .base import ExperimentResult, budget_config, fmt_num, mean_std, progress_iter, single_thread_blas, timer

NAME = "vanishing"
TITLE = both("vanishing.title")
SETUP = both("vanishing.setup")

CELLS = cells.names(jacobians=True)  # every cell kind whose Jacobians bptt.reference writes

# draws: random networks per (cell, ρ, T) in the gradient study; seeds: training runs per (cell, T).
BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": dict(cells=CELLS, radii=(0.5, 1.0, 2.0), lengths=(5, 20, 50), hidden=8, batch=3, draws=2, map_T=15,
                 map_radii=(0.5, 2.0), train_cells=("rnn-tanh", "lstm"), train_lengths=(20,), train_steps=600,
                 train_batch=32, train_hidden=32, tasks=("adding",), eval_size=500, seeds=2),
    "quick": dict(cells=CELLS, radii=(0.5, 0.75, 1.0, 1.25, 1.5, 2.0), lengths=(5, 10, 20, 50, 100, 200),
                  hidden=16, batch=4, draws=3, map_T=40, map_radii=(0.5, 1.0, 2.0), train_cells=("rnn-tanh", "lstm", "gru"),
                  train_lengths=(10, 20, 40), train_steps=1000, train_batch=32, train_hidden=32, tasks=("adding",),
                  eval_size=1000, seeds=3),
    "full": dict(cells=CELLS, radii=(0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0),
                 lengths=(5, 10, 20, 50, 100, 150, 200), hidden=32, batch=8, draws=5, map_T=60,
                 map_radii=(0.5, 1.0, 1.5, 2.0), train_cells=("rnn-tanh", "lstm", "gru"),
                 train_lengths=(10, 25, 50, 100), train_steps=4000, train_batch=32, train_hidden=32,
                 tasks=("adding", "copy"), eval_size=2000, seeds=3),
}


def scale_to_radius(W: np.ndarray, rho: float) -> np.ndarray:
    """W · ρ / max|eig(W)|: the same matrix with spectral radius ρ."""
    return W * (rho / np.max(np.abs(np.linalg.eigvals(W))))


# Adam's learning rate per cell for the adding/copy tasks (32 units, clipping 5), from a small search on the
# adding problem at T = 40 (test accuracy, chance 7 %):
#   batch 128, 400 steps, seeds 11, 12:  LSTM 0.003: 8 %, 7 %; 0.01: 7 %, 55 %; 0.03: 41 %, 47 %
#                                        GRU  0.003: 24 %, 32 %; 0.01: 90 %, 89 %; 0.03: 91 %, 98 %
#                                        tanh RNN: 7 % at every rate (it learns T = 10 at 0.01)
#   batch 32, 1000 steps, seeds 7, 108, 209 (the budgets' setting): LSTM 0.003: 39 %, 18 %, 8 %;
#                                        0.01: 49 %, 74 %, 49 %
# so 0.01 for every cell at batch 32 (the LSTM's plateau is shorter with more, smaller steps).
# Checked at the full budget, T = 100 (4000 steps, batch 32, clip 5, forget bias 1, seeds 7, 108, 209):
#   adding: LSTM 99.9 %, 99.1 %, 99.6 % (it leaves the plateau between steps 500 and 1500); GRU 99.8 %, 100 %,
#           99.7 %; tanh RNN 8.3 %, 8.6 %, 8.9 % (chance 8.6 %) — as in the literature, no other rate needed.
#   copy (seeds 7, 108 only, ~10 min a run): LSTM 19 %, 12 %; GRU 22 %; tanh RNN 12 % (chance 12.5 %) — the gated
#           cells are at or barely above chance after 4000 steps; the report says so (literature_disagrees).
TRAIN_LR = {"rnn-tanh": 0.01, "rnn-sigmoid": 0.01, "rnn-relu": 0.01, "lstm": 0.01, "gru": 0.01}

FORGET_BIAS = 1.0  # the LSTM's forget-gate bias, in the gradient study as in training


def random_layer(kind: str, input_size: int, hidden: int, rho: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """torch's default init U(−1/√H, 1/√H) for W_ih and biases; each H×H block of W_hh Gaussian, radius ρ.

    The LSTM's forget block of b_ih is set to :data:`FORGET_BIAS` (and of b_hh to 0), as ``forget_bias`` does.
    """
    G = cells.get(kind).gates
    k = 1.0 / np.sqrt(hidden)
    layer = {
        "W_ih": rng.uniform(-k, k, (G * hidden, input_size)),
        "W_hh": np.vstack([scale_to_radius(rng.standard_normal((hidden, hidden)), rho) for _ in range(G)]),
        "b_ih": rng.uniform(-k, k, G * hidden),
        "b_hh": rng.uniform(-k, k, G * hidden),
    }
    if cells.get(kind).has_cell_state:
        layer["b_ih"][hidden:2 * hidden] = FORGET_BIAS
        layer["b_hh"][hidden:2 * hidden] = 0.0
    return layer


def gradient_profile(kind: str, rho: float, T: int, hidden: int, batch: int, rng: np.random.Generator,
                     input_size: int = 4, keep_jacobians: bool = False, keep_back: bool = False) -> dict[str, Any]:
    """log ‖∂L/∂s_k‖ for k = 0…T (batch mean) for L = ⟨g, h_T⟩, from the literal Jacobian products.

    Returns {"log_norms": (T+1,) natural logs, "rate": γ, "log10_ratio": log10(‖∂L/∂s_1‖/‖∂L/∂s_T‖),
    "layer", "x", "g", "mean_act_deriv", "jacobians"?, "back"?}.
    """
    cell = cells.get(kind)
    layer = random_layer(kind, input_size, hidden, rho, rng)
    x = rng.standard_normal((T, batch, input_size))
    h0 = np.zeros((batch, hidden))
    c0 = np.zeros((batch, hidden)) if cell.has_cell_state else None
    tr = trace_forward(kind, x, h0, c0, layer["W_ih"], layer["W_hh"], layer["b_ih"], layer["b_hh"])
    J = tr.jacobians
    S = J.shape[-1]
    g = np.zeros((batch, S))
    g[:, :hidden] = rng.standard_normal((batch, hidden)) / np.sqrt(hidden)
    logn = log_backprop_norms(J, g)
    fprime = float("nan")
    if cell.family == "rnn":
        from ...functional.activations import get_activation

        act = get_activation(cell.nonlinearity)
        fprime = float(np.mean([act.grad_from_output(act.fn(loc["values"]["a"])) for seq in tr.local for loc in seq]))
    out = {"log_norms": logn, "rate": decay_rate(logn[1:]), "log10_ratio": float((logn[1] - logn[T]) / np.log(10)),
           "layer": layer, "x": x, "g": g, "mean_act_deriv": fprime}
    if keep_jacobians:
        out["jacobians"] = J
    if keep_back:  # ∂L/∂s_k themselves (linear; for the check against the efficient recursion)
        out["back"] = backprop_through_jacobians(J, g)
    return out


def log_backprop_norms(jacobians: np.ndarray, g: np.ndarray) -> np.ndarray:
    """log of the batch-mean ‖∂L/∂s_k‖, k = 0…T, for ∂L/∂s_T = g, computed in log space.

    The vector sent back is renormalised at every step and the scale kept as a sum of
    logs, so a norm of 1e-183 (or 1e-400) is a log like any other, never 0 or −inf.
    Only an exactly zero gradient (dead ReLU units) gives −inf.

    Shapes: jacobians (T, B, S, S), g (B, S) -> (T+1,)
    """
    T = jacobians.shape[0]
    logs = np.empty((T + 1, g.shape[0]))
    v, scale = np.array(g, dtype=np.float64), np.zeros(g.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(T, -1, -1):
            if k < T:
                v = np.einsum("bs,bst->bt", v, jacobians[k])
            n = np.linalg.norm(v, axis=1)
            logs[k] = scale + np.log(n)
            ok = n > 0
            v[ok] /= n[ok, None]
            scale = np.where(ok, logs[k], scale)
    return _log_mean_exp(logs)


def _log_mean_exp(logs: np.ndarray) -> np.ndarray:
    """log of the mean over axis 1 of exp(logs), without leaving log space."""
    m = np.max(logs, axis=1)
    finite = np.isfinite(m)
    out = np.full(logs.shape[0], -np.inf)
    out[finite] = m[finite] + np.log(np.mean(np.exp(logs[finite] - m[finite, None]), axis=1))
    return out


def decay_rate(log_norms: np.ndarray) -> float:
    """γ such that ‖∂L/∂s_k‖ ≈ C γ^(T−k): least squares on the log norms (k = 1…T). 1 for T = 1."""
    n = np.asarray(log_norms, dtype=np.float64)
    if n.size < 2:
        return 1.0
    lag = np.arange(n.size)[::-1]  # T − k
    ok = np.isfinite(n)  # an exactly zero gradient carries no slope information
    if ok.sum() < 2:
        return 0.0
    return float(np.exp(np.polyfit(lag[ok], n[ok], 1)[0]))


def efficient_check(kind: str, prof: dict[str, Any]) -> float:
    """max relative difference between the Jacobian-product ∂L/∂h_k and ``layer_backward(keep_dh=True)``."""
    from ...functional.recurrent import layer_backward, layer_forward

    L, x, g = prof["layer"], prof["x"], prof["g"]
    T, B, _ = x.shape
    H = L["W_hh"].shape[1]
    c0 = np.zeros((B, H)) if cells.get(kind).has_cell_state else None
    _, _, _, cache = layer_forward(kind, x, np.zeros((B, H)), c0, L["W_ih"], L["W_hh"], L["b_ih"],
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
                          dtype=np.float64, seed=seed, forget_bias=FORGET_BIAS if cells.get(kind).has_cell_state else None)
    lr = cfg.get("lr") or TRAIN_LR[kind]
    opt = make_optimizer("adam", model.parameters(), lr=lr)
    loss_fn = spec.loss_fn()
    x_te, y_te = spec.sample(cfg["eval_size"], np.random.default_rng([test_seed, T]))  # one test set per T

    def evaluate() -> dict[str, float]:
        pred = model(x_te)
        out = {"accuracy": spec.accuracy(pred, y_te)}
        if spec.loss == "mse":
            out["mse"] = mse(pred, y_te)
        return out

    hist = train_steps(model, lambda step: spec.sample(cfg["train_batch"], rng), loss_fn, cfg["train_steps"], opt,
                       clip=5.0, evaluate=evaluate, eval_every=max(cfg["train_steps"] // 8, 1))
    final = hist.eval[-1]
    out = {"task": task, "cell": kind, "T": T, "seed": seed, "lr": lr, "accuracy": final["accuracy"],
           "mse": final.get("mse", float("nan")), "chance_accuracy": spec.chance_accuracy(y_te),
           "chance_mse": spec.chance_mse(y_te), "seconds": hist.wall[-1], "eval_step": hist.eval_step,
           "eval_accuracy": [e["accuracy"] for e in hist.eval], "loss": hist.loss, "trained_rate": float("nan"),
           "log_sensitivity": None}
    if spec.readout == "last":
        sens = log_output_sensitivity(model, kind, x_te[:16])
        out["log_sensitivity"] = sens
        out["trained_rate"] = decay_rate(sens[1:])
    return out


def log_output_sensitivity(model, kind: str, x: np.ndarray) -> np.ndarray:
    """log ‖∂ŷ/∂s_k‖ (batch mean, k = 0…T) of a trained one-output model, from the literal Jacobian products.

    How much the prediction still depends on the state at step k: what BPTT can send back there.
    Shapes: x (B, T, I) -> (T+1,) natural logs
    """
    W_ih, W_hh, b_ih, b_hh = model.rnn._layer_params(0, 0)
    xt = np.ascontiguousarray(np.transpose(x, (1, 0, 2)))
    B, H = x.shape[0], W_hh.shape[1]
    c0 = np.zeros((B, H)) if cells.get(kind).has_cell_state else None
    tr = trace_forward(kind, xt, np.zeros((B, H)), c0, W_ih, W_hh, b_ih, b_hh)
    J = tr.jacobians
    g = np.zeros((B, J.shape[-1]))
    g[:, :H] = model.head._params["weight"].data[0]
    return log_backprop_norms(J, g)


def _profiles(res: ExperimentResult, cfg: dict[str, Any], rng: np.random.Generator, progress: bool) -> None:
    """The gradient study: every (cell, ρ, T), ``draws`` random networks each; rows hold mean and spread."""
    jobs = [(kind, rho, T) for kind in cfg["cells"] for rho in cfg["radii"] for T in cfg["lengths"]]
    checks = []
    Tmax = max(cfg["lengths"])
    for kind, rho, T in progress_iter(jobs, len(jobs), "vanishing: gradients", progress):
        profs = [gradient_profile(kind, rho, T, cfg["hidden"], cfg["batch"], rng,
                                  keep_back=(d == 0 and T == Tmax and rho == 1.0)) for d in range(cfg["draws"])]
        if "back" in profs[0]:
            checks.append(efficient_check(kind, profs[0]))
        # an exactly zero gradient (every ReLU unit dead) has log −inf: the mean is over the others
        finite = [p["log10_ratio"] for p in profs if np.isfinite(p["log10_ratio"])]
        lr_ = mean_std(finite) if finite else (-np.inf, np.nan)
        gm = mean_std(p["rate"] for p in profs)
        res.rows.append({"cell": kind, "rho": rho, "T": T, "draws": len(profs),
                         "grad_ratio_first_last": float(10.0 ** lr_[0]), "log10_ratio": lr_[0],
                         "log10_ratio_std": lr_[1], "rate_per_step": gm[0], "rate_std": gm[1],
                         "mean_act_deriv": float(np.mean([p["mean_act_deriv"] for p in profs]))})
        if T == Tmax:
            L10 = np.array([p["log_norms"] for p in profs]) / np.log(10)
            L10[~np.isfinite(L10)] = np.nan  # an exactly zero gradient in one network must not cut the others' curve
            with np.errstate(all="ignore"):
                y = np.nanmean(L10, axis=0) if np.any(np.isfinite(L10)) else L10[0]
            res.curves.append({"config": {"cell": kind, "rho": rho, "T": T}, "name": "log10_grad_norm_per_step",
                               "x": list(range(T + 1)), "y": y.tolist()})
    res.meta["jacobian_products_vs_efficient_max_rel"] = max(checks) if checks else None


def _learning(res: ExperimentResult, cfg: dict[str, Any], seed: int, progress: bool) -> None:
    """Adding (and copy) at growing lengths, every cell with ``seeds`` seeds; the table holds mean ± std."""
    runs = []
    tjobs = [(task, kind, T, s) for task in cfg["tasks"] for T in cfg["train_lengths"] for kind in cfg["train_cells"]
             for s in range(cfg["seeds"])]
    for task, kind, T, s in progress_iter(tjobs, len(tjobs), "vanishing: learning", progress):
        r = _train_task(task, kind, T, cfg, seed + 101 * s + 7, seed + 10_000)
        c = {"task": task, "cell": kind, "T": T, "seed": r["seed"]}
        res.curves.append({"config": c, "name": "eval_accuracy", "x": r.pop("eval_step"), "y": r.pop("eval_accuracy")})
        res.curves.append({"config": c, "name": "train_loss", "x": list(range(1, len(r["loss"]) + 1)), "y": r.pop("loss")})
        sens = r.pop("log_sensitivity")
        if sens is not None:
            res.curves.append({"config": c, "name": "log10_trained_sensitivity", "x": list(range(T + 1)),
                               "y": (sens / np.log(10)).tolist()})
        runs.append(r)
    rows = []
    for task in cfg["tasks"]:
        for T in cfg["train_lengths"]:
            for kind in cfg["train_cells"]:
                rs = [r for r in runs if r["task"] == task and r["T"] == T and r["cell"] == kind]
                am, as_ = mean_std(r["accuracy"] for r in rs)
                mm, ms = mean_std(r["mse"] for r in rs)
                rows.append({"task": task, "cell": kind, "T": T, "lr": rs[0]["lr"], "seeds": len(rs),
                             "accuracy_mean": am, "accuracy_std": as_, "mse_mean": mm, "mse_std": ms,
                             "chance_accuracy": float(np.mean([r["chance_accuracy"] for r in rs])),
                             "chance_mse": float(np.mean([r["chance_mse"] for r in rs])),
                             "solved": sum(r["accuracy"] > 2 * r["chance_accuracy"] for r in rs),
                             "trained_rate": float(np.mean([r["trained_rate"] for r in rs])),
                             "seconds": float(np.sum([r["seconds"] for r in rs]))})
    res.tables["learning"] = {"columns": ["task", "cell", "T", "lr", "seeds", "accuracy_mean", "accuracy_std",
                                          "mse_mean", "mse_std", "chance_accuracy", "solved", "seconds"], "rows": rows}
    res.tables["learning_runs"] = {"columns": ["task", "cell", "T", "seed", "lr", "accuracy", "mse", "chance_accuracy",
                                               "seconds"], "rows": runs}


def run(budget: str = "quick", seed: int = 0, progress: bool = True, **overrides: Any) -> ExperimentResult:
    """Measure gradient profiles, rates, T×T maps and (if budgeted) learning vs length."""
    cfg = budget_config(BUDGETS, budget, overrides)
    res = ExperimentResult(NAME, budget, seed, ["cell", "rho", "T", "draws", "log10_ratio", "log10_ratio_std",
                                                "rate_per_step", "rate_std", "mean_act_deriv"])
    res.meta["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}
    res.meta["train_lr"] = {k: TRAIN_LR[k] for k in cfg["train_cells"]}
    with single_thread_blas(), timer(res.meta):
        rng = np.random.default_rng(seed)
        _profiles(res, cfg, rng, progress)
        for kind in cfg["cells"]:
            for rho in cfg["map_radii"]:
                prof = gradient_profile(kind, rho, cfg["map_T"], cfg["hidden"], cfg["batch"], rng, keep_jacobians=True)
                res.arrays[f"map/{kind}/{rho}"] = jacobian_products(prof["jacobians"], ord=2)
        if cfg["train_cells"]:
            _learning(res, cfg, seed, progress)
    return res


# ---------------------------------------------------------------------------
# Plots and conclusion
# ---------------------------------------------------------------------------


def _rows(res: ExperimentResult, **where) -> list[dict]:
    return [r for r in res.rows if all(r[k] == v for k, v in where.items())]


def plot(res: ExperimentResult, outdir: str | Path, lang: str = "en") -> list[Path]:
    """Draw the experiment's figures from ``res`` into ``outdir``; returns the paths of the PNG files."""
    from ..i18n import tr
    from ..plotting import legend, new_figure, save

    def L(key: str, **kw) -> str:
        return tr(lang, "lbl." + key, **kw)

    outdir = Path(outdir)
    paths = []
    kinds = list(dict.fromkeys(r["cell"] for r in res.rows))
    radii = sorted({r["rho"] for r in res.rows})
    Tmax = max(r["T"] for r in res.rows)

    fig, axes = new_figure(1, len(kinds), width=3.0 * len(kinds), height=3.4, sharey=True)
    for ax, kind in zip(axes, kinds):
        for c in res.curves_named("log10_grad_norm_per_step"):
            if c["config"]["cell"] == kind:
                ax.plot(c["x"][1:], c["y"][1:], label=f"ρ = {c['config']['rho']:g}")
        ax.set_title(kind)
        ax.set_xlabel(L("step_k"))
    axes[0].set_ylabel(L("log10_grad", T=Tmax))
    legend(fig, axes[0], ncol=len(radii), title=L("radius_legend"))
    paths.append(save(fig, outdir / "vanishing_grad_per_step.png"))

    fig, axes = new_figure(1, 1, width=5.4, height=3.8)
    ax = axes[0]
    for kind in kinds:
        rows = [_rows(res, cell=kind, rho=rho, T=Tmax)[0] for rho in radii]
        ax.errorbar(radii, [r["rate_per_step"] for r in rows], yerr=[r["rate_std"] for r in rows], marker="o",
                    capsize=3, label=kind)
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xlabel(L("radius"))
    ax.set_ylabel(L("gamma"))
    ax.legend(fontsize=9)
    paths.append(save(fig, outdir / "vanishing_rate_vs_radius.png"))

    fig, axes = new_figure(1, 1, width=5.4, height=3.8)
    ax = axes[0]
    rho_mid = min(radii, key=lambda r: abs(r - 1.0))
    for kind in kinds:
        rows = sorted(_rows(res, cell=kind, rho=rho_mid), key=lambda r: r["T"])
        ax.errorbar([r["T"] for r in rows], [r["log10_ratio"] for r in rows], yerr=[r["log10_ratio_std"] for r in rows],
                    marker="o", capsize=3, label=kind)
    ax.set_xlabel(L("length_T"))
    ax.set_ylabel(L("log10_ratio", rho=rho_mid))
    ax.legend(fontsize=9)
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
                    Lg = np.log10(M)
                im = ax.imshow(Lg, origin="lower", cmap="viridis", vmin=-8, vmax=4, aspect="auto")
                ax.set_title(f"{kind}, ρ = {rho:g}", fontsize=8)
                ax.set_xlabel("k", fontsize=7)
                ax.set_ylabel("t", fontsize=7)
                ax.tick_params(labelsize=6)
        fig.colorbar(im, ax=axes, shrink=0.6, label=L("log10_map"))
        paths.append(save(fig, outdir / "vanishing_jacobian_maps.png", tight=False))

    learn = res.tables.get("learning", {}).get("rows", [])
    if learn:
        tasks = list(dict.fromkeys(r["task"] for r in learn))
        fig, axes = new_figure(1, len(tasks), width=4.8 * len(tasks), height=3.6)
        for ax, task in zip(axes, tasks):
            rows = [r for r in learn if r["task"] == task]
            for kind in dict.fromkeys(r["cell"] for r in rows):
                rr = sorted([r for r in rows if r["cell"] == kind], key=lambda r: r["T"])
                ax.errorbar([r["T"] for r in rr], [r["accuracy_mean"] for r in rr], yerr=[r["accuracy_std"] for r in rr],
                            marker="o", capsize=3, label=kind)
            chance = np.mean([r["chance_accuracy"] for r in rows])
            ax.axhline(chance, color="k", ls="--", lw=0.8, label=L("chance"))
            ax.set_xlabel(L("length_T") if task == "adding" else L("delay_T"))
            ax.set_ylabel(L("test_accuracy"))
            ax.set_title(tr(lang, f"val.{task}"))
            ax.set_ylim(-0.02, 1.02)
            ax.set_xticks(sorted({r["T"] for r in rows}))  # the lengths measured, not 19.25, 19.5 …
            ax.legend(fontsize=8)
        paths.append(save(fig, outdir / "vanishing_learning_vs_length.png"))

    sens = res.curves_named("log10_trained_sensitivity")
    if sens:
        Ts = sorted({c["config"]["T"] for c in sens})
        fig, axes = new_figure(1, len(Ts), width=3.6 * len(Ts), height=3.4, sharey=True)
        for ax, T in zip(axes, Ts):
            for kind in dict.fromkeys(c["config"]["cell"] for c in sens):
                cs = [c for c in sens if c["config"]["T"] == T and c["config"]["cell"] == kind]
                if cs:  # the mean over seeds of log10 ‖∂ŷ/∂s_k‖
                    y = np.mean([c["y"] for c in cs], axis=0)
                    ax.plot(cs[0]["x"][1:], y[1:], label=kind)
            ax.set_title(L("sens_title", T=T))
            ax.set_xlabel(L("step_k"))
        axes[0].set_ylabel(L("log10_sens"))
        axes[-1].legend(fontsize=8)
        paths.append(save(fig, outdir / "vanishing_trained_sensitivity.png"))
    return paths


def conclude(res: ExperimentResult, lang: str = "en") -> list[str]:
    """The conclusion as bullet points, each with its number and spread (mean ± std)."""
    from ..i18n import tr
    from .base import clearly_above, pm

    def C(key: str, **kw) -> str:
        return tr(lang, "vanishing.c." + key, **kw)

    radii = sorted({r["rho"] for r in res.rows})
    kinds = list(dict.fromkeys(r["cell"] for r in res.rows))
    Tmax = max(r["T"] for r in res.rows)
    rlo, rhi = radii[0], radii[-1]
    at = {(r["cell"], r["rho"]): r for r in res.rows if r["T"] == Tmax}
    n = res.rows[0]["draws"]
    out = [C("rate_head", T=Tmax, n=n)]
    for c in kinds:
        lo, hi = at[(c, rlo)], at[(c, rhi)]
        out.append(C("rate_item", cell=c, lo=pm(lo["rate_per_step"], lo["rate_std"]), rlo=f"{rlo:g}",
                     hi=pm(hi["rate_per_step"], hi["rate_std"]), rhi=f"{rhi:g}"))
    if "rnn-tanh" in kinds:
        T50 = max(T for T in {r["T"] for r in res.rows} if T <= 50)
        r = _rows(res, cell="rnn-tanh", rho=rlo, T=T50)[0]
        out.append(C("ratio", rho=f"{rlo:g}", T=T50, orders=pm(-r["log10_ratio"], r["log10_ratio_std"], 2)))
        tanh = [at[("rnn-tanh", rho)] for rho in radii]
        cross = [(a["rho"], b["rho"]) for a, b in zip(tanh, tanh[1:]) if a["rate_per_step"] < 1 <= b["rate_per_step"]]
        if cross:
            out.append(C("cross", a=f"{cross[0][0]:g}", b=f"{cross[0][1]:g}"))
        elif len(radii) > 1:
            i = int(np.argmax([t["rate_per_step"] for t in tanh]))
            out.append(C("nocross_below" if tanh[-1]["rate_per_step"] < 1 else "nocross_above",
                         gmax=pm(tanh[i]["rate_per_step"], tanh[i]["rate_std"]), rmax=f"{radii[i]:g}",
                         d0=fmt_num(tanh[0]["mean_act_deriv"]), d1=fmt_num(tanh[-1]["mean_act_deriv"]),
                         rlo=f"{rlo:g}", rhi=f"{rhi:g}"))
    if "rnn-relu" in kinds:
        hi = at[("rnn-relu", rhi)]
        out.append(C("relu_explodes" if clearly_above(hi["rate_per_step"], hi["rate_std"], 1.0, 0.0) else "relu_ok",
                     hi=pm(hi["rate_per_step"], hi["rate_std"]), rhi=f"{rhi:g}"))
    if {"lstm", "gru", "rnn-tanh"} <= set(kinds):
        rho = min(radii, key=lambda v: abs(v - 1.0))
        gl, gg, gt = at[("lstm", rho)], at[("gru", rho)], at[("rnn-tanh", rho)]
        more = all(clearly_above(g["rate_per_step"], g["rate_std"], gt["rate_per_step"], gt["rate_std"]) for g in (gl, gg))
        out.append(C("gates_more" if more else "gates_unclear", rho=f"{rho:g}", lstm=pm(gl["rate_per_step"], gl["rate_std"]),
                     gru=pm(gg["rate_per_step"], gg["rate_std"]), tanh=pm(gt["rate_per_step"], gt["rate_std"])))
    out += _conclude_learning(res, lang)
    err = res.meta.get("jacobian_products_vs_efficient_max_rel")
    if err is not None:
        out.append(C("check", err=fmt_num(err)))
    return out


def _conclude_learning(res: ExperimentResult, lang: str) -> list[str]:
    from ..i18n import tr
    from .base import clearly_above, pm

    def C(key: str, **kw) -> str:
        return tr(lang, "vanishing.c." + key, **kw)

    learn = res.tables.get("learning", {}).get("rows", [])
    if not learn:
        return []
    cfg = res.meta["config"]
    out = []
    for task in dict.fromkeys(r["task"] for r in learn):
        rows = [r for r in learn if r["task"] == task]
        Ts = sorted({r["T"] for r in rows})
        for T in Ts:
            rt = [r for r in rows if r["T"] == T]
            items = ", ".join(f"{r['cell']} {pm(r['accuracy_mean'], r['accuracy_std'], pct=True)}" for r in rt)
            out.append(C("learn_" + task, T=T, items=items, chance=pct(rt[0]["chance_accuracy"]),
                         steps=cfg["train_steps"], n=rt[0]["seeds"]))
        gated = [c for c in cells.names() if cells.get(c).gates > 1 and any(r["cell"] == c for r in rows)]
        if "rnn-tanh" not in {r["cell"] for r in rows} or not gated:
            continue
        clear, unclear = [], []
        for T in Ts:
            by = {r["cell"]: r for r in rows if r["T"] == T}
            t = by["rnn-tanh"]
            ok = all(clearly_above(by[g]["accuracy_mean"], by[g]["accuracy_std"], t["accuracy_mean"], t["accuracy_std"])
                     for g in gated)
            (clear if ok else unclear).append(str(T))
        if clear:
            out.append(C("gates_win", task=tr(lang, f"val.{task}"), Ts=", ".join(clear), cells=", ".join(gated)))
        if unclear:
            out.append(C("gates_nodiff", task=tr(lang, f"val.{task}"), Ts=", ".join(unclear), cells=", ".join(gated)))
        longest = {r["cell"]: r for r in rows if r["T"] == Ts[-1]}
        solved = [g for g in gated if longest[g]["accuracy_mean"] > 2 * longest[g]["chance_accuracy"]]
        if len(solved) == len(gated) and str(Ts[-1]) in clear:
            out.append(C("literature_agrees", task=tr(lang, f"val.{task}"), T=Ts[-1]))
        else:
            failed = [g for g in gated if g not in solved] or gated
            out.append(_disagreement(res, lang, task, Ts[-1], failed, longest))
    sens = [c for c in res.curves_named("log10_trained_sensitivity") if c["config"]["task"] == "adding"]
    if sens:
        T = max(c["config"]["T"] for c in sens)
        items = []
        for kind in dict.fromkeys(c["config"]["cell"] for c in sens):
            v = [c["y"][1] - c["y"][T] for c in sens if c["config"]["T"] == T and c["config"]["cell"] == kind]
            if v:
                m, sd = mean_std(v)
                items.append(f"{kind} {pm(m, sd, 1)}")
        out.append(C("trained", T=T, items=", ".join(items)))
    return out


def _disagreement(res: ExperimentResult, lang: str, task: str, T: int, failed: list[str], rows: dict) -> str:
    """The bullet that says a gated cell did not learn at T where the literature's does, and why (from its curve)."""
    from ..i18n import tr
    from .base import pm

    steps = res.meta["config"]["train_steps"]
    curves = [c for c in res.curves_named("eval_accuracy")
              if c["config"]["task"] == task and c["config"]["T"] == T and c["config"]["cell"] in failed]
    x = curves[0]["x"]
    y = np.mean([c["y"] for c in curves], axis=0)  # the failed cells' mean test accuracy during training
    i = len(x) // 2 - 1 if len(x) > 1 else 0
    a0, a1 = y[i], y[-1]
    if steps < BUDGETS["full"]["train_steps"]:
        why = "short"
    else:
        why = "long" if a1 > a0 + 0.02 else "flat"  # "still climbing" only for 2 points or more in the second half
    acc = ", ".join(f"{c} {pm(rows[c]['accuracy_mean'], rows[c]['accuracy_std'], pct=True)}" for c in failed)
    return tr(lang, "vanishing.c.literature_disagrees", task=tr(lang, f"val.{task}"), T=T, cells=", ".join(failed),
              steps=steps, acc=acc, chance=pct(rows[failed[0]]["chance_accuracy"]),
              ref=tr(lang, f"vanishing.ref.{task}"),
              why=tr(lang, f"vanishing.why.{why}", a0=pct(a0), s0=x[i], a1=pct(a1),
                     full=BUDGETS["full"]["train_steps"]))


def pct(x: float) -> str:
    """A fraction as a whole percentage (0.25 -> '25 %')."""
    return f"{100 * x:.0f} %"
