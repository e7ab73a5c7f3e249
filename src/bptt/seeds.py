"""The course's networks (``shared/seeds``) rebuilt with bptt, next to the numbers the course printed.

Each ``seed_XXX()`` returns a list of :class:`Comparison` rows: the quantity,
the value printed in the seed (``None`` where the seed prints no number or drew
from an unseeded generator), bptt's value and, where there is one, an
independent reference computed on the same values (named by
``Comparison.reference_name``). The seeds' initial values come from
``torch.manual_seed`` + ``torch.rand`` / ``Tensor.uniform_`` / ``nn.RNN(...)``;
:mod:`bptt.torch_random` reproduces those draws bit for bit in NumPy, so no
seed needs torch. Every forward and backward number comes from bptt; torch,
when installed, is only an extra reference (autograd).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .functional.recurrent import layer_backward, layer_forward
from .nn import RNN, CrossEntropyLoss, Linear, Sigmoid, SumSquaresLoss
from .reference import reference_bptt
from .torch_random import manual_seed

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
    reference: np.ndarray | None = None  # an independent computation on the same draws, where there is one
    decimals: int = 4  # precision the seed printed with
    reference_name: str = "torch autograd"  # what ``reference`` is

    @property
    def max_abs_err(self) -> float:
        """max |printed − bptt|, or max |reference − bptt| where the seed's value is not reproducible."""
        ref = self.printed if self.printed is not None else self.reference
        return float(np.max(np.abs(np.asarray(ref, dtype=np.float64) - self.bptt)))

    def matches(self) -> bool:
        """Equal to the printed precision (half a unit in the last printed decimal)."""
        return self.max_abs_err <= 0.5 * 10.0 ** (-self.decimals) + 1e-7


def _torch_or_none():
    """torch if it is installed (an extra reference), else None: no seed needs it."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def seed_000(dtype=np.float32) -> list[Comparison]:
    """Two tanh cells in series, softmax + cross-entropy per step (seed 000).

    a_t = W h_{t−1} + U x_t + b,  h_t = tanh(a_t),  o_t = V h_t + c,  L = Σ_t CE(o_t, t_t).
    In torch.nn names: weight_ih = U, weight_hh = W, bias_ih = b (bias_hh = 0),
    and a Linear(2, 4) with weight V, bias c.
    """
    gen = manual_seed(0)
    draws = {k: gen.rand(*s).astype(dtype) for k, s in
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
    reproduced; here the same shapes and init (U(−0.1, 0.1)) are drawn as
    ``torch.manual_seed(seed)`` would. The reference is torch autograd running the
    seed's forward on those draws when torch is installed, else the seed's own
    hand-written backward (``RNNCell.backward``) transcribed to NumPy.
    """
    gen = manual_seed(seed)
    U, V, W = (gen.uniform(shape, -0.1, 0.1, dtype) for shape in ((4, 2), (4, 4), (5, 4)))
    xs, hp, ts = gen.rand(3, 2, dtype=dtype), gen.rand(4, dtype=dtype), gen.rand(3, 5, dtype=dtype)
    torch = _torch_or_none()
    ref, ref_name = (_seed_001_autograd(torch, U, V, W, xs, hp, ts), "torch autograd") if torch is not None else \
        (_seed_001_by_hand(U, V, W, xs, hp, ts), "the seed's own backward")

    rnn = RNN(2, 4, nonlinearity="sigmoid", bias=False, dtype=dtype)
    rnn.load_state_dict({"weight_ih_l0": U, "weight_hh_l0": V})
    head, act, loss_fn = Linear(4, 5, bias=False, dtype=dtype), Sigmoid(dtype=dtype), SumSquaresLoss()
    head.load_state_dict({"weight": W})
    out, _ = rnn(xs, hp[None, :])
    loss = loss_fn(act(head(out)), ts)
    rnn.backward(head.backward(act.backward(loss_fn.backward())))
    got = {"loss": loss, "U.grad": rnn.grads["weight_ih_l0"], "V.grad": rnn.grads["weight_hh_l0"],
           "W.grad": head.grads["weight"]}
    return [Comparison(n, None, np.asarray(got[n], dtype=np.float64), reference=np.asarray(r, dtype=np.float64),
                       decimals=10, reference_name=ref_name) for n, r in ref.items()]


