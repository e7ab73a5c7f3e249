"""matplotlib, headless (Agg), imported only when a plot is drawn.

Every figure of the lab goes through :func:`save`; texts on a figure (titles, axes,
legends) come from :mod:`bptt.lab.i18n`. :func:`figure_texts` lists them (the
Spanish-output test reads it).
"""

from __future__ import annotations

from pathlib import Path


def _plt():
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise ImportError("plots need matplotlib: pip install matplotlib") from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def new_figure(rows: int = 1, cols: int = 1, width: float = 5.0, height: float = 3.5, **kw):
    """A figure and its axes as a flat list (always a list, even for one axis)."""
    plt = _plt()
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False, **kw)
    return fig, list(axes.ravel())


def legend(fig, ax, ncol: int = 4, title: str | None = None) -> None:
    """One legend for the whole figure, above the axes (for rows of small panels sharing their curves)."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=ncol, fontsize=9, title=title, title_fontsize=9,
               frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig._bptt_top = 1 - (0.6 if title else 0.4) / fig.get_figheight()  # room kept above the axes by save()


def log_axis(ax, axis: str = "y") -> None:
    """A log scale with plain tick labels (0.05, 0.1, 0.2, 0.5, 1, 2 …) instead of 5×10⁻² and minor-tick clutter."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    getattr(ax, f"set_{axis}scale")("log")
    a = ax.yaxis if axis == "y" else ax.xaxis
    a.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    a.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    a.set_minor_formatter(NullFormatter())


def figure_texts(fig) -> list[str]:
    """Every non-empty text drawn on ``fig``: titles, axis labels, tick labels, legends, annotations."""
    import matplotlib.text

    fig.canvas.draw()  # tick labels exist only once drawn
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]


#: when a list, every figure's texts are appended to it by :func:`save` (tests read them)
COLLECT: list | None = None


def save(fig, path: str | Path, tight: bool = True, dpi: int = 110) -> Path:
    """Write a PNG and close the figure (figures are never left open)."""
    plt = _plt()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout(rect=(0, 0, 1, getattr(fig, "_bptt_top", 1.0)))
    if COLLECT is not None:
        COLLECT.append((path.name, figure_texts(fig)))
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
