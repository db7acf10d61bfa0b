"""Every output of a grades folder, rebuilt from what is on disk.

``results/<id>.json`` (the engine's results) plus the staff's ``manual.csv``, the
kept ``roster.csv`` and ``submission_times.csv`` give the final grades
(``autograder/staff/final_grades.py``), from which this module writes ``grades.csv``,
``gradebook.csv``, ``feedback/<id>.html``, ``similarity.csv`` and ``report.html``.
A run killed at any point loses nothing: the next run rebuilds all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.assignment.model import Assignment
from autograder.results import SubmissionResult
from autograder.staff import manual, similarity, wording
from autograder.staff.atomic import write_text_atomic
from autograder.staff.csv_cells import one_line, table
from autograder.staff.feedback import feedback_name, write_feedback
from autograder.staff.file_names import file_stem
from autograder.staff.final_grades import FinalGrade, final_grades, read_inputs, with_penalty
from autograder.staff.late import LatePolicy
from autograder.staff.report import write_report
from autograder.staff.roster import KEPT_FILE as ROSTER_FILE
from autograder.staff.roster import RosterError, RosterMatch, match, read_roster


def grades_columns(assignment: Assignment) -> tuple[str, ...]:
    """The columns of grades.csv (the assignment's questions in the middle)."""
    return (
        "submission",
        "status",
        "core",
        "extra_credit",
        "total",
        "max_total",
        *assignment.question_ids,
        "free_response",
        "late_penalty",
        "message",
        "containment",
    )


def gradebook_columns(assignment: Assignment) -> tuple[str, ...]:
    """gradebook.csv's columns: ``extra_credit`` too when it is a column of its own."""
    separate = assignment.extra_credit == "separate"
    return ("student_id", "total", *(["extra_credit"] if separate else []))


def grade_message(grade: FinalGrade) -> str:
    """Why a grade is what it is, in one cell: the late policy's line, the kit's message."""
    return "; ".join(m for m in (grade.late_message, grade.message) if m)


MAX_CSV_MESSAGE = 500


def result_path(out: Path, submission: str) -> Path:
    """Where a submission's result is stored (a bounded, safe name: see ``file_names``)."""
    return out / "results" / f"{file_stem(submission)}.json"


def load_result(path: Path) -> SubmissionResult | None:
    """A stored result, or None when it is missing or unreadable."""
    try:
        return SubmissionResult.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def load_all_results(out: Path) -> tuple[list[SubmissionResult], list[str]]:
    """Every readable result under ``out/results``, sorted by submission, and warnings."""
    found: dict[str, SubmissionResult] = {}
    warnings = []
    for path in sorted((out / "results").glob("*.json")):
        result = load_result(path)
        if result is None:
            warnings.append(f"{path} is unreadable and was left out (rerun to regrade it)")
        elif result.submission not in found or path == result_path(out, result.submission):
            found[result.submission] = result  # a file of an older name loses to the current
    return sorted(found.values(), key=lambda r: r.submission), warnings


def csv_text(value: object) -> str:
    """A text cell: one line, at most MAX_CSV_MESSAGE characters, never a formula."""
    return one_line(value, MAX_CSV_MESSAGE)


def num(value: float | None) -> str:
    """A number cell ('' for None)."""
    return "" if value is None else f"{round(float(value), 4):g}"


def grades_rows(grades: Sequence[FinalGrade], assignment: Assignment) -> list[list[str]]:
    """The rows of grades.csv (see :func:`grades_columns`)."""
    ids = assignment.question_ids
    return [
        [
            csv_text(g.submission),
            g.status,
            num(g.core),
            num(g.extra_credit),
            num(g.total),
            num(g.maximum),
            *[num(g.points.get(q)) for q in ids],
            num(g.free_response),
            num(g.late_penalty),
            csv_text(grade_message(g)),
            g.containment,
        ]
        for g in grades
    ]


def roster_match(out: Path, names: Sequence[str]) -> tuple[RosterMatch | None, list[str]]:
    """The kept roster (``<out>/roster.csv``) matched with ``names``; None without a roster."""
    path = out / ROSTER_FILE
    if not path.exists():
        return None, []
    try:
        found = match(read_roster(path), names)
    except RosterError as exc:
        return None, [f"{exc}; the roster is left out"]
    return found, found.warnings


@dataclass
class Rebuilt:
    """What a rebuild found, for the command's summary."""

    warnings: list[str] = field(default_factory=list)
    grades: list[FinalGrade] = field(default_factory=list)
    roster: RosterMatch | None = None
    similarity: similarity.SimilarityReport | None = None


def _similarity(
    out: Path, notebooks: Sequence[tuple[str, Path]], released: Path
) -> tuple[similarity.SimilarityReport, list[str]]:
    report = similarity.similarity_report(notebooks, released)
    similarity.write_csv(out / similarity.FILE_NAME, report)
    return report, [f"similarity: {name} {why}" for name, why in report.not_compared]


def rebuild_outputs(
    out: str | Path,
    assignment: Assignment,
    skipped: Sequence[tuple[str, str]] = (),
    notebooks: Sequence[tuple[str, Path]] | None = None,
    policy: LatePolicy | None = None,
) -> Rebuilt:
    """Rebuild manual.csv (merge), grades.csv, gradebook.csv, feedback, similarity.csv
    (when ``notebooks``, the ``(submission, path)`` to compare, are given) and the report.

    ``gradebook.csv`` has the columns ``student_id,total`` (the final total), one
    row per submission that the kit graded; ``python -m autograder export`` writes
    what an LMS imports. Submissions with status ``error`` are left out of both, so
    that a kit failure never reaches a gradebook as a zero.
    """
    out = Path(out)
    policy = policy or LatePolicy.from_assignment(assignment.late)
    results, warnings = load_all_results(out)
    warnings += manual.update_manual(
        out / manual.FILE_NAME, {r.submission: r.free_response for r in results}
    )
    inputs = read_inputs(out, results, policy, assignment)
    warnings += inputs.warnings
    grades = final_grades(results, inputs, assignment)
    write_text_atomic(
        out / "grades.csv",
        table(grades_columns(assignment), grades_rows(grades, assignment)),
        newline="",
    )
    columns = gradebook_columns(assignment)
    book = [
        [csv_text(g.submission), num(g.total), num(g.extra_credit)][: len(columns)]
        for g in grades
        if g.status != "error"
    ]
    write_text_atomic(out / "gradebook.csv", table(columns, book), newline="")
    errors = [r.submission for r in results if r.status == "error"]
    if errors:
        warnings.append(
            f"{wording.count(len(errors), 'submission')} not in "
            f"{out / 'gradebook.csv'} because the kit failed on them (see "
            f"{out / 'errors'}); rerun to regrade: {wording.names(errors)}"
        )
    feedback_dir = out / "feedback"
    keep = set()
    for r, grade in zip(results, grades, strict=True):
        keep.add(feedback_name(r.submission))
        try:
            shown = with_penalty(r, grade)
            write_feedback(shown, assignment, feedback_dir, grade.free_response, shown.to_json())
        except Exception as exc:  # one page must not stop the others
            warnings.append(f"feedback page of {r.submission} not written: {exc}")
    for page in feedback_dir.glob("*.html"):
        if page.name not in keep:
            page.unlink()
    rebuilt = Rebuilt(grades=grades)
    rebuilt.roster, roster_warnings = roster_match(out, [r.submission for r in results])
    warnings += roster_warnings
    if notebooks is not None:
        rebuilt.similarity, similarity_warnings = _similarity(
            out, notebooks, assignment.released_notebook
        )
        warnings += similarity_warnings
    write_report(
        out / "report.html",
        results,
        grades,
        assignment,
        skipped,
        warnings,
        roster=rebuilt.roster,
        similarity=rebuilt.similarity,
        policy=policy,
    )
    rebuilt.warnings = warnings
    return rebuilt