def _seed_001_autograd(torch, U, V, W, xs, hp, ts) -> dict[str, np.ndarray]:
    """The seed's forward in torch, differentiated by autograd."""
    Ut, Vt, Wt = (torch.tensor(a, requires_grad=True) for a in (U, V, W))
    hs, ys = [torch.tensor(hp)], []
    for x in torch.tensor(xs):
        h = torch.sigmoid(Ut @ x + Vt @ hs[-1])
        ys.append(torch.sigmoid(Wt @ h))
        hs.append(h)
    loss = 0.5 * torch.sum((torch.stack(ys) - torch.tensor(ts)) ** 2)
    loss.backward()
    return {"loss": loss.detach().numpy(), "U.grad": Ut.grad.numpy(), "V.grad": Vt.grad.numpy(),
            "W.grad": Wt.grad.numpy()}


def _seed_001_by_hand(U, V, W, xs, hp, ts) -> dict[str, np.ndarray]:
    """The seed's ``RNN.forward`` / ``RNNCell.backward``, line by line, in NumPy."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731 - the seed's torch.sigmoid
    hs, rs, ss, ys = [hp], [], [], []
    for x in xs:
        rs.append(U @ x + V @ hs[-1])
        hs.append(sig(rs[-1]))
        ss.append(W @ hs[-1])
        ys.append(sig(ss[-1]))
    ys_grad = np.stack(ys) - ts
    dU, dV, dW = np.zeros_like(U), np.zeros_like(V), np.zeros_like(W)
    rn_grad = np.zeros(V.shape[0], dtype=U.dtype)  # the last step has no r_{t+1}
    for t in reversed(range(len(xs))):
        s_grad = ys_grad[t] * sig(ss[t]) * (1 - sig(ss[t]))
        h_grad = W.T @ s_grad + V.T @ rn_grad
        rn_grad = h_grad * sig(rs[t]) * (1 - sig(rs[t]))
        dU += np.outer(rn_grad, xs[t])
        dV += np.outer(rn_grad, hs[t])
        dW += np.outer(s_grad, hs[t + 1])
    loss = 0.5 * np.sum((np.stack(ys) - ts) ** 2)
    return {"loss": loss, "U.grad": dU, "V.grad": dV, "W.grad": dW}


def seed_002(dtype=np.float32) -> list[Comparison]:
    """``nn.RNN(5, 2, batch_first=True)`` after ``torch.manual_seed(1)``; x_t = t·1 for t = 1, 2, 3."""
    rnn = RNN(5, 2, batch_first=True, dtype=dtype)
    rnn.load_state_dict(manual_seed(1).rnn_parameters(5, 2))
    x = np.repeat(np.arange(1.0, 4.0), 5).reshape(1, 3, 5).astype(dtype)
    out, h_n = rnn(x)
    return [Comparison("output", np.asarray(SEED_002_PRINTED["output"]), out[0].astype(np.float64), decimals=6),
            Comparison("h_n", np.asarray(SEED_002_PRINTED["h_n"]), h_n[:, 0].astype(np.float64), decimals=6)]


def seed_003(dtype=np.float64) -> list[Comparison]:
    """BPTT as a sum over paths (seed 003) equals bptt's recursion: tanh RNN, softmax + CE, T = 3.

    The network of ``bptt explain --steps 3 --seed 1``: after ``torch.manual_seed(1)``,
    ``torch.rand`` for b, c, U, W, V, h0, x1, x2, x3, then targets ``torch.randint(0, 4, (3,))``.
    The seed prints no number; the reference is the literal double sum over (t, k)
    of :func:`bptt.reference.reference_bptt` on the same values.
    """
    gen = manual_seed(1)
    d = {k: gen.rand(*s).astype(dtype) for k, s in [("b", (2, 1)), ("c", (4, 1)), ("U", (2, 2)), ("W", (2, 2)),
                                                    ("V", (4, 2)), ("h0", (2, 1)), ("x1", (2, 1)), ("x2", (2, 1)),
                                                    ("x3", (2, 1))]}
    targets = gen.randint(0, 4, (3,))
    x = np.stack([d[f"x{t}"][:, 0] for t in (1, 2, 3)])  # (T, nx)
    rnn, head, ce = RNN(2, 2, dtype=dtype), Linear(2, 4, dtype=dtype), CrossEntropyLoss(reduction="sum")
    rnn.load_state_dict({"weight_ih_l0": d["U"], "weight_hh_l0": d["W"], "bias_ih_l0": d["b"][:, 0],
                         "bias_hh_l0": np.zeros(2, dtype=dtype)})
    head.load_state_dict({"weight": d["V"], "bias": d["c"][:, 0]})
    out, _ = rnn(x, d["h0"].T)
    ce(head(out), targets)
    dout = head.backward(ce.backward())  # ∂J_t/∂h_t = Vᵀ(y_t − onehot(target_t))
    _, dh0 = rnn.backward(dout)
    ref = reference_bptt("rnn", x[:, None, :], d["h0"].T, None, d["U"], d["W"], d["b"][:, 0],
                         np.zeros(2, dtype=dtype), dout=dout[:, None, :]).grads
    rows = [("W.grad", rnn.grads["weight_hh_l0"], ref["dW_hh"]), ("U.grad", rnn.grads["weight_ih_l0"], ref["dW_ih"]),
            ("b.grad", rnn.grads["bias_ih_l0"], ref["db_ih"]), ("h0.grad", dh0[0], ref["dh0"][0])]
    return [Comparison(n, None, np.asarray(b, dtype=np.float64), reference=np.asarray(r, dtype=np.float64),
                       decimals=10, reference_name="sum over paths (seed 003)") for n, b, r in rows]


def seed_004(dtype=np.float32) -> list[Comparison]:
    """``nn.RNN(5, 8, 2, batch_first=True)`` with h0 = 2, x = 1 (seed 004), rebuilt step by step.

    The seed built its RNN without a seed, so its printed numbers cannot be
    reproduced; here the weights are ``torch.manual_seed(0)``'s. bptt's ``RNN``
    is compared with the seed's own calculation, layer by layer and step by step:
    h_t^l = tanh(W_hh^l h_{t−1}^l + b_ih^l + W_ih^l h_t^{l−1} + b_hh^l), h_t^0 = x_t.
    """
    p = manual_seed(0).rnn_parameters(5, 8, num_layers=2, dtype=dtype)
    x = np.ones((1, 2, 5), dtype=dtype)
    hidden = np.full((2, 1, 8), 2.0, dtype=dtype)
    rnn = RNN(5, 8, num_layers=2, batch_first=True, dtype=dtype)
    rnn.load_state_dict(p)
    out, h_n = rnn(x, hidden)
    by_hand = {}  # the seed's hidden_input{layer}_item{step}_doble
    below = [x[0, 0], x[0, 1]]
    for layer in (0, 1):
        h = hidden[layer, 0]
        for t in (0, 1):
            h = np.tanh(p[f"weight_hh_l{layer}"] @ h + p[f"bias_ih_l{layer}"] + p[f"weight_ih_l{layer}"] @ below[t]
                        + p[f"bias_hh_l{layer}"])
            by_hand[f"hidden_input{layer + 1}_item{t + 1}"] = below[t] = h
    lower = RNN(5, 8, batch_first=True, dtype=dtype)  # layer 1 alone: the module returns the top layer's output
    lower.load_state_dict({k: v for k, v in p.items() if k.endswith("_l0")})
    out1, _ = lower(x, hidden[:1])
    bptt_vals = {"hidden_input1_item1": out1[0, 0], "hidden_input1_item2": out1[0, 1],
                 "hidden_input2_item1": out[0, 0], "hidden_input2_item2": out[0, 1]}
    rows = [(k, bptt_vals[k], v) for k, v in by_hand.items()]
    rows.append(("h_n", h_n[:, 0], np.stack([by_hand["hidden_input1_item2"], by_hand["hidden_input2_item2"]])))
    return [Comparison(n, None, np.asarray(b, dtype=np.float64), reference=np.asarray(r, dtype=np.float64),
                       decimals=6, reference_name="the seed's step-by-step calculation") for n, b, r in rows]


SEEDS = {"000": seed_000, "001": seed_001_rnncell, "002": seed_002, "003": seed_003, "004": seed_004}
