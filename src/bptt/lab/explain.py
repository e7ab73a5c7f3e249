"""``bptt explain``: one small recurrent network traced step by step, forward and backward.

The default network is seed 000's: two tanh cells in series (nh = 2, nx = 2,
ny = 4), softmax + cross-entropy at each step,

    a_t = W h_{t−1} + U x_t + b,   h_t = tanh(a_t),   o_t = V h_t + c,
    y_t = softmax(o_t),            J_t = −log y_t[target_t],   L = Σ_t J_t,

with its values drawn as the seed drew them (``torch.manual_seed(0)``, then
``torch.rand`` for b, c, U, W, V, h0, x1, x2; targets t1 = class 2, t2 = class 0).
The trace shows every a_t, h_t, o_t, y_t, then every ∂L/∂h_t with the formula
it comes from, and each parameter gradient as the sum of its per-step terms.
Every number comes from bptt: the forward pass and the totals from the
efficient recursion (:func:`bptt.functional.recurrent.layer_backward` with
``keep_dh=True``), the per-(t, k) table from the literal sum over paths of
:mod:`bptt.reference`, and the two are checked against each other.

Other networks (LSTM, GRU, other sizes and lengths) are given by arguments;
their parameters are drawn the same way, by torch's generator reproduced in
NumPy (:mod:`bptt.torch_random`): torch is not needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import torch_random
from .._checks import as_dtype, check_choice, check_positive_int
from ..functional.activations import get_activation
from ..functional.losses import cross_entropy_backward, cross_entropy_forward, softmax
from ..functional.recurrent import layer_backward, layer_forward
from ..reference import GATES, kind_of, reference_bptt

Array = np.ndarray

SEED_000 = dict(cell="rnn", nonlinearity="tanh", hidden=2, inputs=2, classes=4, steps=2, seed=0)
SEED_000_TARGETS = (2, 0)

def _text(lang: str) -> dict[str, str]:
    """The explainer's words in ``lang`` (from the lab's catalogue, :mod:`bptt.lab.i18n`)."""
    from .i18n import MESSAGES

    return {k[len("explain."):]: v for k, v in MESSAGES[lang].items() if k.startswith("explain.")}


LANGS = ("en", "es")
FORMATS = ("text", "md", "json")


@dataclass
class Network:
    """A one-layer recurrent network with a softmax output at every step (seed 000's shape).

    ``U`` (G·nh, nx), ``W`` (G·nh, nh), ``b`` (G·nh,) are the recurrent layer's
    W_ih, W_hh, b_ih (b_hh = 0); ``V`` (ny, nh), ``c`` (ny,) the output layer;
    ``h0`` (nh,), ``c0`` (nh,) for the LSTM; ``x`` (T, nx); ``targets`` (T,) ints.
    """

    cell: str
    nonlinearity: str
    params: dict[str, Array]
    x: Array
    targets: Array
    seed: int
    drawn_with: str  # "torch" (torch.manual_seed's values) or "numpy" (numpy.random.default_rng, asked for)
    order: list[str] = field(default_factory=list)
    is_seed_000: bool = False

    @property
    def nh(self) -> int:
        """Hidden size."""
        return self.params["W"].shape[1]

    @property
    def nx(self) -> int:
        """Input size."""
        return self.x.shape[1]

    @property
    def ny(self) -> int:
        """Number of output classes."""
        return self.params["V"].shape[0]

    @property
    def T(self) -> int:
        """Sequence length."""
        return self.x.shape[0]


def draw_network(
    cell: str = "rnn",
    nonlinearity: str = "tanh",
    hidden: int = 2,
    inputs: int = 2,
    classes: int = 4,
    steps: int = 2,
    seed: int = 0,
    targets: Any = None,
    backend: str = "auto",
    dtype: Any = np.float32,
) -> Network:
    """Draw a network as seed 000 does: uniform [0, 1) values in the order b, c, U, W, V, h0, (c0), x_1 … x_T.

    With ``backend`` "torch" or "auto" the values are ``torch.rand`` after
    ``torch.manual_seed(seed)``, drawn by :mod:`bptt.torch_random` (torch's
    generator reproduced bit for bit, torch not needed): for the default arguments
    exactly seed 000's tensors. Targets: given, or seed 000's (2, 0) for its
    configuration, or drawn after the inputs (``torch.randint`` / ``rng.integers``).
    Values are drawn in float32 (as the seed) and then cast to ``dtype``.
    """
    dtype = as_dtype(dtype)
    check_choice("cell", cell, tuple(GATES))
    if cell == "rnn":
        get_activation(nonlinearity)
    for name, v in (("hidden", hidden), ("inputs", inputs), ("classes", classes), ("steps", steps)):
        check_positive_int(name, v)
    if classes < 2:
        raise ValueError(f"classes: expected an int >= 2 (softmax over classes), got {classes}")
    check_choice("backend", backend, ("auto", "torch", "numpy"))
    use_torch = backend != "numpy"  # torch's generator, reproduced in NumPy: torch itself is not needed
    G = GATES[cell]
    shapes = [("b", (G * hidden, 1)), ("c", (classes, 1)), ("U", (G * hidden, inputs)), ("W", (G * hidden, hidden)),
              ("V", (classes, hidden)), ("h0", (hidden, 1))]
    if cell == "lstm":
        shapes.append(("c0", (hidden, 1)))
    shapes += [(f"x{t + 1}", (inputs, 1)) for t in range(steps)]
    config = dict(cell=cell, nonlinearity=nonlinearity, hidden=hidden, inputs=inputs, classes=classes, steps=steps, seed=seed)
    is_seed = config == SEED_000
    if use_torch:
        gen = torch_random.manual_seed(seed)
        vals = {k: gen.rand(*s).astype(dtype) for k, s in shapes}
        drawn_targets = None if (targets is not None or is_seed) else gen.randint(0, classes, (steps,))
    else:
        rng = np.random.default_rng(seed)
        vals = {k: rng.random(s).astype(np.float32).astype(dtype) for k, s in shapes}
        drawn_targets = None if (targets is not None or is_seed) else rng.integers(0, classes, steps)
    if targets is None:
        targets = SEED_000_TARGETS if is_seed else drawn_targets
    targets = np.asarray(targets)
    if targets.shape != (steps,) or not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"targets: expected {steps} integer class indices (one per step), got {targets.tolist()}")
    if targets.min() < 0 or targets.max() >= classes:
        raise ValueError(f"targets: expected class indices in [0, {classes}), got {targets.tolist()}")
    params = {k: vals[k][:, 0] if vals[k].shape[1] == 1 else vals[k] for k in ("b", "c", "U", "W", "V", "h0")}
    if cell == "lstm":
        params["c0"] = vals["c0"][:, 0]
    x = np.stack([vals[f"x{t + 1}"][:, 0] for t in range(steps)])
    return Network(cell, nonlinearity if cell == "rnn" else "-", params, x, targets.astype(np.int64), seed,
                   "torch" if use_torch else "numpy", [k for k, _ in shapes], is_seed and use_torch)


def seed000_network(backend: str = "auto") -> Network:
    """Seed 000's network and data, the seed's exact values."""
    return draw_network(**SEED_000, backend=backend)


# ---------------------------------------------------------------------------
# The trace
# ---------------------------------------------------------------------------


def _deriv_label(nl: str) -> str:
    return {"tanh": "1 − h_t²", "sigmoid": "h_t ⊙ (1 − h_t)", "relu": "[h_t > 0]", "identity": "1"}[nl]


def trace(net: Network, paths: bool = False) -> dict:
    """Run the network and collect every intermediate value, gradient and per-step term.

    Returns a JSON-able dict (arrays as nested lists): ``network``, ``parameters``,
    ``forward`` (one entry per step), ``loss``, ``backward`` (∂L/∂h_t per step and
    ∂L/∂h_0), ``gradients`` (per parameter: formula, per-step terms, total),
    ``check`` and, with ``paths``, the per-(t, k) table of the sum over paths.
    """
    p, cell, T, nh = net.params, net.cell, net.T, net.nh
    G = GATES[cell]
    dt = p["W"].dtype
    x3 = net.x[:, None, :]
    h0 = p["h0"][None, :]
    c0 = p["c0"][None, :] if cell == "lstm" else None
    b_hh = np.zeros(G * nh, dtype=dt)
    kind = kind_of(cell, net.nonlinearity if cell == "rnn" else "tanh")

    # Forward (the readable reference backend: the step pair the learner reads) and output layer.
    out, _, _, cache = layer_forward(kind, x3, h0, c0, p["U"], p["W"], p["b"], b_hh, backend="reference")
    h = out[:, 0, :]  # (T, nh)
    o = h @ p["V"].T + p["c"]  # (T, ny)
    y = softmax(o, axis=-1)
    per_step, _ = cross_entropy_forward(o, net.targets, reduction="none")
    loss, ce_cache = cross_entropy_forward(o, net.targets, reduction="sum")
    do = cross_entropy_backward(np.asarray(1.0, dtype=dt), ce_cache)  # y_t − onehot(t_t)
    dh_out = do @ p["V"]  # ∂J_t/∂h_t = Vᵀ(y_t − t_t), (T, nh)
    g = layer_backward(dh_out[:, None, :], None, None, cache, keep_dh=True)
    dh = g["dh"][:, 0, :]  # total ∂L/∂h_t

    # The literal sum over paths, on the same values (for the per-step terms and the check).
    ref = reference_bptt(cell, x3, h0, c0, p["U"], p["W"], p["b"], b_hh, dout=dh_out[:, None, :],
                         nonlinearity=net.nonlinearity if cell == "rnn" else "tanh", keep_paths=paths)
    locs = ref.trace.local[0]

    forward = []
    for t in range(T):
        vals = locs[t]["values"]
        step = {"t": t + 1, "x": net.x[t], "h": h[t], "o": o[t], "y": y[t], "target": int(net.targets[t]),
                "J": float(per_step[t])}
        if cell == "rnn":
            step["a"] = vals["a"]
        else:
            step["gates"] = {k: v for k, v in vals.items()}
        forward.append(step)

    # Per-step parameter terms.
    hprev = np.vstack([p["h0"][None, :], h[:-1]])
    if cell == "rnn":
        fprime = get_activation(net.nonlinearity).grad_from_output(h)
        delta_P = delta_Q = dh * fprime  # ∂L/∂a_t = diag(∂L/∂h_t) f'(a_t)
    else:
        S = ref.grads["dh"][:, 0, :]
        if cell == "lstm":
            S = np.hstack([S, ref.grads["dc"][:, 0, :]])
        delta_P = np.stack([S[t] @ locs[t]["dP"] for t in range(T)])
        delta_Q = np.stack([S[t] @ locs[t]["dQ"] for t in range(T)])
    grads = {
        "c": (do, "Σ_t (y_t − t_t)"),
        "V": (do[:, :, None] * h[:, None, :], "Σ_t (y_t − t_t) h_tᵀ"),
    }
    if cell == "rnn":
        d = _deriv_label(net.nonlinearity)
        grads["b"] = (delta_P, f"Σ_t diag(∂L/∂h_t) ({d})")
        grads["W"] = (delta_Q[:, :, None] * hprev[:, None, :], f"Σ_t diag(∂L/∂h_t) ({d}) h_{{t−1}}ᵀ")
        grads["U"] = (delta_P[:, :, None] * net.x[:, None, :], f"Σ_t diag(∂L/∂h_t) ({d}) x_tᵀ")
    else:
        zname = "[i f g o]" if cell == "lstm" else "[r z n]"
        grads["b"] = (delta_P, f"Σ_t δ_t,   δ_t = ∂L/∂{zname}_t = (∂s_t/∂{zname}_t)ᵀ ∂L/∂s_t")
        wlabel = "Σ_t δ_t h_{t−1}ᵀ" if cell == "lstm" else "Σ_t δ^h_t h_{t−1}ᵀ   (δ^h = [δ_r, δ_z, δ_n ⊙ r_t])"
        grads["W"] = (delta_Q[:, :, None] * hprev[:, None, :], wlabel)
        grads["U"] = (delta_P[:, :, None] * net.x[:, None, :], "Σ_t δ_t x_tᵀ")
    efficient_totals = {"b": g["db_ih"], "W": g["dW_hh"], "U": g["dW_ih"]}
    ref_totals = {"b": ref.grads["db_ih"], "W": ref.grads["dW_hh"], "U": ref.grads["dW_ih"]}
    check = max(float(np.max(np.abs(efficient_totals[k] - ref_totals[k]))) for k in efficient_totals)
    check = max(check, float(np.max(np.abs(g["dh0"] - ref.grads["dh0"]))),
                float(np.max(np.abs(g["dh"] - ref.grads["dh"]))))
    gradients = []
    for name in ("c", "b", "W", "U", "V"):
        terms, formula = grads[name]
        total = terms.sum(axis=0)
        if name in efficient_totals:
            total = efficient_totals[name]  # what bptt's backward gives; the terms above sum to it
        gradients.append({"name": name, "formula": formula,
                          "terms": [{"t": t + 1, "value": terms[t]} for t in range(T)], "total": total})

    def dh_formula(t: int) -> str:  # t is 1-based
        if t == T:
            return f"Vᵀ(y{T} − t{T})"
        if cell == "rnn":
            d = _deriv_label(net.nonlinearity).replace("h_t", f"h{t + 1}")
            return f"Vᵀ(y{t} − t{t}) + Wᵀ diag({d}) ∂L/∂h{t + 1}"
        return f"Vᵀ(y{t} − t{t}) + [(∂s{t + 1}/∂s{t})ᵀ ∂L/∂s{t + 1}]_h"

    if cell == "rnn":
        h0_formula = f"Wᵀ diag({_deriv_label(net.nonlinearity).replace('h_t', 'h1')}) ∂L/∂h1"
    else:
        h0_formula = "[(∂s1/∂s0)ᵀ ∂L/∂s1]_h"
    backward = {
        "dL_do": [{"t": t + 1, "value": do[t], "formula": f"y{t + 1} − t{t + 1}"} for t in range(T)],
        "dL_dh": [{"t": t + 1, "value": dh[t], "formula": dh_formula(t + 1)} for t in range(T)],
        "dL_dh0": {"value": g["dh0"][0], "formula": h0_formula},
    }
    if cell == "lstm":
        backward["dL_dc0"] = {"value": g["dc0"][0], "formula": "[(∂s1/∂s0)ᵀ ∂L/∂s1]_c"}
    result = {
        "network": {"cell": cell, "nonlinearity": net.nonlinearity, "nh": nh, "nx": net.nx, "ny": net.ny, "T": T,
                    "seed": net.seed, "drawn_with": net.drawn_with, "order": net.order,
                    "targets": net.targets.tolist(), "is_seed_000": net.is_seed_000, "dtype": str(dt)},
        "parameters": dict(p),
        "forward": forward,
        "loss": float(loss),
        "backward": backward,
        "gradients": gradients,
        "check": {"efficient_vs_paths_max_abs": check},
    }
    if paths:
        rows = []
        for q in ref.paths:
            rows.append({"t": q.t, "k": q.k, "dJt_dsk": q.dJt_dsk[0], "norm": q.norm,
                         "terms": {"W": q.terms["W_hh"], "U": q.terms["W_ih"], "b": q.terms["b_ih"]}})
        result["paths"] = rows
    return result


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def _fmt(a: Any, decimals: int = 4) -> str:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return f"{float(a):.{decimals}f}"
    if a.ndim == 1:
        return "[" + ", ".join(f"{v:.{decimals}f}" for v in a) + "]"
    return "[" + ", ".join(_fmt(r, decimals) for r in a) + "]"


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.astype(np.float64).tolist() if obj.dtype.kind == "f" else obj.tolist()
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    return obj


def render(tr: dict, fmt: str = "text", lang: str = "en", decimals: int = 4) -> str:
    """The trace as plain text, Markdown or JSON (full precision), in English or Spanish."""
    check_choice("format", fmt, FORMATS)
    check_choice("lang", lang, LANGS)
    if fmt == "json":
        return json.dumps(_jsonable(tr), indent=1, ensure_ascii=False)
    L = _text(lang)
    md = fmt == "md"
    net = tr["network"]
    out: list[str] = []

    def head(s, level=2):
        if md:
            out.extend(["", "#" * level + " " + s, ""])
        else:
            out.extend(["", s, "-" * len(s)])

    def line(s, indent=0):
        out.append(("    " * indent if not md else "") + s if not md else ("  " * indent) + s)

    def eq(label, value, indent=1):
        v = _fmt(value, decimals)
        out.append(f"- `{label}` = `{v}`" if md else "    " * indent + f"{label} = {v}")

    article = ("a" if net["cell"] == "gru" else "an") if lang == "en" else ""
    what = L["seed_net"] if net["is_seed_000"] else L["custom_net"].format(cell=net["cell"].upper(), article=article)
    title = L["title"].format(what=what)
    out.append(("# " + title) if md else title)
    out.append(("" if not md else "") + L["sizes"].format(cell=net["cell"].upper(), nl=net["nonlinearity"], nh=net["nh"],
                                                       nx=net["nx"], ny=net["ny"], T=net["T"]))
    key = {"torch": "drawn_torch", "numpy": "drawn_numpy_chosen"}[net["drawn_with"]]
    out.append(L[key].format(seed=net["seed"], order=", ".join(net["order"])))
    out.append(f"{L['targets']}: " + ", ".join(f"t{t + 1} = {L['class']} {c}" for t, c in enumerate(net["targets"])))

    head(L["params"])
    for k, v in tr["parameters"].items():
        eq(k, v)

    head(L["forward"])
    cell = net["cell"]
    for s in tr["forward"]:
        t = s["t"]
        if md:
            out.extend([f"**{L['step'].format(t=t)}**", ""])
        else:
            out.append("  " + L["step"].format(t=t))
        eq(f"x{t}", s["x"])
        if cell == "rnn":
            f = "tanh" if net["nonlinearity"] == "tanh" else net["nonlinearity"]
            eq(f"a{t} = W h{t - 1} + U x{t} + b", s["a"])
            eq(f"h{t} = {f}(a{t})", s["h"])
        elif cell == "lstm":
            gts = s["gates"]
            eq(f"i{t} = σ([W h{t - 1} + U x{t} + b]_i)", gts["i"])
            eq(f"f{t} = σ([…]_f)", gts["f"])
            eq(f"g{t} = tanh([…]_g)", gts["g"])
            eq(f"og{t} = σ([…]_o)", gts["o"])  # "og": the output gate (o_t is the logits here, as in the seed)
            eq(f"c{t} = f{t} ⊙ c{t - 1} + i{t} ⊙ g{t}", gts["c"])
            eq(f"h{t} = og{t} ⊙ tanh(c{t})", s["h"])
        else:
            gts = s["gates"]
            eq(f"r{t} = σ([U x{t} + b]_r + [W h{t - 1}]_r)", gts["r"])
            eq(f"z{t} = σ([U x{t} + b]_z + [W h{t - 1}]_z)", gts["z"])
            eq(f"n{t} = tanh([U x{t} + b]_n + r{t} ⊙ [W h{t - 1}]_n)", gts["n"])
            eq(f"h{t} = (1 − z{t}) ⊙ n{t} + z{t} ⊙ h{t - 1}", s["h"])
        eq(f"o{t} = V h{t} + c", s["o"])
        eq(f"y{t} = softmax(o{t})", s["y"])
        jl = f"J{t} = −log y{t}[{s['target']}]"
        out.append(f"- `{jl}` = `{s['J']:.{decimals}f}`" if md else f"    {jl} = {s['J']:.{decimals}f}")
        if md:
            out.append("")
    loss_line = f"{L['loss']} L = " + " + ".join(f"J{s['t']}" for s in tr["forward"]) + f" = {tr['loss']!r}"
    out.append(("**" + loss_line + "**") if md else "  " + loss_line)

    head(L["backward"])
    out.append(("_" + L["backward_note"] + "_") if md else "  " + L["backward_note"])
    if md:
        out.append("")
    for d in tr["backward"]["dL_do"]:
        eq(f"∂L/∂o{d['t']} = {d['formula']}", d["value"])
    for d in reversed(tr["backward"]["dL_dh"]):
        eq(f"∂L/∂h{d['t']} = {d['formula']}", d["value"])
    eq(f"∂L/∂h0 = {tr['backward']['dL_dh0']['formula']}", tr["backward"]["dL_dh0"]["value"])
    if "dL_dc0" in tr["backward"]:
        eq(f"∂L/∂c0 = {tr['backward']['dL_dc0']['formula']}", tr["backward"]["dL_dc0"]["value"])

    head(L["grads"])
    out.append(("_" + L["grad_note"] + "_") if md else "  " + L["grad_note"])
    for gr in tr["gradients"]:
        if md:
            out.extend(["", f"**{gr['name']}.grad** = `{gr['formula']}`", ""])
        else:
            out.extend(["", f"  {gr['name']}.grad = {gr['formula']}"])
        for term in gr["terms"]:
            v = _fmt(term["value"], decimals)
            out.append(f"  - t = {term['t']}: `{v}`" if md else f"        t = {term['t']}: {v}")
        eq(f"{gr['name']}.grad ({L['total']})", gr["total"], indent=2)

    head(L["check"])
    out.append(("" if not md else "") + ("  " if not md else "") +
               L["check_line"].format(err=tr["check"]["efficient_vs_paths_max_abs"], dtype=net["dtype"]))

    if "paths" in tr:
        head(L["paths"])
        out.append(("_" + L["paths_note"] + "_") if md else "  " + L["paths_note"])
        cols = [L["col_t"], L["col_k"], "∂J_t/∂s_k", L["col_norm"]] + [L["col_term"].format(p=p) for p in "WUb"]
        rows = [[str(r["t"]), str(r["k"]), _fmt(r["dJt_dsk"], decimals), f"{r['norm']:.3e}",
                 _fmt(r["terms"]["W"], decimals), _fmt(r["terms"]["U"], decimals), _fmt(r["terms"]["b"], decimals)]
                for r in tr["paths"]]
        if md:
            out.extend(["", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)])
            out.extend("| " + " | ".join(r) + " |" for r in rows)
        else:
            widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(cols, widths)))
            out.extend("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows)
    return "\n".join(out).strip("\n") + "\n"


def explain(
    cell: str = "rnn",
    nonlinearity: str = "tanh",
    hidden: int = 2,
    inputs: int = 2,
    classes: int = 4,
    steps: int = 2,
    seed: int = 0,
    targets: Any = None,
    fmt: str = "text",
    lang: str = "en",
    paths: bool = False,
    backend: str = "auto",
    decimals: int = 4,
    dtype: Any = np.float32,
) -> str:
    """Draw the network, trace it and render the trace (the whole of ``bptt explain``)."""
    check_choice("format", fmt, FORMATS)
    check_choice("lang", lang, LANGS)
    net = draw_network(cell, nonlinearity, hidden, inputs, classes, steps, seed, targets, backend, dtype)
    return render(trace(net, paths=paths), fmt=fmt, lang=lang, decimals=decimals)
