"""Plain data for the feedback plots, recorded from the student's *own* functions.

Base checks (which run before any reference definition is substituted) call these, so a
plot on the feedback page always shows what the student's code does, next to the
grader's reference. Recording never changes a check's outcome: anything that goes wrong
(the function is missing, raises, returns something odd) just leaves the plot out.
"""

from __future__ import annotations

import math
from typing import Any

from . import oracles

TRACE_KEYS = oracles.TRACE_KEYS
MAX_POINTS = 200


def _floats(values: Any) -> list[float] | None:
    if not isinstance(values, list) or not 0 < len(values) <= MAX_POINTS:
        return None
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        return None
    return out if all(math.isfinite(v) for v in out) else None


def record_adam_trace(student, artifacts: dict) -> None:
    """``adam_trace()`` with the student's own ``adam_step``, and the reference rows."""
    if not student.has("adam_trace"):
        return
    try:
        rows = student.call("adam_trace")
    except Exception:  # a plot is left out, nothing else happens
        return
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return
    ws = _floats([r.get("w") for r in rows])
    ts = _floats([r.get("t", i + 1) for i, r in enumerate(rows)])
    if ws is None or ts is None:
        return
    artifacts["adam_trace"] = [{"t": t, "w": w} for t, w in zip(ts, ws, strict=True)]
    artifacts["adam_trace_reference"] = oracles.adam_trace_rows()


def record_flipnet_curves(student, artifacts: dict) -> None:
    """``compare_optimizers()`` with the student's own FlipNet and train_flipnet, and the
    reference curves of the chapter's run."""
    if not student.has("compare_optimizers"):
        return
    try:
        curves = student.probe("compare_optimizers", use_defaults=True)
    except Exception:  # a plot is left out, nothing else happens
        return
    if not isinstance(curves, dict):
        return
    mine = {k: _floats(curves.get(k)) for k in ("momentum", "adam")}
    if any(v is None for v in mine.values()):
        return
    artifacts["flipnet_curves"] = mine
    artifacts["flipnet_curves_reference"] = oracles.compare(30, 42, "cpu")
