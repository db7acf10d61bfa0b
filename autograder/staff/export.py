"""``python -m autograder export G --format canvas|moodle|csv [--out FILE]``: grades an LMS
imports as they are.

Every format has the final totals (``autograder/staff/final_grades.py``: checks + staff
free-response score - late penalty) computed afresh from the grades folder, so a
``manual.csv`` edited since the last run counts. The maximum is the assignment's
core points in every format; bonus and free response are extra credit above it.

**canvas**: Canvas's gradebook import CSV. Columns ``Student, ID, SIS User ID, SIS
Login ID, Section`` and one column named after the assignment (``--column``, default
the assignment's id; write ``Name (12345)`` with the Canvas assignment id to update an
existing one), then a ``Points Possible`` row with the maximum. This is the layout
Canvas's importer (``app/models/gradebook_importer.rb``) recognises: the header's
first cell holds "Student" and the second "ID", "SIS User ID" is followed by "SIS
Login ID", the last student column is "Section", and a row whose first cell holds
"Points Possible" sets the assignment's points. Canvas finds a student by ID, else
SIS User ID, else SIS Login ID, else the name.

**moodle**: Moodle's grade import CSV (Grades > Import > CSV file). Columns ``First
name, Last name, ID number, Email address`` (and ``Username`` with ``--key
username``) and the grade column. On upload, map "Email address" to ``useremail`` (or
"ID number" to ``useridnumber``, "Username" to ``username``) and the grade column to
the grade item. Moodle stops the whole import at a row whose user it cannot find,
so only students with a value for ``--key`` are written (the others are listed).

**csv**: one row per student (per submission without a roster): the roster's
identity, the submission, its status, the points of every question, the free
response, the late penalty, the total and the maximum.

**Extra credit** (bonus questions and the free response): with the assignment file's
``extra_credit = "separate"`` (the default) the grade column holds the core score
(less any late penalty) and a second column, ``<column> extra credit``, the extra
credit (Canvas: 0 points possible, which Canvas counts as extra credit); with
``"added"`` one column holds the total with extra credit in it.

Only students with a grade are in the canvas and moodle files: a student without a
submission, and a submission the kit failed on (status ``error``, rerun to regrade),
is left out, so that the LMS keeps whatever it has; both are listed on stderr.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.assignment.model import Assignment
from autograder.staff import wording
from autograder.staff.csv_cells import guard, table
from autograder.staff.final_grades import FinalGrade, final_grades, read_inputs
from autograder.staff.late import LatePolicy
from autograder.staff.outputs import (
    csv_text,
    grade_message,
    load_all_results,
    num,
    roster_match,
)
from autograder.staff.roster import KEPT_FILE as ROSTER_FILE
from autograder.staff.roster import Student

FORMATS = ("canvas", "moodle", "csv")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"
MOODLE_COLUMNS = ("First name", "Last name", "ID number", "Email address")
MOODLE_KEYS = {"email": "Email address", "idnumber": "ID number", "username": "Username"}


def csv_columns(assignment: Assignment) -> tuple[str, ...]:
    """The plain export's columns (the assignment's questions in the middle)."""
    return (
        "student",
        "name",
        "email",
        "section",
        "submission",
        "status",
        *assignment.question_ids,
        "free_response",
        "late_penalty",
        "core",
        "extra_credit",
        "total",
        "maximum",
        "message",
    )


def grade_columns(column: str, separate: bool) -> list[str]:
    """The grade columns of a canvas or moodle file: the score, and extra credit beside it
    when the assignment keeps it ``separate``."""
    return [column, *([f"{column} extra credit"] if separate else [])]


def _grade_cells(grade: FinalGrade, width: int) -> list[str]:
    return [num(grade.total), num(grade.extra_credit)][:width]


@dataclass
class Row:
    """One student of an export: who (from the roster, or the submission name alone) and
    their final grade (None when there is none to export)."""

    student: Student
    submission: str
    grade: FinalGrade | None

    @property
    def has_grade(self) -> bool:
        return self.grade is not None and self.grade.status != "error"


def collect_rows(
    out: Path, policy: LatePolicy, assignment: Assignment
) -> tuple[list[Row], list[str]]:
    """One Row per roster student (or per submission without a roster), and warnings."""
    results, warnings = load_all_results(out)
    inputs = read_inputs(out, results, policy, assignment)
    warnings += inputs.warnings
    grades = {g.submission: g for g in final_grades(results, inputs, assignment)}
    found, roster_warnings = roster_match(out, sorted(grades))
    warnings += roster_warnings
    if found is None:
        rows = [
            Row(Student(0, name=guard(name), login=guard(name)), name, grade)
            for name, grade in sorted(grades.items())
        ]
        return rows, warnings
    rows = []
    for student in sorted([*found.by_submission.values(), *found.missing], key=lambda s: s.row):
        name = found.submission_of(student)
        rows.append(Row(student, name or "", grades.get(name) if name else None))
    if found.unmatched_submissions:
        warnings.append(
            f"not exported, matching no student of the roster {out / ROSTER_FILE}: "
            + wording.names(found.unmatched_submissions)
        )
    return rows, warnings


def _left_out(rows: Sequence[Row]) -> list[str]:
    notes = []
    missing = [r.student.label for r in rows if r.grade is None]
    errors = [r.submission for r in rows if r.grade is not None and r.grade.status == "error"]
    if missing:
        notes.append(f"left out, no submission ({len(missing)}): {wording.names(missing)}")
    if errors:
        notes.append(
            "left out, the kit failed on them (rerun make grade): " + wording.names(errors)
        )
    return notes


def canvas_csv(
    rows: Sequence[Row], column: str, maximum: float, separate: bool
) -> tuple[str, list[str]]:
    """Canvas's gradebook import file (extra credit in a column of its own when
    ``separate``), and notes on who was left out."""
    columns = grade_columns(column, separate)
    lines = [[CANVAS_POINTS_ROW, "", "", "", "", num(maximum), "0"][: 5 + len(columns)]]
    for r in rows:
        if r.has_grade:
            s = r.student
            lines.append(
                [
                    s.label,
                    s.lms_id,
                    s.sis_user_id,
                    s.login,
                    s.section,
                    *_grade_cells(r.grade, len(columns)),
                ]
            )
    return table([*CANVAS_COLUMNS, *columns], lines), _left_out(rows)


def moodle_csv(
    rows: Sequence[Row], column: str, key: str, separate: bool, roster: Path | None = None
) -> tuple[str, list[str]]:
    """Moodle's grade import file keyed by ``key`` (extra credit in a column of its own
    when ``separate``), and notes on who was left out (``roster``: the roster file the
    students came from, None when none was given)."""
    field = {"email": "email", "idnumber": "id_number", "username": "login"}[key]
    columns = grade_columns(column, separate)
    header = [*MOODLE_COLUMNS, *(["Username"] if key == "username" else []), *columns]
    lines, no_key = [], []
    for r in rows:
        if not r.has_grade:
            continue
        s = r.student
        if not getattr(s, field):
            no_key.append(s.label)
            continue
        first, last = s.first_name, s.last_name
        if not (first or last):
            first = s.label
        lines.append(
            [
                first,
                last,
                s.id_number,
                s.email,
                *([s.login] if key == "username" else []),
                *_grade_cells(r.grade, len(columns)),
            ]
        )
    notes = _left_out(rows)
    if no_key and roster is None:
        notes.append(
            f"no roster was given, so no student has an {MOODLE_KEYS[key]} and "
            f"the Moodle file has no student at all ({len(no_key)} left out). "
            "Give the class roster (make grade ROSTER=roster.csv) or use --key "
            "username"
        )
    elif no_key and not lines:
        notes.append(
            f"{roster} has no {MOODLE_KEYS[key]} for any student, so the Moodle "
            f"file has no student at all ({len(no_key)} left out); add that column "
            "to the roster or choose another --key"
        )
    elif no_key:
        notes.append(
            f"left out, no {MOODLE_KEYS[key]} in {roster} ({len(no_key)}): " + wording.names(no_key)
        )
    return table(header, lines), notes


def plain_csv(rows: Sequence[Row], assignment: Assignment) -> tuple[str, list[str]]:
    """One row per student with every question, free response, penalty, total, maximum."""
    lines = []
    ids = assignment.question_ids
    maximum = float(assignment.core_points)
    for r in rows:
        s, g = r.student, r.grade
        identity = [
            s.sis_user_id or s.login or s.id_number or s.lms_id or s.email,
            s.label,
            s.email,
            s.section,
            csv_text(r.submission),
        ]
        if g is None:
            lines.append(
                [
                    *identity,
                    "missing",
                    *[""] * len(ids),
                    "",
                    "",
                    "",
                    "",
                    "",
                    num(maximum),
                    "no submission",
                ]
            )
            continue
        lines.append(
            [
                *identity,
                g.status,
                *[num(g.points.get(q)) for q in ids],
                num(g.free_response),
                num(g.late_penalty),
                *(
                    ["", "", ""]
                    if g.status == "error"
                    else [num(g.core), num(g.extra_credit), num(g.total)]
                ),
                num(g.maximum),
                csv_text(grade_message(g)),
            ]
        )
    return table(csv_columns(assignment), lines), []


def export(
    out: str | Path,
    fmt: str,
    assignment: Assignment,
    column: str | None = None,
    key: str = "email",
    policy: LatePolicy | None = None,
) -> tuple[str, list[str]]:
    """The export of grades folder ``out`` (grades of ``assignment``) in format ``fmt`` as
    text, and warnings."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    out = Path(out)
    if not (out / "results").is_dir():
        raise ValueError(f"{out} is not a grades folder (no results/; run make grade first)")
    policy = policy or LatePolicy.from_assignment(assignment.late)
    rows, warnings = collect_rows(out, policy, assignment)
    column = column or assignment.id
    separate = assignment.extra_credit == "separate"
    if fmt == "canvas":
        text, notes = canvas_csv(rows, column, float(assignment.core_points), separate)
    elif fmt == "moodle":
        roster = out / ROSTER_FILE
        text, notes = moodle_csv(rows, column, key, separate, roster if roster.exists() else None)
    else:
        text, notes = plain_csv(rows, assignment)
    return text, warnings + notes
