"""LMS exports, parsed back the way each LMS reads them.

``canvas_import`` follows Canvas's importer (instructure/canvas-lms,
``app/models/gradebook_importer.rb``): the header must start with a column holding
"Student" and one holding "ID"; "SIS Login ID" (or "SIS User ID" then "SIS Login ID")
come next and "Section" ends the student columns; a row whose first cell holds
"Points Possible" sets the points; a student is found by ID, else SIS User ID, else
SIS Login ID, else by name. ``moodle_import`` follows Moodle's CSV grade import
(``grade/import/csv/classes/load_data.php``): one column is mapped to a user field
(``useremail`` / ``useridnumber`` / ``username``), a user it cannot find aborts the
whole import, and a grade cell of '' or '-' is no grade.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from adam import ASSIGNMENT, ASSIGNMENT_ID, BONUS_POINTS, FREE_RESPONSE_POINTS, QUESTIONS
from test_batch import STANDIN, notebook
from test_roster import CANVAS_EXPORT

from autograder.batch import run as batch
from autograder.staff import export
from autograder.staff.late import LatePolicy

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DEVNULL = open(os.devnull, "w")  # for the whole module
CORE = sum(q.points for q in QUESTIONS if not q.bonus)
DEADLINE = datetime(2026, 3, 13, 23, 59, tzinfo=timezone.utc)
POLICY = LatePolicy(deadline=DEADLINE, grace=timedelta(0), points=10.0, unit="day", cap=50.0)
ROSTER = CANVAS_EXPORT.replace(
    '"Student, Test"',
    '"Dee, Dave",1004,S1004,dave,Sec 2,,\n'
    '"Erin, E",1005,S1005,erin,Sec 2,,\n'
    '"Fox, Frank",1006,S1006,frank,Sec 1,,\n'
    '"Student, Test"',
)
MOODLE_ROSTER = (
    "First name,Surname,ID number,Email address\n"
    "Alice,Liddell,A1,alice@uni.example\nBob,Builder,B2,bob@uni.example\n"
    "Carol,Ng,,carol@uni.example\nDave,Dee,D4,dave@uni.example\n"
    "Erin,E,E5,erin@uni.example\nFrank,Fox,F6,frank@uni.example\n"
)
# final scores worked out by hand: the core (stand-in fractions of the core points) - late
# penalty (bob one day late); extra credit (alice: the whole bonus and the staff score) is
# a column of its own (the assignment file's default, extra_credit = "separate")
EXPECTED = {"alice": CORE, "bob": CORE * 0.5 - 10, "carol": CORE * 0.25, "frank": 0.0}
EXTRA = {"alice": BONUS_POINTS + FREE_RESPONSE_POINTS, "bob": 0.0, "carol": 0.0, "frank": 0.0}
NAMES = {
    "alice": "Liddell, Alice",
    "bob": "Builder, Bob",
    "carol": "Ng, Carol",
    "frank": "Fox, Frank",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export")
    subs, out = root / "subs", root / "grades"
    subs.mkdir()
    (subs / "alice.ipynb").write_text(notebook("score=1 bonus=1"))
    (subs / "bob.ipynb").write_text(notebook("score=0.5"))
    (subs / "carol").mkdir()
    (subs / "carol" / "adam_variants.ipynb").write_text(notebook("score=0.25"))
    (subs / "dave.ipynb").write_text(notebook("raise"))  # a kit error
    (subs / "frank.ipynb").write_text("{ not json")  # invalid: 0 points
    (subs / "zoe.ipynb").write_text(notebook("score=1"))  # not on the roster
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (root / "times.csv").write_text(
        "submission,submitted_at\nbob,2026-03-14T12:00:00+00:00\nalice,2026-03-13T12:00:00+00:00\n"
    )
    batch.run_batch(
        subs,
        out,
        ASSIGNMENT,
        jobs=2,
        grade_fn=STANDIN,
        stream=DEVNULL,
        late_policy=POLICY,
        roster=root / "roster.csv",
        timestamps_csv=root / "times.csv",
    )
    manual = (out / "manual.csv").read_text(encoding="utf-8").splitlines()
    manual = [
        line + str(FREE_RESPONSE_POINTS) if line.startswith("alice,") else line for line in manual
    ]
    (out / "manual.csv").write_text("\n".join(manual) + "\n", encoding="utf-8")
    return out


class ImportAborted(Exception):
    pass


def canvas_import(
    text: str, course: list[dict[str, str]]
) -> tuple[dict[str, float], dict[str, dict[str, str]]]:
    """Points possible per assignment column, and per Canvas user id the grades, read as
    Canvas's GradebookImporter reads a CSV."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    if not (len(header) > 3 and "Student" in header[0] and "ID" in header[1]):
        raise ImportAborted("Invalid header row")
    student_columns, sis_col, login_col = 3, None, None
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        login_col, student_columns = 2, 4
    elif re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        sis_col, login_col, student_columns = 2, 3, 5
    if "Section" not in header[student_columns - 1]:
        raise ImportAborted("Invalid header row")
    assignments = {
        i: h
        for i, h in enumerate(header)
        if i >= student_columns
        and not re.search("Current Score|Final Score|Current Grade|Final Grade", h)
    }
    points, grades = {}, {}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            points = {h: float(row[i]) for i, h in assignments.items() if row[i]}
            continue
        if all(re.match(r"^\s*(Muted|Manual Posting.*)?\s*$", c, re.I) for c in row):
            continue
        user = next((u for u in course if row[1] and u["id"] == row[1]), None)
        user = user or next(
            (
                u
                for u in course
                if sis_col is not None and row[sis_col] and u["sis"] == row[sis_col]
            ),
            None,
        )
        user = user or next(
            (
                u
                for u in course
                if login_col is not None and row[login_col] and u["login"] == row[login_col]
            ),
            None,
        )
        user = user or next((u for u in course if u["name"] == row[0]), None)
        if user is None:
            raise ImportAborted(f"no student {row[:4]}")
        grades[user["id"]] = {h: row[i].strip() for i, h in assignments.items()}
    return points, grades


