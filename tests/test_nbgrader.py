"""nbgrader path: the course built by ``autograder.nbgrader_build`` grades like ``make grade``.

The course is built once in a temporary folder; every sample submission is
copied in with :func:`autograder.nbgrader_build.submit`, graded with one
``nbgrader autograde`` and read back from the gradebook. Expected points come
from the native engine (:func:`autograder.engine.grade_one`).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_otter_nbgrader_common import leaks, native_result, samples

from autograder import nbgrader_build as nbb
from autograder.check_catalog import CheckSpec, collect_checks
from autograder.contract import ASSIGNMENT_ID, NOTEBOOK_NAME, POINTS, QUESTION_IDS
from autograder.notebook import RELEASED_NOTEBOOK, SOLUTION_NOTEBOOK

SAMPLES = samples()


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def _kit_release() -> nbformat.NotebookNode:
    if RELEASED_NOTEBOOK.is_file():
        return nbformat.read(str(RELEASED_NOTEBOOK), as_version=4)
    from autograder.release import release_notebook

    return release_notebook(nbformat.read(str(SOLUTION_NOTEBOOK), as_version=4))


# --------------------------------------------------------------------------- fast tests


def _tiny_catalog() -> dict[str, list[CheckSpec]]:
    return {qid: [CheckSpec(qid, "test_a", 1.0), CheckSpec(qid, "test_b[x]", POINTS[qid] - 1.0)]
            for qid in QUESTION_IDS}


@pytest.mark.parametrize("placement", ["end", "question"])
def test_source_notebook_cells(placement):
    solution = nbformat.read(str(SOLUTION_NOTEBOOK), as_version=4)
    nb = nbb.source_notebook(solution, _tiny_catalog(), placement)
    tests = [c for c in nb.cells if _is_test(c)]
    assert len(tests) == 2 * len(QUESTION_IDS)
    for cell in tests:
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and meta["points"] > 0
        assert cell.source.startswith("### BEGIN HIDDEN TESTS\n")
        assert cell.source.endswith("\n### END HIDDEN TESTS")
        assert "hidden_check(" in cell.source
    per_q = {qid: sum(c.metadata["nbgrader"]["points"] for c in tests
                      if c.metadata["nbgrader"]["grade_id"].startswith(f"hidden__{qid}__"))
             for qid in QUESTION_IDS}
    assert per_q == {qid: pytest.approx(p) for qid, p in POINTS.items()}
    others = [c for c in nb.cells if not _is_test(c)]
    assert [c.source for c in others] == [c.source for c in solution.cells]
    answers = [c for c in others if "BEGIN SOLUTION" in c.source]
    assert answers and all(c.metadata["nbgrader"]["solution"] for c in answers)
    if placement == "end":
        assert all(_is_test(c) for c in nb.cells[len(solution.cells):])
    else:
        index = {c.get("id"): i for i, c in enumerate(nb.cells)}
        first_q4 = next(i for i, c in enumerate(nb.cells) if _is_test(c)
                        and "q4_adam_step" in c.source)
        check_cell = next(c for c in solution.cells if c.source.strip() == 'check("q4_adam_step")')
        assert first_q4 == index[check_cell.get("id")] + 1


def test_submission_conversion_keeps_student_cells_and_adds_tests():
    solution = nbformat.read(str(SOLUTION_NOTEBOOK), as_version=4)
    release = nbb.source_notebook(solution, _tiny_catalog(), "question")
    student = _kit_release()
    student.cells.insert(5, nbformat.v4.new_code_cell("extra = 1"))
    converted = nbb.to_nbgrader_submission(student, release)
    kept = [c for c in converted.cells if not _is_test(c)]
    assert [c.source for c in kept] == [c.source for c in student.cells]
    assert sum(_is_test(c) for c in converted.cells) == 2 * len(QUESTION_IDS)
    position = {c.get("id"): i for i, c in enumerate(converted.cells)}
    check_id = next(c.get("id") for c in student.cells
                    if c.source.strip() == 'check("q4_adam_step")')
    after = converted.cells[position[check_id] + 1]
    assert _is_test(after) and "q4_adam_step" in after.metadata["nbgrader"]["grade_id"]
    assert nbb.to_nbgrader_submission(converted, release).cells == converted.cells


def test_submission_conversion_puts_trailing_tests_last():
    solution = nbformat.read(str(SOLUTION_NOTEBOOK), as_version=4)
    release = nbb.source_notebook(solution, _tiny_catalog(), "end")
    student = _kit_release()
    student.cells.append(nbformat.v4.new_code_cell("late = 2"))
    converted = nbb.to_nbgrader_submission(student, release)
    n = len(student.cells)
    assert [c.source for c in converted.cells[:n]] == [c.source for c in student.cells]
    assert all(_is_test(c) for c in converted.cells[n:])
    assert len(converted.cells) == n + 2 * len(QUESTION_IDS)


# --------------------------------------------------------------------------- the real course


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """Built, every sample submitted, autograded in one run, feedback generated."""
    course = nbb.build_nbgrader_course(tmp_path_factory.mktemp("nbgrader") / "course")
    for name, path in SAMPLES.items():
        nbb.submit(course, name, path)
    t0 = time.monotonic()
    nbb.autograde(course)
    seconds = time.monotonic() - t0
    sys.stderr.write(f"\nnbgrader autograde: {seconds:.1f} s for {len(SAMPLES)} submissions "
                     f"({seconds / len(SAMPLES):.1f} s each)\n")
    nbb.generate_feedback(course)
    return course


@pytest.mark.slow
def test_course_layout_and_points(course):
    catalog = collect_checks()
    source = nbformat.read(str(course / "source" / ASSIGNMENT_ID / NOTEBOOK_NAME), 4)
    tests = [c for c in source.cells if _is_test(c)]
    assert len(tests) == sum(len(v) for v in catalog.values())
    for qid in QUESTION_IDS:
        pts = [c.metadata["nbgrader"]["points"] for c in tests
               if c.metadata["nbgrader"]["grade_id"].startswith(f"hidden__{qid}__")]
        assert sum(pts) == pytest.approx(POINTS[qid]), qid
    assert (course / "nbgrader_config.py").is_file() and (course / "gradebook.db").is_file()
    assert (course / "release" / ASSIGNMENT_ID / "public_checks.py").is_file()


@pytest.mark.slow
def test_released_notebook_is_the_kits(course):
    released = nbformat.read(str(course / "release" / ASSIGNMENT_ID / NOTEBOOK_NAME), 4)
    kit = _kit_release()
    tests = [c for c in released.cells if _is_test(c)]
    assert tests and all(c.source.strip() == "" for c in tests), "hidden tests must be removed"
    cells = [(c.cell_type, c.source) for c in released.cells if not _is_test(c)]
    assert cells == [(c.cell_type, c.source) for c in kit.cells]


@pytest.mark.slow
def test_build_is_idempotent(course):
    """A second build with unchanged inputs reruns nothing (retried if a file was edited)."""
    stamp = course / ".adam_kit_build.sha256"
    for _ in range(3):
        nbb.build_nbgrader_course(course)
        digest, before = stamp.read_text(), stamp.stat().st_mtime_ns
        assert nbb.build_nbgrader_course(course) == course
        if stamp.read_text() == digest:
            assert stamp.stat().st_mtime_ns == before
            return
    raise AssertionError("the kit's files kept changing; cannot check idempotence")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SAMPLES))
def test_nbgrader_points_match_native_engine(name, course):
    native = native_result(str(SAMPLES[name]))
    points = nbb.question_points(course, name)
    if native["status"] != "graded":
        assert sum(points.values()) == 0
        return
    assert points == native["points"]


@pytest.mark.slow
def test_feedback_shows_no_hidden_tests(course):
    pages = sorted((course / "feedback").glob(f"*/{ASSIGNMENT_ID}/*.html"))
    assert len(pages) == len(SAMPLES)
    for page in pages:
        text = page.read_text()
        assert "hidden_check" not in text and "HIDDEN TESTS" not in text, page
        assert leaks(text, SAMPLES[page.parent.parent.name]) == [], page


@pytest.mark.slow
def test_feedback_shows_the_diagnosis(course):
    mistaken = [n for n in SAMPLES if n not in ("correct", "blank")]
    assert mistaken, "no sample with a mistake"
    for name in mistaken:
        page = (course / "feedback" / name / ASSIGNMENT_ID / NOTEBOOK_NAME).with_suffix(".html")
        visible = re.sub(r"<[^>]+>", "", page.read_text())
        import html

        visible = html.unescape(visible)
        native = native_result(str(SAMPLES[name]))
        failed = [c for q in native["questions"].values() for c in q.checks if not c.passed]
        assert failed, name
        for check in failed:
            assert check.message.splitlines()[0] in visible, (name, check.name)
