"""The ``bptt`` command.

Each area of the library registers its own subcommands: a module listed in
``_COMMAND_MODULES`` exposes ``register(subparsers)`` that adds parsers whose
``func`` attribute takes the parsed namespace and returns an exit code. A
module that cannot be imported (an optional dependency missing) simply
contributes no commands.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

_COMMAND_MODULES = (
    "bptt.cli.core",  # seeds, check
    "bptt.cli.train",  # train, sample
    "bptt.cli.lab",  # experiment, explain, lab
    "bptt.cli.bench",  # bench
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bptt",
        description="Backpropagation and BPTT by hand, in NumPy: exact, fast, explained.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name or (exc.name and name.startswith(exc.name + ".")):
                continue  # that area is not built (yet)
            raise
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"bptt {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
