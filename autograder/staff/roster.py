"""The class roster: who should have submitted, and which submission is whose.

``--roster FILE`` takes a CSV with a header row; an LMS's own export works as it is
(Canvas gradebook export, Moodle participants or grades export, Gradescope roster,
nbgrader's student list). Column names are matched without regard to case, spaces,
``_`` or ``-``; every column is optional except that a student needs at least one
identifier:

========================  =====================================================
field                     columns read
========================  =====================================================
name                      Student, Name, Student name, Full name, Display name
                          (else First name + Last name / Surname)
lms_id                    ID, Canvas ID, Canvas user ID, User ID
sis_user_id               SIS User ID, Student ID, SID, Student number
login                     SIS Login ID, Login ID, Login, Username, NetID
email                     Email, Email address, E-mail
id_number                 ID number, idnumber (Moodle)
section                   Section, Sections, Group
submission                Submission, Submission name, Folder, Notebook
========================  =====================================================

A submission belongs to the student whose ``submission`` column names it, else to
the one with that login, SIS user id, ID number, LMS id, email address or the part
of the email address before ``@`` (case-insensitive). An identifier two students
share is not used. Canvas's "Points Possible" and "Test Student" rows are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.staff import csv_cells, wording
from autograder.staff.csv_cells import unguard

KEPT_FILE = "roster.csv"
FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("student", "name", "student name", "full name", "display name"),
    "first_name": ("first name", "firstname", "given name"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "lms_id": ("id", "canvas id", "canvas user id", "user id", "userid"),
    "sis_user_id": ("sis user id", "student id", "sid", "student number"),
    "login": ("sis login id", "login id", "login", "username", "user name", "netid"),
    "email": ("email", "email address", "e mail", "e mail address"),
    "id_number": ("id number", "idnumber"),
    "section": ("section", "sections", "group"),
    "submission": ("submission", "submission name", "folder", "notebook"),
}
MATCH_KEYS = ("submission", "login", "sis_user_id", "id_number", "lms_id", "email")
CANVAS_SPECIAL_ROWS = ("points possible", "test student", "student, test")


class RosterError(ValueError):
    """The roster file cannot be used (the message says why)."""


@dataclass(frozen=True)
class Student:
    """One row of the roster."""

    row: int
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    lms_id: str = ""
    sis_user_id: str = ""
    login: str = ""
    email: str = ""
    id_number: str = ""
    section: str = ""
    submission: str = ""

    @property
    def label(self) -> str:
        """A name to show: the name, else the first identifier."""
        full = self.name or " ".join(p for p in (self.first_name, self.last_name) if p)
        return full or next((getattr(self, k) for k in MATCH_KEYS if getattr(self, k)), "")

    def keys(self) -> list[str]:
        """The identifiers a submission may be named after, lower case."""
        keys = [getattr(self, k).casefold() for k in MATCH_KEYS if getattr(self, k)]
        if "@" in self.email:
            keys.append(self.email.split("@", 1)[0].casefold())
        return list(dict.fromkeys(keys))


@dataclass
class Roster:
    """The students of a roster file."""

    students: list[Student]
    columns: dict[str, str]
    """Field -> the file's column it was read from."""
    warnings: list[str] = field(default_factory=list)


def _key(header: str) -> str:
    return " ".join(header.replace("_", " ").replace("-", " ").lower().split())


def read_roster(path: str | Path) -> Roster:
    """Read a roster CSV (UTF-8 or cp1252, ``,`` or ``;``); RosterError says what is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RosterError(f"cannot read the roster {path}: {exc.strerror or exc}") from None
    text, _ = csv_cells.decode(raw)
    reader = csv_cells.rows(text)
    header = next(reader, None)
    if not header:
        raise RosterError(f"the roster {path} is empty (it needs a header row)")
    by_key = {_key(h): i for i, h in reversed(list(enumerate(header)))}
    columns: dict[str, int] = {}
    for name, aliases in FIELDS.items():
        found = next((by_key[a] for a in aliases if a in by_key), None)
        if found is not None:
            columns[name] = found
    if not any(k in columns for k in MATCH_KEYS):
        raise RosterError(
            f"the roster {path} has no identifier column; it needs one of: "
            + ", ".join(FIELDS[k][0] if k != "lms_id" else "ID" for k in MATCH_KEYS)
            + f" (its columns: {', '.join(header)})"
        )
    roster = Roster([], {k: header[i] for k, i in columns.items()})
    for row_number, row in enumerate(reader, start=2):
        values = {k: unguard(row[i].strip()) if i < len(row) else "" for k, i in columns.items()}
        if not any(v for v in row):
            continue
        if values.get("name", "").casefold() in CANVAS_SPECIAL_ROWS or "points possible" in (
            row[0].casefold() if row else ""
        ):
            continue
        student = Student(row_number, **values)
        if not student.keys():
            roster.warnings.append(f"roster row {row_number}: no identifier; left out")
            continue
        roster.students.append(student)
    return roster


@dataclass
class RosterMatch:
    """Which submission is whose."""

    by_submission: dict[str, Student]
    unmatched_submissions: list[str]
    """Submissions that match no student of the roster."""
    missing: list[Student]
    """Students without a submission."""
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_row = {s.row: name for name, s in self.by_submission.items()}

    def submission_of(self, student: Student) -> str | None:
        """The submission of ``student``, None when there is none."""
        return self._by_row.get(student.row)


def match(roster: Roster, submissions: Iterable[str]) -> RosterMatch:
    """Pair submissions with students (see the module docstring)."""
    index: dict[str, list[Student]] = {}
    for student in roster.students:
        for key in student.keys():
            index.setdefault(key, []).append(student)
    ambiguous = sorted(k for k, owners in index.items() if len(owners) > 1)
    warnings = list(roster.warnings)
    if ambiguous:
        warnings.append(
            "roster identifiers shared by several students, not used for matching: "
            + wording.names(ambiguous, 10)
        )
    by_submission: dict[str, Student] = {}
    taken: dict[int, str] = {}
    unmatched = []
    for name in sorted(submissions):
        owners = index.get(name.casefold(), [])
        student = owners[0] if len(owners) == 1 else None
        if student is None:
            unmatched.append(name)
        elif student.row in taken:
            warnings.append(
                f"{name} and {taken[student.row]} both belong to {student.label} "
                f"(roster row {student.row}); {name} is listed as matching no student"
            )
            unmatched.append(name)
        else:
            by_submission[name] = student
            taken[student.row] = name
    missing = [s for s in roster.students if s.row not in taken]
    return RosterMatch(by_submission, unmatched, missing, warnings)
