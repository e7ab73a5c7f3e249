"""Weights from the course codes learners know ↔ torch/bptt ``state_dict``.

torch (and bptt) stack the gate blocks of one layer row-wise, ``W_ih`` (G·H, I)
and ``W_hh`` (G·H, H), act on row vectors as ``x W_ihᵀ``, and keep two bias
vectors, ``b_ih`` and ``b_hh``, that enter as a plain sum (except the GRU's
``b_hn``). The course codes differ in each of those choices:

=============  ==========================================  ===================  =========
layout         weights                                     gate order           biases
=============  ==========================================  ===================  =========
torch / bptt   weight_ih_l0 (G·H, I), weight_hh_l0 (G·H, H) LSTM i f g o,        b_ih, b_hh
                                                           GRU r z n
cs231n         Wx (I, G·H), Wh (H, G·H)   (x Wx + h Wh + b) LSTM i f o g        b (G·H,)
d2l            W_x? (I, H), W_h? (H, H), b_? (H,) per gate LSTM i f o c,        one per gate
               (+ output layer W_hq (H, V), b_q (V,))      GRU z r h
min-char-rnn   Wxh (H, V), Whh (H, H), Why (V, H),          (RNN only)           bh (H, 1),
               column vectors: h = tanh(Wxh x + Whh h + bh)                      by (V, 1)
=============  ==========================================  ===================  =========

Going *to* torch the single bias becomes ``bias_ih`` and ``bias_hh`` is zero;
coming *from* torch the two are summed — the network computes the same
function both ways (tested by forward outputs), but torch → X → torch returns
``(b_ih + b_hh, 0)`` rather than the original split. d2l's GRU is the textbook
form (``n = tanh(W_in x + W_hn (r ⊙ h) + b)``): load it into
``bptt.GRU(..., reset_after=False)``; torch's GRU computes a different function.

Gradients convert with ``grads=True`` (every function): the course's one bias b
stands for b_ih + b_hh, so ∂L/∂b = ∂L/∂b_ih = ∂L/∂b_hh — going *to* the course
the gradient is ∂L/∂b_ih (checked equal to ∂L/∂b_hh), not their sum, and coming
*from* it both torch biases get ∂L/∂b. (A torch GRU's b_hn gradient differs from
b_in's; converting it raises.) Weight gradients convert like weights.

Output layers come back as a separate ``head`` dict ``{"weight": (V, H),
"bias": (V,)}`` for a ``bptt.Linear(H, V)`` / ``torch.nn.Linear(H, V)``.
Every function keeps the arrays' dtype and accepts torch tensors.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ._checks import check_array, check_choice, to_numpy

Array = np.ndarray

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
# cs231n's LSTM stacks i, f, o, g; torch i, f, g, o. Entry j: which cs231n block is torch block j
# (the permutation swaps blocks 2 and 3, so it is its own inverse).
_CS231N_FROM_TORCH = {"rnn": [0], "lstm": [0, 1, 3, 2]}
# d2l's per-gate names, in torch's block order, and d2l's own parameter-list order.
_D2L_GATES = {"rnn": ["h"], "lstm": ["i", "f", "c", "o"], "gru": ["r", "z", "h"]}
_D2L_ORDER = {"rnn": ["h"], "lstm": ["i", "f", "o", "c"], "gru": ["z", "r", "h"]}


def _suffix(layer: Any, reverse: Any) -> str:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or layer < 0:
        raise ValueError(f"layer: expected an int >= 0, got {layer!r}")
    if not isinstance(reverse, (bool, np.bool_)):
        raise TypeError(f"reverse: expected a bool, got {type(reverse).__name__}")
    return f"_l{int(layer)}" + ("_reverse" if reverse else "")


def _get(params: Mapping[str, Any], key: str, where: str, ndim: int | tuple[int, ...]) -> Array:
    if key not in params:
        raise ValueError(f"{where}: missing key {key!r}; got keys {sorted(map(str, params))}")
    return check_array(f"{where}[{key!r}]", to_numpy(params[key]), ndim=ndim)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _need_shape(name: str, a: Array, shape: tuple[int, ...]) -> None:
    if a.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {a.shape}")


def _as_mapping(params: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(params, Mapping):
        raise TypeError(f"{where}: expected a mapping of name -> array, got {type(params).__name__}")
    return params


def _torch_layer(state_dict: Any, cell: str, layer: int, reverse: bool, prefix: str, grads: bool = False):
    """(W_ih, W_hh, b_ih + b_hh or zeros, H) of one layer/direction of a torch/bptt state_dict.

    With ``grads`` the arrays are gradients and b is ∂L/∂b_ih (which must equal ∂L/∂b_hh).
    """
    sd = _as_mapping(state_dict, "state_dict")
    sfx = _suffix(layer, reverse)
    G = _GATES[cell]
    W_ih = _get(sd, f"{prefix}weight_ih{sfx}", "state_dict", 2)
    W_hh = _get(sd, f"{prefix}weight_hh{sfx}", "state_dict", 2)
    GH, H = W_hh.shape
    if GH != G * H:
        raise ValueError(f"state_dict[{prefix}weight_hh{sfx!r}]: expected shape ({G}·H, H) for a {cell}, got {W_hh.shape}")
    _need_shape(f"state_dict[{prefix}weight_ih{sfx!r}]", W_ih, (GH, W_ih.shape[1]))
    has_ih, has_hh = f"{prefix}bias_ih{sfx}" in sd, f"{prefix}bias_hh{sfx}" in sd
    if has_ih != has_hh:
        raise ValueError(f"state_dict: expected both {prefix}bias_ih{sfx} and {prefix}bias_hh{sfx} or neither, got one")
    if has_ih:
        b_ih = _get(sd, f"{prefix}bias_ih{sfx}", "state_dict", 1)
        b_hh = _get(sd, f"{prefix}bias_hh{sfx}", "state_dict", 1)
        _need_shape(f"state_dict[{prefix}bias_ih{sfx!r}]", b_ih, (GH,))
        _need_shape(f"state_dict[{prefix}bias_hh{sfx!r}]", b_hh, (GH,))
        b = _shared_bias_grad(b_ih, b_hh, f"{prefix}bias_ih{sfx}") if grads else b_ih + b_hh
    else:
        b = np.zeros(GH, dtype=W_ih.dtype)
    return W_ih, W_hh, b, H


def _shared_bias_grad(g_ih: Array, g_hh: Array, name: str) -> Array:
    """∂L/∂b of the course's single bias b = b_ih + b_hh: both torch gradients, which must agree."""
    scale = max(float(np.max(np.abs(g_ih), initial=0.0)), 1e-300)
    if not np.allclose(g_ih, g_hh, rtol=1e-6, atol=1e-12 * scale):
        worst = float(np.max(np.abs(g_ih - g_hh)))
        raise ValueError(
            f"grads: {name} and its bias_hh gradient differ (max |diff| {worst:.3g}); the course layout's one bias "
            "needs them equal (a torch GRU's b_hn is not a plain sum)"
        )
    return g_ih.copy()


