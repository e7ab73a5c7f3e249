"""``bptt explain``, ``bptt experiment NAME`` and ``bptt lab``: flags only; the work is in :mod:`bptt.lab.report`.

Exit status of ``lab`` and ``experiment``: 0 every experiment ran; 1 some experiment failed
(the others' results are written); 2 bad input; 4 a package they need is missing
(checked before any work starts). Help texts come from :mod:`bptt.lab.i18n`
(``--lang es --help`` prints them in Spanish).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from .options import int_list, name_list, nonnegative_int, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``bptt explain``, ``bptt experiment`` and ``bptt lab`` to ``sub``."""
    from ..lab.experiments.base import EXPERIMENT_MODULES
    from ..lab.i18n import help_lang, tr

    lang = help_lang()  # ``--lang es --help`` prints this help in Spanish

    def H(key: str, **kw) -> str:
        return tr(lang, "cli." + key, **kw)

    e = _parser(sub, "explain", lang, help=H("explain"), description=H("explain_desc"))
    e.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="rnn", help=H("cell"))
    e.add_argument("--nonlinearity", choices=["tanh", "sigmoid", "relu"], default="tanh", help=H("nonlinearity"))
    e.add_argument("--hidden", type=int, default=2, help=H("hidden"))
    e.add_argument("--inputs", type=int, default=2, help=H("inputs"))
    e.add_argument("--classes", type=int, default=4, help=H("classes"))
    e.add_argument("--steps", type=int, default=2, help=H("steps"))
    e.add_argument("--seed", type=nonnegative_int, default=0, help=H("seed_explain"))
    e.add_argument("--targets", type=int_list, default=None, help=H("targets"))
    e.add_argument("--lang", choices=["en", "es"], default="en", help=H("lang"))
    e.add_argument("--format", choices=["text", "md", "json"], default="text", help=H("format"))
    e.add_argument("--paths", action="store_true", help=H("paths"))
    e.add_argument("--decimals", type=nonnegative_int, default=4, help=H("decimals"))
    e.add_argument("--float64", action="store_true", help=H("float64"))
    e.add_argument("--numpy", action="store_true", help=H("numpy"))
    e.set_defaults(func=cmd_explain)

    x = _parser(sub, "experiment", lang, help=H("experiment"), description=H("experiment"))
    x.add_argument("name", help=H("experiment_name", names=", ".join(EXPERIMENT_MODULES)))
    _common_run_args(x, H, H("out_experiment"))
    x.add_argument("--storage", default=None, help=H("storage"))
    x.set_defaults(func=cmd_experiment)

    lab = _parser(sub, "lab", lang, help=H("lab"), description=H("lab"))
    _common_run_args(lab, H, H("out_lab"))
    lab.add_argument("--only", type=name_list, default=None, help=H("only"))
    lab.add_argument("--jobs", type=positive_int, default=None, help=H("jobs"))
    lab.set_defaults(func=cmd_lab)


def _parser(sub: argparse._SubParsersAction, name: str, lang: str, **kw) -> argparse.ArgumentParser:
    """A subcommand whose own help words (usage, options, -h) are in ``lang`` too."""
    from ..lab.i18n import tr

    class Formatter(argparse.HelpFormatter):
        def add_usage(self, usage, actions, groups, prefix=None):
            return super().add_usage(usage, actions, groups, prefix=tr(lang, "cli.usage"))

    p = sub.add_parser(name, formatter_class=Formatter, add_help=False, **kw)
    p._optionals.title = tr(lang, "cli.options")
    p._positionals.title = tr(lang, "cli.positionals")
    p.add_argument("-h", "--help", action="help", help=tr(lang, "cli.help"))
    return p


def _common_run_args(p: argparse.ArgumentParser, H, out_help: str) -> None:
    p.add_argument("--out", default=None, help=out_help)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--full", action="store_true", help=H("full"))
    g.add_argument("--budget", choices=["tiny", "quick", "full"], default=None, help=H("budget"))
    p.add_argument("--lang", choices=["en", "es"], default="en", help=H("lang"))
    p.add_argument("--seed", type=nonnegative_int, default=0, help=H("seed"))
    p.add_argument("--no-progress", action="store_true", help=H("no_progress"))


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
    from ..lab.report import run_experiment_command

    return run_experiment_command(args.name, out=args.out, budget=_budget(args), lang=args.lang, seed=args.seed,
                                  progress=not args.no_progress, storage=args.storage)


def cmd_lab(args: argparse.Namespace) -> int:
    """``bptt lab``: every experiment into one HTML report; exit status 1 if one of them failed."""
    from ..lab.report import run_lab_command

    return run_lab_command(out=args.out or "lab-report", budget=_budget(args), lang=args.lang, seed=args.seed,
                           only=args.only, progress=not args.no_progress, jobs=args.jobs)
