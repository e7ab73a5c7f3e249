"""Character corpora for the char-level language model, and their batching.

Three sources, nothing downloaded and no third-party text in the package:

* ``"en"`` — English prose assembled at run time from the docstrings of the
  Python standard library installed on this machine (read with :mod:`ast`,
  never imported), so every machine has it;
* ``"es"`` — Spanish text written for bptt itself (``bptt/data/corpora/*.txt``):
  explanations of backpropagation and BPTT;
* any UTF-8 text file by path.

:class:`CharVocab` maps characters to ids and back. :func:`stream_batches`
cuts an encoded text into ``batch_size`` parallel streams and walks them in
chunks of ``seq_len`` steps, so the hidden state of stream b at the end of
one chunk is the right initial state for the next chunk of that same stream
(truncated BPTT over many streams at once, unlike min-char-rnn's single one).
"""

from __future__ import annotations

import ast
import functools
import os
import sysconfig
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .._checks import check_positive_int

Array = np.ndarray


class CharVocab:
    """Sorted distinct characters ↔ ids 0 … V−1.

    ``encode("abc") -> int64 array``, ``decode(ids) -> str``. Characters the
    vocabulary does not hold are a ``ValueError`` naming them.
    """

    def __init__(self, chars: Iterable[str]) -> None:
        chars = sorted(set(chars))
        if not chars:
            raise ValueError("chars: expected at least one character, got none")
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise TypeError(f"chars: expected single characters, got {c!r}")
        self.chars: list[str] = chars
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        """The vocabulary of the distinct characters of ``text`` (``TypeError`` if it is not a str)."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected str, got {type(text).__name__}")
        return cls(text)

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self.stoi

    def encode(self, text: str, argname: str = "text") -> Array:
        """Shapes: str of length L -> (L,) int64."""
        if not isinstance(text, str):
            raise TypeError(f"{argname}: expected str, got {type(text).__name__}")
        unknown = sorted({c for c in text if c not in self.stoi})
        if unknown:
            raise ValueError(f"{argname}: character(s) {''.join(unknown)!r} not in the vocabulary of {len(self)} characters")
        return np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids: Iterable[int]) -> str:
        """The string of the characters with these ids (``ValueError`` for an id outside the vocabulary)."""
        arr = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids)
        if arr.size and (arr.min() < 0 or arr.max() >= len(self)):
            raise ValueError(f"ids: expected values in [0, {len(self)}), got {arr.min()}..{arr.max()}")
        return "".join(self.chars[int(i)] for i in arr.ravel())

    def to_array(self) -> Array:
        """The characters as a unicode array (fits in an ``.npz`` without pickling)."""
        return np.array(self.chars, dtype="<U1")

    @classmethod
    def from_array(cls, arr: Array) -> "CharVocab":
        """The vocabulary saved by :meth:`to_array` (same characters, same ids)."""
        return cls([str(c) for c in np.asarray(arr).ravel()])

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} chars)"


# -- sources ---------------------------------------------------------------------------------
def load_text(path: str | os.PathLike) -> str:
    """Read a UTF-8 text file; a missing, empty, binary or non-UTF-8 file is one clear error."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"corpus: no such file {str(p)!r}")
    if p.is_dir():
        raise ValueError(f"corpus: {str(p)!r} is a directory, expected a UTF-8 text file")
    data = p.read_bytes()
    if not data.strip():
        raise ValueError(f"corpus: {str(p)!r} is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"corpus: {str(p)!r} is not UTF-8 text (undecodable byte at offset {exc.start})") from None
    if "\x00" in text:
        raise ValueError(f"corpus: {str(p)!r} contains NUL bytes; expected a text file")
    return text.replace("\r\n", "\n")


PROSE_LETTERS = 0.75  # a kept line of the "en" corpus is at least this fraction letters and spaces


def _is_prose_line(line: str) -> bool:
    """Blank, or mostly letters and spaces (``Decimal('NaN')``, ``{'a': [1, 2]}``, ``drwxr-xr-x 2 …`` are not)."""
    text = line.strip()
    return not text or sum(c.isalpha() or c == " " for c in text) >= PROSE_LETTERS * len(text)


def _prose(doc: str) -> str:
    """Keep a docstring's prose: drop doctest lines, indented (code) blocks and code-like lines
    (under :data:`PROSE_LETTERS` letters and spaces), squeeze blank lines."""
    lines = [
        ln.rstrip() for ln in doc.splitlines()
        if not ln.lstrip().startswith((">>>", "...")) and not ln.startswith(("    ", "\t")) and _is_prose_line(ln)
    ]
    text = "\n".join(lines).strip()
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def _stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__", "lib2to3", "ensurepip", "turtledemo"}
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("."))
        files.extend(Path(dirpath) / f for f in sorted(filenames) if f.endswith(".py"))
    return files