def _torch_dict(W_ih: Array, W_hh: Array, b: Array, layer: int, reverse: bool, prefix: str, grads: bool = False) -> dict[str, Array]:
    """One layer's torch entries; the single bias goes to bias_ih (weights: bias_hh = 0; ``grads``: both get ∂L/∂b)."""
    sfx = _suffix(layer, reverse)
    return {
        f"{prefix}weight_ih{sfx}": np.ascontiguousarray(W_ih),
        f"{prefix}weight_hh{sfx}": np.ascontiguousarray(W_hh),
        f"{prefix}bias_ih{sfx}": np.ascontiguousarray(b),
        f"{prefix}bias_hh{sfx}": np.array(b, copy=True) if grads else np.zeros_like(b),
    }


def _permute_blocks(a: Array, perm: list[int], H: int, axis: int) -> Array:
    return np.concatenate([np.take(a, np.arange(j * H, (j + 1) * H), axis=axis) for j in perm], axis=axis)


# -- cs231n -----------------------------------------------------------------------
def from_cs231n(params: Mapping[str, Any], cell: str = "lstm", *, layer: int = 0, prefix: str = "",
                grads: bool = False) -> dict[str, Array]:
    """cs231n ``{"Wx": (I, G·H), "Wh": (H, G·H), "b": (G·H,)}`` -> torch/bptt ``state_dict`` of one layer.

    ``cell`` is "lstm" (cs231n blocks i, f, o, g) or "rnn" (G = 1).
    ``b`` becomes ``bias_ih``; ``bias_hh`` is zero (``grads=True``: both are ∂L/∂b).
    """
    cell = check_choice("cell", cell, ("lstm", "rnn"))
    p = _as_mapping(params, "params")
    Wx, Wh, b = _get(p, "Wx", "params", 2), _get(p, "Wh", "params", 2), _get(p, "b", "params", 1)
    H = Wh.shape[0]
    GH = _GATES[cell] * H
    _need_shape("params['Wh']", Wh, (H, GH))
    _need_shape("params['Wx']", Wx, (Wx.shape[0], GH))
    _need_shape("params['b']", b, (GH,))
    perm = _CS231N_FROM_TORCH[cell]
    return _torch_dict(
        _permute_blocks(Wx, perm, H, 1).T, _permute_blocks(Wh, perm, H, 1).T, _permute_blocks(b, perm, H, 0),
        layer, False, prefix, _flag("grads", grads),
    )


