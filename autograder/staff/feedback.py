"""One feedback page per submission: ``grades/feedback/<submission>.html``.

A student reads it without help: the total, the score of every question, each
failed check with its message, the plots the assignment declares (their own
results against the reference), and the cells that did not run. It shows result
messages only (never hidden inputs or check code), and every piece of text
that came from the submission is escaped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

from autograder.assignment.model import Plot, current
from autograder.inside.probes import NOT_DEFINED, NOT_IMPLEMENTED
from autograder.results import QuestionResult, SubmissionResult
from autograder.staff.atomic import write_text_atomic
from autograder.templates import (
    Markup,
    esc,
    fmt_points,
    join,
    line_plot,
    numbers,
    page,
    score_class,
    table,
    tag,
)

FEEDBACK_VERSION = "5"
"""Bumped when the page layout changes, so that cached pages are rebuilt."""
SOURCE_META = "autograder-source"


def feedback_name(submission: str) -> str:
    """The feedback file name of a submission."""
    return f"{submission}.html"


def feedback_href(submission: str) -> str:
    """A relative link (from ``grades/``) to the feedback page."""
    return "feedback/" + quote(feedback_name(submission))


def _trace_series(trace: Any, x: str, y: str) -> tuple[list[float], list[float]] | None:
    """(xs, ys) from a trace: a list of dicts with keys ``x`` and ``y``, or of numbers."""
    if isinstance(trace, (list, tuple)) and trace and all(isinstance(r, dict) for r in trace):
        ys = numbers([r.get(y) for r in trace])
        xs = numbers([r.get(x, i + 1) for i, r in enumerate(trace)])
        return (xs, ys) if ys is not None and xs is not None else None
    ys = numbers(trace)
    return (list(range(1, len(ys) + 1)), ys) if ys is not None else None


def _same(a: list[float] | None, b: list[float] | None, rtol: float = 1e-6) -> bool:
    """Whether two curves agree (then a plot shows nothing new and is left out)."""
    if a is None or b is None or len(a) != len(b):
        return False
    return all(abs(x - y) <= rtol * max(1.0, abs(y)) for x, y in zip(a, b, strict=True))


def trace_plot(plot: Plot, artifacts: dict[str, Any]) -> tuple[Markup, bool]:
    """The student's trace against the reference, and whether they match (then no plot:
    it helps only where the lines part)."""
    ref = _trace_series(artifacts.get(plot.reference), plot.x, plot.y)
    mine = _trace_series(artifacts.get(plot.artifact), plot.x, plot.y)
    if not mine:
        return Markup(""), False
    if ref and _same(mine[1], ref[1]):
        return Markup(""), True
    series = [("reference", ref[0], ref[1], "k--o")] if ref else []
    series.append(("yours", mine[0], mine[1], "C1-s"))
    return line_plot(series, plot.title, plot.xlabel, plot.ylabel), False


def curves_plot(plot: Plot, artifacts: dict[str, Any]) -> tuple[Markup, bool]:
    """Named curves (name -> values) against the reference ones, and whether they match."""
    mine = artifacts.get(plot.artifact)
    ref = artifacts.get(plot.reference)
    if not isinstance(mine, dict):
        return Markup(""), False
    ref = ref if isinstance(ref, dict) else {}
    if ref and set(ref) == set(mine) and all(_same(numbers(mine[k]), numbers(ref[k]))
                                             for k in ref):
        return Markup(""), True
    series = []
    for i, name in enumerate(sorted(set(mine) | set(ref), key=str)[:6]):
        color = f"C{i}"
        ref_ys = numbers(ref.get(name))
        my_ys = numbers(mine.get(name))
        if ref_ys:
            series.append((f"reference {name}", list(range(1, len(ref_ys) + 1)), ref_ys,
                           f"{color}--"))
        if my_ys:
            series.append((f"your {name}", list(range(1, len(my_ys) + 1)), my_ys, f"{color}-"))
    if not any(label.startswith("your") for label, *_ in series):
        return Markup(""), False
    return line_plot(series, plot.title, plot.xlabel, plot.ylabel), False


DRAW = {"trace": trace_plot, "curves": curves_plot}


def plots(artifacts: dict[str, Any]) -> list[Markup]:
    """The assignment's declared plots (``[[plots]]`` of its file), for this result."""
    parts: list[Markup] = []
    for plot in current().plots:
        draw = DRAW.get(plot.kind)
        if draw is None:
            continue
        image, matches = draw(plot, artifacts)
        if image:
            parts += [tag("h2", plot.heading or plot.title), tag("p", plot.note, class_="muted"),
                      image]
        elif matches:
            parts.append(tag("p", plot.matches or f"{plot.title}: yours matches the reference.",
                             class_="muted"))
    return parts


