"""The class report: ``grades/report.html``.

How the class did (score histogram over the whole range with extra credit,
per-question mean and pass rate), which mistakes the checks recognised most often
(``CheckResult.diagnosis``), the roster (students without a submission,
submissions matching no student), late submissions, the code-similarity pairs
flagged for a closer look (side by side), and which submissions were slowest,
failing or could not be graded. Kit failures (status ``error``) are listed but left
out of the statistics. Points are shown with one decimal everywhere.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from autograder.assignment.model import Assignment
from autograder.checks.broken_cells import cell_problems
from autograder.results import SubmissionResult, unconfined_banner
from autograder.staff import wording
from autograder.staff.atomic import write_text_atomic
from autograder.staff.feedback import feedback_href
from autograder.staff.final_grades import FinalGrade
from autograder.staff.late import LatePolicy
from autograder.staff.roster import RosterMatch
from autograder.staff.similarity import FLAG_THRESHOLD, SimilarityReport, code_cells
from autograder.templates import histogram, render

TOP = 15
FAILING_FRACTION = 0.5
"""A graded submission under this share of the maximum is failing."""
SIDE_BY_SIDE = 10
"""Flagged pairs shown side by side (all are in similarity.csv)."""
MAX_CODE_LINES = 400
HISTOGRAM_BIN = 5


def histogram_top(a: Assignment) -> int:
    """The histogram runs to the highest score possible: the core maximum when extra
    credit is a column of its own, else the core plus all extra credit."""
    if a.extra_credit == "separate":
        return int(a.core_points)
    return int(a.core_points + a.extra_credit_points)


def points(value: float | None) -> str:
    """Points in the report: always one decimal ('' for None)."""
    return "" if value is None else f"{value:.1f}"


def submission_seconds(result: SubmissionResult) -> float:
    """Wall time of one submission: the batch's measurement, else the engine's total."""
    timings = result.timings or {}
    for key in ("batch_seconds", "total", "wall"):
        if isinstance(timings.get(key), (int, float)):
            return float(timings[key])
    return float(sum(v for v in timings.values() if isinstance(v, (int, float))))


def question_stats(
    results: Sequence[SubmissionResult], assignment: Assignment
) -> list[dict[str, float | str]]:
    """Per question: max points, mean points, pass rate (full marks) and zero rate."""
    rows = []
    for q in assignment.questions:
        points = [r.questions[q.id].points if q.id in r.questions else 0.0 for r in results]
        n = len(points) or 1
        rows.append(
            {
                "id": q.id,
                "max": float(q.points),
                "mean": sum(points) / n,
                "pass_rate": sum(p >= q.points - 1e-9 for p in points) / n,
                "zero_rate": sum(p <= 1e-9 for p in points) / n,
            }
        )
    return rows


def frequent_mistakes(results: Sequence[SubmissionResult]) -> list[tuple[str, str, int, str]]:
    """(question, diagnosis, submissions with it, an example message), most frequent first."""
    counts: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], str] = {}
    for r in results:
        seen = set()
        for qr in r.questions.values():
            for c in qr.checks:
                if not c.passed and c.diagnosis:
                    key = (c.question or qr.id, c.diagnosis)
                    seen.add(key)
                    example.setdefault(key, c.message)
        counts.update(seen)
    return [(q, d, n, example[(q, d)]) for (q, d), n in counts.most_common(TOP)]


def _summary(
    results: Sequence[SubmissionResult], grades: Sequence[FinalGrade], maximum: float
) -> list[list[object]]:
    status = Counter(r.status for r in results)
    counted = [g for g in grades if g.status != "error"]
    rows: list[list[object]] = [
        ["submissions", len(results)],
        *[[f"status {k}", v] for k, v in sorted(status.items())],
        [
            "free-response answers scored",
            f"{sum(g.free_response is not None for g in grades)} of {len(results)}",
        ],
        ["late (points off)", sum(g.late_penalty > 0 or g.not_accepted for g in grades)],
        ["maximum", points(maximum)],
    ]
    if counted:
        cores = [g.core for g in counted]
        extras = [g.extra_credit for g in counted]
        rows += [
            ["mean core", points(statistics.fmean(cores))],
            ["median core", points(statistics.median(cores))],
            ["lowest / highest core", f"{points(min(cores))} / {points(max(cores))}"],
            [
                "full core marks",
                f"{sum(g.core >= g.maximum - 1e-9 for g in counted)} of {len(counted)}",
            ],
            ["mean extra credit", points(statistics.fmean(extras))],
        ]
    return rows


def _roster_data(found: RosterMatch) -> dict[str, object]:
    students = len(found.by_submission) + len(found.missing)
    return {
        "line": f"{len(found.by_submission)} of {wording.count(students, 'student')} have a "
        f"submission; {wording.count(len(found.unmatched_submissions), 'submission')} "
        f"match{'es' if len(found.unmatched_submissions) == 1 else ''} no student.",
        "missing": [
            [s.row, s.label, s.login or s.sis_user_id, s.email, s.section] for s in found.missing
        ],
        "unmatched": list(found.unmatched_submissions),
    }


def _late_data(grades: Sequence[FinalGrade], policy: LatePolicy | None) -> dict[str, object] | None:
    if policy is None or policy.deadline is None:
        return None
    late = [g for g in grades if g.late_penalty > 0 or g.not_accepted]
    return {
        "policy": policy.describe(),
        "rows": [
            {
                "submission": g.submission,
                "penalty": points(g.late_penalty),
                "total": points(g.total),
                "why": g.late_message,
            }
            for g in late
        ],
    }


SOLUTION_LINE = "(a line of the instructor solution, not shown)"


def solution_lines(assignment: Assignment) -> frozenset[str]:
    """Code lines of the instructor solution that the released notebook does not hold.

    The side-by-side code never prints them: a report is read by more people than
    the solution should be. A submission that holds them shows where, as this marker."""
    return _solution_lines(str(assignment.solution_notebook), str(assignment.released_notebook))


@lru_cache(maxsize=4)
def _solution_lines(solution_path: str, released_path: str) -> frozenset[str]:
    try:
        solution, released = (
            {
                line.strip()
                for cell in code_cells(json.loads(Path(path).read_text(encoding="utf-8")))
                for line in cell.splitlines()
            }
            for path in (solution_path, released_path)
        )
    except (OSError, ValueError):
        return frozenset()
    return frozenset(line for line in solution - released if len(line) >= 8)


def _code_line(line: str, hidden: frozenset[str]) -> str:
    if line.strip() in hidden:
        return line[: len(line) - len(line.lstrip())] + SOLUTION_LINE
    return line


def _code_column(code: str, marked: set[int], hidden: frozenset[str]) -> list[dict[str, object]]:
    lines = [_code_line(line, hidden) for line in code.splitlines()]
    shown: list[dict[str, object]] = [
        {"text": line, "marked": i in marked}
        for i, line in enumerate(lines[:MAX_CODE_LINES], start=1)
    ]
    more = len(lines) - MAX_CODE_LINES
    if more > 0:
        shown.append({"text": f"... {more} more lines", "marked": False})
    return shown


def similarity_data(report: SimilarityReport, assignment: Assignment) -> dict[str, object]:
    """The similarity section's data (``similarity.html.j2``); no line of the
    ``assignment``'s solution is shown."""
    hidden = solution_lines(assignment)
    flagged = report.flagged
    side_by_side = []
    for pair in flagged[:SIDE_BY_SIDE]:
        lines_a, lines_b = report.shared_lines(pair)
        side_by_side.append(
            {
                "a": pair.a,
                "b": pair.b,
                "similarity": f"{pair.similarity:.2f}",
                "code_a": _code_column(report.documents[pair.a].code, lines_a, hidden),
                "code_b": _code_column(report.documents[pair.b].code, lines_b, hidden),
            }
        )
    return {
        "count": len(report.documents),
        "flagged": len(flagged),
        "threshold": f"{FLAG_THRESHOLD:.2f}",
        "top": [
            {
                "a": p.a,
                "b": p.b,
                "similarity": f"{p.similarity:.2f}",
                "a_in_b": f"{100 * p.a_in_b:.0f}%",
                "b_in_a": f"{100 * p.b_in_a:.0f}%",
                "shared": p.shared,
                "flagged": p.flagged,
            }
            for p in report.top(TOP)
        ],
        "side_by_side": side_by_side,
        "more_flagged": len(flagged) - SIDE_BY_SIDE,
        "not_compared": list(report.not_compared),
        "solution_line": SOLUTION_LINE,
    }


