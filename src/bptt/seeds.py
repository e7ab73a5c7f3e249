"""The course's networks (``shared/seeds``) rebuilt with bptt, next to the numbers the course printed.

Each ``seed_XXX()`` returns a list of :class:`Comparison` rows: the quantity,
the value printed in the seed (``None`` where the seed's numbers came from an
unseeded generator and cannot be reproduced — then torch autograd on the same
draws is the reference), and bptt's value. torch is used *only* to draw the
same initial values as the seed (``torch.manual_seed``); every forward and
backward number comes from bptt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .functional.recurrent import layer_backward, layer_forward
from .nn import RNN, CrossEntropyLoss, Linear, Sigmoid, SumSquaresLoss

# Numbers as printed in seed 000 (4 decimals, torch float32, loss in full).
SEED_000_PRINTED = {
    "loss": 4.114384651184082,
    "c.grad": [[-0.7289], [0.5306], [-0.7585], [0.9569]],
    "b.grad": [[0.0899], [0.1464]],
    "h0.grad": [[0.0210], [0.0379]],
    "h1.grad": [[0.4233], [0.4955]],
    "h2.grad": [[0.2763], [0.2356]],
    "W.grad": [[0.0549, 0.0795], [0.0856, 0.1293]],
    "U.grad": [[0.0567, 0.0313], [0.0887, 0.0545]],
    "V.grad": [[-0.6801, -0.6431], [0.4953, 0.4731], [-0.7084, -0.6834], [0.8933, 0.8534]],
}
SEED_000_TARGETS = (2, 0)  # t1, t2 as printed (one-hot drawn by Python's unseeded `random`)

# Seed 002: nn.RNN(5, 2, batch_first=True) after torch.manual_seed(1); x_t = t·[1, 1, 1, 1, 1].
SEED_002_PRINTED = {
    "output": [[-0.3519801, 0.52525216], [-0.68424344, 0.76074266], [-0.8649416, 0.90466356]],
    "h_n": [[-0.8649416, 0.90466356]],
}


@dataclass
class Comparison:
    """One quantity of a seed: the value the course printed (or torch's, where it printed none) and bptt's."""

    name: str
    printed: np.ndarray | None  # what the seed printed (None: not reproducible, see reference)
    bptt: np.ndarray
    reference: np.ndarray | None = None  # torch autograd on the same draws, where computed
    decimals: int = 4  # precision the seed printed with

    @property
    def max_abs_err(self) -> float:
        """max |printed − bptt|, or max |reference − bptt| where the seed's value is not reproducible."""
        ref = self.printed if self.printed is not None else self.reference
        return float(np.max(np.abs(np.asarray(ref, dtype=np.float64) - self.bptt)))

    def matches(self) -> bool:
        """Equal to the printed precision (half a unit in the last printed decimal)."""
        return self.max_abs_err <= 0.5 * 10.0 ** (-self.decimals) + 1e-7


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            "the seeds draw their initial values with torch.manual_seed; install bptt[torch] to rebuild them"
        ) from exc
    return torch