def _manual_note(manual_score: float | None) -> Markup:
    if manual_score is None:
        return tag("p", "Your free-response answer is scored by course staff and has not been "
                   "scored yet; the total above does not include it yet.", class_="muted")
    return tag("p", f"The total includes {fmt_points(manual_score)} points that course staff "
               "gave your free-response answer.", class_="muted")


def _late_note(result: SubmissionResult) -> Markup:
    """The late policy's line (the total above already has the penalty taken off)."""
    if not result.late_message:
        return Markup("")
    return tag("p", f"Late: {result.late_message}. The total above is after taking "
               f"{fmt_points(result.late_penalty)} points off.", class_="partial")


def _unwritten(qr: QuestionResult) -> bool:
    """A question with no points whose every failed check says its code is not written."""
    failed = [c for c in qr.checks if not c.passed]
    return bool(failed) and qr.points == 0 and all(
        NOT_IMPLEMENTED in c.message or NOT_DEFINED in c.message for c in failed)


def _has_section(qr: QuestionResult) -> bool:
    """Whether the question gets its own part under "What to fix" (its note goes there)."""
    return any(not c.passed for c in qr.checks) and not _unwritten(qr)


def _question_rows(result: SubmissionResult) -> list[list[Any]]:
    rows = []
    for q in current().questions:
        qr = result.questions.get(q.id)
        if qr is None:
            rows.append([q.id + (" (bonus)" if q.bonus else ""), "", fmt_points(q.points),
                         "not graded", ""])
            continue
        passed = sum(1 for c in qr.checks if c.passed)
        css = score_class(qr.points, qr.max_points)
        rows.append([
            q.id + (" (bonus)" if q.bonus else ""),
            tag("span", fmt_points(qr.points), class_=css),
            fmt_points(qr.max_points),
            f"{passed} of {len(qr.checks)}" if qr.checks else "",
            qr.note if result.status == "graded" and not _has_section(qr)
            and not _unwritten(qr) else "",
        ])
    return rows


def _failures(result: SubmissionResult) -> Markup:
    if result.status != "graded":
        return tag("p", "Nothing could be checked; see the message at the top.", class_="muted")
    parts: list[Any] = []
    unwritten = []
    for q in current().questions:
        qr = result.questions.get(q.id)
        if qr is None:
            continue
        if _unwritten(qr):
            names = sorted({c.message.split("`")[1] for c in qr.checks
                            if not c.passed and c.message.count("`") >= 2})
            unwritten.append(Markup(f"<li>{esc(q.id)} ({fmt_points(qr.max_points)} points): "
                                    f"{esc(', '.join(names) or 'its code')} not written yet"
                                    "</li>"))
            continue
        if not _has_section(qr):
            continue
        parts.append(tag("h3", f"{q.id}: {fmt_points(qr.points)} of "
                               f"{fmt_points(qr.max_points)} points"))
        if qr.note:
            parts.append(tag("p", qr.note, class_="muted"))
        items = [_failure_line(group) for group in _same_message(qr)]
        parts.append(Markup(f'<ul class="checks">{join(items)}</ul>'))
    if unwritten:
        parts.append(tag("h3", "Not written yet"))
        parts.append(Markup(f'<ul class="checks">{join(unwritten)}</ul>'))
    if not parts:
        return tag("p", "Every check passed. Well done!", class_="full")
    return join(parts)


def _same_message(qr: QuestionResult) -> list[list[Any]]:
    """The question's failed checks, those with the very same message together."""
    groups: dict[str, list[Any]] = {}
    for check in qr.checks:
        if not check.passed:
            groups.setdefault(check.message or "This check did not pass.", []).append(check)
    return list(groups.values())


