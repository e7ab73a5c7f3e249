"""The literal BPTT of seed 003: gradients as an explicit sum over paths.

Seed 003 derives the gradient of a recurrent network as a double sum. With the
state s_t (h_t for the Elman RNN and the GRU, the pair (h_t, c_t) for the
LSTM), the per-step losses J_t and any parameter θ:

    ∂L/∂θ = Σ_t Σ_{k ≤ t}  ∂J_t/∂s_t · (∏_{j=k+1}^{t} ∂s_j/∂s_{j−1}) · ∂⁺s_k/∂θ

where ∂⁺s_k/∂θ is the *immediate* derivative of step k (θ's use at step k
alone, s_{k−1} held fixed). Every term is one path from J_t back to the step
k where θ acts. This module computes exactly that: it builds every Jacobian
∂s_j/∂s_{j−1} and every ∂⁺s_k/∂θ as an explicit matrix and sums all O(T²)
terms. It is crude on purpose — it is the unit test the efficient recursion of
:mod:`bptt.functional.recurrent` must pass, and the honest source of the
vanishing-gradient maps of :mod:`bptt.lab` (the ‖∂s_t/∂s_k‖ shown there are
products of the same Jacobians).

The forward pass is written out here too, from the equations, without the
cells of :mod:`bptt.functional`, so that the comparison is between two
independent derivations. Parameter layouts are torch's:

    Elman:  a = W_ih x + b_ih + W_hh h + b_hh,   h' = f(a)
    LSTM:   [i f g o] = W_ih x + b_ih + W_hh h + b_hh
            c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g),   h' = σ(o) ⊙ tanh(c')
    GRU:    [r z] = σ(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z})
            n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),   h' = (1 − z) ⊙ n + z ⊙ h

The loss is given through its gradients, as in
:func:`bptt.functional.recurrent.layer_backward`: ``dout[t]`` = ∂J_t/∂h_t
(the per-step losses, e.g. Vᵀ(y_t − onehot_t) for softmax + cross-entropy)
and ``dh_T``/``dc_T`` for a loss on the final state.

Shapes (time-major, one layer, one direction, G gate blocks, S = state size):
    x: (T, B, I)   h0, c0: (B, H)   W_ih: (G·H, I)   W_hh: (G·H, H)   b_ih, b_hh: (G·H,) or None
    dout: (T, B, H) or None   dh_T, dc_T: (B, H) or None
    Jacobians ∂s_t/∂s_{t−1}: (T, B, S, S) with S = H (Elman, GRU) or 2H (LSTM, s = [h; c])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import check_array, check_choice
from .functional import cells as _cells
from .functional.activations import sigmoid

Array = np.ndarray

PARAM_NAMES = ("W_ih", "W_hh", "b_ih", "b_hh")


# ---------------------------------------------------------------------------
# One step of each cell, for one sequence (1-D vectors), with its local derivatives.
#
# Every step returns the new state s' and three explicit matrices:
#   A  = ∂s'/∂s            (S, S)     the Jacobian that paths multiply together
#   dP = ∂s'/∂P            (S, G·H)   P = W_ih x + b_ih, the input pre-activations
#   dQ = ∂s'/∂Q            (S, G·H)   Q = W_hh h + b_hh, the recurrent pre-activations
# from which ∂⁺s'/∂W_ih = dP (I_GH ⊗ xᵀ), ∂⁺s'/∂b_ih = dP, ∂⁺s'/∂W_hh = dQ (I_GH ⊗ hᵀ),
# ∂⁺s'/∂b_hh = dQ and ∂s'/∂x = dP W_ih. ``values`` keeps the step's gates for display.
# ---------------------------------------------------------------------------

_ACT = {
    "tanh": (np.tanh, lambda y: 1 - y * y),
    "sigmoid": (sigmoid, lambda y: y * (1 - y)),
    "relu": (lambda a: np.maximum(a, 0), lambda y: (y > 0).astype(y.dtype)),
}


def _elman_step(P, s, W_hh, b_hh, H, nonlinearity):
    f, df = _ACT[nonlinearity]
    h = s
    a = P + W_hh @ h + b_hh
    h_new = f(a)
    D = np.diag(df(h_new))  # ∂h'/∂a
    return h_new, {"A": D @ W_hh, "dP": D, "dQ": D, "h_prev": h, "values": {"a": a}}


def _lstm_step(P, s, W_hh, b_hh, H, nonlinearity):
    h, c = s[:H], s[H:]
    z = P + W_hh @ h + b_hh
    i, f, g, o = sigmoid(z[:H]), sigmoid(z[H:2 * H]), np.tanh(z[2 * H:3 * H]), sigmoid(z[3 * H:])
    c_new = f * c + i * g
    tc = np.tanh(c_new)
    h_new = o * tc
    # ∂c'/∂z: the four gate blocks (o does not enter c').
    dc_dz = np.hstack([np.diag(g * i * (1 - i)), np.diag(c * f * (1 - f)), np.diag(i * (1 - g * g)), np.zeros((H, H))])
    # ∂h'/∂z = diag(o (1 − tanh² c')) ∂c'/∂z, plus o's own block.
    dh_dz = np.diag(o * (1 - tc * tc)) @ dc_dz
    dh_dz[:, 3 * H:] += np.diag(tc * o * (1 - o))
    dz = np.vstack([dh_dz, dc_dz])  # ∂s'/∂z, (2H, 4H)
    # ∂s'/∂s: h enters through z (W_hh); c enters directly through f ⊙ c.
    A = np.zeros((2 * H, 2 * H))
    A[:, :H] = dz @ W_hh
    A[:H, H:] = np.diag(o * (1 - tc * tc) * f)
    A[H:, H:] = np.diag(f)
    values = {"i": i, "f": f, "g": g, "o": o, "c": c_new}
    return np.concatenate([h_new, c_new]), {"A": A, "dP": dz, "dQ": dz, "h_prev": h, "values": values}


def _gru_step(P, s, W_hh, b_hh, H, nonlinearity):
    h = s
    Q = W_hh @ h + b_hh
    r = sigmoid(P[:H] + Q[:H])
    z = sigmoid(P[H:2 * H] + Q[H:2 * H])
    n = np.tanh(P[2 * H:] + r * Q[2 * H:])
    h_new = (1 - z) * n + z * h
    dn = (1 - z) * (1 - n * n)  # ∂h'/∂(pre-activation of n)
    Dr = np.diag(dn * Q[2 * H:] * r * (1 - r))
    Dz = np.diag((h - n) * z * (1 - z))
    dP = np.hstack([Dr, Dz, np.diag(dn)])
    dQ = np.hstack([Dr, Dz, np.diag(dn * r)])  # r multiplies the n-block of Q
    A = dQ @ W_hh + np.diag(z)  # through Q, and the direct z ⊙ h
    return h_new, {"A": A, "dP": dP, "dQ": dQ, "h_prev": h, "values": {"r": r, "z": z, "n": n}}


JACOBIAN_STEPS = {"rnn": _elman_step, "lstm": _lstm_step, "gru": _gru_step}  # by cell family
GATES = {kind.family: kind.gates for kind in _cells.CELLS.values()}  # gate blocks per family, from the registry


def kind_of(cell: str, nonlinearity: str = "tanh") -> _cells.CellKind:
    """The registry's cell kind for ``cell`` (a family "rnn"/"lstm"/"gru" with ``nonlinearity`` for
    the Elman one, or a registry name such as "rnn-relu"); only torch's GRU form has Jacobians here."""
    if cell == "rnn":
        check_choice("nonlinearity", nonlinearity, tuple(_ACT))
        return _cells.for_module("rnn", nonlinearity=nonlinearity)
    kind = _cells.get(cell)
    if not kind.reset_after:
        raise ValueError(f"cell: the sum over paths is written for torch's GRU form, got {cell!r}")
    return kind


