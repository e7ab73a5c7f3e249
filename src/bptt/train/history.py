"""Training history: one row per optimizer step and one per epoch, as JSON, CSV and a PNG plot."""

from __future__ import annotations

import csv
import json
import math
import os
from typing import Any


class History:
    """``steps`` (step, epoch, loss, metric, grad_norm, lr) and ``epochs`` (train/val loss and metric, …).

    Row 0 of ``epochs`` (``epoch`` = 0) holds the validation numbers before
    any training, so a curve starts where the model started.
    """

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.epochs: list[dict[str, Any]] = []
        self.info: dict[str, Any] = {}

    def to_dict(self) -> dict[str, Any]:
        """``{'info', 'epochs', 'steps'}``: the history as plain lists and dicts."""
        return {"info": self.info, "epochs": self.epochs, "steps": self.steps}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "History":
        """The History written by :meth:`to_dict` (missing keys are empty)."""
        ok = isinstance(d, dict) and isinstance(d.get("info", {}), dict) and all(
            isinstance(d.get(k, []), list) and all(isinstance(r, dict) for r in d.get(k, [])) for k in ("steps", "epochs"))
        if not ok:
            raise ValueError("expected {'info': {...}, 'epochs': [rows], 'steps': [rows]}")
        h = cls()
        h.steps, h.epochs, h.info = list(d.get("steps", [])), list(d.get("epochs", [])), dict(d.get("info", {}))
        return h

    def to_json_string(self) -> str:
        """The history as strict JSON (NaN and ±inf written as null)."""
        return json.dumps(_clean(self.to_dict()), allow_nan=False)

    @classmethod
    def from_json_string(cls, s: str) -> "History":
        """The History written by :meth:`to_json_string`."""
        return cls.from_dict(json.loads(s))

    def last(self, key: str, default: Any = None) -> Any:
        """The last epoch's value of ``key`` that is not None, or ``default``."""
        for row in reversed(self.epochs):
            if row.get(key) is not None:
                return row[key]
        return default

    def save(self, folder: str | os.PathLike, stem: str = "history") -> dict[str, str]:
        """Write ``{stem}.json``, ``{stem}.csv`` (epochs) and ``{stem}_steps.csv``; return their paths."""
        folder = os.fspath(folder)
        os.makedirs(folder, exist_ok=True)
        paths = {
            "json": os.path.join(folder, f"{stem}.json"),
            "csv": os.path.join(folder, f"{stem}.csv"),
            "steps_csv": os.path.join(folder, f"{stem}_steps.csv"),
        }
        with open(paths["json"], "w", encoding="utf-8") as f:
            f.write(self.to_json_string())
        _write_csv(paths["csv"], self.epochs)
        _write_csv(paths["steps_csv"], self.steps)
        return paths

    def plot(self, path: str | os.PathLike, title: str = "") -> str:
        """Loss per step (thin) and per epoch (train and validation), metric on a second panel if any."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        metric = next((k[4:] for row in self.epochs for k in row if k.startswith("val_") and k != "val_loss"), None)
        ncols = 2 if metric else 1
        fig, axes = plt.subplots(1, ncols, figsize=(6.5 * ncols, 4.2), squeeze=False)
        ax = axes[0, 0]
        if self.steps:
            nb = float(self.info.get("steps_per_epoch") or 1)  # step -> fractional epoch on the x axis
            xs = [r["step"] / nb for r in self.steps]
            ax.plot(xs, [_y(r.get("loss")) for r in self.steps], lw=0.6, alpha=0.35, color="C0", label="train (per step)")
        ep = [r for r in self.epochs if r.get("train_loss") is not None]
        if ep:
            ax.plot([r["epoch"] for r in ep], [_y(r["train_loss"]) for r in ep], "o-", color="C0", ms=3, label="train (epoch mean)")
        va = [r for r in self.epochs if r.get("val_loss") is not None]
        if va:
            ax.plot([r["epoch"] for r in va], [_y(r["val_loss"]) for r in va], "s-", color="C1", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        positive = [_y(r["loss"]) for r in self.steps if _y(r.get("loss")) is not None and r["loss"] > 0]
        if positive and (max(positive) / max(min(positive), 1e-300) > 100 or max(positive) > 1e100):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_title(title or "loss")
        if metric:
            ax2 = axes[0, 1]
            for key, style, label in ((f"train_{metric}", "o-", "train"), (f"val_{metric}", "s-", "validation")):
                rows = [r for r in self.epochs if r.get(key) is not None]
                if rows:
                    ax2.plot([r["epoch"] for r in rows], [_y(r[key]) for r in rows], style, ms=3, label=label)
            ax2.set_xlabel("epoch")
            ax2.set_ylabel(metric)
            ax2.grid(alpha=0.3)
            ax2.legend()
        fig.tight_layout()
        path = os.fspath(path)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path


_Y_LIMIT = 1e250  # matplotlib's tick arithmetic overflows near the float64 maximum


def _y(v: Any) -> float | None:
    """A value as drawn: NaN/Inf left out (None), huge finite values capped at ±1e250."""
    if v is None or not math.isfinite(v):
        return None
    return max(-_Y_LIMIT, min(_Y_LIMIT, float(v)))


def _clean(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def _write_csv(path: str, rows: list[dict[str, Any]]) -> None:
    keys: list[str] = []
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r[k]) for k in keys})