def to_cs231n(state_dict: Mapping[str, Any], cell: str = "lstm", *, layer: int = 0, reverse: bool = False,
              prefix: str = "", grads: bool = False) -> dict[str, Array]:
    """torch/bptt ``state_dict`` (one layer/direction) -> cs231n ``{"Wx", "Wh", "b"}`` with b = b_ih + b_hh.

    ``grads=True``: the mapping holds gradients (e.g. ``module.grads``); db = ∂L/∂b_ih.
    """
    cell = check_choice("cell", cell, ("lstm", "rnn"))
    W_ih, W_hh, b, H = _torch_layer(state_dict, cell, layer, reverse, prefix, _flag("grads", grads))
    perm = _CS231N_FROM_TORCH[cell]  # its own inverse
    return {
        "Wx": np.ascontiguousarray(_permute_blocks(W_ih, perm, H, 0).T),
        "Wh": np.ascontiguousarray(_permute_blocks(W_hh, perm, H, 0).T),
        "b": _permute_blocks(b, perm, H, 0),
    }


# -- d2l --------------------------------------------------------------------------
def d2l_param_names(cell: str) -> list[str]:
    """d2l's parameter list order, e.g. LSTM: W_xi, W_hi, b_i, W_xf, …, W_hq, b_q."""
    cell = check_choice("cell", cell, ("lstm", "gru", "rnn"))
    names = [n for g in _D2L_ORDER[cell] for n in (f"W_x{g}", f"W_h{g}", f"b_{g}")]
    return names + ["W_hq", "b_q"]


def from_d2l(params: Mapping[str, Any] | Sequence[Any], cell: str = "lstm", *, layer: int = 0,
             prefix: str = "", grads: bool = False) -> tuple[dict[str, Array], dict[str, Array] | None]:
    """d2l scratch parameters -> (torch/bptt ``state_dict`` of one layer, output ``head`` or None).

    ``params``: a mapping by d2l's names (``W_xi``, ``W_hi``, ``b_i``, …) or
    d2l's list in its own order (LSTM: i, f, o, c triples; GRU: z, r, h; RNN: h;
    then optionally ``W_hq``, ``b_q``). Shapes: W_x? (I, H), W_h? (H, H), b_? (H,),
    W_hq (H, V), b_q (V,). ``cell="gru"`` is the textbook form: use ``GRU(reset_after=False)``.
    ``grads=True``: the arrays are gradients (both torch biases get ∂L/∂b).
    """
    cell = check_choice("cell", cell, ("lstm", "gru", "rnn"))
    names = d2l_param_names(cell)
    if isinstance(params, Mapping):
        p = params
    elif isinstance(params, (list, tuple)):
        if len(params) not in (len(names) - 2, len(names)):
            raise ValueError(f"params: expected d2l's list of {len(names) - 2} or {len(names)} arrays {names}, got {len(params)}")
        p = dict(zip(names, params))
    else:
        raise TypeError(f"params: expected a mapping or d2l's list of arrays, got {type(params).__name__}")
    W_x, W_h, b = [], [], []
    for g in _D2L_GATES[cell]:
        W_x.append(_get(p, f"W_x{g}", "params", 2))
        W_h.append(_get(p, f"W_h{g}", "params", 2))
        b.append(_get(p, f"b_{g}", "params", 1))
    I, H = W_x[0].shape
    for g, wx, wh, bb in zip(_D2L_GATES[cell], W_x, W_h, b):
        _need_shape(f"params['W_x{g}']", wx, (I, H))
        _need_shape(f"params['W_h{g}']", wh, (H, H))
        _need_shape(f"params['b_{g}']", bb, (H,))
    sd = _torch_dict(np.concatenate(W_x, 1).T, np.concatenate(W_h, 1).T, np.concatenate(b), layer, False, prefix,
                     _flag("grads", grads))
    head = None
    if "W_hq" in p or "b_q" in p:
        W_hq, b_q = _get(p, "W_hq", "params", 2), _get(p, "b_q", "params", 1)
        _need_shape("params['W_hq']", W_hq, (H, W_hq.shape[1]))
        _need_shape("params['b_q']", b_q, (W_hq.shape[1],))
        head = {"weight": np.ascontiguousarray(W_hq.T), "bias": b_q.copy()}
    return sd, head