def _failure_line(checks: list[Any]) -> Markup:
    text = checks[0].message or "This check did not pass."
    lost = sum(c.max_points - c.points for c in checks)
    line = [esc(text)]
    if len(checks) > 1:
        line.append(esc(f" ({len(checks)} checks)"))
    if lost > 0:
        line.append(esc(f" (−{fmt_points(lost)} points)"))
    if checks[0].diagnosis:
        line.append(Markup(" "))
        line.append(tag("code", checks[0].diagnosis, class_="diag",
                        title="the kind of mistake we recognised"))
    return Markup(f"<li>{join(line, '')}</li>")


def _cells(result: SubmissionResult) -> Markup:
    bad = [c for c in result.cells if c.status not in ("ok", "skipped")]
    if not bad:
        return Markup("")
    rows = [[c.index + 1, c.status, f"{c.seconds:.1f}",
             tag("pre", (c.message or c.output or "").strip()[-1500:])] for c in bad]
    return join([
        tag("h2", "Cells that did not run cleanly"),
        tag("p", "Cells are numbered from the top of the notebook, markdown cells included. "
                 "A failing cell can make later questions fail too: fix the first one first.",
            class_="muted"),
        table(["cell", "status", "seconds", "message"], rows, numeric=(0, 2)),
    ])


def render_feedback(result: SubmissionResult, manual_score: float | None = None,
                    meta: dict[str, str] | None = None) -> str:
    """The feedback page of one result, as HTML text."""
    total = result.total + (manual_score or 0.0) - result.late_penalty
    assignment = current()
    bonus = sum(result.questions[q].points for q in assignment.bonus_ids
                if q in result.questions)
    status_box: Markup = Markup("")
    if result.status != "graded":
        headline = {
            "invalid": "Your file could not be read as a notebook, so nothing could be graded.",
            "error": "The grader failed on your notebook. This is not your fault: course "
                     "staff will regrade it.",
        }.get(result.status, f"Status: {result.status}")
        status_box = Markup(f'<div class="box bad">{tag("p", headline)}'
                            f'{tag("pre", result.message) if result.message else ""}</div>')
    elif result.message:
        status_box = Markup(f'<div class="box warn">{tag("p", result.message)}</div>')
    summary = join([
        tag("h1", f"Feedback for {result.submission}"),
        tag("p", f"Assignment {assignment.id}" + (f": {assignment.title}" if assignment.title
                                                   else ""), class_="muted"),
        Markup('<div class="box">'),
        tag("p", f"Total: {fmt_points(total)} of {fmt_points(result.max_total)} points"
                 + (f" (including {fmt_points(bonus)} of {assignment.bonus_points} bonus "
                    "points)" if bonus > 0 else "")),
        _manual_note(manual_score),
        _late_note(result),
        Markup("</div>"),
        status_box,
    ])
    drawn = plots(result.artifacts)
    body = join([
        summary,
        tag("h2", "Score per question"),
        table(["question", "points", "of", "checks passed", "note"], _question_rows(result),
              numeric=(1, 2)),
        tag("h2", "What to fix"),
        _failures(result),
        *drawn,
        _cells(result),
        tag("h2", "Free response"),
        tag("pre", result.free_response.strip()) if result.free_response.strip()
        else tag("p", "No answer was found in the free-response cell.", class_="muted"),
        _manual_note(manual_score),
        tag("p", f"Graded with seed {result.seed} on {result.device}.", class_="muted"),
    ])
    return page(f"Feedback: {result.submission}", body, meta)


def source_key(result_json: str, manual_score: float | None) -> str:
    """What a page depends on: the result, the manual score and the layout version."""
    text = f"{FEEDBACK_VERSION}\n{manual_score!r}\n{result_json}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_feedback(result: SubmissionResult, folder: str | Path,
                   manual_score: float | None = None, result_json: str | None = None) -> bool:
    """Write the page unless an identical one is there; True when it was (re)written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / feedback_name(result.submission)
    key = source_key(result_json if result_json is not None else result.to_json(), manual_score)
    marker = f'<meta name="{SOURCE_META}" content="{key}">'
    if target.exists():
        with open(target, encoding="utf-8", errors="replace") as handle:
            if marker in handle.read(600):
                return False
    write_text_atomic(target, render_feedback(result, manual_score, {SOURCE_META: key}))
    return True
