"""The lab's one message catalogue: every word a learner sees, in English and Spanish.

    tr("es", "report.conclusion")                    -> "Conclusión"
    tr("en", "vanishing.c.learn_T", T=40, items=…)   -> a sentence with the numbers filled in
    label("es", "cell")                              -> a table header / plot label

Keys are dotted: ``report.*`` (the HTML report), ``explain.*`` (``bptt explain``),
``cli.*`` (command-line help), ``NAME.title`` / ``NAME.setup`` / ``NAME.c.*`` (each
experiment's title, set-up and conclusion sentences), ``fig.STEM`` and ``alt.STEM``
(each figure's caption and alt text, STEM its PNG file name), ``lbl.*`` (plot
titles, axes, legends), ``col.*`` (table headers), ``val.*`` (words inside tables)
and ``table.*`` (names of extra tables). Both languages have the same keys and the
same ``{placeholders}`` (a test checks it).
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from ._messages import MESSAGES  # the catalogue itself: one large literal, key -> (English, Spanish)

LANGS = ("en", "es")


def check_lang(lang: str) -> str:
    """``lang`` if it is a supported language, else ValueError naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"lang: expected one of {LANGS}, got {lang!r}")
    return lang


def tr(lang: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``lang``, with ``values`` filled into its ``{placeholders}``."""
    msg = MESSAGES[check_lang(lang)][key]
    return msg.format(**values) if values else msg


def has(lang: str, key: str) -> bool:
    """Whether ``key`` has a message in ``lang``."""
    return key in MESSAGES[check_lang(lang)]


def both(key: str) -> dict[str, str]:
    """{lang: message} for a key without placeholders (an experiment's TITLE/SETUP)."""
    return {lang: MESSAGES[lang][key] for lang in LANGS}


def label(lang: str, name: str) -> str:
    """A table header or plot label: ``col.NAME`` (the identifier itself if it has no entry)."""
    key = f"col.{name}"
    return MESSAGES[check_lang(lang)].get(key, name)


def value(lang: str, v: Any) -> Any:
    """A word inside a table ("none", "pad-end", "grid" …) in ``lang``; numbers and names pass through."""
    if isinstance(v, str):
        return MESSAGES[check_lang(lang)].get(f"val.{v}", v)
    return v


def plural(lang: str, n: float, key: str) -> str:
    """``n`` with the unit ``key`` (``unit.KEY`` / ``unit.KEY_pl``): "1 epoch", "3 epochs"."""
    one = abs(float(n) - 1.0) < 1e-12
    return f"{n:g} " + tr(lang, f"unit.{key}" if one else f"unit.{key}_pl")


def help_lang(argv: Sequence[str] | None = None) -> str:
    """The language of the command-line help: ``--lang es`` anywhere on the command line makes it Spanish.

    ``bptt lab --lang es --help`` prints the help in Spanish; argparse builds the help
    before it parses ``--lang``, so the flag is looked up on the raw command line.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv) and argv[i + 1] in LANGS:
            return argv[i + 1]
        if a.startswith("--lang=") and a[7:] in LANGS:
            return a[7:]
    return "en"
