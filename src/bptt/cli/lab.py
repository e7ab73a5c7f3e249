"""``bptt explain``, ``bptt experiment NAME`` and ``bptt lab``."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .options import int_list, name_list, nonnegative_int, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``bptt explain``, ``bptt experiment`` and ``bptt lab`` to ``sub``."""
    e = sub.add_parser(
        "explain",
        help="trace a small RNN step by step: every a_t, h_t, o_t, y_t, every dL/dh_t, every gradient as a sum of per-step terms",
        description="By default the network of seed 000 (two tanh cells, nh=2, nx=2, ny=4, softmax + "
                    "cross-entropy per step, torch.manual_seed(0)); flags give another one.",
    )
    e.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="rnn", help="recurrent cell (default rnn)")
    e.add_argument("--nonlinearity", choices=["tanh", "sigmoid", "relu"], default="tanh", help="for --cell rnn")
    e.add_argument("--hidden", type=int, default=2, help="nh, hidden size (default 2)")
    e.add_argument("--inputs", type=int, default=2, help="nx, input size (default 2)")
    e.add_argument("--classes", type=int, default=4, help="ny, number of output classes (default 4)")
    e.add_argument("--steps", type=int, default=2, help="T, sequence length (default 2)")
    e.add_argument("--seed", type=nonnegative_int, default=0, help="torch.manual_seed for the values (default 0)")
    e.add_argument("--targets", type=int_list, default=None, help="comma-separated class per step, e.g. 2,0 (default: the seed's / drawn)")
    e.add_argument("--lang", choices=["en", "es"], default="en", help="language of the text (default en)")
    e.add_argument("--format", choices=["text", "md", "json"], default="text", help="plain text, Markdown or JSON (default text)")
    e.add_argument("--paths", action="store_true", help="add the per-(t, k) table of the literal sum over paths (seed 003)")
    e.add_argument("--decimals", type=nonnegative_int, default=4, help="digits shown (the seed prints 4); json is always full precision")
    e.add_argument("--float64", action="store_true", help="compute in float64 (the seed computes in float32)")
    e.add_argument("--numpy", action="store_true", help="draw the values with NumPy instead of torch")
    e.set_defaults(func=cmd_explain)

    x = sub.add_parser("experiment", help="run one experiment of the lab and write its plots and tables")
    x.add_argument("name", help="activations, regularization, batch-size, search, vanishing, lengths")
    _common_run_args(x)
    x.add_argument("--storage", default=None, help="search: an Optuna storage URL (e.g. sqlite:///study.db) to share a sweep")
    x.set_defaults(func=cmd_experiment)

    lab = sub.add_parser("lab", help="run every experiment (quick by default) and write one HTML report")
    _common_run_args(lab)
    lab.add_argument("--only", type=name_list, default=None, help="comma-separated subset of experiments")
    lab.add_argument("--jobs", type=positive_int, default=None, help="experiments run in parallel processes (default: min(2, CPUs))")
    lab.set_defaults(func=cmd_lab)


def _common_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=None, help="output directory (default: ./lab-report/ or ./experiments/NAME/)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--full", action="store_true", help="the thorough version (longer)")
    g.add_argument("--budget", choices=["tiny", "quick", "full"], default=None, help="tiny: seconds (for tests); quick: default")
    p.add_argument("--lang", choices=["en", "es"], default="en", help="language of the report (default en)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of every run (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _budget(args: argparse.Namespace) -> str:
    if args.full:
        return "full"
    return args.budget or "quick"


def cmd_explain(args: argparse.Namespace) -> int:
    """``bptt explain``: the network traced step by step, printed as text, Markdown or JSON."""
    from ..lab.explain import explain

    text = explain(
        cell=args.cell, nonlinearity=args.nonlinearity, hidden=args.hidden, inputs=args.inputs,
        classes=args.classes, steps=args.steps, seed=args.seed, targets=args.targets, fmt=args.format,
        lang=args.lang, paths=args.paths, backend="numpy" if args.numpy else "auto",
        decimals=args.decimals, dtype=np.float64 if args.float64 else np.float32,
    )
    sys.stdout.write(text)
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    """``bptt experiment NAME``: run one experiment, write its plots and tables, print its conclusion."""
    from ..lab.experiments import get_experiment
    from ..lab.report import write_experiment

    exp = get_experiment(args.name)
    out = args.out or f"experiments/{exp.NAME}"
    kwargs = {"storage": args.storage} if exp.NAME == "search" and args.storage else {}
    result = exp.run(budget=_budget(args), seed=args.seed, progress=not args.no_progress, **kwargs)
    paths = write_experiment(result, out, lang=args.lang)
    print(result.conclusion(args.lang))
    for p in paths:
        print(p)
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    """``bptt lab``: every experiment into one HTML report; exit status 1 if one of them failed."""
    from ..lab.report import run_lab

    report = run_lab(out=args.out or "lab-report", budget=_budget(args), lang=args.lang, seed=args.seed,
                     only=args.only, progress=not args.no_progress, jobs=args.jobs)
    summary = json.loads((report.parent / "data" / "summary.json").read_text(encoding="utf-8"))
    for name, err in summary["errors"].items():
        print(f"bptt lab: {name} failed: {err}", file=sys.stderr)
    print(f"{report}  ({summary['seconds']:.0f} s)")
    return 1 if summary["errors"] else 0
