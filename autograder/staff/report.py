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

from autograder.assignment.model import current
from autograder.results import SubmissionResult
from autograder.staff.atomic import write_text_atomic
from autograder.staff.feedback import feedback_href
from autograder.staff.final_grades import FinalGrade
from autograder.staff.late import LatePolicy
from autograder.staff.roster import RosterMatch
from autograder.staff.similarity import FLAG_THRESHOLD, SimilarityReport, code_cells
from autograder.templates import (
    Markup,
    esc,
    histogram,
    join,
    page,
    table,
    tag,
)

TOP = 15
FAILING_FRACTION = 0.5
"""A graded submission under this share of the maximum is failing."""
SIDE_BY_SIDE = 10
"""Flagged pairs shown side by side (all are in similarity.csv)."""
MAX_CODE_LINES = 400
HISTOGRAM_BIN = 5


def histogram_top() -> int:
    """The histogram runs to the highest total possible with all extra credit."""
    a = current()
    return int(a.core_points + a.bonus_points + a.free_response_points)


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


def _link(result: SubmissionResult) -> Markup:
    return tag("a", result.submission, href=feedback_href(result.submission))


def question_stats(results: Sequence[SubmissionResult]) -> list[dict[str, float | str]]:
    """Per question: max points, mean points, pass rate (full marks) and zero rate."""
    rows = []
    for q in current().questions:
        points = [r.questions[q.id].points if q.id in r.questions else 0.0 for r in results]
        n = len(points) or 1
        rows.append({
            "id": q.id,
            "max": float(q.points),
            "mean": sum(points) / n,
            "pass_rate": sum(p >= q.points - 1e-9 for p in points) / n,
            "zero_rate": sum(p <= 1e-9 for p in points) / n,
        })
    return rows


def frequent_mistakes(results: Sequence[SubmissionResult]
                      ) -> list[tuple[str, str, int, str]]:
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


def _summary(results: Sequence[SubmissionResult], grades: Sequence[FinalGrade]
             ) -> list[list[object]]:
    status = Counter(r.status for r in results)
    totals = [g.total for g in grades if g.status != "error"]
    rows: list[list[object]] = [
        ["submissions", len(results)],
        *[[f"status {k}", v] for k, v in sorted(status.items())],
        ["free-response answers scored",
         f"{sum(g.free_response is not None for g in grades)} of {len(results)}"],
        ["late (points off)", sum(g.late_penalty > 0 or g.not_accepted for g in grades)],
        ["maximum", points(current().core_points)],
    ]
    if totals:
        rows += [["mean total", points(statistics.fmean(totals))],
                 ["median total", points(statistics.median(totals))],
                 ["lowest / highest", f"{points(min(totals))} / {points(max(totals))}"]]
    return rows


def _roster_section(found: RosterMatch) -> list[object]:
    students = len(found.by_submission) + len(found.missing)
    parts: list[object] = [
        tag("h2", "Roster"),
        tag("p", f"{len(found.by_submission)} of {students} students have a submission; "
                 f"{len(found.unmatched_submissions)} submissions match no student."),
        tag("h3", f"Students without a submission ({len(found.missing)})")]
    if found.missing:
        parts.append(table(["roster row", "student", "login", "email", "section"],
                           [[s.row, s.label, s.login or s.sis_user_id, s.email, s.section]
                            for s in found.missing], numeric=(0,)))
    else:
        parts.append(tag("p", "None.", class_="muted"))
    parts.append(tag("h3", f"Submissions matching no student ({len(found.unmatched_submissions)})"))
    if found.unmatched_submissions:
        parts.append(tag("p", ", ".join(found.unmatched_submissions)))
    else:
        parts.append(tag("p", "None.", class_="muted"))
    return parts


def _late_section(grades: Sequence[FinalGrade], policy: LatePolicy | None) -> list[object]:
    if policy is None or policy.deadline is None:
        return []
    late = [g for g in grades if g.late_penalty > 0 or g.not_accepted]
    parts: list[object] = [tag("h2", "Late submissions"), tag("p", policy.describe(),
                                                              class_="muted")]
    if late:
        parts.append(table(["submission", "points off", "total", "why"],
                           [[_link_name(g.submission), points(g.late_penalty), points(g.total),
                             g.late_message] for g in late], numeric=(1, 2)))
    else:
        parts.append(tag("p", "None.", class_="muted"))
    return parts


SOLUTION_LINE = "(a line of the instructor solution, not shown)"