def to_d2l(state_dict: Mapping[str, Any], cell: str = "lstm", head: Mapping[str, Any] | None = None, *,
           layer: int = 0, reverse: bool = False, prefix: str = "", grads: bool = False) -> dict[str, Array]:
    """torch/bptt ``state_dict`` (+ optional ``head`` {"weight", "bias"}) -> d2l's named parameters.

    Per-gate b = b_ih + b_hh (``grads=True``: ∂L/∂b = ∂L/∂b_ih). The dict is in d2l's list order
    (:func:`d2l_param_names`), so ``list(to_d2l(...).values())`` is d2l's ``params``.
    """
    cell = check_choice("cell", cell, ("lstm", "gru", "rnn"))
    W_ih, W_hh, b, H = _torch_layer(state_dict, cell, layer, reverse, prefix, _flag("grads", grads))
    blocks = {g: j for j, g in enumerate(_D2L_GATES[cell])}
    out: dict[str, Array] = {}
    for g in _D2L_ORDER[cell]:
        j = blocks[g]
        out[f"W_x{g}"] = np.ascontiguousarray(W_ih[j * H:(j + 1) * H].T)
        out[f"W_h{g}"] = np.ascontiguousarray(W_hh[j * H:(j + 1) * H].T)
        out[f"b_{g}"] = b[j * H:(j + 1) * H].copy()
    if head is not None:
        hd = _as_mapping(head, "head")
        W, bq = _get(hd, "weight", "head", 2), _get(hd, "bias", "head", 1)
        _need_shape("head['weight']", W, (W.shape[0], H))
        _need_shape("head['bias']", bq, (W.shape[0],))
        out["W_hq"], out["b_q"] = np.ascontiguousarray(W.T), bq.copy()
    return out


# -- min-char-rnn ---------------------------------------------------------------------
def _column(name: str, a: Array, n: int) -> Array:
    if a.shape not in ((n, 1), (n,)):
        raise ValueError(f"{name}: expected shape ({n}, 1) (or ({n},)), got {a.shape}")
    return a.reshape(n)


def from_min_char_rnn(params: Mapping[str, Any], *, prefix: str = "", grads: bool = False) -> tuple[dict[str, Array], dict[str, Array]]:
    """Karpathy's min-char-rnn ``{Wxh (H, V), Whh (H, H), Why (V, H), bh (H, 1), by (V, 1)}``
    -> (``RNN(V, H)`` state_dict, ``Linear(H, V)`` head).

    min-char-rnn multiplies column vectors (``Wxh @ x``), which is exactly
    torch's ``W_ih`` (H, V) acting as ``x W_ihᵀ`` on rows: no transpose.
    """
    p = _as_mapping(params, "params")
    Wxh, Whh, Why = (_get(p, k, "params", 2) for k in ("Wxh", "Whh", "Why"))
    bh, by = _get(p, "bh", "params", (1, 2)), _get(p, "by", "params", (1, 2))
    H, V = Wxh.shape
    _need_shape("params['Whh']", Whh, (H, H))
    _need_shape("params['Why']", Why, (V, H))
    bh, by = _column("params['bh']", bh, H), _column("params['by']", by, V)
    sd = _torch_dict(Wxh, Whh, bh.copy(), 0, False, prefix, _flag("grads", grads))
    return sd, {"weight": Why.copy(), "bias": by.copy()}


def to_min_char_rnn(state_dict: Mapping[str, Any], head: Mapping[str, Any], *, prefix: str = "",
                    grads: bool = False) -> dict[str, Array]:
    """(``RNN`` state_dict, ``Linear`` head) -> min-char-rnn ``{Wxh, Whh, Why, bh (H, 1), by (V, 1)}``; bh = b_ih + b_hh.

    ``grads=True`` converts gradients (``rnn.grads``, ``head.grads``) into min-char-rnn's
    ``dWxh, dWhh, dWhy, dbh, dby`` (keys without the d): dbh = ∂L/∂b_ih.
    """
    W_ih, W_hh, b, H = _torch_layer(state_dict, "rnn", 0, False, prefix, _flag("grads", grads))
    hd = _as_mapping(head, "head")
    Why = _get(hd, "weight", "head", 2)
    V = Why.shape[0]
    _need_shape("head['weight']", Why, (V, H))
    by = _get(hd, "bias", "head", 1) if "bias" in hd else np.zeros(V, dtype=Why.dtype)
    _need_shape("head['bias']", by, (V,))
    return {"Wxh": W_ih.copy(), "Whh": W_hh.copy(), "Why": Why.copy(), "bh": b.reshape(H, 1), "by": by.reshape(V, 1).copy()}
