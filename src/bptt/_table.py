"""Print tables with Rich (a core dependency), as plain aligned text where it cannot be imported."""

from __future__ import annotations

from typing import Sequence


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]], styles: Sequence[str | None] | None = None) -> None:
    """One table to stdout. ``styles`` gives a Rich style per row (e.g. "red" for a failure)."""
    cells = [[str(c) for c in r] for r in rows]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)]
        print(title)
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
        for r in cells:
            print("  ".join(v.ljust(w) for v, w in zip(r, widths)))
        print()
        return
    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c)
    for i, r in enumerate(cells):
        table.add_row(*r, style=(styles[i] if styles else None))
    Console(width=max(100, Console().width)).print(table)
