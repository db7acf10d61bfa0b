"""nbgrader path: ``nbgrader autograde`` grades in the kit's sandbox, like ``make grade``.

The course is built once in a temporary folder with a fixed seed; the samples,
the forger, an nbformat 4.4 file, a re-saved notebook with new cell ids and one
with a copy-pasted test cell are submitted with
:func:`autograder.integrations.nbgrader_build.submit`, graded with one ``nbgrader autograde``
and read back from the gradebook and ``nbgrader export``. Expected points come
from the native engine (:func:`autograder.engine.grade_one`).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from adam import (
    ASSIGNMENT,
    ASSIGNMENT_ID,
    BONUS_POINTS,
    CORE_POINTS,
    NOTEBOOK_NAME,
    POINTS,
    QUESTION_IDS,
    RELEASED_NOTEBOOK,
    SOLUTION_NOTEBOOK,
)
from test_otter_nbgrader_common import SEED, leaks, native_result, samples

from autograder.assignment.catalog import CheckSpec, collect_checks
from autograder.integrations import nbgrader_build as nbb
from autograder.integrations.nbgrader_grading import grade_id, is_test_cell

SAMPLES = samples()
BONUS_IDS = {q.id for q in ASSIGNMENT.questions if q.bonus}
SUBMISSIONS_DIR = Path(__file__).resolve().parent.parent / "submissions"


def _tiny_catalog() -> dict[str, list[CheckSpec]]:
    return {
        qid: [CheckSpec(qid, "test_a", 1.0), CheckSpec(qid, "test_b[x]", POINTS[qid] - 1.0)]
        for qid in QUESTION_IDS
    }


# --------------------------------------------------------------------------- fast tests


def test_source_notebook_cells():
    solution = nbformat.read(str(SOLUTION_NOTEBOOK), as_version=4)
    nb = nbb.source_notebook(solution, _tiny_catalog(), ASSIGNMENT)
    tests = [c for c in nb.cells if is_test_cell(c)]
    assert len(tests) == 2 * len(QUESTION_IDS) and nb.cells[-len(tests) :] == tests
    for cell in tests:
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and meta["grade_id"].startswith("hidden__")
        assert cell.source.startswith("### BEGIN HIDDEN TESTS\nraise RuntimeError(")
        assert "autograder" not in cell.source  # no grader module named in a student's notebook
    per_q = {
        qid: sum(
            c.metadata["nbgrader"]["points"]
            for c in tests
            if c.metadata["nbgrader"]["grade_id"].startswith(f"hidden__{qid}__")
        )
        for qid in QUESTION_IDS
    }
    assert per_q == {qid: 0 if qid == "bonus_variants" else p for qid, p in POINTS.items()}
    others = [c for c in nb.cells if not is_test_cell(c)]
    assert [c.source for c in others] == [c.source for c in solution.cells]
    free = [c for c in others if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(free) == 1 and free[0].cell_type == "markdown"
    assert free[0].metadata["nbgrader"]["points"] == 0  # staff give it as extra credit


def test_conversion_keeps_student_cells_and_appends_tests():
    release = nbb.source_notebook(
        nbformat.read(str(SOLUTION_NOTEBOOK), as_version=4), _tiny_catalog(), ASSIGNMENT
    )
    student = nbformat.read(str(RELEASED_NOTEBOOK), as_version=4)
    student.cells.insert(5, nbformat.v4.new_code_cell("extra = 1"))
    del student.cells[20]
    for cell in student.cells:  # re-saved elsewhere: every id is new
        cell.id = "x" + cell.id[::-1][:20]
    converted = nbb.to_nbgrader_submission(student, release, ASSIGNMENT.free_response_tag)
    n = len(student.cells)
    assert [c.source for c in converted.cells[:n]] == [c.source for c in student.cells]
    assert all(is_test_cell(c) for c in converted.cells[n:])
    assert len(converted.cells) == n + 2 * len(QUESTION_IDS)
    free = [
        c
        for c in converted.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "markdown"
    ]
    assert len(free) == 1 and "free_response" in free[0].metadata.get("tags", [])
    nbformat.validate(converted)
    assert (
        nbb.to_nbgrader_submission(converted, release, ASSIGNMENT.free_response_tag).cells
        == converted.cells
    )


def test_old_format_and_duplicate_ids_become_valid():
    student = nbformat.read(str(RELEASED_NOTEBOOK), as_version=4)
    student.nbformat_minor = 4  # a 4.4 file that still carries 4.5 ids (invalid in 4.4)
    student.cells[1].id = student.cells[2].id
    fixed = nbb.as_current_format(student)
    nbformat.validate(fixed)
    assert fixed.nbformat_minor == 5 and len({c.id for c in fixed.cells}) == len(fixed.cells)


# --------------------------------------------------------------------------- the real course


def _variants(tmp: Path) -> dict[str, Path]:
    """The correct sample as nbformat 4.4, re-saved with new ids, and with a pasted cell."""
    correct = nbformat.read(str(SAMPLES["correct"]), as_version=4)
    old = tmp / "old_format.ipynb"
    data = json.loads(nbformat.writes(correct))
    data["nbformat_minor"] = 4
    for cell in data["cells"]:
        cell.pop("id", None)
    old.write_text(json.dumps(data))
    resaved = tmp / "resaved.ipynb"
    again = nbformat.read(str(SAMPLES["correct"]), as_version=4)
    for i, cell in enumerate(again.cells):
        cell.id = f"new-{i:03d}"
    nbformat.write(again, str(resaved))
    return {"old_format": old, "resaved": resaved}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> dict:
    """Built, every notebook submitted, autograded in one run, feedback generated, exported."""
    course = nbb.build_nbgrader_course(ASSIGNMENT, tmp_path_factory.mktemp("nbgrader") / "course")
    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write(f"c.SandboxExecute.seed = {SEED}\n")
    notebooks = {
        **SAMPLES,
        "broken_syntax": SUBMISSIONS_DIR / "broken_syntax.ipynb",
        **_variants(tmp_path_factory.mktemp("variants")),
    }
    for name, path in notebooks.items():
        nbb.submit(course, ASSIGNMENT, name, path)
    pasted = course / "submitted" / "pasted" / ASSIGNMENT_ID / NOTEBOOK_NAME
    pasted.parent.mkdir(parents=True)
    nb = nbformat.read(str(course / "submitted" / "correct" / ASSIGNMENT_ID / NOTEBOOK_NAME), 4)
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[-1])))
    copy.id = "pasted-copy"
    nb.cells.insert(10, copy)  # a locked test cell copy-pasted into the middle
    nbformat.write(nb, str(pasted))
    notebooks["pasted"] = SAMPLES["correct"]
    t0 = time.monotonic()
    log = nbb.autograde(course, ASSIGNMENT)
    seconds = time.monotonic() - t0
    sys.stderr.write(
        f"\nnbgrader autograde: {seconds:.1f} s for {len(notebooks)} submissions "
        f"({seconds / len(notebooks):.1f} s each)\n"
    )
    feedback = nbb.run_nbgrader(course, "generate_feedback", ASSIGNMENT_ID, "--force")
    nbb.run_nbgrader(course, "export")
    return {
        "dir": course,
        "log": log.stdout + log.stderr,
        "notebooks": notebooks,
        "feedback_log": feedback.stdout + feedback.stderr,
    }


@pytest.mark.slow
def test_course_layout_and_points(course):
    course_dir = course["dir"]
    catalog = collect_checks(ASSIGNMENT)
    source = nbformat.read(str(course_dir / "source" / ASSIGNMENT_ID / NOTEBOOK_NAME), 4)
    tests = [c for c in source.cells if is_test_cell(c)]
    assert [c.metadata["nbgrader"]["grade_id"] for c in tests] == [
        grade_id(qid, n) for qid in QUESTION_IDS for n in range(1, len(catalog[qid]) + 1)
    ]
    names = {c.name.split("[")[0] for checks in catalog.values() for c in checks}
    pages = [p.read_text() for p in (course_dir / "feedback").glob("*/*/*.html")]
    assert pages and not [n for n in names for page in pages if n in page]  # numbered ids
    config = (course_dir / "nbgrader_config.py").read_text()
    assert "SandboxExecute" in config and "RecordBonus" in config
    assert (course_dir / "release" / ASSIGNMENT_ID / "public_checks.py").is_file()


@pytest.mark.slow
def test_released_notebook_is_the_kits(course):
    released = nbformat.read(str(course["dir"] / "release" / ASSIGNMENT_ID / NOTEBOOK_NAME), 4)
    kit = nbformat.read(str(RELEASED_NOTEBOOK), as_version=4)
    tests = [c for c in released.cells if is_test_cell(c)]
    assert tests and all(c.source.strip() == "" for c in tests), "hidden tests must be removed"
    cells = [(c.cell_type, c.source) for c in released.cells if not is_test_cell(c)]
    assert cells == [(c.cell_type, c.source) for c in kit.cells]


@pytest.mark.slow
def test_points_match_the_native_engine(course):
    """Core questions as the native engine; the bonus is not in nbgrader's score (extra
    credit is a column of its own by default) but in the autograded notebook's metadata."""
    for name, path in course["notebooks"].items():
        native = native_result(str(path))
        core = {q: 0.0 if q in BONUS_IDS else p for q, p in native["points"].items()}
        assert nbb.question_points(course["dir"], ASSIGNMENT, name) == core, name
        meta = _autograded(course, name).metadata["autograder"]
        assert meta["extra_credit"] == sum(native["points"][q] for q in BONUS_IDS), name
    assert sum(nbb.question_points(course["dir"], ASSIGNMENT, "forger").values()) == 0