@functools.lru_cache(maxsize=4)
def english_corpus(max_chars: int = 1_000_000) -> str:
    """English prose from the standard library's docstrings (module, class, function), in file order.

    Sources are parsed with :mod:`ast` (nothing is imported or executed).
    Duplicates, doctest lines, indented blocks and code-like lines (under
    :data:`PROSE_LETTERS` letters and spaces) are dropped; at most ``max_chars`` characters.
    Falls back to the docstrings of the built-in types if no sources are installed.
    """
    max_chars = check_positive_int("max_chars", max_chars)
    parts: list[str] = []
    seen: set[str] = set()
    total = 0
    for f in _stdlib_files():
        try:
            tree = ast.parse(f.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, OSError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node, clean=True)
                if not doc:
                    continue
                doc = _prose(doc)
                if len(doc) < 40 or doc in seen or not doc.isascii():
                    continue
                seen.add(doc)
                parts.append(doc)
                total += len(doc) + 2
                if total >= max_chars:
                    return "\n\n".join(parts)[:max_chars]
    if not parts:  # no stdlib sources on this machine: the built-ins' docs are always there
        import builtins
        import inspect

        for name in sorted(dir(builtins)):
            doc = inspect.getdoc(getattr(builtins, name))
            if doc and doc not in seen:
                seen.add(doc)
                parts.append(doc)
    return "\n\n".join(parts)[:max_chars]


def spanish_corpus() -> str:
    """bptt's own Spanish explanatory text (``bptt/data/corpora/es*.txt``, written for the project)."""
    folder = Path(__file__).with_name("corpora")
    files = sorted(folder.glob("es*.txt"))
    if not files:
        raise FileNotFoundError(f"corpus: the Spanish corpus files are missing from {str(folder)!r} (broken install?)")
    return "\n\n".join(load_text(f).strip() for f in files) + "\n"


def load_corpus(spec: str | os.PathLike, max_chars: int | None = None) -> tuple[str, str]:
    """``"en"``, ``"es"`` or a path -> (text, a short name for logs)."""
    if not isinstance(spec, (str, os.PathLike)):
        raise TypeError(f"corpus: expected 'en', 'es' or a path, got {type(spec).__name__}")
    key = os.fspath(spec)
    if key == "en":
        text, name = english_corpus(max_chars or 1_000_000), "en (Python stdlib docstrings)"
    elif key == "es":
        text, name = spanish_corpus(), "es (bptt's Spanish texts)"
    else:
        text, name = load_text(key), os.path.basename(key)
    if max_chars is not None:
        text = text[: check_positive_int("max_chars", max_chars)]
    return text, name


# -- batching --------------------------------------------------------------------------------
def split_ids(ids: Array, val_fraction: float = 0.1) -> tuple[Array, Array]:
    """Contiguous split: the first (1 − val_fraction) for training, the rest for validation."""
    if not 0.0 < float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction: expected a float in (0, 1), got {val_fraction}")
    n_val = int(len(ids) * float(val_fraction))
    if n_val < 2 or len(ids) - n_val < 2:
        raise ValueError(f"val_fraction: {val_fraction} of {len(ids)} characters leaves fewer than 2 for training or validation")
    return ids[: len(ids) - n_val], ids[len(ids) - n_val:]


def streams(ids: Array, batch_size: int) -> tuple[Array, Array]:
    """Cut ``ids`` into ``batch_size`` contiguous streams of inputs and next-character targets.

    Shapes: ids (L,) -> x, y (batch_size, n) with n = (L − 1) // batch_size; y[b, t] = x[b, t+1]'s source.
    """
    B = check_positive_int("batch_size", batch_size)
    n = (len(ids) - 1) // B
    if n < 1:
        raise ValueError(f"batch_size: {B} streams need at least {B + 1} characters, the text has {len(ids)}")
    return ids[: n * B].reshape(B, n), ids[1: n * B + 1].reshape(B, n)


def num_chunks(ids: Array, batch_size: int, seq_len: int) -> int:
    """How many chunks :func:`stream_batches` yields: ⌈⌊(len(ids) − 1) / batch_size⌋ / seq_len⌉."""
    n = (len(ids) - 1) // batch_size
    return -(-n // seq_len)


def stream_batches(ids: Array, batch_size: int, seq_len: int, start: int = 0) -> Iterator[tuple[Array, Array]]:
    """Yield time-major chunks ``(x, y)`` of the parallel streams (skipping the first ``start``).

    Shapes: x, y (k, batch_size) int64, k = seq_len (the last chunk may be shorter).
    """
    k = check_positive_int("seq_len", seq_len)
    xs, ys = streams(ids, batch_size)
    n = xs.shape[1]
    for c in range(start, -(-n // k)):
        sl = slice(c * k, (c + 1) * k)
        yield np.ascontiguousarray(xs[:, sl].T), np.ascontiguousarray(ys[:, sl].T)
