"""One feedback page per submission: ``grades/feedback/<submission>.html``.

A student reads it without help: the headline (core score, extra credit, late
penalty: the same line as everywhere), the score of every question, each failed
check with its message, the plots the assignment declares (their own results
against the reference), and the cells that did not run, a cell that did not compile
named with its line. It shows result messages only (never hidden inputs, check
names or the seed), rendered from ``templates/feedback.html.j2`` (autoescaped: text
from the submission is never HTML).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

from autograder.assignment.model import Assignment, Plot
from autograder.checks.broken_cells import cell_problems
from autograder.inside.probes import NOT_DEFINED, NOT_IMPLEMENTED
from autograder.results import QuestionResult, SubmissionResult, unconfined_banner
from autograder.staff.atomic import write_text_atomic
from autograder.staff.file_names import file_stem
from autograder.staff.final_grades import final_grade
from autograder.staff.late import Lateness
from autograder.templates import Markup, fmt_points, line_plot, numbers, render, score_class

FEEDBACK_VERSION = "6"
"""Bumped when the page layout changes, so that cached pages are rebuilt."""
SOURCE_META = "autograder-source"


def feedback_name(submission: str) -> str:
    """The feedback file name of a submission (a bounded, safe name: see ``file_names``)."""
    return f"{file_stem(submission)}.html"


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
    if ref and set(ref) == set(mine) and all(_same(numbers(mine[k]), numbers(ref[k])) for k in ref):
        return Markup(""), True
    series = []
    for i, name in enumerate(sorted(set(mine) | set(ref), key=str)[:6]):
        color = f"C{i}"
        ref_ys = numbers(ref.get(name))
        my_ys = numbers(mine.get(name))
        if ref_ys:
            series.append(
                (f"reference {name}", list(range(1, len(ref_ys) + 1)), ref_ys, f"{color}--")
            )
        if my_ys:
            series.append((f"your {name}", list(range(1, len(my_ys) + 1)), my_ys, f"{color}-"))
    if not any(label.startswith("your") for label, *_ in series):
        return Markup(""), False
    return line_plot(series, plot.title, plot.xlabel, plot.ylabel), False


DRAW = {"trace": trace_plot, "curves": curves_plot}


def plots(artifacts: dict[str, Any], assignment: Assignment) -> list[dict[str, Any]]:
    """The assignment's declared plots (``[[plots]]`` of its file), for this result: each
    with its ``image`` (the student's curve against the reference), or with ``matches``
    (the sentence saying they agree)."""
    parts: list[dict[str, Any]] = []
    for plot in assignment.plots:
        draw = DRAW.get(plot.kind)
        if draw is None:
            continue
        image, matches = draw(plot, artifacts)
        if image:
            parts.append(
                {
                    "heading": plot.heading or plot.title,
                    "note": plot.note,
                    "image": image,
                    "matches": "",
                }
            )
        elif matches:
            parts.append(
                {
                    "heading": "",
                    "note": "",
                    "image": None,
                    "matches": plot.matches or f"{plot.title}: yours matches the reference.",
                }
            )
    return parts


def _manual_note(manual_score: float | None, separate: bool) -> str:
    where = "as extra credit in its own column" if separate else "as extra credit in the total"
    if manual_score is None:
        return (
            "Your free-response answer is scored by course staff and has not been "
            f"scored yet; it will count {where}."
        )
    return (
        f"Course staff gave your free-response answer {fmt_points(manual_score)} "
        f"points, counted {where}."
    )


def _late_note(result: SubmissionResult) -> str:
    """The late policy's line (the headline above already has the penalty taken off)."""
    if not result.late_message:
        return ""
    return f"Late: {result.late_message}."


def _unwritten(qr: QuestionResult) -> bool:
    """A question with no points whose every failed check says its code is not written."""
    failed = [c for c in qr.checks if not c.passed]
    return (
        bool(failed)
        and qr.points == 0
        and all(NOT_IMPLEMENTED in c.message or NOT_DEFINED in c.message for c in failed)
    )


def _has_section(qr: QuestionResult) -> bool:
    """Whether the question gets its own part under "What to fix" (its note goes there)."""
    return any(not c.passed for c in qr.checks) and not _unwritten(qr)


def _question_rows(result: SubmissionResult, assignment: Assignment) -> list[dict[str, Any]]:
    rows = []
    for q in assignment.questions:
        qr = result.questions.get(q.id)
        if qr is None:
            rows.append(
                {
                    "id": q.id,
                    "bonus": q.bonus,
                    "points": None,
                    "css": "",
                    "max_points": q.points,
                    "passed": "",
                    "note": "not graded",
                }
            )
            continue
        passed = sum(1 for c in qr.checks if c.passed)
        rows.append(
            {
                "id": q.id,
                "bonus": q.bonus,
                "points": qr.points,
                "css": score_class(qr.points, qr.max_points),
                "max_points": qr.max_points,
                "passed": f"{passed} of {len(qr.checks)}" if qr.checks else "",
                "note": qr.note
                if result.status == "graded" and not _has_section(qr) and not _unwritten(qr)
                else "",
            }
        )
    return rows


def _sections(
    result: SubmissionResult, assignment: Assignment
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The questions with failed checks (each failure once, with the checks it covers and
    the points lost), and the questions whose code is not written."""
    sections, unwritten = [], []
    for q in assignment.questions:
        qr = result.questions.get(q.id)
        if qr is None:
            continue
        if _unwritten(qr):
            names = sorted(
                {
                    c.message.split("`")[1]
                    for c in qr.checks
                    if not c.passed and c.message.count("`") >= 2
                }
            )
            unwritten.append(
                {
                    "id": q.id,
                    "max_points": qr.max_points,
                    "names": ", ".join(f"`{n}`" for n in names) or "its code",
                }
            )
        elif _has_section(qr):
            failures = [
                {
                    "message": group[0].message or "This check did not pass.",
                    "count": len(group),
                    "lost": sum(c.max_points - c.points for c in group),
                    "diagnosis": group[0].diagnosis,
                }
                for group in _same_message(qr)
            ]
            shown = {f["message"].casefold() for f in failures}
            note = "" if qr.note.casefold() in shown else qr.note
            sections.append(
                {
                    "id": q.id,
                    "points": qr.points,
                    "max_points": qr.max_points,
                    "note": note,
                    "failures": failures,
                }
            )
    return sections, unwritten


def _same_message(qr: QuestionResult) -> list[list[Any]]:
    """The question's failed checks, those with the very same message together."""
    groups: dict[str, list[Any]] = {}
    for check in qr.checks:
        if not check.passed:
            groups.setdefault(check.message or "This check did not pass.", []).append(check)
    return list(groups.values())


def _cells(result: SubmissionResult) -> list[dict[str, Any]]:
    return [
        {
            "number": c.index + 1,
            "status": c.status,
            "seconds": f"{c.seconds:.1f}",
            "text": (c.message or c.output or "").strip()[-1500:],
        }
        for c in result.cells
        if c.status not in ("ok", "skipped")
    ]


def _status_box(result: SubmissionResult) -> dict[str, str] | None:
    if result.status != "graded":
        headline = {
            "invalid": "Your file could not be read as a notebook, so nothing could be graded.",
            "error": "The grader failed on your notebook. This is not your fault: course "
            "staff will regrade it.",
        }.get(result.status, f"Status: {result.status}")
        return {"css": "bad", "headline": headline, "message": result.message}
    if result.message:
        return {"css": "warn", "headline": result.message, "message": ""}
    return None


def feedback_data(
    result: SubmissionResult, assignment: Assignment, manual_score: float | None = None
) -> dict:
    """What the feedback page of a result of ``assignment`` shows, as plain data for
    ``feedback.html.j2``."""
    grade = final_grade(
        result,
        assignment,
        manual_score,
        Lateness(0.0, result.late_penalty, message=result.late_message),
    )
    separate = assignment.extra_credit == "separate"
    sections, unwritten = _sections(result, assignment) if result.status == "graded" else ([], [])
    extra = ""
    if assignment.extra_credit_points > 0:
        extra = (
            "Extra credit (the bonus questions and the free response) is recorded in "
            "its own column, beside the core score."
            if separate
            else "Extra credit (the bonus questions and the free response) counts in the total."
        )
    problems = cell_problems(result) if result.status == "graded" else []
    return {
        "title": f"Feedback: {result.submission}",
        "submission": result.submission,
        "assignment_id": assignment.id,
        "assignment_title": assignment.title,
        "headline": grade.headline,
        "extra_credit_note": extra,
        "manual_note": _manual_note(manual_score, separate),
        "late_note": _late_note(result),
        "status_box": _status_box(result),
        "cell_problems": [p[0].upper() + p[1:] for p in problems],
        "questions": _question_rows(result, assignment),
        "graded": result.status == "graded",
        "sections": sections,
        "unwritten": unwritten,
        "plots": plots(result.artifacts, assignment),
        "cells": _cells(result),
        "free_response": result.free_response.strip(),
        "banner": unconfined_banner(result.limits),
    }


def render_feedback(
    result: SubmissionResult,
    assignment: Assignment,
    manual_score: float | None = None,
    meta: dict[str, str] | None = None,
) -> str:
    """The feedback page of one result of ``assignment``, as HTML text."""
    data = feedback_data(result, assignment, manual_score)
    return render("feedback.html.j2", meta=meta or {}, **data)


def source_key(result_json: str, manual_score: float | None) -> str:
    """What a page depends on: the result, the manual score and the layout version."""
    text = f"{FEEDBACK_VERSION}\n{manual_score!r}\n{result_json}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_feedback(
    result: SubmissionResult,
    assignment: Assignment,
    folder: str | Path,
    manual_score: float | None = None,
    result_json: str | None = None,
) -> bool:
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
    write_text_atomic(target, render_feedback(result, assignment, manual_score, {SOURCE_META: key}))
    return True
