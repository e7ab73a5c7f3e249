"""What every subcommand shares: value types, the parser class, and errors named by the flag typed.

Value syntax is checked by argparse ``type=`` converters below (they raise
``argparse.ArgumentTypeError``, so the message names the flag). Values that
are well-formed but wrong (``--hidden 0``) are checked by the library, whose
``ValueError`` names its own argument (``sizes[1]: ...``); :func:`name_flags`
turns that name into the flag the user typed, using the command's own parser
and the one table :data:`LIBRARY_NAMES`.
"""

from __future__ import annotations

import argparse
import re

# A library argument fed by a flag of another name -> the flags' dests that may feed it, in order of
# preference (the first that the command has wins). Names equal to a dest need no entry.
LIBRARY_NAMES: dict[str, tuple[str, ...]] = {
    "sizes": ("hidden", "hidden_size"),  # MLP([input, hidden, ..., output]): only the hidden ones come from flags
    "hidden_size": ("hidden",),
    "input_size": ("inputs",),
    "num_layers": ("layers",),
    "name": ("only",),  # an experiment's name (bptt lab --only)
    "path": ("checkpoint",),  # a checkpoint file (bptt sample CHECKPOINT)
    "clip_norm": ("clip",),
    "length": ("difficulty",),  # the task knob: sequence length, delay, min length or turns
    "delay": ("difficulty",),
    "min_length": ("difficulty",),
    "turns": ("difficulty",),
}

_LEADING_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?: ")


def _number(text: str, kind: type, low: float, inclusive: bool, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < low or (value == low and not inclusive) or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An int >= 1 (sizes, counts, ``--jobs``)."""
    return _number(text, int, 1, True, "an int >= 1")


def nonnegative_int(text: str) -> int:
    """argparse type: an int ≥ 0, else an error naming what was typed."""
    return _number(text, int, 0, True, "an int >= 0")


def nonnegative_float(text: str) -> float:
    """argparse type: a float ≥ 0, else an error naming what was typed."""
    return _number(text, float, 0.0, True, "a number >= 0")


def finite_float(text: str) -> float:
    """argparse type: a finite float, else an error naming what was typed."""
    return _number(text, float, -float("inf"), False, "a finite number")


def int_list(text: str) -> list[int]:
    """Comma-separated integers, e.g. ``5,2``."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers (e.g. 5,2), got {text!r}") from None
    return values


def name_list(text: str) -> list[str]:
    """Comma-separated names, none empty (which names are valid is the library's to say)."""
    names = [s.strip() for s in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


def _plain(text: str) -> str:
    """Help text without reST markup: ``x`` and :mod:`x` print as x."""
    text = re.sub(r":[a-z]+:`~?([^`]*)`", r"\1", text)
    return re.sub(r"``([^`]*)``", r"\1", text)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``bptt train: error: --hidden: ...``) and plain-text help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {re.sub(r'^argument ', '', message)}\n")

    def format_help(self) -> str:
        """The help text without terminal styling."""
        return _plain(super().format_help())


def flag_of(parser: argparse.ArgumentParser, dest: str) -> str | None:
    """The flag (``--hidden-size``) or positional name (``checkpoint``) that sets ``dest``."""
    for action in parser._actions:
        if action.dest == dest and not isinstance(action, argparse._HelpAction):
            longs = [s for s in action.option_strings if s.startswith("--")]
            return (longs or action.option_strings or [action.metavar or action.dest])[0]
    return None


def name_flags(parser: argparse.ArgumentParser, message: str) -> str:
    """``sizes[1]: expected ...`` -> ``--hidden: expected ...`` for the command ``parser`` parses."""
    m = _LEADING_NAME.match(message)
    if not m:
        return message
    name = m.group(1)
    for dest in (name, *LIBRARY_NAMES.get(name, ())):
        flag = flag_of(parser, dest)
        if flag is not None:
            return f"{flag}: {message[m.end():]}"
    return message