@pytest.mark.slow
def test_export_has_the_kits_maximum_and_the_bonus_as_extra_credit(course):
    rows = {
        r["student_id"]: r
        for r in csv.DictReader(io.StringIO((course["dir"] / "grades.csv").read_text()))
    }
    assert {float(r["max_score"]) for r in rows.values()} == {100.0}
    correct = native_result(str(SAMPLES["correct"]))["points"]
    assert float(rows["correct"]["score"]) == pytest.approx(
        sum(p for q, p in correct.items() if q not in BONUS_IDS)
    )


@pytest.mark.slow
def test_a_failing_core_is_never_full_in_formgrader_and_a_syntax_error_is_named(course):
    """The no-bias sample (core 90, bonus 10) reads 90 / 100 in nbgrader's gradebook and
    export, not 100 / 100; its notebook carries core 90 and extra credit 10. The
    broken-syntax sample's q3 test cells say which cell has a syntax error and its line.
    autograde and generate_feedback print no Python warning."""
    rows = {
        r["student_id"]: r
        for r in csv.DictReader(io.StringIO((course["dir"] / "grades.csv").read_text()))
    }
    assert float(rows["no_bias_correction"]["score"]) == CORE_POINTS - 10
    assert float(rows["no_bias_correction"]["max_score"]) == CORE_POINTS
    meta = _autograded(course, "no_bias_correction").metadata["autograder"]
    assert (meta["core"], meta["extra_credit"]) == (CORE_POINTS - 10, BONUS_POINTS)
    assert (
        meta["headline"] == f"Core {CORE_POINTS - 10} / {CORE_POINTS} · extra credit "
        f"+{BONUS_POINTS}"
    )
    syntax = _autograded(course, "broken_syntax")
    q3 = [
        c
        for c in syntax.cells
        if is_test_cell(c) and c.metadata["nbgrader"]["grade_id"].startswith("hidden__q3_rmsprop__")
    ]
    assert q3 and all(
        "the cell defining `rmsprop_step` has a syntax error (line 1: "
        "expected ':')" in c.outputs[0]["evalue"]
        for c in q3
    )
    for log in (course["log"], course["feedback_log"]):
        assert "Warning" not in log, [line for line in log.splitlines() if "Warning" in line]
        assert "not recognized" not in log and "IPython parent" not in log
    page = (
        course["dir"]
        / "feedback"
        / "broken_syntax"
        / ASSIGNMENT_ID
        / f"{Path(NOTEBOOK_NAME).stem}.html"
    )
    assert (
        "has a syntax error (line 1: expected &#39;:&#39;)" in page.read_text()
        or "has a syntax error (line 1: expected ':')" in page.read_text()
    )


