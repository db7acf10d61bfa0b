"""The class roster: an LMS's own export read as it is, submissions
paired with students, and the missing and unknown ones listed in the command's summary
and in the report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from adam import ASSIGNMENT
from test_batch import STANDIN, notebook, parse_html

from autograder.batch import run as batch
from autograder.staff.roster import RosterError, match, read_roster

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DEVNULL = open(os.devnull, "w")  # for the whole module

CANVAS_EXPORT = (  # the first columns of a Canvas gradebook export, as Canvas writes them
    "Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (4711),Current Score\n"
    "    Points Possible,,,,,10,\n"
    '"Liddell, Alice",1001,S1001,alice,Sec 1,9,90\n'
    '"Builder, Bob",1002,S1002,bob,Sec 1,,\n'
    '"Ng, Carol",1003,S1003,carol,Sec 2,7,70\n'
    '"Student, Test",1099,,,Sec 1,,\n'
)
MOODLE_EXPORT = (  # Moodle's participants/grades export saved by a spreadsheet: BOM and ';'
    "\ufeffFirst name;Surname;ID number;Institution;Department;Email address\n"
    "Alice;Liddell;A-1;Uni;CS;alice@uni.example\n"
    "Bob;Builder;;Uni;CS;bob.builder@uni.example\n"
)
NBGRADER_STUDENTS = "id,first_name,last_name,email\nalice,Alice,Liddell,\nbob,Bob,Builder,\n"
GRADESCOPE_ROSTER = (
    "First Name,Last Name,SID,Email,Role\nAlice,Liddell,900001,alice@uni.example,Student\n"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_each_lms_export_as_it_is(tmp_path: Path) -> None:
    canvas = read_roster(write(tmp_path / "canvas.csv", CANVAS_EXPORT))
    assert [(s.label, s.lms_id, s.sis_user_id, s.login, s.section) for s in canvas.students] == [
        ("Liddell, Alice", "1001", "S1001", "alice", "Sec 1"),
        ("Builder, Bob", "1002", "S1002", "bob", "Sec 1"),
        ("Ng, Carol", "1003", "S1003", "carol", "Sec 2"),
    ]  # no Points Possible, no Test
    moodle = read_roster(write(tmp_path / "moodle.csv", MOODLE_EXPORT))
    assert [(s.first_name, s.last_name, s.id_number, s.email) for s in moodle.students] == [
        ("Alice", "Liddell", "A-1", "alice@uni.example"),
        ("Bob", "Builder", "", "bob.builder@uni.example"),
    ]
    assert moodle.students[0].label == "Alice Liddell"
    nbgrader = read_roster(write(tmp_path / "nbgrader.csv", NBGRADER_STUDENTS))
    assert [s.lms_id for s in nbgrader.students] == ["alice", "bob"]
    gradescope = read_roster(write(tmp_path / "gradescope.csv", GRADESCOPE_ROSTER))
    assert gradescope.students[0].sis_user_id == "900001"
    with pytest.raises(RosterError, match="no identifier column"):
        read_roster(write(tmp_path / "names.csv", "Name,Grade\nAlice,3\n"))
    with pytest.raises(RosterError, match="cannot read"):
        read_roster(tmp_path / "absent.csv")


def test_matching_by_any_identifier_and_the_leftovers(tmp_path: Path) -> None:
    roster = read_roster(
        write(
            tmp_path / "r.csv",
            (
                "Name,Username,Email,Student ID,Submission\n"
                "Alice,alice,alice@uni.example,111,\n"
                "Bob,bbuilder,bob@uni.example,222,\n"
                "Carol,carol,c@uni.example,333,team_c\n"  # the submission name given
                "Dan,dan,shared@uni.example,444,\n"
                "Dana,dana,shared@uni.example,555,\n"  # one email, two students
                "Erin,erin,erin@uni.example,666,\n"
            ),
        )
    )  # no submission
    found = match(
        roster, ["ALICE", "bob", "team_c", "444", "shared", "333x", "erin", "erin@uni.example"]
    )
    assert {k: s.label for k, s in found.by_submission.items()} == {
        "ALICE": "Alice",
        "bob": "Bob",
        "team_c": "Carol",
        "444": "Dan",
        "erin": "Erin",
    }
    assert sorted(found.unmatched_submissions) == ["333x", "erin@uni.example", "shared"]
    assert [s.label for s in found.missing] == ["Dana"]
    assert any("shared@uni.example" in w for w in found.warnings)  # not used: ambiguous
    assert any(
        "erin@uni.example and erin" in w or "erin and erin@uni.example" in w for w in found.warnings
    )


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *args, "--grade-fn", STANDIN, "--jobs", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )


@pytest.mark.slow
def test_roster_in_summary_and_report_and_kept_for_later_runs(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    for name in ("alice", "carol", "mallory"):
        (subs / f"{name}.ipynb").write_text(notebook("score=1"))
    roster = write(tmp_path / "canvas.csv", CANVAS_EXPORT)
    done = run_cli(str(subs), "--out", str(out), "--roster", str(roster))
    assert done.returncode == 0, done.stderr
    assert "roster: 2 of 3 students have a submission" in done.stdout
    assert "students without a submission (1): Builder, Bob" in done.stdout
    assert "submissions matching no student (1): mallory" in done.stdout
    assert (out / "roster.csv").read_text(encoding="utf-8") == CANVAS_EXPORT
    again = run_cli(str(subs), "--out", str(out))  # the kept roster still counts
    assert again.returncode == 0 and "Builder, Bob" in again.stdout
    report = parse_html((out / "report.html").read_text(encoding="utf-8"))
    visible = " ".join(report.text)
    assert "Students without a submission (1)" in visible and "Builder, Bob" in visible
    assert "Submissions matching no student (1)" in visible and "mallory" in visible


@pytest.mark.slow
def test_an_unusable_roster_stops_before_grading(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    (subs / "alice.ipynb").write_text(notebook("score=1"))
    bad = write(tmp_path / "names.csv", "Name,Grade\nAlice,3\n")
    done = run_cli(str(subs), "--out", str(out), "--roster", str(bad))
    assert done.returncode == 2 and "no identifier column" in done.stderr
    assert not (out / "results").exists()
    with pytest.raises(batch.BatchInputError, match="lists no student"):
        batch.run_batch(
            subs,
            out,
            ASSIGNMENT,
            roster=write(tmp_path / "empty.csv", "Email\n"),
            grade_fn=STANDIN,
            stream=DEVNULL,
        )


def test_lists_of_people_are_unambiguous_and_counts_have_their_plural() -> None:
    """ "Last, First" names joined with ", " read as twice as many people: lists use "; "."""
    from autograder.staff import wording

    assert wording.names(["Kowalski, Anna", "Okafor, Ben"]) == "Kowalski, Anna; Okafor, Ben"
    assert wording.names(["a", "b", "c"], limit=2) == "a; b; ... (1 more)"
    assert wording.count(1, "submission") == "1 submission"
    assert wording.count(2, "submission") == "2 submissions"
    assert wording.count(0, "student") == "0 students"
