"""The training loop: optimizer steps, clipping, regularization, history, early stopping, checkpoints.

    for epoch:
        for batch in objective.batches(epoch):         # seeded order: (seed, epoch) -> permutation
            for unit in objective.train_units(batch):  # forward + backward done (1 unit, or 1 per TBPTT chunk)
                penalty = regularizer(model)           # adds λθ / λ sign θ into p.grad
                ‖g‖ = clip_grad_norm_(params, max_norm)  (or just measured)
                optimizer.step()
        validate; scheduler.step(); early stopping; checkpoint

A checkpoint (``.npz``, written to a temporary file and renamed) holds the
model, the optimizer and scheduler state, every random generator inside the
model (dropout), the objective's carried state, the step/epoch counters, the
running sums of the current epoch and the history — everything the loop reads.
So ``fit`` resumed from a checkpoint written after step N produces, bit for
bit, the parameters an uninterrupted run has after step N + M.

Ctrl-C (and SIGTERM, SIGHUP) during ``fit`` finishes the current optimizer
step (never leaving a half-updated model), writes a checkpoint and returns with
``history.info["interrupted"] = True`` (and ``info["signal"]``); a second
signal interrupts at once.

Divergence guard: after every step the loss, the gradient norm and the
parameters are checked (one BLAS pass each, :func:`bptt._checks.all_finite`).
A non-finite value stops the run before the optimizer applies it when it can
(loss or gradient), else right after; the history keeps the steps up to the
last finite one, ``history.info["diverged"]`` is set, and no checkpoint is
written from non-finite weights — the last good one on disk stays.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .._checks import NonFiniteError, all_finite, check_positive_int
from ..optim.clip import clip_grad_norm_, get_total_norm
from ..optim.lr_scheduler import LRScheduler
from ..optim.optimizer import Optimizer
from ..optim.regularization import Regularizer
from ..serialization import atomic_savez, load_npz, npz_headers
from .history import History
from .objectives import Objective

Array = np.ndarray
_ACCUM = ("loss_sum", "n", "metric_sum", "grad_norm_sum", "units", "penalty_sum")
_SIGNALS = tuple(getattr(signal, s) for s in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, s))
DIVERGED_HINT = "lower the learning rate (--lr) or clip the gradient norm (--clip)"


class _Diverged(Exception):
    """Raised inside a step when a loss, gradient or parameter is no longer finite."""


@dataclass
class EarlyStopping:
    """Stop when ``monitor`` ("val_loss" or "train_loss") has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best`` the model ends with the parameters of its best epoch.
    """

    patience: int = 5
    min_delta: float = 0.0
    monitor: str = "val_loss"
    restore_best: bool = True

    def __post_init__(self) -> None:
        check_positive_int("patience", self.patience)
        if self.monitor not in ("val_loss", "train_loss"):
            raise ValueError(f"monitor: expected 'val_loss' or 'train_loss', got {self.monitor!r}")
        if not float(self.min_delta) >= 0:
            raise ValueError(f"min_delta: expected a float >= 0, got {self.min_delta}")


def _generators(model: Any) -> dict[str, np.random.Generator]:
    """Every numpy Generator held by the model's modules (dropout masks draw from them)."""
    out = {}
    for i, m in enumerate(model.modules()):
        for k, v in vars(m).items():
            if isinstance(v, np.random.Generator):
                out[f"rng.{i}.{k}"] = v
    return out