def _autograded(course: dict, name: str) -> nbformat.NotebookNode:
    return nbformat.read(
        str(course["dir"] / "autograded" / name / ASSIGNMENT_ID / NOTEBOOK_NAME), as_version=4
    )


@pytest.mark.slow
def test_only_really_changed_locked_cells_are_reported(course):
    changed = re.findall(r"checksum' for cell (\S+) has changed", course["log"])
    assert changed == [], changed[:5]
    assert "Traceback" not in course["log"]


@pytest.mark.slow
def test_feedback_shows_diagnoses_and_no_hidden_tests(course):
    pages = sorted((course["dir"] / "feedback").glob(f"*/{ASSIGNMENT_ID}/*.html"))
    assert len(pages) == len(course["notebooks"])
    for page in pages:
        text = page.read_text()
        assert "HIDDEN TESTS" not in text and "RuntimeError" not in text, page
        assert leaks(text, course["notebooks"][page.parent.parent.name]) == [], page
    for name in ("adamw_as_l2", "no_bias_correction", "broken_syntax"):
        if name not in SAMPLES:
            continue
        page = (
            course["dir"] / "feedback" / name / ASSIGNMENT_ID / f"{Path(NOTEBOOK_NAME).stem}.html"
        )
        visible = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        failed = [
            c
            for q in native_result(str(SAMPLES[name]))["questions"].values()
            for c in q.checks
            if not c.passed
        ]
        for check in failed:
            assert check.message.splitlines()[0] in visible, (name, check.name)
