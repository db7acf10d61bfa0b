"""A synthetic class of 300 (issue 12, "must show"): graded with the fast stand-in grading
function through the real batch (worker processes, roster, outputs), exported for each
LMS, and similarity-checked, with one planted copy that must rank first."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from adam import ASSIGNMENT, ASSIGNMENT_ID, QUESTIONS
from synthetic_class import copied_notebook, student_notebook, write_class
from test_batch import STANDIN

from autograder.batch import run as batch
from autograder.staff import export
from autograder.staff.similarity import FLAG_THRESHOLD

CLASS_SIZE = 300
CORE = sum(q.points for q in QUESTIONS if not q.bonus)


@pytest.mark.slow
def test_class_of_300_graded_exported_and_compared(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "grades"
    ids = write_class(subs, CLASS_SIZE)
    (subs / "copycat.ipynb").write_text(copied_notebook(student_notebook(123), seed=9))
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section\n"
        + "".join(f"Student {i},{5000 + i},SIS{i},{sid},Sec {i % 4}\n" for i, sid in enumerate(ids))
    )
    summary = batch.run_batch(
        subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=open(os.devnull, "w"), roster=roster
    )
    assert summary.errors == [] and len(summary.graded) == CLASS_SIZE + 1
    assert summary.roster is not None and summary.roster.unmatched_submissions == ["copycat"]
    assert summary.roster.missing == []
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        grades = list(csv.DictReader(handle))
    assert len(grades) == CLASS_SIZE + 1 and {g["total"] for g in grades} == {str(CORE)}
    pairs = (CLASS_SIZE + 1) * CLASS_SIZE // 2
    with open(out / "similarity.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == pairs + 1
    assert {rows[1][0], rows[1][1]} == {"s0123", "copycat"} and float(rows[1][2]) >= 0.8
    assert float(rows[2][2]) < FLAG_THRESHOLD  # every independent pair stays below the flag
    assert [f"{p.a}~{p.b}" for p in summary.similarity.flagged] == ["copycat~s0123"]
    canvas, _ = export.export(out, "canvas", ASSIGNMENT)
    lines = list(csv.DictReader(io.StringIO(canvas, newline="")))
    assert lines[0]["Student"] == "Points Possible" and lines[0][ASSIGNMENT_ID] == str(CORE)
    assert len(lines) == 1 + CLASS_SIZE  # the copycat is on no roster
    assert {r["SIS Login ID"] for r in lines[1:]} == set(ids)
    plain, _ = export.export(out, "csv", ASSIGNMENT)
    assert len(list(csv.DictReader(io.StringIO(plain, newline="")))) == CLASS_SIZE