def moodle_import(
    text: str, users: list[dict[str, str]], map_from: str, map_to: str, grade_column: str
) -> dict[str, float | None]:
    """Grades per Moodle user id, read as Moodle's CSV grade import reads a file."""
    field = {"useremail": "email", "useridnumber": "idnumber", "username": "username"}[map_to]
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = [h.strip() for h in rows[0]]
    key, grade_at = header.index(map_from), header.index(grade_column)
    grades: dict[str, float | None] = {}
    for line in rows[1:]:
        if len(line) <= 1:
            continue
        value = line[key].strip()
        user = next((u for u in users if value and u[field] == value), None)
        if user is None:  # usermappingerror: the whole import is aborted
            raise ImportAborted(f"user mapping error, could not find user with {field} {value!r}")
        cell = line[grade_at].strip()
        grades[user["id"]] = None if cell in ("", "-") else float(cell.replace(",", "."))
    return grades


def canvas_course() -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(ROSTER))
    return [
        {"id": r["ID"], "sis": r["SIS User ID"], "login": r["SIS Login ID"], "name": r["Student"]}
        for r in reader
        if "Points Possible" not in r["Student"]
    ]


def test_canvas_import(graded: Path) -> None:
    text, warnings = export.export(graded, "canvas", ASSIGNMENT, policy=POLICY)
    points, grades = canvas_import(text, canvas_course())
    extra = f"{ASSIGNMENT_ID} extra credit"
    assert points == {ASSIGNMENT_ID: float(CORE), extra: 0.0}  # 0 possible: extra credit
    by_login = {u["login"]: u["id"] for u in canvas_course()}
    assert {u: float(g[ASSIGNMENT_ID]) for u, g in grades.items()} == {
        by_login[name]: total for name, total in EXPECTED.items()
    }
    assert {u: float(g[extra]) for u, g in grades.items()} == {
        by_login[name]: points for name, points in EXTRA.items()
    }
    assert any("no submission" in w and "Erin" in w for w in warnings)
    assert any("kit failed" in w and "dave" in w for w in warnings)  # never a zero
    assert any("zoe" in w for w in warnings)  # on no roster: not exported
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert {r["Student"]: r["Section"] for r in rows[1:]} == {
        NAMES[n]: ("Sec 2" if n == "carol" else "Sec 1") for n in EXPECTED
    }


def test_canvas_existing_assignment_column_and_without_a_roster(
    graded: Path, tmp_path: Path
) -> None:
    text, _ = export.export(graded, "canvas", ASSIGNMENT, column="Adam (4712)", policy=POLICY)
    points, _ = canvas_import(text, canvas_course())
    assert points == {"Adam (4712)": float(CORE), "Adam (4712) extra credit": 0.0}
    bare = tmp_path / "grades"
    shutil.copytree(graded, bare)
    (bare / "roster.csv").unlink()
    text, _ = export.export(bare, "canvas", ASSIGNMENT, policy=POLICY)
    course = [
        {"id": f"90{i}", "sis": "", "login": n, "name": ""}
        for i, n in enumerate((*EXPECTED, "zoe"))
    ]
    _, grades = canvas_import(text, course)  # found by SIS Login ID = submission name
    assert len(grades) == len(EXPECTED) + 1


