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

Ctrl-C during ``fit`` finishes the current optimizer step (never leaving a
half-updated model), writes a checkpoint and returns with
``history.info["interrupted"] = True``; a second Ctrl-C interrupts at once.
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

from .._checks import check_positive_int
from ..optim.clip import clip_grad_norm_, get_total_norm
from ..optim.lr_scheduler import LRScheduler
from ..optim.optimizer import Optimizer
from ..optim.regularization import Regularizer
from .checkpoint import atomic_savez, load_npz
from .history import History
from .objectives import Objective

Array = np.ndarray
_ACCUM = ("loss_sum", "n", "metric_sum", "grad_norm_sum", "units", "penalty_sum")


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
        self._stop_requested = False
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
        """Write everything needed to resume (atomically: temp file + rename); returns the path."""
        path = path or self.checkpoint
        if path is None:
            raise ValueError("path: no checkpoint path given (pass checkpoint= to Trainer or a path here)")
        atomic_savez(path, self.state_arrays())
        return str(path)

    def load_checkpoint(self, path: str) -> None:
        """Restore a checkpoint written by :meth:`save_checkpoint` (all checks before anything changes)."""
        arrays = load_npz(path)
        for key in ("trainer.counters", "trainer.accum", "history.json"):
            if key not in arrays:
                raise ValueError(f"checkpoint: {str(path)!r} has no {key!r}; not a bptt training checkpoint")
        model_sd = {k[6:]: v for k, v in arrays.items() if k.startswith("model.")}
        optim_sd = {k[6:]: v for k, v in arrays.items() if k.startswith("optim.")}
        gens = _generators(self.model)
        if set(gens) != {k for k in arrays if k.startswith("rng.")}:
            raise ValueError(f"checkpoint: random generators {sorted(k for k in arrays if k.startswith('rng.'))} do not match the model's {sorted(gens)}")
        if (self.scheduler is None) != ("scheduler.type" not in arrays):
            raise ValueError("checkpoint: saved with" + ("out" if self.scheduler is not None else "") + " a learning-rate scheduler; build the trainer the same way")
        # validate first (both raise ValueError on any mismatch), then commit
        probe = {k: v.copy() for k, v in self.model.state_dict().items()}
        self.model.load_state_dict(model_sd, strict=True)
        try:
            self.optimizer.load_state_dict(optim_sd)
            if self.scheduler is not None:
                self.scheduler.load_state_dict({k: v for k, v in arrays.items() if k.startswith("scheduler.")})
        except (ValueError, TypeError, KeyError):
            self.model.load_state_dict(probe)
            raise
        for k, g in gens.items():
            g.bit_generator.state = json.loads(str(arrays[k]))
        self.objective.load_state_arrays({k[10:]: v for k, v in arrays.items() if k.startswith("objective.")})
        c = arrays["trainer.counters"]
        self.epoch, self.batch_in_epoch, self.global_step, self._bad_epochs = (int(v) for v in c)
        acc = arrays["trainer.accum"]
        self._accum = {k: float(v) for k, v in zip(_ACCUM, acc[:len(_ACCUM)])}
        self._best = float(acc[len(_ACCUM)])
        best = {k[5:]: v for k, v in arrays.items() if k.startswith("best.")}
        self._best_state = best or None
        self.history = History.from_json_string(str(arrays["history.json"]))

    # -- the loop ------------------------------------------------------------------------
    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _evaluate(self) -> dict[str, float]:
        if self.val_data is None:
            return {}
        return {f"val_{k}": v for k, v in self.objective.evaluate(self.val_data).items()}

    def _step(self, unit: dict[str, Any]) -> dict[str, Any]:
        penalty = self.regularizer(self.model) if self.regularizer is not None else 0.0
        if self.clip_norm is not None:
            gn = clip_grad_norm_(self._params, self.clip_norm)
        else:
            gn = get_total_norm(self._params)
        lr = self._lr()
        self.optimizer.step()
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

    def fit(self, epochs: int, *, max_steps: int | None = None, resume: str | None = None) -> History:
        """Train until ``epochs`` epochs are complete (counting those already done), or ``max_steps`` steps.

        ``resume``: a checkpoint path to continue from. Returns the history
        (also at ``self.history``); ``history.info`` says why it stopped.
        """
        epochs = check_positive_int("epochs", epochs)
        if max_steps is not None:
            max_steps = check_positive_int("max_steps", max_steps)
        if resume is not None:
            self.load_checkpoint(resume)
        self.history.info.pop("interrupted", None)
        self.history.info.pop("stopped", None)
        if self.global_step == 0 and self.batch_in_epoch == 0 and self.epoch == 0 and not self.history.epochs:
            first = {"epoch": 0, "step": 0, "lr": self._lr(), **self._evaluate()}
            self.history.epochs.append(first)
            if self.log is not None and len(first) > 3:
                self.log(_format_row(first))
        self._stop_requested = False
        self._early_stopped = False
        self._target_epochs = epochs
        restore = self._install_sigint()
        bar = _Progress(self.progress, total=max(0, (epochs - self.epoch) * self.objective.num_batches() - self.batch_in_epoch))
        stopped = False
        try:
            while self.epoch < epochs and not stopped:
                t0 = time.perf_counter()
                if self.batch_in_epoch == 0:
                    self.objective.start_epoch()
                for batch in self.objective.batches(self.epoch, start=self.batch_in_epoch):
                    rec = None
                    for unit in self.objective.train_units(batch):
                        rec = self._step(unit)
                    self.batch_in_epoch += 1
                    bar.update(self.epoch + 1, epochs, rec)
                    if rec is not None and not math.isfinite(rec["loss"]):
                        self.history.info["stopped"] = f"diverged: loss {rec['loss']} at step {self.global_step}"
                        stopped = True
                        break
                    if self._stop_requested:
                        self.history.info["interrupted"] = True
                        self.history.info["stopped"] = f"interrupted (Ctrl-C) at step {self.global_step}"
                        stopped = True
                        break
                    if max_steps is not None and self.global_step >= max_steps:
                        self.history.info["stopped"] = f"max_steps={max_steps} reached"
                        stopped = True
                        break
                    if self.checkpoint and self.checkpoint_every and self.global_step % self.checkpoint_every == 0:
                        self.save_checkpoint()
                if stopped:
                    break
                stopped = self._end_epoch(time.perf_counter() - t0)
                if self.checkpoint:
                    self.save_checkpoint()
        finally:
            bar.close()
            restore()
        if self._early_stopped and self.early_stopping.restore_best and self._best_state is not None:
            self.model.load_state_dict(self._best_state)
            self.history.info["restored_best"] = True
        self.history.info.setdefault("stopped", f"{self.epoch} epochs completed")
        if self.checkpoint:
            self.save_checkpoint()
        return self.history

    def _install_sigint(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum: int, frame: Any) -> None:
            self._stop_requested = True
            signal.signal(signal.SIGINT, previous)  # a second Ctrl-C acts at once
            print("\nbptt: stopping after this step (Ctrl-C again to abort at once)", file=sys.stderr)

        signal.signal(signal.SIGINT, handler)
        return lambda: signal.signal(signal.SIGINT, previous)


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