class Trainer:
    """Fit an :class:`~bptt.train.objectives.Objective` with an optimizer.

    Args:
        objective: what a step computes (owns model, data and loss).
        optimizer: any :class:`bptt.optim.Optimizer` over the model's parameters.
        scheduler: a learning-rate schedule, stepped once per epoch.
        clip_norm: clip the global gradient norm to this value (torch's clip_grad_norm_); None = no clipping.
        regularizer: an L1/L2 :class:`~bptt.optim.Regularizer` (loss term; its value is logged as ``penalty``).
        val_data: what ``objective.evaluate`` takes (a Dataset, or ids for the char-LM).
        early_stopping: an :class:`EarlyStopping`, or None.
        checkpoint: path of the ``.npz`` to write (each epoch, every ``checkpoint_every`` steps, and at the end).
        progress: True / False / None (= only when stderr is a terminal). A tqdm bar, imported lazily.
        log: called with one line of text per epoch (e.g. ``print``); None is silent.
        log_every: log only every n-th epoch (and the first and last).
        meta: JSON-serialisable description saved in the checkpoint (model config, task, …).
        extra_arrays: arrays saved with each checkpoint under ``extra.<name>`` (e.g. the vocabulary).
        callbacks: ``f(trainer, step_record)`` after every optimizer step.
    """

    def __init__(
        self,
        objective: Objective,
        optimizer: Optimizer,
        *,
        scheduler: LRScheduler | None = None,
        clip_norm: float | None = None,
        regularizer: Regularizer | None = None,
        val_data: Any = None,
        early_stopping: EarlyStopping | None = None,
        checkpoint: str | None = None,
        checkpoint_every: int | None = None,
        progress: bool | None = None,
        log: Callable[[str], Any] | None = None,
        log_every: int = 1,
        meta: dict[str, Any] | None = None,
        extra_arrays: dict[str, Array] | None = None,
        callbacks: list[Callable[["Trainer", dict], Any]] | None = None,
    ) -> None:
        if not isinstance(objective, Objective):
            raise TypeError(f"objective: expected a bptt.train Objective, got {type(objective).__name__}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer: expected a bptt.optim Optimizer, got {type(optimizer).__name__}")
        if scheduler is not None and not isinstance(scheduler, LRScheduler):
            raise TypeError(f"scheduler: expected a bptt.optim LRScheduler or None, got {type(scheduler).__name__}")
        if clip_norm is not None and not float(clip_norm) > 0:
            raise ValueError(f"clip_norm: expected a float > 0 or None, got {clip_norm}")
        if early_stopping is not None and early_stopping.monitor == "val_loss" and val_data is None:
            raise ValueError("early_stopping: monitor='val_loss' needs val_data (or use monitor='train_loss')")
        self.objective = objective
        self.model = objective.model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.regularizer = regularizer if regularizer else None
        self.val_data = val_data
        self.early_stopping = early_stopping
        self.checkpoint = checkpoint
        self.checkpoint_every = None if checkpoint_every is None else check_positive_int("checkpoint_every", checkpoint_every)
        self.progress = progress
        self.log = log
        self.log_every = check_positive_int("log_every", log_every)
        self.meta = dict(meta or {})
        self.extra_arrays = dict(extra_arrays or {})
        self.callbacks = list(callbacks or [])
        self.history = History()
        self.history.info["steps_per_epoch"] = objective.num_batches()
        # counters: completed epochs, batches done in the current epoch, optimizer steps
        self.epoch = 0
        self.batch_in_epoch = 0
        self.global_step = 0
        self._accum = dict.fromkeys(_ACCUM, 0.0)
        self._best = math.inf
        self._bad_epochs = 0
        self._best_state: dict[str, Array] | None = None
        self._stop_requested: int | None = None  # the signal that asked to stop
        self._diverged = False
        self._early_stopped = False
        self._target_epochs = 0
        self._params = self.model.parameters()

    # -- checkpoints ------------------------------------------------------------------
    def state_arrays(self) -> dict[str, Array]:
        """Everything a checkpoint holds, as flat ``name -> array`` entries (no pickling).

        Model, optimizer and scheduler state, random generators, the objective's carried state, counters,
        running sums, the best state, history and metadata.
        """
        arrays: dict[str, Array] = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        arrays.update({f"optim.{k}": v for k, v in self.optimizer.state_arrays().items()})
        if self.scheduler is not None:
            arrays.update(self.scheduler.state_arrays())
        for k, g in _generators(self.model).items():
            arrays[k] = np.array(json.dumps(g.bit_generator.state))
        arrays.update({f"objective.{k}": v for k, v in self.objective.state_arrays().items()})
        arrays["trainer.counters"] = np.array([self.epoch, self.batch_in_epoch, self.global_step, self._bad_epochs], dtype=np.int64)
        arrays["trainer.accum"] = np.array([self._accum[k] for k in _ACCUM] + [self._best], dtype=np.float64)
        if self._best_state is not None:
            arrays.update({f"best.{k}": v for k, v in self._best_state.items()})
        arrays["history.json"] = np.array(self.history.to_json_string())
        arrays["meta.json"] = np.array(json.dumps(self.meta))
        arrays.update({f"extra.{k}": np.asarray(v) for k, v in self.extra_arrays.items()})
        return arrays

    def save_checkpoint(self, path: str | None = None) -> str:
        """Write everything needed to resume (atomically: temp file + rename); returns the path.

        Refuses (``ValueError``) to write non-finite parameters: a checkpoint never holds NaN/Inf.
        """
        path = path or self.checkpoint
        if path is None:
            raise ValueError("path: no checkpoint path given (pass checkpoint= to Trainer or a path here)")
        bad = [p.name or str(i) for i, p in enumerate(self._params) if not all_finite(p.data)]
        if bad:
            raise ValueError(f"checkpoint: parameters {bad} hold NaN/Inf; refusing to overwrite {str(path)!r} with them")
        atomic_savez(path, self.state_arrays())
        return str(path)

    def _expected_members(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """The members this trainer reads from a checkpoint, with their shape and dtype kind."""
        want = {"trainer.counters": ((4,), "i"), "trainer.accum": ((len(_ACCUM) + 1,), "f"), "history.json": ((), "U")}
        for k, v in self.model.state_dict().items():
            want[f"model.{k}"] = (v.shape, "f")
        for k in _generators(self.model):
            want[k] = ((), "U")
        for k, shape in self.objective.state_shapes().items():
            want[f"objective.{k}"] = (shape, "f")
        return want

    def _check_members(self, path: str, headers: dict[str, Any]) -> list[str]:
        """Check the headers of the members to load against this trainer (no data read); return their names."""
        def bad(msg: str) -> ValueError:
            return ValueError(f"checkpoint: {path!r}: {msg}")

        for key in ("trainer.counters", "trainer.accum", "history.json"):
            if key not in headers:
                raise bad(f"has no {key!r}; not a bptt training checkpoint")
        want = self._expected_members()
        largest = max([p.data.size for p in self._params] + [64])
        keys = []
        for name, (shape, dtype) in headers.items():
            if name in want:
                wshape, kind = want[name]
            elif name.startswith("best.") and f"model.{name[5:]}" in want:
                wshape, kind = want[f"model.{name[5:]}"]
            elif name.startswith(("optim.", "scheduler.")):
                # validated by the optimizer's/scheduler's own load_state_dict; here only bounded in size
                wshape, kind = None, dtype.kind
                if int(np.prod(shape, dtype=np.int64)) > largest:
                    raise bad(f"member {name!r} declares shape {shape}, larger than any parameter")
            else:
                continue  # meta.json, extra.* and anything unknown: never read here
            if wshape is not None and shape != wshape:
                raise bad(f"member {name!r} has shape {shape}, this model needs {wshape}")
            if (kind == "f" and dtype.kind not in "fi") or (kind in "iU" and dtype.kind != kind):
                raise bad(f"member {name!r} has dtype {dtype}, expected {dict(f='numbers', i='integers', U='text')[kind]}")
            keys.append(name)
        missing = [k for k in want if k not in headers and not k.startswith("objective.")]
        if missing:
            raise bad(f"missing members {missing} (written for another model?)")
        got = sorted(k for k in headers if k.startswith("objective."))
        need = sorted(k for k in want if k.startswith("objective."))
        if got and got != need:
            raise bad(f"objective state {got} does not match this objective's {need}")
        rngs = sorted(k for k in headers if k.startswith("rng."))
        if rngs != sorted(_generators(self.model)):
            raise bad(f"random generators {rngs} do not match the model's {sorted(_generators(self.model))}")
        if (self.scheduler is None) != ("scheduler.type" not in headers):
            raise bad("saved with" + ("out" if self.scheduler is not None else "") + " a learning-rate scheduler; "
                      "build the trainer the same way")
        return keys

    def load_checkpoint(self, path: str) -> None:
        """Restore a checkpoint written by :meth:`save_checkpoint`: all or nothing.

        The headers are checked against this trainer's model before any array
        is read; then every part (module, optimizer, scheduler, generators,
        objective state, counters, history) is validated, and only then is
        anything changed. Any problem is one ``ValueError`` naming the file.
        """
        path = str(path)
        arrays = load_npz(path, self._check_members(path, npz_headers(path)))

        def bad(msg: str) -> ValueError:
            return ValueError(f"checkpoint: {path!r}: {msg}")

        def part(prefix: str) -> dict[str, Array]:
            return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

        try:
            staged_model = self.model.check_state_dict(part("model."))
            best = part("best.")
            if best:
                self.model.check_state_dict(best)
            obj_state = self.objective.check_state_arrays(part("objective."))
        except (ValueError, TypeError) as exc:
            raise bad(str(exc)) from None
        gens, states = _generators(self.model), {}
        for k, g in gens.items():
            try:
                probe = type(g.bit_generator)()
                probe.state = json.loads(str(arrays[k]))
                states[k] = probe.state
            except (ValueError, TypeError, KeyError) as exc:
                raise bad(f"{k!r} is not a {type(g.bit_generator).__name__} state ({exc})") from None
        counters = self._check_counters(arrays["trainer.counters"], arrays["trainer.accum"], bad)
        try:
            history = History.from_json_string(str(arrays["history.json"]))
        except (ValueError, TypeError, AttributeError) as exc:
            raise bad(f"'history.json' is not a training history ({exc})") from None
        # optimizer, then scheduler: each checks before it writes; the optimizer is undone if the scheduler refuses
        saved_optim = self.optimizer.state_dict()
        try:
            self.optimizer.load_state_arrays(part("optim."))
            if self.scheduler is not None:
                self.scheduler.load_state_arrays({k: v for k, v in arrays.items() if k.startswith("scheduler.")})
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            self.optimizer.load_state_dict(saved_optim)
            raise bad(f"optimizer/scheduler state: {exc}") from None
        # commit: nothing below can fail
        for p, value in staged_model:
            p.data[...] = value
        for k, g in gens.items():
            g.bit_generator.state = states[k]
        self.objective.load_state_arrays(obj_state)
        (self.epoch, self.batch_in_epoch, self.global_step, self._bad_epochs), acc = counters
        self._accum = {k: float(v) for k, v in zip(_ACCUM, acc[:len(_ACCUM)])}
        self._best = float(acc[len(_ACCUM)])
        self._best_state = {k: v.copy() for k, v in best.items()} or None
        self.history = history

    def _check_counters(self, c: Array, acc: Array, bad: Callable[[str], ValueError]) -> tuple[tuple[int, ...], Array]:
        epoch, batch, step, bad_epochs = (int(v) for v in c)
        nb = self.objective.num_batches()
        if min(epoch, batch, step, bad_epochs) < 0 or batch >= nb or step < epoch * nb + batch:
            raise bad(f"counters (epoch {epoch}, batch {batch}, step {step}) are impossible for this run "
                      f"of {nb} batches per epoch (batch < {nb}, step >= epoch * {nb} + batch)")
        acc = acc.astype(np.float64)
        if not np.isfinite(acc[:len(_ACCUM)]).all():
            raise bad("the running sums of the current epoch hold NaN/Inf")
        return (epoch, batch, step, bad_epochs), acc

    # -- the loop ------------------------------------------------------------------------
    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _evaluate(self) -> dict[str, float]:
        if self.val_data is None:
            return {}
        return {f"val_{k}": v for k, v in self.objective.evaluate(self.val_data).items()}

    def _step(self, unit: dict[str, Any]) -> dict[str, Any]:
        # the divergence guard: a non-finite loss or gradient is never applied, and
        # parameters that overflow in the update stop the run before anything is saved
        if not math.isfinite(unit["loss"]):
            raise _Diverged(f"loss {unit['loss']}")
        penalty = self.regularizer(self.model) if self.regularizer is not None else 0.0
        if self.clip_norm is not None:
            gn = clip_grad_norm_(self._params, self.clip_norm)
        else:
            gn = get_total_norm(self._params)
        if not math.isfinite(gn) or not math.isfinite(penalty):
            raise _Diverged(f"gradient norm {gn}" if not math.isfinite(gn) else f"penalty {penalty}")
        lr = self._lr()
        self.optimizer.step()
        if not all(all_finite(p.data) for p in self._params):
            raise _Diverged(f"parameters overflowed to NaN/Inf in the update (loss {unit['loss']:.4g}, gradient norm {gn:.4g})")
        self.global_step += 1
        a = self._accum
        a["loss_sum"] += unit["loss"] * unit["n"]
        a["n"] += unit["n"]
        a["metric_sum"] += 0.0 if unit.get("metric") is None else unit["metric"]
        a["grad_norm_sum"] += gn
        a["units"] += 1
        a["penalty_sum"] += penalty
        rec: dict[str, Any] = {"step": self.global_step, "epoch": self.epoch + 1, "loss": unit["loss"]}
        if unit.get("metric") is not None and unit["n"]:
            rec[self.objective.metric_name or "metric"] = unit["metric"] / unit["n"]
        if self.regularizer is not None:
            rec["penalty"] = penalty
        rec["grad_norm"] = gn
        rec["lr"] = lr
        self.history.steps.append(rec)
        for cb in self.callbacks:
            cb(self, rec)
        return rec

    def _end_epoch(self, seconds: float) -> bool:
        """Close the epoch: record it, validate, schedule, early-stop. Returns True to stop."""
        a = self._accum
        self.epoch += 1
        self.batch_in_epoch = 0
        row: dict[str, Any] = {"epoch": self.epoch, "step": self.global_step}
        train_loss = a["loss_sum"] / a["n"] if a["n"] else float("nan")
        if a["n"] and not math.isfinite(train_loss):  # finite step losses whose sum overflows
            raise _Diverged(f"the mean training loss of epoch {self.epoch} overflowed")
        row["train_loss"] = train_loss
        name = self.objective.metric_name
        if name == "perplexity":
            row["train_perplexity"] = math.exp(min(train_loss, 700.0))
        elif name is not None:
            row[f"train_{name}"] = a["metric_sum"] / a["n"] if a["n"] else None
        if self.regularizer is not None:
            row["penalty"] = a["penalty_sum"] / max(a["units"], 1)
        row["grad_norm"] = a["grad_norm_sum"] / max(a["units"], 1)
        row["lr"] = self._lr()
        row.update(self._evaluate())
        row["seconds"] = round(seconds, 3)
        self._accum = dict.fromkeys(_ACCUM, 0.0)
        if self.scheduler is not None:
            self.scheduler.step()
        stop = False
        if self.early_stopping is not None:
            es = self.early_stopping
            value = row.get(es.monitor)
            if value is not None and value < self._best - es.min_delta:
                self._best, self._bad_epochs = float(value), 0
                if es.restore_best:
                    self._best_state = self.model.state_dict()
            else:
                self._bad_epochs += 1
                stop = self._bad_epochs >= es.patience
            row["best_" + es.monitor] = self._best
        self.history.epochs.append(row)
        if not math.isfinite(train_loss):
            self.history.info["stopped"] = f"diverged: train loss {train_loss} in epoch {self.epoch}"
            stop = True
        elif stop:
            self._early_stopped = True
            self.history.info["stopped"] = f"early stopping: no improvement of {self.early_stopping.monitor} for {self._bad_epochs} epochs"
        if self.log is not None and (stop or self.epoch % self.log_every == 0 or self.epoch == self._target_epochs):
            self.log(_format_row(row))
        return stop

    def _diverge(self, why: str) -> None:
        self._diverged = True
        self.history.info["diverged"] = True
        self.history.info["stopped"] = f"diverged at step {self.global_step + 1}: {why}; {DIVERGED_HINT}"

    def _guarded(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` (training steps or an evaluation); a non-finite value in it means divergence.

        NumPy's overflow warnings are silenced here because the guard checks the results.
        A NaN/Inf met before any optimizer step cannot be divergence: it is re-raised.
        """
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                return fn()
        except NonFiniteError as exc:
            if self.global_step == 0:
                raise
            raise _Diverged(f"the forward pass produced NaN/Inf ({exc})") from None

    def _train_batch(self, batch: Any) -> dict[str, Any] | None:
        rec = None
        for unit in self.objective.train_units(batch):  # one unit, or one per truncated-BPTT chunk
            rec = self._step(unit)
        return rec

    def _run_batches(self, epochs: int, max_steps: int | None, bar: "_Progress") -> bool:
        """The batches left in the current epoch; True when the run must stop before the epoch ends."""
        for batch in self.objective.batches(self.epoch, start=self.batch_in_epoch):
            rec = self._guarded(lambda: self._train_batch(batch))
            self.batch_in_epoch += 1
            bar.update(self.epoch + 1, epochs, rec)
            if self._stop_requested is not None:
                name = signal.Signals(self._stop_requested).name
                self.history.info.update(interrupted=True, signal=self._stop_requested)
                self.history.info["stopped"] = f"interrupted ({'Ctrl-C' if name == 'SIGINT' else name}) at step {self.global_step}"
                return True
            if max_steps is not None and self.global_step >= max_steps:
                self.history.info["stopped"] = f"max_steps={max_steps} reached"
                return True
            if self.checkpoint and self.checkpoint_every and self.global_step % self.checkpoint_every == 0:
                self.save_checkpoint()
        return False

    def fit(self, epochs: int, *, max_steps: int | None = None, resume: str | None = None) -> History:
        """Train until ``epochs`` epochs are complete (counting those already done), or ``max_steps`` steps.

        ``resume``: a checkpoint path to continue from. Returns the history
        (also at ``self.history``); ``history.info`` says why it stopped
        (``info["diverged"]``: a loss, gradient or parameter became NaN/Inf; the
        model then holds the diverged values and no checkpoint is written).
        """
        epochs = check_positive_int("epochs", epochs)
        if max_steps is not None:
            max_steps = check_positive_int("max_steps", max_steps)
        if resume is not None:
            self.load_checkpoint(resume)
        for key in ("interrupted", "stopped", "diverged", "signal"):
            self.history.info.pop(key, None)
        if self.global_step == 0 and self.batch_in_epoch == 0 and self.epoch == 0 and not self.history.epochs:
            first = {"epoch": 0, "step": 0, "lr": self._lr(), **self._evaluate()}
            self.history.epochs.append(first)
            if self.log is not None and len(first) > 3:
                self.log(_format_row(first))
        self._stop_requested, self._diverged, self._early_stopped = None, False, False
        self._target_epochs = epochs
        restore = self._install_signals()
        bar = _Progress(self.progress, total=max(0, (epochs - self.epoch) * self.objective.num_batches() - self.batch_in_epoch))
        stopped = False
        try:
            while self.epoch < epochs and not stopped:
                t0 = time.perf_counter()
                if self.batch_in_epoch == 0:
                    self.objective.start_epoch()
                if self._run_batches(epochs, max_steps, bar):
                    break
                stopped = self._guarded(lambda: self._end_epoch(time.perf_counter() - t0))
                if self.checkpoint:
                    self.save_checkpoint()
        except _Diverged as exc:
            self._diverge(str(exc))
        finally:
            bar.close()
            restore()
        if self._diverged:
            return self.history  # the last good checkpoint on disk stays as it is
        if self._early_stopped and self.early_stopping.restore_best and self._best_state is not None:
            self.model.load_state_dict(self._best_state)
            self.history.info["restored_best"] = True
        self.history.info.setdefault("stopped", f"{self.epoch} epochs completed")
        if self.checkpoint:
            self.save_checkpoint()
        return self.history

    def _install_signals(self) -> Callable[[], None]:
        """Ctrl-C, SIGTERM and SIGHUP ask the loop to stop after the current step (a second one acts at once)."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {s: signal.getsignal(s) for s in _SIGNALS}

        def handler(signum: int, frame: Any) -> None:
            self._stop_requested = signum
            for s, h in previous.items():
                signal.signal(s, h)  # a second signal acts at once
            name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
            print(f"\nbptt: stopping after this step ({name} again to abort at once)", file=sys.stderr)

        def restore() -> None:
            for s, h in previous.items():
                signal.signal(s, h)

        for s in _SIGNALS:
            signal.signal(s, handler)
        return restore


def _format_row(row: dict[str, Any]) -> str:
    parts = [f"epoch {row['epoch']:>3}"]
    for k, v in row.items():
        if k in ("epoch", "seconds") or v is None:
            continue
        if isinstance(v, float):
            parts.append(f"{k} {v:.4g}")
        else:
            parts.append(f"{k} {v}")
    if "seconds" in row:
        parts.append(f"({row['seconds']:.1f}s)")
    return "  ".join(parts)


class _Progress:
    """A tqdm bar when enabled (None: only on a terminal); imported lazily, shown after 2 s."""

    def __init__(self, enabled: bool | None, total: int) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.bar = None
        if enabled and total > 0:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # the cli extra is not installed: train silently
                return
            self.bar = tqdm(total=total, file=sys.stderr, leave=False, dynamic_ncols=True, delay=2.0, unit="batch")

    def update(self, epoch: int, epochs: int, rec: dict[str, Any] | None) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        if rec is not None:
            self.bar.set_description(f"epoch {epoch}/{epochs}", refresh=False)
            self.bar.set_postfix(loss=f"{rec['loss']:.4f}", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