def failing(grades: Sequence[FinalGrade]) -> list[FinalGrade]:
    """Submissions that fail: not graded, or a final total under FAILING_FRACTION of the
    maximum. Kit errors are not failures of the student and are left out."""
    return [
        g
        for g in grades
        if g.status == "invalid"
        or (g.status == "graded" and g.total < FAILING_FRACTION * g.maximum)
    ]


def _scoring_sentence(a: Assignment) -> str:
    extra = (
        f"the bonus (up to {a.bonus_points}) and the staff-scored free response (up to "
        f"{a.free_response_points:g})"
    )
    if a.extra_credit == "separate":
        return (
            f"The maximum is {a.core_points}: the core questions. Extra credit, {extra}, "
            "is kept in its own column (the assignment file's extra_credit = "
            '"separate"); the score is the core less any late penalty.'
        )
    return (
        f"The maximum is {a.core_points}; totals add {extra} as extra credit and "
        "subtract late penalties."
    )


def report_data(
    results: Sequence[SubmissionResult],
    grades: Sequence[FinalGrade],
    assignment: Assignment,
    skipped: Sequence[tuple[str, str]] = (),
    notes: Sequence[str] = (),
    *,
    roster: RosterMatch | None = None,
    similarity: SimilarityReport | None = None,
    policy: LatePolicy | None = None,
) -> dict[str, object]:
    """What the class report of ``assignment`` shows, as plain data for ``report.html.j2``."""
    order = sorted(range(len(results)), key=lambda i: results[i].submission)
    results = [results[i] for i in order]
    grades = [grades[i] for i in order]
    counted = [r for r in results if r.status != "error"]
    totals = [g.total for g in grades if g.status != "error"]
    a = assignment
    top = histogram_top(a)
    total_label = "score" if a.extra_credit == "separate" else "total"
    chart = None
    if totals:
        chart = histogram(
            totals,
            f"{total_label.capitalize()} "
            f"({wording.count(len(totals), 'submission')}; "
            f"maximum {a.core_points}"
            + (f", up to {top} with extra credit)" if top > a.core_points else ")"),
            total_label,
            bins=max(1, top // HISTOGRAM_BIN),
            xmax=float(top),
        )
    grade_of = {g.submission: g for g in grades}
    broken = [r for r in results if cell_problems(r)]
    return {
        "title": f"Class report: {a.id}",
        "meta": {},
        "assignment_id": a.id,
        "built": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "count_results": wording.count(len(results), "result file"),
        "scoring": _scoring_sentence(a),
        "summary": _summary(results, grades, a.core_points),
        "notes": list(notes),
        "histogram": chart,
        "total_label": total_label,
        "grades": [
            {
                "submission": g.submission,
                "status": g.status,
                "headline": g.headline if g.status == "graded" else g.status,
                "total": points(g.total) if g.status != "error" else "",
            }
            for g in grades
        ],
        "questions": [
            [
                s["id"],
                points(s["max"]),
                points(s["mean"]),
                f"{100 * s['mean'] / s['max']:.0f}%" if s["max"] else "",
                f"{100 * s['pass_rate']:.0f}%",
                f"{100 * s['zero_rate']:.0f}%",
            ]
            for s in question_stats(counted, a)
        ],
        "mistakes": [
            {"question": q, "diagnosis": d, "count": n, "example": m}
            for q, d, n, m in frequent_mistakes(counted)
        ],
        "roster": _roster_data(roster) if roster is not None else None,
        "late": _late_data(grades, policy),
        "similarity": similarity_data(similarity, a) if similarity is not None else None,
        "slowest": [
            {
                "submission": r.submission,
                "seconds": f"{submission_seconds(r):.1f}",
                "status": r.status,
            }
            for r in sorted(results, key=submission_seconds, reverse=True)[:TOP]
        ],
        "failing_share": f"{FAILING_FRACTION:.0%}",
        "maximum": a.core_points,
        "failing": [
            {
                "submission": g.submission,
                "status": g.status,
                "total": points(g.total),
                "message": g.message,
            }
            for g in failing(grades)
        ],
        "broken": [
            {
                "submission": r.submission,
                "total": points(grade_of[r.submission].total),
                "problems": cell_problems(r),
            }
            for r in broken
        ],
        "review": [
            {"submission": r.submission, "question": c.question, "check": c.name, "note": c.review}
            for r in results
            for q in r.questions.values()
            for c in q.checks
            if c.review
        ],
        "errors": [
            {"submission": r.submission, "message": r.message}
            for r in results
            if r.status == "error"
        ],
        "skipped": [list(s) for s in skipped],
        "href": feedback_href,
        "banner": _banner(results),
    }


def _banner(results: Sequence[SubmissionResult]) -> str:
    """A warning when any submission ran unconfined (its result's ``limits`` says so)."""
    loose = [r for r in results if unconfined_banner(r.limits)]
    if not loose:
        return ""
    return (
        f"{unconfined_banner(loose[0].limits)} "
        f"{wording.count(len(loose), 'submission')}: "
        + wording.names([r.submission for r in loose], 10)
    )


def render_report(
    results: Sequence[SubmissionResult],
    grades: Sequence[FinalGrade],
    assignment: Assignment,
    skipped: Sequence[tuple[str, str]] = (),
    notes: Sequence[str] = (),
    *,
    roster: RosterMatch | None = None,
    similarity: SimilarityReport | None = None,
    policy: LatePolicy | None = None,
) -> str:
    """The class report as HTML text; ``grades`` are the final grades of ``results``."""
    return render(
        "report.html.j2",
        **report_data(
            results,
            grades,
            assignment,
            skipped,
            notes,
            roster=roster,
            similarity=similarity,
            policy=policy,
        ),
    )


def write_report(
    path: str | Path,
    results: Sequence[SubmissionResult],
    grades: Sequence[FinalGrade],
    assignment: Assignment,
    skipped: Sequence[tuple[str, str]] = (),
    notes: Sequence[str] = (),
    *,
    roster: RosterMatch | None = None,
    similarity: SimilarityReport | None = None,
    policy: LatePolicy | None = None,
) -> None:
    """Write the class report atomically."""
    write_text_atomic(
        path,
        render_report(
            results,
            grades,
            assignment,
            skipped,
            notes,
            roster=roster,
            similarity=similarity,
            policy=policy,
        ),
    )
