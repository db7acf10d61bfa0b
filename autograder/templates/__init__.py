"""The pages' templates (Jinja2, autoescaped) and the small helpers they share.

Every page is one self-contained file (inline CSS, plots as base64 PNG), so it can
be mailed or uploaded to an LMS as is. The Python side passes plain data to
:func:`render`; the templates in this folder (``*.html.j2``) lay it out. Autoescape
is on for every template, so text that came from a submission can never inject
HTML; only :class:`Markup` built here (plots, inline code) passes as it is. The
``md`` filter renders the inline Markdown of check messages (`code`, **bold**) after
escaping.
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

FOLDER = Path(__file__).resolve().parent
STYLE = (FOLDER / "style.css").read_text(encoding="utf-8")
MAX_TEXT_CHARS = 4000
MAX_PLOT_POINTS = 5000
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"(?<![\w*])\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*(?![\w*])")


def cut(value: Any, limit: int = MAX_TEXT_CHARS) -> str:
    """``str(value)`` cut to ``limit`` characters, saying how much was cut."""
    text = "" if value is None else str(value)
    if len(text) > limit + 40:
        text = text[:limit] + f" … [{len(text) - limit} more characters cut]"
    return text


def inline_markdown(value: Any, limit: int = MAX_TEXT_CHARS) -> Markup:
    """Escaped text with Markdown's inline `code` and **bold** rendered as HTML."""
    html = str(escape(cut(value, limit)))
    html = _CODE.sub(r"<code>\1</code>", html)
    return Markup(_BOLD.sub(r"<strong>\1</strong>", html))


def plain_text(value: Any) -> str:
    """Text with Markdown's inline `code` and **bold** marks taken out (for plain text)."""
    return _BOLD.sub(r"\1", _CODE.sub(r"\1", "" if value is None else str(value)))


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


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment: this folder's templates, autoescaped, strict."""
    env = Environment(
        loader=FileSystemLoader(str(FOLDER)),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=inline_markdown, points=fmt_points, cut=cut, score_class=lambda pair: score_class(*pair)
    )
    env.globals["style"] = Markup(STYLE)
    return env


def render(template: str, **data: Any) -> str:
    """Render ``template`` (a file of this folder) with ``data``."""
    return environment().get_template(template).render(**data)


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


def line_plot(
    series: Sequence[tuple[str, list[float], list[float], str]],
    title: str,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
) -> Markup:
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


def histogram(
    values: list[float], title: str, xlabel: str, bins: int = 20, xmax: float | None = None
) -> Markup:
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
