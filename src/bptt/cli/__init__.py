"""The ``bptt`` command.

Each area of the library registers its own subcommands: a module listed in
``_COMMAND_MODULES`` exposes ``register(subparsers)`` that adds parsers whose
``func`` attribute takes the parsed namespace and returns an exit status (one
of :data:`EXIT_STATUSES`). A module that cannot be imported (an optional
dependency missing) simply contributes no commands.

:func:`main` turns every expected failure into one line on stderr,
``bptt COMMAND: error: ...``, naming the flag the user typed, and an exit
status; an exception with an ``exit_status`` attribute chooses its own. Set
``BPTT_TRACEBACK=1`` to get the Python traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import textwrap
import threading
from typing import Sequence

from .options import Parser, name_flags

_COMMAND_MODULES = (
    "bptt.cli.core",  # seeds, check
    "bptt.cli.train",  # train, sample
    "bptt.cli.lab",  # experiment, explain, lab
    "bptt.cli.bench",  # bench
)

OK, FAILED, USAGE, DIVERGED, SYSTEM, HANGUP, INTERRUPTED, CLOSED_PIPE, TERMINATED = 0, 1, 2, 3, 4, 129, 130, 141, 143
EXIT_STATUSES = {
    OK: "success",
    FAILED: "the command ran but its result failed: a gradient or seed mismatch, an experiment of the lab "
            "failed, an unexpected error",
    USAGE: "bad input: an invalid flag or value, a missing input file, a file that is not what the command reads",
    DIVERGED: "bptt train: the loss diverged (not finite); the last good checkpoint is kept",
    SYSTEM: "the system refused: a file could not be written or read (permission, disk full), "
            "an optional package is missing",
    HANGUP: "bptt train: hung up (SIGHUP, the terminal closed); handled like Ctrl-C",
    INTERRUPTED: "interrupted (Ctrl-C); bptt train saves its checkpoint first (--resume continues)",
    CLOSED_PIPE: "the reader of the output went away (bptt explain | head): stopped quietly",
    TERMINATED: "terminated (SIGTERM); handled like Ctrl-C",
}


def _epilog() -> str:
    rows = "\n".join(textwrap.fill(text, 92, initial_indent=f"  {code:<4} ", subsequent_indent=" " * 7)
                     for code, text in EXIT_STATUSES.items())
    where = textwrap.fill("Outputs go under the current directory: runs/TASK/ (train), experiments/NAME/ "
                          "(experiment), lab-report/ (lab), bench-results/ (bench); --out chooses another folder.", 92)
    return f"{where}\n\nExit statuses (errors are one line on stderr: 'bptt COMMAND: error: ...'):\n{rows}"


def _version() -> str:
    from .. import __version__

    return f"bptt {__version__}"


def build_parser() -> argparse.ArgumentParser:
    """The ``bptt`` argument parser: each command module present registers its subcommands."""
    parser = Parser(
        prog="bptt",
        description="Backpropagation and BPTT by hand, in NumPy: exact, fast, explained.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_version(), help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser,
                                help="one of these (bptt COMMAND --help for its options)")
    for name in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name or (exc.name and name.startswith(exc.name + ".")):
                continue  # that area is not built (yet)
            raise
        mod.register(sub)
    return parser


def _command_parser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ModuleNotFoundError) and exc.name and str(exc).startswith("No module named"):
        text = f"needs the package {exc.name!r}, which is not installed"
    elif isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        text = f"{exc.strerror}: {os.fspath(exc.filename)!r}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _status_of(exc: Exception) -> int:
    """The exit status of an exception a command raised (see EXIT_STATUSES)."""
    own = getattr(exc, "exit_status", None)
    if isinstance(own, int):
        return own
    if isinstance(exc, (ValueError, TypeError, FileNotFoundError, IsADirectoryError, NotADirectoryError)):
        return USAGE
    if isinstance(exc, (OSError, ImportError)):
        return SYSTEM
    return FAILED


def _silence_stdout() -> None:
    """After ``| head`` closed the pipe: nothing more to say, and no error when Python flushes at exit."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (captured in tests)
        pass


class _SigtermAsInterrupt:
    """While a command runs, SIGTERM does what Ctrl-C does (so a training run saves its checkpoint)."""

    def __init__(self) -> None:
        self.received = False
        self.previous = None

    def _handle(self, signum, frame) -> None:
        self.received = True
        on_int = signal.getsignal(signal.SIGINT)  # the trainer's own handler while it trains
        if callable(on_int):
            on_int(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    def __enter__(self) -> "_SigtermAsInterrupt":
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bptt`` command line; returns the exit status (documented in ``bptt --help``).

    Errors are one line on stderr, never a traceback.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2), already printed in one line
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return OK
    prog = f"bptt {args.command}"
    with _SigtermAsInterrupt() as term:
        try:
            status = int(args.func(args) or 0)
        except BrokenPipeError:
            _silence_stdout()
            return CLOSED_PIPE
        except KeyboardInterrupt:
            print(f"{prog}: {'terminated' if term.received else 'interrupted'}", file=sys.stderr)
            status = INTERRUPTED
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line and a status
            if os.environ.get("BPTT_TRACEBACK"):
                raise
            status = _status_of(exc)
            text = name_flags(_command_parser(parser, args.command), _one_line(exc))
            if status == FAILED and not hasattr(exc, "exit_status"):
                text = f"{type(exc).__name__}: {text}"  # unexpected: say what kind of error
            print(f"{prog}: error: {text}", file=sys.stderr)
    return TERMINATED if term.received and status == INTERRUPTED else status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