def test_moodle_import_by_email_or_id_number(graded: Path, tmp_path: Path) -> None:
    out = tmp_path / "grades"
    shutil.copytree(graded, out)
    (out / "roster.csv").write_text(MOODLE_ROSTER, encoding="utf-8")
    users = [
        {"id": str(i), "email": r["Email address"], "idnumber": r["ID number"], "username": ""}
        for i, r in enumerate(csv.DictReader(io.StringIO(MOODLE_ROSTER)), start=1)
    ]
    by_email = {u["email"].split("@")[0]: u["id"] for u in users}
    text, _ = export.export(out, "moodle", ASSIGNMENT, policy=POLICY)
    grades = moodle_import(text, users, "Email address", "useremail", ASSIGNMENT_ID)
    assert grades == {by_email[n]: total for n, total in EXPECTED.items()}
    text, warnings = export.export(out, "moodle", ASSIGNMENT, key="idnumber", policy=POLICY)
    grades = moodle_import(text, users, "ID number", "useridnumber", ASSIGNMENT_ID)
    assert grades == {by_email[n]: total for n, total in EXPECTED.items() if n != "carol"}
    assert any("no ID number" in w and "Carol Ng" in w for w in warnings)
    grades = moodle_import(
        text, users, "ID number", "useridnumber", f"{ASSIGNMENT_ID} extra credit"
    )
    assert grades == {by_email[n]: points for n, points in EXTRA.items() if n != "carol"}


def test_moodle_without_emails_says_so_and_names_the_file(graded: Path, tmp_path: Path) -> None:
    """A roster without an email column, or no roster at all, gives a Moodle file with no
    student: the warning says why, names the roster file (or that none was given) and
    lists people one per '; ', never ', ' (names are "Last, First")."""
    out = tmp_path / "grades"
    shutil.copytree(graded, out)
    text, warnings = export.export(
        out, "moodle", ASSIGNMENT, policy=POLICY
    )  # Canvas roster: no emails
    assert len(text.strip().splitlines()) == 1
    roster = out / "roster.csv"
    assert any(str(roster) in w and "no Email address for any student" in w for w in warnings), (
        warnings
    )
    assert "left out, no submission (1): Erin, E" in warnings
    roster.unlink()
    _, warnings = export.export(out, "moodle", ASSIGNMENT, policy=POLICY)
    assert any("no roster was given" in w for w in warnings), warnings
    assert not any("the roster" in w for w in warnings), warnings


def test_plain_csv_one_row_per_student(graded: Path) -> None:
    text, _ = export.export(graded, "csv", ASSIGNMENT, policy=POLICY)
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}
    assert set(rows) == {"S1001", "S1002", "S1003", "S1004", "S1005", "S1006"}
    header = next(csv.reader(io.StringIO(text)))
    for q in QUESTIONS:
        assert q.id in header
    assert {r["maximum"] for r in rows.values()} == {str(CORE)}  # stated once: 100
    totals = {r["submission"]: float(r["total"]) for r in rows.values() if r["total"]}
    assert totals == EXPECTED
    extra = {r["submission"]: float(r["extra_credit"]) for r in rows.values() if r["extra_credit"]}
    assert extra == EXTRA
    assert rows["S1001"]["free_response"] == str(FREE_RESPONSE_POINTS)
    assert rows["S1002"]["late_penalty"] == "10" and "10 points off" in rows["S1002"]["message"]
    assert rows["S1005"]["status"] == "missing" and rows["S1004"]["status"] == "error"
    assert sum(float(rows["S1001"][q.id]) for q in QUESTIONS) == CORE + BONUS_POINTS


def test_export_command(graded: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    target = tmp_path / "canvas.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "export",
            str(graded),
            "--format",
            "canvas",
            "--out",
            str(target),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert target.read_text(encoding="utf-8").splitlines()[1].startswith("Points Possible,")
    bad = subprocess.run(
        [sys.executable, "-m", "autograder", "export", str(tmp_path), "--format", "moodle"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert bad.returncode == 2 and "not a grades folder" in bad.stderr
