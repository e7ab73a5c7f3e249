"""RTRL: real-time recurrent learning, the exact gradient carried forward in time (Williams & Zipser 1989).

BPTT stores the past and walks it backwards. RTRL instead carries, next to the
state s_t (h_t; for the LSTM s = [h; c]), its sensitivity to every parameter,
and updates both with each step:

    s_t  = F(s_{t−1}, x_t; θ)
    M_t  = ∂s_t/∂θ = (∂s_t/∂s_{t−1}) M_{t−1} + ∂⁺s_t/∂θ,        M_0 = 0
    ∂L/∂θ = Σ_t ∂J_t/∂s_t · M_t   (+ ∂L/∂s_T · M_T for a loss on the final state)

so the gradient of J_t is ready at step t, nothing of the past is stored, and
the cost does not grow with T. The price is the size of M — S × P numbers
(S = H or 2H, P = G·H·(I + H + 2)) — and the product A M: O(S²·P) = O(H⁴) per
step, against O(H²) for BPTT. Hence "at small sizes".

The Jacobians ∂s_t/∂s_{t−1} and the immediate ∂⁺s_t/∂θ are those of
:mod:`bptt.reference` (explicit matrices, one sequence at a time); with the same
``dout`` contract as :func:`bptt.functional.recurrent.layer_backward` the
gradients equal BPTT's (<= 1e-10 in float64; tested).

* :class:`RTRL`: the state and sensitivity of a batch; ``step(x_t)``, ``accumulate(dh_t)``.
* :func:`rtrl_gradients`: a whole sequence, the loss given as an array ``dout`` or a
  callback ``loss_grad(t, h_t) -> ∂J_t/∂h_t`` evaluated online.
* :class:`OnlineRTRL` / :func:`train_online`: update θ at every step, no unrolling
  (M is carried across updates, the usual approximation of online RTRL);
  :func:`bptt.tbptt.train_truncated` runs the same stream by truncated or full BPTT.
* :func:`delayed_echo`: a stream whose target is the input ``delay`` steps ago.

θ is flattened as (W_ih, W_hh, b_ih, b_hh), each row-major, biases only if present.

Shapes: x (T, B, I), x_t (B, I), h (B, H), s (B, S), M (B, S, P), dout (T, B, H).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ._checks import check_array, check_positive_int
from .functional import cells

Array = np.ndarray

__all__ = ["RTRL", "rtrl_gradients", "OnlineRTRL", "train_online", "delayed_echo"]

_KEYS = ("dW_ih", "dW_hh", "db_ih", "db_hh")


def _kind(cell: Any) -> cells.CellKind:
    kind = cells.get(cell)
    if not kind.reset_after:
        raise ValueError(f"cell: RTRL has the Jacobians of torch's GRU form only, got {kind.name!r}")
    return kind


class RTRL:
    """State and sensitivity of one layer over a batch, advanced one step at a time.

        step(x_t):           s_t = F(s_{t−1}, x_t),  M_t = A_t M_{t−1} + ∂⁺s_t/∂θ
        accumulate(dh, dc):  g += Σ_b [dh_b; dc_b] · M_t[b]

    The weights are read at every step (not copied): an optimizer that updates
    them in place is seen at once (online training).

    Shapes: W_ih (G·H, I), W_hh (G·H, H), b_ih, b_hh (G·H,) or None; h0, c0 (B, H) or None (zeros).
    """

    def __init__(self, cell: Any, W_ih: Array, W_hh: Array, b_ih: Array | None = None, b_hh: Array | None = None,
                 h0: Array | None = None, c0: Array | None = None, batch_size: int = 1) -> None:
        self.kind = _kind(cell)
        G, H = self.kind.gates, W_hh.shape[-1]
        check_array("W_hh", W_hh, shape=(G * H, H))
        check_array("W_ih", W_ih, ndim=2)
        if W_ih.shape[0] != G * H:
            raise ValueError(f"W_ih: expected {G * H} rows (G·H), got shape {W_ih.shape}")
        if (b_ih is None) != (b_hh is None):
            raise ValueError("b_ih, b_hh: give both biases or neither")
        for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
            if b is not None:
                check_array(name, b, shape=(G * H,))
        self.W_ih, self.W_hh, self.b_ih, self.b_hh = W_ih, W_hh, b_ih, b_hh
        self.H, self.I = H, W_ih.shape[1]
        self.B = h0.shape[0] if h0 is not None else check_positive_int("batch_size", batch_size)
        self.reset(h0, c0)

    @property
    def num_params(self) -> int:
        """P: the length of θ."""
        GH = self.W_hh.shape[0]
        return GH * (self.I + self.H) + (2 * GH if self.b_ih is not None else 0)

    def reset(self, h0: Array | None = None, c0: Array | None = None) -> None:
        """Start a new sequence: s_0 = (h0, c0) (zeros if None), M_0 = 0, the gradient sum to zero."""
        H, B, dt = self.H, self.B, self.W_hh.dtype
        h = np.zeros((B, H), dtype=dt) if h0 is None else check_array("h0", h0, shape=(B, H)).astype(dt)
        parts = [h]
        if self.kind.has_cell_state:
            parts.append(np.zeros((B, H), dtype=dt) if c0 is None else check_array("c0", c0, shape=(B, H)).astype(dt))
        self.s = np.concatenate(parts, axis=1)  # (B, S)
        self.M = np.zeros((B, self.s.shape[1], self.num_params), dtype=dt)
        self.zero_grad()

    def zero_grad(self) -> None:
        """Reset the accumulated gradient Σ_t ∂J_t/∂s_t · M_t to 0 (the sensitivities M are kept)."""
        self.g = np.zeros(self.num_params, dtype=self.W_hh.dtype)

    @property
    def h(self) -> Array:
        """h_t (B, H)."""
        return self.s[:, :self.H]

    @property
    def c(self) -> Array | None:
        """c_t (B, H) for the LSTM, else None."""
        return self.s[:, self.H:] if self.kind.has_cell_state else None

    def step(self, x_t: Array) -> Array:
        """Advance s and M by one step; returns h_t (B, H) (a copy).

        Shapes: x_t (B, I) -> (B, H)
        """
        check_array("x_t", x_t, shape=(self.B, self.I))
        kind, H, GH = self.kind, self.H, self.W_hh.shape[0]
        zero = np.zeros(GH, dtype=self.W_hh.dtype)
        b_ih, b_hh = (zero, zero) if self.b_ih is None else (self.b_ih, self.b_hh)
        new, locs = [], []
        for b in range(self.B):  # the Jacobian steps are written for one sequence
            P = self.W_ih @ x_t[b] + b_ih
            s, loc = kind.jacobian_step(P, self.s[b], self.W_hh, b_hh, H, kind.nonlinearity)
            new.append(s)
            locs.append(loc)
        A = np.stack([loc["A"] for loc in locs])  # (B, S, S)
        dP = np.stack([loc["dP"] for loc in locs])  # (B, S, G·H)
        dQ = np.stack([loc["dQ"] for loc in locs])
        h_prev = np.stack([loc["h_prev"] for loc in locs])  # (B, H)
        S, B = A.shape[1], self.B
        imm = [np.einsum("bsg,bi->bsgi", dP, x_t).reshape(B, S, -1),  # ∂⁺s/∂W_ih = dP (I ⊗ xᵀ)
               np.einsum("bsg,bj->bsgj", dQ, h_prev).reshape(B, S, -1)]  # ∂⁺s/∂W_hh = dQ (I ⊗ hᵀ)
        if self.b_ih is not None:
            imm += [dP, dQ]
        self.M = np.matmul(A, self.M) + np.concatenate(imm, axis=2)
        self.s = np.stack(new)
        return self.h.copy()

    def gradient(self, dh: Array | None, dc: Array | None = None) -> Array:
        """∂J/∂θ = Σ_b [dh_b; dc_b] · M_t[b] for a loss J on the current state: θ flat (P,).

        Shapes: dh, dc (B, H) or None (zeros) -> (P,)
        """
        ds = np.zeros(self.s.shape, dtype=self.M.dtype)
        if dh is not None:
            ds[:, :self.H] = check_array("dh", dh, shape=(self.B, self.H))
        if dc is not None and self.kind.has_cell_state:
            ds[:, self.H:] = check_array("dc", dc, shape=(self.B, self.H))
        return np.einsum("bs,bsp->p", ds, self.M)

    def accumulate(self, dh: Array | None, dc: Array | None = None) -> None:
        """g += :meth:`gradient` (dh, dc): the per-step losses add up."""
        self.g += self.gradient(dh, dc)

    def unflatten(self, g: Array) -> dict[str, Array | None]:
        """θ-shaped pieces of a flat gradient: dW_ih, dW_hh, db_ih, db_hh (biases None if absent)."""
        shapes = [self.W_ih.shape, self.W_hh.shape]
        shapes += [self.b_ih.shape, self.b_hh.shape] if self.b_ih is not None else []
        out, i = {}, 0
        for key, shape in zip(_KEYS, shapes):
            n = int(np.prod(shape))
            out[key] = g[i:i + n].reshape(shape)
            i += n
        return {key: out.get(key) for key in _KEYS}

    def grads(self) -> dict[str, Array | None]:
        """The accumulated gradient, θ-shaped (the keys of ``layer_backward``)."""
        return self.unflatten(self.g.copy())


def rtrl_gradients(
    cell: Any,
    x: Array,
    h0: Array | None,
    c0: Array | None,
    W_ih: Array,
    W_hh: Array,
    b_ih: Array | None = None,
    b_hh: Array | None = None,
    dout: Array | None = None,
    loss_grad: Callable[[int, Array], Array | None] | None = None,
    dh_T: Array | None = None,
    dc_T: Array | None = None,
) -> dict[str, Array | None]:
    """The parameter gradients of one layer by RTRL, forward in time only.

        ∂L/∂θ = Σ_t ∂J_t/∂h_t · ∂h_t/∂θ + ∂L/∂s_T · ∂s_T/∂θ

    ∂J_t/∂h_t is ``dout[t]`` or ``loss_grad(t, h_t)`` (called at step t, when h_t
    is known: a loss that needs no future). Returns dW_ih, dW_hh, db_ih, db_hh
    (as :func:`~bptt.functional.recurrent.layer_backward`), and out (T, B, H),
    h_T, c_T.

    Shapes: x (T, B, I); h0, c0, dh_T, dc_T (B, H) or None; dout (T, B, H) or None.
    """
    check_array("x", x, ndim=3)
    T, B, _ = x.shape
    if dout is not None and loss_grad is not None:
        raise ValueError("dout, loss_grad: give the per-step loss one way, got both")
    if dout is not None:
        check_array("dout", dout, shape=(T, B, W_hh.shape[1]))
    if loss_grad is not None and not callable(loss_grad):
        raise TypeError(f"loss_grad: expected a callable (t, h_t) -> dh_t, got {type(loss_grad).__name__}")
    r = RTRL(cell, W_ih, W_hh, b_ih, b_hh, h0, c0, batch_size=B)
    outs = []
    for t in range(T):
        h = r.step(x[t])
        outs.append(h)
        dh = dout[t] if dout is not None else loss_grad(t, h) if loss_grad is not None else None
        if dh is not None:
            r.accumulate(dh)
    if dh_T is not None or dc_T is not None:
        r.accumulate(dh_T, dc_T)
    return {**r.grads(), "out": np.stack(outs), "h_T": r.h.copy(), "c_T": None if r.c is None else r.c.copy()}


# -- online training -----------------------------------------------------------------
class OnlineRTRL:
    """Online learning by RTRL: one update per step, no unrolling, nothing of the past stored.

        h_t = cell(x_t, h_{t−1}; θ),   ŷ_t = head(h_t),   J_t = loss(ŷ_t, y_t)
        ∂J_t/∂θ = ∂J_t/∂h_t · M_t[h]    (M_t from :class:`RTRL`),   θ ← optimizer step

    ``rnn`` is a one-layer unidirectional ``bptt.RNN``/``LSTM``/``GRU``, ``head``
    a ``bptt.Linear``, ``loss`` a loss module (``bptt.nn.MSELoss()`` …) and
    ``optimizer`` updates the parameters of both in place (None: gradients only
    accumulate in ``p.grad``, nothing is updated). After an update M is carried on,
    not recomputed for the new θ: the usual approximation of online RTRL, exact
    again in the limit of a small learning rate (with None: exactly BPTT's sum).

    Shapes: x_t (B, I), target_t as the loss takes it for ŷ_t (B, O).
    """

    def __init__(self, rnn: Any, head: Any, loss: Any, optimizer: Any = None, batch_size: int = 1) -> None:
        from .nn.recurrent import RNNBase

        if not isinstance(rnn, RNNBase):
            raise TypeError(f"rnn: expected a bptt RNN, LSTM or GRU module, got {type(rnn).__name__}")
        proj = getattr(rnn, "proj_size", 0)
        if rnn.num_layers != 1 or rnn.bidirectional or rnn.learn_initial_state or proj:
            raise ValueError("rnn: online RTRL runs one unidirectional layer without learn_initial_state or "
                             f"proj_size, got num_layers={rnn.num_layers}, bidirectional={rnn.bidirectional}, "
                             f"learn_initial_state={rnn.learn_initial_state}, proj_size={proj}")
        if not callable(getattr(loss, "backward", None)):
            raise TypeError("loss: expected a bptt loss module (MSELoss(), CrossEntropyLoss()), "
                            f"got {type(loss).__name__}")
        self.rnn, self.head, self.loss, self.optimizer = rnn, head, loss, optimizer
        self._params = [rnn._params.get(n) for n in rnn._names(0, 0)]  # W_ih, W_hh, b_ih, b_hh (or None)
        self.rtrl = RTRL(rnn.cell, *[None if p is None else p.data for p in self._params], batch_size=batch_size)

    def reset(self) -> None:
        """A new stream: state and sensitivity to zero."""
        self.rtrl.reset()

    def step(self, x_t: Array, target_t: Any = None) -> tuple[Array, float | None]:
        """One step of the stream -> (ŷ_t, J_t or None): forward, and with a target, the update."""
        h = self.rtrl.step(x_t)
        y = self.head(h)
        if target_t is None:
            return y, None
        J = float(self.loss(y, target_t))
        dh = self.head.backward(self.loss.backward())
        g = self.rtrl.unflatten(self.rtrl.gradient(dh))
        for p, key in zip(self._params, _KEYS):
            if p is not None:
                p.accumulate(g[key])
        if self.optimizer is not None:
            self.optimizer.step()
            self.optimizer.zero_grad()
        return y, J


def train_online(model: OnlineRTRL, xs: Array, targets: Sequence[Any]) -> Array:
    """Run ``model.step`` over a stream -> J_t per step (NaN where ``targets[t]`` is None).

    Shapes: xs (T, B, I); targets: T items, each a target for ŷ_t or None.
    """
    check_array("xs", xs, ndim=3)
    if len(targets) != len(xs):
        raise ValueError(f"targets: expected {len(xs)} items (one per step, None for no loss), got {len(targets)}")
    losses = np.full(len(xs), np.nan)
    for t in range(len(xs)):
        _, J = model.step(xs[t], targets[t])
        if J is not None:
            losses[t] = J
    return losses


def delayed_echo(T: int, delay: int, batch_size: int = 1, seed: Any = 0,
                 dtype: Any = np.float64) -> tuple[Array, list]:
    """A stream of random bits whose target is the bit ``delay`` steps ago: y_t = x_{t−delay}.

    A dependency of exactly ``delay`` steps: truncated BPTT with chunks shorter
    than that cannot see it at most steps, RTRL's M_t can. Targets are None for
    t < delay.

    Shapes: -> xs (T, B, 1) in {0, 1}, targets: T items, each (B, 1) or None.
    """
    T, delay = check_positive_int("T", T), check_positive_int("delay", delay)
    rng = np.random.default_rng(seed)
    xs = rng.integers(0, 2, (T, check_positive_int("batch_size", batch_size), 1)).astype(dtype)
    return xs, [None if t < delay else xs[t - delay] for t in range(T)]
