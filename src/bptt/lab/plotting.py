"""matplotlib, headless (Agg), imported only when a plot is drawn (``pip install bptt[lab]``)."""

from __future__ import annotations

from pathlib import Path


def _plt():
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise ImportError("plots need matplotlib: pip install 'bptt[lab]'") from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def new_figure(rows: int = 1, cols: int = 1, width: float = 5.0, height: float = 3.5, **kw):
    """A figure and its axes as a flat list (always a list, even for one axis)."""
    plt = _plt()
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False, **kw)
    return fig, list(axes.ravel())


def save(fig, path: str | Path, tight: bool = True, dpi: int = 110) -> Path:
    """Write a PNG and close the figure (figures are never left open)."""
    plt = _plt()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