def state_size(cell: str, hidden_size: int) -> int:
    """S: H for the Elman RNN and the GRU, 2H for the LSTM (s = [h; c])."""
    return kind_of(cell).state_size(hidden_size)


def _check(cell, x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    kind = kind_of(cell)
    check_array("x", x, ndim=3)
    T, B, I = x.shape
    G = kind.gates
    check_array("W_hh", W_hh, ndim=2)
    H = W_hh.shape[1]
    check_array("W_hh", W_hh, shape=(G * H, H))
    check_array("W_ih", W_ih, shape=(G * H, I))
    check_array("h0", h0, shape=(B, H))
    if kind.has_cell_state:
        if c0 is None:
            raise ValueError("c0: the LSTM needs an initial cell state of shape (B, H), got None")
        check_array("c0", c0, shape=(B, H))
    if (b_ih is None) != (b_hh is None):
        raise ValueError("b_ih, b_hh: give both biases or neither")
    if b_ih is not None:
        check_array("b_ih", b_ih, shape=(G * H,))
        check_array("b_hh", b_hh, shape=(G * H,))
    return T, B, I, H, G


@dataclass
class Trace:
    """The literal forward pass of one layer: states and local derivatives of every step.

    ``s[b][t]`` is the state after step t (t = 0 is the initial state, so
    ``s[b][t]`` for t = 1…T); ``local[b][t−1]`` holds A, dP, dQ, h_prev of step t.
    """

    cell: str
    H: int
    s: list  # B lists of T+1 state vectors (S,)
    local: list  # B lists of T dicts

    @property
    def jacobians(self) -> Array:
        """∂s_t/∂s_{t−1} for t = 1…T: (T, B, S, S)."""
        return np.stack([np.stack([loc["A"] for loc in seq]) for seq in self.local], axis=1)

    @property
    def h(self) -> Array:
        """h_1 … h_T: (T, B, H)."""
        return np.stack([np.stack(seq[1:])[:, :self.H] for seq in self.s], axis=1)


def trace_forward(
    cell: str,
    x: Array,
    h0: Array,
    c0: Array | None,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None = None,
    b_hh: Array | None = None,
    nonlinearity: str = "tanh",
) -> Trace:
    """Run the layer forward literally, one sequence and one step at a time, keeping every Jacobian."""
    T, B, I, H, G = _check(cell, x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    kind = kind_of(cell, nonlinearity)
    nonlinearity = kind.nonlinearity
    cell = kind.family
    zero = np.zeros(G * H, dtype=x.dtype)
    bi = zero if b_ih is None else b_ih
    bh = zero if b_hh is None else b_hh
    step = kind.jacobian_step
    states, locals_ = [], []
    for b in range(B):
        s = np.concatenate([h0[b], c0[b]]) if kind.has_cell_state else h0[b].copy()
        seq_s, seq_l = [s], []
        for t in range(T):
            P = W_ih @ x[t, b] + bi
            s, loc = step(P, s, W_hh, bh, H, nonlinearity)
            loc["x"] = x[t, b]
            seq_s.append(s)
            seq_l.append(loc)
        states.append(seq_s)
        locals_.append(seq_l)
    return Trace(cell, H, states, locals_)


def immediate_param_jacobians(loc: dict) -> dict[str, Array]:
    """∂⁺s_k/∂θ of one step as explicit matrices (S, numel θ), θ flattened row-major like the arrays.

    ∂⁺s/∂W_ih = dP (I ⊗ xᵀ):  row i of W_ih only reaches pre-activation i, times x.
    """
    GH = loc["dP"].shape[1]
    eye = np.eye(GH)
    return {
        "W_ih": loc["dP"] @ np.kron(eye, loc["x"][None, :]),
        "W_hh": loc["dQ"] @ np.kron(eye, loc["h_prev"][None, :]),
        "b_ih": loc["dP"],
        "b_hh": loc["dQ"],
    }


@dataclass
class PathTerm:
    """One path of the double sum: J_t reached back to step k (1-based, as in the seeds).

    ``dJt_dsk`` (B, S) is ∂J_t/∂s_k = ∂J_t/∂s_t ∏_{j=k+1}^{t} ∂s_j/∂s_{j−1};
    ``terms[θ]`` is this path's contribution ∂J_t/∂s_k · ∂⁺s_k/∂θ to ∂L/∂θ (summed over the batch).
    """

    t: int
    k: int
    dJt_dsk: Array
    terms: dict[str, Array]

    @property
    def norm(self) -> float:
        """‖∂J_t/∂s_k‖ over the batch (Frobenius)."""
        return float(np.linalg.norm(self.dJt_dsk))


@dataclass
class ReferenceResult:
    """Gradients from the sum over paths, with the same keys as ``layer_backward``.

    ``grads``: dx (T, B, I), dh0, dc0 (B, H) (dc0 None unless LSTM), dW_ih, dW_hh,
    db_ih, db_hh (None without bias), dh (T, B, H) the total ∂L/∂h_t, and for the
    LSTM dc (T, B, H). ``paths``: one :class:`PathTerm` per (t, k), k ≤ t, if kept.
    """

    grads: dict[str, Array | None]
    paths: list[PathTerm] = field(default_factory=list)
    trace: Trace | None = None

    def paths_table(self) -> list[dict]:
        """Rows (t, k, ‖∂J_t/∂s_k‖, ‖term‖ per parameter) for printing."""
        rows = []
        for p in self.paths:
            row = {"t": p.t, "k": p.k, "norm_dJt_dsk": p.norm}
            for name, v in p.terms.items():
                row[f"norm_{name}"] = float(np.linalg.norm(v))
            rows.append(row)
        return rows


def reference_bptt(
    cell: str,
    x: Array,
    h0: Array,
    c0: Array | None,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None = None,
    b_hh: Array | None = None,
    dout: Array | None = None,
    dh_T: Array | None = None,
    dc_T: Array | None = None,
    nonlinearity: str = "tanh",
    keep_paths: bool = False,
) -> ReferenceResult:
    """All gradients of one layer as the explicit double sum over t and k (seed 003).

        ∂L/∂θ   = Σ_t Σ_{k≤t} ∂J_t/∂s_t · ∏_{j=k+1}^{t} ∂s_j/∂s_{j−1} · ∂⁺s_k/∂θ
        ∂L/∂x_k = Σ_{t≥k}     ∂J_t/∂s_t · ∏_{j=k+1}^{t} ∂s_j/∂s_{j−1} · ∂s_k/∂x_k
        ∂L/∂s_0 = Σ_t         ∂J_t/∂s_t · ∏_{j=1}^{t}   ∂s_j/∂s_{j−1}

    O(T²) Jacobian products per sequence: use it on small networks only.

    Shapes: see the module docstring; the result's arrays have the shapes of
    :func:`bptt.functional.recurrent.layer_backward`'s.
    """
    T, B, I, H, G = _check(cell, x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    has_c = kind_of(cell).has_cell_state
    for name, g, shape in (("dout", dout, (T, B, H)), ("dh_T", dh_T, (B, H)), ("dc_T", dc_T, (B, H))):
        if g is not None:
            check_array(name, g, shape=shape)
    if dc_T is not None and not has_c:
        raise ValueError(f"dc_T: only the LSTM has a cell state, got cell={cell!r}")
    tr = trace_forward(cell, x, h0, c0, W_ih, W_hh, b_ih, b_hh, nonlinearity)
    S = state_size(cell, H)
    dt = x.dtype

    grads = {n: np.zeros_like(p) for n, p in zip(PARAM_NAMES, (W_ih, W_hh, W_ih[:, 0], W_ih[:, 0]))}
    dx = np.zeros_like(x)
    ds0 = np.zeros((B, S), dtype=dt)
    ds = np.zeros((T, B, S), dtype=dt)  # total ∂L/∂s_k
    path_dJ = {}  # (t, k) -> (B, S)
    path_terms = {}  # (t, k) -> {θ: array}
    for b in range(B):
        immediate = [immediate_param_jacobians(loc) for loc in tr.local[b]]
        for t in range(T):
            # ∂J_t/∂s_t: the per-step loss reaches s_t through h_t only; the final-state
            # gradients belong to the last step.
            g = np.zeros(S, dtype=dt)
            if dout is not None:
                g[:H] += dout[t, b]
            if t == T - 1:
                if dh_T is not None:
                    g[:H] += dh_T[b]
                if dc_T is not None:
                    g[H:] += dc_T[b]
            v = g  # ∂J_t/∂s_k, starting at k = t
            for k in range(t, -1, -1):
                loc = tr.local[b][k]
                ds[k, b] += v
                dx[k, b] += v @ loc["dP"] @ W_ih
                for name in PARAM_NAMES:
                    term = (v @ immediate[k][name]).reshape(grads[name].shape)
                    grads[name] += term
                    if keep_paths:
                        key = (t + 1, k + 1)
                        path_terms.setdefault(key, {n: np.zeros_like(grads[n]) for n in PARAM_NAMES})[name] += term
                if keep_paths:
                    path_dJ.setdefault((t + 1, k + 1), np.zeros((B, S), dtype=dt))[b] = v
                v = v @ loc["A"]  # one more Jacobian: ∂J_t/∂s_{k−1}
            ds0[b] += v

    has_bias = b_ih is not None
    out = {
        "dx": dx,
        "dh0": ds0[:, :H],
        "dc0": ds0[:, H:] if has_c else None,
        "dW_ih": grads["W_ih"],
        "dW_hh": grads["W_hh"],
        "db_ih": grads["b_ih"] if has_bias else None,
        "db_hh": grads["b_hh"] if has_bias else None,
        "dh": ds[:, :, :H],
    }
    if has_c:
        out["dc"] = ds[:, :, H:]
    paths = []
    if keep_paths:
        for key in sorted(path_dJ):
            terms = {n: v for n, v in path_terms[key].items() if has_bias or not n.startswith("b_")}
            paths.append(PathTerm(key[0], key[1], path_dJ[key], terms))
    return ReferenceResult(out, paths, tr)


# ---------------------------------------------------------------------------
# Products of Jacobians: the quantities the vanishing-gradient study plots.
# ---------------------------------------------------------------------------


def jacobian_products(jacobians: Array, ord: str | int = 2) -> Array:
    """‖∂s_t/∂s_k‖ = ‖∏_{j=k+1}^{t} ∂s_j/∂s_{j−1}‖ for every 0 ≤ k ≤ t ≤ T, averaged over the batch.

    ``jacobians`` is (T, B, S, S) as from :attr:`Trace.jacobians` (entry t−1 is
    ∂s_t/∂s_{t−1}). ``ord`` 2 is the spectral norm, "fro" the Frobenius norm.
    Returns M (T+1, T+1) with M[t, k] the norm for k ≤ t (M[t, t] = ‖I‖) and NaN above
    the diagonal (no path goes forward in time).

    Shapes: jacobians (T, B, S, S) -> (T+1, T+1)
    """
    check_array("jacobians", jacobians, ndim=4)
    T, B, S, _ = jacobians.shape
    M = np.full((T + 1, T + 1), np.nan)
    for k in range(T + 1):
        prod = np.broadcast_to(np.eye(S), (B, S, S)).copy()
        M[k, k] = float(np.mean(np.linalg.norm(prod, ord=ord, axis=(1, 2))))
        for t in range(k + 1, T + 1):
            prod = jacobians[t - 1] @ prod  # ∂s_t/∂s_k = ∂s_t/∂s_{t−1} · ∂s_{t−1}/∂s_k
            M[t, k] = float(np.mean(np.linalg.norm(prod, ord=ord, axis=(1, 2))))
    return M


def backprop_through_jacobians(jacobians: Array, g_T: Array) -> Array:
    """∂J_T/∂s_k = g_T ∏_{j=k+1}^{T} ∂s_j/∂s_{j−1} for k = 0…T: the one-loss-at-the-end paths.

    Shapes: jacobians (T, B, S, S), g_T (B, S) -> (T+1, B, S)
    """
    T = jacobians.shape[0]
    out = np.empty((T + 1,) + g_T.shape)
    v = g_T
    out[T] = v
    for k in range(T, 0, -1):
        v = np.einsum("bs,bst->bt", v, jacobians[k - 1])
        out[k - 1] = v
    return out


def efficient_bptt(
    cell: str,
    x: Array,
    h0: Array,
    c0: Array | None,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None = None,
    b_hh: Array | None = None,
    dout: Array | None = None,
    dh_T: Array | None = None,
    dc_T: Array | None = None,
    nonlinearity: str = "tanh",
    backend: str = "reference",
) -> dict[str, Array | None]:
    """The same gradients from bptt's layer loop (``layer_backward(keep_dh=True)``) on ``backend``:
    the readable reference backend by default (see :mod:`bptt.functional.fast` for the others)."""
    from .functional.recurrent import layer_backward, layer_forward

    kind = kind_of(cell, nonlinearity)
    _, _, _, cache = layer_forward(kind, x, h0, c0, W_ih, W_hh, b_ih, b_hh, backend=backend)
    return layer_backward(dout, dh_T, dc_T, cache, keep_dh=True)