def solution_lines() -> frozenset[str]:
    """Code lines of the instructor solution that the released notebook does not hold.

    The side-by-side code never prints them: a report is read by more people than
    the solution should be. A submission that holds them shows where, as this marker."""
    return _solution_lines(str(current().solution_notebook), str(current().released_notebook))


@lru_cache(maxsize=4)
def _solution_lines(solution_path: str, released_path: str) -> frozenset[str]:
    try:
        solution, released = (
            {line.strip() for cell in code_cells(json.loads(Path(path).read_text(encoding="utf-8")))
             for line in cell.splitlines()}
            for path in (solution_path, released_path))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(line for line in solution - released if len(line) >= 8)


def _code_line(line: str) -> str:
    if line.strip() in solution_lines():
        return line[:len(line) - len(line.lstrip())] + SOLUTION_LINE
    return line


def _code_column(code: str, marked: set[int]) -> Markup:
    lines = [_code_line(line) for line in code.splitlines()]
    shown = [Markup(f"<mark>{esc(line, 300)}</mark>") if i in marked else esc(line, 300)
             for i, line in enumerate(lines[:MAX_CODE_LINES], start=1)]
    more = len(lines) - MAX_CODE_LINES
    if more > 0:
        shown.append(esc(f"... {more} more lines"))
    return Markup(f"<pre>{join(shown)}</pre>")


def _similarity_section(report: SimilarityReport) -> list[object]:
    flagged = report.flagged
    parts: list[object] = [
        tag("h2", "Code similarity"),
        tag("p", f"{len(report.documents)} submissions compared by their own code (names, "
                 "comments, whitespace and the released notebook's code left out; MOSS-style "
                 f"winnowing). Flagged pairs: {len(flagged)}, with a similarity of at least "
                 f"{FLAG_THRESHOLD:.2f}; every pair is in similarity.csv. A flag is a reason "
                 "to read both notebooks, not a verdict.", class_="muted")]
    top = report.top(TOP)
    if top:
        parts.append(table(["submission a", "submission b", "similarity", "share of a in b",
                            "share of b in a", "shared fingerprints", "flagged"],
                           [[p.a, p.b, f"{p.similarity:.2f}", f"{100 * p.a_in_b:.0f}%",
                             f"{100 * p.b_in_a:.0f}%", p.shared, "yes" if p.flagged else ""]
                            for p in top], numeric=(2, 3, 4, 5)))
    for pair in flagged[:SIDE_BY_SIDE]:
        lines_a, lines_b = report.shared_lines(pair)
        parts += [tag("h3", f"{pair.a} and {pair.b}: similarity {pair.similarity:.2f}"),
                  tag("p", "Their own code side by side; marked lines hold shared "
                           f"fingerprints. A line of the instructor solution shows as "
                           f"\"{SOLUTION_LINE}\".", class_="muted"),
                  table([pair.a, pair.b],
                        [[_code_column(report.documents[pair.a].code, lines_a),
                          _code_column(report.documents[pair.b].code, lines_b)]])]
    if len(flagged) > SIDE_BY_SIDE:
        parts.append(tag("p", f"{len(flagged) - SIDE_BY_SIDE} more flagged pairs are in "
                              "similarity.csv.", class_="muted"))
    for name, why in report.not_compared:
        parts.append(tag("p", f"{name}: {why}", class_="muted"))
    return parts


def _link_name(submission: str) -> Markup:
    return tag("a", submission, href=feedback_href(submission))


def failing(grades: Sequence[FinalGrade]) -> list[FinalGrade]:
    """Submissions that fail: not graded, or a final total under FAILING_FRACTION of the
    maximum. Kit errors are not failures of the student and are left out."""
    return [g for g in grades if g.status == "invalid"
            or (g.status == "graded" and g.total < FAILING_FRACTION * g.maximum)]