def seed_000(dtype=np.float32) -> list[Comparison]:
    """Two tanh cells in series, softmax + cross-entropy per step (seed 000).

    a_t = W h_{t−1} + U x_t + b,  h_t = tanh(a_t),  o_t = V h_t + c,  L = Σ_t CE(o_t, t_t).
    In torch.nn names: weight_ih = U, weight_hh = W, bias_ih = b (bias_hh = 0),
    and a Linear(2, 4) with weight V, bias c.
    """
    torch = _torch()
    torch.manual_seed(0)
    draws = {k: torch.rand(*s).numpy().astype(dtype) for k, s in
             [("b", (2, 1)), ("c", (4, 1)), ("U", (2, 2)), ("W", (2, 2)), ("V", (4, 2)), ("h0", (2, 1)),
              ("x1", (2, 1)), ("x2", (2, 1))]}
    rnn = RNN(2, 2, dtype=dtype)
    rnn.load_state_dict({"weight_ih_l0": draws["U"], "weight_hh_l0": draws["W"],
                         "bias_ih_l0": draws["b"][:, 0], "bias_hh_l0": np.zeros(2)})
    head = Linear(2, 4, dtype=dtype)
    head.load_state_dict({"weight": draws["V"], "bias": draws["c"][:, 0]})
    x = np.stack([draws["x1"][:, 0], draws["x2"][:, 0]])  # (T=2, nx=2), unbatched
    h0 = draws["h0"].T  # (num_layers=1, H=2)
    ce = CrossEntropyLoss(reduction="sum")  # Σ_t of per-step means over a batch of one

    out, _ = rnn(x, h0)
    logits = head(out)
    loss = ce(logits, np.array(SEED_000_TARGETS))
    dout = head.backward(ce.backward())
    _, dh0 = rnn.backward(dout)

    # ∂L/∂h_t for every step (what h_t.retain_grad() shows): the functional core keeps them.
    p = rnn.state_dict()
    _, _, _, cache = layer_forward("rnn-tanh", x[:, None, :], h0, None, p["weight_ih_l0"],
                                   p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"], backend="reference")
    dh = layer_backward(dout[:, None, :], None, None, cache, keep_dh=True)["dh"][:, 0, :]

    col = lambda a: np.asarray(a).reshape(-1, 1)  # noqa: E731 - the seed prints column vectors
    got = {
        "loss": np.asarray(loss, dtype=np.float64), "c.grad": col(head.grads["bias"]),
        "b.grad": col(rnn.grads["bias_ih_l0"]), "h0.grad": col(dh0), "h1.grad": col(dh[0]),
        "h2.grad": col(dh[1]), "W.grad": rnn.grads["weight_hh_l0"], "U.grad": rnn.grads["weight_ih_l0"],
        "V.grad": head.grads["weight"],
    }
    return [Comparison(k, np.asarray(v), np.asarray(got[k], dtype=np.float64), decimals=6 if k == "loss" else 4)
            for k, v in SEED_000_PRINTED.items()]


def seed_001_rnncell(dtype=np.float64, seed: int = 0) -> list[Comparison]:
    """Seed 001's hand-written RNN: r = U x + V h, h = σ(r), s = W h, y = σ(s), L = ½Σ(y − t)².

    The seed drew its tensors without a seed, so its printed gradients cannot be
    reproduced; here the same shapes and init (U(−0.1, 0.1)) are drawn with
    ``torch.manual_seed(seed)`` and bptt is compared with torch autograd running
    the seed's own forward code on those draws.
    """
    torch = _torch()
    torch.manual_seed(seed)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    U = torch.empty(4, 2, dtype=tdt).uniform_(-0.1, 0.1).requires_grad_()
    V = torch.empty(4, 4, dtype=tdt).uniform_(-0.1, 0.1).requires_grad_()
    W = torch.empty(5, 4, dtype=tdt).uniform_(-0.1, 0.1).requires_grad_()
    xs, hp, ts = torch.rand(3, 2, dtype=tdt), torch.rand(4, dtype=tdt), torch.rand(3, 5, dtype=tdt)
    # The seed's forward, verbatim in spirit: autograd is the reference.
    hs, ys = [hp], []
    for x in xs:
        h = torch.sigmoid(U @ x + V @ hs[-1])
        ys.append(torch.sigmoid(W @ h))
        hs.append(h)
    ref_loss = 0.5 * torch.sum((torch.stack(ys) - ts) ** 2)
    ref_loss.backward()

    rnn = RNN(2, 4, nonlinearity="sigmoid", bias=False, dtype=dtype)
    rnn.load_state_dict({"weight_ih_l0": U, "weight_hh_l0": V})
    head, act, loss_fn = Linear(4, 5, bias=False, dtype=dtype), Sigmoid(dtype=dtype), SumSquaresLoss()
    head.load_state_dict({"weight": W})
    out, _ = rnn(xs.numpy().astype(dtype), hp.numpy().astype(dtype)[None, :])
    loss = loss_fn(act(head(out)), ts.numpy().astype(dtype))
    rnn.backward(head.backward(act.backward(loss_fn.backward())))
    rows = [("loss", ref_loss.detach(), loss), ("U.grad", U.grad, rnn.grads["weight_ih_l0"]),
            ("V.grad", V.grad, rnn.grads["weight_hh_l0"]), ("W.grad", W.grad, head.grads["weight"])]
    return [Comparison(n, None, np.asarray(b, dtype=np.float64), reference=r.numpy().astype(np.float64), decimals=10)
            for n, r, b in rows]


def seed_002(dtype=np.float32) -> list[Comparison]:
    """``nn.RNN(5, 2, batch_first=True)`` after ``torch.manual_seed(1)``; x_t = t·1 for t = 1, 2, 3."""
    torch = _torch()
    torch.manual_seed(1)
    tm = torch.nn.RNN(input_size=5, hidden_size=2, num_layers=1, batch_first=True)
    rnn = RNN(5, 2, batch_first=True, dtype=dtype)
    rnn.load_state_dict(tm.state_dict())
    x = np.repeat(np.arange(1.0, 4.0), 5).reshape(1, 3, 5).astype(dtype)
    out, h_n = rnn(x)
    return [Comparison("output", np.asarray(SEED_002_PRINTED["output"]), out[0].astype(np.float64), decimals=6),
            Comparison("h_n", np.asarray(SEED_002_PRINTED["h_n"]), h_n[:, 0].astype(np.float64), decimals=6)]


SEEDS = {"000": seed_000, "001": seed_001_rnncell, "002": seed_002}
