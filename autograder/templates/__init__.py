"""Small HTML helpers shared by the feedback pages and the class report.

Every page is one self-contained file (inline CSS, plots as base64 PNG), so it
can be mailed or uploaded to an LMS as is. All text that reaches a page goes
through :func:`esc` unless it is a :class:`Markup` built here from escaped
parts: a submission's output can never inject HTML.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

STYLE = (Path(__file__).with_name("style.css")).read_text(encoding="utf-8")
MAX_TEXT_CHARS = 4000
MAX_PLOT_POINTS = 5000


class Markup(str):
    """A string that is already safe HTML (built from escaped parts)."""


def esc(value: Any, limit: int = MAX_TEXT_CHARS) -> Markup:
    """HTML-escape ``str(value)``, cut to ``limit`` characters; Markup passes through."""
    if isinstance(value, Markup):
        return value
    text = "" if value is None else str(value)
    if len(text) > limit + 40:
        text = text[:limit] + f" … [{len(text) - limit} more characters cut]"
    return Markup(html.escape(text, quote=True))


def fmt_points(value: float | None) -> str:
    """Points as short text: 12, 12.5, 3.333; '' for None."""
    if value is None:
        return ""
    return f"{round(float(value), 3):g}"


def score_class(points: float, max_points: float) -> str:
    """CSS class for a score: full, partial or zero."""
    if max_points > 0 and points >= max_points - 1e-9:
        return "full"
    return "partial" if points > 0 else "zero"


def tag(name: str, content: Any = "", **attrs: Any) -> Markup:
    """``<name attrs>content</name>`` with escaped attribute values and content."""
    parts = [name]
    for key, value in attrs.items():
        if value is None:
            continue
        parts.append(f'{key.rstrip("_").replace("_", "-")}="{esc(value)}"')
    return Markup(f"<{' '.join(parts)}>{esc(content)}</{name}>")


def join(parts: Iterable[Any], sep: str = "\n") -> Markup:
    """Concatenate escaped parts."""
    return Markup(sep.join(esc(p) for p in parts))


def table(headers: Sequence[Any], rows: Iterable[Sequence[Any]],
          numeric: Iterable[int] = ()) -> Markup:
    """An HTML table; cells are escaped unless Markup; ``numeric`` columns align right."""
    numeric = set(numeric)
    head = "".join(
        str(tag("th", h, class_="num" if i in numeric else None)) for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            str(tag("td", c, class_="num" if i in numeric else None)) for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def page(title: str, body: Markup, meta: dict[str, str] | None = None) -> str:
    """A complete HTML5 document with the kit's inline style."""
    metas = "".join(
        f'<meta name="{esc(k)}" content="{esc(v)}">\n' for k, v in (meta or {}).items()
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"{metas}<title>{esc(title)}</title>\n<style>\n{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def numbers(values: Any, limit: int = MAX_PLOT_POINTS) -> list[float] | None:
    """``values`` as a list of floats (None -> nan), or None when it is not a number list."""
    if not isinstance(values, (list, tuple)) or not values or len(values) > limit:
        return None
    out: list[float] = []
    for v in values:
        if v is None:
            out.append(math.nan)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v) if math.isfinite(float(v)) else math.nan)
        else:
            return None
    return out


def _png(fig: Any) -> Markup:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Markup(f'<img class="plot" alt="plot" src="data:image/png;base64,{data}">')


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def line_plot(series: Sequence[tuple[str, list[float], list[float], str]], title: str,
              xlabel: str, ylabel: str, logy: bool = False) -> Markup:
    """A PNG line plot; each series is (label, xs, ys, matplotlib format string)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    fig.subplots_adjust(left=0.11, right=0.98, top=0.9, bottom=0.15)
    try:
        for label, xs, ys, fmt in series:
            ax.plot(xs, ys, fmt, label=label, linewidth=1.6, markersize=4)
        if logy and all(y > 0 for _, _, ys, _ in series for y in ys if y == y):
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        return _png(fig)
    finally:
        plt.close(fig)


def histogram(values: list[float], title: str, xlabel: str, bins: int = 20,
              xmax: float | None = None) -> Markup:
    """A PNG histogram of ``values``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    fig.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.15)
    try:
        upper = max([*values, xmax or 0.0, 1.0])
        ax.hist(values, bins=bins, range=(0.0, upper), color="#4a7ab5", edgecolor="white")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("submissions")
        ax.grid(alpha=0.3, axis="y")
        return _png(fig)
    finally:
        plt.close(fig)
