"""The step-based training loop of the sequence experiments, on bptt's modules and :mod:`bptt.optim`.

The epoch-based experiments (MLPs on fixed data sets) use :class:`bptt.train.Trainer`.
The sequence experiments instead draw a *fresh* batch of the task at every step
(an endless stream: no epochs, no over-fitting to a fixed set) and record per-step
gradient norms per weight matrix; that loop is written out here — forward, loss,
backward, optional penalty and clipping, ``opt.step()`` — in a few lines that show
exactly what is measured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..optim import SGD, Adam, clip_grad_norm_

Array = np.ndarray


@dataclass
class History:
    """What one training run recorded (per step unless named per-eval)."""

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    layer_grad_norms: list[dict[str, float]] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)  # seconds since the start, after each step
    eval_step: list[int] = field(default_factory=list)
    eval: list[dict[str, float]] = field(default_factory=list)


def make_optimizer(name: str, params: list, lr: float, **kw: Any):
    """"adam" or "sgd" from :mod:`bptt.optim`."""
    if name == "adam":
        return Adam(params, lr=lr, **kw)
    if name == "sgd":
        return SGD(params, lr=lr, **kw)
    raise ValueError(f"optimizer: expected 'adam' or 'sgd', got {name!r}")


def layer_norms(model) -> dict[str, float]:
    """‖∂L/∂W‖ per weight array (biases left out), keyed by parameter name."""
    return {n: float(np.linalg.norm(p.grad)) for n, p in model.named_parameters() if "weight" in n.rsplit(".", 1)[-1]}


def train_steps(
    model,
    batches: Callable[[int], tuple],
    loss_fn,
    steps: int,
    opt,
    clip: float | None = None,
    penalty: Callable[[Any], float] | None = None,
    evaluate: Callable[[], dict[str, float]] | None = None,
    eval_every: int = 50,
    record_layers: bool = False,
) -> History:
    """Run ``steps`` optimizer steps; ``batches(step)`` returns ``(x, y)`` or ``(x, y, lengths)``.

    Each step: zero_grad → ŷ = model(x[, lengths]) → loss → backward → penalty (adds its
    gradient) → clip → step. ``evaluate()`` runs every ``eval_every`` steps and at the end.
    """
    hist = History()
    t0 = time.perf_counter()
    for step in range(steps):
        batch = batches(step)
        x, y = batch[0], batch[1]
        lengths = batch[2] if len(batch) > 2 else None
        model.zero_grad()
        pred = model(x, lengths) if lengths is not None else model(x)
        loss = float(loss_fn(pred, y))
        model.backward(loss_fn.backward())
        if penalty is not None:
            loss += float(penalty(model))
        if record_layers:
            hist.layer_grad_norms.append(layer_norms(model))
        if clip is not None:
            gn = float(clip_grad_norm_(model, clip))
        else:
            gn = float(np.sqrt(sum(float(np.sum(p.grad * p.grad)) for p in model.parameters())))
        opt.step()
        hist.loss.append(loss)
        hist.grad_norm.append(gn)
        hist.wall.append(time.perf_counter() - t0)
        if evaluate is not None and ((step + 1) % eval_every == 0 or step == steps - 1):
            hist.eval_step.append(step + 1)
            hist.eval.append(evaluate())
    return hist


def mse(pred: Array, y: Array) -> float:
    """mean (pred − y)², as a float."""
    return float(np.mean((pred - y) ** 2))