def render_report(results: Sequence[SubmissionResult], grades: Sequence[FinalGrade],
                  skipped: Sequence[tuple[str, str]] = (), notes: Sequence[str] = (), *,
                  roster: RosterMatch | None = None, similarity: SimilarityReport | None = None,
                  policy: LatePolicy | None = None) -> str:
    """The class report as HTML text; ``grades`` are the final grades of ``results``."""
    order = sorted(range(len(results)), key=lambda i: results[i].submission)
    results = [results[i] for i in order]
    grades = [grades[i] for i in order]
    counted = [r for r in results if r.status != "error"]
    totals = [g.total for g in grades if g.status != "error"]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    a = current()
    top = histogram_top()
    parts: list = [
        tag("h1", f"Class report: {a.id}"),
        tag("p", f"Built {now} from {len(results)} result files. The maximum is "
                 f"{a.core_points}; totals add the bonus (up to {a.bonus_points}) and the "
                 f"staff-scored free response (up to {a.free_response_points:g}) as extra credit "
                 "and subtract late penalties. Kit failures (status error) are left out of "
                 "the statistics.", class_="muted"),
        table(["", ""], _summary(results, grades), numeric=(1,)),
    ]
    for note in notes:
        parts.append(Markup(f'<div class="box warn">{tag("p", note)}</div>'))
    if totals:
        parts += [tag("h2", "Scores"),
                  histogram(totals, f"Total points ({len(totals)} submissions; maximum "
                                    f"{a.core_points}, up to {top} with extra credit)",
                            "total points", bins=max(1, top // HISTOGRAM_BIN),
                            xmax=float(top))]
    stats = question_stats(counted)
    parts += [
        tag("h2", "Per question"),
        tag("p", "Pass rate: share of submissions with full marks on the question.",
            class_="muted"),
        table(["question", "max", "mean", "mean %", "pass rate", "zero points"],
              [[s["id"], points(s["max"]), points(s["mean"]),
                f"{100 * s['mean'] / s['max']:.0f}%", f"{100 * s['pass_rate']:.0f}%",
                f"{100 * s['zero_rate']:.0f}%"] for s in stats],
              numeric=(1, 2, 3, 4, 5)),
    ]
    mistakes = frequent_mistakes(counted)
    parts.append(tag("h2", "Most frequent diagnosed mistakes"))
    if mistakes:
        parts.append(table(["question", "mistake", "submissions", "example message"],
                           [[q, d, n, esc(m, 300)] for q, d, n, m in mistakes],
                           numeric=(2,)))
    else:
        parts.append(tag("p", "No failed check carried a diagnosis.", class_="muted"))
    if roster is not None:
        parts += _roster_section(roster)
    parts += _late_section(grades, policy)
    if similarity is not None:
        parts += _similarity_section(similarity)
    slow = sorted(results, key=submission_seconds, reverse=True)[:TOP]
    parts += [tag("h2", "Slowest submissions"),
              table(["submission", "seconds", "status"],
                    [[_link(r), f"{submission_seconds(r):.1f}", r.status] for r in slow],
                    numeric=(1,))]
    grade_of = {g.submission: g for g in grades}
    fail = failing(grades)
    parts += [tag("h2", "Failing submissions"),
              tag("p", f"Not a gradable notebook (invalid), or a total under "
                       f"{FAILING_FRACTION:.0%} of the maximum of {a.core_points}.",
                  class_="muted")]
    if fail:
        parts.append(table(["submission", "status", "total", "message"],
                           [[_link_name(g.submission), g.status, points(g.total),
                             esc(g.message, 300)] for g in fail], numeric=(2,)))
    else:
        parts.append(tag("p", "None.", class_="muted"))
    crashed = [r for r in results if any(c.status in ("timeout", "died") for c in r.cells)]
    if crashed:
        rows = []
        for r in crashed:
            cells = Counter(c.status for c in r.cells if c.status not in ("ok", "skipped"))
            rows.append([_link(r), points(grade_of[r.submission].total),
                         ", ".join(f"{n} {k}" for k, n in cells.items())])
        parts += [tag("h2", "Cells that timed out or crashed the process"),
                  tag("p", "Graded as far as their code survived; worth a look whatever the "
                           "total.", class_="muted"),
                  table(["submission", "total", "cells"], rows, numeric=(1,))]
    errors = [r for r in results if r.status == "error"]
    if errors:
        parts += [tag("h2", "Kit errors (rerun to regrade)"),
                  table(["submission", "message"],
                        [[_link(r), esc(r.message, 300)] for r in errors])]
    if skipped:
        parts += [tag("h2", "Files not graded"),
                  table(["file", "why"], [[f, why] for f, why in skipped])]
    return page(f"Class report: {a.id}", join(parts))


def write_report(path: str | Path, results: Sequence[SubmissionResult],
                 grades: Sequence[FinalGrade], skipped: Sequence[tuple[str, str]] = (),
                 notes: Sequence[str] = (), *, roster: RosterMatch | None = None,
                 similarity: SimilarityReport | None = None,
                 policy: LatePolicy | None = None) -> None:
    """Write the class report atomically."""
    write_text_atomic(path, render_report(results, grades, skipped, notes, roster=roster,
                                          similarity=similarity, policy=policy))
