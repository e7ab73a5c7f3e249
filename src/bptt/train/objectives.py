"""What one training step computes, for each kind of task.

An *objective* owns the training data, the model and the loss. The
:class:`~bptt.train.Trainer` asks it for the batches of an epoch and, for each
batch, iterates :meth:`train_units`: every yielded unit has already run
forward and backward (gradients are in ``p.grad``); the trainer then clips,
steps the optimizer, and resumes the generator. With truncated BPTT one batch
holds several units (one optimizer step per chunk of k steps), and the state
carried between them is the value of h, never its gradient.

* :class:`SupervisedObjective` — a :class:`~bptt.data.Dataset` with an MLP or
  a :class:`~bptt.train.models.SequenceNet`; cross-entropy (with
  ``ignore_index`` for padding) or MSE; accuracy (or, for the Reber grammar,
  the fraction of predictions the grammar allows).
* :class:`CharLMObjective` — a character stream cut into ``batch_size``
  parallel streams, walked ``seq_len`` characters at a time with the state
  carried across chunks (and across checkpoints); loss in nats per character
  and perplexity = exp(loss).
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from .._checks import check_choice, check_positive_int
from ..data.dataset import IGNORE_INDEX, Batch, Dataset, iterate_minibatches, num_batches
from ..data.text import num_chunks, stream_batches
from ..nn import CrossEntropyLoss, Module, MSELoss
from ..nn.recurrent import LSTM
from .models import CharRNN, SequenceNet, detach_state

Array = np.ndarray


class Objective:
    """Protocol (and shared bits) of every objective."""

    model: Module
    metric_name: str | None = None

    def num_batches(self) -> int:  # pragma: no cover - abstract
        """Mini-batches per epoch."""
        raise NotImplementedError

    def batches(self, epoch: int, start: int = 0) -> Iterator[Any]:  # pragma: no cover - abstract
        """The batches of ``epoch``, skipping the first ``start`` (to resume mid-epoch)."""
        raise NotImplementedError

    def train_units(self, batch: Any) -> Iterator[dict[str, float]]:  # pragma: no cover - abstract
        """Forward and backward one batch, yielding after each gradient is ready (one optimizer step each).

        Yields ``{"loss", "n", "metric"}``: the unit's mean loss, its item count and its metric (or None).
        """
        raise NotImplementedError

    def evaluate(self, data: Any) -> dict[str, float]:  # pragma: no cover - abstract
        """Mean loss (and metric) over ``data`` without touching the gradients."""
        raise NotImplementedError

    def start_epoch(self) -> None:
        """Called before the first batch of every epoch (stateful objectives reset here)."""

    def state_arrays(self) -> dict[str, Array]:
        """Arrays to put in a checkpoint so that a resumed run continues exactly."""
        return {}

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """Name -> shape of every array :meth:`state_arrays` may hold (checked before loading)."""
        return {}

    def check_state_arrays(self, arrays: dict[str, Array]) -> dict[str, Array]:
        """Validate arrays for :meth:`load_state_arrays` without changing anything (``ValueError`` if wrong)."""
        shapes = self.state_shapes()
        if arrays and set(arrays) != set(shapes):
            raise ValueError(f"objective state: expected arrays {sorted(shapes)} or none, got {sorted(arrays)}")
        out = {}
        for k, v in arrays.items():
            with np.errstate(over="ignore", invalid="ignore"):
                out[k] = np.array(v, dtype=self.model.dtype)
            if v.shape != shapes[k] or not np.isfinite(out[k]).all():
                raise ValueError(f"objective state {k!r}: expected finite values of shape {shapes[k]}, got shape {v.shape}")
        return out

    def load_state_arrays(self, arrays: dict[str, Array]) -> None:
        """Restore what :meth:`state_arrays` saved (nothing by default)."""
        pass


# -- datasets ----------------------------------------------------------------------------------
class SupervisedObjective(Objective):
    """Mini-batches of a Dataset through an MLP or a SequenceNet.

    ``tbptt=k`` (sequence models, fixed-length data only) runs each batch in
    chunks of k steps: per-step targets give one loss and one optimizer step
    per chunk; a single final target gives a loss on the last chunk only, the
    earlier chunks just carrying the state forward.
    """

    def __init__(self, model: Module, data: Dataset, batch_size: int, *, shuffle: bool = True, seed: int = 0,
                 tbptt: int | None = None, metric: str | None = "auto") -> None:
        if not isinstance(data, Dataset):
            raise TypeError(f"data: expected a bptt.data.Dataset, got {type(data).__name__}")
        self.model, self.data = model, data
        self.batch_size = check_positive_int("batch_size", batch_size)
        if self.batch_size > len(data):
            raise ValueError(f"batch_size: expected 1 … {len(data)} (the training set size), got {batch_size}")
        self.shuffle, self.seed = bool(shuffle), int(seed)
        self.sequence = data.is_sequence
        if self.sequence and not isinstance(model, SequenceNet):
            raise TypeError(f"model: sequence data needs a SequenceNet, got {type(model).__name__}")
        self.tbptt = None if tbptt is None else check_positive_int("tbptt", tbptt)
        if self.tbptt is not None and (not self.sequence or data.lengths is not None):
            raise ValueError("tbptt: truncated BPTT needs fixed-length sequence data (no lengths)")
        self.loss_fn = CrossEntropyLoss(ignore_index=IGNORE_INDEX) if data.kind == "classification" else MSELoss()
        if metric == "auto":
            metric = ("valid_next" if "valid_next" in data.extras else "accuracy") if data.kind == "classification" else None
        self.metric_name = None if metric is None else check_choice("metric", metric, ("accuracy", "valid_next"))

    def num_batches(self) -> int:
        """⌈len(data) / batch_size⌉ mini-batches per epoch."""
        return num_batches(len(self.data), self.batch_size)

    def batches(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        """The epoch's mini-batches, shuffled by ``(seed, epoch)`` so a resumed run sees the same order."""
        return iterate_minibatches(self.data, self.batch_size, shuffle=self.shuffle, seed=self.seed, epoch=epoch, start=start)

    # -- one forward/backward ------------------------------------------------------------
    def _forward(self, x: Array, lengths: Any, hx: Any = None) -> Array:
        return self.model(x, lengths=lengths, hx=hx) if self.sequence else self.model(x)

    def _loss(self, out: Array, y: Array) -> tuple[float, int, Any]:
        """Loss on the batch, items it averages over, and the arrays the metric needs."""
        if self.data.kind == "classification":
            C = out.shape[-1]
            logits, t = out.reshape(-1, C), y.reshape(-1)
            loss = float(self.loss_fn(logits, t))
            return loss, int(np.count_nonzero(t != IGNORE_INDEX)), (logits, t)
        return float(self.loss_fn(out, y.reshape(out.shape))), int(out.size), None

    def _backward(self, out_shape: tuple[int, ...]) -> None:
        d = self.loss_fn.backward()
        self.model.backward(d.reshape(out_shape))

    def _metric(self, cache: Any, extras: dict[str, Array], sl: Any = None) -> float | None:
        if self.metric_name is None or cache is None:
            return None
        logits, t = cache
        valid = t != IGNORE_INDEX
        pred = logits.argmax(-1)
        if self.metric_name == "accuracy":
            return float(np.count_nonzero((pred == t) & valid))
        allowed = extras["valid_next"] if sl is None else extras["valid_next"][:, sl]
        allowed = allowed.reshape(-1, allowed.shape[-1])
        return float(np.count_nonzero((allowed[np.arange(len(pred)), pred] > 0) & valid))

    def train_units(self, batch: Batch) -> Iterator[dict[str, float]]:
        """One batch: one unit, or with ``tbptt=k`` one unit per chunk of k steps (state carried, detached).

        Yields ``{"loss", "n", "metric"}`` per unit.
        """
        self.model.train()
        if self.tbptt is None or batch.x.shape[1] <= self.tbptt:
            self.model.zero_grad()
            out = self._forward(batch.x, batch.lengths)
            loss, n, cache = self._loss(out, batch.y)
            self._backward(out.shape)
            yield {"loss": loss, "n": n, "metric": self._metric(cache, batch.extras)}
            return
        k, T = self.tbptt, batch.x.shape[1]
        hx = None
        if not self.data.per_step:
            # one target at the end: the early chunks only carry the state; the gradient
            # of the loss reaches back through the last chunk only
            last0 = ((T - 1) // k) * k
            for t0 in range(0, last0, k):
                hx = detach_state(self.model.run_state(batch.x[:, t0:t0 + k], hx))
            self.model.zero_grad()
            out = self._forward(batch.x[:, last0:], None, hx)
            loss, n, cache = self._loss(out, batch.y)
            self._backward(out.shape)
            yield {"loss": loss, "n": n, "metric": self._metric(cache, batch.extras)}
            return
        for t0 in range(0, T, k):
            sl = slice(t0, t0 + k)
            self.model.zero_grad()
            out = self._forward(batch.x[:, sl], None, hx)
            hx = detach_state(self.model.state)
            loss, n, cache = self._loss(out, batch.y[:, sl])
            self._backward(out.shape)
            yield {"loss": loss, "n": n, "metric": self._metric(cache, batch.extras, sl)}

    def evaluate(self, data: Dataset, batch_size: int = 1024) -> dict[str, float]:
        """Mean loss (and metric) over ``data`` in eval mode (no dropout); parameters untouched."""
        was = self.model.training
        self.model.eval()
        try:
            total, count, correct = 0.0, 0, 0.0
            for b in iterate_minibatches(data, min(batch_size, len(data)), shuffle=False):
                out = self._forward(b.x, b.lengths)
                loss, n, cache = self._loss(out, b.y)
                total += loss * n
                count += n
                m = self._metric(cache, b.extras)
                correct += 0.0 if m is None else m
            res = {"loss": total / max(count, 1)}
            if self.metric_name is not None:
                res[self.metric_name] = correct / max(count, 1)
            return res
        finally:
            self.model.train(was)


# -- character language model -------------------------------------------------------------------
class CharLMObjective(Objective):
    """Truncated BPTT over ``batch_size`` parallel streams of a character corpus.

    The recurrent state at the end of chunk c is the initial state of chunk
    c + 1 of the same streams (carried as a value, :func:`detach_state`), and is
    reset to zeros at the start of each epoch.
    """

    metric_name = "perplexity"

    def __init__(self, model: CharRNN, train_ids: Array, batch_size: int = 32, seq_len: int = 64) -> None:
        if not isinstance(model, CharRNN):
            raise TypeError(f"model: expected a CharRNN, got {type(model).__name__}")
        self.model = model
        self.ids = np.asarray(train_ids, dtype=np.int64)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.seq_len = check_positive_int("seq_len", seq_len)
        if (len(self.ids) - 1) // self.batch_size < 1:
            raise ValueError(f"batch_size: {self.batch_size} streams need at least {self.batch_size + 1} training characters, got {len(self.ids)}")
        self.loss_fn = CrossEntropyLoss()
        self.state: Any = None

    def num_batches(self) -> int:
        """Chunks of ``seq_len`` characters per epoch over the ``batch_size`` streams."""
        return num_chunks(self.ids, self.batch_size, self.seq_len)

    def start_epoch(self) -> None:
        self.state = None

    def batches(self, epoch: int, start: int = 0) -> Iterator[tuple[Array, Array]]:
        """The epoch's chunks in stream order, skipping the first ``start``."""
        return stream_batches(self.ids, self.batch_size, self.seq_len, start=start)

    def train_units(self, batch: tuple[Array, Array]) -> Iterator[dict[str, float]]:
        """One chunk: truncated BPTT from the carried state, which is then detached and kept for the next chunk.

        Yields ``{"loss", "n", "metric"}`` with the loss in nats per character.
        """
        x, y = batch
        self.model.train()
        self.model.zero_grad()
        logits, state = self.model(x, self.state)
        self.state = detach_state(state)
        V = logits.shape[-1]
        loss = float(self.loss_fn(logits.reshape(-1, V), y.reshape(-1)))
        self.model.backward(self.loss_fn.backward().reshape(logits.shape))
        yield {"loss": loss, "n": int(y.size), "metric": None}

    def evaluate(self, ids: Array, batch_size: int | None = None) -> dict[str, float]:
        """Mean cross-entropy per character (nats) and perplexity on ``ids``, streamed like training."""
        ids = np.asarray(ids, dtype=np.int64)
        B = min(batch_size or self.batch_size, max(1, (len(ids) - 1) // self.seq_len))
        was = self.model.training
        self.model.eval()
        try:
            total, count, state = 0.0, 0, None
            for x, y in stream_batches(ids, B, self.seq_len):
                logits, state = self.model(x, state)
                V = logits.shape[-1]
                total += float(CrossEntropyLoss(reduction="sum")(logits.reshape(-1, V), y.reshape(-1)))
                count += int(y.size)
            loss = total / count
            return {"loss": loss, "perplexity": math.exp(min(loss, 700.0))}
        finally:
            self.model.train(was)

    def state_arrays(self) -> dict[str, Array]:
        if self.state is None:
            return {}
        if isinstance(self.state, tuple):
            return {"carry.h": self.state[0], "carry.c": self.state[1]}
        return {"carry.h": self.state}

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        r = self.model._modules["rnn"]
        shape = (r.num_layers * r.num_directions, self.batch_size, r.hidden_size)
        return {"carry.h": shape, "carry.c": shape} if isinstance(r, LSTM) else {"carry.h": shape}

    def load_state_arrays(self, arrays: dict[str, Array]) -> None:
        """Restore the carried hidden state saved in a checkpoint (None if there was none)."""
        if "carry.h" not in arrays:
            self.state = None
        elif isinstance(self.model._modules["rnn"], LSTM):
            self.state = (arrays["carry.h"].copy(), arrays["carry.c"].copy())
        else:
            self.state = arrays["carry.h"].copy()
