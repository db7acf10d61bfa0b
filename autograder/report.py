"""The class report: ``grades/report.html``.

How the class did (score histogram, per-question mean and pass rate), which
mistakes the checks recognised most often (``CheckResult.diagnosis``), and
which submissions were slowest or could not be graded. Kit failures
(status ``error``) are listed but left out of the statistics.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from autograder.atomic import write_text_atomic
from autograder.contract import ASSIGNMENT_ID, CORE_POINTS, QUESTIONS
from autograder.feedback import feedback_href
from autograder.results import SubmissionResult
from autograder.templates import (
    Markup,
    esc,
    fmt_points,
    histogram,
    join,
    page,
    table,
    tag,
)

TOP = 15
FAILING_FRACTION = 0.5


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
    for q in QUESTIONS:
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


def render_report(results: Sequence[SubmissionResult], manual: dict[str, float] | None = None,
                  skipped: Sequence[tuple[str, str]] = (), notes: Sequence[str] = ()) -> str:
    """The class report as HTML text; ``manual`` maps submission -> staff score."""
    manual = manual or {}
    results = sorted(results, key=lambda r: r.submission)
    counted = [r for r in results if r.status != "error"]
    totals = [r.total + manual.get(r.submission, 0.0) for r in counted]
    status = Counter(r.status for r in results)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    summary_rows = [
        ["submissions", len(results)],
        *[[f"status {k}", v] for k, v in sorted(status.items())],
        ["free-response answers scored", f"{sum(r.submission in manual for r in results)} "
                                         f"of {len(results)}"],
    ]
    if totals:
        summary_rows += [
            ["mean total", fmt_points(statistics.fmean(totals))],
            ["median total", fmt_points(statistics.median(totals))],
            ["lowest / highest", f"{fmt_points(min(totals))} / {fmt_points(max(totals))}"],
        ]
    parts: list = [
        tag("h1", f"Class report: {ASSIGNMENT_ID}"),
        tag("p", f"Built {now} from {len(results)} result files. Totals include bonus and "
                 "staff-scored free-response points; kit failures (status error) are left "
                 "out of the statistics.", class_="muted"),
        table(["", ""], summary_rows, numeric=(1,)),
    ]
    for note in notes:
        parts.append(Markup(f'<div class="box warn">{tag("p", note)}</div>'))
    if totals:
        parts += [tag("h2", "Scores"),
                  histogram(totals, f"Total points ({len(totals)} submissions)", "total points",
                            xmax=float(CORE_POINTS))]
    stats = question_stats(counted)
    parts += [
        tag("h2", "Per question"),
        tag("p", "Pass rate: share of submissions with full marks on the question.",
            class_="muted"),
        table(["question", "max", "mean", "mean %", "pass rate", "zero points"],
              [[s["id"], fmt_points(s["max"]), fmt_points(s["mean"]),
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
    slow = sorted(results, key=submission_seconds, reverse=True)[:TOP]
    parts += [tag("h2", "Slowest submissions"),
              table(["submission", "seconds", "status"],
                    [[_link(r), f"{submission_seconds(r):.1f}", r.status] for r in slow],
                    numeric=(1,))]
    failing = [r for r in results
               if r.status != "graded" or any(c.status in ("timeout", "died") for c in r.cells)
               or r.total + manual.get(r.submission, 0.0) < FAILING_FRACTION * r.max_total]
    parts += [tag("h2", "Failing submissions"),
              tag("p", f"Not graded, a cell that timed out or crashed the process, or under "
                       f"{FAILING_FRACTION:.0%} of the points.", class_="muted")]
    if failing:
        rows = []
        for r in failing:
            cells = Counter(c.status for c in r.cells if c.status not in ("ok", "skipped"))
            rows.append([_link(r), r.status, fmt_points(r.total + manual.get(r.submission, 0.0)),
                         ", ".join(f"{n} {k}" for k, n in cells.items()), esc(r.message, 300)])
        parts.append(table(["submission", "status", "total", "cells", "message"], rows,
                           numeric=(2,)))
    else:
        parts.append(tag("p", "None.", class_="muted"))
    if skipped:
        parts += [tag("h2", "Files not graded"),
                  table(["file", "why"], [[f, why] for f, why in skipped])]
    return page(f"Class report: {ASSIGNMENT_ID}", join(parts))


def write_report(path: str | Path, results: Sequence[SubmissionResult],
                 manual: dict[str, float] | None = None,
                 skipped: Sequence[tuple[str, str]] = (), notes: Sequence[str] = ()) -> None:
    """Write the class report atomically."""
    write_text_atomic(path, render_report(results, manual, skipped, notes))
